// The management API client: bearer token from sessionStorage, JSON in and
// out, errors as ApiError. A 401 anywhere signs out.
export const TOKEN_KEY = 'authpipe.token';
export const TENANT_KEY = 'authpipe.tenant';

export const TRIGGERS = [
  'pre-register',
  'post-register',
  'pre-authentication',
  'post-authentication',
  'pre-oidc-id-token-issued',
  'pre-oidc-access-token-issued',
  'pre-complete-user-info',
] as const;
export type Trigger = (typeof TRIGGERS)[number];

export class ApiError extends Error {
  status: number;
  body: Record<string, unknown>;
  retryAfter: string | null;
  constructor(status: number, message: string, body: Record<string, unknown>, retryAfter: string | null) {
    super(message);
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter;
  }
  get field(): string | undefined { return typeof this.body.field === 'string' ? this.body.field : undefined; }
  get kind(): string | undefined { return typeof this.body.kind === 'string' ? this.body.kind : undefined; }
  get line(): number | undefined { return typeof this.body.line === 'number' ? this.body.line : undefined; }
  get column(): number | undefined { return typeof this.body.column === 'number' ? this.body.column : undefined; }
}

export interface Session { token: string; principal: 'admin' | 'key'; tenant: string | null; keyName?: string }

let unauthorized: (message: string) => void = () => undefined;
export function onUnauthorized(f: (message: string) => void): void { unauthorized = f; }

export function getToken(): string | null { return sessionStorage.getItem(TOKEN_KEY); }
export function setToken(t: string | null): void {
  if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY);
}
export function getTenant(): string | null { return sessionStorage.getItem(TENANT_KEY); }
export function setTenant(t: string | null): void {
  if (t) sessionStorage.setItem(TENANT_KEY, t); else sessionStorage.removeItem(TENANT_KEY);
}

export interface RequestOptions { body?: unknown; headers?: Record<string, string>; token?: string; signal?: AbortSignal; noAuthRedirect?: boolean }

export async function api<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...(opts.headers || {}) };
  const token = opts.token ?? getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (opts.body !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(opts.body); }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body, signal: opts.signal, cache: 'no-store' });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'Cannot reach the server: ' + (e as Error).message, {}, null);
  }
  const text = await res.text();
  let data: unknown = null;
  if (text) { try { data = JSON.parse(text); } catch { data = null; } }
  if (!res.ok) {
    const err = (data && typeof data === 'object' && (data as Record<string, unknown>).error) as Record<string, unknown> | undefined;
    const body = err && typeof err === 'object' ? err : {};
    let message = typeof body.message === 'string' ? body.message : `${res.status} ${res.statusText || 'error'}`;
    const retry = res.headers.get('Retry-After');
    if (res.status === 429 || res.status === 503) {
      message += retry ? ` (retry after ${retry.trim()}${/^\d+$/.test(retry.trim()) ? ' s' : ''})` : ' (try again shortly)';
    }
    const e = new ApiError(res.status, message, body, retry);
    if (res.status === 401 && !opts.noAuthRedirect) {
      setToken(null);
      unauthorized('Your session ended or the key was revoked; sign in again.' + (typeof body.message === 'string' ? ` (${body.message})` : ''));
    }
    throw e;
  }
  return data as T;
}

export const enc = encodeURIComponent;
export function tpath(tenant: string, rest: string): string { return `/v1/tenants/${enc(tenant)}${rest}`; }

// ------------------------------------------------------------ data shapes

export interface Fn {
  name: string; description: string; triggers: string[]; enabled: boolean; async: boolean;
  timeout_ms: number; fuel: number; memory_mb: number; on_error: 'deny' | 'skip'; language: 'javascript' | 'typescript';
  flavor?: Flavor; flavor_detected?: boolean;
  order: number; source: string; sha256: string; version: number; deployed_version: number | null; etag: string;
  created_at: string; updated_at: string;
}
/** How a function's source is called: Authing's `pipe`, an Auth0 Rule or an Auth0 Action. */
export type Flavor = 'authing' | 'auth0-rule' | 'auth0-action';
export interface TriggerFn { name: string; order: number; enabled: boolean; async: boolean; version: number; deployed_version: number | null }
export interface TriggerView { trigger: string; functions: TriggerFn[] }
export interface Version { version: number; sha256: string; created_at: string; created_by: string; deployed: boolean; source?: string }
export interface EnvVar { key: string; value?: string; secret: boolean; updated_at: string }
export interface LogLine { level: string; message: string }
export interface ErrorInfo { kind: string; message: string; function?: string; stack?: string; location?: { line: number; column?: number } }
export interface Stage { function: string; version?: number; outcome: string; duration_us?: number; fuel?: number; memory_bytes?: number; logs?: LogLine[]; error?: ErrorInfo | null }
export interface RunResult {
  outcome: string; user?: unknown; context?: unknown; claims?: { id_token?: unknown; access_token?: unknown };
  custom_data?: unknown; error?: ErrorInfo | null; stages?: Stage[];
}
export interface Execution { id: string; at: string; trigger?: string; function?: string; outcome: string; duration_us?: number; error?: ErrorInfo | null; stages?: Stage[] }
export interface TemplateSummary { name: string; title: string; description: string; use_case: string; triggers: string[]; async: boolean }
export interface TemplateEnv { key: string; description: string; example?: string; secret?: boolean }
export interface Fixture { name: string; description?: string; trigger?: string; env?: Record<string, string>; input: { user: unknown; context: unknown }; expect?: unknown }
export interface Template extends TemplateSummary { language: string; source: string; env: TemplateEnv[]; fetch_allow?: string[]; fixtures: Fixture[] }
export interface StatBucket { at: string; invocations: number; errors: number; p50_us: number | null; p99_us: number | null }
export interface FnStats { name: string; invocations: number; errors: number; error_rate: number; p50_us: number | null; p99_us: number | null; buckets: StatBucket[] }
export interface Stats { window_s: number; since: string; until: string; bucket_s: number; truncated: boolean; functions: FnStats[] }
export interface Tenant { id: string; name: string; created_at?: string }

export function listOf<T>(x: unknown, key: string): T[] {
  if (Array.isArray(x)) return x as T[];
  if (x && typeof x === 'object' && Array.isArray((x as Record<string, unknown>)[key])) return (x as Record<string, T[]>)[key];
  return [];
}
