// Type declarations of @idaas/node (CommonJS index.js and ESM index.mjs export the same API).
// The JSON shapes follow the "JSON schemas" section of include/idaas.h: optional fields are present
// with the value null when the server did not send them; *Time fields are epoch milliseconds.

/// <reference types="node" />

/** Stable string names of the ABI's error codes (include/idaas.h IDAAS_CODE_* without CODE_). */
export type IdaasErrorCode =
  | 'IDAAS_NULL_ARGUMENT'
  | 'IDAAS_INVALID_UTF8'
  | 'IDAAS_INVALID_ARGUMENT'
  | 'IDAAS_BUFFER_TOO_SMALL'
  /** A plugin callback asked its own client for the token it is fetching (same scope). */
  | 'IDAAS_REENTRANT_CALL'
  | 'IDAAS_CONFIG'
  | 'IDAAS_CREDENTIAL'
  | 'IDAAS_AUTH'
  | 'IDAAS_CLIENT_ERROR'
  | 'IDAAS_SERVER_ERROR'
  | 'IDAAS_UNEXPECTED_RESPONSE'
  | 'IDAAS_TRANSPORT'
  | 'IDAAS_TIMEOUT'
  | 'IDAAS_CANCELLED'
  | 'IDAAS_INTERNAL'
  | 'IDAAS_PANIC'
  | 'IDAAS_UNSUPPORTED';

export declare const ErrorCodes: Readonly<Record<IdaasErrorCode | 'IDAAS_OK', number>>;

export interface IdaasErrorProps {
  codeNumber: number;
  kind?: string;
  httpStatus?: number;
  serverCode?: string | null;
  requestId?: string | null;
  cause?: unknown;
}

/** An error of the idaas library. Calls on a closed handle throw a plain Error with code 'ERR_IDAAS_CLOSED'. */
export declare class IdaasError extends Error {
  constructor(message: string, props: IdaasErrorProps);
  readonly name: 'IdaasError';
  /** 'IDAAS_AUTH' ...; a code unknown to this binding is 'IDAAS_' + its upper-cased kind. */
  readonly code: IdaasErrorCode | `IDAAS_${string}`;
  /** The ABI's numeric code, grouped by hundreds (treat an unknown one by its group). */
  readonly codeNumber: number;
  /** The ABI's lower-case name of the code ('auth', 'timeout' ...). */
  readonly kind: string;
  /** HTTP status of the server reply that caused the error; 0 when no server answered. */
  readonly httpStatus: number;
  /** The server's `error`/`Code`, or a catalogue code such as 'InvalidScope'; null if none. */
  readonly serverCode: string | null;
  /** The request id the server sent with the failed reply; null if none. */
  readonly requestId: string | null;
  /** True for 5xx, transport errors, timeouts and HTTP 429. */
  readonly retryable: boolean;
}

export declare const TokenTypes: Readonly<{
  ACCESS_TOKEN: 'urn:ietf:params:oauth:token-type:access_token';
  JWT: 'urn:ietf:params:oauth:token-type:jwt';
  ID_TOKEN: 'urn:ietf:params:oauth:token-type:id_token';
}>;

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
  /** Path of a client-config.json (a leading ~ is expanded). */
  configPath?: string;
  /** The configuration as an object or JSON text. Neither: CLOUD_IDAAS_CONFIG_PATH, else ~/.cloud_idaas/client-config.json. */
  config?: ClientConfig | string;
  /** Appended to the User-Agent (default: "idaas-node/<version> node/<version>"). */
  userAgentSuffix?: string;
  /** Refresh tokens in the prefetch window on a background thread (default true); false refreshes in the first caller. */
  asyncRefresh?: boolean;
}

export interface AsyncClientOptions extends ClientOptions {
  /** Fetch the default-scope token now, so credential and server errors surface here. */
  prefetch?: boolean;
}

/** Token-exchange result (OAuth wire names). */
export interface Credential {
  access_token: string;
  token_type: string;
  expires_in: number;
  /** epoch seconds, 0 = unknown */
  expires_at: number;
  issued_token_type: string | null;
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
   * The cached bearer token, synchronously (sub-microsecond). When no valid token is cached this blocks
   * the event loop on network I/O (warm it with `await getBearerToken()` first); for a PLUGIN client it
   * then throws IDAAS_CREDENTIAL instead of deadlocking.
   */
  getBearerTokenSync(scope?: string | null): string;
  /** RFC 8693 token exchange (never cached). */
  exchangeToken(request: ClientExchangeRequest): Promise<Credential>;
  /** A provider sharing this client's cache for `scope`; stays valid after close(). */
  provider(scope?: string | null): Provider;
  /** A token-exchange provider bound to `scope` (IDAAS_CONFIG for PLUGIN clients). */
  exchangeProvider(scope?: string | null): ExchangeProvider;
  /** A PAM client (IDaaS Developer API); IDAAS_CONFIG without developerApiEndpoint. */
  pam(options?: PamOptions): PamClient;
}

