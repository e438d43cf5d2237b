// Hand-made SVG charts (no library).
import { s, h } from './h';
import type { Stage, FnStats } from './api';
import { fmtUs, fmtInt } from './ui';

export function stagesChart(stages: Stage[], id?: string): SVGElement {
  const rowH = 46, labelW = 150, W = 640, barW = W - labelW - 110;
  const H = Math.max(1, stages.length) * rowH + 24;
  const maxD = Math.max(1, ...stages.map((x) => x.duration_us || 0));
  const maxF = Math.max(1, ...stages.map((x) => x.fuel || 0));
  const svg = s('svg', { id, class: 'chart stages-chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Duration and fuel per stage', preserveAspectRatio: 'xMinYMin meet' },
    s('title', null, 'Duration and fuel per stage'));
  svg.append(
    s('rect', { x: labelW, y: 4, width: 10, height: 10, class: 'bar-duration' }), s('text', { x: labelW + 14, y: 13, class: 'legend' }, 'duration'),
    s('rect', { x: labelW + 90, y: 4, width: 10, height: 10, class: 'bar-fuel' }), s('text', { x: labelW + 104, y: 13, class: 'legend' }, 'fuel'));
  stages.forEach((st, i) => {
    const y = 24 + i * rowH;
    const d = st.duration_us || 0, f = st.fuel || 0;
    const dw = Math.max(1, (d / maxD) * barW), fw = Math.max(1, (f / maxF) * barW);
    const name = st.function.length > 20 ? st.function.slice(0, 19) + '…' : st.function;
    svg.append(
      s('text', { x: 0, y: y + 18, class: 'label' }, `${name}${st.version ? ' v' + st.version : ''}`),
      s('text', { x: 0, y: y + 34, class: `label small outcome-${st.outcome}` }, st.outcome),
      s('rect', { x: labelW, y: y + 6, width: dw, height: 14, rx: 2, class: 'bar-duration' }, s('title', null, `${st.function}: ${fmtUs(d)}`)),
      s('text', { x: labelW + dw + 6, y: y + 17, class: 'value' }, fmtUs(d)),
      s('rect', { x: labelW, y: y + 24, width: fw, height: 14, rx: 2, class: 'bar-fuel' }, s('title', null, `${st.function}: ${fmtInt(f)} fuel`)),
      s('text', { x: labelW + fw + 6, y: y + 35, class: 'value' }, `${fmtInt(f)} fuel`));
  });
  return svg;
}

