// Type declarations of @idaas/node (CommonJS index.js and ESM index.mjs export the same API).
// The codes and the result shapes come from contract.d.ts, generated from include/idaas.h and
// contract/results.schema.json by scripts/gen-contract.py. *Time fields are epoch milliseconds.

/// <reference types="node" />

import type {
  codes,
  CodeName,
  AuthenticationToken,
  AuthenticationTokenPage,
  Credential,
  JwtContent,
  JwtTokenResponse,
  OAuthAccessTokenContent,
  OAuthAuthenticationTokenResponse,
  OAuthAuthorizationSession,
  OAuthAuthorizationSessionResponse,
} from './contract';

export type {
  CodeName,
  AuthenticationToken,
  AuthenticationTokenPage,
  Credential,
  JwtContent,
  JwtTokenResponse,
  OAuthAccessTokenContent,
  OAuthAuthenticationTokenResponse,
  OAuthAuthorizationSession,
  OAuthAuthorizationSessionResponse,
};

/** The name of an error code ('IDAAS_AUTH' ...): the header's IDAAS_CODE_* without CODE_. */
export type IdaasErrorCode = Exclude<CodeName, 'IDAAS_OK'>;

/** The header's codes by name, e.g. ErrorCodes.IDAAS_AUTH === 301. */
export declare const ErrorCodes: typeof codes;

export interface IdaasErrorProps {
  codeNumber: number;
  kind?: string;
  httpStatus?: number;
  serverCode?: string | null;
  requestId?: string | null;
  retryable?: boolean;
  cause?: unknown;
}

/**
 * An error of the idaas library; the subclass is the class of its code (idaas_code_class).
 * Calls on a closed handle throw a plain Error with code 'ERR_IDAAS_CLOSED'; arguments of the wrong
 * type throw TypeError.
 */
export declare class IdaasError extends Error {
  constructor(message: string, props: IdaasErrorProps);
  /** The class name: 'AuthenticationError', 'NetworkError' ... */
  name: string;
  /** 'IDAAS_AUTH' ...; a code unknown to this binding is 'IDAAS_' + its upper-cased kind. */
  readonly code: IdaasErrorCode | `IDAAS_${string}`;
  /** The ABI's numeric code, grouped by hundreds. */
  readonly codeNumber: number;
  /** The ABI's lower-case name of the code ('auth', 'timeout' ...). */
  readonly kind: string;
  /** HTTP status of the server reply that caused the error; 0 when no server answered. */
  readonly httpStatus: number;
  /** The server's `error`/`Code`, or a catalogue code such as 'InvalidScope'; null if none. */
  readonly serverCode: string | null;
  /** The request id the server sent with the failed reply; null if none. */
  readonly requestId: string | null;
  /** The library's verdict (idaas_error_is_retryable): a 5xx, HTTP 429, a transport failure or a timeout. */
  readonly retryable: boolean;
}
/** 1xx: an argument was rejected locally (invalid value, re-entrant call ...). */
export declare class ArgumentError extends IdaasError {}
/** 2xx: the configuration is missing, unreadable or invalid. */
export declare class ConfigError extends IdaasError {}
/** 3xx: a local credential could not be made (missing secret, plugin failure ...) or the server refused it. */
export declare class AuthenticationError extends IdaasError {}
/** 4xx: the server answered with a refusal (other than authentication), a failure or something unusable. */
export declare class ServerReplyError extends IdaasError {}
/** 5xx: the network failed or a time bound expired. */
export declare class NetworkError extends IdaasError {}
/** 6xx: the call was cancelled (AbortSignal, or a throwing onAuthorizationUrl). */
export declare class CancelledError extends IdaasError {}
/** 9xx and codes outside the known groups: a bug or an unsupported operation. */
export declare class InternalError extends IdaasError {}

