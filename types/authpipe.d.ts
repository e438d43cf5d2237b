// Type declarations for authpipe functions.
//
// An authpipe function is a script (not an ES module) that defines
// `pipe(user, context, callback)` and runs in a QuickJS sandbox. This file
// describes what the sandbox provides on top of the ECMAScript 2022 library:
// the function contract (`AuthpipeUser`, `AuthpipeContext`,
// `AuthpipeCallback`, `AuthpipePipe`), authpipe's globals (`env`, `log`,
// `utils`, `axios`, `require`) and the web and Node.js APIs it implements
// (`fetch`, `crypto.subtle`, `Buffer`, `URL`, `TextEncoder`, timers, ...).
//
// Use it with `"lib": ["es2022"]` and `"types": []`: the "dom" library and
// `@types/node` declare the same names with more than the sandbox has.
// Needs TypeScript 5.7 or later. The reference is docs/functions.md.

// ------------------------------------------------------------ the contract

/**
 * The user the pipeline runs for. Fields are whatever the caller sent in the
 * input's `user`; the ones listed here are the usual Authing fields. Changes
 * made to it are handed on with `callback(null, user, context)`.
 */
interface AuthpipeUser {
  id?: string;
  userPoolId?: string;
  username?: string | null;
  email?: string | null;
  emailVerified?: boolean;
  phone?: string | null;
  phoneVerified?: boolean;
  nickname?: string | null;
  name?: string | null;
  givenName?: string | null;
  familyName?: string | null;
  photo?: string | null;
  gender?: string | null;
  birthdate?: string | null;
  company?: string | null;
  country?: string | null;
  province?: string | null;
  city?: string | null;
  region?: string | null;
  postalCode?: string | null;
  address?: string | null;
  locale?: string | null;
  zoneinfo?: string | null;
  /** Registration time, ISO 8601. */
  signedUp?: string | null;
  /** Last sign-in time, ISO 8601. */
  lastLogin?: string | null;
  lastIP?: string | null;
  loginsCount?: number;
  blocked?: boolean;
  /** Role codes, or role objects with a `code`. */
  roles?: Array<string | AuthpipeRole>;
  /** Authing's tenant of the user, when the caller sends it. */
  tenantId?: string | null;

  /** Adds (or replaces) a claim of the ID token. */
  addIdToken(key: string, value: unknown): void;
  /** Removes a claim from the ID token (also one passed in by an earlier stage). */
  removeIdToken(key: string): void;
  /** Adds (or replaces) a claim of the access token. */
  addAccessToken(key: string, value: unknown): void;
  /** Removes a claim from the access token. */
  removeAccessToken(key: string): void;
  /** Adds (or replaces) an entry of the result's `custom_data`. */
  addCustomData(key: string, value: unknown): void;
  /** @deprecated Authing's older name of `addIdToken`. */
  addToken(key: string, value: unknown): void;

  [field: string]: any;
}

interface AuthpipeRole {
  code?: string;
  name?: string;
  [field: string]: any;
}

/** Where a sign-in or registration comes from, as far as the caller knows. */
interface AuthpipeRequest {
  /** The client's IP address. */
  ip?: string;
  /** The client's location, resolved from its IP address by the caller. */
  geo?: AuthpipeGeo;
  /** The body the client sent (for example `email`, `phone`, `password`). */
  body?: Record<string, any>;
  /** The query string, as an object. */
  query?: Record<string, any>;
  /** The request headers, lower-case names. */
  headers?: Record<string, string>;
  [field: string]: any;
}

interface AuthpipeGeo {
  country?: string;
  province?: string;
  city?: string;
  lat?: number;
  lng?: number;
  [field: string]: any;
}

/** The application the user signs in to. */
interface AuthpipeApp {
  id?: string;
  name?: string;
  tenantId?: string;
  [field: string]: any;
}

/**
 * The context of the flow. Like `user`, it is what the caller sent; the
 * fields listed here are the conventional ones.
 */
interface AuthpipeContext {
  /** How the user authenticates: "password", "sms", "social", "ldap", "saml", "oidc", ... */
  protocol?: string;
  /**
   * The identity provider: a name ("password", "github", "wechat", ...), or
   * an object with `name` and `type`.
   */
  connection?: any;
  userPoolId?: string;
  userPoolName?: string;
  userPoolMetadata?: Record<string, any>;
  appId?: string;
  appName?: string;
  appMetadata?: Record<string, any>;
  app?: AuthpipeApp;
  /** The client's IP address, for callers that do not send `request`. */
  ip?: string;
  request?: AuthpipeRequest;
  /** Token triggers: whom the access token is for. */
  accessTokenTarget?: string;
  [field: string]: any;
}

