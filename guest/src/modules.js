// The npm modules Auth0 Rules and Actions require, on authpipe's natives:
// `request`, `request-promise`, `node-fetch`, Node's legacy `url`, `uuid`
// and `jsonwebtoken`. (`lodash` and `moment` are the real packages, loaded
// by the prelude; `axios`, `querystring` and `crypto` are the prelude's.)
//
// A factory the prelude calls once, at compile time, with what these
// modules are built on. It returns the modules by name.
(function (natives, deps) {
  'use strict';

  const { fetch, Headers, Response, querystring, Buffer, URL, URLSearchParams, nodeCrypto } = deps;
  const keys = Object.keys;
  const isArray = Array.isArray;
  const freeze = Object.freeze;
  const isObject = (v) => v !== null && typeof v === 'object' && !isArray(v);

  // ------------------------------------------------------------------- url
  //
  // Node's legacy API: url.parse, url.format and url.resolve, plus the
  // WHATWG classes.

  const URL_PATTERN = /^(?:([a-zA-Z][a-zA-Z0-9+.-]*:))?(\/\/)?(?:([^@/?#]*)@)?(\[[^\]]*\]|[^:/?#]*)?(?::(\d*))?([^?#]*)(\?[^#]*)?(#.*)?$/;

  function Url() {
    this.protocol = null;
    this.slashes = null;
    this.auth = null;
    this.host = null;
    this.port = null;
    this.hostname = null;
    this.hash = null;
    this.search = null;
    this.query = null;
    this.pathname = null;
    this.path = null;
    this.href = null;
  }

  function urlParse(text, parseQueryString, slashesDenoteHost) {
    if (typeof text !== 'string') throw new TypeError(`The "url" argument must be of type string. Received ${typeof text}`);
    const result = new Url();
    const trimmed = text.trim();
    const match = URL_PATTERN.exec(trimmed);
    if (match === null) {
      result.pathname = trimmed;
      result.path = trimmed;
      result.href = trimmed;
      return result;
    }
    const [, protocol, slashes, auth, host, port, pathname, search, hash] = match;
    const hasHost = slashes !== undefined && (protocol !== undefined || slashesDenoteHost);
    if (protocol !== undefined) result.protocol = protocol.toLowerCase();
    if (hasHost) {
      result.slashes = true;
      if (auth !== undefined) result.auth = decodeURIComponent(auth);
      result.hostname = (host || '').toLowerCase();
      if (port !== undefined && port !== '') result.port = port;
      result.host = result.hostname + (result.port !== null ? `:${result.port}` : '');
      result.pathname = pathname === '' && (result.protocol === 'http:' || result.protocol === 'https:') ? '/' : (pathname || null);
    } else {
      // No authority: everything up to ? or # is the path.
      const rest = trimmed.slice(protocol !== undefined ? protocol.length : 0);
      const cut = rest.search(/[?#]/);
      result.pathname = (cut < 0 ? rest : rest.slice(0, cut)) || null;
    }
    if (search !== undefined) {
      result.search = search;
      result.query = parseQueryString ? querystring.parse(search.slice(1)) : search.slice(1);
    } else if (parseQueryString) {
      result.search = '';
      result.query = {};
    }
    if (hash !== undefined) result.hash = hash;
    result.path = (result.pathname || '') + (result.search || '') || null;
    result.href = urlFormat(result);
    return result;
  }

  function urlFormat(object) {
    if (typeof object === 'string') return urlFormat(urlParse(object));
    if (object instanceof URL) return object.toString();
    if (!isObject(object)) throw new TypeError('url.format: the argument must be a string or an object');
    let protocol = object.protocol || '';
    if (protocol !== '' && !protocol.endsWith(':')) protocol += ':';
    let host = '';
    if (object.host) {
      host = object.host;
    } else if (object.hostname) {
      host = object.hostname.includes(':') && !object.hostname.startsWith('[') ? `[${object.hostname}]` : object.hostname;
      if (object.port) host += `:${object.port}`;
    }
    const auth = object.auth ? `${encodeURIComponent(object.auth).replace(/%3A/i, ':')}@` : '';
    let pathname = object.pathname || '';
    let search = object.search || '';
    if (search === '' && object.query && typeof object.query === 'object') {
      const qs = querystring.stringify(object.query);
      if (qs !== '') search = `?${qs}`;
    } else if (search !== '' && !search.startsWith('?')) {
      search = `?${search}`;
    }
    let hash = object.hash || '';
    if (hash !== '' && !hash.startsWith('#')) hash = `#${hash}`;
    const slashes = object.slashes || /^(https?|ftp|gopher|file|wss?):$/.test(protocol);
    let prefix = '';
    if (host !== '' || slashes) {
      prefix = `//${auth}${host}`;
      if (pathname !== '' && !pathname.startsWith('/')) pathname = `/${pathname}`;
    }
    return protocol + prefix + pathname.replace(/[?#]/g, encodeURIComponent) + search.replace('#', '%23') + hash;
  }

  function urlResolve(from, to) {
    return new URL(to, new URL(from, 'resolve://')).toString().replace(/^resolve:\/\/\/?/, '');
  }

  const url = freeze({ parse: urlParse, format: urlFormat, resolve: urlResolve, URL, URLSearchParams, Url });

  // ------------------------------------------------------------------ uuid

  const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
  function v4() {
    return nodeCrypto.randomUUID();
  }
  // Callable as in uuid 3 (`require('uuid')()` is a v4), with v4 and the
  // helpers of later versions as properties.
  const uuid = Object.assign(function uuid() {
    return v4();
  }, {
    v4,
    NIL: '00000000-0000-0000-0000-000000000000',
    validate: (text) => typeof text === 'string' && (UUID_PATTERN.test(text) || text === '00000000-0000-0000-0000-000000000000'),
    version: (text) => {
      if (typeof text !== 'string' || !UUID_PATTERN.test(text)) throw new TypeError('Invalid UUID');
      return parseInt(text[14], 16);
    },
  });
  freeze(uuid);

  // ------------------------------------------------------------ node-fetch

  function nodeFetch(resource, init) {
    const options = isObject(init) ? { ...init } : init;
    // node-fetch takes a Buffer or URLSearchParams body too; authpipe's
    // fetch takes strings.
    if (isObject(options) && options.body instanceof Buffer) options.body = options.body.toString('utf8');
    if (isObject(options) && options.body instanceof URLSearchParams) {
      options.body = options.body.toString();
      const headers = new Headers(options.headers);
      if (!headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
      options.headers = headers;
    }
    return fetch(resource, options);
  }
  nodeFetch.default = nodeFetch;
  nodeFetch.Headers = Headers;
  nodeFetch.Response = Response;
  nodeFetch.isRedirect = (code) => code === 301 || code === 302 || code === 303 || code === 307 || code === 308;
  freeze(nodeFetch);

  // --------------------------------------------------------------- request
  //
  // The `request` package's callback API over `fetch`: url/uri, baseUrl,
  // method, qs, headers, body, json, form, auth, timeout; the callback gets
  // (error, response, body) with response.statusCode/headers/body.

  function requestOptions(first, second) {
    let options;
    if (typeof first === 'string') options = { ...(isObject(second) ? second : {}), uri: first };
    else if (isObject(first)) options = { ...first };
    else throw new TypeError('request: the first argument must be a URL or an options object');
    return options;
  }

  function headerPairs(headers) {
    const out = {};
    if (isObject(headers)) for (const name of keys(headers)) if (headers[name] !== undefined) out[name] = String(headers[name]);
    return out;
  }

  function hasHeader(headers, name) {
    return keys(headers).some((key) => key.toLowerCase() === name);
  }

  // What `request` sends for `options`: {url, init, json}.
  function requestToFetch(options) {
    let target = options.uri !== undefined ? options.uri : options.url;
    if (target !== null && typeof target === 'object') target = urlFormat(target);
    if (typeof target !== 'string' || target === '') throw new Error('options.uri is a required argument');
    if (options.baseUrl) target = String(options.baseUrl).replace(/\/$/, '') + '/' + target.replace(/^\//, '');
    if (isObject(options.qs) && keys(options.qs).length > 0) {
      const qs = querystring.stringify(options.qs);
      if (qs !== '') target += (target.includes('?') ? '&' : '?') + qs;
    }
    const method = String(options.method || 'GET').toUpperCase();
    const headers = headerPairs(options.headers);
    // `https://user:pass@host/…` is Basic authentication, as in `request`.
    const credentials = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*)@/i.exec(target);
    if (credentials !== null) {
      target = credentials[1] + target.slice(credentials[0].length);
      if (!hasHeader(headers, 'authorization')) {
        headers.authorization = `Basic ${Buffer.from(decodeURIComponent(credentials[2])).toString('base64')}`;
      }
    }
    let body;
    if (options.form !== undefined) {
      body = typeof options.form === 'string' ? options.form : querystring.stringify(options.form);
      if (!hasHeader(headers, 'content-type')) headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (options.json !== undefined && options.json !== false && options.json !== true) {
      body = JSON.stringify(options.json);
      if (!hasHeader(headers, 'content-type')) headers['content-type'] = 'application/json';
    } else if (options.body instanceof URLSearchParams) {
      body = options.body.toString();
      if (!hasHeader(headers, 'content-type')) headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (options.body !== undefined) {
      if (options.json === true && typeof options.body !== 'string' && !(options.body instanceof Buffer)) {
        body = JSON.stringify(options.body);
        if (!hasHeader(headers, 'content-type')) headers['content-type'] = 'application/json';
      } else {
        body = options.body instanceof Buffer ? options.body.toString('utf8') : String(options.body);
      }
    }
    if (options.json !== undefined && options.json !== false && !hasHeader(headers, 'accept')) headers.accept = 'application/json';
    const auth = options.auth;
    if (isObject(auth)) {
      if (auth.bearer !== undefined) {
        headers.authorization = `Bearer ${typeof auth.bearer === 'function' ? auth.bearer() : auth.bearer}`;
      } else {
        const user = auth.user !== undefined ? auth.user : auth.username;
        const pass = auth.pass !== undefined ? auth.pass : auth.password;
        headers.authorization = `Basic ${Buffer.from(`${user || ''}:${pass || ''}`).toString('base64')}`;
      }
    }
    return { url: target, init: { method, headers, body }, json: options.json !== undefined && options.json !== false };
  }

  // The `request` response object for a fetch Response and its text.
  function responseOf(res, text, wantsJson, href) {
    const headers = {};
    res.headers.forEach((value, name) => { headers[name] = value; });
    let body = text;
    if (wantsJson && text !== '') {
      try {
        body = JSON.parse(text);
      } catch (_) {
        body = text;
      }
    }
    return {
      statusCode: res.status,
      statusMessage: res.statusText,
      headers,
      body,
      request: { uri: { href }, href },
      toJSON() {
        return { statusCode: this.statusCode, body: this.body, headers: this.headers };
      },
    };
  }

  function send(options) {
    const { url: target, init, json } = requestToFetch(options);
    return fetch(target, init).then((res) => res.text().then((text) => responseOf(res, text, json, target)));
  }

  function makeRequest(defaults) {
    function request(first, second, third) {
      const callback = [second, third].find((a) => typeof a === 'function');
      const options = { ...defaults, ...requestOptions(first, typeof second === 'function' ? undefined : second) };
      const done = send(options);
      if (callback) {
        done.then((response) => callback(null, response, response.body), (error) => callback(error));
      } else {
        done.catch(() => {});
      }
      return { abort() {}, on() { return this; } };
    }
    for (const [name, method] of [['get', 'GET'], ['head', 'HEAD'], ['post', 'POST'], ['put', 'PUT'], ['patch', 'PATCH'], ['del', 'DELETE'], ['delete', 'DELETE']]) {
      request[name] = (first, second, third) => {
        const options = requestOptions(first, typeof second === 'function' ? undefined : second);
        options.method = method;
        return request(options, typeof second === 'function' ? second : third);
      };
    }
    request.defaults = (more) => makeRequest({ ...defaults, ...(isObject(more) ? more : {}) });
    return freeze(request);
  }

  const request = makeRequest({});

  // ------------------------------------------------------- request-promise

  class StatusCodeError extends Error {
    constructor(statusCode, body, options, response) {
      super(`${statusCode} - ${typeof body === 'string' ? body : JSON.stringify(body)}`);
      this.name = 'StatusCodeError';
      this.statusCode = statusCode;
      this.error = body;
      this.options = options;
      this.response = response;
    }
  }

  class RequestError extends Error {
    constructor(cause, options) {
      super(String(cause && cause.message ? cause.message : cause));
      this.name = 'RequestError';
      this.cause = cause;
      this.error = cause;
      this.options = options;
    }
  }

  function makeRequestPromise(defaults) {
    function rp(first, second) {
      const options = { ...defaults, ...requestOptions(first, second) };
      return send(options).then(
        (response) => {
          const simple = options.simple !== false;
          if (simple && !(response.statusCode >= 200 && response.statusCode < 300)) {
            throw new StatusCodeError(response.statusCode, response.body, options, response);
          }
          return options.resolveWithFullResponse ? response : response.body;
        },
        (error) => {
          throw new RequestError(error, options);
        },
      );
    }
    for (const [name, method] of [['get', 'GET'], ['head', 'HEAD'], ['post', 'POST'], ['put', 'PUT'], ['patch', 'PATCH'], ['del', 'DELETE'], ['delete', 'DELETE']]) {
      rp[name] = (first, second) => rp({ ...requestOptions(first, second), method });
    }
    rp.defaults = (more) => makeRequestPromise({ ...defaults, ...(isObject(more) ? more : {}) });
    rp.StatusCodeError = StatusCodeError;
    rp.RequestError = RequestError;
    return freeze(rp);
  }

  const requestPromise = makeRequestPromise({});

  // ---------------------------------------------------------- jsonwebtoken

  class JsonWebTokenError extends Error {
    constructor(message, inner) {
      super(message);
      this.name = 'JsonWebTokenError';
      if (inner) this.inner = inner;
    }
  }
  class TokenExpiredError extends JsonWebTokenError {
    constructor(message, expiredAt) {
      super(message);
      this.name = 'TokenExpiredError';
      this.expiredAt = expiredAt;
    }
  }
  class NotBeforeError extends JsonWebTokenError {
    constructor(message, date) {
      super(message);
      this.name = 'NotBeforeError';
      this.date = date;
    }
  }

  // `vercel/ms` durations: 60, "60", "2 days", "1d", "10h", "2.5 hrs", "1m", "5s", "1y".
  const UNITS = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31557600 };
  function seconds(value, what) {
    if (typeof value === 'number') return value;
    const match = /^(-?(?:\d+)?\.?\d+) *(milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|years?|yrs?|y)?$/i.exec(String(value).trim());
    if (match === null) throw new TypeError(`"${what}" should be a number of seconds or string representing a timespan`);
    const unit = (match[2] || 'ms').toLowerCase();
    const key = unit.startsWith('ms') || unit.startsWith('msec') || unit.startsWith('millisecond') ? 'ms' : unit[0];
    // A bare number in a string is milliseconds, as in `ms`.
    const factor = match[2] === undefined ? UNITS.ms : UNITS[key];
    return Math.floor(Number(match[1]) * factor);
  }

  const HASHES = { 256: 'SHA-256', 384: 'SHA-384', 512: 'SHA-512' };
  function algorithmOf(alg) {
    const match = /^(HS|RS|PS|ES)(256|384|512)$/.exec(String(alg));
    if (match === null || (match[1] === 'ES' && match[2] === '512')) return null;
    return { family: match[1], hash: HASHES[match[2]], bits: Number(match[2]) };
  }

  const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
  const fromB64url = (text) => Buffer.from(String(text), 'base64url');

  // DER bytes and the kind of a PEM text ("PUBLIC KEY", "CERTIFICATE", …).
  function pemBlock(text) {
    const match = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(text);
    if (match === null) return null;
    return { kind: match[1], der: Buffer.from(match[2].replace(/[^A-Za-z0-9+/=]/g, ''), 'base64') };
  }

  // One DER element at `at`: {tag, start (of content), end}.
  function derElement(der, at) {
    const tag = der[at];
    let length = der[at + 1];
    let start = at + 2;
    if (length & 0x80) {
      const count = length & 0x7f;
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + der[start + i];
      start += count;
    }
    if (start + length > der.length) throw new JsonWebTokenError('the key is not valid DER');
    return { tag, start, end: start + length, at };
  }

  // The SubjectPublicKeyInfo of an X.509 certificate.
  function spkiOfCertificate(der) {
    const certificate = derElement(der, 0);
    const tbs = derElement(der, certificate.start);
    let at = tbs.start;
    let element = derElement(der, at);
    if (element.tag === 0xa0) {
      at = element.end; // explicit version
      element = derElement(der, at);
    }
    // serialNumber, signature, issuer, validity, subject, then the key.
    for (let i = 0; i < 5; i++) {
      at = element.end;
      element = derElement(der, at);
    }
    return der.subarray(element.at, element.end);
  }

  // An RSA PKCS#1 public key wrapped as a SubjectPublicKeyInfo.
  function spkiOfRsaPublicKey(der) {
    const length = (n) => (n < 128 ? [n] : n < 256 ? [0x81, n] : [0x82, n >> 8, n & 255]);
    const algorithm = [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
    const bitString = [0x03, ...length(der.length + 1), 0x00, ...der];
    const body = [...algorithm, ...bitString];
    return Buffer.from([0x30, ...length(body.length), ...body]);
  }

  // The SPKI DER of a public key given as PEM (public key, RSA public key
  // or certificate), a Buffer of such text, or a KeyObject-like {spki}.
  function publicKeyDer(key) {
    if (key !== null && typeof key === 'object' && key.spki instanceof Uint8Array) return key.spki;
    const text = key instanceof Uint8Array ? Buffer.from(key).toString('utf8') : String(key);
    const block = pemBlock(text);
    if (block === null) throw new JsonWebTokenError('secretOrPublicKey must be a PEM public key or certificate for this algorithm');
    if (block.kind === 'PUBLIC KEY') return block.der;
    if (block.kind === 'CERTIFICATE') return spkiOfCertificate(block.der);
    if (block.kind === 'RSA PUBLIC KEY') return spkiOfRsaPublicKey(block.der);
    throw new JsonWebTokenError(`a ${block.kind} cannot verify a signature; give the public key or certificate`);
  }

  function privateKeyDer(key) {
    const text = key instanceof Uint8Array ? Buffer.from(key).toString('utf8') : String(key);
    const block = pemBlock(text);
    if (block === null || !/PRIVATE KEY$/.test(block.kind)) {
      throw new JsonWebTokenError('secretOrPrivateKey must be a PEM private key for asymmetric algorithms');
    }
    return block.der;
  }

  function secretBytes(secret) {
    if (secret instanceof Uint8Array) return secret;
    if (typeof secret === 'string') return Buffer.from(secret, 'utf8');
    throw new JsonWebTokenError('secretOrPublicKey must be a string or Buffer for HMAC algorithms');
  }

  function signatureOf(algorithm, input, key) {
    const data = Buffer.from(input, 'utf8');
    if (algorithm.family === 'HS') return Buffer.from(natives.hmac(algorithm.hash, secretBytes(key), data));
    if (typeof natives.sign !== 'function') throw new JsonWebTokenError(`signing with ${algorithm.family}${algorithm.bits} is not available in this engine`);
    const kind = algorithm.family === 'RS' ? 'RSASSA-PKCS1-v1_5' : algorithm.family === 'PS' ? 'RSA-PSS' : 'ECDSA';
    const salt = algorithm.family === 'PS' ? algorithm.bits / 8 : undefined;
    try {
      return Buffer.from(natives.sign(kind, algorithm.hash, privateKeyDer(key), data, salt));
    } catch (err) {
      throw err instanceof JsonWebTokenError ? err : new JsonWebTokenError(String(err && err.message ? err.message : err));
    }
  }

  function signatureValid(algorithm, input, signature, key) {
    const data = Buffer.from(input, 'utf8');
    if (algorithm.family === 'HS') {
      const mac = Buffer.from(natives.hmac(algorithm.hash, secretBytes(key), data));
      return mac.length === signature.length && nodeCrypto.timingSafeEqual(mac, signature);
    }
    const kind = algorithm.family === 'RS' ? 'RSASSA-PKCS1-v1_5' : algorithm.family === 'PS' ? 'RSA-PSS' : 'ECDSA';
    const salt = algorithm.family === 'PS' ? algorithm.bits / 8 : undefined;
    try {
      return natives.verify(kind, algorithm.hash, publicKeyDer(key), signature, data, salt);
    } catch (err) {
      throw err instanceof JsonWebTokenError ? err : new JsonWebTokenError(String(err && err.message ? err.message : err));
    }
  }

  function decode(token, options) {
    const opts = isObject(options) ? options : {};
    if (typeof token !== 'string') return null;
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    let header;
    let payload;
    try {
      header = JSON.parse(fromB64url(parts[0]).toString('utf8'));
      const text = fromB64url(parts[1]).toString('utf8');
      try {
        payload = JSON.parse(text);
      } catch (_) {
        payload = text;
      }
      if (opts.json && !isObject(payload)) return null;
    } catch (_) {
      return null;
    }
    return opts.complete ? { header, payload, signature: parts[2] } : payload;
  }

  const CLAIM_OPTIONS = [['audience', 'aud'], ['issuer', 'iss'], ['subject', 'sub'], ['jwtid', 'jti']];

  function sign(payload, secretOrPrivateKey, options, callback) {
    if (typeof options === 'function') {
      callback = options;
      options = {};
    }
    const opts = isObject(options) ? { ...options } : {};
    const run = () => {
      // Without `algorithm`: HS256, or RS256 / ES256 for a PEM private key
      // (jsonwebtoken would HMAC with the PEM text, or refuse).
      const pem = (typeof secretOrPrivateKey === 'string' ? secretOrPrivateKey : '').match(/-----BEGIN ([A-Z ]*)PRIVATE KEY-----/);
      const algorithm = opts.algorithm || (pem === null ? 'HS256' : pem[1] === 'EC ' ? 'ES256' : 'RS256');
      const alg = algorithmOf(algorithm);
      if (alg === null) throw new Error(`"algorithm" must be a valid string enum value (got ${algorithm})`);
      if (secretOrPrivateKey === undefined || secretOrPrivateKey === null || secretOrPrivateKey === '') {
        throw new Error('secretOrPrivateKey must have a value');
      }
      const isObjectPayload = isObject(payload);
      if (!isObjectPayload && typeof payload !== 'string' && !(payload instanceof Uint8Array)) {
        throw new Error('payload must be an object, a string or a Buffer');
      }
      const header = { alg: algorithm, typ: isObjectPayload ? 'JWT' : undefined, ...(opts.keyid ? { kid: opts.keyid } : {}), ...(isObject(opts.header) ? opts.header : {}) };
      if (header.typ === undefined) delete header.typ;
      let body = payload;
      if (isObjectPayload) {
        body = { ...payload };
        const now = typeof body.iat === 'number' ? body.iat : Math.floor(Date.now() / 1000);
        if (!opts.noTimestamp) body.iat = now;
        // jsonwebtoken 5's spellings.
        if (opts.expiresIn === undefined && opts.expiresInMinutes !== undefined) opts.expiresIn = Number(opts.expiresInMinutes) * 60;
        if (opts.expiresIn === undefined && opts.expiresInSeconds !== undefined) opts.expiresIn = Number(opts.expiresInSeconds);
        if (opts.expiresIn !== undefined) {
          if (body.exp !== undefined) throw new Error('Bad "options.expiresIn" option the payload already has an "exp" property.');
          body.exp = now + seconds(opts.expiresIn, 'expiresIn');
        }
        if (opts.notBefore !== undefined) {
          if (body.nbf !== undefined) throw new Error('Bad "options.notBefore" option the payload already has an "nbf" property.');
          body.nbf = now + seconds(opts.notBefore, 'notBefore');
        }
        for (const [option, claim] of CLAIM_OPTIONS) {
          if (opts[option] === undefined) continue;
          if (body[claim] !== undefined) throw new Error(`Bad "options.${option}" option. The payload already has an "${claim}" property.`);
          body[claim] = opts[option];
        }
      }
      const encodedPayload = payload instanceof Uint8Array ? b64url(payload) : b64url(typeof body === 'string' ? body : JSON.stringify(body));
      const input = `${b64url(JSON.stringify(header))}.${encodedPayload}`;
      return `${input}.${b64url(signatureOf(alg, input, secretOrPrivateKey))}`;
    };
    if (typeof callback !== 'function') return run();
    let token;
    try {
      token = run();
    } catch (err) {
      callback(err);
      return undefined;
    }
    callback(null, token);
    return undefined;
  }

  function matches(expected, actual) {
    const list = isArray(expected) ? expected : [expected];
    const values = isArray(actual) ? actual : [actual];
    return values.some((value) => list.some((e) => (e instanceof RegExp ? e.test(value) : e === value)));
  }

  function verify(token, secretOrPublicKey, options, callback) {
    if (typeof options === 'function') {
      callback = options;
      options = {};
    }
    const opts = isObject(options) ? options : {};
    const run = () => {
      if (typeof token !== 'string' || token === '') throw new JsonWebTokenError('jwt must be provided');
      const parts = token.split('.');
      if (parts.length !== 3) throw new JsonWebTokenError('jwt malformed');
      const decoded = decode(token, { complete: true });
      if (decoded === null) throw new JsonWebTokenError('invalid token');
      const { header, payload } = decoded;
      if (parts[2] === '') throw new JsonWebTokenError('jwt signature is required');
      if (secretOrPublicKey === undefined || secretOrPublicKey === null || secretOrPublicKey === '') {
        throw new JsonWebTokenError('secret or public key must be provided');
      }
      const key = secretOrPublicKey;
      const asymmetric = (typeof key === 'string' && key.includes('-----BEGIN')) || (key instanceof Uint8Array && Buffer.from(key).toString('utf8').includes('-----BEGIN'));
      const allowed = isArray(opts.algorithms) ? opts.algorithms
        : asymmetric ? ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384']
          : ['HS256', 'HS384', 'HS512'];
      if (!allowed.includes(header.alg)) throw new JsonWebTokenError('invalid algorithm');
      const alg = algorithmOf(header.alg);
      if (alg === null) throw new JsonWebTokenError('invalid algorithm');
      if (!signatureValid(alg, `${parts[0]}.${parts[1]}`, fromB64url(parts[2]), key)) throw new JsonWebTokenError('invalid signature');
      const now = typeof opts.clockTimestamp === 'number' ? opts.clockTimestamp : Math.floor(Date.now() / 1000);
      const tolerance = Number(opts.clockTolerance) || 0;
      if (isObject(payload)) {
        if (payload.nbf !== undefined && !opts.ignoreNotBefore) {
          if (typeof payload.nbf !== 'number') throw new JsonWebTokenError('invalid nbf value');
          if (payload.nbf > now + tolerance) throw new NotBeforeError('jwt not active', new Date(payload.nbf * 1000));
        }
        if (payload.exp !== undefined && !opts.ignoreExpiration) {
          if (typeof payload.exp !== 'number') throw new JsonWebTokenError('invalid exp value');
          if (now >= payload.exp + tolerance) throw new TokenExpiredError('jwt expired', new Date(payload.exp * 1000));
        }
        if (opts.audience !== undefined && !matches(opts.audience, payload.aud)) {
          throw new JsonWebTokenError(`jwt audience invalid. expected: ${[].concat(opts.audience).join(' or ')}`);
        }
        if (opts.issuer !== undefined && !matches(opts.issuer, payload.iss)) {
          throw new JsonWebTokenError(`jwt issuer invalid. expected: ${[].concat(opts.issuer).join(',')}`);
        }
        if (opts.subject !== undefined && payload.sub !== opts.subject) throw new JsonWebTokenError(`jwt subject invalid. expected: ${opts.subject}`);
        if (opts.jwtid !== undefined && payload.jti !== opts.jwtid) throw new JsonWebTokenError(`jwt jwtid invalid. expected: ${opts.jwtid}`);
        if (opts.nonce !== undefined && payload.nonce !== opts.nonce) throw new JsonWebTokenError(`jwt nonce invalid. expected: ${opts.nonce}`);
        if (opts.maxAge !== undefined) {
          if (typeof payload.iat !== 'number') throw new JsonWebTokenError('iat required when maxAge is specified');
          const latest = payload.iat + seconds(opts.maxAge, 'maxAge');
          if (now >= latest + tolerance) throw new TokenExpiredError('maxAge exceeded', new Date(latest * 1000));
        }
      }
      return opts.complete ? decoded : payload;
    };
    if (typeof callback !== 'function') return run();
    let result;
    try {
      result = run();
    } catch (err) {
      callback(err);
      return undefined;
    }
    callback(null, result);
    return undefined;
  }

  const jsonwebtoken = freeze({ sign, verify, decode, JsonWebTokenError, TokenExpiredError, NotBeforeError });

  // ---------------------------------------------------------- slack-notify
  //
  // `require('slack-notify')(webhookUrl)`: send, alert, bug, note, success
  // and extend, posting to the incoming webhook through `fetch`.

  function slackNotify(webhook) {
    const url = String(webhook || '');
    const post = (options, callback) => {
      const payload = typeof options === 'string' ? { text: options } : { ...(isObject(options) ? options : {}) };
      if (isObject(payload.fields)) {
        payload.attachments = [{ fallback: payload.text || '', fields: keys(payload.fields).map((title) => ({ title, value: String(payload.fields[title]), short: String(payload.fields[title]).length < 25 })) }];
        delete payload.fields;
      }
      const done = fetch(url, { method: 'POST', body: payload }).then((res) => res.text().then((text) => {
        if (!res.ok) throw new Error(`Slack answered ${res.status}: ${text}`);
        return text;
      }));
      if (typeof callback === 'function') done.then(() => callback(null), (err) => callback(err));
      else done.catch((err) => { if (typeof notifier.onError === 'function') notifier.onError(err); });
      return done;
    };
    const extend = (defaults) => (options, callback) => {
      const more = typeof options === 'string' ? { text: options } : (isObject(options) ? options : {});
      return post({ ...(isObject(defaults) ? defaults : {}), ...more }, callback);
    };
    const notifier = {
      send: post,
      extend,
      request: post,
      alert: extend({ icon_emoji: ':warning:', username: 'Alert' }),
      bug: extend({ icon_emoji: ':bomb:', username: 'Bug' }),
      note: extend({ icon_emoji: ':bulb:', username: 'Note' }),
      success: extend({ icon_emoji: ':trophy:', username: 'Hoorah' }),
      onError: null,
    };
    return notifier;
  }

  return freeze({
    url,
    uuid,
    'node-fetch': nodeFetch,
    request,
    'request-promise': requestPromise,
    'request-promise-native': requestPromise,
    jsonwebtoken,
    'slack-notify': slackNotify,
  });
})