/** Invocations (bars, left axis) and p50/p99 latency (lines, right axis). */
export function statsChart(fn: FnStats | null, bucketS: number, id?: string): SVGElement {
  const W = 720, H = 220, L = 44, R = 56, T = 26, B = 30;
  const pw = W - L - R, ph = H - T - B;
  const svg = s('svg', { id, class: 'chart stats-chart', viewBox: `0 0 ${W} ${H}`, role: 'img', preserveAspectRatio: 'xMinYMin meet',
    'aria-label': fn ? `Invocations and latency of ${fn.name} over the last hour` : 'No executions in the last hour' },
  s('title', null, fn ? `Invocations and p50/p99 latency of ${fn.name}` : 'No data'));
  const buckets = fn?.buckets || [];
  if (!fn || !buckets.length) {
    svg.append(s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'label muted' }, 'No executions in this window.'));
    return svg;
  }
  // A multiple of 4, so the four grid lines fall on whole counts.
  const maxN = Math.ceil(Math.max(1, ...buckets.map((b) => b.invocations)) / 4) * 4;
  const maxL = Math.max(1, ...buckets.map((b) => Math.max(b.p50_us || 0, b.p99_us || 0)));
  const bw = pw / buckets.length;
  const yN = (n: number) => T + ph - (n / maxN) * ph;
  const yL = (us: number) => T + ph - (us / maxL) * ph;
  // grid and axes
  for (let k = 0; k <= 4; k++) {
    const y = T + (ph * k) / 4;
    svg.append(s('line', { x1: L, x2: L + pw, y1: y, y2: y, class: 'grid' }));
    svg.append(s('text', { x: L - 6, y: y + 4, 'text-anchor': 'end', class: 'axis' }, String(Math.round(maxN * (1 - k / 4)))));
    svg.append(s('text', { x: L + pw + 6, y: y + 4, class: 'axis' }, fmtUs(Math.round(maxL * (1 - k / 4)))));
  }
  buckets.forEach((b, i) => {
    const x = L + i * bw;
    const y = yN(b.invocations);
    const at = new Date(b.at);
    const label = at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
    svg.append(s('rect', { x: x + bw * 0.15, y, width: bw * 0.7, height: T + ph - y, class: 'bar-invocations' },
      s('title', null, `${label}: ${b.invocations} invocations, ${b.errors} errors, p50 ${fmtUs(b.p50_us)}, p99 ${fmtUs(b.p99_us)}`)));
    if (b.errors) {
      const ye = yN(b.errors);
      svg.append(s('rect', { x: x + bw * 0.15, y: ye, width: bw * 0.7, height: T + ph - ye, class: 'bar-errors' }));
    }
    if (i % Math.ceil(buckets.length / 6) === 0) svg.append(s('text', { x: x + bw / 2, y: H - 10, 'text-anchor': 'middle', class: 'axis' }, label));
  });
  const line = (key: 'p50_us' | 'p99_us', cls: string) => {
    const pts = buckets.map((b, i) => (b[key] === null || b[key] === undefined ? null : `${(L + i * bw + bw / 2).toFixed(1)},${yL(b[key] as number).toFixed(1)}`));
    let d = '';
    let pen = false;
    for (const p of pts) { if (p === null) { pen = false; continue; } d += (pen ? 'L' : 'M') + p; pen = true; }
    if (d) svg.append(s('path', { d, class: cls, fill: 'none' }));
    buckets.forEach((b, i) => { if (b[key] !== null && b[key] !== undefined) svg.append(s('circle', { cx: L + i * bw + bw / 2, cy: yL(b[key] as number), r: 2.5, class: cls + '-dot' })); });
  };
  line('p50_us', 'line-p50');
  line('p99_us', 'line-p99');
  svg.append(
    s('rect', { x: L, y: 6, width: 10, height: 10, class: 'bar-invocations' }), s('text', { x: L + 14, y: 15, class: 'legend' }, 'invocations'),
    s('rect', { x: L + 100, y: 6, width: 10, height: 10, class: 'bar-errors' }), s('text', { x: L + 114, y: 15, class: 'legend' }, 'errors'),
    s('line', { x1: L + 170, x2: L + 186, y1: 11, y2: 11, class: 'line-p50' }), s('text', { x: L + 190, y: 15, class: 'legend' }, 'p50'),
    s('line', { x1: L + 226, x2: L + 242, y1: 11, y2: 11, class: 'line-p99' }), s('text', { x: L + 246, y: 15, class: 'legend' }, 'p99'),
    s('text', { x: W - 4, y: 15, 'text-anchor': 'end', class: 'legend muted' }, `${Math.round(bucketS / 60)} min buckets`));
  return svg;
}

/** Lines around `line` (1-based) of `source`, the line marked. */
export function codeFrame(source: string, line: number, column?: number, context = 3, onJump?: () => void): HTMLElement {
  const lines = source.split('\n');
  const from = Math.max(1, line - context), to = Math.min(lines.length, line + context);
  const pre = h('pre', { class: 'code-frame', 'aria-label': `Source around line ${line}` });
  for (let n = from; n <= to; n++) {
    const marked = n === line;
    const row = h('span', { class: `frame-line${marked ? ' marked' : ''}`, dataset: { line: n } },
      h('span', { class: 'ln', 'aria-hidden': 'true' }, String(n).padStart(String(to).length, ' ')), ' ', lines[n - 1] ?? '');
    pre.append(row);
    if (marked && column && column > 0) pre.append(h('span', { class: 'frame-caret', 'aria-hidden': 'true' }, ' '.repeat(String(to).length + column) + '^'));
  }
  const box = h('div', { class: 'code-frame-box' }, pre);
  if (onJump) box.append(h('button', { type: 'button', class: 'jump-to-line', onclick: onJump }, `Go to line ${line} in the editor`));
  return box;
}
