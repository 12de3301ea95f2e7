'use strict';
/*
 * @idaas/node - IDaaS machine credentials for Node.js (CommonJS entry point; index.mjs re-exports it).
 *
 * A thin layer over the native addon (build/idaas.node), itself a thin layer over include/idaas.h:
 * every network call runs on a native worker thread of the addon (never the main thread, never the
 * libuv pool) and returns a Promise; structured results are the ABI's JSON parsed into plain objects.
 * Nothing of the library's logic is re-implemented here.
 */

const path = require('node:path');

function loadNative() {
  const override = process.env.IDAAS_NODE_ADDON;
  return require(override ? path.resolve(override) : path.join(__dirname, 'build', 'idaas.node'));
}

const native = loadNative();
const OPS = native.ops;

/** The stable string names of the ABI's numeric codes (the header's IDAAS_CODE_* without CODE_). */
const CODES = Object.freeze({
  0: 'IDAAS_OK',
  100: 'IDAAS_NULL_ARGUMENT',
  101: 'IDAAS_INVALID_UTF8',
  102: 'IDAAS_INVALID_ARGUMENT',
  103: 'IDAAS_BUFFER_TOO_SMALL',
  104: 'IDAAS_REENTRANT_CALL',
  200: 'IDAAS_CONFIG',
  300: 'IDAAS_CREDENTIAL',
  301: 'IDAAS_AUTH',
  400: 'IDAAS_CLIENT_ERROR',
  401: 'IDAAS_SERVER_ERROR',
  402: 'IDAAS_UNEXPECTED_RESPONSE',
  500: 'IDAAS_TRANSPORT',
  501: 'IDAAS_TIMEOUT',
  600: 'IDAAS_CANCELLED',
  900: 'IDAAS_INTERNAL',
  901: 'IDAAS_PANIC',
  902: 'IDAAS_UNSUPPORTED',
});

/** code name -> number, e.g. ErrorCodes.IDAAS_AUTH === 301 */
const ErrorCodes = Object.freeze(
  Object.fromEntries(Object.entries(CODES).map(([n, name]) => [name, Number(n)])),
);

/**
 * An error of the idaas library. `code` is the stable name ('IDAAS_AUTH' ...), `codeNumber` the
 * ABI's numeric code (grouped by hundreds: treat an unknown one by its group).
 */
class IdaasError extends Error {
  constructor(message, props = {}) {
    super(message, props.cause !== undefined ? { cause: props.cause } : undefined);
    const n = props.codeNumber >>> 0;
    this.name = 'IdaasError';
    this.codeNumber = n;
    this.code = CODES[n] || `IDAAS_${String(props.kind || native.codeName(n)).toUpperCase()}`;
    this.kind = props.kind || native.codeName(n);
    this.httpStatus = props.httpStatus || 0;
    this.serverCode = props.serverCode ?? null;
    this.requestId = props.requestId ?? null;
  }

  /** True when retrying may help: 5xx, transport, timeout, or HTTP 429. */
  get retryable() {
    return (
      this.codeNumber === 401 || this.codeNumber === 500 || this.codeNumber === 501 || this.httpStatus === 429
    );
  }
}
native.init(IdaasError);

function cancelledError(message, cause) {
  return new IdaasError(message, { codeNumber: 600, kind: 'cancelled', cause });
}

/** JSON options for the ABI: undefined when empty, so the ABI applies its defaults. */
function optionsJson(obj, omit) {
  if (obj == null) return null;
  if (typeof obj !== 'object') throw new TypeError('options must be an object');
  const out = {};
  for (const [k, v] of Object.entries(obj)) {
    if (omit && omit.includes(k)) continue;
    if (v !== undefined) out[k] = v;
  }
  return Object.keys(out).length ? JSON.stringify(out) : null;
}

function parse(json) {
  return json == null ? null : JSON.parse(json);
}

const kHandle = Symbol('idaas.handle');

class NativeResource {
  constructor(handle) {
    this[kHandle] = handle;
  }
  /** Releases the native handle now (calls in flight finish first). Idempotent. */
  close() {
    native.close(this[kHandle]);
  }
  get closed() {
    return native.isClosed(this[kHandle]);
  }
}
if (typeof Symbol.dispose === 'symbol') {
  NativeResource.prototype[Symbol.dispose] = function dispose() {
    this.close();
  };
}

const DEFAULT_UA = `idaas-node/${require('./package.json').version} node/${process.versions.node}`;

function clientArgs(options = {}) {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const { configPath, config, userAgentSuffix = DEFAULT_UA, asyncRefresh, prefetch } = options;
  if (configPath != null && config != null) throw new TypeError('give either configPath or config, not both');
  let kind = 0;
  let arg = null;
  if (configPath != null) {
    kind = 1;
    arg = configPath;
  } else if (config != null) {
    kind = 2;
    arg = typeof config === 'string' ? config : JSON.stringify(config);
  }
  return { kind, arg, opts: optionsJson({ userAgentSuffix, asyncRefresh, prefetch }) };
}

