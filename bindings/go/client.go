package idaas

/*
#include <stdlib.h>
#include <idaas.h>
*/
import "C"

import (
	"context"
	"encoding/json"
	"runtime"
	"sync"
	"time"
)

// userAgent identifies the Go binding in the User-Agent (options userAgentSuffix).
const userAgent = "idaas-go"

// Config is a validated IDaaS client configuration (the JSON of client-config.json) plus the
// callbacks its clients will use (AddPlugin, SetLogger). Clients copy it: they do not depend on it
// afterwards, and changes to it affect only clients made later. Safe for concurrent use.
type Config struct {
	mu sync.RWMutex // AddPlugin/SetLogger change the C config (write); NewClient reads it (read)
	h  *handle[*C.idaas_config]
}

func newConfig(p *C.idaas_config) *Config {
	c := &Config{h: newHandle(p, func(p *C.idaas_config) { C.idaas_config_free(p) })}
	runtime.AddCleanup(c, func(h *handle[*C.idaas_config]) { h.close() }, c.h)
	return c
}

// LoadConfig loads the configuration the way the reference SDKs' init() does: the file at path
// (a leading ~ is expanded), or with path "" the file named by CLOUD_IDAAS_CONFIG_PATH, else
// ~/.cloud_idaas/client-config.json. Errors: ErrConfig (server code LoadConfigFileFailed for a
// missing or unreadable file, else the catalogue code of the failed check).
func LoadConfig(path string) (*Config, error) {
	cp := cstrOpt(path)
	defer cfree(cp)
	var out *C.idaas_config
	var cerr *C.idaas_error
	if err := takeError(C.idaas_config_load(cp, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newConfig(out), nil
}

// ParseConfig parses and validates configuration JSON text. Errors: ErrConfig.
func ParseConfig(jsonText string) (*Config, error) {
	cp := cstr(jsonText)
	defer cfreeSecret(cp)
	var out *C.idaas_config
	var cerr *C.idaas_error
	if err := takeError(C.idaas_config_from_json(cp, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newConfig(out), nil
}

// Close frees the configuration. Idempotent; clients made from it stay valid.
func (c *Config) Close() error {
	c.h.close()
	return nil
}

// ClientOptions are the optional settings of a Client (nil = defaults).
type ClientOptions struct {
	// UserAgentSuffix is appended to the User-Agent (after "idaas-go").
	UserAgentSuffix string
	// InlineRefresh refreshes tokens in the prefetch window in the first goroutine that reads
	// the token in that window (it waits for the token endpoint; others are served the cached
	// token). By default the refresh runs on a library thread and no caller waits.
	InlineRefresh bool
	// Prefetch fetches the default-scope token in the constructor (network I/O), so credential
	// and server errors surface there.
	Prefetch bool
}

func (o *ClientOptions) json() string {
	m := map[string]any{"userAgentSuffix": userAgent}
	if o != nil {
		if o.UserAgentSuffix != "" {
			m["userAgentSuffix"] = userAgent + " " + o.UserAgentSuffix
		}
		if o.InlineRefresh {
			m["asyncRefresh"] = false
		}
		if o.Prefetch {
			m["prefetch"] = true
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// Client is the IDaaS M2M client: one connection pool and one refresh-ahead token cache per
// scope. Share one Client per configuration between goroutines; Close it when done (a cleanup
// frees it if it becomes unreachable, but do not rely on that).
type Client struct {
	h    *handle[*C.idaas_client]
	memo tokenMemo // the default scope's last token (Token)
}

func newClient(p *C.idaas_client) *Client {
	c := &Client{h: newHandle(p, func(p *C.idaas_client) { C.idaas_client_free(p) })}
	runtime.AddCleanup(c, func(h *handle[*C.idaas_client]) { h.close() }, c.h)
	return c
}

// Init creates a client from the configuration file at path, or with path "" from the default
// lookup (CLOUD_IDAAS_CONFIG_PATH, else ~/.cloud_idaas/client-config.json) — the one obvious way to
// start, as the reference SDKs' init(). No network I/O: the first Token fetches the first token.
// For plugins, a logger of the client's own or options, use LoadConfig and NewClient. Errors:
// ErrConfig (the message names the failed check, and says so when the default file is missing
// but ~/.cloud_idaas/client_config.json exists).
func Init(path string) (*Client, error) {
	cfg, err := LoadConfig(path)
	if err != nil {
		return nil, err
	}
	defer cfg.Close()
	return NewClient(context.Background(), cfg, nil)
}

// NewClient creates a client from cfg (with its plugins and logger). It does no network I/O
// unless opts.Prefetch; then ctx bounds the wait (a constructor abandoned on ctx.Done finishes in
// the background and its client is freed by the cleanup).
func NewClient(ctx context.Context, cfg *Config, opts *ClientOptions) (*Client, error) {
	if cfg == nil {
		return nil, &Error{Code: CodeNullArgument, Message: "NewClient: nil Config"}
	}
	oj := opts.json()
	run := func() (*Client, error) {
		cfg.mu.RLock()
		defer cfg.mu.RUnlock()
		cp, ok := cfg.h.acquire()
		if !ok {
			return nil, ErrClosed
		}
		defer cfg.h.release()
		o := cstr(oj)
		defer cfree(o)
		var out *C.idaas_client
		var cerr *C.idaas_error
		err := takeError(C.idaas_client_new(cp, o, &out, &cerr), cerr)
		runtime.KeepAlive(cfg)
		if err != nil {
			return nil, err
		}
		return newClient(out), nil
	}
	if opts == nil || !opts.Prefetch {
		return run()
	}
	return withCtx(ctx, run)
}

// Close frees the client. Idempotent and safe to call concurrently with other methods: calls in
// flight finish first (the C handle is freed when the last one returns); later calls return
// ErrClosed. Providers and PAM clients made from it stay valid.
func (c *Client) Close() error {
	c.h.close()
	c.memo.clear()
	return nil
}

// Token returns the bearer token for the configured default scope — the hot path: served from
// the cache (refreshed ahead of expiry; network I/O only when no valid token is cached). While
// the cached token is unchanged, the string returned last is returned again (no allocation).
//
// With a context that can be cancelled, the call runs on a helper goroutine so that Token can
// return as soon as ctx is done (the library call itself finishes in the background); with
// context.Background() it runs on the calling goroutine. Go strings cannot be wiped: use
// AppendToken with your own buffer if that matters.
func (c *Client) Token(ctx context.Context) (string, error) {
	return c.TokenForScope(ctx, "")
}

// TokenForScope returns the bearer token for scope ("" = the configured default scope, as
// Token), e.g. "api.example.com|read:file". Each call returns a new string; to read the token of
// a scope on a hot path, keep its Provider (Client.Provider), whose Token reuses the string as
// Token does.
func (c *Client) TokenForScope(ctx context.Context, scope string) (string, error) {
	if ctx.Done() == nil {
		return c.readString(scope)
	}
	return withCtx(ctx, func() (string, error) { return c.readString(scope) })
}

// AppendToken appends the bearer token for scope ("" = default) to dst and returns the extended
// slice. The token is copied nowhere else in Go memory: wipe dst with clear() when done.
func (c *Client) AppendToken(ctx context.Context, dst []byte, scope string) ([]byte, error) {
	if ctx.Done() == nil {
		return c.appendToken(dst, scope)
	}
	return appendWithCtx(ctx, dst, func() ([]byte, error) { return c.appendToken(nil, scope) })
}

// Provider returns the credential provider for scope ("" = default): it shares the client's
// cache for that scope and stays valid after the client is closed. No network I/O.
func (c *Client) Provider(scope string) (*Provider, error) {
	cp, ok := c.h.acquire()
	if !ok {
		return nil, ErrClosed
	}
	defer c.h.release()
	cs := cstrOpt(scope)
	defer cfree(cs)
	var out *C.idaas_provider
	var cerr *C.idaas_error
	if err := takeError(C.idaas_client_get_provider(cp, cs, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	runtime.KeepAlive(c)
	return newProvider(out), nil
}

// ExchangeProvider returns a token-exchange provider bound to scope ("" = default). No network
// I/O. PLUGIN clients cannot exchange (ErrConfig).
func (c *Client) ExchangeProvider(scope string) (*ExchangeProvider, error) {
	cp, ok := c.h.acquire()
	if !ok {
		return nil, ErrClosed
	}
	defer c.h.release()
	cs := cstrOpt(scope)
	defer cfree(cs)
	var out *C.idaas_exchange_provider
	var cerr *C.idaas_error
	if err := takeError(C.idaas_client_get_exchange_provider(cp, cs, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	runtime.KeepAlive(c)
	x := &ExchangeProvider{h: newHandle(out, func(p *C.idaas_exchange_provider) { C.idaas_exchange_provider_free(p) })}
	runtime.AddCleanup(x, func(h *handle[*C.idaas_exchange_provider]) { h.close() }, x.h)
	return x, nil
}

// Token-type URNs for token exchange.
const (
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeJWT         = "urn:ietf:params:oauth:token-type:jwt"
	TokenTypeIDToken     = "urn:ietf:params:oauth:token-type:id_token"
)

// ExchangeRequest is an RFC 8693 token exchange.
type ExchangeRequest struct {
	SubjectToken     string // required
	SubjectTokenType string // required: a token-type URN (TokenTypeAccessToken ...)
	// RequestedTokenType is the wanted token type ("" = TokenTypeAccessToken).
	RequestedTokenType string
	// Scope is the wanted scope ("" = the configured default; ignored by ExchangeProvider).
	Scope string
}

// ExpiresAtTime is ExpiresAt as a time.Time (zero when unknown).
func (c *Credential) ExpiresAtTime() time.Time {
	if c.ExpiresAt == 0 {
		return time.Time{}
	}
	return time.Unix(int64(c.ExpiresAt), 0)
}

func parseCredential(s string) (*Credential, error) {
	var c Credential
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return nil, &Error{Code: CodeUnexpectedResponse, Message: "credential JSON: " + err.Error()}
	}
	return &c, nil
}

// ExchangeToken performs an RFC 8693 token exchange (one request, never cached).
func (c *Client) ExchangeToken(ctx context.Context, req ExchangeRequest) (*Credential, error) {
	return withCtx(ctx, func() (*Credential, error) {
		cp, ok := c.h.acquire()
		if !ok {
			return nil, ErrClosed
		}
		defer c.h.release()
		st, stt, rtt, sc := cstr(req.SubjectToken), cstr(req.SubjectTokenType), cstrOpt(req.RequestedTokenType), cstrOpt(req.Scope)
		defer cfreeSecret(st)
		defer cfree(stt)
		defer cfree(rtt)
		defer cfree(sc)
		var out *C.char
		var cerr *C.idaas_error
		if err := takeError(C.idaas_client_exchange_token(cp, st, stt, rtt, sc, &out, &cerr), cerr); err != nil {
			return nil, err
		}
		runtime.KeepAlive(c)
		s, _ := takeString(out)
		return parseCredential(s)
	})
}

// ExchangeProvider performs token exchanges for one scope (Client.ExchangeProvider).
type ExchangeProvider struct {
	h *handle[*C.idaas_exchange_provider]
}

// Exchange exchanges req.SubjectToken (req.Scope is ignored: the provider's scope is used).
func (x *ExchangeProvider) Exchange(ctx context.Context, req ExchangeRequest) (*Credential, error) {
	return withCtx(ctx, func() (*Credential, error) {
		xp, ok := x.h.acquire()
		if !ok {
			return nil, ErrClosed
		}
		defer x.h.release()
		st, stt, rtt := cstr(req.SubjectToken), cstr(req.SubjectTokenType), cstrOpt(req.RequestedTokenType)
		defer cfreeSecret(st)
		defer cfree(stt)
		defer cfree(rtt)
		var out *C.char
		var cerr *C.idaas_error
		if err := takeError(C.idaas_exchange_provider_exchange(xp, st, stt, rtt, &out, &cerr), cerr); err != nil {
			return nil, err
		}
		runtime.KeepAlive(x)
		s, _ := takeString(out)
		return parseCredential(s)
	})
}

// Close frees the exchange provider (idempotent, thread-safe).
func (x *ExchangeProvider) Close() error {
	x.h.close()
	return nil
}

// Provider hands out bearer tokens: bound to a client scope (cached, refreshed) or static.
type Provider struct {
	h    *handle[*C.idaas_provider]
	memo tokenMemo // the last token (Token)
}

func newProvider(p *C.idaas_provider) *Provider {
	x := &Provider{h: newHandle(p, func(p *C.idaas_provider) { C.idaas_provider_free(p) })}
	runtime.AddCleanup(x, func(h *handle[*C.idaas_provider]) { h.close() }, x.h)
	return x
}

// NewStaticProvider returns a provider that hands out accessToken forever (expiresAt is
// informational; zero = unknown).
func NewStaticProvider(accessToken string, expiresAt time.Time) (*Provider, error) {
	t := cstr(accessToken)
	defer cfreeSecret(t)
	var exp C.uint64_t
	if !expiresAt.IsZero() && expiresAt.Unix() > 0 {
		exp = C.uint64_t(expiresAt.Unix())
	}
	var out *C.idaas_provider
	var cerr *C.idaas_error
	if err := takeError(C.idaas_provider_new_static(t, exp, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newProvider(out), nil
}

// NewProviderFromCredential returns a static provider over a token-exchange result: the usual
// way to give a PAM client a user-delegated token.
func NewProviderFromCredential(cred *Credential) (*Provider, error) {
	b, err := json.Marshal(cred)
	if err != nil {
		return nil, &Error{Code: CodeInvalidArgument, Message: err.Error()}
	}
	return NewProviderFromCredentialJSON(string(b))
}

// NewProviderFromCredentialJSON is NewProviderFromCredential over credential JSON text.
func NewProviderFromCredentialJSON(credentialJSON string) (*Provider, error) {
	t := cstr(credentialJSON)
	defer cfreeSecret(t)
	var out *C.idaas_provider
	var cerr *C.idaas_error
	if err := takeError(C.idaas_provider_new_from_credential_json(t, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newProvider(out), nil
}

// Token returns the provider's current bearer token: like Client.Token, the string returned last
// is returned again while the token is unchanged (a static provider copies every time); see
// Client.Token for ctx handling.
func (p *Provider) Token(ctx context.Context) (string, error) {
	if ctx.Done() == nil {
		return p.readString()
	}
	return withCtx(ctx, p.readString)
}

// AppendToken appends the provider's current bearer token to dst (see Client.AppendToken).
func (p *Provider) AppendToken(ctx context.Context, dst []byte) ([]byte, error) {
	if ctx.Done() == nil {
		return p.appendToken(dst)
	}
	return appendWithCtx(ctx, dst, func() ([]byte, error) { return p.appendToken(nil) })
}

// Close frees the provider (idempotent, thread-safe). PAM clients using it keep it alive.
func (p *Provider) Close() error {
	p.h.close()
	p.memo.clear()
	return nil
}
