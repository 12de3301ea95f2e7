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

static idaas_code idaas_go_set_logger(int on, uint32_t max_level, idaas_error **err_out) {
	return idaas_set_logger(on ? (idaas_log_callback)idaasGoLog : NULL, NULL, max_level, err_out);
}

static idaas_code idaas_go_register_plugin(const char *name, uintptr_t handle, idaas_error **err_out) {
	return idaas_register_plugin(name, (idaas_plugin_callback)idaasGoPlugin, (void *)handle, err_out);
}

static idaas_code idaas_go_poll(const idaas_pam_client *pam, const char *provider, const char *options,
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

var (
	logMu  sync.Mutex
	logger atomic.Pointer[slog.Logger]
)

// SetLogger routes the library's log (process-wide) to l, with the attribute "target" (the
// emitting module, e.g. "idaas::cache"). The most verbose level forwarded is the lowest level l
// is enabled for at this call (TRACE maps to LevelTrace). nil stops logging. Messages never
// contain secrets. The library may call the handler while holding internal locks: keep it quick
// and do not call this package from it. May be called at any time, but not from such a handler.
func SetLogger(l *slog.Logger) error {
	logMu.Lock()
	defer logMu.Unlock()
	var cerr *C.idaas_error
	if l == nil {
		err := takeError(C.idaas_go_set_logger(0, 0, &cerr), cerr)
		if err == nil {
			logger.Store(nil)
		}
		return err
	}
	max := uint32(0)
	for lv := uint32(5); lv >= 1; lv-- {
		if l.Enabled(context.Background(), slogLevels[lv]) {
			max = lv
			break
		}
	}
	old := logger.Swap(l)
	if err := takeError(C.idaas_go_set_logger(1, C.uint32_t(max), &cerr), cerr); err != nil {
		logger.Store(old)
		return err
	}
	return nil
}

// PluginFunc produces a token for scope (the scope string verbatim, already validated): the
// token and its lifetime (> 0: cached and refreshed ahead of expiry, whole seconds rounded up;
// <= 0: unknown, not cached —
// called on every use). A non-nil error fails the token request (ErrCredential, server code
// "PluginFailed", with the error text as message: no secrets). It may be called from any
// goroutine, concurrently, and may block; a panic is recovered and reported as an error. It must
// not ask the client that invoked it for the token of the scope it is fetching (that client's
// cache is waiting for this result): such a call made from the callback's goroutine with a context
// that cannot be cancelled (context.Background()) fails at once with ErrReentrantCall; one made
// with a cancellable context runs on another thread, is not detected, and waits until the context
// ends. Asking the same client for another scope, or another client, is fine.
type PluginFunc func(scope string) (token string, lifetime time.Duration, err error)

var (
	pluginMu sync.Mutex
	plugins  = map[string]cgo.Handle{}
)

// RegisterPlugin registers fn as the token plugin name, for clients created afterwards whose
// configuration says "authnMethod": "PLUGIN", "pluginName": name. Registering a name again
// replaces it for later clients (existing clients keep the function they were built with, so the
// old function stays referenced for the life of the process).
func RegisterPlugin(name string, fn PluginFunc) error {
	if fn == nil {
		return &Error{Code: CodeNullArgument, Message: "RegisterPlugin: nil PluginFunc"}
	}
	pluginMu.Lock()
	defer pluginMu.Unlock()
	h := cgo.NewHandle(fn)
	cn := cstr(name)
	defer cfree(cn)
	var cerr *C.idaas_error
	if err := takeError(C.idaas_go_register_plugin(cn, C.uintptr_t(h), &cerr), cerr); err != nil {
		h.Delete()
		return err
	}
	plugins[name] = h // kept forever: the library may call it as long as its clients live
	return nil
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
func (p *PAMClient) PollOAuthToken(ctx context.Context, providerID string, opts *PollOptions, onURL func(url string) error) (*OAuthToken, error) {
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
	return unmarshalResult[OAuthToken](out)
}
