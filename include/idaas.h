/*
 * idaas.h - the C ABI of the idaas library (IDaaS machine credentials: M2M core + PAM client).
 *
 * Quick start:
 *     idaas_client *client; idaas_error *err; char *token;
 *     if (idaas_init(NULL, &client, &err) != IDAAS_CODE_OK) { ... idaas_error_message(err) ... }
 *     if (idaas_client_get_token(client, NULL, &token, &err) == IDAAS_CODE_OK) {
 *         ... use token ...; idaas_string_free(token);
 *     }
 *     idaas_client_free(client);
 *
 * Build flags: `pkg-config --cflags --libs idaas` (shared library) or `pkg-config --static --libs
 * idaas` (static library: its Libs.private lists the system libraries it needs).
 *
 * ---------------------------------------------------------------------------------------------
 * Names
 * ---------------------------------------------------------------------------------------------
 * Every name is prefixed idaas_ / IDAAS_. A function is idaas_<object>_<action>, where <object>
 * is the handle it acts on without the idaas_ prefix (idaas_client -> client, idaas_pam -> pam,
 * idaas_error -> error, idaas_plugin_result -> plugin_result ...) and that handle is its first
 * argument, or the function creates it (an idaas_<object> ** out-parameter: idaas_<object>_new*,
 * idaas_config_load, idaas_config_from_json); or <object> is a kind of plain value: string,
 * buffer, code, log, debug (test hooks). Two entry points stand alone: idaas_init and
 * idaas_version. (`make check-header` checks this for every function.)
 *
 * ---------------------------------------------------------------------------------------------
 * Ownership
 * ---------------------------------------------------------------------------------------------
 * - Handles (idaas_config, idaas_client, idaas_provider, idaas_exchange_provider, idaas_pam,
 *   idaas_cancel, idaas_error) are opaque and owned by the caller. Each is created by one function
 *   (out-parameter) and freed by exactly one idaas_<object>_free. Passing NULL to any _free is a
 *   no-op. Never free a handle twice, never use it after its _free.
 * - idaas_plugin_result is lent by the library to a plugin callback, valid during that call only;
 *   it is never freed by the caller.
 * - Handles never borrow each other: a provider, exchange provider or PAM client made from a client
 *   keeps what it needs alive, so the client (or config) may be freed first.
 * - Input strings (const char *) are borrowed NUL-terminated UTF-8, only for the duration of the
 *   call. NULL for a required string is IDAAS_CODE_NULL_ARGUMENT; invalid UTF-8 is
 *   IDAAS_CODE_INVALID_UTF8. Parameters documented as nullable accept NULL ("use the default").
 * - Output strings (char **x_out) are owned by the caller and must be released with
 *   idaas_string_free(), which zeroes them first (they often hold secrets). Never free() them.
 * - Strings read from an idaas_error (message, server code, request id) are borrowed from it and
 *   valid until idaas_error_free(). idaas_version(), idaas_code_name() and idaas_error_kind_name()
 *   return static strings.
 * - Out-parameters are written only on success (exception: the *_into functions store the
 *   required size in *len_out on IDAAS_CODE_BUFFER_TOO_SMALL). All out-parameters must be non-NULL,
 *   except err_out.
 *
 * ---------------------------------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------------------------------
 * - Every fallible function returns an idaas_code (IDAAS_CODE_OK == 0 is success) and takes
 *   `idaas_error **err_out` as its LAST parameter. err_out may be NULL when only the code is
 *   wanted. Otherwise *err_out is set to NULL on success and to a new idaas_error on failure, which
 *   the caller frees with idaas_error_free(). There is no thread-local "last error" (a goroutine may
 *   change OS threads between two cgo calls).
 * - idaas_error accessors: idaas_error_code, idaas_error_message (never a secret),
 *   idaas_error_http_status (0 = no server reply), idaas_error_server_code (the server's
 *   `error`/`Code`, or a catalogue code such as "InvalidScope"; NULL if none),
 *   idaas_error_request_id (NULL if none), idaas_error_is_retryable, idaas_error_kind_name.
 * - Codes are grouped by hundreds and never renumbered; idaas_code_class() gives the group of any
 *   code, also of a code a newer library adds. Whether a retry can help is idaas_error_is_retryable().
 * - No panic or Rust unwinding ever crosses this boundary: a bug inside the library becomes
 *   IDAAS_CODE_PANIC. Callbacks given to the library must not unwind either (no C++ exceptions,
 *   no longjmp out of them).
 *
 * ---------------------------------------------------------------------------------------------
 * Thread safety and callbacks
 * ---------------------------------------------------------------------------------------------
 * - Functions taking a `const idaas_x *` are safe to call from many threads at once on the same
 *   handle. Share one idaas_client per configuration: it holds the token cache and the connection
 *   pool. Functions taking a non-const handle (idaas_config_add_plugin, idaas_config_set_logger)
 *   must not race with other calls on it.
 * - A _free must not race with any other use of the same handle (free it after every call using
 *   it has returned). Handles are not bound to a thread.
 * - Callbacks belong to a handle: token plugins and a logger are added to an idaas_config and
 *   used by the clients made from it; each callback's free_user_data(user_data) runs once when
 *   the last handle using it is gone. idaas_log_set_callback is a process-wide convenience for the
 *   rest. Callbacks may be invoked from any thread, also concurrently, so their user_data must be
 *   usable from any thread. Blocking calls (network, the 3LO poll) block only the calling thread;
 *   run them off event loops.
 *
 * ---------------------------------------------------------------------------------------------
 * JSON schemas
 * ---------------------------------------------------------------------------------------------
 * Structured results are returned as owned UTF-8 JSON strings (char **x_json_out, freed with
 * idaas_string_free); operations with optional parameters take `const char *options_json`
 * (nullable: NULL or "{}" = all defaults; unknown keys are rejected with
 * IDAAS_CODE_INVALID_ARGUMENT, so typos do not pass silently). The shapes of the results
 * (Credential, JwtContent, JwtTokenResponse, AuthenticationToken, AuthenticationTokenPage,
 * OAuthAuthenticationTokenResponse, OAuthAuthorizationSessionResponse) are defined by the JSON
 * Schema contract/results.schema.json, generated from the library's Rust types; each function says
 * which one it returns. Times: *Time fields are epoch milliseconds, expires_at is epoch seconds.
 * Parse results with a real JSON parser and ignore unknown fields: fields may be added.
 */


