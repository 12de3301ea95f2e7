/*
 * addon.h - what the parts of the Node-API addon share.
 *
 * The addon is a thin layer over include/idaas.h: every operation is one call of the C ABI (or two,
 * for `init`: load the configuration, make the client). One file per concern:
 *
 *   module.c      module init, the export table, per-environment state, small sync functions
 *   errors.c      idaas_error -> JS error objects (the JS factory picks the Error subclass)
 *   strings.c     JS strings in and out (NUL checks, wiping of secret copies)
 *   handles.c     the JS objects wrapping idaas handles, and when the handles are freed
 *   jscallback.c  a JS function callable from any thread (threadsafe function + teardown safety)
 *   executor.c    the threads that run blocking calls (why not the libuv pool: see there)
 *   calls.c       Promise-returning calls: argument marshalling, execution, settling
 *   config.c      configurations, `init`, client creation
 *   client.c      the client: the synchronous token read (hot path), providers, async token calls
 *   pam.c         the PAM client, the 3LO poll and its cancel token
 *   plugin.c      JS token plugins (a native thread waits while the JS thread runs the plugin)
 *   logger.c      log callbacks (per configuration, and the process-wide one)
 */
#ifndef IDAAS_NODE_ADDON_H
#define IDAAS_NODE_ADDON_H

#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <node_api.h>

#include "idaas.h"

/* ---- module.c --------------------------------------------------------------------------------- */

typedef struct js_callback js_callback;

/* Per-environment state (module instance data): one per main thread / worker_thread. */
typedef struct {
    napi_ref error_factory; /* index.js: (message, props) -> an IdaasError subclass instance */
    js_callback *complete;  /* calls.c: finished calls come back to the JS thread through it */
    uint32_t pending;       /* calls.c: calls in flight (JS thread only) */
} addon_state;

addon_state *addon_state_of(napi_env env);

