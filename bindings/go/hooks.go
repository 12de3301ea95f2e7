package idaas

// Callback-based functions: the log callback, token plugins and the 3LO poll. The C shims below
// pass the Go-exported callbacks (callbacks.go) as C function pointers and a runtime/cgo.Handle
// as user_data.

/*
#include <stdlib.h>
#include <idaas.h>

extern void idaasGoLog(uint32_t level, char *target, char *message, void *user_data);
extern int32_t idaasGoPlugin(void *user_data, char *scope, idaas_plugin_result *result);
extern int32_t idaasGoURL(char *url, void *user_data);
extern void idaasGoFreeHandle(void *user_data);

// The Go callbacks as C function pointers; user_data is a runtime/cgo.Handle (an integer). Handles
// given with free_user_data are deleted by idaasGoFreeHandle when the library is done with them.
static idaas_code idaas_go_log_set_callback(uintptr_t handle, uint32_t max_level, idaas_error **err_out) {
	return idaas_log_set_callback(handle ? (idaas_log_callback)idaasGoLog : NULL, (void *)handle, max_level, err_out);
}

static idaas_code idaas_go_config_set_logger(idaas_config *config, uintptr_t handle, uint32_t max_level,
                                             idaas_error **err_out) {
	return idaas_config_set_logger(config, handle ? (idaas_log_callback)idaasGoLog : NULL, (void *)handle, max_level,
	                               handle ? (idaas_free_callback)idaasGoFreeHandle : NULL, err_out);
}

static idaas_code idaas_go_config_add_plugin(idaas_config *config, const char *name, uintptr_t handle,
                                             idaas_error **err_out) {
	return idaas_config_add_plugin(config, name, (idaas_plugin_callback)idaasGoPlugin, (void *)handle,
	                               (idaas_free_callback)idaasGoFreeHandle, err_out);
}

static idaas_code idaas_go_poll(const idaas_pam *pam, const char *provider, const char *options,
                                uintptr_t handle, const idaas_cancel *cancel, char **out, idaas_error **err_out) {
	return idaas_pam_poll_oauth_token(pam, provider, options, (idaas_url_callback)idaasGoURL, (void *)handle,
	                                  cancel, out, err_out);
}
*/
import "C"

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"runtime/cgo"
	"sync"
	"sync/atomic"
	"time"
)

// LevelTrace is the slog level of the library's TRACE messages (below slog.LevelDebug).
const LevelTrace = slog.LevelDebug - 4

// The library levels (IDAAS_LOG_LEVEL_ERROR .. TRACE) as slog levels.
var slogLevels = [...]slog.Level{1: slog.LevelError, 2: slog.LevelWarn, 3: slog.LevelInfo, 4: slog.LevelDebug, 5: LevelTrace}

// maxLevel is the most verbose library level l is enabled for now (0: none).
func maxLevel(l *slog.Logger) uint32 {
	for lv := uint32(len(slogLevels) - 1); lv >= 1; lv-- {
		if l.Enabled(context.Background(), slogLevels[lv]) {
			return lv
		}
	}
	return 0
}

// liveCallbacks counts the cgo.Handles lent to the library with a free_user_data callback (plugins,
// per-config loggers): the library releases each once no handle needs it, so this returns to its
// former value when the configs and clients using them are gone (the tests check that).
var liveCallbacks atomic.Int64

// newCallbackHandle wraps v for the library; idaasGoFreeHandle deletes it.
func newCallbackHandle(v any) cgo.Handle {
	liveCallbacks.Add(1)
	return cgo.NewHandle(v)
}

// deleteCallbackHandle is the release of a handle the library did not take (its call failed) or
// no longer uses.
func deleteCallbackHandle(h cgo.Handle) {
	h.Delete()
	liveCallbacks.Add(-1)
}

// processLogger is the handle of the logger installed by SetLogger (0: none); guarded by
// processLoggerMu, which also serialises the calls of idaas_log_set_callback.
var (
	processLoggerMu sync.Mutex
	processLogger   cgo.Handle
)

