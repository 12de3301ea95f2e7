package idaas

// The cgo glue: build flags, C shims for the callbacks, string and handle helpers.
//
// Linking: the package links the static library libidaas.a (no LD_LIBRARY_PATH needed at run
// time). The header is include/idaas.h of this directory (a symlink to the repository's header;
// a real file in the published module). The library and its system libraries are in the
// generated per-platform files native_<goos>_<goarch>[_<tag>].go (packaging/go/gen_cgo.py, from
// packaging/platforms.json), each linking lib/<goos>_<goarch>[_<tag>]/libidaas.a: the published
// module ships one prebuilt library per platform there; in the repository `make lib` in this
// directory links the workspace's release build into lib/<goos>_<goarch>/ (D-57).

/*
#cgo CFLAGS: -I${SRCDIR}/include
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
// A call increments refs, then checks closed; close sets closed, then checks refs. Atomics are
// sequentially consistent, so a call that counted itself after close sees closed (and backs out),
// and one that counted itself before is seen by close until it leaves; whoever sees closed with
// no reference left frees the handle (freed makes that once).
type handle[P any] struct {
	ptr    P
	free   func(P)
	refs   atomic.Int64
	closed atomic.Bool
	freed  atomic.Bool
}

func newHandle[P any](p P, free func(P)) *handle[P] {
	return &handle[P]{ptr: p, free: free}
}

// acquire returns the C pointer with a reference held, or false once closed.
func (h *handle[P]) acquire() (P, bool) {
	h.refs.Add(1)
	if h.closed.Load() {
		h.release()
		var zero P
		return zero, false
	}
	return h.ptr, true
}

// release drops a reference taken by acquire.
func (h *handle[P]) release() {
	if h.refs.Add(-1) == 0 && h.closed.Load() {
		h.tryFree()
	}
}

// tryFree frees the C handle once closed and no call holds a reference.
func (h *handle[P]) tryFree() {
	if h.refs.Load() == 0 && h.freed.CompareAndSwap(false, true) {
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
// goroutine, which finishes the C call in the background if the caller has gone.
func withCtx[T any](ctx context.Context, f func() (T, error)) (T, error) {
	return withCtxDrop(ctx, f, nil)
}

// withCtxDrop is withCtx; drop (when not nil) receives the result of a call the caller has given
// up on, once it arrives (to wipe a secret).
func withCtxDrop[T any](ctx context.Context, f func() (T, error), drop func(T)) (T, error) {
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
		if drop != nil {
			go func() { drop((<-ch).v) }()
		}
		return zero, ctxError(ctx)
	}
}

// Version is the version of the native library (idaas_version).
func Version() string { return C.GoString(C.idaas_version()) }