/* Returns NULL from a napi_callback with a pending exception when an N-API call fails. */
#define NAPI_OK(call)                                                                              \
    do {                                                                                           \
        if ((call) != napi_ok) {                                                                   \
            throw_napi(env, #call);                                                                \
            return NULL;                                                                           \
        }                                                                                          \
    } while (0)

/* A property of the export object: name and function (data: passed to the function). */
typedef struct {
    const char *name;
    napi_callback fn;
    void *data;
} export_fn;

/* ---- errors.c --------------------------------------------------------------------------------- */

/* Throws the last N-API error as an Error with code ERR_IDAAS_NAPI (unless one is pending). */
void throw_napi(napi_env env, const char *what);
void throw_oom(napi_env env);
/* Throws a TypeError with `code` ('ERR_INVALID_ARG_TYPE' ...) and a printf-style message. */
void throw_type(napi_env env, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* An IdaasError (subclass) for `code` and `err` (borrowed; NULL: no details). */
napi_value error_value(napi_env env, idaas_code code, const idaas_error *err);
/* Throws error_value(code, err) and frees err. */
void throw_idaas(napi_env env, idaas_code code, idaas_error *err);
/* Clears the pending exception and returns it (NULL when there is none). */
napi_value take_exception(napi_env env);

/* ---- strings.c -------------------------------------------------------------------------------- */

/* Copies a JS string argument to a new C string (`name` for error messages). `nullable`:
 * undefined/null give *out = NULL. Rejects other types and embedded NULs with a TypeError. Returns
 * false with a pending exception. Free the copy with secure_free when it may hold a secret. */
bool arg_string(napi_env env, napi_value v, bool nullable, const char *name, char **out);
/* Zeroes then frees a C string of the addon (NULL: no-op). */
void secure_free(char *s);
/* A JS string, or null for NULL. */
napi_value string_or_null(napi_env env, const char *s);
/* A JS string from token bytes (ASCII fast path). */
napi_value token_string(napi_env env, const char *buf, size_t len);
/* True when v is undefined or null. */
bool is_nullish(napi_env env, napi_value v);

/* ---- handles.c -------------------------------------------------------------------------------- */

enum handle_kind { K_CONFIG = 1, K_CLIENT, K_PROVIDER, K_XPROVIDER, K_PAM, K_CANCEL };

/*
 * An idaas handle wrapped (napi_wrap) into a plain JS object. The idaas handle is freed when it is
 * closed (close() or the GC finalizer) and no call uses it any more (the ABI's "a _free must not race
 * with any other use"); the struct itself when, in addition, the JS object is gone. Both counts are
 * atomic because a call may end on a worker thread when its environment has gone away.
 */
typedef struct handle {
    enum handle_kind kind;
    void *ptr;             /* the idaas handle; never used once `uses` reached 0 */
    uint32_t uses;         /* atomic: 1 while open + 1 per call in flight */
    uint32_t refs;         /* atomic: 1 for the JS object + 1 per call in flight */
    bool closed;           /* JS thread only */
    /* The token sync read's memo (client default scope, provider): the JS string of the token with
     * version `memo_version`, returned again while the library says that version is current. */
    uint64_t memo_version;
    napi_ref memo_ref;
} handle;

/* Wraps `ptr` (ownership taken: freed on failure) into a new JS object. */
napi_value handle_wrap(napi_env env, enum handle_kind kind, void *ptr);
/* The open handle of `kind` in v; throws (TypeError, or ERR_IDAAS_CLOSED) and returns false
 * otherwise. `nullable`: undefined/null give *out = NULL. */
bool handle_get(napi_env env, napi_value v, enum handle_kind kind, bool nullable, handle **out);
/* A call starts using h (JS thread). */
void handle_acquire(handle *h);
/* The call has ended (any thread): may free the idaas handle and the struct. */
void handle_release(handle *h);
void handle_memo_clear(napi_env env, handle *h);
/* Live idaas handles of the process (diagnostics for the leak tests). */
int64_t handles_live(void);

extern const export_fn HANDLE_EXPORTS[];
extern const size_t HANDLE_EXPORTS_LEN;

/* ---- jscallback.c ----------------------------------------------------------------------------- */

/*
 * A JS function (or, with fn == NULL, just a call_js hook) that any thread may invoke: a threadsafe
 * function plus what makes it safe when its environment goes away first — after that, calls are
 * refused instead of touching a finalized threadsafe function. It does not keep the event loop
 * alive. The owner ends it with jscb_release (any thread, once).
 */
js_callback *jscb_new(napi_env env, napi_value fn, const char *name, napi_threadsafe_function_call_js call_js,
                      void *context);
/* Queues `data` for call_js on the JS thread (never blocks). False when the callback is released
 * or its environment is gone: then call_js will not see `data`. */
bool jscb_call(js_callback *cb, void *data);
/* The owner is done with it (any thread). */
void jscb_release(js_callback *cb);
/* Keeps the struct (not the JS function) alive for a holder that may still call jscb_call after
 * the owner released it; jscb_drop ends the hold (any thread). */
void jscb_hold(js_callback *cb);
void jscb_drop(js_callback *cb);
/* As jscb_release, with the signature of idaas_free_callback (the ABI's free_user_data). */
void jscb_release_user_data(void *cb);
/* Keep / stop keeping the event loop alive (JS thread; a no-op once the environment is gone). */
void jscb_set_keep_alive(napi_env env, js_callback *cb, bool keep);
/* Live callbacks of the process (diagnostics for the leak tests). */
int64_t jscb_live(void);

/* ---- executor.c ------------------------------------------------------------------------------- */

typedef struct task task;
struct task {
    task *next;
    void (*run)(task *t); /* runs on an executor thread; owns t from then on */
};

/* Queues t; false (t untouched) when no thread could be started. */
bool executor_submit(task *t);

/* ---- calls.c ---------------------------------------------------------------------------------- */

#define MAX_STR_ARGS 5

typedef struct call call;

/* What a successful call resolves to. */
enum call_result { R_STRING = 1, R_BOOL, R_VOID, R_CLIENT };

/* An asynchronous operation: the JS arguments are (handle of `kind`, ...strings, id) — without the
 * handle when kind is 0 — and `exec` makes the ABI call on an executor thread; then the
 * environment's completion function (setCompletion) gets (id, error, result) on the JS thread. */
typedef struct op_desc {
    const char *js_name;
    enum handle_kind kind;
    int nargs;
    unsigned nullable; /* bit i: string argument i may be null/undefined */
    const char *arg_names[MAX_STR_ARGS];
    enum call_result result;
    void (*exec)(call *c);
} op_desc;

struct call {
    task t; /* first: the executor's link */
    const op_desc *op;
    addon_state *st;
    js_callback *complete; /* the environment's completion channel (held) */
    uint32_t id;           /* index.js's number for the call (its Promise) */
    handle *h;             /* the handle used, or NULL */
    handle *cancel;        /* the poll's cancel token, or NULL */
    js_callback *on_url;
    char *s[MAX_STR_ARGS];
    /* results */
    idaas_code code;
    idaas_error *err;
    char *out;
    bool active;
    void *new_ptr; /* R_CLIENT */
};

/* The napi_callback of every op_desc (its data). */
napi_value call_op(napi_env env, napi_callback_info info);
/* A call from the JS arguments of `op`, the last being the call's id (NULL with a pending
 * exception). */
call *call_new(napi_env env, const op_desc *op, size_t argc, napi_value *argv);
/* Starts c (ownership taken; on failure it throws and frees c). */
void call_start(napi_env env, call *c);
void call_free(call *c);

extern const export_fn CALL_EXPORTS[];
extern const size_t CALL_EXPORTS_LEN;

/* ---- the exports of each concern -------------------------------------------------------------- */

extern const export_fn CONFIG_EXPORTS[];
extern const size_t CONFIG_EXPORTS_LEN;
extern const op_desc CONFIG_OPS[];
extern const size_t CONFIG_OPS_LEN;
extern const export_fn CLIENT_EXPORTS[];
extern const size_t CLIENT_EXPORTS_LEN;
extern const op_desc CLIENT_OPS[];
extern const size_t CLIENT_OPS_LEN;
extern const export_fn PAM_EXPORTS[];
extern const size_t PAM_EXPORTS_LEN;
extern const op_desc PAM_OPS[];
extern const size_t PAM_OPS_LEN;
extern const export_fn PLUGIN_EXPORTS[];
extern const size_t PLUGIN_EXPORTS_LEN;
extern const export_fn LOGGER_EXPORTS[];
extern const size_t LOGGER_EXPORTS_LEN;

/* plugin.c / logger.c, for config.c */
/* Adds the JS plugin `dispatch` under `name` to cfg; throws and returns false on failure. */
bool plugin_add(napi_env env, idaas_config *cfg, const char *name, napi_value dispatch, uint32_t timeout_ms);
/* Sets (fn: a function) or removes (fn: null) cfg's logger; throws and returns false on failure. */
bool logger_set_on_config(napi_env env, idaas_config *cfg, napi_value fn, uint32_t max_level);
/* An environment is going away (its cleanup hook; arg: its addon_state, unique per module
 * instance): removes the process-wide logger if that instance set it. */
void logger_env_cleanup(void *st);

#endif