#ifndef IDAAS_H
#define IDAAS_H

/* Generated by cbindgen 0.29.4 from idaas-ffi (idaas-ffi/cbindgen.toml). Do not edit: run `make header`. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * Log level: no logging (only as a `max_level`).
 */
#define IDAAS_LOG_LEVEL_OFF 0

/**
 * Log level: errors.
 */
#define IDAAS_LOG_LEVEL_ERROR 1

/**
 * Log level: warnings (e.g. a failed background refresh while the cached token is still valid).
 */
#define IDAAS_LOG_LEVEL_WARN 2

/**
 * Log level: informational messages.
 */
#define IDAAS_LOG_LEVEL_INFO 3

/**
 * Log level: debugging messages (requests and replies without their secrets).
 */
#define IDAAS_LOG_LEVEL_DEBUG 4

/**
 * Log level: very verbose tracing.
 */
#define IDAAS_LOG_LEVEL_TRACE 5

/**
 * The status of a call. `IDAAS_CODE_OK` (0) is success; every other value is a failure whose details
 * are in the `idaas_error` written to `*err_out`.
 *
 * Values are grouped by hundreds and never renumbered; new codes may be added, so handle a code by
 * its class (`idaas_code_class`, which also classifies codes this library does not know).
 */
enum idaas_code
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
    /**
     * Success.
     */
    IDAAS_CODE_OK = 0,
    /**
     * A required pointer argument was NULL.
     */
    IDAAS_CODE_NULL_ARGUMENT = 100,
    /**
     * A string argument was not valid UTF-8.
     */
    IDAAS_CODE_INVALID_UTF8 = 101,
    /**
     * An argument was invalid (empty identifier, bad scope, malformed `options_json` ...).
     */
    IDAAS_CODE_INVALID_ARGUMENT = 102,
    /**
     * The caller's buffer is too small; the required size was written to the length out-parameter.
     */
    IDAAS_CODE_BUFFER_TOO_SMALL = 103,
    /**
     * A token source (a PLUGIN callback) asked its own client for the token it is fetching (same
     * scope), from inside its callback. That call would wait for itself forever, so it fails at once
     * with this code; ask another client, or the same client for another scope.
     */
    IDAAS_CODE_REENTRANT_CALL = 104,
    /**
     * The configuration (file, JSON) is missing, unreadable or invalid.
     */
    IDAAS_CODE_CONFIG = 200,
    /**
     * A local credential could not be produced (missing secret environment variable, unreadable
     * private key, plugin failure ...).
     */
    IDAAS_CODE_CREDENTIAL = 300,
    /**
     * A server refused authentication or authorization (token endpoint `invalid_client`,
     * `invalid_scope` ..., Developer API 401/403).
     */
    IDAAS_CODE_AUTH = 301,
    /**
     * A server rejected the request for another client-side reason (other 4xx: 400, 404, 429 ...).
     */
    IDAAS_CODE_CLIENT_ERROR = 400,
    /**
     * A server failed (5xx).
     */
    IDAAS_CODE_SERVER_ERROR = 401,
    /**
     * A server answered with something unusable (unexpected status, malformed body ...).
     */
    IDAAS_CODE_UNEXPECTED_RESPONSE = 402,
    /**
     * The network failed (connection refused or reset, DNS, TLS).
     */
    IDAAS_CODE_TRANSPORT = 500,
    /**
     * A connect or read timeout, or a deadline, expired.
     */
    IDAAS_CODE_TIMEOUT = 501,
    /**
     * The call was cancelled through an `idaas_cancel`.
     */
    IDAAS_CODE_CANCELLED = 600,
    /**
     * A bug or unexpected state inside the library.
     */
    IDAAS_CODE_INTERNAL = 900,
    /**
     * A panic was caught at the boundary (a bug in the library); the process is unaffected.
     */
    IDAAS_CODE_PANIC = 901,
    /**
     * The operation is not supported by this build or configuration.
     */
    IDAAS_CODE_UNSUPPORTED = 902,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum idaas_code idaas_code;
#else
typedef uint32_t idaas_code;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * The class of a code: its hundreds group, which is how callers should treat a code they do not
 * know. Bindings map classes to their error types.
 */
enum idaas_class
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
    /**
     * `IDAAS_CODE_OK`.
     */
    IDAAS_CLASS_OK = 0,
    /**
     * 1xx: an argument was rejected locally (NULL, bad UTF-8, invalid value, re-entrant call).
     */
    IDAAS_CLASS_ARGUMENT = 1,
    /**
     * 2xx: the configuration is missing, unreadable or invalid.
     */
    IDAAS_CLASS_CONFIG = 2,
    /**
     * 3xx: authentication failed (a local credential could not be made, or the server refused it).
     */
    IDAAS_CLASS_AUTHENTICATION = 3,
    /**
     * 4xx: the server answered with a refusal, a failure or something unusable.
     */
    IDAAS_CLASS_SERVER_REPLY = 4,
    /**
     * 5xx: the network failed or a time bound expired.
     */
    IDAAS_CLASS_NETWORK = 5,
    /**
     * 6xx: the caller cancelled the call.
     */
    IDAAS_CLASS_CANCELLED = 6,
    /**
     * 9xx and any code outside the groups above: a bug or an unsupported operation.
     */
    IDAAS_CLASS_INTERNAL = 9,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum idaas_class idaas_class;
#else
typedef uint32_t idaas_class;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * A cancellation token. Create it with `idaas_cancel_new`, pass it (const) to a blocking call such as
 * `idaas_pam_poll_oauth_token`, and call `idaas_cancel_cancel` from any thread to make that call return
 * `IDAAS_CODE_CANCELLED` promptly. Once cancelled it stays cancelled; use a new token per operation.
 * Free it with `idaas_cancel_free` after the calls using it have returned.
 */
typedef struct idaas_cancel idaas_cancel;

/**
 * The IDaaS M2M client: one HTTP connection pool and one refresh-ahead token cache per scope.
 * Creating it does no network I/O unless asked to; the first token of a scope is fetched on first
 * use. Share one client between threads (all functions taking `const idaas_client *` are
 * thread-safe). Free with `idaas_client_free` after every call using it has returned; providers,
 * exchange providers and PAM clients made from it stay valid.
 */
typedef struct idaas_client idaas_client;

