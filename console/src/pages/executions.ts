import { h, replace } from '../h';
import { api, tpath, enc, TRIGGERS, listOf, ApiError, type Execution, type Fn, type Stats, type Version, type Stage } from '../api';
import { setPage, setReady, statusEl, say, errMessage, fmtUs, fmtInt, fmtBytes, timeEl, outcomeBadge } from '../ui';
import type { PageCtx } from '../ctx';
import { statsChart, codeFrame, stagesChart } from '../charts';

const LIMIT = 50;

export async function executionsPage(root: HTMLElement, ctx: PageCtx): Promise<void> {
  setPage('Executions');
  const t = ctx.tenant;
  const status = statusEl('executions-status');
  const sel = (id: string, label: string, options: [string, string][]) => {
    const s = h('select', { id, name: id }, options.map(([v, l]) => h('option', { value: v }, l)));
    return { el: s, field: h('div', { class: 'field' }, h('label', { for: id }, label), s) };
  };
  const fTrigger = sel('filter-trigger', 'Trigger', [['', 'All triggers'], ...TRIGGERS.map((x) => [x, x] as [string, string])]);
  const fFunction = sel('filter-function', 'Function', [['', 'All functions']]);
  const fOutcome = sel('filter-outcome', 'Outcome', [['', 'All outcomes'], ['allow', 'allow'], ['deny', 'deny'], ['error', 'error']]);
  const live = h('input', { id: 'live', type: 'checkbox', checked: true });
  const tbody = h('tbody');
  const table = h('table', { id: 'executions-table', class: 'executions-table' },
    h('caption', { class: 'sr-only' }, 'Executions, newest first'),
    h('thead', null, h('tr', null, ['Time', 'Trigger / function', 'Outcome', 'Duration', 'Stages', 'Error'].map((x) => h('th', { scope: 'col' }, x)))),
    tbody);
  const loadMore = h('button', { id: 'load-more', type: 'button', hidden: true }, 'Load more');
  const chartFn = h('select', { id: 'chart-function', name: 'chart-function' });
  const chartFnField = h('div', { class: 'field inline', hidden: true }, h('label', { for: 'chart-function' }, 'Function'), chartFn);
  const chartBox = h('div', { class: 'chart-box' });
  const chartNote = h('p', { class: 'muted small' });

  replace(root,
    h('div', { class: 'page-head' }, h('h1', null, 'Executions')),
    h('section', { class: 'card chart-card', 'aria-labelledby': 'chart-title' },
      h('div', { class: 'chart-head' }, h('h2', { id: 'chart-title' }, 'Last hour'), chartFnField),
      chartBox, chartNote),
    h('div', { class: 'filters card' },
      fTrigger.field, fFunction.field, fOutcome.field,
      h('label', { class: 'check live', for: 'live' }, live, ' Live (every 2 s)')),
    status,
    h('div', { class: 'card' }, h('div', { class: 'table-wrap' }, table), loadMore));

  let rows: Execution[] = [];
  let next: string | null = null;
  let stats: Stats | null = null;

  const query = (before?: string | null) => {
    const p = new URLSearchParams();
    if (fTrigger.el.value) p.set('trigger', fTrigger.el.value);
    if (fFunction.el.value) p.set('function', fFunction.el.value);
    if (fOutcome.el.value) p.set('outcome', fOutcome.el.value);
    p.set('limit', String(LIMIT));
    if (before) p.set('before', before);
    return tpath(t, `/executions?${p}`);
  };
  const rowEl = (x: Execution): HTMLElement => {
    const href = `#/executions/${enc(x.id)}`;
    const tr = h('tr', { dataset: { execution: x.id }, class: `outcome-row-${x.outcome}` },
      h('td', { 'data-label': 'Time' }, h('a', { href, class: 'execution-link' }, timeEl(x.at, false))),
      h('td', { 'data-label': 'Trigger / function' }, x.trigger || (x.function ? h('span', null, h('span', { class: 'muted' }, 'function '), x.function) : '–')),
      h('td', { 'data-label': 'Outcome' }, outcomeBadge(x.outcome, 'execution-outcome')),
      h('td', { 'data-label': 'Duration' }, fmtUs(x.duration_us)),
      h('td', { 'data-label': 'Stages' }, (x.stages || []).map((s) => s.function).join(' → ') || '–'),
      h('td', { 'data-label': 'Error' }, x.error ? `${x.error.kind}: ${x.error.message}` : ''));
    tr.addEventListener('click', (e) => { if ((e.target as HTMLElement).closest('a')) return; location.hash = href; });
    return tr;
  };
  const render = () => {
    replace(tbody, rows.length ? rows.map(rowEl) : h('tr', null, h('td', { colspan: 6, class: 'muted' }, 'No executions match.')));
    loadMore.hidden = !next;
  };
  // Bumped when the filters change: an answer for older filters is dropped.
  let gen = 0;
  const loadFirst = async () => {
    const g = ++gen;
    const d = await api<{ executions: Execution[]; next: string | null }>('GET', query(), { signal: ctx.signal });
    if (g !== gen || !ctx.alive()) return;
    rows = listOf<Execution>(d, 'executions');
    next = (d && !Array.isArray(d) && d.next) || null;
    render();
  };
  const poll = async () => {
    const g = gen;
    const d = await api<{ executions: Execution[]; next: string | null }>('GET', query(), { signal: ctx.signal });
    if (g !== gen || !ctx.alive()) return;
    const fresh = listOf<Execution>(d, 'executions');
    const have = new Set(rows.map((r) => r.id));
    const add = fresh.filter((r) => !have.has(r.id));
    if (add.length) {
      rows = [...add, ...rows];
      if (!rows.length || rows.length <= LIMIT) next = (d && !Array.isArray(d) && d.next) || next;
      const first = tbody.firstElementChild;
      if (!first || !first.hasAttribute('data-execution')) render();
      else for (const r of [...add].reverse()) tbody.insertBefore(rowEl(r), tbody.firstElementChild);
      say(status, `${add.length} new execution${add.length === 1 ? '' : 's'}.`, 'info');
    }
  };
  const renderChart = () => {
    const fns = stats?.functions || [];
    chartFnField.hidden = fns.length < 2;
    const cur = chartFn.value;
    replace(chartFn, fns.map((f) => h('option', { value: f.name, selected: f.name === cur }, f.name)));
    const f = fns.find((x) => x.name === chartFn.value) || fns[0] || null;
    replace(chartBox, statsChart(f, stats?.bucket_s || 300, 'executions-chart'));
    chartNote.textContent = f ? `${f.name}: ${fmtInt(f.invocations)} invocations, ${fmtInt(f.errors)} errors, p50 ${fmtUs(f.p50_us)}, p99 ${fmtUs(f.p99_us)}${stats?.truncated ? ' (sampled)' : ''}.` : '';
  };
  const loadStats = async () => {
    try {
      stats = await api<Stats>('GET', tpath(t, '/stats?window=3600&buckets=12'), { signal: ctx.signal });
    } catch (e) {
      if ((e as Error).name === 'AbortError' || (e instanceof ApiError && e.status === 401)) throw e;
      stats = null;
      chartNote.textContent = `Statistics are unavailable: ${errMessage(e)}`;
    }
    renderChart();
    if (!stats) chartNote.textContent = chartNote.textContent || 'Statistics are unavailable.';
  };
  chartFn.addEventListener('change', renderChart);

  // Live polling: every 2 s while on this page, the tab visible and Live on.
  let timer: number | undefined;
  let ticks = 0;
  let inFlight = false;
  const tick = async () => {
    if (!ctx.alive() || document.hidden || !live.checked || inFlight) return;
    inFlight = true;
    try {
      await poll();
      if (++ticks % 5 === 0) await loadStats();
    } catch (e) {
      if ((e as Error).name !== 'AbortError') say(status, `Live update failed: ${errMessage(e)}`, 'error');
    } finally { inFlight = false; }
  };
  const startTimer = () => { stopTimer(); if (live.checked && !document.hidden) timer = window.setInterval(tick, 2000); };
  const stopTimer = () => { if (timer !== undefined) { clearInterval(timer); timer = undefined; } };
  const onVis = () => { if (document.hidden) stopTimer(); else { startTimer(); tick(); } };
  ctx.onLeave(() => { stopTimer(); document.removeEventListener('visibilitychange', onVis); });
  live.addEventListener('change', () => { if (live.checked) { startTimer(); tick(); say(status, 'Live updates on.', 'info'); } else { stopTimer(); say(status, 'Live updates paused.', 'info'); } });

  const refilter = async () => {
    say(status, 'Loading…', 'info');
    try { await loadFirst(); say(status, `${rows.length} execution${rows.length === 1 ? '' : 's'} shown.`, 'info'); } catch (e) { say(status, errMessage(e), 'error'); }
  };
  [fTrigger.el, fFunction.el, fOutcome.el].forEach((s) => s.addEventListener('change', refilter));
  loadMore.addEventListener('click', async () => {
    if (!next) return;
    loadMore.disabled = true;
    try {
      const g = gen;
      const d = await api<{ executions: Execution[]; next: string | null }>('GET', query(next), { signal: ctx.signal });
      if (g !== gen) return;
      const more = listOf<Execution>(d, 'executions');
      const have = new Set(rows.map((r) => r.id));
      const add = more.filter((r) => !have.has(r.id));
      rows = [...rows, ...add];
      next = (d && !Array.isArray(d) && d.next) || null;
      for (const r of add) tbody.append(rowEl(r));
      loadMore.hidden = !next;
      say(status, `Loaded ${add.length} more.`, 'info');
      if (!next) tbody.querySelector<HTMLElement>('tr:last-child a')?.focus();
    } catch (e) { say(status, errMessage(e), 'error'); } finally { loadMore.disabled = false; }
  });

  const fnList = api<unknown>('GET', tpath(t, '/functions'), { signal: ctx.signal }).then((d) => {
    const names = listOf<Fn>(d, 'functions').map((f) => f.name).sort();
    fFunction.el.append(...names.map((n) => h('option', { value: n }, n)));
  }).catch((e) => { if ((e as Error).name === 'AbortError') throw e; });
  await Promise.all([loadFirst(), loadStats(), fnList]);
  if (!ctx.alive()) return;
  // Only once loaded, so a tab shown during the first load starts no early poll.
  document.addEventListener('visibilitychange', onVis);
  startTimer();
  setReady();
}

