import { h, replace } from '../h';
import { api, tpath, enc, listOf, type EnvVar } from '../api';
import { setPage, setReady, statusEl, say, errMessage, confirmDialog, timeEl } from '../ui';
import type { PageCtx } from '../ctx';

const KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export async function envPage(root: HTMLElement, ctx: PageCtx): Promise<void> {
  setPage('Env & secrets');
  const t = ctx.tenant;
  const status = statusEl('env-status');
  const tbody = h('tbody');
  const table = h('table', { id: 'env-table', class: 'env-table' },
    h('caption', { class: 'sr-only' }, 'Environment variables and secrets'),
    h('thead', null, h('tr', null, ['Key', 'Value', 'Updated', 'Actions'].map((x) => h('th', { scope: 'col' }, x)))),
    tbody);
  const keyIn = h('input', { id: 'env-key', name: 'key', required: true, pattern: '[A-Za-z_][A-Za-z0-9_]*', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'env-key-help env-key-error' });
  const valueIn = h('input', { id: 'env-value', name: 'value', type: 'text', autocomplete: 'off', spellcheck: 'false' });
  const secretIn = h('input', { id: 'env-secret', name: 'secret', type: 'checkbox' });
  const keyErr = h('small', { id: 'env-key-error', class: 'field-error', role: 'alert' });
  const saveBtn = h('button', { id: 'env-save', type: 'submit', class: 'primary' }, 'Save');
  secretIn.addEventListener('change', () => {
    valueIn.type = secretIn.checked ? 'password' : 'text';
    valueIn.autocomplete = secretIn.checked ? 'new-password' : 'off';
    if (secretIn.checked) valueIn.setAttribute('autocomplete', 'off');
  });
  const form = h('form', { id: 'env-form', class: 'card env-form', novalidate: true },
    h('h2', null, 'Add or change a key'),
    h('div', { class: 'form-row' },
      h('div', { class: 'field' }, h('label', { for: 'env-key' }, 'Key'), keyIn,
        h('small', { id: 'env-key-help', class: 'muted' }, 'Letters, digits and _; not starting with a digit.'), keyErr),
      h('div', { class: 'field grow' }, h('label', { for: 'env-value' }, 'Value'), valueIn),
      h('label', { class: 'check', for: 'env-secret' }, secretIn, ' Secret (write-only)'),
      saveBtn));
  replace(root,
    h('div', { class: 'page-head' }, h('h1', null, 'Env & secrets')),
    h('p', { class: 'muted' }, 'Functions read these as ', h('code', null, 'env.KEY'), '. Secret values are never shown again after saving.'),
    status,
    h('div', { class: 'card' }, h('div', { class: 'table-wrap' }, table)),
    form);

  let vars: EnvVar[] = [];
  const load = async () => {
    vars = listOf<EnvVar>(await api<unknown>('GET', tpath(t, '/env'), { signal: ctx.signal }), 'env');
    render();
  };
  /** Reloads the list after a change that succeeded; a failure here must not read as a failed save. */
  const reload = async (done: string) => {
    try { await load(); } catch (e) {
      if ((e as Error).name !== 'AbortError') say(status, `${done}, but the list could not be reloaded: ${errMessage(e)}`, 'error');
    }
  };
  const put = async (key: string, value: string, secret: boolean) => {
    await api('PUT', tpath(t, `/env/${enc(key)}`), { body: { value, secret } });
  };
  const render = () => {
    replace(tbody, vars.length ? vars.map((v) => row(v)) : h('tr', null, h('td', { colspan: 4, class: 'muted' }, 'No env keys yet.')));
  };
  const row = (v: EnvVar): HTMLElement => {
    const valueCell = h('td', { 'data-label': 'Value' },
      v.secret
        ? h('span', { class: 'env-value secret', dataset: { secret: 'true' } }, 'set')
        : h('code', { class: 'env-value', dataset: { secret: 'false' } }, v.value ?? ''));
    const edit = h('button', { type: 'button', class: 'env-edit', 'aria-label': `${v.secret ? 'Replace' : 'Edit'} ${v.key}` }, v.secret ? 'Replace' : 'Edit');
    const del = h('button', { type: 'button', class: 'env-delete danger', 'aria-label': `Delete ${v.key}` }, 'Delete');
    const tr = h('tr', { dataset: { key: v.key } },
      h('th', { scope: 'row', 'data-label': 'Key' }, h('code', null, v.key), v.secret ? h('span', { class: 'badge secret-badge' }, 'secret') : null),
      valueCell,
      h('td', { 'data-label': 'Updated' }, timeEl(v.updated_at)),
      h('td', { 'data-label': 'Actions', class: 'row-actions' }, edit, del));
    edit.addEventListener('click', () => startEdit(v, valueCell, edit));
    del.addEventListener('click', async () => {
      if (!(await confirmDialog(`Delete ${v.key}?`, `Functions reading env.${v.key} will get undefined.`, 'Delete', true))) { del.focus(); return; }
      try {
        await api('DELETE', tpath(t, `/env/${enc(v.key)}`));
      } catch (e) { say(status, `Could not delete ${v.key}: ${errMessage(e)}`, 'error'); return; }
      say(status, `Deleted ${v.key}.`, 'ok');
      await reload(`Deleted ${v.key}`);
      keyIn.focus();
    });
    return tr;
  };
  const startEdit = (v: EnvVar, cell: HTMLElement, editBtn: HTMLButtonElement) => {
    const id = `env-edit-${v.key}`;
    const input = h('input', { id, type: v.secret ? 'password' : 'text', autocomplete: 'off', spellcheck: 'false', value: v.secret ? '' : (v.value ?? ''), class: 'env-edit-input' });
    const ok = h('button', { type: 'submit', class: 'primary env-edit-save' }, 'Save');
    const cancel = h('button', { type: 'button', class: 'env-edit-cancel' }, 'Cancel');
    const f = h('form', { class: 'inline-edit', novalidate: true },
      h('label', { for: id, class: 'sr-only' }, v.secret ? `New value for ${v.key}` : `Value of ${v.key}`), input, ok, cancel);
    cancel.addEventListener('click', () => { render(); (tbody.querySelector(`tr[data-key="${CSS.escape(v.key)}"] .env-edit`) as HTMLElement | null)?.focus(); });
    input.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.preventDefault(); cancel.click(); } });
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      ok.disabled = true;
      try {
        await put(v.key, input.value, v.secret);
      } catch (ex) { say(status, `Could not save ${v.key}: ${errMessage(ex)}`, 'error'); ok.disabled = false; return; }
      input.value = '';
      input.remove();
      say(status, v.secret ? `Replaced the secret ${v.key}.` : `Saved ${v.key}.`, 'ok');
      await reload(`Saved ${v.key}`);
      (tbody.querySelector(`tr[data-key="${CSS.escape(v.key)}"] .env-edit`) as HTMLElement | null)?.focus();
    });
    replace(cell, f);
    editBtn.disabled = true;
    input.focus();
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const key = keyIn.value.trim();
    keyErr.textContent = '';
    keyIn.removeAttribute('aria-invalid');
    if (!KEY_RE.test(key)) {
      keyErr.textContent = 'Use letters, digits and _, not starting with a digit.';
      keyIn.setAttribute('aria-invalid', 'true');
      keyIn.focus();
      return;
    }
    const secret = secretIn.checked;
    const existing = vars.find((v) => v.key === key);
    if (existing && !(await confirmDialog(`Replace ${key}?`, `${key} already exists${existing.secret ? ' (a secret)' : ''}; saving replaces its value.`, 'Replace'))) return;
    saveBtn.disabled = true;
    try {
      await put(key, valueIn.value, secret);
    } catch (ex) {
      // Keep what was typed (a secret too: it is in a password field) so it can be retried.
      say(status, `Could not save ${key}: ${errMessage(ex)}`, 'error');
      return;
    } finally { saveBtn.disabled = false; }
    // Never keep a secret in the DOM longer than needed.
    valueIn.value = '';
    keyIn.value = '';
    say(status, `Saved ${key}${secret ? ' (secret)' : ''}.`, 'ok');
    await reload(`Saved ${key}`);
    keyIn.focus();
  });
  await load();
  setReady();
}