/**
 * A validated configuration (the JSON of the IDaaS `client-config.json`) plus the token plugins
 * and log callback of the clients made from it. Create clients with `idaas_client_new`; free with
 * `idaas_config_free` (clients made from it stay valid and keep their callbacks). Functions that
 * change it (`idaas_config_add_plugin`, `idaas_config_set_logger`) must not race with other calls
 * on it.
 */
typedef struct idaas_config idaas_config;

/**
 * An error returned through `idaas_error **err_out`. Owned by the caller; free it with
 * `idaas_error_free`. All strings read from it are borrowed and valid until it is freed. Messages
 * never contain a secret.
 */
typedef struct idaas_error idaas_error;

/**
 * A token-exchange provider: RFC 8693 exchanges with the client's authentication for one scope
 * (`idaas_client_get_exchange_provider`). Exchanges are never cached. Thread-safe; free with
 * `idaas_exchange_provider_free`.
 */
typedef struct idaas_exchange_provider idaas_exchange_provider;

/**
 * The PAM client (IDaaS Developer API: API keys, OAuth tokens held by IDaaS, JWT authentication
 * tokens). Made from a client (`idaas_pam_new`: bearer tokens for scope
 * `urn:cloud:idaas:pam|.all`) or from a client plus an explicit provider
 * (`idaas_pam_new_with_provider`, e.g. a token-exchange result for the user-bound 3LO
 * operations). It shares the client's connection pool, timeouts and CA settings but not its
 * lifetime. Thread-safe; free with `idaas_pam_free`.
 */
typedef struct idaas_pam idaas_pam;

/**
 * The result slot a plugin callback fills: call `idaas_plugin_result_set_token` (success) or
 * `idaas_plugin_result_set_error` (failure) on it. Owned by the library and valid only during the
 * callback; the strings passed to the setters are copied.
 */
typedef struct idaas_plugin_result idaas_plugin_result;

/**
 * A credential provider: hands out bearer tokens. Either bound to a client scope
 * (`idaas_client_get_provider`: cached, refreshed ahead of expiry) or static
 * (`idaas_provider_new_static`, `idaas_provider_new_from_credential_json`: one token forever, e.g.
 * the result of a token exchange for the PAM client). Thread-safe; free with `idaas_provider_free`.
 */
typedef struct idaas_provider idaas_provider;

/**
 * A token plugin callback: produce a token for `scope` (the scope string verbatim, already
 * validated) and store it with `idaas_plugin_result_set_token(result, token, expires_in_secs)`.
 * Return 0 on success; any other value is a failure (`IDAAS_CODE_CREDENTIAL`, server code
 * `PluginFailed`, with the message from `idaas_plugin_result_set_error` if given). Called when the
 * client needs a new token (first use, refresh ahead of expiry), from any thread, possibly
 * concurrently for different scopes; blocking inside it is fine. It must not unwind. Asking the
 * client that invoked it for a token of the same scope fails at once with
 * `IDAAS_CODE_REENTRANT_CALL` (its cache is waiting for this very result); from another thread
 * such a call would wait, and gives up with `IDAAS_CODE_TIMEOUT` after twice the call budget.
 */
typedef int32_t (*idaas_plugin_callback)(void *user_data,
                                         const char *scope,
                                         idaas_plugin_result *result);

/**
 * Releases a callback's `user_data` when the library no longer needs it (NULL: nothing to do).
 * Called once, from any thread, after the last call of the callback has returned.
 */
typedef void (*idaas_free_callback)(void *user_data);

/**
 * A log callback: `level` is one of `IDAAS_LOG_LEVEL_ERROR` .. `IDAAS_LOG_LEVEL_TRACE`; `target` is
 * the emitting module (e.g. `"idaas::cache"`, `"ureq::run"`); `message` the text (never a secret:
 * the HTTP stack's TRACE records, which dump raw requests and replies, are never delivered). Both
 * strings are borrowed for the duration of the call only. May be invoked from any thread, also
 * concurrently; it must never unwind (no C++ exceptions, no longjmp).
 */
typedef void (*idaas_log_callback)(uint32_t level,
                                   const char *target,
                                   const char *message,
                                   void *user_data);

/**
 * The authorization-URL callback of `idaas_pam_poll_oauth_token`: show `url` to the user (open a
 * browser, print it ...). `url` is borrowed for the call. Called at most once, on the thread that
 * called `idaas_pam_poll_oauth_token`, before polling starts. Return 0 to continue polling; any other
 * value aborts the poll with `IDAAS_CODE_CANCELLED`. It must not unwind.
 */
typedef int32_t (*idaas_url_callback)(const char *url, void *user_data);

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * Creates a client from the configuration file at `config_path`, or — when `config_path` is NULL —
 * from the reference SDKs' lookup: the file named by `CLOUD_IDAAS_CONFIG_PATH`, else
 * `~/.cloud_idaas/client-config.json`. No network I/O: the first token is fetched by the first
 * `idaas_client_get_token`. Free the client with `idaas_client_free`.
 *
 * For plugins, a logger of the client's own, or options, load the configuration with
 * `idaas_config_load`, add them to it, and call `idaas_client_new`.
 *
 * Errors: `IDAAS_CODE_CONFIG` (no file, unreadable, invalid content; the message says which check
 * failed and, when the default file is missing but `~/.cloud_idaas/client_config.json` exists,
 * that it must be renamed).
 */
idaas_code idaas_init(const char *config_path,
                      idaas_client **client_out,
                      idaas_error **err_out);

/**
 * The library version (`CARGO_PKG_VERSION`, e.g. `"0.1.0"`). Static: never freed, never NULL.
 */
const char *idaas_version(void);

/**
 * Test hook: provokes a panic inside the boundary, which comes back as `IDAAS_CODE_PANIC` with an
 * error. Only in builds with the `test-hooks` cargo feature; otherwise returns
 * `IDAAS_CODE_UNSUPPORTED`.
 */
idaas_code idaas_debug_panic(idaas_error **err_out);

/**
 * Creates a cancellation token (not cancelled). Free it with `idaas_cancel_free`.
 */
idaas_code idaas_cancel_new(idaas_cancel **cancel_out, idaas_error **err_out);

/**
 * Cancels: every call using `cancel` returns `IDAAS_CODE_CANCELLED` as soon as it notices (a sleeping
 * poll wakes at once; an HTTP request in flight is finished first). Thread-safe; idempotent; NULL is a
 * no-op.
 */