export type AuthenticationTokenType = 'jwt' | 'oauth_access_token';

export interface AuthenticationToken {
  instanceId: string | null;
  authenticationTokenId: string | null;
  authenticationTokenType: AuthenticationTokenType | string | null;
  credentialProviderId: string | null;
  creatorType: string | null;
  creatorId: string | null;
  consumerType: string | null;
  consumerId: string | null;
  revoked: boolean | null;
  createTime: number | null;
  updateTime: number | null;
  expirationTime: number | null;
}

export interface JwtContent {
  jwtValue: string;
  /** Only when issued (includeDerivedShortToken). */
  derivedShortToken?: string;
}

export interface JwtTokenResponse extends AuthenticationToken {
  jwtContent: JwtContent;
}

export interface AuthenticationTokenPage {
  entities: AuthenticationToken[];
  totalCount: number | null;
  maxResults: number | null;
  /** null or "" = last page */
  nextToken: string | null;
}

export interface OAuthAccessTokenContent {
  accessTokenValue: string;
  tokenType: string | null;
  scope: string | null;
}

export interface OAuthAuthorizationSession {
  sessionId: string | null;
  sessionUri: string | null;
  authorizationUrl: string | null;
  sessionStatus: string | null;
}

/** Exactly one of oauthAccessTokenContent / oauthAuthorizationSession is non-null. */
export interface OAuthAuthenticationTokenResponse {
  instanceId: string | null;
  authenticationTokenId: string | null;
  credentialProviderId: string | null;
  authenticationTokenType: string | null;
  revoked: boolean | null;
  creatorType: string | null;
  creatorId: string | null;
  consumerType: string | null;
  consumerId: string | null;
  createTime: number | null;
  updateTime: number | null;
  expirationTime: number | null;
  oauthAccessTokenContent: OAuthAccessTokenContent | null;
  oauthAuthorizationSession: OAuthAuthorizationSession | null;
}

export type SessionStatus = 'pending' | 'callback_received' | 'completed' | 'failed' | 'expired';

export interface OAuthAuthorizationSessionResponse {
  instanceId: string | null;
  sessionId: string | null;
  sessionUri: string | null;
  sessionStatus: SessionStatus | string | null;
  credentialProviderIdentifier: string | null;
  consumerType: string | null;
  consumerId: string | null;
  creatorType: string | null;
  creatorId: string | null;
  authorizationUrl: string | null;
  expirationTime: number | null;
  authenticationTokenId: string | null;
  errorCode: string | null;
  errorDescription: string | null;
}

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
  /** Cancels the poll promptly: it rejects with IDAAS_CANCELLED (cause: the abort reason). */
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

/** A client (no network I/O). */
export declare function createClient(options?: ClientOptions): Client;
/** A client created off the main thread; with prefetch the first token is fetched now. */
export declare function createClientAsync(options?: AsyncClientOptions): Promise<Client>;
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
/** Process-wide logging to `fn` (on the main thread; records are queued from worker threads). null removes it. */
export declare function setLogger(fn: ((record: LogRecord) => void) | null, options?: { level?: LogLevel | number }): void;

export type PluginResult = string | { token: string; expiresIn?: number };
/**
 * Registers a token plugin for clients created afterwards with {"authnMethod": "PLUGIN", "pluginName": name}.
 * A bare string has no lifetime (the plugin is asked on every use); {token, expiresIn} is cached.
 * Use PLUGIN clients through the async API: a synchronous call that needs the plugin throws IDAAS_CREDENTIAL.
 * The plugin must not await its own client's token for the scope it is fetching (the client is waiting
 * for the plugin: both would wait forever; the library detects this only when the call comes from the
 * thread running the fetch, as in C, Go and Java, and reports IDAAS_REENTRANT_CALL). Other scopes and
 * other clients are fine.
 */
export declare function registerPlugin(
  name: string,
  fn: (scope: string) => PluginResult | Promise<PluginResult>,
  options?: { timeoutMs?: number },
): void;

/** The library version, e.g. "0.1.0". */
export declare function version(): string;
/** Diagnostics: native idaas handles not yet freed (close() frees at once when idle; the GC finalizer otherwise). */
export declare function nativeStats(): { liveHandles: number };

declare const idaas: {
  createClient: typeof createClient;
  createClientAsync: typeof createClientAsync;
  staticProvider: typeof staticProvider;
  providerFromCredential: typeof providerFromCredential;
  setLogger: typeof setLogger;
  registerPlugin: typeof registerPlugin;
  version: typeof version;
  nativeStats: typeof nativeStats;
  IdaasError: typeof IdaasError;
  ErrorCodes: typeof ErrorCodes;
  Client: typeof Client;
  PamClient: typeof PamClient;
  Provider: typeof Provider;
  ExchangeProvider: typeof ExchangeProvider;
  TokenTypes: typeof TokenTypes;
};
export default idaas;