/** A credential provider: bearer tokens (cached client scope, or static). */
class Provider extends NativeResource {
  /** The current bearer token (refreshed as needed, off the main thread). */
  async getToken() {
    return native.call(OPS.PROVIDER_GET_TOKEN, this[kHandle]);
  }
  /** The token, synchronously (blocks on network I/O when nothing valid is cached). */
  getTokenSync() {
    return native.providerGetTokenSync(this[kHandle]);
  }
}

/** RFC 8693 token exchange bound to one scope. */
class ExchangeProvider extends NativeResource {
  async exchange({ subjectToken, subjectTokenType, requestedTokenType } = {}) {
    return parse(
      await native.call(OPS.XPROVIDER_EXCHANGE, this[kHandle], subjectToken, subjectTokenType, requestedTokenType),
    );
  }
}

/** A PAM client over `provider` (a Provider, or a credential wrapped in a temporary provider, freed at
 * once: the PAM client shares what it needs). */
function newPam(clientHandle, provider, opts) {
  if (provider == null) return native.pamNew(clientHandle, null, opts);
  if (provider instanceof Provider) return native.pamNew(clientHandle, provider[kHandle], opts);
  if (typeof provider === 'string' || typeof provider === 'object') {
    const tmp = providerFromCredential(provider);
    try {
      return native.pamNew(clientHandle, tmp[kHandle], opts);
    } finally {
      tmp.close();
    }
  }
  throw new TypeError('provider must be a Provider or a credential');
}

/** The IDaaS M2M client: connection pool + refresh-ahead token cache. Share one per configuration. */
class Client extends NativeResource {
  /** The bearer token for `scope` (default: the configured scope); network I/O off the main thread. */
  async getBearerToken(scope) {
    return native.call(OPS.CLIENT_GET_TOKEN, this[kHandle], scope);
  }

  /**
   * The cached bearer token, synchronously (the hot path, ~sub-microsecond). When no valid token is
   * cached this BLOCKS the event loop on network I/O: warm it first with `await getBearerToken()`.
   */
  getBearerTokenSync(scope) {
    return native.clientGetTokenSync(this[kHandle], scope);
  }

  /** RFC 8693 token exchange (never cached). Resolves to the credential object. */
  async exchangeToken({ subjectToken, subjectTokenType, requestedTokenType, scope } = {}) {
    return parse(
      await native.call(OPS.CLIENT_EXCHANGE, this[kHandle], subjectToken, subjectTokenType, requestedTokenType, scope),
    );
  }

  /** A provider sharing this client's cache for `scope`. */
  provider(scope) {
    return new Provider(native.clientGetProvider(this[kHandle], scope ?? null, false));
  }

  /** A token-exchange provider bound to `scope`. */
  exchangeProvider(scope) {
    return new ExchangeProvider(native.clientGetProvider(this[kHandle], scope ?? null, true));
  }

  /**
   * A PAM client. options.apiKeyCache: true or {ttlSecs, graceSecs, retryIntervalSecs, maxEntries};
   * options.provider: a Provider or a credential (object/JSON, e.g. an exchangeToken result).
   */
  pam(options = {}) {
    const { provider, apiKeyCache } = options || {};
    const opts = optionsJson({ apiKeyCache: apiKeyCache === true ? {} : apiKeyCache || undefined });
    return new PamClient(newPam(this[kHandle], provider, opts));
  }
}

/** The PAM client (IDaaS Developer API). Every method returns a Promise and runs off the main thread. */
class PamClient extends NativeResource {
  /** The API key of a credential, or null when the credential has none. */
  async getApiKey(credentialIdentifier) {
    return native.call(OPS.PAM_GET_API_KEY, this[kHandle], credentialIdentifier);
  }

  /** Drops cached API keys (one identifier, or all): synchronous, no I/O. */
  invalidateApiKey(credentialIdentifier) {
    native.pamInvalidateApiKey(this[kHandle], credentialIdentifier ?? null);
  }

  /** @deprecated use fetchOAuthTokenV2. The access token, or null when the reply carries none. */
  async fetchOAuthToken(credentialProviderIdentifier, scope) {
    return native.call(OPS.PAM_FETCH_V1, this[kHandle], credentialProviderIdentifier, scope);
  }

  async fetchOAuthTokenV2(credentialProviderIdentifier, authorizationFlow, options) {
    return parse(
      await native.call(
        OPS.PAM_FETCH_V2,
        this[kHandle],
        credentialProviderIdentifier,
        authorizationFlow,
        optionsJson(options),
      ),
    );
  }