void idaas_cancel_cancel(const idaas_cancel *cancel);

/**
 * True once `idaas_cancel_cancel` was called on `cancel` (false for NULL).
 */
bool idaas_cancel_is_cancelled(const idaas_cancel *cancel);

/**
 * Frees a cancellation token. It must not be in use by a running call. NULL is a no-op.
 */
void idaas_cancel_free(idaas_cancel *cancel);

/**
 * Creates a client from `config` (copied, with its plugins and logger: the config may be freed
 * afterwards).
 *
 * `options_json` (nullable) — `{"userAgentSuffix": string, "asyncRefresh": bool, "prefetch": bool}`:
 * `userAgentSuffix` is appended to the User-Agent (bindings identify themselves here);
 * `asyncRefresh` refreshes tokens in the prefetch window on a background thread (default true: no
 * caller waits for the network while the cached token is still served; `false`: the first caller in
 * the window refreshes in its own thread while others are served the cached token — no library
 * threads, and PLUGIN callbacks only ever run in calling threads);
 * `prefetch` fetches the default-scope token now (network I/O) so that credential and server errors
 * surface from the constructor, as the reference `init()` does (default false: no I/O here).
 *
 * A configuration with `authnMethod: PLUGIN` needs its `pluginName` added with
 * `idaas_config_add_plugin` before this call. Errors: `IDAAS_CODE_CONFIG` (e.g. unreadable
 * `caCertificatePath`, plugin not added), `IDAAS_CODE_INVALID_ARGUMENT` (bad options); with
 * `prefetch`, any error of `idaas_client_get_token`.
 */
idaas_code idaas_client_new(const idaas_config *config,
                            const char *options_json,
                            idaas_client **client_out,
                            idaas_error **err_out);

/**
 * Frees a client. Must not race with other calls on it. NULL is a no-op.
 */
void idaas_client_free(idaas_client *client);

/**
 * The hot path: the bearer token for `scope` (nullable: NULL = the configured default scope, the
 * fastest path), served from the cache and refreshed ahead of expiry (blocking network I/O only when
 * no valid token is cached). `*token_out` receives an owned copy: release it with
 * `idaas_string_free`.
 *
 * Errors: `IDAAS_CODE_INVALID_ARGUMENT` (`InvalidScope`, `MultipleAudienceNotSupported`),
 * `IDAAS_CODE_CREDENTIAL` (e.g. the client-secret environment variable is not set),
 * `IDAAS_CODE_AUTH` (token endpoint refused: `invalid_client`, `invalid_scope` ...),
 * `IDAAS_CODE_CLIENT_ERROR`, `IDAAS_CODE_SERVER_ERROR`, `IDAAS_CODE_UNEXPECTED_RESPONSE`,
 * `IDAAS_CODE_TRANSPORT`, `IDAAS_CODE_TIMEOUT`.
 */
idaas_code idaas_client_get_token(const idaas_client *client,
                                  const char *scope,
                                  char **token_out,
                                  idaas_error **err_out);

/**
 * Zero-allocation variant of `idaas_client_get_token`: copies the token and a terminating NUL into
 * `buf` (`cap` bytes) and stores its length (without the NUL) in `*len_out`. When `cap` is too small
 * (or `buf` is NULL) nothing is copied, `*len_out` receives the required size in bytes (length + 1)
 * and the result is `IDAAS_CODE_BUFFER_TOO_SMALL` (the token is still cached: retry with a bigger
 * buffer; 2048 bytes fit typical tokens). Wipe the buffer with `idaas_buffer_wipe` when done.
 */
idaas_code idaas_client_get_token_into(const idaas_client *client,
                                       const char *scope,
                                       char *buf,
                                       size_t cap,
                                       size_t *len_out,
                                       idaas_error **err_out);

/**
 * Version-aware `idaas_client_get_token_into`, for callers that keep a copy of the token (language
 * bindings caching a string): the hot path copies nothing when the caller's copy is current.
 *
 * `*version_inout` is the version of the caller's copy (0 = no copy). The token is looked up (and
 * refreshed as needed) exactly as by `idaas_client_get_token`. When it still has that version,
 * nothing is copied, `*len_out` is 0 and the result is `IDAAS_CODE_OK`: the caller's copy is
 * current. Otherwise the token and a NUL are copied into `buf` as by `idaas_client_get_token_into`,
 * `*len_out` receives its length and `*version_inout` its version (≥ 1; it changes whenever a new
 * token is cached; versions are per client and scope). When `buf` is NULL or `cap` too small:
 * `IDAAS_CODE_BUFFER_TOO_SMALL`, `*len_out` = bytes needed, `*version_inout` unchanged.
 */
idaas_code idaas_client_get_token_versioned(const idaas_client *client,
                                            const char *scope,
                                            uint64_t *version_inout,
                                            char *buf,
                                            size_t cap,
                                            size_t *len_out,
                                            idaas_error **err_out);

/**
 * The credential provider for `scope` (nullable: the configured default scope). It shares the
 * client's cache for that scope and stays valid after `idaas_client_free`. No network I/O here.
 * Errors: `IDAAS_CODE_INVALID_ARGUMENT` for an invalid scope.
 */
idaas_code idaas_client_get_provider(const idaas_client *client,
                                     const char *scope,
                                     idaas_provider **provider_out,
                                     idaas_error **err_out);

/**
 * A token-exchange provider bound to `scope` (nullable: the configured default scope). Stays valid
 * after `idaas_client_free`. No network I/O here. Errors: `IDAAS_CODE_INVALID_ARGUMENT` for an
 * invalid scope; `IDAAS_CODE_CONFIG` (`UnsupportedAuthenticationMethod`) for a PLUGIN client.
 */
idaas_code idaas_client_get_exchange_provider(const idaas_client *client,
                                              const char *scope,
                                              idaas_exchange_provider **provider_out,
                                              idaas_error **err_out);

/**
 * RFC 8693 token exchange (one request, never cached): exchanges `subject_token` of type
 * `subject_token_type` (a URN such as `urn:ietf:params:oauth:token-type:access_token`,
 * `...:jwt`, `...:id_token`) for a token of `requested_token_type` (nullable: the access-token URN)
 * with `scope` (nullable: the configured default scope). `*credential_json_out` receives the
 * credential JSON `{"access_token","token_type","expires_in","expires_at","issued_token_type"}`
 * (see "JSON schemas"; it holds a secret: release with `idaas_string_free`). Wrap it for the PAM
 * client with `idaas_provider_new_from_credential_json`.
 *
 * Errors: `IDAAS_CODE_INVALID_ARGUMENT` (blank token or type, invalid scope),
 * `IDAAS_CODE_CONFIG` (PLUGIN clients cannot exchange), and those of `idaas_client_get_token`.
 */
