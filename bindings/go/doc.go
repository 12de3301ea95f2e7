// Package idaas is the Go binding of the idaas library: IDaaS machine credentials (OAuth2
// client authentication, a refresh-ahead token cache, RFC 8693 token exchange) and the PAM client
// of the IDaaS Developer API (API keys, OAuth tokens held by IDaaS, JWT authentication tokens).
//
// It is a thin cgo wrapper over the C ABI (include/idaas.h) of the Rust core, linked statically
// (libidaas.a: no LD_LIBRARY_PATH needed); see README.md for how the library is built and found.
//
// # Clients and tokens
//
// Start with [Init] (the default configuration lookup, or a file), or for plugins, a logger of
// the client's own or options, [LoadConfig] / [ParseConfig] and [NewClient]. Create one [Client]
// per configuration and share it between goroutines: it holds the connection pool and the token
// cache. [Client.Token] is the hot path (a cache read, no allocation in steady state).
// [Client.Provider], [NewStaticProvider] and [NewProviderFromCredential] give [Provider] values;
// [Client.ExchangeToken] and [ExchangeProvider] perform token exchanges.
//
// # PAM
//
// [Client.NewPAMClient] returns a [PAMClient]: API keys (with an optional in-memory cache), OAuth
// tokens (2LO, and 3LO with [PAMClient.PollOAuthToken]), and the JWT lifecycle (generate, obtain,
// validate, revoke, reinstate, list with an iterator).
//
// # Errors
//
// Every failure is an [*Error] carrying the library's [Code], the server's HTTP status, error
// code and request id, and whether a retry may help ([Error.Retryable], the library's verdict).
// Test the class with errors.Is and the sentinels (ErrInvalidArgument, ErrConfig, ErrAuth,
// ErrServerReply, ErrNetwork, ErrCancelled, ErrInternal: one per [Class]; ErrTimeout, ErrServer
// ... for single codes).
//
// # Callbacks
//
// Token plugins and a logger belong to a [Config] ([Config.AddPlugin], [Config.SetLogger]) and
// are released with it and the clients made from it; [SetLogger] is the process-wide logger.
//
// # Contexts
//
// Every network call takes a context. A done context makes the call return promptly with an
// error wrapping ctx.Err(): the 3LO poll is cancelled inside the library; other calls, which the
// C ABI cannot cancel, are left to finish on a helper goroutine (their results are freed). With
// context.Background() calls run on the caller's goroutine at no extra cost.
//
// # Lifetimes
//
// Close every Client, Provider, ExchangeProvider, PAMClient and Config when done (idempotent,
// safe while other goroutines still use the value: calls in flight finish first, later calls
// return ErrClosed). A cleanup frees forgotten handles when they become unreachable.
package idaas