// SetLogger routes the library's records to l process-wide: those of clients whose Config has no
// logger of its own (Config.SetLogger) and those of the HTTP stack. Records carry the attribute
// "target" (the emitting module, e.g. "idaas::cache"). The most verbose level forwarded is the
// lowest level l is enabled for at this call (TRACE maps to LevelTrace). nil stops logging.
// Messages never contain secrets. The handler may run on any goroutine or library thread; records
// it causes itself are dropped. Do not call SetLogger from the handler.
func SetLogger(l *slog.Logger) error {
	processLoggerMu.Lock()
	defer processLoggerMu.Unlock()
	var h cgo.Handle
	var max uint32
	if l != nil {
		h, max = cgo.NewHandle(l), maxLevel(l)
	}
	var cerr *C.idaas_error
	if err := takeError(C.idaas_go_log_set_callback(C.uintptr_t(h), C.uint32_t(max), &cerr), cerr); err != nil {
		if h != 0 {
			h.Delete()
		}
		return err
	}
	// The library no longer runs or calls the previous callback: its handle can go.
	if processLogger != 0 {
		processLogger.Delete()
	}
	processLogger = h
	return nil
}

// SetLogger sends the records of the clients made from c afterwards (and of their providers, PAM
// clients and caches) to l instead of the process-wide logger of SetLogger; nil removes it for
// later clients. The level rule and the "target" attribute are those of SetLogger. The logger is
// released when c and every client made from it are gone. It must not race with other calls on c.
func (c *Config) SetLogger(l *slog.Logger) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp, ok := c.h.acquire()
	if !ok {
		return ErrClosed
	}
	defer c.h.release()
	var h cgo.Handle
	var max uint32
	if l != nil {
		h, max = newCallbackHandle(l), maxLevel(l)
	}
	var cerr *C.idaas_error
	err := takeError(C.idaas_go_config_set_logger(cp, C.uintptr_t(h), C.uint32_t(max), &cerr), cerr)
	runtime.KeepAlive(c)
	if err != nil && h != 0 {
		deleteCallbackHandle(h) // not taken: the library calls free_user_data only on success
	}
	return err
}

// PluginFunc produces a token for scope (the scope string verbatim, already validated): the
// token and its lifetime (> 0: cached and refreshed ahead of expiry, whole seconds rounded up;
// <= 0: unknown, not cached — called on every use). A non-nil error fails the token request
// (ErrCredential, server code "PluginFailed", with the error text as message: no secrets). It may
// be called from any goroutine, concurrently, and may block; a panic is recovered and reported as
// an error. It must not ask the client that invoked it for the token of the scope it is fetching
// (that client's cache is waiting for this result): such a call made from the callback's
// goroutine with a context that cannot be cancelled (context.Background()) fails at once with
// ErrReentrantCall; one made with a cancellable context runs on another thread, is not detected,
// and ends with the context or with ErrTimeout after twice the library's call budget. Asking the
// same client for another scope, or another client, is fine.
type PluginFunc func(scope string) (token string, lifetime time.Duration, err error)

