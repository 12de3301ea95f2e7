'use strict';
/*
 * @idaas/node - IDaaS machine credentials for Node.js (CommonJS entry point; index.mjs re-exports it).
 *
 * A thin layer over the native addon (loader.js finds it), itself a thin layer over include/idaas.h:
 * every network call runs on a native thread of the addon and returns a Promise; structured results
 * are the ABI's JSON parsed into plain objects. The codes and result types come from contract.js /
 * contract.d.ts, generated from the header; what an error's class is and whether a retry may help is
 * the library's verdict (idaas_code_class, idaas_error_is_retryable), never re-derived here.
 */

const { codes, classes } = require('./contract');

// IDAAS_NODE_ADDON, else the dev build (build/idaas.node), else this platform's package (loader.js).
const native = require('./loader').loadAddon();

// ---- errors ------------------------------------------------------------------------------------

const CODE_NAMES = new Map(Object.entries(codes).map(([name, n]) => [n, name]));

/**
 * An error of the idaas library. `code` is the stable name ('IDAAS_AUTH' ...), `codeNumber` the
 * ABI's numeric code; the subclass is the code's class (ArgumentError, ConfigError ...).
 */
class IdaasError extends Error {
  constructor(message, props = {}) {
    super(message, props.cause !== undefined ? { cause: props.cause } : undefined);
    const n = props.codeNumber >>> 0;
    this.codeNumber = n;
    this.kind = props.kind || native.codeName(n);
    this.code = CODE_NAMES.get(n) || `IDAAS_${this.kind.toUpperCase()}`;
    this.httpStatus = props.httpStatus || 0;
    this.serverCode = props.serverCode ?? null;
    this.requestId = props.requestId ?? null;
    this.retryable = props.retryable === true;
  }
}
/** 1xx: an argument was rejected locally (invalid value, re-entrant call ...). */
class ArgumentError extends IdaasError {}
/** 2xx: the configuration is missing, unreadable or invalid. */
class ConfigError extends IdaasError {}
/** 3xx: a local credential could not be made, or the server refused it. */
class AuthenticationError extends IdaasError {}
/** 4xx: the server answered with a refusal, a failure or something unusable. */
class ServerReplyError extends IdaasError {}
/** 5xx: the network failed or a time bound expired. */
class NetworkError extends IdaasError {}
/** 6xx: the call was cancelled. */
class CancelledError extends IdaasError {}
/** 9xx (and any code outside the known groups): a bug or an unsupported operation. */
class InternalError extends IdaasError {}

const ERROR_CLASSES = [
  IdaasError,
  ArgumentError,
  ConfigError,
  AuthenticationError,
  ServerReplyError,
  NetworkError,
  CancelledError,
  InternalError,
];
for (const E of ERROR_CLASSES) {
  Object.defineProperty(E.prototype, 'name', { value: E.name, writable: true, configurable: true });
}

/** The binding's error type of each class of the header (what idaas_code_class returns). */
const ERROR_TYPES = new Map([
  [classes.ARGUMENT, ArgumentError],
  [classes.CONFIG, ConfigError],
  [classes.AUTHENTICATION, AuthenticationError],
  [classes.SERVER_REPLY, ServerReplyError],
  [classes.NETWORK, NetworkError],
  [classes.CANCELLED, CancelledError],
  [classes.INTERNAL, InternalError],
]);

/** The addon's error factory: props carry the ABI's verdicts (classNumber, retryable ...). */
function makeError(message, props) {
  const Type = ERROR_TYPES.get(props.classNumber) || IdaasError;
  return new Type(message, props);
}
native.setErrorFactory(makeError);

/** An error the binding raises itself (no library error behind it: nothing to retry). */
function bindingError(codeNumber, message, cause) {
  return makeError(message, { codeNumber, classNumber: native.codeClass(codeNumber), cause });
}

// ---- helpers -----------------------------------------------------------------------------------

/** JSON options for the ABI: null when empty, so that the ABI applies its defaults. */
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

// Asynchronous native calls: fn(...args, id) starts the call; the addon reports its end with
// (id, error, result) on the main thread, which settles the Promise kept under that id.
const calls = new Map();
let lastCallId = 0;
native.setCompletion((id, err, value) => {
  const settle = calls.get(id);
  calls.delete(id);
  if (settle) settle(err, value);
});

