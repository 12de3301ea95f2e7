package idaas

// Reading bearer tokens (Client and Provider): the hot path of the package.

/*
#include <idaas.h>

// One versioned token read with its out-parameters returned by value: no Go pointer but the
// buffer goes to C, so the out-parameters need no heap allocation per call.
typedef struct {
	idaas_code code;
	size_t len;       // the token's length; with IDAAS_CODE_BUFFER_TOO_SMALL the bytes needed
	uint64_t version; // the version of the token copied into buf (unchanged when nothing was copied)
	idaas_error *err;
} idaas_go_token;

static idaas_go_token idaas_go_client_token(const idaas_client *client, const char *scope, uint64_t known,
                                            char *buf, size_t cap) {
	idaas_go_token r = {0, 0, known, NULL};
	r.code = idaas_client_get_token_versioned(client, scope, &r.version, buf, cap, &r.len, &r.err);
	return r;
}

static idaas_go_token idaas_go_provider_token(const idaas_provider *provider, uint64_t known, char *buf,
                                              size_t cap) {
	idaas_go_token r = {0, 0, known, NULL};
	r.code = idaas_provider_get_token_versioned(provider, &r.version, buf, cap, &r.len, &r.err);
	return r;
}
*/
import "C"

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
)

// tokenSource is where a token is read from: a client scope (scope NULL: the default) or a
// provider.
type tokenSource struct {
	client   *C.idaas_client
	scope    *C.char
	provider *C.idaas_provider
}

// read is one versioned token read of the library (idaas_*_get_token_versioned): known is the
// version of the caller's copy (0: none, always copy); buf (nil: none) receives the token and its
// NUL.
func (src tokenSource) read(known uint64, buf []byte) C.idaas_go_token {
	var p *C.char
	if len(buf) > 0 {
		p = (*C.char)(unsafe.Pointer(&buf[0]))
	}
	if src.client != nil {
		return C.idaas_go_client_token(src.client, src.scope, C.uint64_t(known), p, C.size_t(len(buf)))
	}
	return C.idaas_go_provider_token(src.provider, C.uint64_t(known), p, C.size_t(len(buf)))
}

// tokenMemo is the package's one performance mechanism: the token string a Client (default
// scope) or a Provider returned last, with the library's version of it. A read passes that
// version to the library, which still looks the token up (validity, refresh ahead of expiry) on
// every call but copies nothing while it is unchanged: the same Go string is returned again, with
// no allocation. A new token (refresh, another version) is copied once into a string of its own.
// Without it every Token call allocates a string of the token's size (about 1 KiB), which costs
// several times the library's read.
//
// The library is always given a buffer, so that a token it fetches anew on this call (one that is
// not cached, e.g. a plugin's token of unknown lifetime) is read at once and not fetched twice;
// the buffers are pooled (the pool is part of this mechanism: a buffer per call would be the
// allocation the memo saves) and wiped after each copy.
type tokenMemo struct {
	last atomic.Pointer[memoToken]
}

type memoToken struct {
	version uint64 // >= 1
	s       string
}

// scratchSize is the size of the pooled buffers: typical tokens fit (bigger ones get a buffer of
// their size, one more call).
const scratchSize = 4096

var scratch = sync.Pool{New: func() any { return new([scratchSize]byte) }}

// readString returns the token as a Go string; memo (nil: none) is consulted and updated.
func readString(src tokenSource, memo *tokenMemo) (string, error) {
	var prev *memoToken
	var known uint64
	if memo != nil {
		if prev = memo.last.Load(); prev != nil {
			known = prev.version
		}
	}
	pooled := scratch.Get().(*[scratchSize]byte)
	defer scratch.Put(pooled)
	buf := pooled[:]
	for range 4 { // the token may grow between two calls (a refresh)
		r := src.read(known, buf)
		switch Code(r.code) {
		case CodeOK:
			if r.len == 0 && prev != nil && uint64(r.version) == known {
				return prev.s, nil // nothing copied: the library's token is still prev
			}
			b := buf[:r.len]
			s := string(b)
			clear(b)
			if memo != nil && r.version != 0 { // 0: a provider without versions (static)
				memo.last.Store(&memoToken{version: uint64(r.version), s: s})
			}
			return s, nil
		case CodeBufferTooSmall:
			C.idaas_error_free(r.err)
			buf, known = make([]byte, int(r.len)), 0
		default:
			return "", takeError(r.code, r.err)
		}
	}
	return "", &Error{Code: CodeBufferTooSmall, Message: "the token kept growing while it was read"}
}