idaas_code idaas_client_exchange_token(const idaas_client *client,
                                       const char *subject_token,
                                       const char *subject_token_type,
                                       const char *requested_token_type,
                                       const char *scope,
                                       char **credential_json_out,
                                       idaas_error **err_out);

/**
 * Loads the configuration the way the reference SDKs' `init()` does: the file at `path` when it is
 * not NULL (a leading `~` is expanded), else the file named by the environment variable
 * `CLOUD_IDAAS_CONFIG_PATH` (when set and not blank), else `~/.cloud_idaas/client-config.json`.
 * The file must be a regular file of at most 1 MiB. Errors: `IDAAS_CODE_CONFIG`
 * (`LoadConfigFileFailed`: no file, unreadable, not a regular file; invalid content: the catalogue
 * code of the failed check, e.g. `ClientIdNotFound`, `InvalidScope`).
 */
idaas_code idaas_config_load(const char *path, idaas_config **config_out, idaas_error **err_out);

/**
 * Parses, validates and normalises configuration JSON text (the content of a `client-config.json`:
 * camelCase keys, snake_case aliases accepted). Errors: `IDAAS_CODE_CONFIG`.
 */
idaas_code idaas_config_from_json(const char *json,
                                  idaas_config **config_out,
                                  idaas_error **err_out);

/**
 * Adds the token plugin `name` for clients made from this configuration afterwards: a
 * configuration with `"authnMethod": "PLUGIN", "pluginName": name` gets its tokens from `callback`
 * (see `idaas_plugin_callback`). Adding a name again replaces it for later clients. `user_data` is
 * handed back to every call; when neither this configuration nor any client made from it needs
 * the plugin any more, `free_user_data(user_data)` is called once (when not NULL). PLUGIN clients
 * cannot do token exchange. Without a plugin added under it, the name
 * `alibabacloudPluginCredentialProvider` selects the built-in Alibaba Cloud plugin: the
 * configuration needs `openApiEndpoint`, and the key comes from the Alibaba Cloud credential chain
 * (`ALIBABA_CLOUD_*` environment variables, profile files, ECS RAM role ..., read when the client
 * is made); adding a plugin under that name replaces it. Errors: `IDAAS_CODE_NULL_ARGUMENT`, `IDAAS_CODE_INVALID_UTF8`,
 * `IDAAS_CODE_INVALID_ARGUMENT` (blank name). On error `free_user_data` is not called.
 */
idaas_code idaas_config_add_plugin(idaas_config *config,
                                   const char *name,
                                   idaas_plugin_callback callback,
                                   void *user_data,
                                   idaas_free_callback free_user_data,
                                   idaas_error **err_out);

/**
 * Sends the log records of the clients made from this configuration afterwards (and of the PAM
 * clients, providers and caches made from them) to `callback` instead of the process-wide
 * callback of `idaas_log_set_callback`. `max_level` is the most verbose level delivered
 * (`IDAAS_LOG_LEVEL_OFF` .. `IDAAS_LOG_LEVEL_TRACE`). A NULL `callback` removes the logger for
 * later clients (`user_data` and `free_user_data` are then ignored). The callback may run on any thread, also the library's refresh thread, and may
 * call back into the library. `free_user_data(user_data)` is called once when neither this
 * configuration nor any client made from it needs the logger any more. Records of the HTTP stack
 * are not per client: they go to the process-wide callback only. Errors:
 * `IDAAS_CODE_NULL_ARGUMENT`, `IDAAS_CODE_INVALID_ARGUMENT` (`max_level` above TRACE); on error
 * `free_user_data` is not called.
 */
idaas_code idaas_config_set_logger(idaas_config *config,
                                   idaas_log_callback callback,
                                   void *user_data,
                                   uint32_t max_level,
                                   idaas_free_callback free_user_data,
                                   idaas_error **err_out);

/**
 * Frees a configuration. Clients created from it are not affected. NULL is a no-op.
 */
void idaas_config_free(idaas_config *config);

/**
 * The code of `err`; `IDAAS_CODE_OK` when `err` is NULL.
 */
idaas_code idaas_error_code(const idaas_error *err);

/**
 * The human-readable message of `err`: the server's or the library's description, followed by the
 * server code, HTTP status and request id when there were any. Never contains a secret. Borrowed:
 * valid until `idaas_error_free(err)`. Returns "" when `err` is NULL (never NULL).
 */
const char *idaas_error_message(const idaas_error *err);

/**
 * The HTTP status of the server reply that caused `err`, or 0 when no server answered (or `err` is
 * NULL).
 */
uint16_t idaas_error_http_status(const idaas_error *err);

/**
 * The machine-readable code of `err`: the server's `error`/`Code` (`invalid_client`,
 * `EntityNotExists.Credential` ...) or a library catalogue code (`InvalidScope`,
 * `ClientSecretEnvVarNameNotFound` ...). NULL when there is none (or `err` is NULL). Borrowed: valid
 * until `idaas_error_free(err)`.
 */
const char *idaas_error_server_code(const idaas_error *err);

/**
 * The request id the server sent with the failed reply; NULL when there is none (or `err` is NULL).
 * Borrowed: valid until `idaas_error_free(err)`.
 */
const char *idaas_error_request_id(const idaas_error *err);

/**
 * The lower-case name of the error's code (`"auth"`, `"timeout"`, `"null_argument"` ...; `"ok"` when
 * `err` is NULL). Static: never freed, never NULL.
 */
const char *idaas_error_kind_name(const idaas_error *err);

/**
 * Whether trying the failed call again may succeed: a server failure (5xx), a throttled request
 * (HTTP 429), a transport failure or a timeout. The library decides (it has already retried within
 * its call budget); bindings expose this rather than re-deriving it. False for NULL.
 */
bool idaas_error_is_retryable(const idaas_error *err);

/**
 * The class of `code` (an `idaas_code` value; it is `uint32_t` so that codes of newer library
 * versions can be classified too).
 */
idaas_class idaas_code_class(uint32_t code);