/**
 * `callback(err)` with a truthy `err` denies (with `err.message`, or
 * `String(err)`); `callback(null, user, context)` allows. Omitted or null
 * `user`/`context` mean unchanged. Only the first call counts.
 */
interface AuthpipeCallback {
  (error?: unknown, user?: object | null, context?: object | null): void;
}

/** The type of the `pipe` function every authpipe function defines. */
type AuthpipePipe = (
  user: AuthpipeUser,
  context: AuthpipeContext,
  callback: AuthpipeCallback,
) => void | Promise<void>;

// ------------------------------------------------------ authpipe's globals

/**
 * The function's environment: `[env]` of authpipe.toml, `--env K=V`, or the
 * tenant's env and secrets. Read-only. Empty in top-level code.
 */
declare const env: Readonly<Record<string, string>>;

/** Logs at level `info`, formatted like `console.log`. */
declare function log(...data: any[]): void;

/** IPv4 and IPv6 helpers; also `require('./utils')`. */
interface AuthpipeUtils {
  /** True when `ip` lies in `[start, end]` (inclusive). */
  ipRangeCheck(ip: string, range: readonly [string, string]): boolean;
  /** True when `ip` lies in `cidr` ("10.0.0.0/8", "2001:db8::/32"; no prefix = one address). */
  ipInCidr(ip: string, cidr: string): boolean;
}
declare const utils: AuthpipeUtils;

interface AuthpipeQuerystring {
  stringify(object: Record<string, unknown>, sep?: string, eq?: string): string;
  parse(text: string, sep?: string, eq?: string): Record<string, string | string[]>;
  escape(text: string): string;
  unescape(text: string): string;
}

// ------------------------------------------------------------------ axios

interface AxiosRequestConfig {
  url?: string;
  method?: string;
  baseURL?: string;
  /** Request headers; on `create`, also per-method maps (`common`, `get`, `post`, ...). */
  headers?: Record<string, string | number | boolean | Record<string, string | number | boolean>>;
  /** Query parameters: null and undefined are skipped, arrays become `key[]`. */
  params?: Record<string, unknown>;
  /** A string is sent as is, anything else as JSON. */
  data?: unknown;
  /** "text" keeps the body a string; otherwise JSON bodies are parsed. */
  responseType?: 'json' | 'text';
  /** Which statuses resolve (default: 2xx); null: all of them. */
  validateStatus?: ((status: number) => boolean) | null;
}

interface AxiosResponse<T = any> {
  data: T;
  status: number;
  statusText: string;
  headers: Record<string, string>;
  config: AxiosRequestConfig;
  request: { url: string };
}

interface AxiosError<T = any> extends Error {
  name: 'AxiosError';
  isAxiosError: true;
  /** "ERR_BAD_REQUEST" (4xx), "ERR_BAD_RESPONSE" (5xx), "ERR_NETWORK", "ERR_BAD_OPTION". */
  code?: string;
  config: AxiosRequestConfig;
  response?: AxiosResponse<T>;
  status?: number;
}

interface AxiosInstance {
  <T = any>(config: AxiosRequestConfig): Promise<AxiosResponse<T>>;
  <T = any>(url: string, config?: AxiosRequestConfig): Promise<AxiosResponse<T>>;
  request<T = any>(config: AxiosRequestConfig): Promise<AxiosResponse<T>>;
  get<T = any>(url: string, config?: AxiosRequestConfig): Promise<AxiosResponse<T>>;
  delete<T = any>(url: string, config?: AxiosRequestConfig): Promise<AxiosResponse<T>>;
  head<T = any>(url: string, config?: AxiosRequestConfig): Promise<AxiosResponse<T>>;
  options<T = any>(url: string, config?: AxiosRequestConfig): Promise<AxiosResponse<T>>;
  post<T = any>(url: string, data?: unknown, config?: AxiosRequestConfig): Promise<AxiosResponse<T>>;
  put<T = any>(url: string, data?: unknown, config?: AxiosRequestConfig): Promise<AxiosResponse<T>>;
  patch<T = any>(url: string, data?: unknown, config?: AxiosRequestConfig): Promise<AxiosResponse<T>>;
  /** A new instance with these defaults (`baseURL`, `headers`, ...). */
  create(defaults?: AxiosRequestConfig): AxiosInstance;
  readonly defaults: AxiosRequestConfig;
  isAxiosError(value: unknown): value is AxiosError;
}

/** Authing-style axios over `fetch` (same allow-list and limits). */
declare const axios: AxiosInstance;