// clear forgets the memorised token (Close: the string is no longer referenced from here).
func (m *tokenMemo) clear() { m.last.Store(nil) }

// typicalToken is the room made for a token when dst has none ("2048 bytes fit typical
// tokens", says the header); a bigger token costs one more call.
const typicalToken = 2048

// appendToken appends the token to dst: the library writes it straight into dst's spare capacity
// (typicalToken bytes are made when there is none), grown to the size the library asks for when
// it is too small.
func appendToken(src tokenSource, dst []byte) ([]byte, error) {
	if cap(dst) == len(dst) {
		dst = slices.Grow(dst, typicalToken)
	}
	for range 4 { // the token may grow between two calls (a refresh)
		r := src.read(0, dst[len(dst):cap(dst)])
		if Code(r.code) != CodeBufferTooSmall {
			if err := takeError(r.code, r.err); err != nil {
				return dst, err
			}
			return dst[:len(dst)+int(r.len)], nil
		}
		C.idaas_error_free(r.err)
		dst = slices.Grow(dst, int(r.len))
	}
	return dst, &Error{Code: CodeBufferTooSmall, Message: "the token kept growing while it was read"}
}

// appendWithCtx is AppendToken with a cancellable ctx: the helper goroutine reads into a buffer
// of its own (never into dst, which the caller owns again once it returned early); the caller
// copies it to dst and wipes it, or it is wiped when the caller has given up.
func appendWithCtx(ctx context.Context, dst []byte, read func() ([]byte, error)) ([]byte, error) {
	b, err := withCtxDrop(ctx, read, func(b []byte) { clear(b) })
	if err != nil {
		return dst, err
	}
	dst = append(dst, b...)
	clear(b)
	return dst, nil
}

// clientSource returns the source of scope's token ("" = default) with a reference on c held
// (release it with c.h.release), or false once c is closed.
func (c *Client) clientSource(scope string) (tokenSource, bool) {
	cp, ok := c.h.acquire()
	if !ok {
		return tokenSource{}, false
	}
	src := tokenSource{client: cp}
	if scope != "" {
		// A NUL-terminated copy in Go memory: the library borrows it for the call only.
		b := append([]byte(scope), 0)
		src.scope = (*C.char)(unsafe.Pointer(&b[0]))
	}
	return src, true
}

// readString is TokenForScope without ctx handling (the memo serves the default scope).
func (c *Client) readString(scope string) (string, error) {
	src, ok := c.clientSource(scope)
	if !ok {
		return "", ErrClosed
	}
	defer c.h.release()
	var memo *tokenMemo
	if scope == "" {
		memo = &c.memo
	}
	s, err := readString(src, memo)
	runtime.KeepAlive(c)
	return s, err
}

// appendToken is AppendToken without ctx handling.
func (c *Client) appendToken(dst []byte, scope string) ([]byte, error) {
	src, ok := c.clientSource(scope)
	if !ok {
		return dst, ErrClosed
	}
	defer c.h.release()
	dst, err := appendToken(src, dst)
	runtime.KeepAlive(c)
	return dst, err
}

// readString is Provider.Token without ctx handling.
func (p *Provider) readString() (string, error) {
	pp, ok := p.h.acquire()
	if !ok {
		return "", ErrClosed
	}
	defer p.h.release()
	s, err := readString(tokenSource{provider: pp}, &p.memo)
	runtime.KeepAlive(p)
	return s, err
}

// appendToken is Provider.AppendToken without ctx handling.
func (p *Provider) appendToken(dst []byte) ([]byte, error) {
	pp, ok := p.h.acquire()
	if !ok {
		return dst, ErrClosed
	}
	defer p.h.release()
	dst, err := appendToken(tokenSource{provider: pp}, dst)
	runtime.KeepAlive(p)
	return dst, err
}
