// A JSON-path diff of two JSON values.
export interface Change { path: string; kind: 'added' | 'removed' | 'changed'; from?: unknown; to?: unknown }

const IDENT = /^[A-Za-z_$][\w$]*$/;
function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return IDENT.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}
const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);

export function diffJson(a: unknown, b: unknown, path = '$', out: Change[] = []): Change[] {
  if (isObj(a) && isObj(b)) {
    for (const k of Object.keys(a)) {
      if (!(k in b)) out.push({ path: child(path, k), kind: 'removed', from: a[k] });
      else diffJson(a[k], b[k], child(path, k), out);
    }
    for (const k of Object.keys(b)) if (!(k in a)) out.push({ path: child(path, k), kind: 'added', to: b[k] });
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      if (i >= b.length) out.push({ path: child(path, i), kind: 'removed', from: a[i] });
      else if (i >= a.length) out.push({ path: child(path, i), kind: 'added', to: b[i] });
      else diffJson(a[i], b[i], child(path, i), out);
    }
    return out;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ path, kind: 'changed', from: a, to: b });
  return out;
}
