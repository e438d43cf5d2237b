import { h, replace, clear } from './h';
import {
  api, ApiError, getToken, setToken, getTenant, setTenant, onUnauthorized, listOf, type Session, type Tenant,
} from './api';
import { installDialogs, confirmDialog, setPage, setReady, main, errMessage, statusEl, say, fmtDate, errorBox } from './ui';
import { navGuard, type PageCtx } from './ctx';
import { pipelinePage } from './pages/pipeline';
import { editorPage } from './pages/editor';
import { templatesPage } from './pages/templates';
import { envPage } from './pages/env';
import { executionsPage, executionDetailPage } from './pages/executions';

let session: Session | null = null;
let leaveFns: (() => void)[] = [];
let abort: AbortController | null = null;
let pageSeq = 0;
let signinMessage = '';
let currentHash = '';
let suppressHash = false;

const header = h('header', { class: 'topbar' });
const mainEl = h('main', { id: 'main', tabindex: '-1' });

// ----------------------------------------------------------------- header

function navLink(id: string, href: string, label: string): HTMLAnchorElement {
  return h('a', { id, href }, label);
}

function renderHeader(): void {
  clear(header);
  if (!session) {
    header.append(h('span', { class: 'brand' }, 'authpipe console'));
    return;
  }
  const nav = h('nav', { id: 'nav', 'aria-label': 'Main' },
    navLink('nav-pipeline', '#/pipeline', 'Pipeline'),
    navLink('nav-templates', '#/templates', 'Templates'),
    navLink('nav-env', '#/env', 'Env & secrets'),
    navLink('nav-executions', '#/executions', 'Executions'),
    session.principal === 'admin' ? navLink('nav-tenants', '#/tenants', 'Tenants') : null);
  const toggle = h('button', { class: 'nav-toggle icon', type: 'button', 'aria-label': 'Menu', 'aria-expanded': 'false', 'aria-controls': 'nav' }, '☰');
  toggle.addEventListener('click', () => {
    const open = header.classList.toggle('nav-open');
    toggle.setAttribute('aria-expanded', String(open));
  });
  nav.addEventListener('click', (e) => {
    if ((e.target as HTMLElement).tagName === 'A') { header.classList.remove('nav-open'); toggle.setAttribute('aria-expanded', 'false'); }
  });
  const signout = h('button', { id: 'signout', type: 'button' }, 'Sign out');
  signout.addEventListener('click', async () => {
    if (navGuard.dirty() && !(await confirmDialog('Sign out?', 'You have unsaved changes that will be lost.', 'Sign out', true))) return;
    navGuard.dirty = () => false;
    signOut('');
  });
  header.append(
    h('a', { class: 'brand', href: '#/pipeline' }, 'authpipe'),
    toggle,
    nav,
    h('div', { class: 'who' },
      h('span', { class: 'tenant-label' }, 'Tenant ', h('strong', { id: 'current-tenant' }, session.tenant || '—')),
      session.principal === 'admin' ? h('a', { href: '#/tenants', class: 'switch-tenant' }, 'Switch') : null,
      signout));
  markNav();
}

function markNav(): void {
  const route = location.hash.split('/')[1] || '';
  const map: Record<string, string> = { pipeline: 'nav-pipeline', functions: 'nav-pipeline', new: 'nav-pipeline', templates: 'nav-templates', env: 'nav-env', executions: 'nav-executions', tenants: 'nav-tenants' };
  header.querySelectorAll('nav a').forEach((a) => {
    if (a.id === map[route]) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  });
}

function signOut(message: string): void {
  setToken(null);
  setTenant(null);
  session = null;
  signinMessage = message;
  renderHeader();
  if (location.hash !== '#/signin') { suppressHash = true; location.hash = '#/signin'; }
  route();
}

// ---------------------------------------------------------------- sign-in

interface WhoAmI { principal: 'admin' | 'key'; tenant?: string; role?: string; key_id?: string; key_name?: string }

async function resolveSession(token: string): Promise<Session> {
  const who = await api<WhoAmI>('GET', '/v1/whoami', { token, noAuthRedirect: true });
  if (who.principal === 'admin') return { token, principal: 'admin', tenant: getTenant() };
  if (who.role === 'invoke') throw new ApiError(403, 'This key can only invoke pipelines; sign in with a manage key or the admin token.', {}, null);
  return { token, principal: 'key', tenant: who.tenant || null, keyName: who.key_name };
}

