package idaas

/*
#include <stdlib.h>
#include <idaas.h>
*/
import "C"

import (
	"context"
	"encoding/json"
	"iter"
	"runtime"
	"sync"
	"time"
)

// PAMClient is the client of the IDaaS Developer API (API keys, OAuth tokens held by IDaaS, JWT
// authentication tokens). Safe for concurrent use; Close it when done.
type PAMClient struct {
	h     *handle[*C.idaas_pam]
	polls *pollSet // the cancellation tokens of running PollOAuthToken calls (Close cancels them)
}

// pollSet tracks the idaas_cancel tokens of running polls.
type pollSet struct {
	mu     sync.Mutex
	closed bool
	active map[*C.idaas_cancel]struct{}
}

// add registers a running poll's token; false once the client is closed.
func (s *pollSet) add(c *C.idaas_cancel) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.active[c] = struct{}{}
	return true
}

// remove unregisters c (before it is freed).
func (s *pollSet) remove(c *C.idaas_cancel) {
	s.mu.Lock()
	delete(s.active, c)
	s.mu.Unlock()
}

// cancelAll marks the set closed and cancels every running poll.
func (s *pollSet) cancelAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for c := range s.active {
		C.idaas_cancel_cancel(c)
	}
}

func (s *pollSet) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// APIKeyCache configures the in-memory API-key cache of a PAMClient (zero fields = library
// defaults: TTL 1 h, Grace 15 min, RetryInterval 5 s, MaxEntries 1024).
type APIKeyCache struct {
	TTL           time.Duration // how long a key is served from memory (whole seconds, rounded up)
	Grace         time.Duration // extra time a key is served while refreshes fail (retryable errors)
	RetryInterval time.Duration // wait between refresh attempts in the grace period
	MaxEntries    int
}

// PAMOptions are the optional settings of a PAMClient (nil = defaults: no API-key cache).
type PAMOptions struct {
	// APIKeyCache enables the API-key cache when non-nil.
	APIKeyCache *APIKeyCache
}

// secs is d in whole seconds, rounded up (a positive duration is at least 1 s).
func secs(d time.Duration) int64 { return int64((d + time.Second - 1) / time.Second) }

// millis is d in whole milliseconds, rounded up.
func millis(d time.Duration) int64 { return int64((d + time.Millisecond - 1) / time.Millisecond) }

func (o *PAMOptions) json() string {
	if o == nil || o.APIKeyCache == nil {
		return "{}"
	}
	c := map[string]any{}
	if o.APIKeyCache.TTL > 0 {
		c["ttlSecs"] = secs(o.APIKeyCache.TTL)
	}
	if o.APIKeyCache.Grace > 0 {
		c["graceSecs"] = secs(o.APIKeyCache.Grace)
	}
	if o.APIKeyCache.RetryInterval > 0 {
		c["retryIntervalSecs"] = secs(o.APIKeyCache.RetryInterval)
	}
	if o.APIKeyCache.MaxEntries > 0 {
		c["maxEntries"] = o.APIKeyCache.MaxEntries
	}
	b, _ := json.Marshal(map[string]any{"apiKeyCache": c})
	return string(b)
}

func newPAM(p *C.idaas_pam) *PAMClient {
	x := &PAMClient{
		h:     newHandle(p, func(p *C.idaas_pam) { C.idaas_pam_free(p) }),
		polls: &pollSet{active: map[*C.idaas_cancel]struct{}{}},
	}
	runtime.AddCleanup(x, func(h *handle[*C.idaas_pam]) { h.close() }, x.h)
	return x
}

