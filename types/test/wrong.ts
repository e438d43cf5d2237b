// Mistakes ../authpipe.d.ts must reject: scripts/check-types.sh expects
// `tsc -p types/test/tsconfig.wrong.json` to fail with an error on every line
// marked `expect-error` and on no other line, so the type check of the
// templates and of usage.ts cannot pass merely because nothing is checked.

async function pipe(user: AuthpipeUser, context: AuthpipeContext, callback: AuthpipeCallback): Promise<void> {
  user.addIdToken(42, 'gold'); // expect-error: claim keys are strings
  user.addCustomData('groups'); // expect-error: the value is missing
  env.ALLOWED_DOMAIN = 'example.com'; // expect-error: env is read-only
  const ip: string = context.request.ip; // expect-error: request may be absent (strict)
  utils.ipInCidr(ip); // expect-error: the CIDR is missing
  utils.ipRangeCheck(ip, '10.0.0.0/8'); // expect-error: a [start, end] pair, not a CIDR
  await crypto.subtle.digest('MD5', new Uint8Array(1)); // expect-error: not a Web Crypto digest
  await crypto.subtle.digest('SHA-256', 'text'); // expect-error: data must be bytes
  await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, true, ['sign']); // expect-error: not supported
  await crypto.subtle.importKey('pkcs8', new Uint8Array(1), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']); // expect-error: private keys are not supported
  crypto.getRandomValues(new Float64Array(4)); // expect-error: integer arrays only
  Buffer.from('text', 'utf16le'); // expect-error: encoding not supported
  require('fs'); // expect-error: no such module
  require('crypto').createHash('sha3-256'); // expect-error: not one of the hashes
  const home = process.env.HOME; // expect-error: no process
  setImmediate(() => log(home)); // expect-error: no setImmediate
  const res = await fetch('https://example.com', { method: 'POST', body: 42 }); // expect-error: body must be a string or JSON object
  const size: number = res.headers.get('content-length'); // expect-error: string | null
  console.table([1, 2]); // expect-error: only log/info/warn/error/debug
  callback(null, 'alice'); // expect-error: user must be an object
}

void pipe;
