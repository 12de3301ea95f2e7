package idaas

/*
#include <stdlib.h>
#include <idaas.h>

// The hot path's out-parameters in one pointer-free struct (the error as an integer): cgo then
// has no Go pointer to check on each call, and it is one C call either way.
typedef struct {
	size_t len;
	uintptr_t err;
	uint64_t version; // in: the version of the caller's copy (0 = none); out: the token's version
} idaas_go_token_out;

// The client and provider handles are passed as integers: they are C pointers, and cgo would
// otherwise check each (opaque struct pointer) argument for Go pointers on every call.
static idaas_code idaas_go_token_into(uintptr_t client, const char *scope, uintptr_t provider,
                                      char *buf, size_t cap, idaas_go_token_out *out) {
	idaas_error *err = NULL;
	idaas_code rc = client
	    ? idaas_client_get_token_versioned((const idaas_client *)client, scope, &out->version, buf, cap, &out->len, &err)
	    : idaas_provider_get_token_versioned((const idaas_provider *)provider, &out->version, buf, cap, &out->len, &err);
	out->err = (uintptr_t)err;
	return rc;
}

static idaas_error *idaas_go_error_ptr(uintptr_t err) { return (idaas_error *)err; }
*/
import "C"

import (
	"context"
	"encoding/json"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
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
	h      *handle[*C.idaas_client]
	last   atomic.Pointer[lastToken] // the last default-scope token returned by Token (see readToken)
	scopes *scopeCache
}

// scopeCache keeps, per scope string used with TokenForScope/AppendToken, its C copy (no
// malloc per call) and the last token returned for it. Bounded; freed with the C client.
type scopeCache struct {
	m sync.Map // string → *scopeEntry
	n atomic.Int32
}

type scopeEntry struct {
	cs   *C.char
	last atomic.Pointer[lastToken]
}

const maxCachedScopes = 64

// get returns the entry of scope, or nil when the cache is full (the caller then uses a
// temporary C string).
func (sc *scopeCache) get(scope string) *scopeEntry {
	if e, ok := sc.m.Load(scope); ok {
		return e.(*scopeEntry)
	}
	if sc.n.Load() >= maxCachedScopes {
		return nil
	}
	e := &scopeEntry{cs: cstr(scope)}
	if old, loaded := sc.m.LoadOrStore(scope, e); loaded {
		cfree(e.cs)
		return old.(*scopeEntry)
	}
	sc.n.Add(1)
	return e
}

// free releases the C strings (when the client handle is freed: no call is using them).
func (sc *scopeCache) free() {
	sc.m.Range(func(k, v any) bool {
		cfree(v.(*scopeEntry).cs)
		sc.m.Delete(k)
		return true
	})
}

func newClient(p *C.idaas_client) *Client {
	sc := &scopeCache{}
	c := &Client{scopes: sc, h: newHotHandle(p, func(p *C.idaas_client) {
		C.idaas_client_free(p)
		sc.free()
	})}
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
	c.last.Store(nil)
	c.scopes.m.Range(func(_, v any) bool {
		v.(*scopeEntry).last.Store(nil)
		return true
	})
	return nil
}

// tokenBufSize fits typical tokens; bigger ones fall back to an exact-size buffer.
const tokenBufSize = 4096

// The hot path reads tokens into pooled Go buffers (no C allocation, no zeroing of a fresh
// buffer per call); the bytes are wiped once copied.
// The out-parameters live there too (pointers passed to C escape to the heap, and #cgo noescape
// needs nocallback, impossible here: a PLUGIN client or the logger may call back into Go).
// stripe is the handle reference stripe its user counts on (handle.acquireOn): the pool keeps one
// buffer per P, so goroutines running at the same time use different stripes.
type tokenBuf struct {
	buf    [tokenBufSize]byte
	out    C.idaas_go_token_out
	stripe uint32
}

var (
	tokenBufStripes atomic.Uint32
	tokenBufs       = sync.Pool{New: func() any { return &tokenBuf{stripe: tokenBufStripes.Add(1) - 1} }}
)

