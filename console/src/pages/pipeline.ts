import { h, replace } from '../h';
import { api, tpath, enc, TRIGGERS, listOf, ApiError, type Fn, type TriggerView, type Stats, type FnStats } from '../api';
import { setPage, setReady, statusEl, say, errMessage, fmtInt, fmtPct } from '../ui';
import type { PageCtx } from '../ctx';

export async function pipelinePage(root: HTMLElement, ctx: PageCtx): Promise<void> {
  setPage('Pipeline');
  const t = ctx.tenant;
  const status = statusEl('pipeline-status');
  const sections = h('div', { class: 'triggers' });
  replace(root,
    h('div', { class: 'page-head' },
      h('h1', null, 'Pipeline'),
      h('div', { class: 'actions' },
        h('a', { class: 'button primary', href: '#/new', id: 'new-function' }, 'New function'),
        h('a', { class: 'button', href: '#/templates', id: 'new-from-template' }, 'New from template'))),
    h('p', { class: 'muted' }, 'Each trigger runs its enabled functions top to bottom. Drag a row, or use Move up / Move down (Alt+↑ / Alt+↓ on a focused row), to change the order.'),
    status, sections);

  let fns = new Map<string, Fn>();
  let stats = new Map<string, FnStats>();
  const views = new Map<string, TriggerView>();
  let statsNote = '';

  const loadFns = async () => {
    const data = await api<unknown>('GET', tpath(t, '/functions'), { signal: ctx.signal });
    fns = new Map(listOf<Fn>(data, 'functions').map((f) => [f.name, f]));
  };
  const loadStats = async () => {
    try {
      const s = await api<Stats>('GET', tpath(t, '/stats?window=86400&buckets=24'), { signal: ctx.signal });
      stats = new Map((s.functions || []).map((f) => [f.name, f]));
      statsNote = s.truncated ? 'Statistics are based on a truncated sample.' : '';
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) throw e;
      if ((e as Error).name === 'AbortError') throw e;
      stats = new Map();
      statsNote = 'Statistics are unavailable: ' + errMessage(e);
    }
  };
  const loadViews = async () => {
    const res = await Promise.all(TRIGGERS.map((tr) => api<TriggerView>('GET', tpath(t, `/triggers/${enc(tr)}`), { signal: ctx.signal })));
    res.forEach((v, i) => views.set(TRIGGERS[i], { trigger: TRIGGERS[i], functions: v?.functions || [] }));
  };

  const render = () => {
    replace(sections, TRIGGERS.map((tr) => renderSection(tr)), statsNote ? h('p', { class: 'muted small stats-note' }, statsNote) : null);
  };

  const renderSection = (tr: string): HTMLElement => {
    const v = views.get(tr) || { trigger: tr, functions: [] };
    const headingId = `trigger-${tr}-title`;
    const list = h('ol', { class: 'function-list', 'aria-labelledby': headingId });
    v.functions.forEach((f, i) => list.append(renderRow(tr, f, i, v.functions.length)));
    return h('section', { class: 'trigger card', dataset: { trigger: tr }, 'aria-labelledby': headingId },
      h('h2', { id: headingId }, tr, ' ', h('span', { class: 'count muted' }, `${v.functions.length} function${v.functions.length === 1 ? '' : 's'}`)),
      v.functions.length ? list : h('p', { class: 'muted empty' }, 'No functions on this trigger.'));
  };

  const renderRow = (tr: string, f: TriggerView['functions'][number], i: number, n: number): HTMLElement => {
    const st = stats.get(f.name);
    const toggle = h('input', { type: 'checkbox', class: 'enabled-toggle', role: 'switch', checked: f.enabled, 'aria-checked': String(f.enabled), 'aria-label': `Enabled: ${f.name}` });
    toggle.addEventListener('change', () => { toggle.setAttribute('aria-checked', String(toggle.checked)); setEnabled(tr, f.name, toggle); });
    const up = h('button', { type: 'button', class: 'move-up icon', 'aria-label': `Move ${f.name} up`, title: 'Move up', 'aria-disabled': i === 0 ? 'true' : undefined }, '↑');
    const down = h('button', { type: 'button', class: 'move-down icon', 'aria-label': `Move ${f.name} down`, title: 'Move down', 'aria-disabled': i === n - 1 ? 'true' : undefined }, '↓');
    up.addEventListener('click', () => move(tr, f.name, -1, 'move-up'));
    down.addEventListener('click', () => move(tr, f.name, 1, 'move-down'));
    const dep = f.deployed_version ?? null;
    const row = h('li', { class: `function-row${f.enabled ? '' : ' disabled'}`, dataset: { function: f.name }, draggable: 'true', tabindex: '0', 'aria-label': `${f.name}, position ${i + 1} of ${n}` },
      h('span', { class: 'drag-handle', 'aria-hidden': 'true', title: 'Drag to reorder' }, '⠿'),
      h('span', { class: 'pos muted', 'aria-hidden': 'true' }, String(i + 1)),
      h('span', { class: 'fn-name' },
        h('a', { class: 'function-link', href: `#/functions/${enc(f.name)}` }, f.name),
        f.async ? h('span', { class: 'badge async-badge', title: 'Runs asynchronously; cannot change the result' }, 'async') : null),
      h('span', { class: 'metric' }, h('span', { class: 'metric-label' }, 'Deployed '),
        h('span', { class: 'deployed-version' }, dep === null ? 'none' : `v${dep}`),
        f.version !== dep ? h('span', { class: 'muted small' }, ` (latest v${f.version})`) : null),
      h('span', { class: 'metric' }, h('span', { class: 'metric-label' }, '24h '),
        h('span', { class: 'invocations-24h', title: 'Invocations in the last 24 hours' }, st ? fmtInt(st.invocations) : '–'), h('span', { class: 'metric-label' }, ' runs')),
      h('span', { class: 'metric' }, h('span', { class: 'metric-label' }, 'errors '),
        h('span', { class: `error-rate-24h${st && st.error_rate > 0 ? ' has-errors' : ''}`, title: 'Error rate in the last 24 hours' }, st ? fmtPct(st.error_rate) : '–')),
      h('label', { class: 'switch' }, toggle, h('span', { class: 'switch-text', 'aria-hidden': 'true' }, f.enabled ? 'On' : 'Off')),
      h('span', { class: 'move' }, up, down));
    row.addEventListener('keydown', (e) => {
      if (e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
        e.preventDefault();
        const target = e.target as HTMLElement;
        const which = target === row ? 'row' : target.classList.contains('move-up') ? 'move-up' : target.classList.contains('move-down') ? 'move-down' : 'row';
        move(tr, f.name, e.key === 'ArrowUp' ? -1 : 1, which);
      }
    });
    // HTML5 drag and drop within one trigger.
    row.addEventListener('dragstart', (e) => {
      e.dataTransfer?.setData('text/plain', f.name);
      if (e.dataTransfer) e.dataTransfer.effectAllowed = 'move';
      dragging = { trigger: tr, name: f.name };
      row.classList.add('dragging');
    });
    row.addEventListener('dragend', () => { row.classList.remove('dragging'); dragging = null; clearDropMarks(); });
    row.addEventListener('dragover', (e) => {
      if (!dragging || dragging.trigger !== tr) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'move';
      const r = row.getBoundingClientRect();
      const after = e.clientY > r.top + r.height / 2;
      clearDropMarks();
      row.classList.add(after ? 'drop-after' : 'drop-before');
    });
    row.addEventListener('dragleave', () => row.classList.remove('drop-after', 'drop-before'));
    row.addEventListener('drop', (e) => {
      if (!dragging || dragging.trigger !== tr) return;
      e.preventDefault();
      const r = row.getBoundingClientRect();
      const after = e.clientY > r.top + r.height / 2;
      const from = dragging.name;
      clearDropMarks();
      dragging = null;
      if (from === f.name) return;
      const names = (views.get(tr)?.functions || []).map((x) => x.name).filter((x) => x !== from);
      let idx = names.indexOf(f.name);
      if (after) idx += 1;
      names.splice(idx, 0, from);
      saveOrder(tr, names, from, null);
    });
    return row;
  };

  let dragging: { trigger: string; name: string } | null = null;
  const clearDropMarks = () => sections.querySelectorAll('.drop-after, .drop-before').forEach((el) => el.classList.remove('drop-after', 'drop-before'));
  let busy = false;

  const move = (tr: string, name: string, delta: number, focusWhich: string) => {
    if (busy) return;
    const names = (views.get(tr)?.functions || []).map((x) => x.name);
    const i = names.indexOf(name);
    const j = i + delta;
    if (i < 0 || j < 0 || j >= names.length) {
      say(status, `${name} is already ${delta < 0 ? 'first' : 'last'} in ${tr}.`, 'info');
      return;
    }
    [names[i], names[j]] = [names[j], names[i]];
    saveOrder(tr, names, name, focusWhich);
  };

  const saveOrder = async (tr: string, order: string[], moved: string, focusWhich: string | null) => {
    busy = true;
    say(status, `Saving the order of ${tr}…`, 'info');
    try {
      const v = await api<TriggerView>('PUT', tpath(t, `/triggers/${enc(tr)}`), { body: { order } });
      views.set(tr, { trigger: tr, functions: v.functions || [] });
      rerenderSection(tr);
      // The order is part of each function's etag: refresh them.
      await loadFns().catch(() => undefined);
      const pos = (v.functions || []).findIndex((x) => x.name === moved);
      say(status, `Saved: ${moved} is now ${pos + 1} of ${(v.functions || []).length} in ${tr}.`, 'ok');
    } catch (e) {
      say(status, `Could not save the order of ${tr}: ${errMessage(e)}`, 'error');
      if (e instanceof ApiError && e.status === 409) {
        try { const v = await api<TriggerView>('GET', tpath(t, `/triggers/${enc(tr)}`)); views.set(tr, v); rerenderSection(tr); } catch { /* keep */ }
      }
    } finally {
      busy = false;
    }
    if (focusWhich) {
      const row = sections.querySelector<HTMLElement>(`section.trigger[data-trigger="${tr}"] li.function-row[data-function="${CSS.escape(moved)}"]`);
      if (row) (focusWhich === 'row' ? row : row.querySelector<HTMLElement>(`.${focusWhich}`) || row).focus();
    }
  };

  const rerenderSection = (tr: string) => {
    const old = sections.querySelector(`section.trigger[data-trigger="${tr}"]`);
    if (old) old.replaceWith(renderSection(tr));
  };

  const setEnabled = async (tr: string, name: string, toggle: HTMLInputElement) => {
    const want = toggle.checked;
    toggle.disabled = true;
    try {
      let f = fns.get(name);
      if (!f) { f = await api<Fn>('GET', tpath(t, `/functions/${enc(name)}`)); fns.set(name, f); }
      const res = await api<Fn>('PATCH', tpath(t, `/functions/${enc(name)}`), { body: { enabled: want }, headers: { 'If-Match': f.etag } });
      fns.set(name, res);
      for (const v of views.values()) for (const x of v.functions) if (x.name === name) { x.enabled = res.enabled; x.version = res.version; x.deployed_version = res.deployed_version; }
      say(status, `${name} is now ${res.enabled ? 'enabled' : 'disabled'}.`, 'ok');
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) {
        say(status, `${name} was changed by someone else; the view was reloaded. Try again.`, 'error');
        try { await loadFns(); await loadViews(); } catch (re) { say(status, `${name} was changed by someone else, and reloading failed: ${errMessage(re)}`, 'error'); }
      } else {
        say(status, `Could not change ${name}: ${errMessage(e)}`, 'error');
      }
    }
    render();
    sections.querySelector<HTMLElement>(`section.trigger[data-trigger="${tr}"] li.function-row[data-function="${CSS.escape(name)}"] .enabled-toggle`)?.focus();
  };

  await Promise.all([loadFns(), loadViews(), loadStats()]);
  if (!ctx.alive()) return;
  render();
  setReady();
}
