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

// Code is the status of a call into the library (idaas_code of the C ABI; the constants are
// generated from the header in contract_gen.go). New codes may be added: classify any code with
// Code.Class.
type Code uint32

// String is the library's lower-case name of the code ("auth", "timeout" ..., "unknown").
func (c Code) String() string { return C.GoString(C.idaas_code_name(C.uint32_t(c))) }

// Class is the library's class of the code (idaas_code_class), also for a code this version
// does not know.
func (c Code) Class() Class { return Class(C.idaas_code_class(C.uint32_t(c))) }

// Class is the group of a Code (idaas_class of the C ABI: ClassArgument, ClassConfig ...).
type Class uint32

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

	retryable bool  // idaas_error_is_retryable
	cause     error // a context error, or the error returned by a Go callback
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "idaas: " + e.Code.String()
	}
	return "idaas: " + e.Code.String() + ": " + e.Message
}

// Unwrap returns the underlying context error (ctx.Err()) or the error of a Go callback, if any.
func (e *Error) Unwrap() error { return e.cause }

// Retryable reports whether trying the failed call again may succeed: the library's verdict
// (idaas_error_is_retryable: a server 5xx, HTTP 429, a transport failure or a timeout, after the
// library's own retries). False for errors made by this package (a done context, a closed handle).
func (e *Error) Retryable() bool { return e.retryable }

// Is matches the sentinels (ErrAuth, ErrServer ...) against the code.
func (e *Error) Is(target error) bool {
	s, ok := target.(*sentinel)
	return ok && s.match(e.Code)
}

// sentinel is the type of the Err* values errors.Is matches an *Error against: a class of codes
// (by the library's Code.Class) or one code.
type sentinel struct {
	name  string
	match func(Code) bool
}

func (s *sentinel) Error() string { return "idaas: " + s.name }

func class(c Class) func(Code) bool { return func(x Code) bool { return x.Class() == c } }
func code(c Code) func(Code) bool   { return func(x Code) bool { return x == c } }

// Sentinels for errors.Is: one per class of codes (an *Error matches the sentinel of its code's
// class) and a few for single codes within a class.
var (
	// ErrInvalidArgument: an argument was rejected locally (ClassArgument).
	ErrInvalidArgument error = &sentinel{"invalid argument", class(ClassArgument)}
	// ErrReentrantCall: a plugin callback asked its own client for the token it is fetching (the
	// same scope), which would wait for itself forever; the call failed at once instead
	// (CodeReentrantCall, also an ErrInvalidArgument). Ask another client, or the same client
	// for another scope.
	ErrReentrantCall error = &sentinel{"re-entrant call", code(CodeReentrantCall)}
	// ErrConfig: the configuration is missing, unreadable or invalid (ClassConfig).
	ErrConfig error = &sentinel{"configuration error", class(ClassConfig)}
	// ErrAuth: authentication failed — a local credential could not be produced (CodeCredential)
	// or the server refused authentication/authorization (CodeAuth) (ClassAuthentication).
	ErrAuth error = &sentinel{"authentication error", class(ClassAuthentication)}
	// ErrCredential: a local credential could not be produced (missing secret variable, plugin
	// failure ...) (CodeCredential).
	ErrCredential error = &sentinel{"credential error", code(CodeCredential)}
	// ErrServerReply: the server refused the request, failed, or answered with something
	// unusable (ClassServerReply: ErrClient, ErrServer, ErrUnexpectedResponse).
	ErrServerReply error = &sentinel{"server reply error", class(ClassServerReply)}
	// ErrClient: the server rejected the request for another client-side reason (other 4xx)
	// (CodeClientError).
	ErrClient error = &sentinel{"request rejected", code(CodeClientError)}
	// ErrServer: the server failed (5xx) (CodeServerError).
	ErrServer error = &sentinel{"server error", code(CodeServerError)}
	// ErrUnexpectedResponse: the server answered with something unusable
	// (CodeUnexpectedResponse).
	ErrUnexpectedResponse error = &sentinel{"unexpected response", code(CodeUnexpectedResponse)}
	// ErrNetwork: the network failed or a time bound expired (ClassNetwork: CodeTransport,
	// CodeTimeout).
	ErrNetwork error = &sentinel{"network error", class(ClassNetwork)}
	// ErrTimeout: a connect/read timeout or deadline expired (CodeTimeout), including an expired
	// context deadline.
	ErrTimeout error = &sentinel{"timeout", code(CodeTimeout)}
	// ErrCancelled: the call was cancelled (ClassCancelled), including a cancelled context.
	ErrCancelled error = &sentinel{"cancelled", class(ClassCancelled)}
	// ErrInternal: a bug or unsupported operation inside the library (ClassInternal).
	ErrInternal error = &sentinel{"internal error", class(ClassInternal)}
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
		e.retryable = bool(C.idaas_error_is_retryable(cerr))
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