// ---------------------------------------------------------------- fetch

type HeadersInit = Headers | Record<string, string> | Array<[string, string]>;

/** A string, or a plain object or array sent as JSON. */
type BodyInit = string | { [key: string]: unknown } | unknown[];

interface RequestInit {
  method?: string;
  headers?: HeadersInit;
  body?: BodyInit | null;
}

interface ResponseInit {
  status?: number;
  statusText?: string;
  headers?: HeadersInit;
}

declare class Headers {
  constructor(init?: HeadersInit);
  append(name: string, value: string): void;
  set(name: string, value: string): void;
  get(name: string): string | null;
  has(name: string): boolean;
  delete(name: string): void;
  entries(): IterableIterator<[string, string]>;
  keys(): IterableIterator<string>;
  values(): IterableIterator<string>;
  forEach(callback: (value: string, name: string, headers: Headers) => void, thisArg?: unknown): void;
  [Symbol.iterator](): IterableIterator<[string, string]>;
}

declare class Response {
  constructor(body?: string | null, init?: ResponseInit);
  static json(data: unknown, init?: ResponseInit): Response;
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  /** The final URL, after redirects. */
  readonly url: string;
  readonly redirected: boolean;
  readonly headers: Headers;
  readonly bodyUsed: boolean;
  text(): Promise<string>;
  json(): Promise<any>;
  clone(): Response;
}

/**
 * HTTP through the host, to URLs the function's fetch allow-list admits. A
 * URL outside it ends the call with error `fetch_denied` (not catchable);
 * network errors reject with a `TypeError`.
 */
declare function fetch(input: string | URL | { url: string }, init?: RequestInit): Promise<Response>;

// ------------------------------------------------------ console and timers

interface Console {
  /** Level info. */
  log(...data: any[]): void;
  info(...data: any[]): void;
  warn(...data: any[]): void;
  error(...data: any[]): void;
  debug(...data: any[]): void;
}
declare var console: Console;

/** Runs `handler` after `timeout` ms; a timer due after the function's deadline ends the call as `timeout`. */
declare function setTimeout<A extends any[]>(handler: (...args: A) => void, timeout?: number, ...args: A): number;
declare function clearTimeout(id: number | undefined): void;
declare function setInterval<A extends any[]>(handler: (...args: A) => void, timeout?: number, ...args: A): number;
declare function clearInterval(id: number | undefined): void;

// ------------------------------------------- encoding, URL, cloning, errors

type BufferSource = ArrayBuffer | ArrayBufferView;

declare class TextEncoder {
  constructor();
  /** Always "utf-8". */
  readonly encoding: string;
  encode(input?: string): Uint8Array<ArrayBuffer>;
}

declare class TextDecoder {
  /** Only UTF-8 ("utf-8", "utf8"); other labels throw a RangeError. */
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  readonly encoding: string;
  readonly fatal: boolean;
  readonly ignoreBOM: boolean;
  decode(input?: BufferSource, options?: { stream?: boolean }): string;
}

/** Base64 to a binary string (one character per byte). */
declare function atob(data: string): string;
/** A binary string (characters up to U+00FF) to base64. */
declare function btoa(data: string): string;

/** A deep copy of plain data (objects, arrays, Date, Map, Set, typed arrays, ...). */
declare function structuredClone<T>(value: T): T;

declare class URL {
  constructor(url: string | URL, base?: string | URL);
  href: string;
  readonly origin: string;
  protocol: string;
  username: string;
  password: string;
  host: string;
  hostname: string;
  port: string;
  pathname: string;
  search: string;
  readonly searchParams: URLSearchParams;
  hash: string;
  toString(): string;
  toJSON(): string;
}

declare class URLSearchParams {
  constructor(init?: string | URLSearchParams | Record<string, string> | Array<[string, string]>);
  append(name: string, value: string): void;
  delete(name: string): void;
  get(name: string): string | null;
  getAll(name: string): string[];
  has(name: string): boolean;
  set(name: string, value: string): void;
  sort(): void;
  toString(): string;
  forEach(callback: (value: string, name: string, params: URLSearchParams) => void, thisArg?: unknown): void;
  entries(): IterableIterator<[string, string]>;
  keys(): IterableIterator<string>;
  values(): IterableIterator<string>;
  [Symbol.iterator](): IterableIterator<[string, string]>;
}

declare class DOMException extends Error {
  constructor(message?: string, name?: string);
  /** "NotSupportedError", "DataError", "InvalidAccessError", "OperationError", ... */
  readonly name: string;
  readonly code: number;
}