  async getOAuthSession(sessionUri) {
    return parse(await native.call(OPS.PAM_GET_SESSION, this[kHandle], sessionUri));
  }

  /**
   * 3LO: fetch a user-delegated token, calling options.onAuthorizationUrl(url) once when the user must
   * authorize, then polling. options.signal (AbortSignal) cancels promptly (IDAAS_CANCELLED); a throwing
   * onAuthorizationUrl cancels too and the poll rejects with what it threw.
   */
  async pollOAuthToken(credentialProviderIdentifier, options = {}) {
    const { onAuthorizationUrl, signal } = options || {};
    if (onAuthorizationUrl != null && typeof onAuthorizationUrl !== 'function') {
      throw new TypeError('onAuthorizationUrl must be a function');
    }
    const opts = optionsJson(options, ['onAuthorizationUrl', 'signal']);
    if (signal && signal.aborted) throw cancelledError('the poll was aborted before it started', signal.reason);
    const cancel = native.cancelNew();
    let thrown;
    let hasThrown = false;
    const onAbort = () => native.cancelCancel(cancel);
    const onUrl = onAuthorizationUrl
      ? (url) => {
          try {
            const r = onAuthorizationUrl(url);
            if (r && typeof r.then === 'function') {
              r.then(undefined, (e) => {
                hasThrown = true;
                thrown = e;
                native.cancelCancel(cancel);
              });
            }
          } catch (e) {
            hasThrown = true;
            thrown = e;
            native.cancelCancel(cancel);
          }
        }
      : null;
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
    try {
      return parse(await native.poll(this[kHandle], credentialProviderIdentifier, opts, onUrl, cancel));
    } catch (e) {
      if (hasThrown && e instanceof IdaasError && e.codeNumber === 600) throw thrown;
      if (signal && signal.aborted && e instanceof IdaasError && e.codeNumber === 600 && signal.reason !== undefined) {
        e.cause = signal.reason;
      }
      throw e;
    } finally {
      if (signal) signal.removeEventListener('abort', onAbort);
      native.close(cancel);
    }
  }

  /** A JWT for `subject` and `audiences` (string or string[]). */
  async generateJwt(credentialProviderIdentifier, subject, audiences, options) {
    const aud = JSON.stringify(typeof audiences === 'string' ? [audiences] : audiences);
    return parse(
      await native.call(
        OPS.PAM_GENERATE_JWT,
        this[kHandle],
        credentialProviderIdentifier,
        subject,
        aud,
        optionsJson(options),
      ),
    );
  }

  async obtainJwt(consumerId, authenticationTokenId) {
    return parse(await native.call(OPS.PAM_OBTAIN_JWT, this[kHandle], consumerId, authenticationTokenId));
  }

  async obtainJwtByShortToken(derivedShortToken) {
    return parse(await native.call(OPS.PAM_OBTAIN_JWT_BY_SHORT, this[kHandle], derivedShortToken));
  }

  /** ONE page of authentication tokens. */
  async listTokens(consumerId, credentialProviderIdentifier, options) {
    return parse(
      await native.call(OPS.PAM_LIST, this[kHandle], consumerId, credentialProviderIdentifier, optionsJson(options)),
    );
  }

  /** Every authentication token, page after page: `for await (const t of pam.listAllTokens(...))`. */
  async *listAllTokens(consumerId, credentialProviderIdentifier, options = {}) {
    let nextToken = (options && options.nextToken) || undefined;
    const seen = new Set();
    for (;;) {
      const page = await this.listTokens(consumerId, credentialProviderIdentifier, { ...options, nextToken });
      yield* page.entities;
      if (!page.nextToken) return;
      if (seen.has(page.nextToken)) {
        throw new IdaasError('the server returned the same nextToken twice', {
          codeNumber: 402,
          kind: 'unexpected_response',
        });
      }
      seen.add(page.nextToken);
      nextToken = page.nextToken;
    }
  }

  /** True when the token (JWT or derived short token) is active. */
  async validateToken(token, tokenTypeHint) {
    return native.call(OPS.PAM_VALIDATE, this[kHandle], token, tokenTypeHint);
  }

  async revokeToken(token, tokenTypeHint) {
    await native.call(OPS.PAM_REVOKE, this[kHandle], token, tokenTypeHint);
  }

  async revokeTokensByConsumer(consumerId, credentialProviderIdentifier) {
    await native.call(OPS.PAM_REVOKE_BY_CONSUMER, this[kHandle], consumerId, credentialProviderIdentifier);
  }

  async reinstateToken(token, tokenTypeHint) {
    await native.call(OPS.PAM_REINSTATE, this[kHandle], token, tokenTypeHint);
  }

  async reinstateTokensByConsumer(consumerId, credentialProviderIdentifier) {
    await native.call(OPS.PAM_REINSTATE_BY_CONSUMER, this[kHandle], consumerId, credentialProviderIdentifier);
  }
}