function signinPage(): void {
  setPage('Sign in');
  const tokenInput = h('input', { id: 'signin-token', name: 'token', type: 'password', required: true, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'signin-error' });
  const err = h('p', { id: 'signin-error', role: 'alert', class: 'status error' }, signinMessage);
  const submit = h('button', { id: 'signin-submit', type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', { id: 'signin', class: 'card signin', novalidate: true },
    h('h1', null, 'Sign in'),
    h('p', { class: 'muted' }, 'Use a tenant API key with the manage role, or the admin token. The token stays in this browser tab only.'),
    h('div', { class: 'field' }, h('label', { for: 'signin-token' }, 'API token'), tokenInput),
    err, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const token = tokenInput.value.trim();
    if (!token) { err.textContent = 'Enter an API token.'; tokenInput.setAttribute('aria-invalid', 'true'); tokenInput.focus(); return; }
    submit.disabled = true;
    err.textContent = '';
    try {
      const s = await resolveSession(token);
      if (s.principal === 'key' && s.tenant) setTenant(s.tenant);
      setToken(token);
      session = s;
      signinMessage = '';
      tokenInput.value = '';
      renderHeader();
      go(s.tenant ? '#/pipeline' : '#/tenants');
    } catch (ex) {
      if (ex instanceof ApiError && ex.status === 401) err.textContent = 'That token was not accepted.' + (ex.message ? ` (${ex.message})` : '');
      else err.textContent = errMessage(ex);
      tokenInput.focus();
    } finally {
      submit.disabled = false;
    }
  });
  replace(mainEl, form);
  tokenInput.focus();
  setReady();
}

// ---------------------------------------------------------------- tenants

async function tenantsPage(root: HTMLElement, ctx: PageCtx): Promise<void> {
  setPage('Tenants');
  const list = h('ul', { id: 'tenant-list', class: 'tenant-list' });
  const status = statusEl('tenant-status');
  const idIn = h('input', { id: 'tenant-new-id', required: true, pattern: '[a-z0-9][a-z0-9\\-]{0,62}', maxlength: 63, autocomplete: 'off', 'aria-describedby': 'tenant-new-id-help' });
  const nameIn = h('input', { id: 'tenant-new-name', required: true, autocomplete: 'off' });
  const create = h('button', { id: 'tenant-create', type: 'submit', class: 'primary' }, 'Create tenant');
  const form = h('form', { id: 'tenant-create-form', class: 'card inline-form', novalidate: true },
    h('h2', null, 'Create a tenant'),
    h('div', { class: 'field' }, h('label', { for: 'tenant-new-id' }, 'Tenant id'), idIn,
      h('small', { id: 'tenant-new-id-help', class: 'muted' }, 'Lowercase letters, digits and "-", 1–63, not starting with "-".')),
    h('div', { class: 'field' }, h('label', { for: 'tenant-new-name' }, 'Name'), nameIn),
    create);
  replace(root, h('h1', null, 'Tenants'), h('section', { class: 'card' }, h('h2', null, 'Pick a tenant'), list), form, status);

  const pick = (id: string) => { setTenant(id); session!.tenant = id; renderHeader(); go('#/pipeline'); };
  const load = async () => {
    const data = await api<unknown>('GET', '/v1/tenants', { signal: ctx.signal });
    const tenants = listOf<Tenant>(data, 'tenants');
    replace(list, tenants.length ? tenants.map((t) => h('li', null,
      h('button', { type: 'button', dataset: { tenant: t.id }, class: t.id === session?.tenant ? 'current' : '', 'aria-current': t.id === session?.tenant ? 'true' : undefined, onclick: () => pick(t.id) },
        h('strong', null, t.id), ' ', h('span', { class: 'muted' }, t.name)),
      t.created_at ? h('small', { class: 'muted' }, ' created ', fmtDate(t.created_at)) : null)) : h('li', { class: 'muted' }, 'No tenants yet.'));
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const id = idIn.value.trim();
    const name = nameIn.value.trim() || id;
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(id)) { idIn.setAttribute('aria-invalid', 'true'); say(status, 'Tenant id: lowercase letters, digits and "-", 1–63, not starting with "-".', 'error'); idIn.focus(); return; }
    idIn.removeAttribute('aria-invalid');
    create.disabled = true;
    try {
      await api('POST', '/v1/tenants', { body: { id, name } });
      say(status, `Created tenant ${id}.`, 'ok');
      idIn.value = ''; nameIn.value = '';
      await load();
    } catch (ex) {
      say(status, errMessage(ex), 'error');
    } finally { create.disabled = false; }
  });
  await load();
  setReady();
}