/** The JSON of a client-config.json (camelCase; validated by the library). */
export interface ClientConfig {
  idaasInstanceId: string;
  clientId: string;
  issuer: string;
  tokenEndpoint: string;
  scope?: string;
  developerApiEndpoint?: string;
  authnConfiguration: { authnMethod: string; [key: string]: unknown };
  httpConfiguration?: { [key: string]: unknown };
  [key: string]: unknown;
}

export interface ClientOptions {
  /** Appended to the User-Agent (default: "idaas-node/<version> node/<version>"). */
  userAgentSuffix?: string;
  /** Refresh tokens in the prefetch window on a background thread (default true); false refreshes in the first caller. */
  asyncRefresh?: boolean;
}

export interface ExchangeRequest {
  subjectToken: string;
  /** A token-type URN (see TokenTypes). */
  subjectTokenType: string;
  /** Default: the access-token URN. */
  requestedTokenType?: string | null;
}

export interface ClientExchangeRequest extends ExchangeRequest {
  /** Default: the configured scope. */
  scope?: string | null;
}

interface NativeResource {
  /** Releases the native handle now (calls in flight finish first). Idempotent. A finalizer is the backstop. */
  close(): void;
  readonly closed: boolean;
}

export declare class Provider implements NativeResource {
  private constructor();
  close(): void;
  readonly closed: boolean;
  getToken(): Promise<string>;
  /** Synchronous; blocks on network I/O when no valid token is cached. */
  getTokenSync(): string;
}

export declare class ExchangeProvider implements NativeResource {
  private constructor();
  close(): void;
  readonly closed: boolean;
  exchange(request: ExchangeRequest): Promise<Credential>;
}

export interface ApiKeyCacheOptions {
  ttlSecs?: number;
  graceSecs?: number;
  retryIntervalSecs?: number;
  maxEntries?: number;
}

export interface PamOptions {
  /** Serve API keys from memory (true = defaults: ttl 3600 s, grace 900 s, retry 5 s, 1024 entries). */
  apiKeyCache?: boolean | ApiKeyCacheOptions;
  /** Bearer tokens from this provider (or credential, e.g. an exchangeToken result) instead of the client's. */
  provider?: Provider | Credential | string;
}

export declare class Client implements NativeResource {
  private constructor();
  close(): void;
  readonly closed: boolean;
  /** The bearer token for `scope` (default: the configured scope), fetched off the main thread when needed. */
  getBearerToken(scope?: string | null): Promise<string>;
  /**
   * The cached bearer token, synchronously (the hot path). When no valid token is cached this blocks
   * the event loop on network I/O (warm it with `await getBearerToken()` first); for a PLUGIN client it
   * then throws an AuthenticationError (IDAAS_CREDENTIAL) instead of deadlocking.
   */
  getBearerTokenSync(scope?: string | null): string;
  /** RFC 8693 token exchange (never cached). */
  exchangeToken(request: ClientExchangeRequest): Promise<Credential>;
  /** A provider sharing this client's cache for `scope`; stays valid after close(). */
  provider(scope?: string | null): Provider;
  /** A token-exchange provider bound to `scope` (a ConfigError for PLUGIN clients). */
  exchangeProvider(scope?: string | null): ExchangeProvider;
  /** A PAM client (IDaaS Developer API); a ConfigError without developerApiEndpoint. */
  pam(options?: PamOptions): PamClient;
}

export type SessionStatus = 'pending' | 'callback_received' | 'completed' | 'failed' | 'expired';

export type AuthorizationFlow = 'm2m' | 'user_federation';

export interface FetchOAuthTokenOptions {
  /** space-separated, at most 256 characters */
  scope?: string;
  forceAuthentication?: boolean;
  customParameters?: Record<string, string>;
}