/**
 * A client from {configPath} | {config} (object or JSON text) | neither (the default lookup:
 * CLOUD_IDAAS_CONFIG_PATH, else ~/.cloud_idaas/client-config.json). No network I/O (use
 * createClientAsync({prefetch: true}) to surface credential errors at creation).
 */
function createClient(options = {}) {
  if (options && options.prefetch) {
    throw new TypeError('prefetch does network I/O: use createClientAsync({..., prefetch: true})');
  }
  const { kind, arg, opts } = clientArgs(options);
  return new Client(native.clientNew(kind, arg, opts, false));
}

/** Like createClient, off the main thread; with {prefetch: true} the first token is fetched now. */
async function createClientAsync(options = {}) {
  const { kind, arg, opts } = clientArgs(options);
  return new Client(await native.clientNew(kind, arg, opts, true));
}

/** A static provider: `accessToken` forever (expiresAt: epoch seconds, informational). */
function staticProvider(accessToken, expiresAt = 0) {
  return new Provider(native.providerNewStatic(accessToken, expiresAt));
}

/** A static provider from a credential (an exchangeToken result, as object or JSON text). */
function providerFromCredential(credential) {
  return new Provider(
    native.providerFromCredential(typeof credential === 'string' ? credential : JSON.stringify(credential)),
  );
}

const LEVEL_NAMES = ['off', 'error', 'warn', 'info', 'debug', 'trace'];

/**
 * Process-wide logging: fn({level, levelNumber, target, message}) is called on the main thread
 * (records come from worker threads and are queued). null removes the logger.
 */
function setLogger(fn, options = {}) {
  if (fn == null) {
    native.setLogger(null, 0);
    return;
  }
  if (typeof fn !== 'function') throw new TypeError('logger must be a function or null');
  let level = options.level ?? 'info';
  if (typeof level === 'string') {
    const i = LEVEL_NAMES.indexOf(level);
    if (i < 0) throw new RangeError(`unknown log level ${level}`);
    level = i;
  }
  native.setLogger(
    (n, target, message) => fn({ level: LEVEL_NAMES[n] || String(n), levelNumber: n, target, message }),
    level,
  );
}

/**
 * Registers a token plugin for clients created afterwards whose config says
 * {"authnMethod": "PLUGIN", "pluginName": name}. fn(scope) returns (or resolves to) a token string
 * (not cached: asked on every use) or {token, expiresIn} (seconds; cached and refreshed ahead).
 *
 * The library calls plugins on a native thread, which blocks until the main thread has run fn. So
 * a PLUGIN client must be used through the async API: a synchronous call on the main thread that
 * needs a new token fails at once with IDAAS_CREDENTIAL (it cannot wait for the main thread it
 * blocks); a sync call that waits for a token an async call is fetching through the plugin fails
 * after ~1 s ("deadlock avoided"); fn must not wait on a synchronous idaas call. options.timeoutMs (default 30000)
 * bounds the wait of the native thread.
 */
function registerPlugin(name, fn, options = {}) {
  if (typeof fn !== 'function') throw new TypeError('plugin must be a function');
  const dispatch = (scope, ext) => {
    let p;
    try {
      p = Promise.resolve(fn(scope));
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      (r) => {
        const token = typeof r === 'string' ? r : r && r.token;
        const expiresIn = typeof r === 'object' && r ? Number(r.expiresIn) || 0 : 0;
        if (typeof token === 'string') native.pluginAnswer(ext, token, expiresIn, null);
        else native.pluginAnswer(ext, null, 0, 'the plugin must return a token string or {token, expiresIn}');
      },
      (e) => native.pluginAnswer(ext, null, 0, String((e && e.message) || e || 'plugin failed')),
    );
  };
  native.registerPlugin(name, dispatch, options.timeoutMs ?? 30000);
}

/** Diagnostics: the number of native idaas handles not yet freed (all clients, providers, PAM clients ...). */
function nativeStats() {
  return native.stats();
}

/** The library version (e.g. "0.1.0"). */
function version() {
  return native.version();
}

module.exports = {
  createClient,
  createClientAsync,
  staticProvider,
  providerFromCredential,
  setLogger,
  registerPlugin,
  version,
  nativeStats,
  IdaasError,
  ErrorCodes,
  Client,
  PamClient,
  Provider,
  ExchangeProvider,
  TokenTypes: Object.freeze({
    ACCESS_TOKEN: 'urn:ietf:params:oauth:token-type:access_token',
    JWT: 'urn:ietf:params:oauth:token-type:jwt',
    ID_TOKEN: 'urn:ietf:params:oauth:token-type:id_token',
  }),
};
// `import idaas from '@idaas/node'` and TypeScript's default import see the same object.
Object.defineProperty(module.exports, 'default', { value: module.exports, enumerable: false });
