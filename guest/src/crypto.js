// Web Crypto (`crypto`, `crypto.subtle`) and Node's `require('crypto')` for
// authpipe functions: randomness, digests, HMAC, and verification of RSA
// (PKCS#1 v1.5, PSS) and ECDSA (P-256, P-384) signatures with public keys,
// as JWT and webhook checks need. No private keys, encryption or key
// generation.
//
// Evaluated by the prelude with the natives of guest/src/crypto.rs. Like the
// prelude, it captures everything it uses here, so user code that replaces
// globals cannot change how it works; key material sits in private fields.
(function (natives, deps) {
  'use strict';

  const { Buffer, noteRandom } = deps;
  const {
    Array, ArrayBuffer, Error, Float32Array, Float64Array, Number, Object, Promise, RangeError, String,
    Symbol, TypeError, Uint8Array,
  } = globalThis;
  const { create, defineProperty, freeze, getOwnPropertyDescriptor } = Object;
  const isArray = Array.isArray;
  const isView = ArrayBuffer.isView;
  const isSafeInteger = Number.isSafeInteger;
  const {
    randomBytes: nativeRandom, digest: nativeDigest, hmac: nativeHmac, importRsa, importEc, importSpki,
    verify: nativeVerify, base64Decode, base64Encode,
  } = natives;

  // ------------------------------------------------------------------ bytes

  const arrayBufferLength = getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength').get;
  const isObject = (value) => value !== null && typeof value === 'object';

  // A view of the bytes of an ArrayBuffer, typed array or DataView, or null.
  function bytesOf(value) {
    if (isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    try {
      arrayBufferLength.call(value); // throws for anything but an ArrayBuffer
      return new Uint8Array(value);
    } catch (_) {
      return null;
    }
  }

  function concat(chunks) {
    let length = 0;
    for (const chunk of chunks) length += chunk.length;
    const out = new Uint8Array(length);
    let at = 0;
    for (const chunk of chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }

  // Compares all bytes whatever the first difference.
  function equalBytes(a, b) {
    if (a.length !== b.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
    return diff === 0;
  }

  // `n` random bytes; the native hands out at most 65536 per call.
  function random(n) {
    if (n <= 65536) return new Uint8Array(nativeRandom(n));
    const out = new Uint8Array(n);
    for (let at = 0; at < n; at += 65536) out.set(new Uint8Array(nativeRandom(n - at < 65536 ? n - at : 65536)), at);
    return out;
  }

  const hex = (b) => (b < 16 ? '0' : '') + b.toString(16);
  const base64url = (bytes) => base64Encode(bytes, true);

  // ---------------------------------------------------------------- web api

  const DOMException = deps.DOMException || class DOMException extends Error {
    constructor(message = '', name = 'Error') {
      super(message);
      defineProperty(this, 'name', { value: String(name), writable: true, configurable: true });
    }
  };
  const fail = (name, message) => new DOMException(message, name);

  const getRandomValues = function getRandomValues(array) {
    noteRandom('crypto.getRandomValues()');
    if (!isView(array) || array instanceof Float32Array || array instanceof Float64Array) {
      throw new TypeError('crypto.getRandomValues: expected an integer typed array');
    }
    if (array.byteLength > 65536) {
      throw new RangeError('crypto.getRandomValues: at most 65536 bytes per call');
    }
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(random(array.byteLength));
    return array;
  };

  const randomUUID = function randomUUID() {
    noteRandom('crypto.randomUUID()');
    const b = random(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, hex).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };

  // ------------------------------------------------------------- algorithms

  // Canonical names, looked up by their upper-case form.
  function names(...list) {
    const table = create(null);
    for (const name of list) table[name.toUpperCase()] = name;
    return freeze(table);
  }

  const SHA = names('SHA-1', 'SHA-256', 'SHA-384', 'SHA-512');
  const KEY_ALGORITHMS = names('HMAC', 'RSASSA-PKCS1-v1_5', 'RSA-PSS', 'ECDSA');
  const HMAC_ONLY = names('HMAC');
  const CURVE_SIZES = freeze({ __proto__: null, 'P-256': 32, 'P-384': 48 });
  const SUPPORTED = 'crypto.subtle supports digest (SHA-1, SHA-256, SHA-384, SHA-512), '
    + 'importKey and exportKey (HMAC secret keys; RSASSA-PKCS1-v1_5, RSA-PSS and ECDSA public keys), '
    + 'sign (HMAC) and verify (HMAC, RSASSA-PKCS1-v1_5, RSA-PSS, ECDSA)';
  const NO_PRIVATE_KEYS = 'private keys are not supported: authpipe verifies signatures with public keys only';
  const KEY_USAGES = ['encrypt', 'decrypt', 'sign', 'verify', 'deriveKey', 'deriveBits', 'wrapKey', 'unwrapKey'];
  const KEY_FORMATS = ['raw', 'spki', 'pkcs8', 'jwk'];

  // The canonical name of `algorithm` (a name or an object with a name)
  // from `table`.
  function algorithmName(method, algorithm, table) {
    const name = isObject(algorithm) ? algorithm.name : algorithm;
    if (typeof name !== 'string') {
      throw new TypeError(`crypto.subtle.${method}: the algorithm must be a name or an object with a name`);
    }
    const found = table[name.toUpperCase()];
    if (found !== undefined) return found;
    if (method === 'sign' && KEY_ALGORITHMS[name.toUpperCase()] !== undefined) {
      throw fail('NotSupportedError', `crypto.subtle.sign: ${name} signs with a private key, and ${NO_PRIVATE_KEYS}; sign supports HMAC`);
    }
    throw fail('NotSupportedError', `crypto.subtle.${method}: unsupported algorithm '${name}'; ${SUPPORTED}`);
  }

  // The SHA function named by the required member `hash`.
  function hashOf(method, algorithm) {
    const hash = isObject(algorithm) ? algorithm.hash : undefined;
    if (hash === undefined) throw new TypeError(`crypto.subtle.${method}: the algorithm needs a hash, such as 'SHA-256'`);
    return algorithmName(method, hash, SHA);
  }

  function bufferSource(method, value, what) {
    const bytes = bytesOf(value);
    if (bytes === null) throw new TypeError(`crypto.subtle.${method}: ${what} must be an ArrayBuffer, a typed array or a DataView`);
    return bytes;
  }

  // -------------------------------------------------------------- CryptoKey

  const CONSTRUCT = Symbol('construct');
  let keyRecord; // (value) => the record of a CryptoKey, or undefined

  // A key as Web Crypto hands it out; its record (type, extractable,
  // algorithm, usages and material) is private.
  class CryptoKey {
    #record;

    constructor(token, record) {
      if (token !== CONSTRUCT) throw new TypeError('Illegal constructor');
      this.#record = freeze(record);
    }

    get type() { return this.#record.type; }
    get extractable() { return this.#record.extractable; }
    get algorithm() { return this.#record.algorithm; }
    get usages() { return this.#record.usages; }

    static {
      keyRecord = (value) => (isObject(value) && #record in value ? value.#record : undefined);
    }
  }
  defineProperty(CryptoKey.prototype, Symbol.toStringTag, { value: 'CryptoKey', configurable: true });

  function newKey(type, extractable, algorithm, usages, material) {
    return new CryptoKey(CONSTRUCT, { type, extractable, algorithm: freeze(algorithm), usages: freeze(usages), material });
  }

  // The record of `key`, checked for use with `name` for `usage`.
  function usableKey(method, key, name, usage) {
    const record = keyRecord(key);
    if (record === undefined) throw new TypeError(`crypto.subtle.${method}: the key must be a CryptoKey`);
    if (record.algorithm.name !== name) {
      throw fail('InvalidAccessError', `crypto.subtle.${method}: the key is for ${record.algorithm.name}, not ${name}`);
    }
    if (!record.usages.includes(usage)) {
      throw fail('InvalidAccessError', `crypto.subtle.${method}: the key's usages [${record.usages.join(', ')}] do not include '${usage}'`);
    }
    return record;
  }

  // ------------------------------------------------------------- key import

  // The usages as a list without repeats, each allowed for the key.
  function keyUsages(usages, allowed, name) {
    if (!isArray(usages)) throw new TypeError("crypto.subtle.importKey: usages must be an array, such as ['verify']");
    const list = [];
    for (const usage of usages) {
      if (!KEY_USAGES.includes(usage)) throw new TypeError(`crypto.subtle.importKey: '${usage}' is not a key usage`);
      if (!allowed.includes(usage)) {
        throw fail('SyntaxError', `crypto.subtle.importKey: ${name} keys can be used only for ${allowed.join(' and ')}, not '${usage}'`);
      }
      if (!list.includes(usage)) list.push(usage);
    }
    return list;
  }

  // Checks the JWK members all key types share (RFC 7517, WebCrypto 14.3.9).
  function checkJwk(jwk, kty, alg, extractable, usages) {
    if (jwk.kty !== kty) throw fail('DataError', `crypto.subtle.importKey: the JWK's kty must be '${kty}', not '${jwk.kty}'`);
    if (kty !== 'oct' && jwk.d !== undefined) throw fail('NotSupportedError', `crypto.subtle.importKey: the JWK has a private part ('d'); ${NO_PRIVATE_KEYS}`);
    if (jwk.alg !== undefined && jwk.alg !== alg) {
      throw fail('DataError', `crypto.subtle.importKey: the JWK's alg '${jwk.alg}' does not match the algorithm, which needs '${alg}'`);
    }
    if (jwk.use !== undefined && jwk.use !== 'sig') throw fail('DataError', `crypto.subtle.importKey: the JWK's use is '${jwk.use}', not 'sig'`);
    if (jwk.key_ops !== undefined && !(isArray(jwk.key_ops) && usages.every((usage) => jwk.key_ops.includes(usage)))) {
      throw fail('DataError', `crypto.subtle.importKey: the JWK's key_ops do not allow [${usages.join(', ')}]`);
    }
    if (jwk.ext === false && extractable) throw fail('DataError', 'crypto.subtle.importKey: the JWK has ext false, so the key cannot be extractable');
  }

  // The bytes of the base64url member `member` of a JWK.
  function jwkBytes(jwk, member) {
    const bytes = typeof jwk[member] === 'string' ? base64Decode(jwk[member], true) : null;
    if (bytes === null) throw fail('DataError', `crypto.subtle.importKey: the JWK's '${member}' must be a base64url string`);
    return new Uint8Array(bytes);
  }

  // Calls an import native, whose errors are DataErrors.
  function importWith(fn, ...args) {
    try {
      return fn(...args);
    } catch (err) {
      throw fail('DataError', `crypto.subtle.importKey: ${err && err.message}`);
    }
  }

  const suffix = (hash) => hash.slice(4); // 'SHA-256' -> '256', as in HS256

  function importHmac(format, keyData, algorithm, extractable, usages) {
    const hash = hashOf('importKey', algorithm);
    let bytes;
    if (format === 'raw') {
      bytes = new Uint8Array(keyData); // a copy
    } else {
      checkJwk(keyData, 'oct', `HS${suffix(hash)}`, extractable, usages);
      bytes = jwkBytes(keyData, 'k');
    }
    let length = bytes.length * 8;
    if (length === 0) throw fail('DataError', 'crypto.subtle.importKey: an HMAC key must not be empty');
    if (algorithm.length !== undefined) {
      if (!(algorithm.length <= length && algorithm.length > length - 8)) {
        throw fail('DataError', `crypto.subtle.importKey: length ${algorithm.length} does not fit a key of ${bytes.length} bytes`);
      }
      length = algorithm.length;
    }
    if (usages.length === 0) throw fail('SyntaxError', "crypto.subtle.importKey: an HMAC key needs usages, such as ['verify']");
    return newKey('secret', extractable, { name: 'HMAC', hash: freeze({ name: hash }), length }, usages, bytes);
  }

  function importRsaKey(name, format, keyData, algorithm, extractable, usages) {
    const hash = hashOf('importKey', algorithm);
    let info;
    if (format === 'spki') {
      info = importWith(importSpki, keyData, 'RSA', null);
    } else {
      checkJwk(keyData, 'RSA', `${name === 'RSA-PSS' ? 'PS' : 'RS'}${suffix(hash)}`, extractable, usages);
      info = importWith(importRsa, jwkBytes(keyData, 'n'), jwkBytes(keyData, 'e'));
    }
    const publicExponent = new Uint8Array(info.publicExponent);
    const described = { name, modulusLength: info.modulusLength, publicExponent, hash: freeze({ name: hash }) };
    return newKey('public', extractable, described, usages, new Uint8Array(info.spki));
  }

  function importEcKey(format, keyData, algorithm, extractable, usages) {
    const curve = isObject(algorithm) ? algorithm.namedCurve : undefined;
    if (curve === undefined) throw new TypeError("crypto.subtle.importKey: ECDSA needs a namedCurve, 'P-256' or 'P-384'");
    const size = CURVE_SIZES[curve];
    if (size === undefined) throw fail('NotSupportedError', `crypto.subtle.importKey: unsupported namedCurve '${curve}'; supported: P-256, P-384`);
    let info;
    if (format === 'spki') {
      info = importWith(importSpki, keyData, 'EC', curve);
    } else if (format === 'raw') {
      if (keyData.length !== 1 + 2 * size || keyData[0] !== 4) {
        throw fail('DataError', `crypto.subtle.importKey: a raw ${curve} key is an uncompressed point of ${1 + 2 * size} bytes`);
      }
      info = importWith(importEc, curve, keyData.subarray(1, 1 + size), keyData.subarray(1 + size));
    } else {
      checkJwk(keyData, 'EC', `ES${size * 8}`, extractable, usages);
      if (keyData.crv !== curve) throw fail('DataError', `crypto.subtle.importKey: the JWK's crv '${keyData.crv}' is not ${curve}`);
      info = importWith(importEc, curve, jwkBytes(keyData, 'x'), jwkBytes(keyData, 'y'));
    }
    return newKey('public', extractable, { name: 'ECDSA', namedCurve: curve }, usages, new Uint8Array(info.spki));
  }

  // ------------------------------------------------------------- key export

  // The modulus and exponent INTEGERs of an RSA SubjectPublicKeyInfo (as
  // the natives encode it, so well-formed), without leading zeros.
  function rsaComponents(spki) {
    let at = 0;
    const enter = () => { // skips a tag and length; returns the content's end
      at++;
      let length = spki[at++];
      if (length & 0x80) {
        let count = length & 0x7f;
        for (length = 0; count > 0; count--) length = length * 256 + spki[at++];
      }
      return at + length;
    };
    const integer = () => {
      const end = enter();
      while (at < end - 1 && spki[at] === 0) at++;
      const value = spki.subarray(at, end);
      at = end;
      return value;
    };
    enter(); // SubjectPublicKeyInfo
    at = enter(); // AlgorithmIdentifier, skipped
    enter(); // BIT STRING
    at++; // its unused-bits octet
    enter(); // RSAPublicKey
    const n = integer();
    return [n, integer()];
  }

  function exportJwk(record) {
    const { algorithm, material } = record;
    const common = { key_ops: record.usages.slice(), ext: true };
    if (record.type === 'secret') {
      return { ...common, kty: 'oct', k: base64url(material), alg: `HS${suffix(algorithm.hash.name)}` };
    }
    if (algorithm.name === 'ECDSA') {
      const size = CURVE_SIZES[algorithm.namedCurve];
      const end = material.length;
      return { ...common, kty: 'EC', crv: algorithm.namedCurve, x: base64url(material.subarray(end - 2 * size, end - size)), y: base64url(material.subarray(end - size)) };
    }
    const [n, e] = rsaComponents(material);
    const alg = `${algorithm.name === 'RSA-PSS' ? 'PS' : 'RS'}${suffix(algorithm.hash.name)}`;
    return { ...common, kty: 'RSA', n: base64url(n), e: base64url(e), alg };
  }

  // ----------------------------------------------------------- SubtleCrypto

  // `crypto.subtle`. Every method returns a promise and reports errors by
  // rejecting it, as in browsers.
  class SubtleCrypto {
    constructor(token) {
      if (token !== CONSTRUCT) throw new TypeError('Illegal constructor');
    }

    async digest(algorithm, data) {
      const name = algorithmName('digest', algorithm, SHA);
      return nativeDigest(name, bufferSource('digest', data, 'data'));
    }

    async importKey(format, keyData, algorithm, extractable, usages) {
      if (!KEY_FORMATS.includes(format)) throw new TypeError(`crypto.subtle.importKey: unknown key format '${format}'`);
      const name = algorithmName('importKey', algorithm, KEY_ALGORITHMS);
      const list = keyUsages(usages, name === 'HMAC' ? ['sign', 'verify'] : ['verify'], name);
      const formats = name === 'HMAC' ? ['raw', 'jwk'] : name === 'ECDSA' ? ['spki', 'jwk', 'raw'] : ['spki', 'jwk'];
      if (!formats.includes(format)) {
        const why = format === 'pkcs8' ? NO_PRIVATE_KEYS : `${name} keys can be imported as ${formats.join(', ')}`;
        throw fail('NotSupportedError', `crypto.subtle.importKey: format '${format}' is not supported: ${why}`);
      }
      let data = keyData;
      if (format === 'jwk') {
        if (!isObject(keyData) || bytesOf(keyData) !== null) throw new TypeError('crypto.subtle.importKey: a JWK must be an object');
      } else {
        data = bufferSource('importKey', keyData, 'the key data');
      }
      if (name === 'HMAC') return importHmac(format, data, algorithm, !!extractable, list);
      if (name === 'ECDSA') return importEcKey(format, data, algorithm, !!extractable, list);
      return importRsaKey(name, format, data, algorithm, !!extractable, list);
    }

    async exportKey(format, key) {
      const record = keyRecord(key);
      if (record === undefined) throw new TypeError('crypto.subtle.exportKey: the key must be a CryptoKey');
      if (!KEY_FORMATS.includes(format)) throw new TypeError(`crypto.subtle.exportKey: unknown key format '${format}'`);
      if (!record.extractable) throw fail('InvalidAccessError', 'crypto.subtle.exportKey: the key is not extractable');
      const secret = record.type === 'secret';
      if (format === 'jwk') return exportJwk(record);
      if (format === (secret ? 'raw' : 'spki')) return new Uint8Array(record.material).buffer;
      if (format === 'raw' && record.algorithm.name === 'ECDSA') {
        return record.material.slice(record.material.length - 1 - 2 * CURVE_SIZES[record.algorithm.namedCurve]).buffer;
      }
      throw fail('NotSupportedError', `crypto.subtle.exportKey: ${record.algorithm.name} keys export as ${secret ? 'raw or jwk' : 'spki, jwk or (ECDSA) raw'}, not '${format}'`);
    }

    async sign(algorithm, key, data) {
      algorithmName('sign', algorithm, HMAC_ONLY);
      const record = usableKey('sign', key, 'HMAC', 'sign');
      return nativeHmac(record.algorithm.hash.name, record.material, bufferSource('sign', data, 'data'));
    }

    async verify(algorithm, key, signature, data) {
      const name = algorithmName('verify', algorithm, KEY_ALGORITHMS);
      const hash = name === 'ECDSA' ? hashOf('verify', algorithm) : undefined;
      let saltLength = null;
      if (name === 'RSA-PSS') {
        saltLength = isObject(algorithm) ? algorithm.saltLength : undefined;
        if (!isSafeInteger(saltLength) || saltLength < 0) {
          throw new TypeError('crypto.subtle.verify: RSA-PSS needs a saltLength in bytes (32 for PS256)');
        }
      }
      const record = usableKey('verify', key, name, 'verify');
      const sig = bufferSource('verify', signature, 'the signature');
      const bytes = bufferSource('verify', data, 'data');
      if (name === 'HMAC') return equalBytes(new Uint8Array(nativeHmac(record.algorithm.hash.name, record.material, bytes)), sig);
      try {
        return nativeVerify(name, hash || record.algorithm.hash.name, record.material, sig, bytes, saltLength);
      } catch (err) {
        throw fail('OperationError', `crypto.subtle.verify: ${err && err.message}`);
      }
    }
  }
  for (const method of ['encrypt', 'decrypt', 'generateKey', 'deriveKey', 'deriveBits', 'wrapKey', 'unwrapKey']) {
    const notSupported = {
      async [method]() {
        throw fail('NotSupportedError', `crypto.subtle.${method} is not supported; ${SUPPORTED}`);
      },
    }[method];
    defineProperty(SubtleCrypto.prototype, method, { value: notSupported, writable: true, configurable: true });
  }
  defineProperty(SubtleCrypto.prototype, Symbol.toStringTag, { value: 'SubtleCrypto', configurable: true });
  freeze(SubtleCrypto.prototype);
  freeze(CryptoKey.prototype);

  const crypto = freeze({ getRandomValues, randomUUID, subtle: new SubtleCrypto(CONSTRUCT) });

  // --------------------------------------------------------------- node api

  const NODE_HASHES = freeze({ __proto__: null, md5: 'MD5', sha1: 'SHA-1', sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' });

  function nodeError(Type, code, message) {
    const err = new Type(message);
    err.code = code;
    return err;
  }

  function received(value) {
    if (typeof value === 'string') return `type string ('${value}')`;
    if (value === null || value === undefined) return String(value);
    if (typeof value === 'object' || typeof value === 'function') {
      const name = typeof value.constructor === 'function' ? value.constructor.name : '';
      return name ? `an instance of ${name}` : `type ${typeof value}`;
    }
    return `type ${typeof value} (${String(value)})`;
  }

  // The bytes of `data`: a string in `encoding` (utf8 by default), or a
  // copy of a Buffer, typed array or DataView (and ArrayBuffer if `what`
  // lists it).
  function nodeBytes(data, encoding, name, what) {
    if (typeof data === 'string') return Buffer.from(data, encoding === undefined ? 'utf8' : encoding);
    const bytes = isView(data) || what.includes('ArrayBuffer') ? bytesOf(data) : null;
    if (bytes === null) {
      throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" argument must be of type string or an instance of ${what}. Received ${received(data)}`);
    }
    return new Uint8Array(bytes);
  }

  // Node's Hash and (with a key) Hmac: updates accumulate, digest once.
  class Hash {
    #algorithm;
    #key;
    #chunks = [];
    #done = false;

    constructor(token, algorithm, key) {
      if (token !== CONSTRUCT) throw new TypeError('Use crypto.createHash() or crypto.createHmac()');
      this.#algorithm = algorithm;
      this.#key = key;
    }

    update(data, inputEncoding) {
      if (this.#done) throw nodeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
      this.#chunks.push(nodeBytes(data, inputEncoding, 'data', 'Buffer, TypedArray, or DataView'));
      return this;
    }

    digest(outputEncoding) {
      let bytes;
      if (this.#done) {
        // As in Node: a second digest of an Hmac is empty, of a Hash an error.
        if (this.#key === null) throw nodeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
        bytes = new Uint8Array(0);
      } else {
        const data = concat(this.#chunks);
        bytes = this.#key === null ? nativeDigest(this.#algorithm, data) : nativeHmac(this.#algorithm, this.#key, data);
      }
      this.#done = true;
      this.#chunks = [];
      const out = Buffer.from(bytes);
      return outputEncoding === undefined || outputEncoding === 'buffer' ? out : out.toString(outputEncoding);
    }
  }
  freeze(Hash.prototype);

  function createHash(algorithm) {
    const name = NODE_HASHES[String(algorithm).toLowerCase().replace('-', '')];
    if (name === undefined) throw new Error(`Digest method not supported: authpipe supports ${getHashes().join(', ')}`);
    return new Hash(CONSTRUCT, name, null);
  }

  function createHmac(algorithm, key) {
    const name = NODE_HASHES[String(algorithm).toLowerCase().replace('-', '')];
    if (name === undefined) {
      throw nodeError(TypeError, 'ERR_CRYPTO_INVALID_DIGEST', `Invalid digest: ${algorithm} (authpipe supports ${getHashes().join(', ')})`);
    }
    return new Hash(CONSTRUCT, name, nodeBytes(key, 'utf8', 'key', 'ArrayBuffer, Buffer, TypedArray, or DataView'));
  }

  // Calls `callback(null, value)` on a later turn, as Node's async forms do.
  function later(callback, value) {
    Promise.resolve().then(() => callback(null, value));
  }

  function checkCallback(callback) {
    if (callback !== undefined && typeof callback !== 'function') {
      throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "callback" argument must be of type function. Received ${received(callback)}`);
    }
  }

  const MAX_RANDOM_BYTES = 2147483647;

  function randomBytes(size, callback) {
    noteRandom('crypto.randomBytes()');
    if (typeof size !== 'number') {
      throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "size" argument must be of type number. Received ${received(size)}`);
    }
    if (!isSafeInteger(size) || size < 0 || size > MAX_RANDOM_BYTES) {
      throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "size" is out of range. It must be >= 0 && <= ${MAX_RANDOM_BYTES}. Received ${size}`);
    }
    checkCallback(callback);
    const buffer = Buffer.from(random(size).buffer);
    if (callback === undefined) return buffer;
    later(callback, buffer);
    return undefined;
  }

  const RANDOM_INT_RANGE = 2 ** 48;

  // A uniform integer in [min, max): `randomInt([min,] max[, callback])`.
  function randomInt(min, max, callback) {
    if (max === undefined || typeof max === 'function') {
      callback = max;
      max = min;
      min = 0;
    }
    noteRandom('crypto.randomInt()');
    for (const [name, value] of [['min', min], ['max', max]]) {
      if (!isSafeInteger(value)) {
        throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" argument must be a safe integer. Received ${received(value)}`);
      }
    }
    if (max <= min) {
      throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "max" is out of range. It must be greater than the value of "min" (${min}). Received ${max}`);
    }
    const range = max - min;
    if (range >= RANDOM_INT_RANGE) {
      throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "max - min" is out of range. It must be <= ${RANDOM_INT_RANGE - 1}. Received ${range}`);
    }
    checkCallback(callback);
    // 48 random bits, redrawn while in the incomplete last run of `range`.
    const limit = RANDOM_INT_RANGE - (RANDOM_INT_RANGE % range);
    let x;
    do {
      x = 0;
      for (const b of random(6)) x = x * 256 + b;
    } while (x >= limit);
    const value = min + (x % range);
    if (callback === undefined) return value;
    later(callback, value);
    return undefined;
  }

  function timingSafeEqual(buf1, buf2) {
    const [a, b] = [buf1, buf2].map((value, i) => {
      const bytes = bytesOf(value);
      if (bytes === null) {
        throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "buf${i + 1}" argument must be an instance of ArrayBuffer, Buffer, TypedArray, or DataView. Received ${received(value)}`);
      }
      return bytes;
    });
    if (a.length !== b.length) throw nodeError(RangeError, 'ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH', 'Input buffers must have the same byte length');
    return equalBytes(a, b);
  }

  function getHashes() {
    return ['md5', 'sha1', 'sha256', 'sha384', 'sha512'];
  }

  const nodeCrypto = freeze({
    createHash,
    createHmac,
    randomBytes,
    randomUUID,
    randomInt,
    timingSafeEqual,
    getHashes,
    getRandomValues,
    webcrypto: crypto,
    subtle: crypto.subtle,
  });

  return { crypto, nodeCrypto, CryptoKey, SubtleCrypto };
})