// tokenSource is one of the two *_get_token_into functions with its arguments.
type tokenSource struct {
	client   *C.idaas_client
	scope    *C.char
	provider *C.idaas_provider
}

func (s tokenSource) into(buf *C.char, cap C.size_t, out *C.idaas_go_token_out) (C.idaas_code, C.size_t, *C.idaas_error) {
	rc := C.idaas_go_token_into(C.uintptr_t(uintptr(unsafe.Pointer(s.client))), s.scope,
		C.uintptr_t(uintptr(unsafe.Pointer(s.provider))), buf, cap, out)
	if out.err == 0 {
		return rc, out.len, nil
	}
	return rc, out.len, C.idaas_go_error_ptr(out.err) // failures only: one more cgo call
}

// readToken reads the current token with one library call into tb (the caller's pooled buffer,
// wiped again before return). With last != nil and dst == nil it returns the token as a string,
// reusing *last when the token has not changed (the library's cache decides validity and refresh
// on every call; this only avoids allocating an equal Go string per call); otherwise it appends
// the token to dst.
func readToken(tb *tokenBuf, src tokenSource, dst []byte, last *atomic.Pointer[lastToken]) (string, []byte, error) {
	var prev *lastToken
	tb.out.version = 0
	if last != nil {
		if prev = last.Load(); prev != nil {
			tb.out.version = C.uint64_t(prev.version)
		}
	}
	rc, n, cerr := src.into((*C.char)(unsafe.Pointer(&tb.buf[0])), tokenBufSize, &tb.out)
	if rc != 0 {
		return readTokenSlow(src, dst, last, rc, n, cerr)
	}
	if prev != nil && prev.version != 0 && uint64(tb.out.version) == prev.version {
		return prev.s, dst, nil // the library's token is still the one we hold: nothing was copied
	}
	b := tb.buf[:n]
	var s string
	if last != nil {
		if prev != nil && prev.version == 0 && prev.s == string(b) {
			s = prev.s // a provider without versions, same token: no new string
		} else {
			s = string(b)
			last.Store(&lastToken{version: uint64(tb.out.version), s: s})
		}
	} else {
		dst = append(dst, b...)
	}
	clear(b)
	return s, dst, nil
}

// lastToken is the token string a Client/Provider last returned and the library's version of it
// (idaas_client_get_token_versioned): while the version is unchanged the library copies nothing
// and the same string is returned (version 0 = a provider without versions: always copied).
type lastToken struct {
	version uint64
	s       string
}

// readTokenSlow handles errors and tokens bigger than tokenBufSize.
func readTokenSlow(src tokenSource, dst []byte, last *atomic.Pointer[lastToken], rc C.idaas_code, n C.size_t, cerr *C.idaas_error) (string, []byte, error) {
	for range 4 { // the token may grow again (refresh) between two calls
		if Code(rc) != CodeBufferTooSmall {
			return "", dst, takeError(rc, cerr)
		}
		C.idaas_error_free(cerr)
		big := make([]byte, int(n))
		var out C.idaas_go_token_out
		rc, n, cerr = src.into((*C.char)(unsafe.Pointer(&big[0])), C.size_t(len(big)), &out)
		if rc == 0 {
			var s string
			if last != nil {
				s = string(big[:n])
				last.Store(&lastToken{version: uint64(out.version), s: s})
			} else {
				dst = append(dst, big[:n]...)
			}
			clear(big)
			return s, dst, nil
		}
	}
	return "", dst, takeError(rc, cerr)
}

