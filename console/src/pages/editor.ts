import { h, replace, clear, nextId } from '../h';
import {
  api, tpath, enc, TRIGGERS, ApiError, listOf, type Fn, type EnvVar, type RunResult, type Version, type ErrorInfo, type Stage,
} from '../api';
import { setPage, setReady, statusEl, say, errMessage, confirmDialog, FN_NAME, timeEl, fmtUs, fmtInt, fmtBytes, outcomeBadge } from '../ui';
import { navGuard, handoff, type PageCtx } from '../ctx';
import { EditorState, EditorView, Compartment, baseExtensions, langExt, readOnlyExtensions } from '../cm';
import { setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { EditorSelection } from '@codemirror/state';
import { MergeView } from '@codemirror/merge';
import { authpipeCompletions } from '../completions';
import { sampleText } from '../samples';
import { diffJson } from '../jsondiff';
import { stagesChart, codeFrame } from '../charts';

const BLANK = `// An authpipe function: pipe(user, context, callback) runs for every trigger
// it is bound to. Call callback(null, user, context) to allow, or
// callback(new Error('reason')) to deny.
async function pipe(user, context, callback) {
  log('signing in', user.email);
  callback(null, user, context);
}
`;

interface Settings {
  name: string; description: string; triggers: string[]; timeout_ms: number; fuel: number; memory_mb: number;
  on_error: 'deny' | 'skip'; async: boolean; enabled: boolean; language: 'javascript' | 'typescript';
  /** `auto`: detected from the source by the server. */
  flavor: 'auto' | 'authing' | 'auth0-rule' | 'auth0-action';
}

const RANGES = {
  timeout_ms: { min: 1, max: 60000, label: 'Timeout (ms)', help: '1–60000 ms' },
  fuel: { min: 100000, max: 10000000000, label: 'Fuel', help: '100000–10000000000 instructions' },
  memory_mb: { min: 4, max: 1024, label: 'Memory (MB)', help: '4–1024 MB' },
} as const;

export async function editorPage(root: HTMLElement, ctx: PageCtx, name: string | null): Promise<void> {
  const t = ctx.tenant;
  const isNew = name === null;
  setPage(isNew ? 'New function' : `${name}`);
  const tpl = isNew ? handoff.template : undefined;
  const tplName = isNew ? handoff.name : undefined;
  const carriedInput = handoff.testInput;
  handoff.template = undefined; handoff.name = undefined; handoff.testInput = undefined;

  let fn: Fn | null = null;
  let envKeys: string[] = [];
  const [fnRes] = await Promise.all([
    isNew ? Promise.resolve(null) : api<Fn>('GET', tpath(t, `/functions/${enc(name!)}`), { signal: ctx.signal }),
    api<unknown>('GET', tpath(t, '/env'), { signal: ctx.signal }).then((d) => { envKeys = listOf<EnvVar>(d, 'env').map((e) => e.key); }).catch(() => undefined),
  ]);
  fn = fnRes;
  if (!ctx.alive()) return;

  let settings: Settings = fn ? {
    name: fn.name, description: fn.description || '', triggers: [...fn.triggers], timeout_ms: fn.timeout_ms, fuel: fn.fuel,
    memory_mb: fn.memory_mb, on_error: fn.on_error, async: fn.async, enabled: fn.enabled, language: fn.language || 'javascript',
    flavor: fn.flavor_detected === false && fn.flavor ? fn.flavor : 'auto',
  } : {
    name: tplName || '', description: tpl ? tpl.title : '', triggers: tpl ? [...tpl.triggers] : ['pre-register'], timeout_ms: 3000, fuel: 100000000,
    memory_mb: 32, on_error: 'deny', async: tpl ? tpl.async : false, enabled: true, language: (tpl?.language as Settings['language']) || 'javascript',
    flavor: 'auto',
  };
  let savedSource = fn ? fn.source : '';
  let savedSettings = JSON.stringify(settings);
  let etag = fn?.etag || '';

  // ------------------------------------------------------------- editor
  const langC = new Compartment();
  // One source object: the autocompletion plugin tracks sources by identity.
  const completionData = [{ autocomplete: authpipeCompletions(() => envKeys) }];
  const editorHost = h('div', { id: 'editor', class: 'editor-host' });
  const view = new EditorView({
    parent: editorHost,
    state: EditorState.create({
      doc: fn ? fn.source : tpl ? tpl.source : BLANK,
      extensions: [
        baseExtensions(),
        langC.of(langExt(settings.language)),
        EditorState.languageData.of(() => completionData),
        EditorView.updateListener.of((u) => { if (u.docChanged) updateDirty(); }),
        EditorView.contentAttributes.of({ 'aria-label': 'Function source' }),
      ],
    }),
  });
  ctx.onLeave(() => view.destroy());

  const jumpTo = (line: number, column = 1) => {
    const doc = view.state.doc;
    const l = doc.line(Math.max(1, Math.min(line, doc.lines)));
    const pos = Math.min(l.to, l.from + Math.max(0, column - 1));
    view.dispatch({ selection: EditorSelection.cursor(pos), scrollIntoView: true });
    view.focus();
  };

  // ---------------------------------------------------------- settings
  const fieldErr = (key: string) => h('small', { id: `setting-${key}-error`, class: 'field-error', role: 'alert' });
  const nameIn = isNew ? h('input', { id: 'setting-name', name: 'name', required: true, maxlength: 64, pattern: '[A-Za-z0-9_.\\-]{1,64}', value: settings.name, autocomplete: 'off', 'aria-describedby': 'setting-name-error setting-name-help' }) : null;
  const descIn = h('input', { id: 'setting-description', name: 'description', value: settings.description, autocomplete: 'off', 'aria-describedby': 'setting-description-error' });
  const trigBoxes = TRIGGERS.map((tr) => h('input', { type: 'checkbox', name: 'trigger', value: tr, id: `setting-trigger-${tr}`, checked: settings.triggers.includes(tr) }));
  const numIn = (key: keyof typeof RANGES, v: number) => h('input', { id: `setting-${key}`, name: key, type: 'number', required: true, min: RANGES[key].min, max: RANGES[key].max, step: 1, value: String(v), inputmode: 'numeric', 'aria-describedby': `setting-${key}-error setting-${key}-help` });
  const timeoutIn = numIn('timeout_ms', settings.timeout_ms);
  const fuelIn = numIn('fuel', settings.fuel);
  const memIn = numIn('memory_mb', settings.memory_mb);
  const onErrIn = h('select', { id: 'setting-on_error', name: 'on_error', 'aria-describedby': 'setting-on_error-error' },
    h('option', { value: 'deny', selected: settings.on_error === 'deny' }, 'deny — an error denies the flow'),
    h('option', { value: 'skip', selected: settings.on_error === 'skip' }, 'skip — an error skips this function'));
  const asyncIn = h('input', { id: 'setting-async', name: 'async', type: 'checkbox', checked: settings.async });
  const enabledIn = h('input', { id: 'setting-enabled', name: 'enabled', type: 'checkbox', checked: settings.enabled });
  const deployIn = h('input', { id: 'setting-deploy', name: 'deploy', type: 'checkbox', checked: true });
  const langSel = h('select', { id: 'language', name: 'language' },
    h('option', { value: 'javascript', selected: settings.language === 'javascript' }, 'JavaScript'),
    h('option', { value: 'typescript', selected: settings.language === 'typescript' }, 'TypeScript'));
  const flavorSel = h('select', { id: 'setting-flavor', name: 'flavor', 'aria-describedby': 'setting-flavor-help setting-flavor-error' },
    ...([['auto', 'Detect from the source'], ['authing', 'authing — pipe(user, context, callback)'],
      ['auth0-rule', 'auth0-rule — an Auth0 Rule'], ['auth0-action', 'auth0-action — an Auth0 Action']] as const)
      .map(([value, label]) => h('option', { value, selected: settings.flavor === value }, label)));
  langSel.addEventListener('change', () => { view.dispatch({ effects: langC.reconfigure(langExt(langSel.value)) }); updateDirty(); });

  const readSettings = (): Settings => ({
    name: nameIn ? nameIn.value.trim() : settings.name,
    description: descIn.value,
    triggers: trigBoxes.filter((b) => b.checked).map((b) => b.value),
    timeout_ms: Number(timeoutIn.value), fuel: Number(fuelIn.value), memory_mb: Number(memIn.value),
    on_error: onErrIn.value as 'deny' | 'skip', async: asyncIn.checked, enabled: enabledIn.checked,
    language: langSel.value as Settings['language'],
    flavor: flavorSel.value as Settings['flavor'],
  });

  const dirtyEl = h('span', { id: 'dirty-indicator', class: 'badge dirty', hidden: true, title: 'There are unsaved changes' }, '● Unsaved changes');
  const isDirty = () => isNew || view.state.doc.toString() !== savedSource || JSON.stringify(readSettings()) !== savedSettings;
  function updateDirty(): void { dirtyEl.hidden = !isDirty(); }
  navGuard.dirty = isDirty;
  // Only while this editor is open: a beforeunload listener elsewhere would
  // keep other pages out of the back/forward cache.
  const onBeforeUnload = (e: BeforeUnloadEvent) => { if (navGuard.dirty()) { e.preventDefault(); e.returnValue = ''; } };
  window.addEventListener('beforeunload', onBeforeUnload);
  ctx.onLeave(() => { navGuard.dirty = () => false; window.removeEventListener('beforeunload', onBeforeUnload); });

  const status = h('div', { id: 'editor-status', class: 'status', role: 'status', 'aria-live': 'polite' });
  const conflict = h('div', { class: 'conflict', hidden: true });
  const saveBtn = h('button', { id: 'save', type: 'submit', form: 'settings-form', class: 'primary' }, isNew ? 'Create' : 'Save');
  const clearErrors = () => {
    form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
    form.querySelectorAll('.field-error').forEach((el) => { el.textContent = ''; });
  };
  const markField = (field: string, message: string) => {
    const key = field === 'triggers' || field === 'trigger' ? 'triggers' : field;
    const err = form.querySelector<HTMLElement>(`#setting-${CSS.escape(key)}-error`);
    const input = key === 'triggers' ? trigBoxes[0] : form.querySelector<HTMLElement>(`#setting-${CSS.escape(key)}`);
    if (key === 'triggers') trigBoxes.forEach((b) => b.setAttribute('aria-invalid', 'true'));
    else input?.setAttribute('aria-invalid', 'true');
    if (err) err.textContent = message;
    return input;
  };
  const showCompileError = (e: ApiError, where: string) => {
    const line = e.line ?? 1, col = e.column ?? 1;
    const doc = view.state.doc;
    const l = doc.line(Math.max(1, Math.min(line, doc.lines)));
    const from = Math.min(l.to, l.from + Math.max(0, col - 1));
    const to = from < l.to ? from + 1 : from;
    const diag: Diagnostic = { from: from === to && from > l.from ? from - 1 : from, to: to, severity: 'error', message: e.message, source: 'compile' };
    if (diag.from === diag.to) diag.to = Math.min(doc.length, diag.from + 1);
    view.dispatch(setDiagnostics(view.state, [diag]));
    status.dataset.errorLine = String(line);
    // The server's message repeats "compile error: FILE:LINE:COL:"; keep what follows.
    const detail = e.message.replace(/^compile error:\s*(\S+?:\d+:\d+:\s*)?/, '');
    replace(status, h('span', { class: 'error' }, `${where}: compile error at line ${line}, column ${col}: ${detail}`), ' ',
      h('button', { type: 'button', class: 'link jump-to-error', onclick: () => jumpTo(line, col) }, `Go to line ${line}`));
    status.className = 'status error';
  };
  const clearStatus = () => { delete status.dataset.errorLine; view.dispatch(setDiagnostics(view.state, [])); };

  const validate = (s: Settings): HTMLElement | null => {
    let first: HTMLElement | null = null;
    const bad = (field: string, msg: string) => { const el = markField(field, msg); if (!first) first = el || null; };
    if (isNew && !FN_NAME.test(s.name)) bad('name', 'Name: 1–64 letters, digits, "-", "_" or ".".');
    if (!s.triggers.length) bad('triggers', 'Choose at least one trigger.');
    for (const k of ['timeout_ms', 'fuel', 'memory_mb'] as const) {
      const v = s[k], r = RANGES[k];
      if (!Number.isInteger(v) || v < r.min || v > r.max) bad(k, `${r.label} must be a whole number from ${r.min.toLocaleString()} to ${r.max.toLocaleString()}.`);
    }
    return first;
  };

  const save = async (force = false) => {
    clearErrors();
    conflict.hidden = true;
    const s = readSettings();
    const firstBad = validate(s);
    if (firstBad) { say(status, 'Fix the highlighted settings before saving.', 'error'); firstBad.focus(); return; }
    const source = view.state.doc.toString();
    const body: Record<string, unknown> = {
      source, triggers: s.triggers, description: s.description, timeout_ms: s.timeout_ms, fuel: s.fuel, memory_mb: s.memory_mb,
      on_error: s.on_error, async: s.async, enabled: s.enabled, language: s.language, flavor: s.flavor,
    };
    if (!deployIn.checked) body.deploy = false;
    saveBtn.disabled = true;
    clearStatus();
    say(status, 'Saving…', 'info');
    try {
      let res: Fn;
      if (isNew) {
        res = await api<Fn>('POST', tpath(t, '/functions'), { body: { name: s.name, ...body } });
      } else {
        res = await api<Fn>('PATCH', tpath(t, `/functions/${enc(fn!.name)}`), { body, headers: force || !etag ? {} : { 'If-Match': etag } });
      }
      const changed = !fn || res.version !== fn.version;
      fn = res; etag = res.etag; savedSource = source;
      settings = { ...s, name: res.name }; savedSettings = JSON.stringify(readSettings());
      updateDirty();
      if (isNew) {
        navGuard.dirty = () => false;
        handoff.testInput = testInput.value;
        handoff.savedMessage = `Created ${res.name} (version ${res.version}${res.deployed_version === res.version ? ', deployed' : ''}).`;
        location.hash = `#/functions/${enc(res.name)}`;
        return;
      }
      say(status, changed ? `Saved version ${res.version}${res.deployed_version === res.version ? ' (deployed)' : ` (deployed: v${res.deployed_version ?? 'none'})`}.` : 'Nothing changed; no new version.', 'ok');
      if (versionsLoaded) loadVersions().catch((e) => say(versionsStatus, errMessage(e), 'error'));
      renderHeading();
    } catch (e) {
      if (e instanceof ApiError && e.kind === 'compile_error') {
        showCompileError(e, 'Not saved');
      } else if (e instanceof ApiError && e.status === 412) {
        say(status, 'Not saved: someone else changed this function since you opened it. Your text is kept.', 'error');
        replace(conflict,
          h('button', { type: 'button', onclick: reloadFromServer }, 'Load their version (discard mine)'), ' ',
          h('button', { type: 'button', onclick: () => save(true) }, 'Save mine over theirs'));
        conflict.hidden = false;
      } else if (e instanceof ApiError && e.status === 409 && isNew) {
        markField('name', e.message)?.focus();
        say(status, `Not saved: ${e.message}`, 'error');
      } else if (e instanceof ApiError && e.field && e.field !== 'source') {
        markField(e.field, e.message)?.focus();
        say(status, `Not saved: ${e.message}`, 'error');
      } else {
        say(status, `Not saved: ${errMessage(e)}`, 'error');
      }
    } finally {
      saveBtn.disabled = false;
    }
  };

  const applyFn = (f: Fn) => {
    fn = f; etag = f.etag; savedSource = f.source;
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: f.source } });
    descIn.value = f.description || '';
    trigBoxes.forEach((b) => { b.checked = f.triggers.includes(b.value); });
    timeoutIn.value = String(f.timeout_ms); fuelIn.value = String(f.fuel); memIn.value = String(f.memory_mb);
    onErrIn.value = f.on_error; asyncIn.checked = f.async; enabledIn.checked = f.enabled; langSel.value = f.language || 'javascript';
    flavorSel.value = f.flavor_detected === false && f.flavor ? f.flavor : 'auto';
    view.dispatch({ effects: langC.reconfigure(langExt(langSel.value)) });
    savedSettings = JSON.stringify(readSettings());
    updateDirty(); refreshTriggers(); renderHeading();
  };
  async function reloadFromServer(): Promise<void> {
    if (!(await confirmDialog('Load the server\'s version?', 'Your unsaved text and settings will be replaced by the latest saved version.', 'Load', true))) return;
    try {
      applyFn(await api<Fn>('GET', tpath(t, `/functions/${enc(fn!.name)}`)));
      conflict.hidden = true;
      say(status, `Loaded version ${fn!.version} from the server.`, 'ok');
    } catch (e) { say(status, errMessage(e), 'error'); }
  }

  const form = h('form', { id: 'settings-form', class: 'settings card', novalidate: true },
    h('h2', null, 'Settings'),
    nameIn ? h('div', { class: 'field' }, h('label', { for: 'setting-name' }, 'Name'), nameIn,
      h('small', { id: 'setting-name-help', class: 'muted' }, 'Letters, digits, "-", "_", "."; up to 64.'), fieldErr('name')) : null,
    h('div', { class: 'field' }, h('label', { for: 'setting-description' }, 'Description'), descIn, fieldErr('description')),
    h('fieldset', { class: 'field triggers-field', 'aria-describedby': 'setting-triggers-error' }, h('legend', null, 'Triggers'),
      trigBoxes.map((b) => h('label', { class: 'check', for: b.id }, b, ` ${b.value}`)), fieldErr('triggers')),
    (['timeout_ms', 'fuel', 'memory_mb'] as const).map((k) => h('div', { class: 'field' },
      h('label', { for: `setting-${k}` }, RANGES[k].label), k === 'timeout_ms' ? timeoutIn : k === 'fuel' ? fuelIn : memIn,
      h('small', { id: `setting-${k}-help`, class: 'muted' }, RANGES[k].help), fieldErr(k))),
    h('div', { class: 'field' }, h('label', { for: 'setting-on_error' }, 'On error'), onErrIn, fieldErr('on_error')),
    h('div', { class: 'field' }, h('label', { for: 'setting-flavor' }, 'Flavour'), flavorSel,
      h('small', { id: 'setting-flavor-help', class: 'muted' }, fn && fn.flavor_detected !== false && fn.flavor ? `Detected: ${fn.flavor}` : 'Auth0 Rules and Actions run unmodified.'),
      fieldErr('flavor')),
    h('div', { class: 'checks' },
      h('label', { class: 'check', for: 'setting-async' }, asyncIn, ' Async (runs after the flow; cannot change it)'),
      h('label', { class: 'check', for: 'setting-enabled' }, enabledIn, ' Enabled'),
      h('label', { class: 'check', for: 'setting-deploy' }, deployIn, ' Deploy the new version on save')),
    fieldErr('async'), fieldErr('enabled'), fieldErr('language'));
  form.addEventListener('submit', (e) => { e.preventDefault(); save(); });
  form.addEventListener('input', () => updateDirty());
  form.addEventListener('change', () => { updateDirty(); refreshTriggers(); });
  editorHost.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === 's') { e.preventDefault(); save(); }
  });

  const heading = h('h1', null);
  const renderHeading = () => replace(heading, isNew ? 'New function' : fn!.name, fn ? h('span', { class: 'muted small' }, ` v${fn.version}${fn.deployed_version ? ` · deployed v${fn.deployed_version}` : ' · not deployed'}`) : null);
  renderHeading();

  // ------------------------------------------------------------- test
  const testTrigger = h('select', { id: 'test-trigger', name: 'test-trigger' });
  const testInput = h('textarea', { id: 'test-input', name: 'test-input', rows: 16, spellcheck: 'false', 'aria-describedby': 'test-input-error', autocomplete: 'off' });
  const testInputErr = h('p', { id: 'test-input-error', class: 'field-error', role: 'alert' });
  const runBtn = h('button', { id: 'run-test', type: 'button', class: 'primary' }, 'Run');
  const runPipeBtn = h('button', { id: 'run-pipeline', type: 'button' }, 'Run pipeline');
  const resetBtn = h('button', { type: 'button', id: 'test-reset', class: 'link' }, 'Reset to the sample input');
  const result = h('div', { id: 'test-result', class: 'test-result', 'aria-live': 'polite' });
  let lastSample = '';

  function refreshTriggers(): void {
    const trs = trigBoxes.filter((b) => b.checked).map((b) => b.value);
    const list = trs.length ? trs : [...TRIGGERS];
    const cur = testTrigger.value;
    replace(testTrigger, list.map((tr) => h('option', { value: tr, selected: tr === cur }, tr)));
    if (!list.includes(cur)) testTrigger.value = list[0];
    if (testTrigger.value !== cur) onTriggerChange();
  }
  const onTriggerChange = () => {
    if (!testInput.value.trim() || testInput.value === lastSample) {
      lastSample = sampleText(testTrigger.value);
      testInput.value = lastSample;
      validateInput();
    }
  };
  testTrigger.addEventListener('change', onTriggerChange);
  resetBtn.addEventListener('click', () => { lastSample = sampleText(testTrigger.value); testInput.value = lastSample; validateInput(); });

  const jsonPos = (text: string, msg: string): string => {
    let m = /line (\d+) column (\d+)/.exec(msg);
    if (m) return `line ${m[1]}, column ${m[2]}`;
    m = /position (\d+)/.exec(msg) || (/end of (JSON )?(input|data)/i.test(msg) ? ['', String(text.length)] as unknown as RegExpExecArray : null);
    if (m) {
      const p = Number(m[1]);
      const before = text.slice(0, p).split('\n');
      return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
    }
    return '';
  };
  let parsedInput: { user: unknown; context: unknown } | null = null;
  function validateInput(): boolean {
    const text = testInput.value;
    let msg = '';
    parsedInput = null;
    try {
      const v = JSON.parse(text);
      const isObj = (x: unknown) => !!x && typeof x === 'object' && !Array.isArray(x);
      if (!isObj(v)) msg = 'The input must be a JSON object with "user" and "context" objects.';
      else if (!isObj(v.user)) msg = 'The input needs a "user" object.';
      else if (!isObj(v.context)) msg = 'The input needs a "context" object.';
      else parsedInput = v;
    } catch (e) {
      const pos = jsonPos(text, (e as Error).message);
      msg = `Invalid JSON${pos ? ` at ${pos}` : ''}: ${(e as Error).message}`;
    }
    testInputErr.textContent = msg;
    if (msg) testInput.setAttribute('aria-invalid', 'true'); else testInput.removeAttribute('aria-invalid');
    runBtn.disabled = !!msg || running;
    runPipeBtn.disabled = !!msg || running;
    return !msg;
  }
  testInput.addEventListener('input', validateInput);

  let running = false;
  const run = async (pipeline: boolean) => {
    if (!validateInput() || !parsedInput) return;
    running = true;
    runBtn.disabled = runPipeBtn.disabled = true;
    result.removeAttribute('data-outcome');
    result.removeAttribute('data-roundtrip-ms');
    replace(result, h('p', { class: 'muted' }, pipeline ? `Running the ${testTrigger.value} pipeline…` : 'Running…'));
    const input = parsedInput;
    const source = view.state.doc.toString();
    const body: Record<string, unknown> = { input, source, language: langSel.value, flavor: flavorSel.value };
    if (pipeline) body.trigger = testTrigger.value;
    const fname = fn ? fn.name : (nameIn?.value.trim() && FN_NAME.test(nameIn.value.trim()) ? nameIn.value.trim() : 'new-function');
    const t0 = performance.now();
    try {
      const res = await api<RunResult>('POST', tpath(t, `/functions/${enc(fname)}/test`), { body });
      const ms = Math.round(performance.now() - t0);
      view.dispatch(setDiagnostics(view.state, []));
      if (status.dataset.errorLine) { delete status.dataset.errorLine; say(status, '', 'info'); }
      renderResult(res, input, ms, fname, source, pipeline);
    } catch (e) {
      const ms = Math.round(performance.now() - t0);
      result.dataset.roundtripMs = String(ms);
      if (e instanceof ApiError && e.kind === 'compile_error') {
        showCompileError(e, 'Test not run');
        replace(result, h('p', { class: 'status error error-message', role: 'alert' }, `Compile error at line ${e.line ?? '?'}, column ${e.column ?? '?'}: ${e.message}`),
          e.line ? h('button', { type: 'button', class: 'jump-to-line', onclick: () => jumpTo(e.line!, e.column) }, `Go to line ${e.line} in the editor`) : null);
      } else {
        replace(result, h('p', { class: 'status error error-message', role: 'alert' }, `Test failed: ${errMessage(e)}`));
      }
    } finally {
      running = false;
      validateInput();
    }
  };
  runBtn.addEventListener('click', () => run(false));
  runPipeBtn.addEventListener('click', () => run(true));

  const pre = (v: unknown) => h('pre', { class: 'json' }, JSON.stringify(v, null, 2));
  const fmtVal = (v: unknown) => (v === undefined ? 'undefined' : JSON.stringify(v));
  const renderResult = (res: RunResult, input: { user: unknown; context: unknown }, ms: number, fname: string, source: string, pipeline: boolean) => {
    result.dataset.outcome = res.outcome;
    result.dataset.roundtripMs = String(ms);
    const err = res.error;
    const stages = res.stages || [];
    const changes = [
      ...diffJson(input.user, res.user ?? input.user, '$.user'),
      ...diffJson(input.context, res.context ?? input.context, '$.context'),
    ];
    const frameFor = (er: ErrorInfo) => {
      if (!er.location) return null;
      if (er.function && er.function !== fname) return h('p', { class: 'muted' }, `In ${er.function} at line ${er.location.line}.`);
      return codeFrame(source, er.location.line, er.location.column, 2, () => jumpTo(er.location!.line, er.location!.column));
    };
    const diffTable = h('table', { class: 'diff-table' },
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Path'), h('th', { scope: 'col' }, 'Change'), h('th', { scope: 'col' }, 'Before'), h('th', { scope: 'col' }, 'After'))),
      h('tbody', null, changes.map((c) => h('tr', { class: `change-${c.kind}` },
        h('td', { 'data-label': 'Path' }, h('code', null, c.path)),
        h('td', { 'data-label': 'Change' }, c.kind),
        h('td', { 'data-label': 'Before' }, c.kind === 'added' ? '' : h('code', null, fmtVal(c.from))),
        h('td', { 'data-label': 'After' }, c.kind === 'removed' ? '' : h('code', null, fmtVal(c.to)))))));
    replace(result,
      h('div', { class: 'result-head' },
        h('h3', null, pipeline ? `Pipeline ${testTrigger.value}: ` : 'Result: ', outcomeBadge(res.outcome, 'result-outcome')),
        h('span', { class: 'muted roundtrip' }, `round trip ${ms} ms`),
        stages.length ? h('span', { class: 'muted' }, ` · ${stages.length} stage${stages.length === 1 ? '' : 's'}`) : null),
      err ? h('div', { class: 'error-box', role: 'alert' },
        h('p', null, h('span', { class: 'badge kind' }, err.kind), ' ', h('span', { class: 'error-message' }, err.message), err.function ? h('span', { class: 'muted' }, ` (in ${err.function})`) : null),
        err.stack ? h('pre', { class: 'stack' }, err.stack) : null,
        frameFor(err)) : null,
      h('section', { id: 'test-diff', class: 'result-section' }, h('h4', null, 'Changes to user and context'),
        changes.length ? h('div', { class: 'table-wrap' }, diffTable) : h('p', { class: 'muted' }, 'No changes.')),
      h('section', { id: 'test-claims', class: 'result-section' }, h('h4', null, 'Claims'),
        h('div', { class: 'two-col' },
          h('div', null, h('h5', null, 'id_token'), pre(res.claims?.id_token ?? {})),
          h('div', null, h('h5', null, 'access_token'), pre(res.claims?.access_token ?? {})),
          h('div', null, h('h5', null, 'custom_data'), pre(res.custom_data ?? {})))),
      h('section', { id: 'test-logs', class: 'result-section' }, h('h4', null, 'Logs'), stageLogs(stages)),
      h('section', { class: 'result-section' }, h('h4', null, 'Stages'), stagesChart(stages, 'test-stages-chart'), stageTable(stages)));
  };

  // ---------------------------------------------------------- versions
  const versionsList = h('table', { id: 'versions-list', class: 'versions-table' });
  const versionsStatus = statusEl('versions-status');
  const diffFrom = h('select', { id: 'diff-from', name: 'diff-from' });
  const diffTo = h('select', { id: 'diff-to', name: 'diff-to' });
  const showDiff = h('button', { id: 'show-diff', type: 'button' }, 'Show diff');
  const diffView = h('div', { id: 'diff-view', class: 'diff-view' });
  let versionsLoaded = false;
  let merge: MergeView | null = null;
  const sourceCache = new Map<number, Version>();
  ctx.onLeave(() => merge?.destroy());
  const getVersion = async (n: number) => {
    let v = sourceCache.get(n);
    if (!v) { v = await api<Version>('GET', tpath(t, `/functions/${enc(fn!.name)}/versions/${n}`)); sourceCache.set(n, v); }
    return v;
  };
  async function loadVersions(): Promise<void> {
    if (!fn) return;
    const vs = listOf<Version>(await api<unknown>('GET', tpath(t, `/functions/${enc(fn.name)}/versions`)), 'versions');
    versionsLoaded = true;
    const rows = [...vs].reverse();
    replace(versionsList,
      h('caption', { class: 'sr-only' }, 'Versions, newest first'),
      h('thead', null, h('tr', null, ['Version', 'Created by', 'Created', 'Status', ''].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, rows.map((v) => h('tr', { dataset: { version: v.version }, class: v.deployed ? 'deployed' : '' },
        h('td', { 'data-label': 'Version' }, `v${v.version}`, h('small', { class: 'muted sha', title: v.sha256 }, ` ${v.sha256.slice(0, 8)}`)),
        h('td', { 'data-label': 'Created by' }, v.created_by),
        h('td', { 'data-label': 'Created' }, timeEl(v.created_at)),
        h('td', { 'data-label': 'Status' }, v.deployed ? h('span', { class: 'badge deployed-marker' }, 'deployed') : h('span', { class: 'muted' }, '—')),
        h('td', { 'data-label': 'Actions' }, v.deployed ? null : h('button', { type: 'button', class: 'deploy-version', 'aria-label': `Deploy version ${v.version}`, onclick: () => deploy(v.version) }, 'Deploy'))))));
    const opts = (sel: HTMLSelectElement, pick: number) => replace(sel, rows.map((v) => h('option', { value: v.version, selected: v.version === pick }, `v${v.version}${v.deployed ? ' (deployed)' : ''} — ${new Date(v.created_at).toLocaleString()}`)));
    const newest = vs.length ? vs[vs.length - 1].version : 0;
    const prev = vs.length > 1 ? vs[vs.length - 2].version : newest;
    const keepFrom = Number(diffFrom.value), keepTo = Number(diffTo.value);
    opts(diffFrom, vs.some((v) => v.version === keepFrom) && keepFrom ? keepFrom : prev);
    opts(diffTo, vs.some((v) => v.version === keepTo) && keepTo && keepTo !== keepFrom ? keepTo : newest);
    showDiff.disabled = vs.length === 0;
  }
  const deploy = async (n: number) => {
    if (!(await confirmDialog(`Deploy version ${n}?`, `Version ${n} of ${fn!.name} will run for every trigger it is bound to, replacing the deployed version.`, 'Deploy'))) return;
    try {
      await api('POST', tpath(t, `/functions/${enc(fn!.name)}/deploy`), { body: { version: n } });
      say(versionsStatus, `Deployed version ${n}.`, 'ok');
      const f = await api<Fn>('GET', tpath(t, `/functions/${enc(fn!.name)}`));
      if (fn && f.version === fn.version) { etag = f.etag; fn = { ...fn, deployed_version: f.deployed_version, etag: f.etag }; }
      renderHeading();
      await loadVersions();
      versionsList.querySelector<HTMLElement>(`tr[data-version="${n}"] td`)?.focus();
    } catch (e) {
      say(versionsStatus, `Could not deploy version ${n}: ${errMessage(e)}`, 'error');
    }
  };
  showDiff.addEventListener('click', async () => {
    const a = Number(diffFrom.value), b = Number(diffTo.value);
    if (!a || !b) return;
    showDiff.disabled = true;
    try {
      const [va, vb] = await Promise.all([getVersion(a), getVersion(b)]);
      merge?.destroy();
      clear(diffView);
      const lang = fn?.language || 'javascript';
      diffView.append(h('div', { class: 'diff-labels' }, h('span', null, `v${a}`), h('span', null, `v${b}`)));
      const host = h('div', { class: 'merge-host' });
      diffView.append(host);
      merge = new MergeView({
        a: { doc: va.source || '', extensions: readOnlyExtensions(lang) },
        b: { doc: vb.source || '', extensions: readOnlyExtensions(lang) },
        parent: host,
        collapseUnchanged: { margin: 3, minSize: 6 },
        gutter: true,
      });
      say(versionsStatus, va.sha256 === vb.sha256 ? `v${a} and v${b} have the same source.` : `Showing changes from v${a} to v${b}.`, 'info');
    } catch (e) {
      say(versionsStatus, errMessage(e), 'error');
    } finally { showDiff.disabled = false; }
  });

  // -------------------------------------------------------------- tabs
  const tabTest = h('button', { id: 'tab-test', type: 'button', role: 'tab', 'aria-selected': 'true', 'aria-controls': 'panel-test' }, 'Test');
  const tabVersions = h('button', { id: 'tab-versions', type: 'button', role: 'tab', 'aria-selected': 'false', 'aria-controls': 'panel-versions', tabindex: '-1', disabled: isNew, title: isNew ? 'Save the function first' : undefined }, 'Versions');
  const panelTest = h('div', { id: 'panel-test', role: 'tabpanel', 'aria-labelledby': 'tab-test', class: 'tab-panel' },
    h('div', { class: 'test-grid' },
      h('div', { class: 'test-input' },
        h('div', { class: 'field' }, h('label', { for: 'test-trigger' }, 'Trigger'), testTrigger),
        h('div', { class: 'field' }, h('label', { for: 'test-input' }, 'Input (JSON with "user" and "context")'), testInput, testInputErr, resetBtn),
        h('div', { class: 'actions' }, runBtn, runPipeBtn),
        h('p', { class: 'muted small' }, 'Run executes the editor text (unsaved) alone. Run pipeline runs the whole trigger: the deployed versions of the other functions, in order, with this text in place. Nothing is recorded.')),
      result));
  const panelVersions = h('div', { id: 'panel-versions', role: 'tabpanel', 'aria-labelledby': 'tab-versions', class: 'tab-panel', hidden: true },
    versionsStatus,
    h('div', { class: 'table-wrap' }, versionsList),
    h('div', { class: 'diff-controls' },
      h('div', { class: 'field' }, h('label', { for: 'diff-from' }, 'From'), diffFrom),
      h('div', { class: 'field' }, h('label', { for: 'diff-to' }, 'To'), diffTo),
      showDiff),
    diffView);
  const selectTab = async (which: 'test' | 'versions', focus = false) => {
    const isT = which === 'test';
    tabTest.setAttribute('aria-selected', String(isT)); tabVersions.setAttribute('aria-selected', String(!isT));
    tabTest.tabIndex = isT ? 0 : -1; tabVersions.tabIndex = isT ? -1 : 0;
    panelTest.hidden = !isT; panelVersions.hidden = isT;
    if (focus) (isT ? tabTest : tabVersions).focus();
    if (!isT) {
      try { await loadVersions(); } catch (e) { say(versionsStatus, errMessage(e), 'error'); }
    }
  };
  tabTest.addEventListener('click', () => selectTab('test'));
  tabVersions.addEventListener('click', () => selectTab('versions'));
  const tabKeys = (e: KeyboardEvent) => {
    if ((e.key === 'ArrowRight' || e.key === 'ArrowLeft') && !isNew) { e.preventDefault(); selectTab(tabTest.getAttribute('aria-selected') === 'true' ? 'versions' : 'test', true); }
  };
  tabTest.addEventListener('keydown', tabKeys); tabVersions.addEventListener('keydown', tabKeys);

  // ------------------------------------------------------------ layout
  const tplInfo = tpl ? h('div', { class: 'card template-info' },
    h('h2', null, `From template: ${tpl.title}`),
    tpl.env.length ? [h('p', null, 'This template reads these env keys; set them on the ', h('a', { href: '#/env' }, 'Env & secrets'), ' page:'),
      h('ul', { class: 'env-needs' }, tpl.env.map((e) => h('li', null, h('code', null, e.key), e.secret ? h('span', { class: 'badge' }, 'secret') : null, ` — ${e.description}`, e.example ? h('span', { class: 'muted' }, ` (e.g. ${e.example})`) : null)))] : h('p', { class: 'muted' }, 'This template needs no env keys.'),
    tpl.fetch_allow && tpl.fetch_allow.length ? h('p', { class: 'muted' }, `It fetches: ${tpl.fetch_allow.join(', ')} (add them to the fetch allow-list).`) : null) : null;

  replace(root,
    h('div', { class: 'page-head' },
      heading, dirtyEl,
      h('div', { class: 'actions' },
        h('label', { for: 'language', class: 'inline-label' }, 'Language'), langSel,
        saveBtn)),
    status, conflict, tplInfo,
    h('div', { class: 'editor-grid' },
      h('div', { class: 'editor-col' },
        h('p', { class: 'muted small', id: 'editor-help' }, 'Ctrl+Space completes; Ctrl+S saves; Esc then Tab leaves the editor.'),
        editorHost),
      form),
    h('div', { class: 'tabs card' },
      h('div', { role: 'tablist', 'aria-label': 'Function tools', class: 'tablist' }, tabTest, tabVersions),
      panelTest, panelVersions));

  refreshTriggers();
  const firstFixture = tpl?.fixtures?.[0];
  if (carriedInput) {
    testInput.value = carriedInput;
  } else if (firstFixture) {
    testInput.value = JSON.stringify(firstFixture.input, null, 2);
    if (firstFixture.trigger && [...testTrigger.options].some((o) => o.value === firstFixture.trigger)) testTrigger.value = firstFixture.trigger;
  } else {
    lastSample = sampleText(testTrigger.value);
    testInput.value = lastSample;
  }
  validateInput();
  updateDirty();
  if (handoff.savedMessage) { say(status, handoff.savedMessage, 'ok'); handoff.savedMessage = undefined; }
  if (tpl) say(status, `Filled from the template "${tpl.title}". Not saved yet.`, 'info');
  setReady();
}