/**
 * The lower-case name of `code` (`"ok"`, `"auth"`, `"timeout"` ...), `"unknown"` for a value this
 * library does not know. Static: never freed, never NULL. (`code` is an `idaas_code` value; it is
 * declared `uint32_t` so that any value coming from C is valid.)
 */
const char *idaas_code_name(uint32_t code);

/**
 * Free an error returned through `err_out`. `idaas_error_free(NULL)` is a no-op.
 */
void idaas_error_free(idaas_error *err);

/**
 * Exchanges `subject_token` (of type `subject_token_type`, a token-type URN) for a token of
 * `requested_token_type` (nullable: `urn:ietf:params:oauth:token-type:access_token`) with the
 * provider's scope. One request per call (never cached). `*credential_json_out` receives the
 * credential JSON (see "JSON schemas"; release with `idaas_string_free`). Errors as for
 * `idaas_client_exchange_token`.
 */
idaas_code idaas_exchange_provider_exchange(const idaas_exchange_provider *provider,
                                            const char *subject_token,
                                            const char *subject_token_type,
                                            const char *requested_token_type,
                                            char **credential_json_out,
                                            idaas_error **err_out);

/**
 * Frees an exchange provider. NULL is a no-op.
 */
void idaas_exchange_provider_free(idaas_exchange_provider *provider);

/**
 * Installs (or, with a NULL `callback`, removes) the process-wide log callback: it receives the
 * records of clients that have no logger of their own (`idaas_config_set_logger`) and those of
 * the HTTP stack — a convenience for programs with one logger. Nothing is logged until a callback
 * is set. `max_level` as for `idaas_config_set_logger`.
 *
 * `user_data` is handed back to every call and must stay valid, and be usable from any thread,
 * until the callback is replaced or removed: when this function returns, the previous callback is
 * no longer running and will not be called again. Records logged from inside the callback are
 * dropped. Returns `IDAAS_CODE_UNSUPPORTED` when called from inside the callback, or when the
 * process already has another Rust `log` logger (only possible when the Rust crate is linked
 * directly).
 */
idaas_code idaas_log_set_callback(idaas_log_callback callback,
                                  void *user_data,
                                  uint32_t max_level,
                                  idaas_error **err_out);

/**
 * Creates a PAM client from `client`: Developer API endpoint and instance id from its configuration
 * (`developerApiEndpoint`, `idaasInstanceId`), bearer tokens from its provider for scope
 * `urn:cloud:idaas:pam|.all`. No network I/O.
 *
 * `options_json` (nullable) — `{"apiKeyCache": {"ttlSecs": int, "graceSecs": int,
 * "retryIntervalSecs": int, "maxEntries": int}}`: when `apiKeyCache` is present (`{}` = defaults:
 * ttl 3600 s, grace 900 s, retry interval 5 s, 1024 entries), `idaas_pam_get_api_key` serves keys
 * from memory for `ttlSecs` (single flight per identifier; a key younger than ttl + grace is served
 * while refreshes fail with a retryable error). Absent: no cache, every call asks the server.
 *
 * Errors: `IDAAS_CODE_CONFIG` (no `developerApiEndpoint`, or one with a path),
 * `IDAAS_CODE_INVALID_ARGUMENT` (bad options).
 */
idaas_code idaas_pam_new(const idaas_client *client,
                         const char *options_json,
                         idaas_pam **pam_out,
                         idaas_error **err_out);

/**
 * Like `idaas_pam_new`, with bearer tokens from `provider` instead (e.g.
 * `idaas_provider_new_from_credential_json` over a token-exchange result: the user-bound token the
 * 3LO operations need). The provider is shared, not borrowed: it may be freed afterwards.
 */
idaas_code idaas_pam_new_with_provider(const idaas_client *client,
                                       const idaas_provider *provider,
                                       const char *options_json,
                                       idaas_pam **pam_out,
                                       idaas_error **err_out);

/**
 * Frees a PAM client. NULL is a no-op.
 */
void idaas_pam_free(idaas_pam *pam);

/**
 * API key of the credential `credential_identifier` (`ObtainCredential`). `*api_key_out` receives
 * the key (release with `idaas_string_free`), or NULL — with `IDAAS_CODE_OK` — when the credential
 * has no API key (e.g. an OAuth-client credential). Served from the API-key cache when enabled.
 * Errors: `IDAAS_CODE_INVALID_ARGUMENT` (blank identifier), `IDAAS_CODE_AUTH` (401/403),
 * `IDAAS_CODE_CLIENT_ERROR` (404 unknown credential ...), `IDAAS_CODE_SERVER_ERROR`,
 * `IDAAS_CODE_UNEXPECTED_RESPONSE`, `IDAAS_CODE_TRANSPORT`, `IDAAS_CODE_TIMEOUT`, and the token
 * errors of the client.
 */
idaas_code idaas_pam_get_api_key(const idaas_pam *pam,
                                 const char *credential_identifier,
                                 char **api_key_out,
                                 idaas_error **err_out);

/**
 * Drops the cached API key of `credential_identifier` (nullable: every cached key), so the next
 * `idaas_pam_get_api_key` asks the server. A no-op without an API-key cache.
 */
idaas_code idaas_pam_invalidate_api_key(const idaas_pam *pam,
                                        const char *credential_identifier,
                                        idaas_error **err_out);

/**
 * Deprecated (`fetch_oauth_authentication_token` v1; use `idaas_pam_fetch_oauth_token_v2`):
 * the OAuth access token of the credential provider `credential_provider_identifier` with `scope`
 * (nullable: the provider's configured scopes; space-separated, at most 256 characters).
 * `*access_token_out` receives the token, or NULL with `IDAAS_CODE_OK` when the reply carries none
 * (e.g. user authorization is needed). Errors as for `idaas_pam_get_api_key`.
 */
idaas_code idaas_pam_fetch_oauth_token(const idaas_pam *pam,
                                       const char *credential_provider_identifier,
                                       const char *scope,
                                       char **access_token_out,
                                       idaas_error **err_out);