// token is Token/AppendToken without ctx handling.
func (c *Client) token(dst []byte, scope string, asString bool) (string, []byte, error) {
	tb := tokenBufs.Get().(*tokenBuf)
	cp, ok := c.h.acquireOn(tb.stripe)
	if !ok {
		tokenBufs.Put(tb)
		return "", dst, ErrClosed
	}
	src := tokenSource{client: cp}
	var last *atomic.Pointer[lastToken]
	var tmp *C.char
	if scope == "" {
		last = &c.last
	} else if e := c.scopes.get(scope); e != nil {
		src.scope, last = e.cs, &e.last
	} else {
		tmp = cstr(scope)
		src.scope = tmp
	}
	var s string
	var err error
	if asString && last != nil {
		s, _, err = readToken(tb, src, nil, last)
	} else if asString {
		var b []byte
		_, b, err = readToken(tb, src, make([]byte, 0, 2048), nil)
		s = string(b)
		clear(b)
	} else {
		_, dst, err = readToken(tb, src, dst, nil)
	}
	cfree(tmp)
	c.h.releaseOn(tb.stripe)
	tokenBufs.Put(tb)
	runtime.KeepAlive(c)
	return s, dst, err
}

// Token returns the bearer token for the configured default scope — the hot path: served from
// the cache (refreshed ahead of expiry; network I/O only when no valid token is cached).
//
// With a context that can be cancelled, the call runs on a helper goroutine so that Token can
// return as soon as ctx is done (the library call itself finishes in the background); with
// context.Background() it runs on the calling goroutine. Go strings cannot be wiped: use
// AppendToken with your own buffer if that matters.
func (c *Client) Token(ctx context.Context) (string, error) {
	return c.TokenForScope(ctx, "")
}

// TokenForScope returns the bearer token for scope ("" = the configured default scope), e.g.
// "api.example.com|read:file".
func (c *Client) TokenForScope(ctx context.Context, scope string) (string, error) {
	if ctx.Done() == nil {
		s, _, err := c.token(nil, scope, true)
		return s, err
	}
	return withCtx(ctx, func() (string, error) {
		s, _, err := c.token(nil, scope, true)
		return s, err
	})
}

// AppendToken appends the bearer token for scope ("" = default) to dst and returns the extended
// slice: no allocation when dst has room (wipe it with clear() when done).
func (c *Client) AppendToken(ctx context.Context, dst []byte, scope string) ([]byte, error) {
	if ctx.Done() == nil {
		_, b, err := c.token(dst, scope, false)
		return b, err
	}
	return withCtx(ctx, func() ([]byte, error) {
		_, b, err := c.token(dst, scope, false)
		return b, err
	})
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
	last atomic.Pointer[lastToken]
}

func newProvider(p *C.idaas_provider) *Provider {
	x := &Provider{h: newHotHandle(p, func(p *C.idaas_provider) { C.idaas_provider_free(p) })}
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

func (p *Provider) token(dst []byte, asString bool) (string, []byte, error) {
	tb := tokenBufs.Get().(*tokenBuf)
	pp, ok := p.h.acquireOn(tb.stripe)
	if !ok {
		tokenBufs.Put(tb)
		return "", dst, ErrClosed
	}
	var last *atomic.Pointer[lastToken]
	if asString {
		last = &p.last
	}
	s, dst, err := readToken(tb, tokenSource{provider: pp}, dst, last)
	p.h.releaseOn(tb.stripe)
	tokenBufs.Put(tb)
	runtime.KeepAlive(p)
	return s, dst, err
}

// Token returns the provider's current bearer token (see Client.Token for ctx handling).
func (p *Provider) Token(ctx context.Context) (string, error) {
	if ctx.Done() == nil {
		s, _, err := p.token(nil, true)
		return s, err
	}
	return withCtx(ctx, func() (string, error) {
		s, _, err := p.token(nil, true)
		return s, err
	})
}

// AppendToken appends the provider's current bearer token to dst.
func (p *Provider) AppendToken(ctx context.Context, dst []byte) ([]byte, error) {
	if ctx.Done() == nil {
		_, b, err := p.token(dst, false)
		return b, err
	}
	return withCtx(ctx, func() ([]byte, error) {
		_, b, err := p.token(dst, false)
		return b, err
	})
}

// Close frees the provider (idempotent, thread-safe). PAM clients using it keep it alive.
func (p *Provider) Close() error {
	p.h.close()
	p.last.Store(nil)
	return nil
}