export function stageLogs(stages: Stage[]): HTMLElement {
  if (!stages.some((s) => s.logs && s.logs.length)) return h('p', { class: 'muted' }, 'No logs.');
  return h('div', { class: 'logs' }, stages.filter((s) => s.logs && s.logs.length).map((s) => h('div', { class: 'stage-log' },
    h('h5', null, s.function, s.version ? ` v${s.version}` : ''),
    h('ol', { class: 'log-lines stage-logs' }, (s.logs || []).map((l) => h('li', { class: `log log-${l.level}` }, h('span', { class: 'level' }, l.level), ' ', h('span', { class: 'msg' }, l.message)))))));
}

export function stageTable(stages: Stage[]): HTMLElement {
  const id = nextId('stages');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'stages-table', id },
    h('thead', null, h('tr', null, ['Function', 'Version', 'Outcome', 'Duration', 'Fuel', 'Memory', 'Error'].map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', null, stages.map((s) => h('tr', null,
      h('td', { 'data-label': 'Function' }, s.function),
      h('td', { 'data-label': 'Version' }, s.version ? `v${s.version}` : '–'),
      h('td', { 'data-label': 'Outcome' }, outcomeBadge(s.outcome)),
      h('td', { 'data-label': 'Duration' }, fmtUs(s.duration_us)),
      h('td', { 'data-label': 'Fuel' }, fmtInt(s.fuel)),
      h('td', { 'data-label': 'Memory' }, fmtBytes(s.memory_bytes)),
      h('td', { 'data-label': 'Error' }, s.error ? `${s.error.kind}: ${s.error.message}` : '–'))))));
}
