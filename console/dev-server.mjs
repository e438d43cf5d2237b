// Development tool only (not used in production; the Rust server serves
// dist/ at /console/). Serves console/dist at http://127.0.0.1:PORT/console/
// with the production CSP and proxies /v1/* to the authpipe server.
//   node dev-server.mjs [port] [upstream] [--mock]   (defaults: 18390, http://127.0.0.1:18181)
// --mock: when the upstream answers 404 for /v1/whoami, /v1/templates[/NAME]
// or /v1/tenants/T/stats (older servers), answer with sample data instead.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, dirname, normalize, extname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const MOCK = process.argv.includes('--mock');
const port = Number(args[0] || 18390);
const upstream = new URL(args[1] || 'http://127.0.0.1:18181');

function upstreamStatus(path, headers) {
  return new Promise((resolve) => {
    const r = http.request({ host: upstream.hostname, port: upstream.port, path, method: 'GET', headers: { authorization: headers.authorization || '' } }, (res) => { res.resume(); resolve(res.statusCode); });
    r.on('error', () => resolve(0));
    r.end();
  });
}

const SAMPLE_TEMPLATE = {
  name: 'email-domain-allowlist', title: 'Email domain allow-list',
  description: 'Only users whose email domain is listed may register; everyone else is denied.',
  use_case: 'whitelist', triggers: ['pre-register'], async: false, language: 'javascript',
  source: "async function pipe(user, context, callback) {\n  const email = String(context.request?.body?.email || user.email || '').toLowerCase();\n  const domain = email.split('@')[1] || '';\n  const allowed = String(env.ALLOWED_DOMAINS || '').split(',').map((d) => d.trim()).filter(Boolean);\n  if (!allowed.includes(domain)) return callback(new Error('Access denied.'));\n  callback(null, user, context);\n}\n",
  env: [{ key: 'ALLOWED_DOMAINS', description: 'Comma-separated domains that may register', example: 'example.com, example.org', secret: false }],
  fetch_allow: [],
  fixtures: [{ name: 'allowed', description: 'an address at a listed domain registers', trigger: 'pre-register', env: { ALLOWED_DOMAINS: 'example.com' },
    input: { user: { email: 'ann@example.com' }, context: { request: { body: { email: 'ann@example.com' } } } }, expect: { outcome: 'allow' } }],
};
const NOTIFY = { ...SAMPLE_TEMPLATE, name: 'slack-notify-on-register', title: 'Slack notification on registration', description: 'Posts a message to a Slack webhook when a user registers.', use_case: 'notification', triggers: ['post-register'], async: true,
  env: [{ key: 'SLACK_WEBHOOK_URL', description: 'Incoming webhook URL', example: 'https://hooks.slack.com/services/…', secret: true }], fetch_allow: ['https://hooks.slack.com/'] };
const summary = ({ name, title, description, use_case, triggers, async }) => ({ name, title, description, use_case, triggers, async });

async function mock(url, headers) {
  const p = url.pathname;
  if (p === '/v1/whoami') {
    const admin = (await upstreamStatus('/v1/tenants', headers)) === 200;
    return admin ? { principal: 'admin' } : { principal: 'key', tenant: 'acme', role: 'manage', key_id: 'key_mock', key_name: 'console' };
  }
  if (p === '/v1/templates') return { templates: [SAMPLE_TEMPLATE, NOTIFY].map(summary) };
  if (p === '/v1/templates/email-domain-allowlist') return SAMPLE_TEMPLATE;
  if (p === '/v1/templates/slack-notify-on-register') return NOTIFY;
  const m = /^\/v1\/tenants\/([^/]+)\/stats$/.exec(p);
  if (m) {
    const win = Number(url.searchParams.get('window') || 86400), n = Number(url.searchParams.get('buckets') || 24);
    const until = Date.now(), bucket = Math.floor(win / n);
    const fns = ['allow', 'beta', 'gamma'].map((name, k) => {
      const buckets = Array.from({ length: n }, (_, i) => {
        const inv = (i * 7 + k * 3) % 9; const err = inv > 6 ? 1 : 0;
        return { at: new Date(until - (n - i) * bucket * 1000).toISOString(), invocations: inv, errors: err, p50_us: inv ? 1800 + 300 * k + 40 * i : null, p99_us: inv ? 5200 + 900 * k + 120 * i : null };
      });
      const invocations = buckets.reduce((a, b) => a + b.invocations, 0), errors = buckets.reduce((a, b) => a + b.errors, 0);
      return { name, invocations, errors, error_rate: invocations ? errors / invocations : 0, p50_us: 2100, p99_us: 9000, buckets };
    });
    return { window_s: win, since: new Date(until - win * 1000).toISOString(), until: new Date(until).toISOString(), bucket_s: bucket, truncated: false, functions: fns };
  }
  return null;
}
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };

http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname.startsWith('/v1/')) {
    const p = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } }, async (r) => {
      if (MOCK && r.statusCode === 404 && req.method === 'GET') {
        const body = await mock(url, req.headers);
        if (body) { r.resume(); res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); return; }
      }
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    p.on('error', (e) => { res.writeHead(502, { 'content-type': 'application/json' }); res.end(JSON.stringify({ error: { status: 502, message: String(e) } })); });
    req.pipe(p);
    return;
  }
  if (url.pathname === '/' || url.pathname === '/console') { res.writeHead(302, { location: '/console/' }); res.end(); return; }
  if (!url.pathname.startsWith('/console/')) { res.writeHead(404); res.end('not found'); return; }
  let rel = normalize(url.pathname.slice('/console/'.length) || 'index.html');
  if (rel.startsWith('..')) { res.writeHead(400); res.end(); return; }
  try {
    const body = await readFile(join(here, 'dist', rel));
    res.writeHead(200, { 'content-type': TYPES[extname(rel)] || 'application/octet-stream', 'content-security-policy': CSP, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    res.end(body);
  } catch {
    res.writeHead(404); res.end('not found');
  }
}).listen(port, '127.0.0.1', () => console.log(`console dev server: http://127.0.0.1:${port}/console/ -> ${upstream.href}`));
