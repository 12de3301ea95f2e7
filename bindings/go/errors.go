package idaas

/*
#include <idaas.h>
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
)

// Code is the status of a call into the library (the C ABI's idaas_code). Codes are grouped by
// hundreds and never renumbered; treat an unknown code by its group (Code.Group).
type Code uint32

// The codes of include/idaas.h.
const (
	CodeOK                 Code = 0
	CodeNullArgument       Code = 100
	CodeInvalidUTF8        Code = 101
	CodeInvalidArgument    Code = 102
	CodeBufferTooSmall     Code = 103
	CodeReentrantCall      Code = 104
	CodeConfig             Code = 200
	CodeCredential         Code = 300
	CodeAuth               Code = 301
	CodeClientError        Code = 400
	CodeServerError        Code = 401
	CodeUnexpectedResponse Code = 402
	CodeTransport          Code = 500
	CodeTimeout            Code = 501
	CodeCancelled          Code = 600
	CodeInternal           Code = 900
	CodePanic              Code = 901
	CodeUnsupported        Code = 902
)

// String is the library's lower-case name of the code ("auth", "timeout" ..., "unknown").
func (c Code) String() string { return C.GoString(C.idaas_code_name(C.uint32_t(c))) }

// Group is the hundreds group of the code (1 argument, 2 config, 3 authentication, 4 server
// reply, 5 network, 6 cancelled, 9 internal).
func (c Code) Group() int { return int(c / 100) }

// Error is every error returned by the library. Use errors.As to read the details and errors.Is
// with the sentinels (ErrAuth, ErrServer ...) to test the class.
type Error struct {
	// Code is the library's status code.
	Code Code
	// Message is the human-readable description (never a secret).
	Message string
	// HTTPStatus is the status of the server reply that caused the error; 0 when no server answered.
	HTTPStatus int
	// ServerCode is the server's `error`/`Code` or a library catalogue code ("invalid_client",
	// "InvalidScope" ...); "" when none.
	ServerCode string
	// RequestID is the request id the server sent with the failed reply; "" when none.
	RequestID string

	cause error // a context error, or the error returned by a Go callback
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "idaas: " + e.Code.String()
	}
	return "idaas: " + e.Code.String() + ": " + e.Message
}

// Unwrap returns the underlying context error (ctx.Err()) or the error of a Go callback, if any.
func (e *Error) Unwrap() error { return e.cause }

// Retryable reports whether retrying may help: a server 5xx, a transport failure, a timeout, or
// HTTP 429.
func (e *Error) Retryable() bool {
	switch e.Code {
	case CodeServerError, CodeTransport, CodeTimeout:
		return true
	}
	return e.HTTPStatus == 429
}

// Is matches the class sentinels (ErrAuth ...) against the code.
func (e *Error) Is(target error) bool {
	c, ok := target.(*class)
	return ok && c.match(e.Code)
}

// class is the type of the sentinels.
type class struct {
	name  string
	match func(Code) bool
}

func (c *class) Error() string { return "idaas: " + c.name }

func group(g int) func(Code) bool  { return func(c Code) bool { return c.Group() == g } }
func exact(x Code) func(Code) bool { return func(c Code) bool { return c == x } }

// Class sentinels for errors.Is. An *Error matches every sentinel of its class.
var (
	// ErrInvalidArgument: an argument was rejected locally (codes 1xx).
	ErrInvalidArgument error = &class{"invalid argument", group(1)}
	// ErrReentrantCall: a plugin callback asked its own client for the token it is fetching (the
	// same scope), which would wait for itself forever; the call failed at once instead (104, also
	// an ErrInvalidArgument). Ask another client, or the same client for another scope.
	ErrReentrantCall error = &class{"re-entrant call", exact(CodeReentrantCall)}
	// ErrConfig: the configuration is missing, unreadable or invalid (200).
	ErrConfig error = &class{"configuration error", group(2)}
	// ErrAuth: authentication failed — a local credential could not be produced (300) or the
	// server refused authentication/authorization (301). Use ErrCredential for the former only.
	ErrAuth error = &class{"authentication error", group(3)}
	// ErrCredential: a local credential could not be produced (missing secret variable, plugin
	// failure ...) (300).
	ErrCredential error = &class{"credential error", exact(CodeCredential)}
	// ErrClient: the server rejected the request for another client-side reason (other 4xx) (400).
	ErrClient error = &class{"request rejected", exact(CodeClientError)}
	// ErrServer: the server failed (5xx) (401).
	ErrServer error = &class{"server error", exact(CodeServerError)}
	// ErrUnexpectedResponse: the server answered with something unusable (402).
	ErrUnexpectedResponse error = &class{"unexpected response", exact(CodeUnexpectedResponse)}
	// ErrNetwork: the network failed or timed out (5xx codes: 500 transport, 501 timeout).
	ErrNetwork error = &class{"network error", group(5)}
	// ErrTimeout: a connect/read timeout or deadline expired (501), including an expired
	// context deadline.
	ErrTimeout error = &class{"timeout", exact(CodeTimeout)}
	// ErrCancelled: the call was cancelled (600), including a cancelled context.
	ErrCancelled error = &class{"cancelled", group(6)}
	// ErrInternal: a bug or unsupported operation inside the library (9xx).
	ErrInternal error = &class{"internal error", group(9)}
	// ErrClosed is returned by methods called after Close.
	ErrClosed = errors.New("idaas: use of a closed handle")
)

// takeError converts (and frees) an idaas_error. code 0 → nil.
func takeError(code C.idaas_code, cerr *C.idaas_error) error {
	if code == 0 {
		if cerr != nil {
			C.idaas_error_free(cerr)
		}
		return nil
	}
	e := &Error{Code: Code(code)}
	if cerr != nil {
		e.Message = C.GoString(C.idaas_error_message(cerr))
		e.HTTPStatus = int(C.idaas_error_http_status(cerr))
		if p := C.idaas_error_server_code(cerr); p != nil {
			e.ServerCode = C.GoString(p)
		}
		if p := C.idaas_error_request_id(cerr); p != nil {
			e.RequestID = C.GoString(p)
		}
		C.idaas_error_free(cerr)
	}
	return e
}

// ctxError is the error of a call abandoned because ctx is done: CodeCancelled or CodeTimeout,
// wrapping ctx.Err() (errors.Is(err, context.Canceled / context.DeadlineExceeded) holds).
func ctxError(ctx context.Context) error {
	err := ctx.Err()
	code := CodeCancelled
	if errors.Is(err, context.DeadlineExceeded) {
		code = CodeTimeout
	}
	return &Error{Code: code, Message: fmt.Sprintf("context: %v", err), cause: err}
}
