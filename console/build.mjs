// Builds the authpipe web console into dist/ (committed, so the Rust build
// needs no Node). `node build.mjs --check` rebuilds into a temp dir and fails
// when dist/ differs.
import { build } from 'esbuild';
import { readFileSync, writeFileSync, mkdirSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { gzipSync, gunzipSync } from 'node:zlib';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const check = process.argv.includes('--check');
const STATIC = ['index.html', 'app.css', 'favicon.svg'];
const FILES = ['app.js', ...STATIC];

// ---------------------------------------------------- d.ts -> completions

/** First sentence of a JSDoc text. */
function firstSentence(text) {
  const t = text.replace(/\s+/g, ' ').trim();
  const m = /^(.*?[.!?])(\s|$)/.exec(t);
  return m ? m[1] : t;
}

/**
 * A deliberately small parser for types/authpipe.d.ts: top-level
 * `interface` and `declare class` blocks (their members with the first
 * sentence of their JSDoc) and `declare const/var/function/class` globals.
 */
export function parseDts(src) {
  const lines = src.split('\n');
  const types = {};
  const globals = [];
  let doc = null;
  let inDoc = false;
  let docBuf = [];
  let depth = 0;
  let block = null; // {kind, name} while inside a depth-1 block
  const add = (list, item) => { if (!list.some((x) => x.label === item.label)) list.push(item); };
  for (const raw of lines) {
    const line = raw.trim();
    if (inDoc) {
      const end = line.includes('*/');
      docBuf.push(line.replace(/\*\/.*$/, '').replace(/^\*\s?/, ''));
      if (end) { inDoc = false; doc = docBuf.join(' '); }
      continue;
    }
    if (line.startsWith('/**')) {
      const rest = line.slice(3);
      if (rest.includes('*/')) { doc = rest.replace(/\*\/.*$/, '').trim(); } else { inDoc = true; docBuf = [rest]; }
      continue;
    }
    if (line.startsWith('//') || line === '') { continue; }
    const info = doc ? (doc.startsWith('@deprecated') ? 'Deprecated: ' + firstSentence(doc.replace('@deprecated', '')) : firstSentence(doc)) : undefined;
    doc = null;
    if (depth === 0) {
      let m;
      if ((m = /^interface (\w+)/.exec(line))) {
        block = { kind: 'interface', name: m[1] };
        types[m[1]] ??= [];
        if (info) types[m[1] + '#doc'] = info;
      } else if ((m = /^declare class (\w+)/.exec(line))) {
        block = { kind: 'class', name: m[1] };
        types[m[1]] ??= [];
        types[m[1] + '#static'] ??= [];
        add(globals, { label: m[1], type: 'class', detail: 'class', info });
      } else if ((m = /^declare module /.exec(line))) {
        block = { kind: 'module', name: '' };
      } else if ((m = /^declare (?:const|var|let) (\w+): (.+);$/.exec(line))) {
        add(globals, { label: m[1], type: 'variable', detail: m[2], info, ref: m[2] });
      } else if ((m = /^declare function (\w+)(<[^(]*>)?(\(.*\)): (.+);$/.exec(line))) {
        add(globals, { label: m[1], type: 'function', detail: m[3] + ': ' + m[4], info });
      }
    } else if (depth === 1 && block && block.kind !== 'module') {
      let m;
      if ((m = /^(static )?(?:readonly )?(\w+)\??(<[^(]*>)?(\(.*\))(?:: (.+))?;$/.exec(line))) {
        if (m[2] !== 'constructor') {
          const list = types[block.name + (m[1] ? '#static' : '')];
          add(list, { label: m[2], type: 'method', detail: m[4] + (m[5] ? ': ' + m[5] : ''), info, ref: m[5] });
        }
      } else if ((m = /^(static )?(?:readonly )?(\w+)(\??): (.+);$/.exec(line))) {
        const list = types[block.name + (m[1] ? '#static' : '')];
        add(list, { label: m[2], type: 'property', detail: m[4], info, ref: m[4] });
      }
    }
    for (const ch of line) {
      if (ch === '{') depth++;
      else if (ch === '}') depth--;
    }
    if (depth === 0) block = null;
  }
  // Resolve `ref` (a type text) to a known type name.
  const known = new Set(Object.keys(types).filter((k) => !k.includes('#')));
  const resolve = (t) => {
    if (!t) return undefined;
    for (const id of t.match(/[A-Za-z_]\w*/g) || []) if (known.has(id)) return id;
    return undefined;
  };
  const fix = (item) => { const r = resolve(item.ref); delete item.ref; if (r) item.ref = r; if (!item.info) delete item.info; return item; };
  for (const k of Object.keys(types)) if (Array.isArray(types[k])) types[k].forEach(fix);
  globals.forEach(fix);
  // The arguments of `pipe(user, context, callback)`.
  const roots = { user: 'AuthpipeUser', context: 'AuthpipeContext' };
  for (const g of globals) {
    if (g.type === 'class') roots[g.label] = g.label + '#static';
    else if (g.ref) roots[g.label] = g.ref;
  }
  globals.push(
    { label: 'user', type: 'variable', detail: 'AuthpipeUser', info: types['AuthpipeUser#doc'], ref: 'AuthpipeUser' },
    { label: 'context', type: 'variable', detail: 'AuthpipeContext', info: types['AuthpipeContext#doc'], ref: 'AuthpipeContext' },
    { label: 'callback', type: 'function', detail: '(error?, user?, context?): void', info: types['AuthpipeCallback#doc'] },
  );
  return { globals, types, roots };
}

function completionPlugin() {
  return {
    name: 'authpipe-dts',
    setup(b) {
      b.onResolve({ filter: /^virtual:authpipe-completions$/ }, (a) => ({ path: a.path, namespace: 'authpipe-dts' }));
      b.onLoad({ filter: /.*/, namespace: 'authpipe-dts' }, () => {
        const src = readFileSync(join(here, '..', 'types', 'authpipe.d.ts'), 'utf8');
        return { contents: 'export default ' + JSON.stringify(parseDts(src)) + ';', loader: 'js' };
      });
    },
  };
}

// ---------------------------------------------------------------- build

async function buildInto(out) {
  mkdirSync(out, { recursive: true });
  const res = await build({
    entryPoints: [join(here, 'src', 'main.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    sourcemap: false,
    legalComments: 'none',
    write: false,
    charset: 'utf8',
    logLevel: 'warning',
    plugins: [completionPlugin()],
  });
  writeFileSync(join(out, 'app.js'), res.outputFiles[0].contents);
  for (const f of STATIC) writeFileSync(join(out, f), readFileSync(join(here, 'static', f)));
  for (const f of FILES) {
    const buf = readFileSync(join(out, f));
    writeFileSync(join(out, f + '.gz'), gzipSync(buf, { level: 9 }));
  }
}

const dist = join(here, 'dist');
const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (!isMain) {
  // imported (for tests): do nothing
} else if (check) {
  const tmp = mkdtempSync(join(tmpdir(), 'authpipe-console-'));
  let ok = true;
  try {
    await buildInto(tmp);
    for (const f of FILES) {
      const want = readFileSync(join(tmp, f));
      const p = join(dist, f);
      if (!existsSync(p) || !readFileSync(p).equals(want)) { ok = false; console.error(`differs: ${f}`); continue; }
      try {
        if (!gunzipSync(readFileSync(p + '.gz')).equals(want)) { ok = false; console.error(`stale gzip: ${f}.gz`); }
      } catch { ok = false; console.error(`missing or bad gzip: ${f}.gz`); }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (!ok) { console.error('console/dist is stale: run `just console`'); process.exit(1); }
  console.log('console/dist is up to date');
} else {
  await buildInto(dist);
  let raw = 0, gz = 0;
  for (const f of FILES) {
    const a = readFileSync(join(dist, f)).length, b = readFileSync(join(dist, f + '.gz')).length;
    raw += a; gz += b;
    console.log(`${f.padEnd(12)} ${String(a).padStart(9)} B  gzip ${String(b).padStart(8)} B`);
  }
  console.log(`${'total'.padEnd(12)} ${String(raw).padStart(9)} B  gzip ${String(gz).padStart(8)} B`);
}