// ------------------------------------------------------------------ detail

export async function executionDetailPage(root: HTMLElement, ctx: PageCtx, id: string): Promise<void> {
  setPage('Execution');
  const t = ctx.tenant;
  const x = await api<Execution>('GET', tpath(t, `/executions/${enc(id)}`), { signal: ctx.signal });
  if (!ctx.alive()) return;
  setPage(`Execution ${x.id.slice(0, 12)}`);
  const stages = x.stages || [];
  const detail = h('div', { id: 'execution-detail', dataset: { outcome: x.outcome } });
  replace(root,
    h('p', null, h('a', { href: '#/executions' }, '← All executions')),
    h('div', { class: 'page-head' }, h('h1', null, 'Execution ', h('code', { class: 'exec-id' }, x.id))),
    detail);
  const summary = h('dl', { class: 'summary card' },
    h('dt', null, 'Time'), h('dd', null, timeEl(x.at)),
    h('dt', null, x.trigger ? 'Trigger' : 'Function'), h('dd', null, x.trigger || x.function || '–'),
    h('dt', null, 'Outcome'), h('dd', null, outcomeBadge(x.outcome, 'execution-outcome')),
    h('dt', null, 'Duration'), h('dd', null, fmtUs(x.duration_us)),
    x.error ? [h('dt', null, 'Error'), h('dd', { class: 'error-message' }, `${x.error.kind}: ${x.error.message}`, x.error.function ? ` (in ${x.error.function})` : '')] : null);
  const stageEls = stages.map((s, i) => stageCard(s, i));
  detail.append(summary);
  if (stages.length) detail.append(h('section', { class: 'card' }, h('h2', null, 'Stages'), stagesChart(stages, 'execution-stages-chart')));
  detail.append(...stageEls.map((e) => e.el));
  await Promise.all(stageEls.map((e) => e.frame()));
  if (!ctx.alive()) return;
  setReady();

  function stageCard(s: Stage, i: number): { el: HTMLElement; frame: () => Promise<void> } {
    const frameBox = h('div', { class: 'frame-slot' });
    const el = h('section', { class: `stage card outcome-border-${s.outcome}`, dataset: { function: s.function, outcome: s.outcome } },
      h('h2', null, `${i + 1}. `, h('a', { href: `#/functions/${enc(s.function)}` }, s.function), s.version ? h('span', { class: 'muted' }, ` v${s.version}`) : null, ' ', outcomeBadge(s.outcome)),
      h('dl', { class: 'metrics' },
        h('dt', null, 'Duration'), h('dd', null, fmtUs(s.duration_us)),
        h('dt', null, 'Fuel'), h('dd', null, fmtInt(s.fuel)),
        h('dt', null, 'Memory'), h('dd', null, fmtBytes(s.memory_bytes))),
      s.error ? h('div', { class: 'error-box', role: 'group', 'aria-label': 'Error' },
        h('p', null, h('span', { class: 'badge kind' }, s.error.kind), ' ', h('span', { class: 'error-message' }, s.error.message)),
        s.error.stack ? h('pre', { class: 'stack' }, s.error.stack) : null,
        frameBox) : null,
      h('h3', null, 'Logs'),
      s.logs && s.logs.length
        ? h('ol', { class: 'log-lines stage-logs' }, s.logs.map((l) => h('li', { class: `log log-${l.level}` }, h('span', { class: 'level' }, l.level), ' ', h('span', { class: 'msg' }, l.message))))
        : h('p', { class: 'stage-logs muted' }, 'No logs.'));
    const frame = async () => {
      const loc = s.error?.location;
      if (!loc) return;
      if (!s.version) { frameBox.append(h('p', { class: 'muted' }, `At line ${loc.line}${loc.column ? `, column ${loc.column}` : ''}.`)); return; }
      try {
        const v = await api<Version>('GET', tpath(t, `/functions/${enc(s.function)}/versions/${s.version}`), { signal: ctx.signal });
        frameBox.append(h('p', { class: 'muted small' }, `${s.function} v${s.version}, line ${loc.line}${loc.column ? `, column ${loc.column}` : ''}:`), codeFrame(v.source || '', loc.line, loc.column, 3));
      } catch (e) {
        if ((e as Error).name === 'AbortError') throw e;
        frameBox.append(h('p', { class: 'muted' }, `At line ${loc.line}. (Source unavailable: ${errMessage(e)})`));
      }
    };
    return { el, frame };
  }
}
