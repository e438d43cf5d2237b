// A TypeScript function as an author would write one: scripts/check-types.sh
// type-checks it with `strict: true` against ../authpipe.d.ts. It is not run.

// ---------------------------------------------------------------- JWT (RS256)

interface Jwks {
  keys: JsonWebKey[];
}

const JWS_HASHES: Record<string, HashAlgorithmName> = { RS256: 'SHA-256', RS384: 'SHA-384', RS512: 'SHA-512' };

function base64url(text: string): Buffer {
  return Buffer.from(text, 'base64url');
}

async function verifyJwt(token: string, jwksUrl: string): Promise<Record<string, unknown>> {
  const [head, body, signature] = token.split('.');
  if (signature === undefined) throw new Error('not a JWT');
  const header = JSON.parse(new TextDecoder().decode(base64url(head))) as { alg: string; kid?: string };
  const hash = JWS_HASHES[header.alg];
  if (!hash) throw new Error(`unsupported alg ${header.alg}`);
  const res = await fetch(jwksUrl, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`JWKS answered HTTP ${res.status}`);
  const jwks = (await res.json()) as Jwks;
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error(`no key ${header.kid}`);
  const key: CryptoKey = await crypto.subtle.importKey('jwk', jwk, { name: 'RSASSA-PKCS1-v1_5', hash }, false, ['verify']);
  const valid: boolean = await crypto.subtle.verify(
    'RSASSA-PKCS1-v1_5',
    key,
    base64url(signature),
    new TextEncoder().encode(`${head}.${body}`),
  );
  if (!valid) throw new Error('bad signature');
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
  if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) throw new Error('expired');
  return claims;
}

// Other key types and formats.
async function otherKeys(spki: ArrayBuffer, ecJwk: JsonWebKey, data: Uint8Array, sig: Uint8Array): Promise<boolean> {
  const pss = await crypto.subtle.importKey('spki', spki, { name: 'RSA-PSS', hash: 'SHA-256' }, false, ['verify']);
  const ec = await crypto.subtle.importKey('jwk', ecJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const a = await crypto.subtle.verify({ name: 'RSA-PSS', saltLength: 32 }, pss, sig, data);
  const b = await crypto.subtle.verify({ name: 'ECDSA', hash: { name: 'SHA-256' } }, ec, sig, data);
  const hmac = await crypto.subtle.importKey('raw', new TextEncoder().encode('secret'), { name: 'HMAC', hash: 'SHA-256' }, true, ['sign', 'verify']);
  const mac = await crypto.subtle.sign('HMAC', hmac, data);
  const jwk: JsonWebKey = await crypto.subtle.exportKey('jwk', hmac);
  const raw: ArrayBuffer = await crypto.subtle.exportKey('raw', hmac);
  const digest = await crypto.subtle.digest('SHA-512', data);
  return a && b && mac.byteLength === 32 && jwk.k !== undefined && raw.byteLength > 0 && digest.byteLength === 64;
}

// ------------------------------------------------------ webhook signature

const nodeCrypto = require('crypto');

function webhookSignatureValid(rawBody: string, signatureHex: string, secret: string): boolean {
  const expected: Buffer = nodeCrypto.createHmac('sha256', secret).update(rawBody, 'utf8').digest();
  const given = Buffer.from(signatureHex, 'hex');
  return given.length === expected.length && nodeCrypto.timingSafeEqual(given, expected);
}

const md5: string = nodeCrypto.createHash('md5').update('abc').digest('hex');
const sha: Buffer = nodeCrypto.createHash('sha1').update(Buffer.from([1, 2, 3])).digest();
const nonce: string = nodeCrypto.randomBytes(16).toString('base64url');
const dice: number = nodeCrypto.randomInt(1, 7);
const hashes: string[] = nodeCrypto.getHashes();
const sameSubtle: SubtleCrypto = nodeCrypto.webcrypto.subtle;

// --------------------------------------------------------- other globals

const { Buffer: B } = require('buffer');
const { URL: U, URLSearchParams: Q } = require('url');
const util = require('util');
const qs = require('querystring');
const { ipRangeCheck } = require('./utils');
const ax = require('axios');

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function withRetry<T>(attempts: number, fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i + 1 >= attempts) throw err;
      await sleep(100 * 2 ** i);
    }
  }
}