// ----------------------------------------------------------------- router

export function go(hash: string): void {
  if (location.hash === hash) route(); else location.hash = hash;
}

async function route(): Promise<void> {
  for (const f of leaveFns) { try { f(); } catch { /* ignore */ } }
  leaveFns = [];
  abort?.abort();
  abort = new AbortController();
  const seq = ++pageSeq;
  currentHash = location.hash;
  markNav();
  const parts = location.hash.replace(/^#\/?/, '').split('/').map((p) => { try { return decodeURIComponent(p); } catch { return p; } });
  if (!session) { signinPage(); return; }
  const page = parts[0] || 'pipeline';
  if (page === 'signin') { go('#/pipeline'); return; }
  if (page === 'tenants' && session.principal === 'admin') {
    return run(seq, (root, ctx) => tenantsPage(root, ctx));
  }
  if (!session.tenant) { go(session.principal === 'admin' ? '#/tenants' : '#/signin'); return; }
  switch (page) {
    case 'pipeline': return run(seq, pipelinePage);
    case 'functions': return run(seq, (r, c) => editorPage(r, c, parts[1] || null));
    case 'new': return run(seq, (r, c) => editorPage(r, c, null));
    case 'templates': return run(seq, templatesPage);
    case 'env': return run(seq, envPage);
    case 'executions': return parts[1] ? run(seq, (r, c) => executionDetailPage(r, c, parts[1])) : run(seq, executionsPage);
    default: go('#/pipeline');
  }
}

async function run(seq: number, page: (root: HTMLElement, ctx: PageCtx) => Promise<void> | void): Promise<void> {
  const root = h('div', { class: 'page' });
  replace(mainEl, root);
  mainEl.removeAttribute('data-ready');
  const ctx: PageCtx = {
    session: session!,
    tenant: session!.tenant || '',
    signal: abort!.signal,
    onLeave: (f) => leaveFns.push(f),
    alive: () => seq === pageSeq,
  };
  try {
    await page(root, ctx);
  } catch (e) {
    if ((e as Error).name === 'AbortError' || !ctx.alive()) return;
    if (e instanceof ApiError && e.status === 401) return;
    root.append(errorBox(e));
    setReady();
  }
}

window.addEventListener('hashchange', async () => {
  if (suppressHash) { suppressHash = false; return; }
  if (location.hash === currentHash) return;
  if (navGuard.dirty()) {
    const target = location.hash;
    suppressHash = true;
    history.replaceState(null, '', currentHash || '#/pipeline');
    suppressHash = false;
    if (!(await confirmDialog('Leave this page?', 'You have unsaved changes. Leave without saving them?', 'Leave', true))) return;
    navGuard.dirty = () => false;
    location.hash = target;
    return;
  }
  route();
});

onUnauthorized((msg) => { navGuard.dirty = () => false; signOut(msg); });

async function start(): Promise<void> {
  installDialogs();
  const skip = h('a', { href: '#main', class: 'skip-link', onclick: (e: Event) => { e.preventDefault(); mainEl.focus(); } }, 'Skip to content');
  document.body.append(skip, header, mainEl);
  void main;
  const token = getToken();
  if (token) {
    try {
      session = await resolveSession(token);
      if (session.principal === 'key' && session.tenant) setTenant(session.tenant);
    } catch (e) {
      setToken(null);
      session = null;
      signinMessage = e instanceof ApiError && e.status === 401 ? 'Your session ended or the key was revoked; sign in again.' : errMessage(e);
    }
  }
  renderHeader();
  if (!session && location.hash !== '#/signin') { suppressHash = true; history.replaceState(null, '', '#/signin'); suppressHash = false; }
  if (session && (!location.hash || location.hash === '#/signin' || location.hash === '#/')) history.replaceState(null, '', session.tenant ? '#/pipeline' : '#/tenants');
  route();
}

start();
