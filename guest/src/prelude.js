// The JavaScript side of the authpipe function contract.
//
// Evaluated once, before the user's source, when a function is compiled. It
// defines the globals a function may use (`env`, `log`, `console`, `utils`,
// `crypto`, `fetch`, `axios`, `require`, timers and the web-standard APIs of
// the `parts`: web.js, crypto.js and intl.js) and returns the entry points
// the engine calls per invocation.
// Everything it relies on is captured here, so user code that replaces
// `JSON` or `Object` cannot change how results are reported.
(function (natives, parts) {
  'use strict';

  const writeLog = natives.log;
  const randomBytes = natives.randomBytes;
  const stringify = JSON.stringify;
  const defineProperty = Object.defineProperty;
  const freeze = Object.freeze;
  const isArray = Array.isArray;
  // Guest-side cap on log output, to spare host calls; the host enforces its
  // own (smaller) cap and marks the cut regardless.
  const LOG_CAP_BYTES = 64 * 1024;
  const global = globalThis;

  // Log bytes written by the call in progress.
  let logBytes = 0;

  // Buffer, URL, inspect/format, atob/btoa, structuredClone, DOMException.
  const web = parts.web(natives);
  const { inspect, format } = web;

  // ---------------------------------------------------------------- logging

  // One value as `console.log` shows it (`util.inspect`, strings bare).
  function formatArg(value) {
    return typeof value === 'string' ? value : inspect(value);
  }

  // `console.log(...args)` formats like Node's `util.format`.
  function emit(level, args) {
    if (logBytes > LOG_CAP_BYTES) return;
    let message;
    try {
      message = args.length === 1 ? formatArg(args[0]) : format(...args);
    } catch (_) {
      message = '[the log arguments could not be formatted]';
    }
    logBytes += message.length + 32;
    writeLog(level, message);
  }

  const console = {
    log: (...args) => emit('info', args),
    info: (...args) => emit('info', args),
    warn: (...args) => emit('warn', args),
    error: (...args) => emit('error', args),
    debug: (...args) => emit('debug', args),
  };

  // -------------------------------------------------------------- ip utils

  function parseIpv4(text) {
    const parts = String(text).split('.');
    if (parts.length !== 4) return null;
    const bytes = [];
    for (const part of parts) {
      if (!/^\d{1,3}$/.test(part)) return null;
      const n = Number(part);
      if (n > 255) return null;
      bytes.push(n);
    }
    return bytes;
  }

  // Parses an IPv6 address (with `::` and an optional trailing IPv4 part)
  // into 16 bytes; IPv4 addresses become IPv4-mapped IPv6 addresses.
  function parseIp(text) {
    text = String(text).trim();
    const v4 = parseIpv4(text);
    if (v4) return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, ...v4];
    if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
    const zone = text.indexOf('%');
    if (zone >= 0) text = text.slice(0, zone);
    const halves = text.split('::');
    if (halves.length > 2) return null;
    const groups = (half) => {
      if (half === '') return [];
      const out = [];
      const items = half.split(':');
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        if (i === items.length - 1 && item.includes('.')) {
          const tail = parseIpv4(item);
          if (!tail) return null;
          out.push((tail[0] << 8) | tail[1], (tail[2] << 8) | tail[3]);
        } else {
          if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return null;
          out.push(parseInt(item, 16));
        }
      }
      return out;
    };
    const head = groups(halves[0]);
    const tail = halves.length === 2 ? groups(halves[1]) : [];
    if (!head || !tail) return null;
    let all;
    if (halves.length === 2) {
      const fill = 8 - head.length - tail.length;
      if (fill < 1) return null;
      all = [...head, ...new Array(fill).fill(0), ...tail];
    } else {
      all = head;
    }
    if (all.length !== 8) return null;
    const bytes = [];
    for (const g of all) bytes.push(g >> 8, g & 255);
    return bytes;
  }

  function compareBytes(a, b) {
    for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
    return 0;
  }

  const utils = freeze({
    // True when `ip` lies within [start, end] (inclusive), IPv4 or IPv6.
    ipRangeCheck(ip, range) {
      if (!isArray(range) || range.length !== 2) {
        throw new TypeError('utils.ipRangeCheck(ip, [start, end]): range must be a two-element array');
      }
      const [x, lo, hi] = [parseIp(ip), parseIp(range[0]), parseIp(range[1])];
      if (!x || !lo || !hi) return false;
      return compareBytes(x, lo) >= 0 && compareBytes(x, hi) <= 0;
    },
    // True when `ip` lies within `cidr` ("10.0.0.0/8", "2001:db8::/32").
    ipInCidr(ip, cidr) {
      const text = String(cidr);
      const slash = text.lastIndexOf('/');
      const base = parseIp(slash >= 0 ? text.slice(0, slash) : text);
      const x = parseIp(ip);
      if (!base || !x) return false;
      const isV4 = parseIpv4(slash >= 0 ? text.slice(0, slash) : text) !== null;
      const prefix = slash >= 0 ? text.slice(slash + 1) : '';
      if (slash >= 0 && !/^\d{1,3}$/.test(prefix)) return false;
      let bits = slash >= 0 ? Number(prefix) : (isV4 ? 32 : 128);
      if (bits > (isV4 ? 32 : 128)) return false;
      if (isV4) bits += 96;
      for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
        const mask = bits >= 8 ? 255 : (0xff << (8 - bits)) & 255;
        if ((x[i] & mask) !== (base[i] & mask)) return false;
      }
      return true;
    },
  });

  // ----------------------------------------------------------------- crypto

  // ------------------------------------------- randomness at compile time
  //
  // Top-level code runs once, when the function is compiled, and the
  // snapshot keeps what it computed: a random value drawn there is the same
  // on every call. Such calls are reported as compile warnings.

  let compiling = true;
  const compileWarnings = [];
  const MAX_COMPILE_WARNINGS = 10;

  // `FILE:LINE:COL: ` of the innermost frame of the user's code, or ''.
  function userPosition() {
    const stack = new Error().stack;
    if (typeof stack !== 'string') return '';
    for (const line of stack.split('\n')) {
      if (line.includes('authpipe:prelude')) continue;
      const match = /\(([^()]*:\d+(?::\d+)?)\)\s*$/.exec(line) || /at ([^ ()]+:\d+(?::\d+)?)\s*$/.exec(line);
      if (match) return `${match[1]}: `;
    }
    return '';
  }

  // Records `FILE:LINE:COL: top-level code <what>` once.
  function noteCompileTime(what) {
    if (!compiling || compileWarnings.length >= MAX_COMPILE_WARNINGS) return;
    const warning = `${userPosition()}top-level code ${what}`;
    if (!compileWarnings.includes(warning)) compileWarnings.push(warning);
  }

  function noteTopLevelRandom(what) {
    if (!compiling) return;
    noteCompileTime(`calls ${what} while the function is compiled, `
      + 'so its value is fixed in the snapshot and the same on every call; call it inside pipe instead');
  }

  const mathRandom = Math.random;
  const compileTimeRandom = function random() {
    noteTopLevelRandom('Math.random()');
    return mathRandom();
  };
  defineProperty(Math, 'random', { value: compileTimeRandom, writable: true, enumerable: false, configurable: true });

  // Web Crypto (`crypto`, `crypto.subtle`) and Node's `require('crypto')`.
  const cryptoApi = parts.crypto(natives, {
    Buffer: web.Buffer,
    DOMException: web.DOMException,
    noteRandom: noteTopLevelRandom,
  });
  const crypto = cryptoApi.crypto;

  // Intl (en-US) and Date/Number toLocale*String over it.
  const intl = parts.intl(natives);
  intl.installDateMethods();

  // ------------------------------------------------------------------ fetch
  //
  // `fetch` hands one JSON request to the host, which answers it (or ends
  // the call, for a URL outside the allow-list) before returning. The
  // promise is settled by then; `await` still yields as usual.

  const hostFetch = natives.fetch;
  const parseJson = JSON.parse;
  const keys = Object.keys;
  const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
  const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  const HEADER_VALUE_FORBIDDEN = /[\r\n\0]/;

  function headerName(name) {
    const text = String(name);
    if (!HEADER_NAME.test(text)) throw new TypeError(`fetch: invalid header name ${stringify(text)}`);
    return text.toLowerCase();
  }

  function headerValue(value) {
    const text = String(value);
    if (HEADER_VALUE_FORBIDDEN.test(text)) throw new TypeError('fetch: a header value must not contain CR, LF or NUL');
    return text.trim();
  }

  class Headers {
    #list = [];

    constructor(init) {
      if (init === undefined || init === null) return;
      if (init instanceof Headers) {
        init.forEach((value, name) => this.append(name, value));
      } else if (isArray(init)) {
        for (const pair of init) {
          if (!isArray(pair) || pair.length !== 2) throw new TypeError('fetch: headers must be [name, value] pairs');
          this.append(pair[0], pair[1]);
        }
      } else if (typeof init === 'object') {
        for (const name of keys(init)) {
          if (init[name] !== undefined) this.append(name, init[name]);
        }
      } else {
        throw new TypeError('fetch: headers must be an object, an array of [name, value] pairs or a Headers');
      }
    }

    append(name, value) {
      this.#list.push([headerName(name), headerValue(value)]);
    }

    set(name, value) {
      const key = headerName(name);
      this.#list = this.#list.filter((pair) => pair[0] !== key);
      this.#list.push([key, headerValue(value)]);
    }

    get(name) {
      const key = String(name).toLowerCase();
      const values = this.#list.filter((pair) => pair[0] === key).map((pair) => pair[1]);
      return values.length === 0 ? null : values.join(', ');
    }

    has(name) {
      const key = String(name).toLowerCase();
      return this.#list.some((pair) => pair[0] === key);
    }

    delete(name) {
      const key = String(name).toLowerCase();
      this.#list = this.#list.filter((pair) => pair[0] !== key);
    }

    // Names in order of first appearance, each with its values combined.
    *entries() {
      const seen = [];
      for (const pair of this.#list) {
        if (!seen.includes(pair[0])) {
          seen.push(pair[0]);
          yield [pair[0], this.get(pair[0])];
        }
      }
    }

    *keys() {
      for (const pair of this.entries()) yield pair[0];
    }

    *values() {
      for (const pair of this.entries()) yield pair[1];
    }

    forEach(fn, thisArg) {
      for (const pair of this.entries()) fn.call(thisArg, pair[1], pair[0], this);
    }

    [Symbol.iterator]() {
      return this.entries();
    }

    // The pairs as sent to the host.
    static pairs(headers) {
      return headers.#list.slice();
    }

    // Headers of a host response: already lower-case and valid.
    static fromHost(pairs) {
      const headers = new Headers();
      if (isArray(pairs)) headers.#list = pairs;
      return headers;
    }
  }

  class Response {
    #body;

    // `new Response(body, {status, statusText, headers})`, as in browsers;
    // responses of `fetch` come from `Response.fromHost`.
    constructor(body, init) {
      const options = init === undefined || init === null ? {} : init;
      this.status = options.status === undefined ? 200 : Number(options.status);
      this.statusText = options.statusText === undefined ? '' : String(options.statusText);
      this.ok = this.status >= 200 && this.status < 300;
      this.url = '';
      this.redirected = false;
      this.headers = new Headers(options.headers);
      this.bodyUsed = false;
      this.#body = body === undefined || body === null ? '' : String(body);
    }

    // A response as the host reports it.
    static fromHost(raw) {
      const response = new Response(raw.body, { status: raw.status, statusText: raw.status_text || '' });
      response.url = raw.url;
      response.redirected = raw.redirected === true;
      response.headers = Headers.fromHost(raw.headers);
      return response;
    }

    static json(data, init) {
      const options = init === undefined || init === null ? {} : init;
      const headers = new Headers(options.headers);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      return new Response(stringify(data), { ...options, headers });
    }

    #consume() {
      if (this.bodyUsed) return Promise.reject(new TypeError('fetch: the response body was already read'));
      this.bodyUsed = true;
      return Promise.resolve(this.#body);
    }

    text() {
      return this.#consume();
    }

    json() {
      return this.#consume().then((text) => parseJson(text));
    }

    clone() {
      if (this.bodyUsed) throw new TypeError('fetch: cannot clone a response whose body was read');
      const copy = new Response(this.#body, { status: this.status, statusText: this.statusText, headers: this.headers });
      copy.url = this.url;
      copy.redirected = this.redirected;
      return copy;
    }
  }

  function fetch(resource, init) {
    return new Promise((resolve) => {
      const options = init === undefined || init === null ? {} : init;
      const url = resource !== null && typeof resource === 'object' && typeof resource.url === 'string'
        ? resource.url
        : String(resource);
      const method = options.method === undefined ? 'GET' : String(options.method).toUpperCase();
      const headers = new Headers(options.headers);
      let body = options.body === undefined || options.body === null ? null : options.body;
      if (body !== null) {
        if (method === 'GET' || method === 'HEAD') throw new TypeError(`fetch: a ${method} request cannot have a body`);
        if (typeof body === 'string') {
          if (!headers.has('content-type')) headers.set('content-type', 'text/plain;charset=UTF-8');
        } else if (isArray(body) || Object.getPrototypeOf(body) === Object.prototype || Object.getPrototypeOf(body) === null) {
          // A plain object or array is sent as JSON.
          body = stringify(body);
          if (!headers.has('content-type')) headers.set('content-type', 'application/json');
        } else {
          throw new TypeError('fetch: the body must be a string, or a plain object or array to send as JSON');
        }
      }
      const raw = hostFetch({ method, url, headers: Headers.pairs(headers), body });
      if (raw === null) {
        throw new TypeError('fetch is not available here: only the authpipe host answers it (not a stock WASI runtime, nor top-level code at compile time)');
      }
      if (raw.error !== undefined) throw new TypeError(raw.error);
      resolve(Response.fromHost(raw));
    });
  }

  // ------------------------------------------------------------ querystring

  function queryValue(value) {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' && isFinite(value)) return String(value);
    if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
    return '';
  }

  function queryDecode(text) {
    const spaced = text.replace(/\+/g, ' ');
    try {
      return decodeURIComponent(spaced);
    } catch (_) {
      return spaced;
    }
  }

  const querystring = freeze({
    stringify(object, sep = '&', eq = '=') {
      if (object === null || typeof object !== 'object') return '';
      const parts = [];
      for (const key of keys(object)) {
        const name = encodeURIComponent(queryValue(key));
        const value = object[key];
        if (isArray(value)) {
          for (const item of value) parts.push(name + eq + encodeURIComponent(queryValue(item)));
        } else {
          parts.push(name + eq + encodeURIComponent(queryValue(value)));
        }
      }
      return parts.join(sep);
    },
    parse(text, sep = '&', eq = '=') {
      const out = Object.create(null);
      if (typeof text !== 'string' || text === '') return out;
      for (const part of text.split(sep)) {
        if (part === '') continue;
        const at = part.indexOf(eq);
        const key = queryDecode(at >= 0 ? part.slice(0, at) : part);
        const value = at >= 0 ? queryDecode(part.slice(at + eq.length)) : '';
        if (!(key in out)) out[key] = value;
        else if (isArray(out[key])) out[key].push(value);
        else out[key] = [out[key], value];
      }
      return out;
    },
    escape: (text) => encodeURIComponent(String(text)),
    unescape: (text) => queryDecode(String(text)),
  });

  // ------------------------------------------------------------------ axios
  //
  // The subset of axios that pipeline functions use, on top of `fetch`:
  // resolves `{ data, status, statusText, headers, config }`, rejects on a
  // status outside 2xx (or `validateStatus`) with `error.response` set.

  function axiosError(message, config, response, code) {
    const error = new Error(message);
    error.name = 'AxiosError';
    error.isAxiosError = true;
    error.code = code;
    error.config = config;
    if (response !== undefined) {
      error.response = response;
      error.status = response.status;
    }
    return error;
  }

  function plainHeaders(headers) {
    const out = {};
    if (headers instanceof Headers) {
      headers.forEach((value, name) => { out[name] = value; });
    } else if (headers !== null && typeof headers === 'object') {
      for (const name of keys(headers)) {
        const value = headers[name];
        if (value !== undefined && value !== null && typeof value !== 'object') out[name] = value;
      }
    }
    return out;
  }

  // Query parameters as axios writes them: null and undefined skipped,
  // arrays as `key[]`, dates as ISO text, objects as JSON.
  function axiosParams(params) {
    if (params === null || typeof params !== 'object') return '';
    const parts = [];
    const add = (key, value) => {
      if (value === null || value === undefined) return;
      let text;
      if (value instanceof Date) text = value.toISOString();
      else if (typeof value === 'object') text = stringify(value);
      else text = String(value);
      parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(text)}`);
    };
    for (const key of keys(params)) {
      const value = params[key];
      if (isArray(value)) {
        for (const item of value) add(`${key}[]`, item);
      } else {
        add(key, value);
      }
    }
    return parts.join('&');
  }

  // The headers of one request: `defaults.headers.common`, then the
  // method's defaults, then flat defaults, then the request's own.
  function requestHeaders(defaults, given, method) {
    const base = defaults.headers || {};
    return {
      ...plainHeaders(base.common),
      ...plainHeaders(base[method.toLowerCase()]),
      ...plainHeaders(base),
      ...plainHeaders(given.headers),
    };
  }

  function joinUrl(base, url) {
    if (typeof base !== 'string' || base === '' || /^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url;
    return `${base.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`;
  }

  async function axiosRequest(defaults, given) {
    const method = String(given.method || defaults.method || 'get').toUpperCase();
    const config = { ...defaults, ...given, headers: requestHeaders(defaults, given, method) };
    if (typeof config.url !== 'string' || config.url === '') {
      throw axiosError('axios: the request needs a url', config, undefined, 'ERR_BAD_OPTION');
    }
    let url = joinUrl(config.baseURL, config.url);
    const query = axiosParams(config.params);
    if (query !== '') url += (url.includes('?') ? '&' : '?') + query;
    const headers = new Headers(config.headers);
    if (!headers.has('accept')) headers.set('accept', 'application/json, text/plain, */*');
    let body;
    if (config.data !== undefined && config.data !== null && method !== 'GET' && method !== 'HEAD') {
      if (typeof config.data === 'string') {
        body = config.data;
        if (!headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded');
      } else {
        body = stringify(config.data);
        if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      }
    }
    let res;
    try {
      res = await fetch(url, { method, headers, body });
    } catch (err) {
      throw axiosError(errorMessage(err), config, undefined, 'ERR_NETWORK');
    }
    const text = await res.text();
    let data = text;
    if (config.responseType !== 'text' && text !== '') {
      try {
        data = parseJson(text);
      } catch (_) {
        data = text;
      }
    }
    const response = { data, status: res.status, statusText: res.statusText, headers: plainHeaders(res.headers), config, request: { url: res.url } };
    const validate = config.validateStatus === undefined ? (status) => status >= 200 && status < 300 : config.validateStatus;
    if (validate === null || validate(res.status)) return response;
    throw axiosError(`Request failed with status code ${res.status}`, config, response,
      res.status >= 500 ? 'ERR_BAD_RESPONSE' : 'ERR_BAD_REQUEST');
  }

  // `defaults.headers`: shared (`common`) and per-method header maps.
  function axiosHeaderDefaults() {
    return { common: {}, get: {}, post: {}, put: {}, patch: {}, delete: {}, head: {} };
  }

  function makeAxios(defaults) {
    const instance = (urlOrConfig, config) => (typeof urlOrConfig === 'string'
      ? axiosRequest(defaults, { ...config, url: urlOrConfig })
      : axiosRequest(defaults, urlOrConfig || {}));
    instance.request = (config) => axiosRequest(defaults, config || {});
    for (const method of ['get', 'delete', 'head', 'options']) {
      instance[method] = (url, config) => axiosRequest(defaults, { ...config, method, url });
    }
    for (const method of ['post', 'put', 'patch']) {
      instance[method] = (url, data, config) => axiosRequest(defaults, { ...config, method, url, data });
    }
    instance.create = (more) => {
      const given = more || {};
      const headers = axiosHeaderDefaults();
      for (const source of [defaults.headers || {}, given.headers || {}]) {
        for (const name of keys(source)) {
          const value = source[name];
          if (value !== null && typeof value === 'object') headers[name] = { ...headers[name], ...value };
          else if (value !== undefined) headers[name] = value;
        }
      }
      return makeAxios({ ...defaults, ...given, headers });
    };
    instance.defaults = defaults;
    instance.isAxiosError = (value) => value !== null && typeof value === 'object' && value.isAxiosError === true;
    return freeze(instance);
  }

  const axios = makeAxios({ headers: axiosHeaderDefaults() });

  // ---------------------------------------------------------------- require

  // The npm modules of Auth0 rules and actions (modules.js), made when
  // first required: at compile time when the source names them (see
  // `preload`), so functions that do not use them do not carry them.
  let npmModules = null;
  function npm() {
    if (npmModules === null) {
      npmModules = natives.loadPart('modules')(natives, {
        fetch,
        Headers,
        Response,
        querystring,
        Buffer: web.Buffer,
        URL: web.URL,
        URLSearchParams: web.URLSearchParams,
        nodeCrypto: cryptoApi.nodeCrypto,
      });
    }
    return npmModules;
  }

  // The module tables, made on the first `require` (after everything the
  // calls use is allocated: objects a call touches stay close together in
  // the heap, which keeps the pages a call dirties few and contiguous).
  let moduleTables = null;
  function tables() {
    if (moduleTables !== null) return moduleTables;
    const bufferModule = freeze({ Buffer: web.Buffer, atob: web.atob, btoa: web.btoa });
    const utilModule = freeze({ inspect, format, TextEncoder: global.TextEncoder, TextDecoder: global.TextDecoder });
    // Node's core modules (also with the `node:` prefix), as functions that
    // give them.
    const coreModules = freeze({
      querystring: () => querystring,
      crypto: () => cryptoApi.nodeCrypto,
      buffer: () => bufferModule,
      url: () => npm().url,
      util: () => utilModule,
    });
    // npm packages, with the major versions a pinned name (`lodash@4.17.21`)
    // may ask for: authpipe's own implementations of their APIs, and the
    // real lodash, moment and moment-timezone, loaded by the engine
    // (`bundled`) when first required (at compile time when the source names
    // them, so a call pays nothing).
    const packages = freeze({
      './utils': { module: utils, majors: null },
      utils: { module: utils, majors: null },
      axios: { module: axios, majors: [0, 1] },
      request: { npm: 'request', majors: [2] },
      'request-promise': { npm: 'request-promise', majors: [4] },
      'request-promise-native': { npm: 'request-promise-native', majors: [1] },
      'node-fetch': { npm: 'node-fetch', majors: [2] },
      uuid: { npm: 'uuid', majors: [3, 7, 8, 9] },
      jsonwebtoken: { npm: 'jsonwebtoken', majors: [5, 7, 8, 9] },
      lodash: { bundled: '4.17.21', majors: [4] },
      'ipaddr.js': { bundled: '2.2.0', majors: [0, 1, 2] },
      'slack-notify': { npm: 'slack-notify', majors: [0, 1, 2] },
      moment: { bundled: '2.30.1', majors: [2] },
      'moment-timezone': { bundled: '0.5.46', majors: [0] },
    });
    // Paths inside packages that rules use.
    const subpaths = freeze({
      'uuid/v4': () => npm().uuid.v4,
    });
    const loaded = Object.create(null);
    const AVAILABLE_MODULES = "Node's querystring, crypto, buffer, url and util, and the packages "
      + keys(packages).filter((name) => name !== 'utils').join(', ');
    moduleTables = { coreModules, packages, subpaths, loaded, AVAILABLE_MODULES };
    return moduleTables;
  }

  // `lodash@4.17.21` → ['lodash', 4]; a scoped `@x/y@1` keeps its `@`.
  function splitVersion(given) {
    const at = given.indexOf('@', 1);
    if (at < 0) return [given, null];
    const major = Number.parseInt(given.slice(at + 1).replace(/^[\^~=v]+/, ''), 10);
    return [given.slice(0, at), Number.isNaN(major) ? null : major];
  }

  function loadBundled(name) {
    const { loaded } = tables();
    if (name in loaded) return loaded[name];
    const module = { exports: {} };
    const factory = natives.loadBundled(name);
    factory.call(module.exports, module.exports, require, module, `/node_modules/${name}/index.js`, `/node_modules/${name}`, global, global);
    loaded[name] = module.exports;
    return module.exports;
  }

  function require(name) {
    const { coreModules, packages, subpaths, AVAILABLE_MODULES } = tables();
    const given = String(name);
    const plain = given.startsWith('node:') ? given.slice(5) : given;
    const [bare, major] = splitVersion(plain);
    // `url@0.10.3` and the like: npm ports of Node's core modules.
    if (hasOwn(coreModules, bare)) return coreModules[bare]();
    if (hasOwn(subpaths, bare)) return subpaths[bare]();
    const slash = bare.indexOf('/');
    if (slash > 0 && bare.slice(0, slash) === 'lodash') {
      const method = bare.slice(slash + 1);
      const lodash = require('lodash');
      if (typeof lodash[method] === 'function') return lodash[method];
    }
    if (!hasOwn(packages, bare)) {
      throw new Error(`Cannot find module '${given}': authpipe functions can require ${AVAILABLE_MODULES}`);
    }
    const entry = packages[bare];
    if (major !== null && entry.majors !== null && !entry.majors.includes(major)) {
      const offered = entry.bundled !== undefined ? `${bare} ${entry.bundled}` : `the ${bare} API of major version ${entry.majors.join(', ')}`;
      throw new Error(`Cannot find module '${given}': authpipe bundles ${offered}, not major version ${major}`);
    }
    if (entry.bundled !== undefined) return loadBundled(bare);
    return entry.npm !== undefined ? npm()[entry.npm] : entry.module;
  }

  // Loads what `source` requires by name, at compile time: the bundled
  // packages and authpipe's npm modules are then in the snapshot, and a
  // call pays nothing to require them.
  function preload(source) {
    if (!source.includes('require')) return;
    const pattern = /require\s*\(\s*(['"`])([^'"`]+)\1\s*\)/g;
    let match;
    while ((match = pattern.exec(source)) !== null) {
      try {
        require(match[2]);
      } catch (_) {
        // Reported when the function's own require runs.
      }
    }
  }

  // ----------------------------------------------------------------- timers
  //
  // Timers really wait: when the job queue is empty and the function has
  // not decided yet, the engine sleeps until the next timer is due (the
  // host ends the call at its deadline, so no timer outlives the timeout)
  // and runs the due ones. Once the function has decided, pending timers
  // are dropped with the call.

  const dateNow = Date.now;
  const timers = new Map();
  let nextTimerId = 1;

  function addTimer(fn, delay, args, repeat) {
    if (typeof fn !== 'function') {
      throw new TypeError(`The "callback" argument must be of type function. Received ${formatArg(fn)}`);
    }
    if (compiling) {
      noteCompileTime('sets a timer while the function is compiled; timers only run during a call, so this one never fires');
      return 0;
    }
    let ms = Number(delay);
    if (!(ms >= 1 && ms <= 2147483647)) ms = repeat ? 1 : 0;
    const id = nextTimerId++;
    timers.set(id, { fn, args, ms: Math.trunc(ms), due: dateNow() + Math.trunc(ms), repeat });
    return id;
  }

  const timerId = (id) => (id !== null && typeof id === 'object' ? Number(id[Symbol.toPrimitive] ? id[Symbol.toPrimitive]() : id.id) : Number(id));
  const setTimeout = (fn, delay, ...args) => addTimer(fn, delay, args, false);
  const setInterval = (fn, delay, ...args) => addTimer(fn, delay, args, true);
  const clearTimeout = (id) => { timers.delete(timerId(id)); };
  const clearInterval = clearTimeout;
  const queueMicrotask = (fn) => {
    if (typeof fn !== 'function') throw new TypeError('queueMicrotask: the callback must be a function');
    Promise.resolve().then(() => fn());
  };

  // Milliseconds until the next timer is due, or -1 when the engine should
  // not wait (no timers, or the outcome is decided).
  function nextTimerDelay() {
    if (decided || timers.size === 0) return -1;
    let due = Infinity;
    for (const timer of timers.values()) if (timer.due < due) due = timer.due;
    return Math.max(0, due - dateNow());
  }

  // Runs the timers that are due, in the order they fell due.
  function runTimers() {
    const now = dateNow();
    const due = [];
    for (const [id, timer] of timers) if (timer.due <= now) due.push([id, timer]);
    due.sort((a, b) => a[1].due - b[1].due || a[0] - b[0]);
    for (const [id, timer] of due) {
      if (decided) return;
      if (!timers.has(id)) continue; // cleared by an earlier callback
      if (timer.repeat) timer.due = now + timer.ms;
      else timers.delete(id);
      try {
        timer.fn(...timer.args);
      } catch (err) {
        // As in Node, an exception thrown by a timer callback is uncaught:
        // the call fails with it.
        failed(err, 'threw in a timer callback');
        return;
      }
    }
  }

  // An unhandled promise rejection (other than pipe's own) is a warning.
  function warnRejection(reason) {
    emit('warn', ['Unhandled promise rejection:', reason]);
  }

  const readOnly = (name, value) =>
    defineProperty(global, name, { value, writable: false, enumerable: false, configurable: true });
  readOnly('log', (...args) => emit('info', args));
  readOnly('console', freeze(console));
  readOnly('utils', utils);
  readOnly('crypto', crypto);
  readOnly('CryptoKey', cryptoApi.CryptoKey);
  readOnly('SubtleCrypto', cryptoApi.SubtleCrypto);
  readOnly('Intl', intl.Intl);
  readOnly('Buffer', web.Buffer);
  readOnly('atob', web.atob);
  readOnly('btoa', web.btoa);
  readOnly('structuredClone', web.structuredClone);
  readOnly('URL', web.URL);
  readOnly('URLSearchParams', web.URLSearchParams);
  readOnly('DOMException', web.DOMException);
  readOnly('setTimeout', setTimeout);
  readOnly('clearTimeout', clearTimeout);
  readOnly('setInterval', setInterval);
  readOnly('clearInterval', clearInterval);
  readOnly('queueMicrotask', queueMicrotask);
  readOnly('fetch', fetch);
  readOnly('Headers', Headers);
  readOnly('Response', Response);
  readOnly('axios', axios);
  readOnly('require', require);
  // `env` is built from this call's WASI environment on first access only.
  // At compile time there is no call and so no environment: top-level code
  // sees an empty `env` (and a warning), and nothing is kept for the calls.
  let envObject;
  defineProperty(global, 'env', {
    get() {
      if (compiling) {
        noteCompileTime('reads env, which is empty then; read env inside pipe');
        return natives.env();
      }
      if (envObject === undefined) envObject = natives.env();
      return envObject;
    },
    enumerable: false,
    configurable: false,
  });

  // ------------------------------------------------------------ invocation
  //
  // Every call runs on a fresh copy of the snapshot, so the state below
  // starts out exactly as initialised here, and the callback and the user
  // helpers are created once, at compile time, not on every call.
  //
  // The outcome goes to the engine the moment it is decided: `hostAllow`
  // serialises user, context, claims and custom data right then, and
  // `hostRefuse` records an error. Nothing the function does afterwards (a
  // second callback, a new `Object.prototype.toJSON`, changing `user`) can
  // alter the result.

  const hostAllow = natives.allow;
  const hostRefuse = natives.refuse;
  const create = Object.create;

  let decided = false;
  let settled = false;
  let currentUser = null;
  let currentContext = null;
  // Claims and custom data, on objects without a prototype so that no key
  // (not even `__proto__`) is special.
  const idTokenClaims = create(null);
  const accessTokenClaims = create(null);
  const customData = create(null);
  // The result's `auth0` section (Auth0 flavours): null while empty.
  let auth0Section = null;

  // Auth0 Rules and Actions (auth0.js): globals and adapters, made for
  // Auth0-flavoured functions only.
  let auth0Adapters = null;
  function auth0() {
    if (auth0Adapters === null) {
      auth0Adapters = natives.loadPart('auth0')(natives, {
        env: () => global.env,
        idTokenClaims,
        accessTokenClaims,
        setAuth0: (section) => { auth0Section = section; },
        Buffer: web.Buffer,
        nodeCrypto: cryptoApi.nodeCrypto,
        querystring,
      });
    }
    return auth0Adapters;
  }
  // What `run` calls: null for `pipe` (Authing), else an Auth0 adapter;
  // and how messages name the function.
  let entry = null;
  let entryName = 'pipe';

  const isObject = (v) => v !== null && typeof v === 'object' && !isArray(v);

  function errorMessage(err) {
    if (err !== null && typeof err === 'object' && typeof err.message === 'string' && err.message !== '') {
      return err.message;
    }
    return String(err);
  }

  // `errorMessage`, for values whose getters or `toString` may throw.
  function safeMessage(err) {
    try {
      return String(errorMessage(err));
    } catch (_) {
      return 'the error value could not be converted to text';
    }
  }

  function exceptionError(err) {
    const message = err instanceof Error ? String(err) : `Uncaught ${formatArg(err)}`;
    const error = { kind: 'exception', message, stack: null };
    if (err instanceof Error && typeof err.stack === 'string' && err.stack !== '') {
      // Frames of the prelude are authpipe's, not the function's.
      const frames = err.stack.split('\n').filter((line) => line !== '' && !line.includes('authpipe:prelude'));
      if (frames.length > 0) error.stack = frames.join('\n');
    }
    if (/Maximum call stack size exceeded|stack overflow/i.test(message)) error.kind = 'stack_overflow';
    return error;
  }

  function warn(message) {
    emit('warn', [message]);
  }

  function callback(err, user, context) {
    if (decided) {
      warn('callback was called more than once; the first call wins and this one is ignored');
      return;
    }
    decided = true;
    if (err) {
      // What an Auth0 rule or action asked to store stays in the result.
      hostRefuse('denied', safeMessage(err), null, auth0Section === null ? null : auth0().askedJson());
      return;
    }
    const nextUser = user === undefined || user === null ? currentUser : user;
    const nextContext = context === undefined || context === null ? currentContext : context;
    // isObject, written out: this runs on every call, and a call of a
    // small JS function costs about as much as everything else here.
    if (nextUser === null || typeof nextUser !== 'object' || isArray(nextUser)
        || nextContext === null || typeof nextContext !== 'object' || isArray(nextContext)) {
      hostRefuse('invalid_output', 'callback(null, user, context) needs objects for user and context', null);
      return;
    }
    hostAllow(nextUser, nextContext, idTokenClaims, accessTokenClaims, customData, auth0Section);
  }

  // `pipe` threw (`how` = 'threw') or its promise rejected ('rejected').
  function failed(err, how) {
    settled = true;
    if (decided) {
      warn(`pipe ${how} after calling back: ${safeMessage(err)}`);
      return;
    }
    decided = true;
    let error;
    try {
      error = exceptionError(err);
    } catch (_) {
      error = { kind: 'exception', message: `pipe ${how}, and the error could not be read`, stack: null };
    }
    hostRefuse(error.kind, error.message, error.stack);
  }

  function claimKey(k, what) {
    if (typeof k !== 'string' || k === '') throw new TypeError(`${what}: the key must be a non-empty string`);
    return k;
  }

  // The user helpers live on a prototype inserted under the input's `user`
  // object: methods are there to call, but never serialised as fields.
  // Input fields with a helper's name are moved aside by the engine (under
  // the symbols below) so they cannot hide the helper, and are written back
  // under their own name in the result.
  const HELPER_NAMES = ['addIdToken', 'removeIdToken', 'addAccessToken', 'removeAccessToken', 'addCustomData', 'addToken'];
  const shadowKeys = HELPER_NAMES.map((name) => [name, Symbol(name)]);
  const userHelpers = create(Object.prototype);
  const method = (name, fn) => defineProperty(userHelpers, name, { value: fn, enumerable: false, configurable: false, writable: false });
  // The key check is written out in each helper (not a call of claimKey):
  // a call of a small JS function costs more than the helper itself.
  method('addIdToken', function addIdToken(k, v) {
    if (typeof k !== 'string' || k === '') claimKey(k, 'addIdToken');
    idTokenClaims[k] = v;
  });
  method('removeIdToken', function removeIdToken(k) {
    if (typeof k !== 'string' || k === '') claimKey(k, 'removeIdToken');
    delete idTokenClaims[k];
  });
  method('addAccessToken', function addAccessToken(k, v) {
    if (typeof k !== 'string' || k === '') claimKey(k, 'addAccessToken');
    accessTokenClaims[k] = v;
  });
  method('removeAccessToken', function removeAccessToken(k) {
    if (typeof k !== 'string' || k === '') claimKey(k, 'removeAccessToken');
    delete accessTokenClaims[k];
  });
  method('addCustomData', function addCustomData(k, v) {
    if (typeof k !== 'string' || k === '') claimKey(k, 'addCustomData');
    customData[k] = v;
  });
  // Authing's deprecated name for addIdToken.
  method('addToken', function addToken(k, v) {
    if (typeof k !== 'string' || k === '') claimKey(k, 'addToken');
    idTokenClaims[k] = v;
  });
  freeze(userHelpers);
  const setPrototypeOf = Object.setPrototypeOf;

  function onRejected(err) {
    failed(err, 'rejected');
  }

  function onFulfilled() {
    settled = true;
  }

  // How `pipe`'s call ended. For a native promise the engine reads its
  // state directly after the job queue drains (`rejected` is a boolean);
  // otherwise (`rejected` is null) `value` is what `pipe` returned, and a
  // foreign thenable is chained.
  function settle(rejected, value) {
    if (rejected === null) {
      if (value !== null && typeof value === 'object' && typeof value.then === 'function') {
        value.then(onFulfilled, onRejected);
      } else {
        settled = true;
      }
    } else if (rejected) {
      onRejected(value);
    } else {
      onFulfilled();
    }
  }

  function copyInto(target, source) {
    if (!isObject(source)) return;
    for (const key of keys(source)) target[key] = source[key];
  }

  // Starts one invocation with the input's parts (the engine has checked
  // that `user` and `context` are objects); returns what `pipe` returned.
  function run(user, context, givenClaims, givenCustomData) {
    logBytes = 0; // logs of the function's top-level code were compile-time
    // Most calls pass neither: no helper calls then.
    if (givenClaims !== undefined && isObject(givenClaims)) {
      copyInto(idTokenClaims, givenClaims.id_token);
      copyInto(accessTokenClaims, givenClaims.access_token);
    }
    if (givenCustomData !== undefined) copyInto(customData, givenCustomData);
    currentUser = user;
    currentContext = context;
    setPrototypeOf(user, userHelpers);
    try {
      return entry === null ? pipe(user, context, callback) : entry(user, context, callback);
    } catch (err) {
      failed(err, 'threw');
      return undefined;
    }
  }

  // Called once the job queue is empty: a function that never called back
  // gets its `no_callback` error now.
  function finish() {
    if (decided) return;
    decided = true;
    const message = settled
      ? `${entryName} returned without calling callback(err) or callback(null, user, context)`
      : `${entryName} is still waiting on a promise that never settles and has not called callback`;
    hostRefuse('no_callback', message, null);
  }

  // Compile-time checks, reported as the `error` object of a compile report.
  function compileError(err, fileName) {
    const error = { kind: 'compile_error', message: String(err) };
    const where = err instanceof Error && typeof err.stack === 'string' ? err.stack : '';
    const escaped = fileName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const match = new RegExp(`${escaped}:(\\d+)(?::(\\d+))?`).exec(where);
    if (err && typeof err.lineNumber === 'number') {
      error.line = err.lineNumber;
      if (typeof err.columnNumber === 'number') error.column = err.columnNumber;
    } else if (match) {
      error.line = Number(match[1]);
      if (match[2] !== undefined) error.column = Number(match[2]);
    }
    if (where !== '') error.stack = where;
    return stringify(error);
  }

  // Ends compile time: puts the real `Math.random` back and returns the
  // compile warnings as a JSON array.
  function endCompile() {
    compiling = false;
    timers.clear();
    if (Math.random === compileTimeRandom) {
      defineProperty(Math, 'random', { value: mathRandom, writable: true, enumerable: false, configurable: true });
    }
    return stringify(compileWarnings);
  }

  // Before the user's source is evaluated: the flavour's globals.
  function beginFlavor(flavor) {
    if (flavor === 'auth0-rule') {
      auth0().ruleGlobals();
      entryName = 'the rule';
    } else if (flavor === 'auth0-action') {
      auth0().actionGlobals();
      entryName = 'the action';
    }
  }

  // After a rule's source was evaluated (as one expression, `fn`).
  function adoptRule(fn) {
    if (typeof fn !== 'function') {
      return stringify({
        kind: 'compile_error',
        message: 'an Auth0 rule must be one function (user, context, callback) { … }',
      });
    }
    entry = auth0().rule(fn);
    return undefined;
  }

  // After an action's source was evaluated.
  function adoptAction() {
    if (auth0().exportedHandlers() === null) {
      return stringify({
        kind: 'compile_error',
        message: `an Auth0 action must export a handler, e.g. exports.onExecutePostLogin = async (event, api) => { … } (one of ${auth0().HANDLER_NAMES.join(', ')})`,
      });
    }
    entry = auth0().action();
    return undefined;
  }

  function checkPipe() {
    if (typeof pipe !== 'function') {
      return stringify({
        kind: 'compile_error',
        message: 'the function must define `async function pipe(user, context, callback)`',
      });
    }
    return undefined;
  }

  // QuickJS creates most built-in methods on first access. Touch them all
  // now, so that the snapshot holds them and calls do not re-create them.
  // Reading descriptors instantiates them without running any accessor
  // (such as `env`, which must not be read at compile time).
  const describe = Object.getOwnPropertyDescriptor;
  const touch = (holder) => {
    if (holder === null || (typeof holder !== 'object' && typeof holder !== 'function')) return;
    for (const key of Object.getOwnPropertyNames(holder)) describe(holder, key);
  };
  for (const name of Object.getOwnPropertyNames(global)) {
    const descriptor = describe(global, name);
    if (!descriptor || !('value' in descriptor)) continue;
    touch(descriptor.value);
    const prototype = descriptor.value !== null && typeof descriptor.value === 'function' ? descriptor.value.prototype : undefined;
    touch(prototype);
  }

  return {
    run, settle, finish, compileError, checkPipe, endCompile, shadowKeys, nextTimerDelay, runTimers, warnRejection,
    beginFlavor, adoptRule, adoptAction, preload,
  };
})
