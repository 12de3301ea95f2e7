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
		idaas_secure_zero(s, strlen(s));
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

// handle is the lifetime of one C handle shared by a Go wrapper and its in-flight calls: a
// reference count starting at 1 (the owner). Calls acquire/release a reference; Close drops the
// owner's. The C _free runs exactly once, when the count reaches zero, so Close never races with
// a call (a call abandoned on ctx.Done still holds its reference until the C call returns).
type handle[P any] struct {
	ptr    P
	refs   atomic.Int64
	closed atomic.Bool
	free   func(P)
}

func newHandle[P any](p P, free func(P)) *handle[P] {
	h := &handle[P]{ptr: p, free: free}
	h.refs.Store(1)
	return h
}

// acquire returns the C pointer with a reference held, or false once closed.
func (h *handle[P]) acquire() (P, bool) {
	for {
		n := h.refs.Load()
		if n <= 0 || h.closed.Load() {
			var zero P
			return zero, false
		}
		if h.refs.CompareAndSwap(n, n+1) {
			return h.ptr, true
		}
	}
}

func (h *handle[P]) release() {
	if h.refs.Add(-1) == 0 {
		h.free(h.ptr)
	}
}

// close is idempotent and thread-safe.
func (h *handle[P]) close() {
	if h.closed.CompareAndSwap(false, true) {
		h.release()
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

var _ = runtime.KeepAlive
