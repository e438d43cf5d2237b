// Auth0 Rules and Actions on authpipe's pipeline contract.
//
// A factory the prelude calls once, at compile time, with the hooks into
// its invocation state. It returns `rule(fn)` and `action()`, which make
// the entry point the prelude calls in place of `pipe(user, context,
// callback)`, and `ruleGlobals()` / `actionGlobals()`, which define the
// globals each flavour sees.
//
// The input stays authpipe's `{user, context}`. Where it has only Authing's
// names, Auth0's are provided by accessors on prototypes put under the
// input's objects (`user.user_id` reads `user.id`, `user.email_verified =
// true` writes `user.emailVerified`, `context.clientID` reads
// `context.appId`, …). Accessors are never serialised, so the result holds
// what the caller sent plus the function's changes, a pipeline can mix
// flavours, and a call pays only for the names it reads.
//
// Everything here is built once, at compile time; each call starts from the
// snapshot, so the module-level state below starts out empty on every call.
(function (natives, hooks) {
  'use strict';

  const keys = Object.keys;
  const isArray = Array.isArray;
  const freeze = Object.freeze;
  const create = Object.create;
  const defineProperty = Object.defineProperty;
  const setPrototypeOf = Object.setPrototypeOf;
  const getPrototypeOf = Object.getPrototypeOf;
  const hasOwn = (o, k) => o !== null && typeof o === 'object' && Object.prototype.hasOwnProperty.call(o, k);
  const isObject = (v) => v !== null && typeof v === 'object' && !isArray(v);
  const global = globalThis;
  const stringify = JSON.stringify;

  // The call in progress.
  let currentUser = null;
  let currentContext = null;
  // Per-call values derived from the input, made on first use.
  const derived = create(null);
  // [object, key] of empty defaults put on the input (e.g. `app_metadata`
  // read on a user without one); dropped again when still empty.
  const materialized = [];

  function once(name, make) {
    if (!(name in derived)) derived[name] = make();
    return derived[name];
  }

  // Sets an own, enumerable data property (what an assignment would do
  // without the accessor in the way).
  function own(target, key, value) {
    defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  }

  // An accessor named `name` on `proto`: reads `read(this)`; a write goes
  // to `source` when the object has that field, else becomes an own field.
  function alias(proto, name, read, source) {
    defineProperty(proto, name, {
      get() {
        return read(this);
      },
      set(value) {
        if (source !== undefined && hasOwn(this, source)) this[source] = value;
        else own(this, name, value);
      },
      enumerable: false,
      configurable: false,
    });
  }

  // An accessor that puts an empty object on first read (so `x.field.y =
  // 1` keeps its change), removed after the call if still empty.
  function defaultObject(proto, name, fallback) {
    defineProperty(proto, name, {
      get() {
        const found = fallback === undefined ? undefined : fallback(this);
        if (found !== undefined) return found;
        const value = {};
        own(this, name, value);
        materialized.push([this, name]);
        return value;
      },
      set(value) {
        own(this, name, value);
      },
      enumerable: false,
      configurable: false,
    });
  }

  // (Indexed loops here and below: a `for…of` costs QuickJS an iterator.)
  function dropEmptyDefaults() {
    for (let i = 0; i < materialized.length; i++) {
      const [target, key] = materialized[i];
      const value = target[key];
      if (isObject(value) && keys(value).length === 0 && getPrototypeOf(value) === Object.prototype) delete target[key];
    }
  }

  // ------------------------------------------------------------ the user

  const pick = (...values) => values.find((v) => v !== undefined);

  const userProto = create(Object.prototype);
  for (const [auth0, authing] of [
    ['user_id', 'id'],
    ['email_verified', 'emailVerified'],
    ['phone_number', 'phone'],
    ['phone_verified', 'phoneVerified'],
    ['picture', 'photo'],
    ['given_name', 'givenName'],
    ['family_name', 'familyName'],
    ['logins_count', 'loginsCount'],
    ['last_login', 'lastLogin'],
    ['last_ip', 'lastIP'],
    ['created_at', 'signedUp'],
    ['updated_at', 'updatedAt'],
  ]) {
    alias(userProto, auth0, (user) => user[authing], authing);
  }
  defaultObject(userProto, 'app_metadata');
  defaultObject(userProto, 'user_metadata');
  freeze(userProto);

  function roleNames(roles) {
    if (!isArray(roles)) return undefined;
    return roles.map((role) => (isObject(role) ? role.name || role.code : role)).filter((r) => typeof r === 'string');
  }

  function headerOf(request, name) {
    const headers = isObject(request) ? request.headers : undefined;
    if (!isObject(headers)) return undefined;
    for (const key of keys(headers)) if (key.toLowerCase() === name) return headers[key];
    return undefined;
  }

  // Auth0's geoip object from Authing's `geo`.
  function geoipOf(geo) {
    if (!isObject(geo)) return {};
    const out = {};
    if (geo.country !== undefined) out.country_name = geo.country;
    if (geo.countryCode !== undefined) out.country_code = geo.countryCode;
    if (geo.province !== undefined) out.subdivision_name = geo.province;
    if (geo.city !== undefined) out.city_name = geo.city;
    if (geo.lat !== undefined) out.latitude = geo.lat;
    if (geo.lng !== undefined) out.longitude = geo.lng;
    return out;
  }

  // --------------------------------------------------------- the context

  const appOf = (context) => (isObject(context.app) ? context.app : {});
  const connectionOf = (context) => (isObject(context.connection) ? context.connection : {});

  const requestProto = create(Object.prototype);
  alias(requestProto, 'ip', () => currentContext.ip, undefined);
  alias(requestProto, 'userAgent', (request) => pick(request.user_agent, headerOf(request, 'user-agent')));
  alias(requestProto, 'hostname', (request) => headerOf(request, 'host'));
  alias(requestProto, 'geoip', (request) => once('geoip', () => geoipOf(request.geo)));
  defaultObject(requestProto, 'query');
  defaultObject(requestProto, 'body');
  freeze(requestProto);

  const contextProto = create(Object.prototype);
  alias(contextProto, 'clientID', (c) => pick(c.appId, appOf(c).id), 'appId');
  alias(contextProto, 'clientName', (c) => pick(c.appName, appOf(c).name), 'appName');
  alias(contextProto, 'clientMetadata', (c) => pick(isObject(c.appMetadata) ? c.appMetadata : undefined, once('clientMetadata', () => ({}))));
  alias(contextProto, 'connectionStrategy', (c) => pick(connectionOf(c).strategy, connectionOf(c).type));
  alias(contextProto, 'sessionID', (c) => c.sessionId);
  alias(contextProto, 'tenant', (c) => c.userPoolId);
  alias(contextProto, 'stats', () => once('stats', () => ({ loginsCount: pick(currentUser.logins_count, 0) })));
  alias(contextProto, 'authorization', () => once('authorization', () => ({ roles: roleNames(currentUser.roles) || [] })));
  alias(contextProto, 'authentication', () => once('authentication', () => ({ methods: [] })));
  alias(contextProto, 'sso', () => once('sso', () => ({ with_auth0: false, with_dbconn: false })));
  defaultObject(contextProto, 'request', undefined);
  // Auth0 always passed these to rules; rules read them unguarded.
  defaultObject(contextProto, 'connectionOptions', undefined);
  defaultObject(contextProto, 'samlConfiguration', undefined);

  // Puts the accessors under the input's user and context.
  function adoptInput(user, context) {
    currentUser = user;
    currentContext = context;
    setPrototypeOf(user, userProto);
    setPrototypeOf(context, contextProto);
    if (isObject(context.request)) setPrototypeOf(context.request, requestProto);
  }

  // ------------------------------------------------------------- claims

  const SCOPE = 'scope';

  function scopeList(value) {
    if (isArray(value)) return value.map(String);
    // OAuth scopes are separated by spaces (a regular expression split
    // costs QuickJS several times more).
    if (typeof value === 'string') return value.split(' ').filter((s) => s !== '');
    return undefined;
  }

  // The scopes the flow asked for: the access token's `scope` claim so
  // far, or the request's `scope` parameter.
  const requestedScopes = () => once('requestedScopes', readRequestedScopes);
  function readRequestedScopes() {
    const claims = hooks.accessTokenClaims;
    const claimed = hasOwn(claims, SCOPE) ? scopeList(claims[SCOPE]) : undefined;
    if (claimed) return claimed;
    const request = isObject(currentContext.request) ? currentContext.request : {};
    return scopeList(isObject(request.query) ? request.query.scope : undefined)
      || scopeList(isObject(request.body) ? request.body.scope : undefined)
      || [];
  }

  // The access token's scopes as the function sees them: made on first
  // use; `null` until then (nothing to write back).
  let scopes = null;
  const scopesNow = () => {
    if (scopes === null) scopes = requestedScopes().slice();
    return scopes;
  };

  // Writes the `scope` claim when the function touched the scopes.
  function writeScopes() {
    if (scopes === null) return;
    const claims = hooks.accessTokenClaims;
    const joined = (scopeList(scopes) || []).join(' ');
    if (hasOwn(claims, SCOPE) || joined !== requestedScopes().join(' ')) claims[SCOPE] = joined;
  }

  // A rule's `context.accessToken`: the access-token claims themselves,
  // with `scope` as Auth0's array.
  const accessTokenProto = create(null);
  defineProperty(accessTokenProto, SCOPE, {
    get: scopesNow,
    set(value) {
      scopes = value;
    },
    enumerable: false,
    configurable: false,
  });
  freeze(accessTokenProto);

  // ------------------------------------------------------ what to act on

  // What the function asked the identity system to do, for the result's
  // `auth0` section.
  let asked = null;
  function ask(key, value) {
    if (asked === null) {
      asked = {};
      hooks.setAuth0(asked);
    }
    asked[key] = value;
  }

  // ------------------------------------------------------------ metadata

  // Auth0's metadata update: top-level keys are merged, `null` deletes.
  // The result's `auth0` section names the metadata to store, also when
  // the function then denies (Auth0 stored it either way).
  function mergeMetadata(user, field, metadata) {
    const target = user[field];
    if (isObject(metadata) && metadata !== target) {
      for (const key of keys(metadata)) {
        if (metadata[key] === null) delete target[key];
        else target[key] = metadata[key];
      }
    }
    ask(field, target);
  }

  // ---------------------------------------------------------------- rules

  class UnauthorizedError extends Error {
    constructor(message) {
      super(message);
      this.name = 'UnauthorizedError';
    }
  }

  function metadataUpdate(field) {
    return function update(userId, metadata, cb) {
      const done = new Promise((resolve) => {
        if (currentUser !== null) mergeMetadata(currentUser, field, metadata);
        resolve();
      });
      if (typeof cb === 'function') done.then(() => cb(null), cb);
      return done;
    };
  }

  function auth0Domain() {
    const domain = hooks.env().AUTH0_DOMAIN;
    return typeof domain === 'string' ? domain : '';
  }

  const auth0Object = freeze({
    users: freeze({
      updateAppMetadata: metadataUpdate('app_metadata'),
      updateUserMetadata: metadataUpdate('user_metadata'),
    }),
    get baseUrl() {
      const domain = auth0Domain();
      return domain === '' ? '' : `https://${domain}/api/v2`;
    },
    get domain() {
      return auth0Domain();
    },
    accessToken: '',
  });

  const defineGlobal = (name, value) =>
    defineProperty(global, name, { value, writable: true, enumerable: false, configurable: true });

  // Globals of a rule: `configuration` (the env), `UnauthorizedError`,
  // `auth0` and `global` (an empty object; each call starts afresh).
  function ruleGlobals() {
    defineProperty(global, 'configuration', { get: () => hooks.env(), enumerable: false, configurable: true });
    defineGlobal('UnauthorizedError', UnauthorizedError);
    defineGlobal('auth0', auth0Object);
    defineGlobal('global', {});
  }

  // `context.multifactor` / `context.redirect` go to the `auth0` section.
  const REQUESTS = ['multifactor', 'redirect'];
  function takeRequests(context) {
    for (let i = 0; i < REQUESTS.length; i++) {
      const key = REQUESTS[i];
      if (hasOwn(context, key)) {
        if (context[key] !== undefined && context[key] !== null) ask(key, context[key]);
        delete context[key];
      }
    }
  }

  // A rule's `context.idToken` and `context.accessToken` are the claims
  // maps themselves (the latter with `scope` as Auth0's array), unless the
  // input has its own; made ready on first read.
  let accessTokenReady = false;
  let scopeWasClaimed = false;
  function readyAccessToken() {
    const claims = hooks.accessTokenClaims;
    if (!accessTokenReady) {
      accessTokenReady = true;
      if (hasOwn(claims, SCOPE)) {
        scopes = scopeList(claims[SCOPE]) || [];
        delete claims[SCOPE];
        scopeWasClaimed = true;
      }
      setPrototypeOf(claims, accessTokenProto);
    }
    return claims;
  }
  alias(contextProto, 'idToken', () => hooks.idTokenClaims);
  alias(contextProto, 'accessToken', readyAccessToken);

  // The entry point of a rule `fn`.
  function rule(fn) {
    return function runRule(user, context, callback) {
      adoptInput(user, context);
      function ruleCallback(err, nextUser, nextContext) {
        if (err) {
          callback(err);
          return;
        }
        const claims = hooks.accessTokenClaims;
        const outContext = isObject(nextContext) ? nextContext : context;
        if (hasOwn(outContext, 'idToken')) copyClaims(hooks.idTokenClaims, outContext.idToken);
        if (hasOwn(outContext, 'accessToken')) {
          const access = outContext.accessToken;
          copyClaims(claims, access);
          if (isObject(access) && access.scope !== undefined) scopes = access.scope;
        }
        if (accessTokenReady) setPrototypeOf(claims, null);
        if (scopeWasClaimed) claims[SCOPE] = (scopeList(scopes) || []).join(' ');
        else writeScopes();
        takeRequests(outContext);
        dropEmptyDefaults();
        callback(null, isObject(nextUser) ? nextUser : user, outContext);
      }
      return fn(user, context, ruleCallback);
    };
  }

  freeze(contextProto);

  // Claims the rule put in another object than the claims map (when the
  // input had its own idToken/accessToken, or the rule replaced them).
  function copyClaims(target, claims) {
    if (!isObject(claims) || claims === target) return;
    for (const key of keys(claims)) if (key !== SCOPE) target[key] = claims[key];
  }

  // -------------------------------------------------------------- actions

  // Which handler each trigger runs, in order of preference.
  const HANDLERS_BY_TRIGGER = freeze({
    'pre-register': ['onExecutePreUserRegistration'],
    'post-register': ['onExecutePostUserRegistration'],
    'pre-authentication': ['onExecutePostLogin'],
    'post-authentication': ['onExecutePostLogin'],
    'pre-oidc-id-token-issued': ['onExecutePostLogin'],
    'pre-oidc-access-token-issued': ['onExecuteCredentialsExchange', 'onExecutePostLogin'],
    'pre-complete-user-info': ['onExecutePostLogin'],
  });
  const HANDLER_NAMES = [
    'onExecutePostLogin',
    'onExecutePreUserRegistration',
    'onExecutePostUserRegistration',
    'onExecuteCredentialsExchange',
    'onExecutePostChangePassword',
    'onExecuteSendPhoneMessage',
  ];

  // Globals of an action: CommonJS's `exports` and `module`.
  function actionGlobals() {
    const exports = {};
    defineGlobal('exports', exports);
    defineGlobal('module', { exports });
  }

  // The handlers the action's top-level code exported: {exported, found}
  // or null.
  function exportedHandlers() {
    for (const exported of [global.module && global.module.exports, global.exports]) {
      if (exported === null || (typeof exported !== 'object' && typeof exported !== 'function')) continue;
      const found = HANDLER_NAMES.filter((name) => typeof exported[name] === 'function');
      if (found.length > 0) return { exported, found };
    }
    return null;
  }

  // The handler to run for `trigger` (null outside a trigger's pipeline):
  // the trigger's, or the only one exported.
  function pickHandler(found, trigger) {
    const wanted = trigger === null ? undefined : HANDLERS_BY_TRIGGER[trigger];
    if (wanted) for (const name of wanted) if (found.includes(name)) return name;
    if (found.length === 1) return found[0];
    if (wanted) throw new Error(`this action exports ${found.join(', ')}, but trigger ${trigger} runs ${wanted.join(' or ')}`);
    return found.includes('onExecutePostLogin') ? 'onExecutePostLogin' : found[0];
  }

  // The handler running and what it decided.
  let handler = null;
  let denied = null;
  const cache = new Map();

  const inputRequest = () => (isObject(currentContext.request) ? currentContext.request : {});

  // Auth0's `event`, every part made from the input on first read.
  const event = create(Object.prototype);
  const part = (name, make) => defineProperty(event, name, {
    get: () => once(`event.${name}`, make),
    enumerable: true,
    configurable: false,
  });
  part('user', () => currentUser);
  part('request', () => {
    const request = inputRequest();
    return {
      ip: pick(request.ip, currentContext.ip),
      hostname: pick(request.hostname, headerOf(request, 'host')),
      user_agent: pick(request.user_agent, request.userAgent, headerOf(request, 'user-agent')),
      method: pick(request.method, 'POST'),
      language: pick(request.language, headerOf(request, 'accept-language')),
      query: isObject(request.query) ? request.query : {},
      body: isObject(request.body) ? request.body : {},
      geoip: pick(request.geoip, geoipOf(request.geo)),
    };
  });
  part('client', () => (isObject(currentContext.client) ? currentContext.client : {
    client_id: pick(currentContext.clientID, currentContext.appId, appOf(currentContext).id),
    name: pick(currentContext.clientName, currentContext.appName, appOf(currentContext).name),
    metadata: pick(currentContext.clientMetadata, currentContext.appMetadata, {}),
  }));
  part('connection', () => {
    const c = currentContext.connection;
    return isObject(c)
      ? { id: c.id, name: c.name, strategy: pick(c.strategy, c.type), metadata: pick(c.metadata, {}) }
      : { name: c, strategy: currentContext.connectionStrategy, metadata: {} };
  });
  part('organization', () => (isObject(currentContext.organization) ? currentContext.organization : undefined));
  part('transaction', () => (isObject(currentContext.transaction) ? currentContext.transaction : {
    protocol: currentContext.protocol,
    requested_scopes: requestedScopes(),
    locale: currentUser.locale,
  }));
  part('authorization', () => ({
    roles: pick(isObject(currentContext.authorization) ? roleNames(currentContext.authorization.roles) : undefined, roleNames(currentUser.roles), []),
  }));
  part('authentication', () => (isObject(currentContext.authentication) ? currentContext.authentication : { methods: [] }));
  part('stats', () => ({ logins_count: pick(isObject(currentContext.stats) ? currentContext.stats.loginsCount : undefined, currentUser.logins_count, 0) }));
  part('session', () => (isObject(currentContext.session) ? currentContext.session : (currentContext.sessionID ? { id: currentContext.sessionID } : undefined)));
  part('resource_server', () => (isObject(currentContext.resource_server) ? currentContext.resource_server : undefined));
  part('tenant', () => ({ id: pick(isObject(currentContext.tenant) ? currentContext.tenant.id : currentContext.tenant, currentContext.userPoolId, '') }));
  part('secrets', () => hooks.env());
  part('configuration', () => hooks.env());
  part('accessToken', () => ({ customClaims: {}, scope: scopesNow() }));
  part('message_options', () => (isObject(currentContext.message_options) ? currentContext.message_options : {}));
  freeze(event);

  // A JWT signed with HS256 (redirect.encodeToken).
  function signHs256(payload, secret) {
    const b64 = (text) => hooks.Buffer.from(text).toString('base64url');
    const head = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const body = b64(JSON.stringify(payload));
    const mac = hooks.nodeCrypto.createHmac('sha256', String(secret)).update(`${head}.${body}`).digest('base64url');
    return `${head}.${body}.${mac}`;
  }

  function verifyHs256(token, secret) {
    const parts = String(token).split('.');
    if (parts.length !== 3) throw new Error('the token is not a JWT');
    const mac = hooks.nodeCrypto.createHmac('sha256', String(secret)).update(`${parts[0]}.${parts[1]}`).digest();
    const given = hooks.Buffer.from(parts[2], 'base64url');
    if (given.length !== mac.length || !hooks.nodeCrypto.timingSafeEqual(given, mac)) throw new Error('the token signature is invalid');
    const payload = JSON.parse(hooks.Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (typeof payload.exp === 'number' && payload.exp * 1000 < Date.now()) throw new Error('the token has expired');
    return payload;
  }

  const claimSetter = (target, what) => (name, value) => {
    if (typeof name !== 'string' || name === '') throw new TypeError(`${what}: the claim name must be a non-empty string`);
    target()[name] = value;
    return api;
  };
  const authenticationAsk = (key, value) => ask('authentication', { ...(asked && asked.authentication), [key]: value });
  const optionsOf = (options) => (isObject(options) ? options : {});

  // Auth0's `api`: its methods record into this call's state.
  const api = {
    access: {
      deny(code, reason) {
        denied = reason === undefined ? String(code) : String(reason);
        return api;
      },
    },
    idToken: { setCustomClaim: claimSetter(() => hooks.idTokenClaims, 'api.idToken.setCustomClaim') },
    accessToken: {
      setCustomClaim: claimSetter(() => hooks.accessTokenClaims, 'api.accessToken.setCustomClaim'),
      addScope(scope) {
        const list = scopesNow();
        if (!list.includes(String(scope))) list.push(String(scope));
        return api;
      },
      removeScope(scope) {
        scopes = scopesNow().filter((s) => s !== String(scope));
        return api;
      },
    },
    user: {
      setAppMetadata(name, value) {
        mergeMetadata(currentUser, 'app_metadata', { [name]: value === undefined ? null : value });
        return api;
      },
      setUserMetadata(name, value) {
        mergeMetadata(currentUser, 'user_metadata', { [name]: value === undefined ? null : value });
        return api;
      },
    },
    multifactor: {
      enable(provider, options) {
        ask('multifactor', { provider: String(provider), ...optionsOf(options) });
        return api;
      },
    },
    redirect: {
      sendUserTo(url, options) {
        let target = String(url);
        const query = optionsOf(options).query;
        if (isObject(query)) {
          const search = hooks.querystring.stringify(query);
          if (search !== '') target += (target.includes('?') ? '&' : '?') + search;
        }
        ask('redirect', { url: target });
        return api;
      },
      encodeToken(options) {
        if (!isObject(options) || options.secret === undefined) {
          throw new TypeError('api.redirect.encodeToken({secret, payload, expiresInSeconds}) needs a secret');
        }
        const now = Math.floor(Date.now() / 1000);
        return signHs256({
          ...optionsOf(options.payload),
          iat: now,
          exp: now + (Number(options.expiresInSeconds) || 900),
          sub: currentUser.user_id,
          ip: event.request.ip,
        }, options.secret);
      },
      validateToken(options) {
        if (!isObject(options) || options.secret === undefined) {
          throw new TypeError('api.redirect.validateToken({secret, tokenParameterName}) needs a secret');
        }
        const name = options.tokenParameterName || 'session_token';
        const token = pick(event.request.query[name], event.request.body[name]);
        if (token === undefined) throw new Error(`no ${name} parameter in the request`);
        return verifyHs256(token, options.secret);
      },
      canRedirect: () => true,
    },
    authentication: {
      challengeWith(factor, options) {
        authenticationAsk('challenge', { factor, ...optionsOf(options) });
        return api;
      },
      challengeWithAny(factors) {
        authenticationAsk('challenge', { any: factors });
        return api;
      },
      enrollWith(factor, options) {
        authenticationAsk('enroll', { factor, ...optionsOf(options) });
        return api;
      },
      setPrimaryUser(id) {
        authenticationAsk('primary_user', String(id));
        return api;
      },
      recordMethod(url) {
        authenticationAsk('recorded_method', String(url));
        return api;
      },
    },
    validation: {
      error(code, message) {
        denied = message === undefined ? String(code) : String(message);
        return api;
      },
    },
    cache: {
      get: (key) => cache.get(String(key)),
      set(key, value, options) {
        const expires = optionsOf(options).expires_at;
        const record = { value: String(value), expires_at: expires || Date.now() + 15 * 60 * 1000 };
        cache.set(String(key), record);
        return { type: 'success', record };
      },
      delete(key) {
        const record = cache.get(String(key));
        cache.delete(String(key));
        return { type: 'success', record };
      },
    },
  };
  for (const group of keys(api)) freeze(api[group]);
  freeze(api);

  // The entry point of an action.
  function action() {
    const { exported, found } = exportedHandlers();
    const finish = (callback) => () => {
      if (denied !== null) {
        callback(new Error(denied));
        return;
      }
      if (handler === 'onExecuteCredentialsExchange' && 'event.accessToken' in derived) {
        const claims = derived['event.accessToken'].customClaims;
        if (isObject(claims)) for (const key of keys(claims)) hooks.accessTokenClaims[key] = claims[key];
      }
      writeScopes();
      dropEmptyDefaults();
      callback(null, currentUser, currentContext);
    };
    return function runAction(user, context, callback) {
      handler = pickHandler(found, natives.trigger());
      adoptInput(user, context);
      return Promise.resolve(exported[handler](event, api)).then(finish(callback));
    };
  }

  // The `auth0` section as JSON, for a refusal (null when empty).
  function askedJson() {
    if (asked === null) return null;
    try {
      return stringify(asked);
    } catch (_) {
      return null;
    }
  }

  return { ruleGlobals, actionGlobals, rule, action, exportedHandlers, askedJson, HANDLER_NAMES };
})