/**
 * `FetchOAuthAuthenticationToken` (2LO and 3LO): `authorization_flow` must be `"m2m"` or
 * `"user_federation"` (checked locally, never sent; with `"m2m"`, a reply that asks for user
 * authorization is the `authorization_flow_mismatch` error, `IDAAS_CODE_CLIENT_ERROR`).
 *
 * `options_json` (nullable) — `{"scope": string, "forceAuthentication": bool,
 * "customParameters": {string: string}}`: OAuth scopes (space-separated, at most 256 characters),
 * ignore an existing valid token, extra parameters for the provider's authorization URL.
 *
 * `*result_json_out` receives an `OAuthAuthenticationTokenResponse` (see "JSON schemas"): either
 * `oauthAccessTokenContent` (the token) or `oauthAuthorizationSession` (show `authorizationUrl` to
 * the user, then `idaas_pam_get_oauth_session` / `idaas_pam_poll_oauth_token`). It may hold a
 * secret: release with `idaas_string_free`. Errors: `IDAAS_CODE_INVALID_ARGUMENT`
 * (`invalid_authorization_flow`, blank identifier, bad options), and as for `idaas_pam_get_api_key`.
 */
idaas_code idaas_pam_fetch_oauth_token_v2(const idaas_pam *pam,
                                          const char *credential_provider_identifier,
                                          const char *authorization_flow,
                                          const char *options_json,
                                          char **result_json_out,
                                          idaas_error **err_out);

/**
 * `GetOAuthAuthorizationSession`: the state of the 3LO session `session_uri`
 * (`urn:ietf:params:oauth:request_uri:...`, from `oauthAuthorizationSession.sessionUri`).
 * `*result_json_out` receives an `OAuthAuthorizationSessionResponse` (see "JSON schemas";
 * `sessionStatus` is `pending`, `callback_received`, `completed`, `failed` or `expired`). Errors as
 * for `idaas_pam_get_api_key` (an unknown session is `IDAAS_CODE_CLIENT_ERROR`, HTTP 404).
 */
idaas_code idaas_pam_get_oauth_session(const idaas_pam *pam,
                                       const char *session_uri,
                                       char **result_json_out,
                                       idaas_error **err_out);

/**
 * Fetches a user-delegated OAuth token, walking the user through authorization if needed (the
 * reference `poll_oauth_authentication_token`): fetch (`user_federation`); a reply with a token is
 * returned at once (the callback is not called); otherwise `on_url(authorizationUrl, user_data)` is
 * called once, then the session is polled every `intervalMs` until `completed` (then a final fetch
 * returns the token), `failed` / `expired` (`IDAAS_CODE_AUTH`, server code = the session's
 * `errorCode` or `authorization_failed` / `authorization_session_expired`), out of polls or time
 * (`IDAAS_CODE_TIMEOUT`, `polling_timeout`), or `cancel` (nullable) is cancelled
 * (`IDAAS_CODE_CANCELLED`, promptly: a sleeping poll wakes at once). BLOCKS the calling thread up to
 * 180 s: run it off event loops (N-API async work, a goroutine).
 *
 * `options_json` (nullable) — `{"scope": string, "forceAuthentication": bool, "customParameters":
 * {string: string}, "maxPollingRetries": int (default 60), "intervalMs": int (default 3000),
 * "timeoutMs": int (overall deadline of the polling phase; the hard limit stays 180000)}`.
 *
 * `*result_json_out` receives the final `OAuthAuthenticationTokenResponse` (with
 * `oauthAccessTokenContent`; holds a secret: release with `idaas_string_free`).
 */
idaas_code idaas_pam_poll_oauth_token(const idaas_pam *pam,
                                      const char *credential_provider_identifier,
                                      const char *options_json,
                                      idaas_url_callback on_url,
                                      void *user_data,
                                      const idaas_cancel *cancel,
                                      char **result_json_out,
                                      idaas_error **err_out);

/**
 * `GenerateJwtAuthenticationToken`: a JWT from the JWT credential provider
 * `credential_provider_identifier` for `subject` and `audiences_json` (a JSON array of strings,
 * e.g. `["https://api.partner.example"]`; none may start with `urn:cloud:idaas`).
 *
 * `options_json` (nullable) — `{"issuer": string, "customClaims": {string: any JSON},
 * "expiration": int (lifetime in seconds, > 0), "includeDerivedShortToken": bool}`.
 *
 * `*result_json_out` receives a `JwtTokenResponse` (see "JSON schemas"; `jwtContent.jwtValue` and
 * `jwtContent.derivedShortToken` are secrets: release with `idaas_string_free`). Errors as for
 * `idaas_pam_get_api_key`.
 */
idaas_code idaas_pam_generate_jwt(const idaas_pam *pam,
                                  const char *credential_provider_identifier,
                                  const char *subject,
                                  const char *audiences_json,
                                  const char *options_json,
                                  char **result_json_out,
                                  idaas_error **err_out);

/**
 * `ObtainJwtAuthenticationToken`: the JWT of an existing authentication token
 * (`authentication_token_id`, `atntkn_...`) of `consumer_id`. `*result_json_out` receives a
 * `JwtContent` (`{"jwtValue", "derivedShortToken"?}`; secrets: release with `idaas_string_free`).
 * Errors as for `idaas_pam_get_api_key`.
 */
idaas_code idaas_pam_obtain_jwt(const idaas_pam *pam,
                                const char *consumer_id,
                                const char *authentication_token_id,
                                char **result_json_out,
                                idaas_error **err_out);

/**
 * `ObtainJwtAuthenticationTokenByDerivedShortToken`: the JWT behind a derived short token (sent
 * without `Authorization`: the short token is the credential). `*result_json_out` receives a
 * `JwtContent` (secrets: release with `idaas_string_free`). Errors as for `idaas_pam_get_api_key`.
 */
idaas_code idaas_pam_obtain_jwt_by_short_token(const idaas_pam *pam,
                                               const char *derived_short_token,
                                               char **result_json_out,
                                               idaas_error **err_out);

/**
 * `ListAuthenticationTokens`: ONE page of the authentication tokens of `consumer_id` under the
 * credential provider `credential_provider_identifier` (no token material is returned).
 *
 * `options_json` (nullable) — `{"nextToken": string, "maxResults": int (> 0), "revoked": bool,
 * "expired": bool}`.
 *
 * `*page_json_out` receives an `AuthenticationTokenPage` (see "JSON schemas"). To iterate, call
 * again with `{"nextToken": <page.nextToken>}` (plus the same filters) until `nextToken` is null or
 * `""` (the last page). Errors as for `idaas_pam_get_api_key`.
 */
