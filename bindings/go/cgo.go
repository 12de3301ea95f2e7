package idaas

// The cgo glue: build flags, C shims for the callbacks, string and handle helpers.
//
// Linking: the package links the Rust static library libidaas.a (no LD_LIBRARY_PATH needed at run
// time). The default search directory is ../../target/release (the repository's cargo target
// directory); for another CARGO_TARGET_DIR put `-L$CARGO_TARGET_DIR/release` in CGO_LDFLAGS, which
// the go command places before these flags, so it wins (bindings/go/Makefile does this).

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -L${SRCDIR}/../../target/release -l:libidaas.a -lgcc_s -lutil -lrt -lpthread -lm -ldl
#include <stdlib.h>
#include <string.h>
#include <idaas.h>

// Frees a C string that may hold a secret (zeroed first).
static void idaas_go_free_secret(char *s) {
	if (s) {
		idaas_buffer_wipe(s, strlen(s));
		free(s);
	}
}
*/
import "C"

import (
	"context"
	"runtime"
	"sync/atomic"
	"unsafe"
)

// cstr copies s into C memory (free with C.free) ; "" → nil when nullable.
func cstr(s string) *C.char { return C.CString(s) }

// cstrOpt is cstr, or nil for "" (the ABI's "use the default").
func cstrOpt(s string) *C.char {
	if s == "" {
		return nil
	}
	return C.CString(s)
}

func cfree(p *C.char) {
	if p != nil {
		C.free(unsafe.Pointer(p))
	}
}

// cfreeSecret zeroes then frees a C copy of a secret (token, JWT ...).
func cfreeSecret(p *C.char) { C.idaas_go_free_secret(p) }

// takeString copies an owned library string into Go and releases it with idaas_string_free
// (which zeroes it). NULL → ("", false).
func takeString(p *C.char) (string, bool) {
	if p == nil {
		return "", false
	}
	s := C.GoString(p)
	C.idaas_string_free(p)
	return s, true
}

// handle is the lifetime of one C handle shared by a Go wrapper and its in-flight calls: the
// owner's reference (dropped by close) plus a count of calls in flight. The C _free runs exactly
// once, after close, when no call holds a reference, so Close never races with a call (a call
// abandoned on ctx.Done still holds its reference until the C call returns).
//
// The count of calls in flight is striped over cache lines (one stripe for most handles; a stripe
// per CPU for the token read hot path of clients and providers, chosen by the caller's pooled
// per-P buffer): goroutines on different CPUs then do not bounce one counter's cache line on
// every call. A call increments its stripe, then checks closed; close sets closed, then sums the
// stripes. Atomics are sequentially consistent, so a call that counted itself after close
// sees closed (and backs out), and one that counted itself before is in close's sum until it
// leaves; whoever sees closed with all stripes at zero frees the handle (freed makes that once).
type handle[P any] struct {
	ptr    P
	closed atomic.Bool
	freed  atomic.Bool
	free   func(P)
	refs   []refStripe // len is a power of two
}

// refStripe is one counter on its own cache line.
type refStripe struct {
	n atomic.Int64
	_ [56]byte
}

func newHandle[P any](p P, free func(P)) *handle[P] {
	return &handle[P]{ptr: p, free: free, refs: make([]refStripe, 1)}
}

// hotStripes is the stripe count of the hot-path handles (Client, Provider): a power of two, at
// least 16 and the number of CPUs (at most 64) — 1 KiB per handle for 16. Stripes are handed out
// round-robin to the pooled buffers, one per P in the steady state, so with up to hotStripes Ps
// (GOMAXPROCS may be raised after start-up) no two running goroutines share one.
var hotStripes = func() int {
	n := 16
	for n < runtime.NumCPU() && n < 64 {
		n *= 2
	}
	return n
}()

// newHotHandle is newHandle for a handle read on the token hot path (acquireOn with the pooled
// buffer's stripe).
func newHotHandle[P any](p P, free func(P)) *handle[P] {
	return &handle[P]{ptr: p, free: free, refs: make([]refStripe, hotStripes)}
}

// acquire returns the C pointer with a reference held, or false once closed.
func (h *handle[P]) acquire() (P, bool) { return h.acquireOn(0) }

// release drops a reference taken by acquire.
func (h *handle[P]) release() { h.releaseOn(0) }

// acquireOn is acquire counting the reference on stripe i (any value; release with the same i).
func (h *handle[P]) acquireOn(i uint32) (P, bool) {
	s := &h.refs[int(i)&(len(h.refs)-1)]
	s.n.Add(1)
	if h.closed.Load() {
		h.releaseStripe(s)
		var zero P
		return zero, false
	}
	return h.ptr, true
}

func (h *handle[P]) releaseOn(i uint32) { h.releaseStripe(&h.refs[int(i)&(len(h.refs)-1)]) }

func (h *handle[P]) releaseStripe(s *refStripe) {
	s.n.Add(-1)
	if h.closed.Load() {
		h.tryFree()
	}
}

// tryFree frees the C handle once closed and no call holds a reference.
func (h *handle[P]) tryFree() {
	for i := range h.refs {
		if h.refs[i].n.Load() != 0 {
			return // that call frees it when it leaves
		}
	}
	if h.freed.CompareAndSwap(false, true) {
		h.free(h.ptr)
	}
}

// close is idempotent and thread-safe.
func (h *handle[P]) close() {
	if h.closed.CompareAndSwap(false, true) {
		h.tryFree()
	}
}

// withCtx runs f, returning early with a context error when ctx is done first. Without a Done
// channel (context.Background) f runs on the calling goroutine (no overhead); otherwise on a new
// goroutine, which finishes the C call and frees its results if the caller has gone.
func withCtx[T any](ctx context.Context, f func() (T, error)) (T, error) {
	var zero T
	done := ctx.Done()
	if done == nil {
		return f()
	}
	if err := ctx.Err(); err != nil {
		return zero, ctxError(ctx)
	}
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-done:
		return zero, ctxError(ctx)
	}
}

// Version is the version of the native library (idaas_version).
func Version() string { return C.GoString(C.idaas_version()) }