/** An asynchronous native call as a Promise. */
function promiseOf(fn, ...args) {
  return new Promise((resolve, reject) => {
    do {
      lastCallId = (lastCallId + 1) >>> 0;
    } while (lastCallId === 0 || calls.has(lastCallId));
    const id = lastCallId;
    fn(...args, id); // throws (bad arguments, closed handle): the Promise rejects, nothing is kept
    calls.set(id, (err, value) => (err ? reject(err) : resolve(value)));
  });
}

function parse(json) {
  return json == null ? null : JSON.parse(json);
}

/** A log level name or number as the ABI's number. */
function logLevel(level) {
  if (typeof level === 'number') return level;
  if (typeof level !== 'string' || !Object.hasOwn(native.logLevels, level)) {
    throw new RangeError(`unknown log level ${String(level)}`);
  }
  return native.logLevels[level];
}
const LEVEL_NAMES = Object.fromEntries(Object.entries(native.logLevels).map(([name, n]) => [n, name]));

/** The addon's (level, target, message) as the record handed to a JS logger. */
function logRecordAdapter(fn) {
  if (typeof fn !== 'function') throw new TypeError('the logger must be a function or null');
  return (n, target, message) => fn({ level: LEVEL_NAMES[n] || String(n), levelNumber: n, target, message });
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

function clientOptionsJson(options) {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  if (options.prefetch !== undefined) {
    throw new TypeError('prefetch would do network I/O on the main thread: use await client.getBearerToken() instead');
  }
  return optionsJson({ userAgentSuffix: DEFAULT_UA, ...options });
}

// ---- providers ---------------------------------------------------------------------------------

/** A credential provider: bearer tokens (cached client scope, or static). */
class Provider extends NativeResource {
  /** The current bearer token (refreshed as needed, off the main thread). */
  async getToken() {
    return promiseOf(native.providerGetToken, this[kHandle]);
  }
  /** The token, synchronously (blocks on network I/O when nothing valid is cached). */
  getTokenSync() {
    return native.providerGetTokenSync(this[kHandle]);
  }
}

/** RFC 8693 token exchange bound to one scope. */
class ExchangeProvider extends NativeResource {
  async exchange({ subjectToken, subjectTokenType, requestedTokenType } = {}) {
    const h = this[kHandle];
    return parse(
      await promiseOf(native.exchangeProviderExchange, h, subjectToken, subjectTokenType, requestedTokenType),
    );
  }
}

/** A static provider: `accessToken` forever (expiresAt: epoch seconds, informational). */
function staticProvider(accessToken, expiresAt = 0) {
  return new Provider(native.providerNewStatic(accessToken, expiresAt));
}

/** A static provider from a credential (an exchangeToken result, as object or JSON text). */
function providerFromCredential(credential) {
  const json = typeof credential === 'string' ? credential : JSON.stringify(credential);
  return new Provider(native.providerFromCredential(json));
}

// ---- the client --------------------------------------------------------------------------------

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
    return promiseOf(native.clientGetToken, this[kHandle], scope);
  }

  /**
   * The cached bearer token, synchronously (the hot path). When no valid token is cached this BLOCKS
   * the event loop on network I/O: warm it first with `await getBearerToken()`.
   */
  getBearerTokenSync(scope) {
    return native.clientGetTokenSync(this[kHandle], scope);
  }

  /** RFC 8693 token exchange (never cached). Resolves to the credential object. */
  async exchangeToken({ subjectToken, subjectTokenType, requestedTokenType, scope } = {}) {
    const h = this[kHandle];
    return parse(
      await promiseOf(native.clientExchangeToken, h, subjectToken, subjectTokenType, requestedTokenType, scope),
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

// ---- the PAM client ----------------------------------------------------------------------------

/** The PAM client (IDaaS Developer API). Every method returns a Promise and runs off the main thread. */
class PamClient extends NativeResource {
  /** The API key of a credential, or null when the credential has none. */
  async getApiKey(credentialIdentifier) {
    return promiseOf(native.pamGetApiKey, this[kHandle], credentialIdentifier);
  }

  /** Drops cached API keys (one identifier, or all): synchronous, no I/O. */
  invalidateApiKey(credentialIdentifier) {
    native.pamInvalidateApiKey(this[kHandle], credentialIdentifier ?? null);
  }

  /** @deprecated use fetchOAuthTokenV2. The access token, or null when the reply carries none. */
  async fetchOAuthToken(credentialProviderIdentifier, scope) {
    return promiseOf(native.pamFetchOAuthToken, this[kHandle], credentialProviderIdentifier, scope);
  }

  async fetchOAuthTokenV2(credentialProviderIdentifier, authorizationFlow, options) {
    return parse(
      await promiseOf(
        native.pamFetchOAuthTokenV2,
        this[kHandle],
        credentialProviderIdentifier,
        authorizationFlow,
        optionsJson(options),
      ),
    );
  }

  async getOAuthSession(sessionUri) {
    return parse(await promiseOf(native.pamGetOAuthSession, this[kHandle], sessionUri));
  }

  /**
   * 3LO: fetch a user-delegated token, calling options.onAuthorizationUrl(url) once when the user must
   * authorize, then polling. options.signal (AbortSignal) cancels promptly (a CancelledError); a
   * throwing onAuthorizationUrl cancels too and the poll rejects with what it threw.
   */
  async pollOAuthToken(credentialProviderIdentifier, options = {}) {
    const { onAuthorizationUrl, signal } = options || {};
    if (onAuthorizationUrl != null && typeof onAuthorizationUrl !== 'function') {
      throw new TypeError('onAuthorizationUrl must be a function');
    }
    const opts = optionsJson(options, ['onAuthorizationUrl', 'signal']);
    if (signal && signal.aborted) {
      throw bindingError(codes.IDAAS_CANCELLED, 'the poll was aborted before it started', signal.reason);
    }
    const cancel = native.cancelNew();
    let thrown;
    let hasThrown = false;
    const fail = (e) => {
      hasThrown = true;
      thrown = e;
      native.cancelCancel(cancel);
    };
    const onAbort = () => native.cancelCancel(cancel);
    const onUrl = onAuthorizationUrl
      ? (url) => {
          try {
            const r = onAuthorizationUrl(url);
            if (r && typeof r.then === 'function') r.then(undefined, fail);
          } catch (e) {
            fail(e);
          }
        }
      : null;
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
    try {
      const h = this[kHandle];
      return parse(await promiseOf(native.pamPollOAuthToken, h, credentialProviderIdentifier, opts, onUrl, cancel));
    } catch (e) {
      if (hasThrown && e instanceof CancelledError) throw thrown;
      if (signal && signal.aborted && e instanceof CancelledError && signal.reason !== undefined) {
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
    const h = this[kHandle];
    return parse(
      await promiseOf(native.pamGenerateJwt, h, credentialProviderIdentifier, subject, aud, optionsJson(options)),
    );
  }

  async obtainJwt(consumerId, authenticationTokenId) {
    return parse(await promiseOf(native.pamObtainJwt, this[kHandle], consumerId, authenticationTokenId));
  }

  async obtainJwtByShortToken(derivedShortToken) {
    return parse(await promiseOf(native.pamObtainJwtByShortToken, this[kHandle], derivedShortToken));
  }

  /** ONE page of authentication tokens. */
  async listTokens(consumerId, credentialProviderIdentifier, options) {
    const h = this[kHandle];
    return parse(
      await promiseOf(native.pamListTokens, h, consumerId, credentialProviderIdentifier, optionsJson(options)),
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
        throw bindingError(codes.IDAAS_UNEXPECTED_RESPONSE, 'the server returned the same nextToken twice');
      }
      seen.add(page.nextToken);
      nextToken = page.nextToken;
    }
  }

  /** True when the token (JWT or derived short token) is active. */
  async validateToken(token, tokenTypeHint) {
    return promiseOf(native.pamValidateToken, this[kHandle], token, tokenTypeHint);
  }

  async revokeToken(token, tokenTypeHint) {
    await promiseOf(native.pamRevokeToken, this[kHandle], token, tokenTypeHint);
  }

  async revokeTokensByConsumer(consumerId, credentialProviderIdentifier) {
    await promiseOf(native.pamRevokeTokensByConsumer, this[kHandle], consumerId, credentialProviderIdentifier);
  }

  async reinstateToken(token, tokenTypeHint) {
    await promiseOf(native.pamReinstateToken, this[kHandle], token, tokenTypeHint);
  }

  async reinstateTokensByConsumer(consumerId, credentialProviderIdentifier) {
    await promiseOf(native.pamReinstateTokensByConsumer, this[kHandle], consumerId, credentialProviderIdentifier);
  }
}

// ---- starting: init, or a Config -----------------------------------------------------------------

/**
 * The quick start: a client from the configuration file at `configPath`, or — without one — from
 * CLOUD_IDAAS_CONFIG_PATH, else ~/.cloud_idaas/client-config.json. Reads the file off the main
 * thread; no network I/O (the first token is fetched by the first getBearerToken()).
 */
async function init(configPath) {
  return new Client(await promiseOf(native.init, configPath ?? null, clientOptionsJson({})));
}

/** The plugin as the addon calls it: (scope, call) -> answers through native.pluginAnswer(call, ...). */
function pluginDispatcher(fn) {
  return (scope, call) => {
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
        if (typeof token === 'string') native.pluginAnswer(call, token, expiresIn, null);
        else native.pluginAnswer(call, null, 0, 'the plugin must return a token string or {token, expiresIn}');
      },
      (e) => native.pluginAnswer(call, null, 0, String((e && e.message) || e || 'plugin failed')),
    );
  };
}

/**
 * A validated configuration (the JSON of a client-config.json) and the plugins and logger of the
 * clients made from it: the advanced path, for plugins, a logger of the client's own, or options.
 */
class Config extends NativeResource {
  /** Loads the file at `configPath`, or finds it as init() does. Synchronous (a small local file). */
  static load(configPath) {
    return new Config(native.configLoad(configPath ?? null));
  }

  /** A configuration from an object or JSON text. */
  static fromJSON(config) {
    return new Config(native.configFromJson(typeof config === 'string' ? config : JSON.stringify(config)));
  }

  /**
   * Adds the token plugin `name` for clients made afterwards from this configuration
   * ({"authnMethod": "PLUGIN", "pluginName": name}). fn(scope) returns (or resolves to) a token
   * string (not cached: asked on every use) or {token, expiresIn} (seconds; cached and refreshed
   * ahead). options.timeoutMs (default 30000) bounds how long the native thread waits for fn.
   * Released when this configuration and every client made from it are closed.
   */
  addPlugin(name, fn, options = {}) {
    if (typeof fn !== 'function') throw new TypeError('the plugin must be a function');
    const timeoutMs = (options && options.timeoutMs) ?? 30000;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > 0x7fffffff) {
      throw new TypeError('timeoutMs must be a positive integer (milliseconds)');
    }
    native.configAddPlugin(this[kHandle], name, pluginDispatcher(fn), timeoutMs);
    return this;
  }

  /**
   * Sends the log records of clients made afterwards from this configuration to
   * fn({level, levelNumber, target, message}) on the main thread, instead of the process-wide logger
   * (setLogger). null removes it for later clients.
   */
  setLogger(fn, options = {}) {
    if (fn == null) native.configSetLogger(this[kHandle], null, 0);
    else native.configSetLogger(this[kHandle], logRecordAdapter(fn), logLevel((options && options.level) ?? 'info'));
    return this;
  }

  /** A client (no network I/O). options: {userAgentSuffix, asyncRefresh}. */
  createClient(options = {}) {
    return new Client(native.clientNew(this[kHandle], clientOptionsJson(options)));
  }
}

/**
 * The process-wide logger: records of clients without a logger of their own (Config#setLogger) and
 * of the HTTP stack go to fn({level, levelNumber, target, message}), on the main thread. null
 * removes it.
 */
function setLogger(fn, options = {}) {
  if (fn == null) native.setLogger(null, 0);
  else native.setLogger(logRecordAdapter(fn), logLevel((options && options.level) ?? 'info'));
}

/** Diagnostics: native handles (configs, clients, providers, PAM clients ...) and JS callbacks (plugins,
 * loggers) not yet released, in the whole process. */
function nativeStats() {
  return native.stats();
}

/** The library version (e.g. "0.1.0"). */
function version() {
  return native.version();
}

module.exports = {
  init,
  Config,
  setLogger,
  staticProvider,
  providerFromCredential,
  version,
  nativeStats,
  IdaasError,
  ArgumentError,
  ConfigError,
  AuthenticationError,
  ServerReplyError,
  NetworkError,
  CancelledError,
  InternalError,
  ErrorCodes: codes,
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