export interface PollOAuthTokenOptions extends FetchOAuthTokenOptions {
  /** default 60 */
  maxPollingRetries?: number;
  /** default 3000 */
  intervalMs?: number;
  /** overall deadline of the polling phase (the hard limit stays 180000) */
  timeoutMs?: number;
  /** Called once (main thread) with the URL the user must open; throwing (or rejecting) cancels the poll. */
  onAuthorizationUrl?: (url: string) => unknown;
  /** Cancels the poll promptly: it rejects with a CancelledError (IDAAS_CANCELLED; cause: the abort reason). */
  signal?: AbortSignal;
}

export interface GenerateJwtOptions {
  issuer?: string | null;
  customClaims?: Record<string, unknown>;
  /** lifetime in seconds, > 0 */
  expiration?: number;
  includeDerivedShortToken?: boolean;
}

export interface ListTokensOptions {
  nextToken?: string;
  maxResults?: number;
  revoked?: boolean;
  expired?: boolean;
}

export declare class PamClient implements NativeResource {
  private constructor();
  close(): void;
  readonly closed: boolean;
  /** The API key of a credential (ObtainCredential), or null when it has none. Served from the cache when enabled. */
  getApiKey(credentialIdentifier: string): Promise<string | null>;
  /** Drops the cached key of one credential, or every cached key (synchronous, no I/O). */
  invalidateApiKey(credentialIdentifier?: string | null): void;
  /** @deprecated Use fetchOAuthTokenV2. The access token, or null when the reply carries none. */
  fetchOAuthToken(credentialProviderIdentifier: string, scope?: string | null): Promise<string | null>;
  fetchOAuthTokenV2(
    credentialProviderIdentifier: string,
    authorizationFlow: AuthorizationFlow,
    options?: FetchOAuthTokenOptions,
  ): Promise<OAuthAuthenticationTokenResponse>;
  getOAuthSession(sessionUri: string): Promise<OAuthAuthorizationSessionResponse>;
  /** 3LO: fetch, let the user authorize (onAuthorizationUrl), poll until completed. */
  pollOAuthToken(
    credentialProviderIdentifier: string,
    options?: PollOAuthTokenOptions,
  ): Promise<OAuthAuthenticationTokenResponse>;
  generateJwt(
    credentialProviderIdentifier: string,
    subject: string,
    audiences: string | string[],
    options?: GenerateJwtOptions,
  ): Promise<JwtTokenResponse>;
  obtainJwt(consumerId: string, authenticationTokenId: string): Promise<JwtContent>;
  obtainJwtByShortToken(derivedShortToken: string): Promise<JwtContent>;
  /** ONE page. */
  listTokens(
    consumerId: string,
    credentialProviderIdentifier: string,
    options?: ListTokensOptions,
  ): Promise<AuthenticationTokenPage>;
  /** Every token, page after page. */
  listAllTokens(
    consumerId: string,
    credentialProviderIdentifier: string,
    options?: ListTokensOptions,
  ): AsyncGenerator<AuthenticationToken, void, undefined>;
  validateToken(token: string, tokenTypeHint?: string | null): Promise<boolean>;
  revokeToken(token: string, tokenTypeHint?: string | null): Promise<void>;
  revokeTokensByConsumer(consumerId: string, credentialProviderIdentifier: string): Promise<void>;
  reinstateToken(token: string, tokenTypeHint?: string | null): Promise<void>;
  reinstateTokensByConsumer(consumerId: string, credentialProviderIdentifier: string): Promise<void>;
}

/**
 * The quick start: a client from the configuration file at `configPath`, or — without one — from
 * CLOUD_IDAAS_CONFIG_PATH, else ~/.cloud_idaas/client-config.json. The file is read off the main
 * thread; no network I/O. Rejects with a ConfigError when there is no usable file.
 */
export declare function init(configPath?: string | null): Promise<Client>;

/** A provider returning `accessToken` forever (expiresAt: epoch seconds, informational). */
export declare function staticProvider(accessToken: string, expiresAt?: number): Provider;
/** A static provider from a credential (an exchangeToken result, as object or JSON text). */
export declare function providerFromCredential(credential: Credential | Record<string, unknown> | string): Provider;