// NewPAMClient creates a PAM client using the client's bearer tokens for scope
// urn:cloud:idaas:pam|.all, its Developer API endpoint and instance id. No network I/O.
func (c *Client) NewPAMClient(opts *PAMOptions) (*PAMClient, error) {
	cp, ok := c.h.acquire()
	if !ok {
		return nil, ErrClosed
	}
	defer c.h.release()
	o := cstr(opts.json())
	defer cfree(o)
	var out *C.idaas_pam
	var cerr *C.idaas_error
	if err := takeError(C.idaas_pam_new(cp, o, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	runtime.KeepAlive(c)
	return newPAM(out), nil
}

// NewPAMClientWithProvider is NewPAMClient with bearer tokens from p (e.g. a provider over a
// token-exchange result: the user-bound token the 3LO operations need).
func (c *Client) NewPAMClientWithProvider(p *Provider, opts *PAMOptions) (*PAMClient, error) {
	cp, ok := c.h.acquire()
	if !ok {
		return nil, ErrClosed
	}
	defer c.h.release()
	pp, ok := p.h.acquire()
	if !ok {
		return nil, ErrClosed
	}
	defer p.h.release()
	o := cstr(opts.json())
	defer cfree(o)
	var out *C.idaas_pam
	var cerr *C.idaas_error
	if err := takeError(C.idaas_pam_new_with_provider(cp, pp, o, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	runtime.KeepAlive(c)
	runtime.KeepAlive(p)
	return newPAM(out), nil
}

// Close frees the PAM client (idempotent, thread-safe; calls in flight finish first, and running
// PollOAuthToken calls are cancelled: they return an error wrapping ErrClosed).
func (p *PAMClient) Close() error {
	p.polls.cancelAll()
	p.h.close()
	return nil
}

// call runs f with the C handle under ctx (see Client.Token for the ctx semantics).
func pamCall[T any](ctx context.Context, p *PAMClient, f func(*C.idaas_pam) (T, error)) (T, error) {
	return withCtx(ctx, func() (T, error) {
		pp, ok := p.h.acquire()
		if !ok {
			var zero T
			return zero, ErrClosed
		}
		defer p.h.release()
		v, err := f(pp)
		runtime.KeepAlive(p)
		return v, err
	})
}

func unmarshalResult[T any](out *C.char) (*T, error) {
	s, _ := takeString(out)
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, &Error{Code: CodeUnexpectedResponse, Message: "result JSON: " + err.Error()}
	}
	return &v, nil
}

// APIKey returns the API key of the credential credentialID (ObtainCredential); found is false
// (with a nil error) when the credential has no API key, e.g. an OAuth-client credential. Served
// from the API-key cache when enabled.
func (p *PAMClient) APIKey(ctx context.Context, credentialID string) (key string, found bool, err error) {
	type r struct {
		k  string
		ok bool
	}
	v, err := pamCall(ctx, p, func(pp *C.idaas_pam) (r, error) {
		id := cstr(credentialID)
		defer cfree(id)
		var out *C.char
		var cerr *C.idaas_error
		if err := takeError(C.idaas_pam_get_api_key(pp, id, &out, &cerr), cerr); err != nil {
			return r{}, err
		}
		k, ok := takeString(out)
		return r{k, ok}, nil
	})
	return v.k, v.ok, err
}

// InvalidateAPIKey drops the cached API key of credentialID ("" = every cached key), so the next
// APIKey asks the server. A no-op without an API-key cache. No network I/O.
func (p *PAMClient) InvalidateAPIKey(credentialID string) error {
	_, err := pamCall(context.Background(), p, func(pp *C.idaas_pam) (struct{}, error) {
		id := cstrOpt(credentialID)
		defer cfree(id)
		var cerr *C.idaas_error
		return struct{}{}, takeError(C.idaas_pam_invalidate_api_key(pp, id, &cerr), cerr)
	})
	return err
}

// FetchOAuthToken returns the OAuth access token of the credential provider providerID with
// scope ("" = the provider's configured scopes); found is false when the reply carries none
// (e.g. user authorization is needed).
//
// Deprecated: use FetchOAuthTokenV2.
func (p *PAMClient) FetchOAuthToken(ctx context.Context, providerID, scope string) (token string, found bool, err error) {
	type r struct {
		t  string
		ok bool
	}
	v, err := pamCall(ctx, p, func(pp *C.idaas_pam) (r, error) {
		id, sc := cstr(providerID), cstrOpt(scope)
		defer cfree(id)
		defer cfree(sc)
		var out *C.char
		var cerr *C.idaas_error
		if err := takeError(C.idaas_pam_fetch_oauth_token(pp, id, sc, &out, &cerr), cerr); err != nil {
			return r{}, err
		}
		t, ok := takeString(out)
		return r{t, ok}, nil
	})
	return v.t, v.ok, err
}

// AuthorizationFlow selects 2LO or 3LO in FetchOAuthTokenV2.
type AuthorizationFlow string

const (
	FlowM2M            AuthorizationFlow = "m2m"             // 2LO: machine to machine
	FlowUserFederation AuthorizationFlow = "user_federation" // 3LO: on behalf of a user
)

// OAuthOptions are the optional parameters of FetchOAuthTokenV2 (nil = defaults).
type OAuthOptions struct {
	Scope               string            // OAuth scopes, space-separated (≤ 256 characters)
	ForceAuthentication bool              // ignore an existing valid token
	CustomParameters    map[string]string // extra parameters for the authorization URL
}

func (o *OAuthOptions) fields(m map[string]any) {
	if o == nil {
		return
	}
	if o.Scope != "" {
		m["scope"] = o.Scope
	}
	if o.ForceAuthentication {
		m["forceAuthentication"] = true
	}
	if len(o.CustomParameters) > 0 {
		m["customParameters"] = o.CustomParameters
	}
}

func jsonText(m map[string]any) string {
	b, _ := json.Marshal(m)
	return string(b)
}

// FetchOAuthTokenV2 is FetchOAuthAuthenticationToken (2LO with FlowM2M, 3LO with
// FlowUserFederation): either the token (OAuthAccessTokenContent, a secret) or, when the user
// must authorize first, the session (show OAuthAuthorizationSession.AuthorizationURL).
func (p *PAMClient) FetchOAuthTokenV2(ctx context.Context, providerID string, flow AuthorizationFlow, opts *OAuthOptions) (*OAuthAuthenticationTokenResponse, error) {
	m := map[string]any{}
	opts.fields(m)
	oj := jsonText(m)
	return pamCall(ctx, p, func(pp *C.idaas_pam) (*OAuthAuthenticationTokenResponse, error) {
		id, fl, o := cstr(providerID), cstr(string(flow)), cstr(oj)
		defer cfree(id)
		defer cfree(fl)
		defer cfree(o)
		var out *C.char
		var cerr *C.idaas_error
		if err := takeError(C.idaas_pam_fetch_oauth_token_v2(pp, id, fl, o, &out, &cerr), cerr); err != nil {
			return nil, err
		}
		return unmarshalResult[OAuthAuthenticationTokenResponse](out)
	})
}

// OAuthSession returns the state of the 3LO session sessionURI
// (OAuthAuthorizationSession.SessionURI); SessionStatus is "pending", "callback_received",
// "completed", "failed" or "expired".
func (p *PAMClient) OAuthSession(ctx context.Context, sessionURI string) (*OAuthAuthorizationSessionResponse, error) {
	return pamCall(ctx, p, func(pp *C.idaas_pam) (*OAuthAuthorizationSessionResponse, error) {
		u := cstr(sessionURI)
		defer cfree(u)
		var out *C.char
		var cerr *C.idaas_error
		if err := takeError(C.idaas_pam_get_oauth_session(pp, u, &out, &cerr), cerr); err != nil {
			return nil, err
		}
		return unmarshalResult[OAuthAuthorizationSessionResponse](out)
	})
}

// JWTOptions are the optional parameters of GenerateJWT (nil = defaults).
type JWTOptions struct {
	Issuer                   string
	CustomClaims             map[string]any
	Expiration               time.Duration // lifetime (whole seconds, rounded up); 0 = the provider's default
	IncludeDerivedShortToken bool
}

// GenerateJWT is GenerateJwtAuthenticationToken: a JWT from the JWT credential provider
// providerID for subject and audiences (none may start with urn:cloud:idaas). The JWT and the
// derived short token are in JWTContent (secrets).
func (p *PAMClient) GenerateJWT(ctx context.Context, providerID, subject string, audiences []string, opts *JWTOptions) (*JWTTokenResponse, error) {
	if audiences == nil {
		audiences = []string{}
	}
	aud, _ := json.Marshal(audiences)
	m := map[string]any{}
	if opts != nil {
		if opts.Issuer != "" {
			m["issuer"] = opts.Issuer
		}
		if opts.CustomClaims != nil {
			m["customClaims"] = opts.CustomClaims
		}
		if opts.Expiration > 0 {
			m["expiration"] = secs(opts.Expiration)
		}
		if opts.IncludeDerivedShortToken {
			m["includeDerivedShortToken"] = true
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, &Error{Code: CodeInvalidArgument, Message: "options: " + err.Error()}
	}
	oj := string(b)
	return pamCall(ctx, p, func(pp *C.idaas_pam) (*JWTTokenResponse, error) {
		id, sub, a, o := cstr(providerID), cstr(subject), cstr(string(aud)), cstr(oj)
		defer cfree(id)
		defer cfree(sub)
		defer cfree(a)
		defer cfree(o)
		var out *C.char
		var cerr *C.idaas_error
		if err := takeError(C.idaas_pam_generate_jwt(pp, id, sub, a, o, &out, &cerr), cerr); err != nil {
			return nil, err
		}
		return unmarshalResult[JWTTokenResponse](out)
	})
}

// ObtainJWT is ObtainJwtAuthenticationToken: the JWT of the existing authentication token
// tokenID (atntkn_...) of consumerID.
func (p *PAMClient) ObtainJWT(ctx context.Context, consumerID, tokenID string) (*JWTContent, error) {
	return pamCall(ctx, p, func(pp *C.idaas_pam) (*JWTContent, error) {
		c, t := cstr(consumerID), cstr(tokenID)
		defer cfree(c)
		defer cfree(t)
		var out *C.char
		var cerr *C.idaas_error
		if err := takeError(C.idaas_pam_obtain_jwt(pp, c, t, &out, &cerr), cerr); err != nil {
			return nil, err
		}
		return unmarshalResult[JWTContent](out)
	})
}

// ObtainJWTByShortToken is ObtainJwtAuthenticationTokenByDerivedShortToken.
func (p *PAMClient) ObtainJWTByShortToken(ctx context.Context, derivedShortToken string) (*JWTContent, error) {
	return pamCall(ctx, p, func(pp *C.idaas_pam) (*JWTContent, error) {
		t := cstr(derivedShortToken)
		defer cfreeSecret(t)
		var out *C.char
		var cerr *C.idaas_error
		if err := takeError(C.idaas_pam_obtain_jwt_by_short_token(pp, t, &out, &cerr), cerr); err != nil {
			return nil, err
		}
		return unmarshalResult[JWTContent](out)
	})
}

// ListOptions filter ListTokens / ListTokensPage (nil = no filter).
type ListOptions struct {
	NextToken  string // ListTokensPage only: the page to read ("" = the first)
	MaxResults int    // page size (> 0; 0 = the server's default)
	Revoked    *bool
	Expired    *bool
}

func (o *ListOptions) json() string {
	m := map[string]any{}
	if o != nil {
		if o.NextToken != "" {
			m["nextToken"] = o.NextToken
		}
		if o.MaxResults != 0 {
			m["maxResults"] = o.MaxResults
		}
		if o.Revoked != nil {
			m["revoked"] = *o.Revoked
		}
		if o.Expired != nil {
			m["expired"] = *o.Expired
		}
	}
	return jsonText(m)
}

// ListTokensPage is ListAuthenticationTokens: ONE page of the authentication tokens of
// consumerID under providerID (opts.NextToken selects the page; the page's NextToken "" means the
// last page).
func (p *PAMClient) ListTokensPage(ctx context.Context, consumerID, providerID string, opts *ListOptions) (*AuthenticationTokenPage, error) {
	oj := opts.json()
	return pamCall(ctx, p, func(pp *C.idaas_pam) (*AuthenticationTokenPage, error) {
		c, id, o := cstr(consumerID), cstr(providerID), cstr(oj)
		defer cfree(c)
		defer cfree(id)
		defer cfree(o)
		var out *C.char
		var cerr *C.idaas_error
		if err := takeError(C.idaas_pam_list_tokens(pp, c, id, o, &out, &cerr), cerr); err != nil {
			return nil, err
		}
		return unmarshalResult[AuthenticationTokenPage](out)
	})
}

// ListTokens iterates over every authentication token of consumerID under providerID, reading
// pages on demand (opts.NextToken is the starting page). An error is yielded once, as the last
// element.
func (p *PAMClient) ListTokens(ctx context.Context, consumerID, providerID string, opts *ListOptions) iter.Seq2[AuthenticationToken, error] {
	var o ListOptions
	if opts != nil {
		o = *opts
	}
	return func(yield func(AuthenticationToken, error) bool) {
		o := o
		seen := map[string]bool{}
		for {
			page, err := p.ListTokensPage(ctx, consumerID, providerID, &o)
			if err != nil {
				yield(AuthenticationToken{}, err)
				return
			}
			for _, t := range page.Entities {
				if !yield(t, nil) {
					return
				}
			}
			if page.NextToken == "" {
				return
			}
			if seen[page.NextToken] {
				yield(AuthenticationToken{}, &Error{Code: CodeUnexpectedResponse, Message: "list: the server repeated nextToken " + page.NextToken})
				return
			}
			seen[page.NextToken] = true
			o.NextToken = page.NextToken
		}
	}
}

// ValidateToken is ValidateAuthenticationToken: whether token (a JWT or derived short token) is
// active; false when unknown, revoked or expired. hint may be "".
func (p *PAMClient) ValidateToken(ctx context.Context, token, hint string) (bool, error) {
	return pamCall(ctx, p, func(pp *C.idaas_pam) (bool, error) {
		t, h := cstr(token), cstrOpt(hint)
		defer cfreeSecret(t)
		defer cfree(h)
		var active C.bool
		var cerr *C.idaas_error
		if err := takeError(C.idaas_pam_validate_token(pp, t, h, &active, &cerr), cerr); err != nil {
			return false, err
		}
		return bool(active), nil
	})
}

// tokenOp runs one of the revoke/reinstate calls taking (token, hint).
func (p *PAMClient) tokenOp(ctx context.Context, token, hint string,
	f func(*C.idaas_pam, *C.char, *C.char, **C.idaas_error) C.idaas_code) error {
	_, err := pamCall(ctx, p, func(pp *C.idaas_pam) (struct{}, error) {
		t, h := cstr(token), cstrOpt(hint)
		defer cfreeSecret(t)
		defer cfree(h)
		var cerr *C.idaas_error
		return struct{}{}, takeError(f(pp, t, h, &cerr), cerr)
	})
	return err
}

// RevokeToken is RevokeAuthenticationToken (sent once, not retried). hint may be "".
func (p *PAMClient) RevokeToken(ctx context.Context, token, hint string) error {
	return p.tokenOp(ctx, token, hint, func(pp *C.idaas_pam, t, h *C.char, e **C.idaas_error) C.idaas_code {
		return C.idaas_pam_revoke_token(pp, t, h, e)
	})
}

// ReinstateToken is ReinstateAuthenticationToken: undoes RevokeToken. hint may be "".
func (p *PAMClient) ReinstateToken(ctx context.Context, token, hint string) error {
	return p.tokenOp(ctx, token, hint, func(pp *C.idaas_pam, t, h *C.char, e **C.idaas_error) C.idaas_code {
		return C.idaas_pam_reinstate_token(pp, t, h, e)
	})
}

func (p *PAMClient) consumerOp(ctx context.Context, consumerID, providerID string,
	f func(*C.idaas_pam, *C.char, *C.char, **C.idaas_error) C.idaas_code) error {
	_, err := pamCall(ctx, p, func(pp *C.idaas_pam) (struct{}, error) {
		c, id := cstr(consumerID), cstr(providerID)
		defer cfree(c)
		defer cfree(id)
		var cerr *C.idaas_error
		return struct{}{}, takeError(f(pp, c, id, &cerr), cerr)
	})
	return err
}

// RevokeTokensByConsumer revokes every token of consumerID under providerID.
func (p *PAMClient) RevokeTokensByConsumer(ctx context.Context, consumerID, providerID string) error {
	return p.consumerOp(ctx, consumerID, providerID, func(pp *C.idaas_pam, c, id *C.char, e **C.idaas_error) C.idaas_code {
		return C.idaas_pam_revoke_tokens_by_consumer(pp, c, id, e)
	})
}

// ReinstateTokensByConsumer undoes RevokeTokensByConsumer.
func (p *PAMClient) ReinstateTokensByConsumer(ctx context.Context, consumerID, providerID string) error {
	return p.consumerOp(ctx, consumerID, providerID, func(pp *C.idaas_pam, c, id *C.char, e **C.idaas_error) C.idaas_code {
		return C.idaas_pam_reinstate_tokens_by_consumer(pp, c, id, e)
	})
}