const ticker = setInterval(() => log('tick'), 1000);
clearInterval(ticker);
clearTimeout(setTimeout((who: string) => console.debug('hello', who), 10, 'bob'));

// ------------------------------------------------------------------ pipe

async function pipe(user: AuthpipeUser, context: AuthpipeContext, callback: AuthpipeCallback): Promise<void> {
  const email = String(context.request?.body?.email ?? user.email ?? '').toLowerCase();
  const domain = email.slice(email.lastIndexOf('@') + 1);
  if (email.lastIndexOf('@') < 1 || domain !== env.ALLOWED_DOMAIN) {
    return callback(new Error('Access denied.'));
  }

  const auth = context.request?.headers?.authorization;
  if (auth?.startsWith('Bearer ') && env.JWKS_URL) {
    try {
      const claims = await verifyJwt(auth.slice(7), env.JWKS_URL);
      user.addAccessToken('upstream_sub', claims.sub);
    } catch (err) {
      console.warn('token rejected: %s', (err as Error).message);
      return callback(err);
    }
  }

  const ip = context.request?.ip ?? context.ip ?? '';
  if (ip && !utils.ipInCidr(ip, '10.0.0.0/8') && !ipRangeCheck(ip, ['192.0.2.1', '192.0.2.99'])) {
    console.info('outside the office: %s', ip);
  }

  const link = new URL('/welcome?x=1', 'https://example.com');
  link.searchParams.set('user', user.id ?? '');
  const again = new U(link.href);
  const query = new Q(again.search);
  const asText: string = qs.stringify({ a: 1, b: ['x', 'y'] });

  const when = new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Shanghai', dateStyle: 'medium', timeStyle: 'short' });
  user.addIdToken('signed_in_local', when.format(new Date()));
  user.addIdToken('local_date', new Date().toLocaleDateString('en-US', { timeZone: 'America/New_York' }));
  const share = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 }).format(0.256);
  const big = (1234567.891).toLocaleString('en-US');

  const copy = structuredClone({ at: new Date(), tags: new Set(['a']) });
  const packed = btoa(JSON.stringify({ id: user.id }));
  const unpacked = JSON.parse(atob(packed));
  const bytes = B.concat([B.from('ab'), Buffer.alloc(2, 0)]);
  const same = Buffer.compare(bytes, B.from(bytes)) === 0 && bytes.equals(Buffer.from(bytes.toJSON().data));
  const text = util.format('%s has %d items %j', 'list', 3, { a: 1 });
  const shown = util.inspect(copy, { depth: 2 });

  try {
    const { data, status } = await withRetry(3, () => ax.get<{ tier: string }>('https://api.example.com/tier', { params: { id: user.id } }));
    if (status === 200) user.addIdToken('tier', data.tier);
  } catch (err) {
    if (axios.isAxiosError(err)) console.error('tier lookup failed:', err.response?.status ?? err.code);
  }

  const id = crypto.randomUUID();
  const salt = crypto.getRandomValues(new Uint8Array(16));
  user.addCustomData('trace', { id, salt: Buffer.from(salt).toString('hex'), query: query.toString(), asText, share, big, text, shown, same, unpacked });
  user.addToken('legacy', true);
  user.removeIdToken('phone_number');
  user.removeAccessToken('scope_hint');
  log('done for', user.email, { ok: webhookSignatureValid('{}', md5, 'k'), sha: sha.length, nonce, dice, hashes, sameSubtle: !!sameSubtle });
  callback(null, user, context);
}

// `pipe` fits the contract's type, and otherKeys is used.
const asPipe: AuthpipePipe = pipe;
void asPipe;
void otherKeys;