export type LogLevel = 'off' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
export interface LogRecord {
  level: Exclude<LogLevel, 'off'>;
  levelNumber: number;
  /** the emitting module, e.g. "idaas::cache", "ureq::run" */
  target: string;
  /** never a secret */
  message: string;
}
export interface LoggerOptions {
  /** The most verbose level delivered (default 'info'). */
  level?: LogLevel | number;
}
export type Logger = (record: LogRecord) => void;

/**
 * The process-wide logger: records of clients without a logger of their own (Config#setLogger) and of
 * the HTTP stack go to `fn`, on the main thread (records are queued from native threads). null removes it.
 */
export declare function setLogger(fn: Logger | null, options?: LoggerOptions): void;

/** What a plugin returns: a bare string has no lifetime (asked on every use); {token, expiresIn} is cached. */
export type PluginResult = string | { token: string; expiresIn?: number };
export type Plugin = (scope: string) => PluginResult | Promise<PluginResult>;
export interface PluginOptions {
  /** How long the native thread waits for the plugin, in ms (default 30000). */
  timeoutMs?: number;
}

/**
 * A validated configuration (the JSON of a client-config.json) with the plugins and logger of the clients
 * made from it: the advanced path, for plugins, a logger of the client's own, or options.
 */
export declare class Config implements NativeResource {
  private constructor();
  /** Loads the file at `configPath`, or finds it as init() does (synchronous: a small local file). */
  static load(configPath?: string | null): Config;
  /** A configuration from an object or JSON text. */
  static fromJSON(config: ClientConfig | string): Config;
  close(): void;
  readonly closed: boolean;
  /**
   * Adds the token plugin `name` for clients made afterwards ({"authnMethod": "PLUGIN", "pluginName": name}).
   * It runs on the main thread; use PLUGIN clients through the async API (a synchronous read that needs
   * the plugin throws an AuthenticationError at once). A plugin that awaits its own client's token for the
   * scope it is fetching gets a NetworkError (RefreshWaitTimeout) after twice the call budget. Released
   * when this configuration and every client made from it are closed.
   */
  addPlugin(name: string, fn: Plugin, options?: PluginOptions): this;
  /** Sends the records of clients made afterwards to `fn` instead of the process-wide logger; null removes it. */
  setLogger(fn: Logger | null, options?: LoggerOptions): this;
  /** A client (no network I/O). */
  createClient(options?: ClientOptions): Client;
}

/** The library version, e.g. "0.1.0". */
export declare function version(): string;
/** Diagnostics: native handles and JS callbacks (plugins, loggers) of the process not yet released. */
export declare function nativeStats(): { liveHandles: number; liveCallbacks: number };

export declare const TokenTypes: Readonly<{
  ACCESS_TOKEN: 'urn:ietf:params:oauth:token-type:access_token';
  JWT: 'urn:ietf:params:oauth:token-type:jwt';
  ID_TOKEN: 'urn:ietf:params:oauth:token-type:id_token';
}>;

declare const idaas: {
  init: typeof init;
  Config: typeof Config;
  setLogger: typeof setLogger;
  staticProvider: typeof staticProvider;
  providerFromCredential: typeof providerFromCredential;
  version: typeof version;
  nativeStats: typeof nativeStats;
  IdaasError: typeof IdaasError;
  ArgumentError: typeof ArgumentError;
  ConfigError: typeof ConfigError;
  AuthenticationError: typeof AuthenticationError;
  ServerReplyError: typeof ServerReplyError;
  NetworkError: typeof NetworkError;
  CancelledError: typeof CancelledError;
  InternalError: typeof InternalError;
  ErrorCodes: typeof ErrorCodes;
  Client: typeof Client;
  PamClient: typeof PamClient;
  Provider: typeof Provider;
  ExchangeProvider: typeof ExchangeProvider;
  TokenTypes: typeof TokenTypes;
};
export default idaas;