// ---------------------------------------------------------------- Buffer

type BufferEncoding = 'utf8' | 'utf-8' | 'hex' | 'base64' | 'base64url' | 'latin1' | 'binary' | 'ascii';

/** The subset of Node.js's `Buffer` authpipe implements. */
declare class Buffer extends Uint8Array<ArrayBuffer> {
  static from(text: string, encoding?: BufferEncoding): Buffer;
  static from(data: ArrayLike<number> | Iterable<number> | ArrayBufferView): Buffer;
  static from(arrayBuffer: ArrayBuffer, byteOffset?: number, length?: number): Buffer;
  static alloc(size: number, fill?: number | string, encoding?: BufferEncoding): Buffer;
  static concat(list: readonly Uint8Array[], totalLength?: number): Buffer;
  static byteLength(value: string | ArrayBuffer | ArrayBufferView, encoding?: BufferEncoding): number;
  static isBuffer(value: unknown): value is Buffer;
  static compare(a: Uint8Array, b: Uint8Array): -1 | 0 | 1;
  toString(encoding?: BufferEncoding, start?: number, end?: number): string;
  equals(other: Uint8Array): boolean;
  /** A view of the same bytes (as in Node.js, not a copy). */
  slice(start?: number, end?: number): Buffer;
  subarray(start?: number, end?: number): Buffer;
  toJSON(): { type: 'Buffer'; data: number[] };
}

// ---------------------------------------------------------------- crypto

type HashAlgorithmName = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';
type HashAlgorithmIdentifier = HashAlgorithmName | { name: HashAlgorithmName };

interface JsonWebKey {
  kty?: string;
  kid?: string;
  alg?: string;
  use?: string;
  key_ops?: string[];
  ext?: boolean;
  /** HMAC: the secret, base64url. */
  k?: string;
  /** RSA: modulus and exponent, base64url. */
  n?: string;
  e?: string;
  /** EC: curve ("P-256", "P-384") and coordinates, base64url. */
  crv?: string;
  x?: string;
  y?: string;
  [member: string]: unknown;
}

type KeyUsage = 'sign' | 'verify';

interface HmacImportParams {
  name: 'HMAC';
  hash: HashAlgorithmIdentifier;
  /** Key length in bits (default: the key's). */
  length?: number;
}

interface RsaHashedImportParams {
  name: 'RSASSA-PKCS1-v1_5' | 'RSA-PSS';
  hash: HashAlgorithmIdentifier;
}

interface EcKeyImportParams {
  name: 'ECDSA';
  namedCurve: 'P-256' | 'P-384';
}

interface RsaPssParams {
  name: 'RSA-PSS';
  /** Salt length in bytes (usually the hash length: 32 for SHA-256). */
  saltLength: number;
}

interface EcdsaParams {
  name: 'ECDSA';
  hash: HashAlgorithmIdentifier;
}

type HmacAlgorithm = 'HMAC' | { name: 'HMAC' };
type VerifyAlgorithm =
  | HmacAlgorithm
  | 'RSASSA-PKCS1-v1_5'
  | { name: 'RSASSA-PKCS1-v1_5' }
  | RsaPssParams
  | EcdsaParams;

interface CryptoKey {
  readonly type: 'secret' | 'public' | 'private';
  readonly extractable: boolean;
  readonly algorithm: { name: string; [member: string]: unknown };
  readonly usages: KeyUsage[];
}

/**
 * The part of Web Crypto authpipe implements: digests, HMAC, and
 * verification of RSA (PKCS#1 v1.5, PSS) and ECDSA (P-256, P-384)
 * signatures with public keys. Other methods reject with a
 * `NotSupportedError`.
 */