idaas_code idaas_pam_list_tokens(const idaas_pam *pam,
                                 const char *consumer_id,
                                 const char *credential_provider_identifier,
                                 const char *options_json,
                                 char **page_json_out,
                                 idaas_error **err_out);

/**
 * `ValidateAuthenticationToken` (sent without `Authorization`): `*active_out` is true when `token`
 * (a JWT or derived short token) is active, false when unknown, revoked or expired.
 * `token_type_hint` is nullable. Errors as for `idaas_pam_get_api_key`.
 */
idaas_code idaas_pam_validate_token(const idaas_pam *pam,
                                    const char *token,
                                    const char *token_type_hint,
                                    bool *active_out,
                                    idaas_error **err_out);

/**
 * `RevokeAuthenticationToken`: revokes `token` (a JWT or derived short token; `token_type_hint`
 * nullable). Sent once (not retried). Errors as for `idaas_pam_get_api_key`.
 */
idaas_code idaas_pam_revoke_token(const idaas_pam *pam,
                                  const char *token,
                                  const char *token_type_hint,
                                  idaas_error **err_out);

/**
 * `RevokeAuthenticationTokenByConsumer`: revokes every token of `consumer_id` under the credential
 * provider `credential_provider_identifier`. Errors as for `idaas_pam_get_api_key`.
 */
idaas_code idaas_pam_revoke_tokens_by_consumer(const idaas_pam *pam,
                                               const char *consumer_id,
                                               const char *credential_provider_identifier,
                                               idaas_error **err_out);

/**
 * `ReinstateAuthenticationToken`: undoes a revoke of `token` (`token_type_hint` nullable). Errors
 * as for `idaas_pam_get_api_key`.
 */
idaas_code idaas_pam_reinstate_token(const idaas_pam *pam,
                                     const char *token,
                                     const char *token_type_hint,
                                     idaas_error **err_out);

/**
 * `ReinstateAuthenticationTokenByConsumer`: undoes `idaas_pam_revoke_tokens_by_consumer` for
 * `consumer_id` and `credential_provider_identifier`. Errors as for `idaas_pam_get_api_key`.
 */
idaas_code idaas_pam_reinstate_tokens_by_consumer(const idaas_pam *pam,
                                                  const char *consumer_id,
                                                  const char *credential_provider_identifier,
                                                  idaas_error **err_out);

/**
 * Called by a plugin callback: the token for the requested scope (copied) and its lifetime in
 * seconds (`expires_in_secs` > 0: the token is cached and refreshed ahead of expiry like a
 * token-endpoint reply; 0: unknown lifetime, not cached — the plugin is called on every use).
 * Errors: `IDAAS_CODE_NULL_ARGUMENT`, `IDAAS_CODE_INVALID_UTF8`, `IDAAS_CODE_INVALID_ARGUMENT`
 * (blank token).
 */
idaas_code idaas_plugin_result_set_token(idaas_plugin_result *result,
                                         const char *token,
                                         uint64_t expires_in_secs,
                                         idaas_error **err_out);

/**
 * Called by a plugin callback before returning non-zero: a message (copied; no secrets) for the
 * error the client reports. Errors: `IDAAS_CODE_NULL_ARGUMENT`, `IDAAS_CODE_INVALID_UTF8`.
 */
idaas_code idaas_plugin_result_set_error(idaas_plugin_result *result,
                                         const char *message,
                                         idaas_error **err_out);

/**
 * A static provider that returns `access_token` (token type `Bearer`) forever, never refreshing;
 * `expires_at_epoch_secs` is its expiry in epoch seconds (0 = unknown), informational only (the
 * token is returned even after it, and the server will reject it). Errors: `IDAAS_CODE_INVALID_ARGUMENT`
 * for a blank token or one outside the RFC 6750 token characters (it is sent as `Bearer`).
 */
idaas_code idaas_provider_new_static(const char *access_token,
                                     uint64_t expires_at_epoch_secs,
                                     idaas_provider **provider_out,
                                     idaas_error **err_out);

/**
 * A static provider from a credential JSON as returned by `idaas_client_exchange_token` /
 * `idaas_exchange_provider_exchange` (`access_token` required, in the RFC 6750 token character
 * set; `token_type`, `expires_in`, `expires_at`, `issued_token_type`, `scope` optional; other keys
 * ignored). The usual way to give the PAM client a user-delegated token. Errors:
 * `IDAAS_CODE_INVALID_ARGUMENT` for malformed JSON or a missing, blank or malformed
 * `access_token`.
 */
idaas_code idaas_provider_new_from_credential_json(const char *credential_json,
                                                   idaas_provider **provider_out,
                                                   idaas_error **err_out);

/**
 * The provider's current bearer token (cached providers refresh as needed: errors as for
 * `idaas_client_get_token`). Release `*token_out` with `idaas_string_free`.
 */
idaas_code idaas_provider_get_token(const idaas_provider *provider,
                                    char **token_out,
                                    idaas_error **err_out);

/**
 * Zero-allocation variant of `idaas_provider_get_token` (same buffer rules as
 * `idaas_client_get_token_into`).
 */
idaas_code idaas_provider_get_token_into(const idaas_provider *provider,
                                         char *buf,
                                         size_t cap,
                                         size_t *len_out,
                                         idaas_error **err_out);

/**
 * Version-aware `idaas_provider_get_token_into`; the contract of
 * `idaas_client_get_token_versioned`, except that a provider without versions (a static or
 * token-exchange provider) always copies and sets `*version_inout` to 0.
 */
idaas_code idaas_provider_get_token_versioned(const idaas_provider *provider,
                                              uint64_t *version_inout,
                                              char *buf,
                                              size_t cap,
                                              size_t *len_out,
                                              idaas_error **err_out);

/**
 * Frees a provider. NULL is a no-op.
 */
void idaas_provider_free(idaas_provider *provider);

/**
 * Frees a string returned by this library (tokens, JSON results, API keys ...), zeroing its bytes
 * first. Use it for every `char *` the library gives you, and for nothing else (never `free()` them).
 * `idaas_string_free(NULL)` is a no-op.
 */
void idaas_string_free(char *s);

/**
 * Overwrites `len` bytes at `buf` with zeros (not optimised away): use it to wipe a buffer filled by
 * an `_into` function once the secret in it is no longer needed. `buf` may be NULL when `len` is 0.
 */
void idaas_buffer_wipe(void *buf,
                       size_t len);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* IDAAS_H */