// AddPlugin adds fn as the token plugin name for the clients made from c afterwards: a
// configuration with "authnMethod": "PLUGIN", "pluginName": name gets its tokens from fn. Adding
// a name again replaces it for later clients. fn is released when neither c nor any client made
// from it needs it. It must not race with other calls on c.
func (c *Config) AddPlugin(name string, fn PluginFunc) error {
	if fn == nil {
		return &Error{Code: CodeNullArgument, Message: "AddPlugin: nil PluginFunc"}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cp, ok := c.h.acquire()
	if !ok {
		return ErrClosed
	}
	defer c.h.release()
	cn := cstr(name)
	defer cfree(cn)
	h := newCallbackHandle(fn)
	var cerr *C.idaas_error
	err := takeError(C.idaas_go_config_add_plugin(cp, cn, C.uintptr_t(h), &cerr), cerr)
	runtime.KeepAlive(c)
	if err != nil {
		deleteCallbackHandle(h) // not taken: the library calls free_user_data only on success
	}
	return err
}

// PollOptions are the optional parameters of PollOAuthToken (nil = defaults).
type PollOptions struct {
	OAuthOptions
	MaxPollingRetries int           // default 60
	Interval          time.Duration // between polls (default 3 s; whole ms, rounded up)
	Timeout           time.Duration // overall deadline of the polling phase (hard limit 180 s; see also ctx)
}

func (o *PollOptions) json() string {
	m := map[string]any{}
	if o != nil {
		o.OAuthOptions.fields(m)
		if o.MaxPollingRetries > 0 {
			m["maxPollingRetries"] = o.MaxPollingRetries
		}
		if o.Interval > 0 {
			m["intervalMs"] = millis(o.Interval)
		}
		if o.Timeout > 0 {
			m["timeoutMs"] = millis(o.Timeout)
		}
	}
	return jsonText(m)
}

// pollState is the user_data of the URL callback.
type pollState struct {
	onURL func(url string) error
	err   error // what onURL returned (or its panic)
}

// PollOAuthToken fetches a user-delegated OAuth token (3LO), walking the user through
// authorization if needed: when the first reply carries no token, onURL is called once (on the
// calling goroutine) with the authorization URL to show the user; then the session is polled
// until it completes (the token is returned), fails or expires (ErrAuth), runs out of polls or
// time (ErrTimeout). A non-nil error from onURL aborts the poll and is returned wrapped
// (errors.Is works on it). Cancelling ctx (or its deadline) cancels the poll promptly through
// the library's cancellation token; the error then wraps ctx.Err(). Closing the PAMClient cancels
// it too (the error wraps ErrClosed). Blocks up to 180 s.
func (p *PAMClient) PollOAuthToken(ctx context.Context, providerID string, opts *PollOptions, onURL func(url string) error) (*OAuthAuthenticationTokenResponse, error) {
	if onURL == nil {
		onURL = func(string) error { return nil }
	}
	if err := ctx.Err(); err != nil {
		return nil, ctxError(ctx)
	}
	pp, ok := p.h.acquire()
	if !ok {
		return nil, ErrClosed
	}
	defer p.h.release()

	var cancel *C.idaas_cancel
	var cerr *C.idaas_error
	if err := takeError(C.idaas_cancel_new(&cancel, &cerr), cerr); err != nil {
		return nil, err
	}
	if !p.polls.add(cancel) {
		C.idaas_cancel_free(cancel)
		return nil, ErrClosed
	}
	var wg sync.WaitGroup
	wg.Add(1)
	stop := context.AfterFunc(ctx, func() {
		defer wg.Done()
		C.idaas_cancel_cancel(cancel)
	})
	defer func() {
		if stop() {
			wg.Done() // never ran
		}
		wg.Wait() // the cancel func may be running: free the token after it
		p.polls.remove(cancel)
		C.idaas_cancel_free(cancel)
	}()

	st := &pollState{onURL: onURL}
	h := cgo.NewHandle(st)
	defer h.Delete()
	id, o := cstr(providerID), cstr(opts.json())
	defer cfree(id)
	defer cfree(o)
	var out *C.char
	cerr = nil
	rc := C.idaas_go_poll(pp, id, o, C.uintptr_t(h), cancel, &out, &cerr)
	runtime.KeepAlive(p)
	if err := takeError(rc, cerr); err != nil {
		var e *Error
		if errors.As(err, &e) && e.Code == CodeCancelled {
			if st.err != nil {
				e.cause = st.err
				e.Message = "authorization URL callback: " + st.err.Error()
			} else if ctx.Err() != nil {
				return nil, ctxError(ctx)
			} else if p.polls.isClosed() {
				return nil, &Error{Code: CodeCancelled, Message: "the PAM client was closed during the poll", cause: ErrClosed}
			}
		}
		return nil, err
	}
	return unmarshalResult[OAuthAuthenticationTokenResponse](out)
}