interface SubtleCrypto {
  digest(algorithm: HashAlgorithmIdentifier, data: BufferSource): Promise<ArrayBuffer>;
  importKey(format: 'raw', keyData: BufferSource, algorithm: HmacImportParams, extractable: boolean, keyUsages: KeyUsage[]): Promise<CryptoKey>;
  importKey(format: 'jwk', keyData: JsonWebKey, algorithm: HmacImportParams | RsaHashedImportParams | EcKeyImportParams, extractable: boolean, keyUsages: KeyUsage[]): Promise<CryptoKey>;
  importKey(format: 'spki', keyData: BufferSource, algorithm: RsaHashedImportParams | EcKeyImportParams, extractable: boolean, keyUsages: KeyUsage[]): Promise<CryptoKey>;
  /** HMAC only (private keys are not supported). */
  sign(algorithm: HmacAlgorithm, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>;
  /** ECDSA signatures are raw `r || s`, as in JWS. */
  verify(algorithm: VerifyAlgorithm, key: CryptoKey, signature: BufferSource, data: BufferSource): Promise<boolean>;
  /** Extractable keys: HMAC as raw or jwk, public keys as spki or jwk (ECDSA also raw). */
  exportKey(format: 'raw' | 'spki', key: CryptoKey): Promise<ArrayBuffer>;
  exportKey(format: 'jwk', key: CryptoKey): Promise<JsonWebKey>;
}

type IntegerTypedArray =
  | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array
  | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

interface Crypto {
  /** Fills an integer typed array (at most 65536 bytes) with secure random values. */
  getRandomValues<T extends IntegerTypedArray>(array: T): T;
  /** A random version 4 UUID. */
  randomUUID(): `${string}-${string}-${string}-${string}-${string}`;
  readonly subtle: SubtleCrypto;
}
declare var crypto: Crypto;

// ---------------------------------------------------------------- modules

type NodeHashName = 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512';
/** Case-insensitive; "sha-256" works too. */
type NodeHashAlgorithm = NodeHashName | Uppercase<NodeHashName> | 'sha-1' | 'sha-256' | 'sha-384' | 'sha-512';
type NodeInputEncoding = 'utf8' | 'utf-8' | 'hex' | 'base64' | 'base64url' | 'latin1' | 'binary' | 'ascii';
type NodeDigestEncoding = 'hex' | 'base64' | 'base64url' | 'latin1' | 'binary';

interface AuthpipeHash {
  update(data: string | ArrayBuffer | ArrayBufferView, inputEncoding?: NodeInputEncoding): this;
  digest(): Buffer;
  digest(encoding: NodeDigestEncoding): string;
}

/** `require('crypto')`: the subset of Node.js's crypto module authpipe implements. */
interface AuthpipeNodeCrypto {
  createHash(algorithm: NodeHashAlgorithm): AuthpipeHash;
  createHmac(algorithm: NodeHashAlgorithm, key: string | ArrayBuffer | ArrayBufferView): AuthpipeHash;
  randomBytes(size: number): Buffer;
  randomUUID(): string;
  /** A random integer in [0, max) or [min, max). */
  randomInt(max: number): number;
  randomInt(min: number, max: number): number;
  /** Constant-time comparison; throws a RangeError when the lengths differ. */
  timingSafeEqual(a: ArrayBufferView, b: ArrayBufferView): boolean;
  getHashes(): string[];
  readonly webcrypto: Crypto;
  readonly subtle: SubtleCrypto;
}

interface AuthpipeInspectOptions {
  depth?: number | null;
  compact?: boolean | number;
  breakLength?: number;
  sorted?: boolean;
  showHidden?: boolean;
}

/** `require('util')`. */
interface AuthpipeUtil {
  inspect(value: unknown, options?: AuthpipeInspectOptions): string;
  /** printf-like: %s %d %i %f %j %o %O %c %%. */
  format(format?: unknown, ...args: unknown[]): string;
}

// Ambient modules: how `require(...)` in a type-checked JavaScript file
// resolves. A TypeScript function calls the global `require` below instead.
declare module 'crypto' {
  const crypto: AuthpipeNodeCrypto;
  export = crypto;
}
declare module 'buffer' {
  const buffer: { Buffer: typeof Buffer };
  export = buffer;
}
declare module 'url' {
  const url: { URL: typeof URL; URLSearchParams: typeof URLSearchParams };
  export = url;
}
declare module 'util' {
  const util: AuthpipeUtil;
  export = util;
}
declare module 'querystring' {
  const querystring: AuthpipeQuerystring;
  export = querystring;
}
declare module 'axios' {
  const axios: AxiosInstance;
  export = axios;
}
declare module 'utils' {
  const utils: AuthpipeUtils;
  export = utils;
}

/**
 * The modules a function may load. Any other name throws an Error naming
 * the available ones. (In a type-checked JavaScript file TypeScript resolves
 * `require('./utils')` as a file: use `utils` or `require('utils')` there,
 * or put types/utils.d.ts beside the function.)
 */
declare function require(id: 'crypto'): AuthpipeNodeCrypto;
declare function require(id: 'buffer'): { Buffer: typeof Buffer };
declare function require(id: 'url'): { URL: typeof URL; URLSearchParams: typeof URLSearchParams };
declare function require(id: 'util'): AuthpipeUtil;
declare function require(id: 'querystring'): AuthpipeQuerystring;
declare function require(id: 'axios'): AxiosInstance;
declare function require(id: './utils' | 'utils'): AuthpipeUtils;
