// Development tool only (not used in production; the Rust server serves
// dist/ at /console/). Serves console/dist at http://127.0.0.1:PORT/console/
// with the production CSP and proxies /v1/* to the authpipe server.
// Edit src/, run `node build.mjs`, reload: no Rust rebuild in between.
//   node dev-server.mjs [port] [upstream]   (defaults: 18390, http://127.0.0.1:8080, what `just run` serves)
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, dirname, normalize, extname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const port = Number(args[0] || 18390);
const upstream = new URL(args[1] || 'http://127.0.0.1:8080');

const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };

http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname.startsWith('/v1/')) {
    const p = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } }, (r) => {
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
