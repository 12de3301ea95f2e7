/*
 * idaas_node.c - the Node-API addon of the idaas Node binding.
 *
 * A thin layer over include/idaas.h ONLY: every operation is one call of the C ABI. Network calls run
 * on the binding's worker threads (see "worker threads" below for why not the libuv pool) and settle a
 * Promise on the JS thread; the JavaScript layer (index.js) parses JSON results and shapes the API.
 *
 * Handles: every idaas handle (client, provider, exchange provider, PAM client, cancel) lives in a
 * `handle` struct wrapped (napi_wrap) into a plain JS object. `inflight` counts async works using
 * it; close() marks it closed and the idaas handle is freed as soon as no work uses it (the ABI's
 * "a _free must not race with any other use" rule). The wrap finalizer is the GC backstop. All
 * bookkeeping happens on the JS thread, so no atomics are needed.
 *
 * Strings: every char * returned by the library is released with idaas_string_free (which zeroes
 * it); every idaas_error with idaas_error_free; copies of secret inputs are zeroed before free().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <node_api.h>

#include "idaas.h"

/* ---- helpers ------------------------------------------------------------------------------------ */

#define NAPI_OK(call)                                                                             \
    do {                                                                                          \
        if ((call) != napi_ok) {                                                                  \
            throw_last(env, #call);                                                               \
            return NULL;                                                                          \
        }                                                                                         \
    } while (0)

static void throw_last(napi_env env, const char *what) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) return;
    const napi_extended_error_info *info = NULL;
    napi_get_last_error_info(env, &info);
    char msg[256];
    snprintf(msg, sizeof msg, "idaas native: %s failed: %s", what,
             info && info->error_message ? info->error_message : "unknown N-API error");
    napi_throw_error(env, "ERR_IDAAS_NAPI", msg);
}

static void secure_free(char *s) {
    if (!s) return;
    idaas_secure_zero(s, strlen(s));
    free(s);
}

/* Per-environment state (module instance data). */
/* Completion of the binding's worker threads back onto one environment's JS thread. Never freed
 * (a worker may still hold it while the environment goes away: `dead` tells it). */
typedef struct {
    pthread_mutex_t mu;
    napi_threadsafe_function tsfn;
    bool dead;
    uint32_t pending; /* works submitted and not completed (JS thread only) */
    int sync_calls;   /* synchronous token reads in progress on the JS thread (atomic) */
} done_ctx;

typedef struct {
    napi_ref error_ctor; /* the IdaasError class from index.js */
    pthread_t js_thread;
    done_ctx *done;
} addon_state;

static addon_state *get_state(napi_env env) {
    addon_state *st = NULL;
    napi_get_instance_data(env, (void **)&st);
    return st;
}

/* Reads a JS string argument. `nullable`: undefined/null -> *out = NULL. Rejects embedded NULs
 * (they would silently truncate the C string). Returns false with a pending exception. */
static bool get_string(napi_env env, napi_value v, bool nullable, const char *name, char **out) {
    *out = NULL;
    napi_valuetype t;
    if (napi_typeof(env, v, &t) != napi_ok) return false;
    if (nullable && (t == napi_undefined || t == napi_null)) return true;
    if (t != napi_string) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s must be a string%s", name, nullable ? " (or null/undefined)" : "");
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
        return false;
    }
    size_t len = 0;
    if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return false;
    char *buf = malloc(len + 1);
    if (!buf) {
        napi_throw_error(env, "ERR_IDAAS_OOM", "out of memory");
        return false;
    }
    size_t got = 0;
    napi_get_value_string_utf8(env, v, buf, len + 1, &got);
    if (strlen(buf) != got) {
        secure_free(buf);
        char msg[160];
        snprintf(msg, sizeof msg, "%s must not contain NUL characters", name);
        napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", msg);
        return false;
    }
    *out = buf;
    return true;
}

static napi_value make_string_or_null(napi_env env, const char *s) {
    napi_value v;
    if (s) napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
    else napi_get_null(env, &v);
    return v;
}

/* An IdaasError instance from an idaas_error (which the caller still owns and frees). */
static napi_value make_error(napi_env env, idaas_code code, const idaas_error *err) {
    addon_state *st = get_state(env);
    napi_value ctor, props, msg, inst, v;
    napi_create_object(env, &props);
    napi_create_uint32(env, (uint32_t)code, &v);
    napi_set_named_property(env, props, "codeNumber", v);
    napi_create_string_utf8(env, err ? idaas_error_kind_name(err) : idaas_code_name((uint32_t)code),
                            NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, props, "kind", v);
    napi_create_uint32(env, err ? idaas_error_http_status(err) : 0, &v);
    napi_set_named_property(env, props, "httpStatus", v);
    napi_set_named_property(env, props, "serverCode",
                            make_string_or_null(env, err ? idaas_error_server_code(err) : NULL));
    napi_set_named_property(env, props, "requestId",
                            make_string_or_null(env, err ? idaas_error_request_id(err) : NULL));
    const char *m = err ? idaas_error_message(err) : "";
    if (!*m) m = idaas_code_name((uint32_t)code);
    napi_create_string_utf8(env, m, NAPI_AUTO_LENGTH, &msg);
    if (st && st->error_ctor && napi_get_reference_value(env, st->error_ctor, &ctor) == napi_ok && ctor) {
        napi_value args[2] = {msg, props};
        if (napi_new_instance(env, ctor, 2, args, &inst) == napi_ok) return inst;
    }
    napi_create_error(env, NULL, msg, &inst);
    return inst;
}

static void throw_idaas(napi_env env, idaas_code code, idaas_error *err) {
    napi_throw(env, make_error(env, code, err));
    idaas_error_free(err);
}

/* ---- handles ----------------------------------------------------------------------------------- */

enum kind { K_CLIENT = 1, K_PROVIDER, K_XPROVIDER, K_PAM, K_CANCEL };
static const char *kind_names[] = {"?", "client", "provider", "exchange provider", "PAM client", "cancel token"};

typedef struct {
    int kind;
    void *ptr;         /* the idaas handle; NULL once freed */
    uint32_t inflight; /* async works using ptr */
    bool closed;       /* close() called (or finalized) */
    bool finalized;    /* the JS wrapper is gone */
    /* The last default-scope token returned by clientGetTokenSync and its JS string: while the cached
     * token is unchanged the same (immutable) JS string is returned instead of a new one. */
    char *memo;
    size_t memo_len;
    napi_ref memo_ref;
} handle;

/* Live idaas handles (all environments): what stats() reports, for the leak tests. */
static int64_t g_live_handles = 0;

static void free_idaas(int kind, void *p) {
    __atomic_fetch_sub(&g_live_handles, 1, __ATOMIC_RELAXED);
    switch (kind) {
    case K_CLIENT: idaas_client_free(p); break;
    case K_PROVIDER: idaas_provider_free(p); break;
    case K_XPROVIDER: idaas_exchange_provider_free(p); break;
    case K_PAM: idaas_pam_client_free(p); break;
    case K_CANCEL: idaas_cancel_free(p); break;
    }
}

static void memo_clear(napi_env env, handle *h) {
    if (h->memo) {
        idaas_secure_zero(h->memo, h->memo_len);
        free(h->memo);
        h->memo = NULL;
        h->memo_len = 0;
    }
    if (h->memo_ref) {
        napi_delete_reference(env, h->memo_ref);
        h->memo_ref = NULL;
    }
}

static void handle_settle(handle *h) {
    if (h->closed && h->inflight == 0 && h->ptr) {
        free_idaas(h->kind, h->ptr);
        h->ptr = NULL;
    }
    if (h->finalized && h->inflight == 0) free(h);
}

/* Serialises handle_finalize with deliver()'s "environment gone" path, the only place where a worker
 * thread touches a handle (the JS thread of that environment no longer runs JS then). */
static pthread_mutex_t g_handle_mu = PTHREAD_MUTEX_INITIALIZER;

static void handle_finalize(napi_env env, void *data, void *hint) {
    (void)hint;
    handle *h = data;
    memo_clear(env, h);
    pthread_mutex_lock(&g_handle_mu);
    h->closed = true;
    h->finalized = true;
    handle_settle(h);
    pthread_mutex_unlock(&g_handle_mu);
}

static napi_value wrap_handle(napi_env env, int kind, void *ptr) {
    handle *h = calloc(1, sizeof *h);
    napi_value obj;
    __atomic_fetch_add(&g_live_handles, 1, __ATOMIC_RELAXED);
    if (!h) {
        free_idaas(kind, ptr);
        napi_throw_error(env, "ERR_IDAAS_OOM", "out of memory");
        return NULL;
    }
    h->kind = kind;
    h->ptr = ptr;
    if (napi_create_object(env, &obj) != napi_ok || napi_wrap(env, obj, h, handle_finalize, NULL, NULL) != napi_ok) {
        free_idaas(kind, ptr);
        free(h);
        throw_last(env, "napi_wrap");
        return NULL;
    }
    return obj;
}

/* The open handle of `kind` in v (throws: wrong type, or closed). nullable: undefined/null -> NULL. */
static bool get_handle(napi_env env, napi_value v, int kind, bool nullable, handle **out) {
    *out = NULL;
    napi_valuetype t;
    napi_typeof(env, v, &t);
    if (nullable && (t == napi_undefined || t == napi_null)) return true;
    handle *h = NULL;
    if (t != napi_object || napi_unwrap(env, v, (void **)&h) != napi_ok || !h || h->kind != kind) {
        char msg[96];
        snprintf(msg, sizeof msg, "expected a %s handle", kind_names[kind]);
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
        return false;
    }
    if (h->closed || !h->ptr) {
        char msg[96];
        snprintf(msg, sizeof msg, "the %s is closed", kind_names[kind]);
        napi_value m, e, c;
        napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
        napi_create_string_utf8(env, "ERR_IDAAS_CLOSED", NAPI_AUTO_LENGTH, &c);
        napi_create_error(env, c, m, &e);
        napi_throw(env, e);
        return false;
    }
    *out = h;
    return true;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
    size_t argc = 1;
    napi_value argv[1];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    handle *h = NULL;
    if (argc < 1 || napi_unwrap(env, argv[0], (void **)&h) != napi_ok || !h) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected an idaas handle");
        return NULL;
    }
    memo_clear(env, h);
    h->closed = true;
    handle_settle(h);
    return NULL;
}

static napi_value js_is_closed(napi_env env, napi_callback_info info) {
    size_t argc = 1;
    napi_value argv[1], r;
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    handle *h = NULL;
    if (argc < 1 || napi_unwrap(env, argv[0], (void **)&h) != napi_ok || !h) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected an idaas handle");
        return NULL;
    }
    napi_get_boolean(env, h->closed, &r);
    return r;
}

/* ---- async work ---------------------------------------------------------------------------------- */

enum op {
    OP_CLIENT_NEW = 1,
    OP_CLIENT_GET_TOKEN,
    OP_CLIENT_EXCHANGE,
    OP_PROVIDER_GET_TOKEN,
    OP_XPROVIDER_EXCHANGE,
    OP_PAM_GET_API_KEY,
    OP_PAM_FETCH_V1,
    OP_PAM_FETCH_V2,
    OP_PAM_GET_SESSION,
    OP_PAM_POLL,
    OP_PAM_GENERATE_JWT,
    OP_PAM_OBTAIN_JWT,
    OP_PAM_OBTAIN_JWT_BY_SHORT,
    OP_PAM_LIST,
    OP_PAM_VALIDATE,
    OP_PAM_REVOKE,
    OP_PAM_REVOKE_BY_CONSUMER,
    OP_PAM_REINSTATE,
    OP_PAM_REINSTATE_BY_CONSUMER,
};

#define MAX_STR_ARGS 5

typedef struct {
    int op;
    void *next;      /* the worker queue */
    done_ctx *done;  /* where to complete */
    napi_deferred deferred;
    handle *h;      /* the handle used (inflight counted), or NULL */
    handle *cancel; /* OP_PAM_POLL: optional cancel handle (inflight counted) */
    napi_threadsafe_function on_url; /* OP_PAM_POLL: optional */
    int new_kind;   /* OP_CLIENT_NEW: 0 default, 1 file, 2 json */
    char *s[MAX_STR_ARGS];
    /* results */
    idaas_code code;
    idaas_error *err;
    char *out;
    bool active;
    void *new_ptr;
} work_t;

static void exec_work(napi_env env, void *data) {
    (void)env;
    work_t *w = data;
    void *p = w->h ? w->h->ptr : NULL;
    idaas_error **e = &w->err;
    switch (w->op) {
    case OP_CLIENT_NEW: {
        idaas_client *c = NULL;
        if (w->new_kind == 1) w->code = idaas_client_new_from_file(w->s[0], w->s[1], &c, e);
        else if (w->new_kind == 2) w->code = idaas_client_new_from_json(w->s[0], w->s[1], &c, e);
        else w->code = idaas_client_new_default(w->s[1], &c, e);
        w->new_ptr = c;
        break;
    }
    case OP_CLIENT_GET_TOKEN: w->code = idaas_client_get_token(p, w->s[0], &w->out, e); break;
    case OP_CLIENT_EXCHANGE:
        w->code = idaas_client_exchange_token(p, w->s[0], w->s[1], w->s[2], w->s[3], &w->out, e);
        break;
    case OP_PROVIDER_GET_TOKEN: w->code = idaas_provider_get_token(p, &w->out, e); break;
    case OP_XPROVIDER_EXCHANGE:
        w->code = idaas_exchange_provider_exchange(p, w->s[0], w->s[1], w->s[2], &w->out, e);
        break;
    case OP_PAM_GET_API_KEY: w->code = idaas_pam_get_api_key(p, w->s[0], &w->out, e); break;
    case OP_PAM_FETCH_V1: w->code = idaas_pam_fetch_oauth_token(p, w->s[0], w->s[1], &w->out, e); break;
    case OP_PAM_FETCH_V2:
        w->code = idaas_pam_fetch_oauth_token_v2(p, w->s[0], w->s[1], w->s[2], &w->out, e);
        break;
    case OP_PAM_GET_SESSION: w->code = idaas_pam_get_oauth_session(p, w->s[0], &w->out, e); break;
    case OP_PAM_POLL: {
        extern int32_t on_url_trampoline(const char *url, void *user_data);
        w->code = idaas_pam_poll_oauth_token(p, w->s[0], w->s[1], on_url_trampoline, w,
                                             w->cancel ? w->cancel->ptr : NULL, &w->out, e);
        break;
    }
    case OP_PAM_GENERATE_JWT:
        w->code = idaas_pam_generate_jwt(p, w->s[0], w->s[1], w->s[2], w->s[3], &w->out, e);
        break;
    case OP_PAM_OBTAIN_JWT: w->code = idaas_pam_obtain_jwt(p, w->s[0], w->s[1], &w->out, e); break;
    case OP_PAM_OBTAIN_JWT_BY_SHORT: w->code = idaas_pam_obtain_jwt_by_short_token(p, w->s[0], &w->out, e); break;
    case OP_PAM_LIST: w->code = idaas_pam_list_tokens(p, w->s[0], w->s[1], w->s[2], &w->out, e); break;
    case OP_PAM_VALIDATE: w->code = idaas_pam_validate_token(p, w->s[0], w->s[1], &w->active, e); break;
    case OP_PAM_REVOKE: w->code = idaas_pam_revoke_token(p, w->s[0], w->s[1], e); break;
    case OP_PAM_REVOKE_BY_CONSUMER: w->code = idaas_pam_revoke_tokens_by_consumer(p, w->s[0], w->s[1], e); break;
    case OP_PAM_REINSTATE: w->code = idaas_pam_reinstate_token(p, w->s[0], w->s[1], e); break;
    case OP_PAM_REINSTATE_BY_CONSUMER:
        w->code = idaas_pam_reinstate_tokens_by_consumer(p, w->s[0], w->s[1], e);
        break;
    default: w->code = IDAAS_CODE_INTERNAL; break;
    }
}

static void work_free(work_t *w) {
    for (int i = 0; i < MAX_STR_ARGS; i++) secure_free(w->s[i]);
    idaas_string_free(w->out);
    idaas_error_free(w->err);
    free(w);
}

static void complete_work(napi_env env, napi_status status, void *data) {
    work_t *w = data;
    if (w->h) {
        w->h->inflight--;
        handle_settle(w->h);
    }
    if (w->cancel) {
        w->cancel->inflight--;
        handle_settle(w->cancel);
    }
    if (w->on_url) napi_release_threadsafe_function(w->on_url, napi_tsfn_release);
    napi_value result = NULL;
    if (status != napi_ok) {
        napi_value m;
        napi_create_string_utf8(env, "idaas native: async work failed", NAPI_AUTO_LENGTH, &m);
        napi_create_error(env, NULL, m, &result);
        napi_reject_deferred(env, w->deferred, result);
    } else if (w->code != IDAAS_CODE_OK) {
        napi_reject_deferred(env, w->deferred, make_error(env, w->code, w->err));
    } else {
        switch (w->op) {
        case OP_CLIENT_NEW: result = wrap_handle(env, K_CLIENT, w->new_ptr); break;
        case OP_PAM_VALIDATE: napi_get_boolean(env, w->active, &result); break;
        case OP_PAM_REVOKE:
        case OP_PAM_REVOKE_BY_CONSUMER:
        case OP_PAM_REINSTATE:
        case OP_PAM_REINSTATE_BY_CONSUMER: napi_get_undefined(env, &result); break;
        default: result = make_string_or_null(env, w->out); break;
        }
        if (result) {
            napi_resolve_deferred(env, w->deferred, result);
        } else {
            napi_value exc;
            napi_get_and_clear_last_exception(env, &exc);
            napi_reject_deferred(env, w->deferred, exc);
        }
    }
    work_free(w);
}

/* ---- the binding's worker threads ----------------------------------------------------------------
 * Blocking calls run on threads of this binding, not on the libuv thread pool: that pool (4 threads by
 * default) is shared with fs, dns.lookup, crypto and zlib, and idaas calls may block for long (network
 * timeouts, the 3LO poll up to 180 s, a PLUGIN token whose JS plugin itself needs fs). Blocking the
 * libuv pool with them would starve, or deadlock, the rest of the application. Threads are started on
 * demand (up to IDAAS_NODE_MAX_THREADS, default 32) and exit after 30 s idle; results come back to the
 * JS thread through a threadsafe function, where the Promise is settled. */

static pthread_mutex_t g_pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_pool_cv = PTHREAD_COND_INITIALIZER;
static work_t *g_q_head = NULL, *g_q_tail = NULL;
static int g_q_len = 0, g_threads = 0, g_idle = 0, g_max_threads = 0;

static void deliver(work_t *w) {
    done_ctx *d = w->done;
    pthread_mutex_lock(&d->mu);
    napi_status s = d->dead ? napi_closing : napi_call_threadsafe_function(d->tsfn, w, napi_tsfn_nonblocking);
    pthread_mutex_unlock(&d->mu);
    if (s != napi_ok) {
        /* the environment is gone (e.g. a terminated worker_thread): nothing left to settle; release the
         * handles this work held (freed here if their wrapper was finalized, else by its finalizer) */
        pthread_mutex_lock(&g_handle_mu);
        if (w->h) {
            w->h->closed = true;
            w->h->inflight--;
            handle_settle(w->h);
        }
        if (w->cancel) {
            w->cancel->closed = true;
            w->cancel->inflight--;
            handle_settle(w->cancel);
        }
        pthread_mutex_unlock(&g_handle_mu);
        if (w->op == OP_CLIENT_NEW && w->code == IDAAS_CODE_OK) {
            __atomic_fetch_add(&g_live_handles, 1, __ATOMIC_RELAXED); /* free_idaas counts it down */
            free_idaas(K_CLIENT, w->new_ptr);
        }
        w->on_url = NULL;
        work_free(w);
    }
}

static void *pool_main(void *arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "idaas-worker");
    pthread_mutex_lock(&g_pool_mu);
    for (;;) {
        while (!g_q_head) {
            struct timespec dl;
            clock_gettime(CLOCK_REALTIME, &dl);
            dl.tv_sec += 30;
            g_idle++;
            int rc = pthread_cond_timedwait(&g_pool_cv, &g_pool_mu, &dl);
            g_idle--;
            if (rc == ETIMEDOUT && !g_q_head) {
                g_threads--;
                pthread_mutex_unlock(&g_pool_mu);
                return NULL;
            }
        }
        work_t *w = g_q_head;
        g_q_head = w->next;
        if (!g_q_head) g_q_tail = NULL;
        g_q_len--;
        pthread_mutex_unlock(&g_pool_mu);
        exec_work(NULL, w);
        deliver(w);
        pthread_mutex_lock(&g_pool_mu);
    }
}

static bool pool_submit(work_t *w) {
    pthread_mutex_lock(&g_pool_mu);
    if (!g_max_threads) {
        const char *e = getenv("IDAAS_NODE_MAX_THREADS");
        int n = e ? atoi(e) : 0;
        g_max_threads = n > 0 ? n : 32;
    }
    w->next = NULL;
    if (g_q_tail) ((work_t *)g_q_tail)->next = w;
    else g_q_head = w;
    g_q_tail = w;
    g_q_len++;
    bool ok = true;
    if (g_q_len > g_idle && g_threads < g_max_threads) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        /* workers (and the threads the library starts from them) take no signals: Node's main thread does */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        if (pthread_create(&t, &attr, pool_main, NULL) == 0) g_threads++;
        else if (g_threads == 0) ok = false;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
    }
    if (!ok) {
        /* no thread at all: take it back */
        g_q_head = g_q_tail = NULL;
        g_q_len = 0;
    } else {
        pthread_cond_signal(&g_pool_cv);
    }
    pthread_mutex_unlock(&g_pool_mu);
    return ok;
}

static void done_call_js(napi_env env, napi_value js_cb, void *context, void *data) {
    (void)js_cb;
    done_ctx *d = context;
    work_t *w = data;
    if (!env) {
        w->on_url = NULL;
        work_free(w);
        return;
    }
    complete_work(env, napi_ok, w);
    if (--d->pending == 0) napi_unref_threadsafe_function(env, d->tsfn);
}

static void done_finalize(napi_env env, void *data, void *hint) {
    (void)env;
    (void)hint;
    done_ctx *d = data;
    pthread_mutex_lock(&d->mu);
    d->dead = true;
    pthread_mutex_unlock(&d->mu);
}

/* Queues w (with its string args already set) and returns the Promise. Takes ownership of w. */
static napi_value queue_work(napi_env env, work_t *w, const char *name) {
    (void)name;
    napi_value promise;
    addon_state *st = get_state(env);
    if (napi_create_promise(env, &w->deferred, &promise) != napi_ok) {
        if (w->on_url) napi_release_threadsafe_function(w->on_url, napi_tsfn_release);
        w->on_url = NULL;
        work_free(w);
        throw_last(env, "napi_create_promise");
        return NULL;
    }
    w->done = st->done;
    if (w->h) w->h->inflight++;
    if (w->cancel) w->cancel->inflight++;
    if (st->done->pending++ == 0) napi_ref_threadsafe_function(env, st->done->tsfn);
    if (!pool_submit(w)) {
        napi_value m, e;
        napi_create_string_utf8(env, "idaas native: could not start a worker thread", NAPI_AUTO_LENGTH, &m);
        napi_create_error(env, NULL, m, &e);
        napi_reject_deferred(env, w->deferred, e);
        w->deferred = NULL;
        /* complete_work would settle again: undo by hand */
        if (w->h) {
            w->h->inflight--;
            handle_settle(w->h);
        }
        if (w->cancel) {
            w->cancel->inflight--;
            handle_settle(w->cancel);
        }
        if (--st->done->pending == 0) napi_unref_threadsafe_function(env, st->done->tsfn);
        if (w->on_url) napi_release_threadsafe_function(w->on_url, napi_tsfn_release);
        w->on_url = NULL;
        work_free(w);
    }
    return promise;
}

/* Op table: the handle kind and how many string args (and which are nullable). */
typedef struct {
    int op;
    int kind;
    int nargs;
    unsigned nullable_mask; /* bit i: arg i nullable */
    const char *name;
    const char *arg_names[MAX_STR_ARGS];
} op_desc;

static const op_desc OPS[] = {
    {OP_CLIENT_GET_TOKEN, K_CLIENT, 1, 1u, "idaas.getBearerToken", {"scope"}},
    {OP_CLIENT_EXCHANGE, K_CLIENT, 4, 4u | 8u, "idaas.exchangeToken",
     {"subjectToken", "subjectTokenType", "requestedTokenType", "scope"}},
    {OP_PROVIDER_GET_TOKEN, K_PROVIDER, 0, 0, "idaas.provider.getToken", {0}},
    {OP_XPROVIDER_EXCHANGE, K_XPROVIDER, 3, 4u, "idaas.exchangeProvider.exchange",
     {"subjectToken", "subjectTokenType", "requestedTokenType"}},
    {OP_PAM_GET_API_KEY, K_PAM, 1, 0, "idaas.pam.getApiKey", {"credentialIdentifier"}},
    {OP_PAM_FETCH_V1, K_PAM, 2, 2u, "idaas.pam.fetchOAuthToken", {"credentialProviderIdentifier", "scope"}},
    {OP_PAM_FETCH_V2, K_PAM, 3, 4u, "idaas.pam.fetchOAuthTokenV2",
     {"credentialProviderIdentifier", "authorizationFlow", "options"}},
    {OP_PAM_GET_SESSION, K_PAM, 1, 0, "idaas.pam.getOAuthSession", {"sessionUri"}},
    {OP_PAM_GENERATE_JWT, K_PAM, 4, 8u, "idaas.pam.generateJwt",
     {"credentialProviderIdentifier", "subject", "audiences", "options"}},
    {OP_PAM_OBTAIN_JWT, K_PAM, 2, 0, "idaas.pam.obtainJwt", {"consumerId", "authenticationTokenId"}},
    {OP_PAM_OBTAIN_JWT_BY_SHORT, K_PAM, 1, 0, "idaas.pam.obtainJwtByShortToken", {"derivedShortToken"}},
    {OP_PAM_LIST, K_PAM, 3, 4u, "idaas.pam.listTokens", {"consumerId", "credentialProviderIdentifier", "options"}},
    {OP_PAM_VALIDATE, K_PAM, 2, 2u, "idaas.pam.validateToken", {"token", "tokenTypeHint"}},
    {OP_PAM_REVOKE, K_PAM, 2, 2u, "idaas.pam.revokeToken", {"token", "tokenTypeHint"}},
    {OP_PAM_REVOKE_BY_CONSUMER, K_PAM, 2, 0, "idaas.pam.revokeTokensByConsumer",
     {"consumerId", "credentialProviderIdentifier"}},
    {OP_PAM_REINSTATE, K_PAM, 2, 2u, "idaas.pam.reinstateToken", {"token", "tokenTypeHint"}},
    {OP_PAM_REINSTATE_BY_CONSUMER, K_PAM, 2, 0, "idaas.pam.reinstateTokensByConsumer",
     {"consumerId", "credentialProviderIdentifier"}},
};

/* call(op, handle, ...strings) -> Promise */
static napi_value js_call(napi_env env, napi_callback_info info) {
    size_t argc = 2 + MAX_STR_ARGS;
    napi_value argv[2 + MAX_STR_ARGS];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    int32_t op = 0;
    if (argc < 2 || napi_get_value_int32(env, argv[0], &op) != napi_ok) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "call(op, handle, ...)");
        return NULL;
    }
    const op_desc *d = NULL;
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
        if (OPS[i].op == op) d = &OPS[i];
    if (!d) {
        napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "unknown idaas operation");
        return NULL;
    }
    handle *h = NULL;
    if (!get_handle(env, argv[1], d->kind, false, &h)) return NULL;
    work_t *w = calloc(1, sizeof *w);
    if (!w) {
        napi_throw_error(env, "ERR_IDAAS_OOM", "out of memory");
        return NULL;
    }
    w->op = op;
    w->h = h;
    napi_value undef;
    napi_get_undefined(env, &undef);
    for (int i = 0; i < d->nargs; i++) {
        napi_value v = (size_t)(2 + i) < argc ? argv[2 + i] : undef;
        if (!get_string(env, v, (d->nullable_mask >> i) & 1u, d->arg_names[i], &w->s[i])) {
            work_free(w);
            return NULL;
        }
    }
    return queue_work(env, w, d->name);
}

/* ---- 3LO poll: the authorization-URL callback ------------------------------------------------------ */

typedef struct {
    char *url;
} url_msg;

static void on_url_call_js(napi_env env, napi_value js_cb, void *context, void *data) {
    (void)context;
    url_msg *m = data;
    if (env && js_cb) {
        napi_value undef, arg;
        napi_get_undefined(env, &undef);
        napi_create_string_utf8(env, m->url, NAPI_AUTO_LENGTH, &arg);
        napi_status s = napi_call_function(env, undef, js_cb, 1, &arg, NULL);
        if (s == napi_pending_exception) {
            /* index.js catches the user's exceptions; anything else is reported, not swallowed */
            napi_value exc;
            napi_get_and_clear_last_exception(env, &exc);
            napi_fatal_exception(env, exc);
        }
    }
    free(m->url);
    free(m);
}

/* Runs on the poll's worker thread: hand the URL to JS (non-blocking) and keep polling. Aborting
 * is done through the cancel token (the JS callback throwing cancels it, see index.js). */
int32_t on_url_trampoline(const char *url, void *user_data) {
    work_t *w = user_data;
    if (!w->on_url) return 0;
    url_msg *m = calloc(1, sizeof *m);
    if (!m) return 0;
    m->url = strdup(url ? url : "");
    if (!m->url || napi_call_threadsafe_function(w->on_url, m, napi_tsfn_nonblocking) != napi_ok) {
        free(m->url);
        free(m);
    }
    return 0;
}

/* pollOAuthToken(pam, id, optionsJson|null, onUrl|null, cancel|null) -> Promise */
static napi_value js_poll(napi_env env, napi_callback_info info) {
    size_t argc = 5;
    napi_value argv[5];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    napi_value undef;
    napi_get_undefined(env, &undef);
    for (size_t i = argc; i < 5; i++) argv[i] = undef;
    handle *h = NULL, *c = NULL;
    if (!get_handle(env, argv[0], K_PAM, false, &h)) return NULL;
    if (!get_handle(env, argv[4], K_CANCEL, true, &c)) return NULL;
    work_t *w = calloc(1, sizeof *w);
    if (!w) {
        napi_throw_error(env, "ERR_IDAAS_OOM", "out of memory");
        return NULL;
    }
    w->op = OP_PAM_POLL;
    w->h = h;
    w->cancel = c;
    if (!get_string(env, argv[1], false, "credentialProviderIdentifier", &w->s[0]) ||
        !get_string(env, argv[2], true, "options", &w->s[1])) {
        work_free(w);
        return NULL;
    }
    napi_valuetype t;
    napi_typeof(env, argv[3], &t);
    if (t == napi_function) {
        napi_value name;
        napi_create_string_utf8(env, "idaas.onAuthorizationUrl", NAPI_AUTO_LENGTH, &name);
        if (napi_create_threadsafe_function(env, argv[3], NULL, name, 0, 1, NULL, NULL, NULL, on_url_call_js,
                                            &w->on_url) != napi_ok) {
            work_free(w);
            throw_last(env, "napi_create_threadsafe_function");
            return NULL;
        }
    } else if (t != napi_undefined && t != napi_null) {
        work_free(w);
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "onAuthorizationUrl must be a function");
        return NULL;
    }
    return queue_work(env, w, "idaas.pam.pollOAuthToken");
}

/* ---- synchronous functions ---------------------------------------------------------------------------- */

static napi_value js_version(napi_env env, napi_callback_info info) {
    (void)info;
    napi_value v;
    napi_create_string_utf8(env, idaas_version(), NAPI_AUTO_LENGTH, &v);
    return v;
}

/* debugPanic(): idaas_debug_panic (IDAAS_CODE_PANIC in test-hooks builds, IDAAS_CODE_UNSUPPORTED
 * otherwise): an error of the library through the real error path, for the tests. */
static napi_value js_debug_panic(napi_env env, napi_callback_info info) {
    (void)info;
    idaas_error *err = NULL;
    idaas_code rc = idaas_debug_panic(&err);
    if (rc != IDAAS_CODE_OK) throw_idaas(env, rc, err);
    return NULL;
}

/* stats() -> {liveHandles} */
static napi_value js_stats(napi_env env, napi_callback_info info) {
    (void)info;
    napi_value o, v;
    napi_create_object(env, &o);
    napi_create_int64(env, __atomic_load_n(&g_live_handles, __ATOMIC_RELAXED), &v);
    napi_set_named_property(env, o, "liveHandles", v);
    return o;
}

static napi_value js_code_name(napi_env env, napi_callback_info info) {
    size_t argc = 1;
    napi_value argv[1], v;
    uint32_t code = 0;
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc > 0) napi_get_value_uint32(env, argv[0], &code);
    napi_create_string_utf8(env, idaas_code_name(code), NAPI_AUTO_LENGTH, &v);
    return v;
}

/* init(IdaasError) */
static napi_value js_init(napi_env env, napi_callback_info info) {
    size_t argc = 1;
    napi_value argv[1];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    addon_state *st = get_state(env);
    if (st->error_ctor) napi_delete_reference(env, st->error_ctor);
    st->error_ctor = NULL;
    NAPI_OK(napi_create_reference(env, argv[0], 1, &st->error_ctor));
    return NULL;
}

/* clientNew(kind 0 default|1 file|2 json, arg|null, optionsJson|null, async bool) -> handle | Promise */
static napi_value js_client_new(napi_env env, napi_callback_info info) {
    size_t argc = 4;
    napi_value argv[4];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc < 4) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "clientNew(kind, arg, options, async)");
        return NULL;
    }
    int32_t kind = 0;
    bool async = false;
    napi_get_value_int32(env, argv[0], &kind);
    napi_get_value_bool(env, argv[3], &async);
    work_t *w = calloc(1, sizeof *w);
    if (!w) {
        napi_throw_error(env, "ERR_IDAAS_OOM", "out of memory");
        return NULL;
    }
    w->op = OP_CLIENT_NEW;
    w->new_kind = kind;
    if (!get_string(env, argv[1], kind == 0, kind == 1 ? "configPath" : "config", &w->s[0]) ||
        !get_string(env, argv[2], true, "options", &w->s[1])) {
        work_free(w);
        return NULL;
    }
    if (async) return queue_work(env, w, "idaas.createClient");
    exec_work(env, w);
    napi_value r = NULL;
    if (w->code != IDAAS_CODE_OK) {
        throw_idaas(env, w->code, w->err);
        w->err = NULL;
    } else {
        r = wrap_handle(env, K_CLIENT, w->new_ptr);
    }
    work_free(w);
    return r;
}

/* A JS string from token bytes: tokens are ASCII (RFC 6750 b64token), for which latin1 is a plain
 * copy; anything else goes through the UTF-8 decoder. */
static napi_value token_string(napi_env env, const char *buf, size_t len) {
    napi_value v = NULL;
    size_t i = 0;
    while (i < len && (unsigned char)buf[i] < 0x80) i++;
    if (i == len) napi_create_string_latin1(env, buf, len, &v);
    else napi_create_string_utf8(env, buf, len, &v);
    return v;
}

/* The sync token read: the hot path. A stack buffer, no malloc for typical tokens. `memo` (the
 * client's default scope only): return the previous JS string while the token is unchanged. */
static napi_value token_sync(napi_env env, int kind, void *p, const char *scope, handle *memo) {
    char stackbuf[4096];
    char *buf = stackbuf;
    size_t cap = sizeof stackbuf, len = 0;
    idaas_error *err = NULL;
    idaas_code rc;
    done_ctx *d = get_state(env)->done;
    for (;;) {
        __atomic_fetch_add(&d->sync_calls, 1, __ATOMIC_SEQ_CST);
        rc = kind == K_CLIENT ? idaas_client_get_token_into(p, scope, buf, cap, &len, &err)
                              : idaas_provider_get_token_into(p, buf, cap, &len, &err);
        __atomic_fetch_sub(&d->sync_calls, 1, __ATOMIC_SEQ_CST);
        if (rc != IDAAS_CODE_BUFFER_TOO_SMALL || buf != stackbuf) break;
        idaas_error_free(err);
        err = NULL;
        cap = len;
        buf = malloc(cap);
        if (!buf) {
            napi_throw_error(env, "ERR_IDAAS_OOM", "out of memory");
            return NULL;
        }
    }
    napi_value v = NULL;
    if (rc != IDAAS_CODE_OK) {
        throw_idaas(env, rc, err);
    } else if (memo && memo->memo_ref && memo->memo_len == len && memcmp(memo->memo, buf, len) == 0 &&
               napi_get_reference_value(env, memo->memo_ref, &v) == napi_ok && v) {
        /* unchanged: the same string */
    } else {
        v = token_string(env, buf, len);
        if (memo && v) {
            memo_clear(env, memo);
            memo->memo = malloc(len ? len : 1);
            if (memo->memo && napi_create_reference(env, v, 1, &memo->memo_ref) == napi_ok) {
                memcpy(memo->memo, buf, len);
                memo->memo_len = len;
            } else {
                free(memo->memo);
                memo->memo = NULL;
                memo->memo_ref = NULL;
            }
        }
    }
    /* wipe our copy (explicit_bzero: memset speed, not optimised away; the hot path) */
    explicit_bzero(buf, rc == IDAAS_CODE_OK ? len : 0);
    if (buf != stackbuf) free(buf);
    return v;
}

/* clientGetTokenSync(client, scope|null) -> string */
static napi_value js_client_get_token_sync(napi_env env, napi_callback_info info) {
    size_t argc = 2;
    napi_value argv[2];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    handle *h = NULL;
    if (!get_handle(env, argv[0], K_CLIENT, false, &h)) return NULL;
    char *scope = NULL;
    napi_valuetype t = napi_undefined;
    if (argc > 1) napi_typeof(env, argv[1], &t);
    if (t != napi_undefined && t != napi_null && !get_string(env, argv[1], true, "scope", &scope)) return NULL;
    napi_value v = token_sync(env, K_CLIENT, h->ptr, scope, scope ? NULL : h);
    free(scope);
    return v;
}

static napi_value js_provider_get_token_sync(napi_env env, napi_callback_info info) {
    size_t argc = 1;
    napi_value argv[1];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    handle *h = NULL;
    if (!get_handle(env, argv[0], K_PROVIDER, false, &h)) return NULL;
    return token_sync(env, K_PROVIDER, h->ptr, NULL, h);
}

/* clientGetProvider(client, scope|null, exchange bool) -> handle */
static napi_value js_client_get_provider(napi_env env, napi_callback_info info) {
    size_t argc = 3;
    napi_value argv[3];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    handle *h = NULL;
    if (argc < 3 || !get_handle(env, argv[0], K_CLIENT, false, &h)) return NULL;
    char *scope = NULL;
    bool exchange = false;
    if (!get_string(env, argv[1], true, "scope", &scope)) return NULL;
    napi_get_value_bool(env, argv[2], &exchange);
    idaas_error *err = NULL;
    void *out = NULL;
    idaas_code rc = exchange ? idaas_client_get_exchange_provider(h->ptr, scope, (idaas_exchange_provider **)&out, &err)
                             : idaas_client_get_provider(h->ptr, scope, (idaas_provider **)&out, &err);
    free(scope);
    if (rc != IDAAS_CODE_OK) {
        throw_idaas(env, rc, err);
        return NULL;
    }
    return wrap_handle(env, exchange ? K_XPROVIDER : K_PROVIDER, out);
}

/* providerNewStatic(token, expiresAtEpochSecs) / providerFromCredential(json) -> handle */
static napi_value js_provider_new_static(napi_env env, napi_callback_info info) {
    size_t argc = 2;
    napi_value argv[2];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    char *token = NULL;
    if (argc < 1 || !get_string(env, argv[0], false, "accessToken", &token)) return NULL;
    int64_t exp = 0;
    if (argc > 1) napi_get_value_int64(env, argv[1], &exp);
    idaas_provider *p = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_provider_new_static(token, exp > 0 ? (uint64_t)exp : 0, &p, &err);
    secure_free(token);
    if (rc != IDAAS_CODE_OK) {
        throw_idaas(env, rc, err);
        return NULL;
    }
    return wrap_handle(env, K_PROVIDER, p);
}

static napi_value js_provider_from_credential(napi_env env, napi_callback_info info) {
    size_t argc = 1;
    napi_value argv[1];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    char *json = NULL;
    if (argc < 1 || !get_string(env, argv[0], false, "credential", &json)) return NULL;
    idaas_provider *p = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_provider_new_from_credential_json(json, &p, &err);
    secure_free(json);
    if (rc != IDAAS_CODE_OK) {
        throw_idaas(env, rc, err);
        return NULL;
    }
    return wrap_handle(env, K_PROVIDER, p);
}

/* pamNew(client, provider|null, optionsJson|null) -> handle */
static napi_value js_pam_new(napi_env env, napi_callback_info info) {
    size_t argc = 3;
    napi_value argv[3];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc < 3) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "pamNew(client, provider, options)");
        return NULL;
    }
    handle *c = NULL, *p = NULL;
    if (!get_handle(env, argv[0], K_CLIENT, false, &c) || !get_handle(env, argv[1], K_PROVIDER, true, &p)) return NULL;
    char *opts = NULL;
    if (!get_string(env, argv[2], true, "options", &opts)) return NULL;
    idaas_pam_client *pam = NULL;
    idaas_error *err = NULL;
    idaas_code rc = p ? idaas_pam_client_new_with_provider(c->ptr, p->ptr, opts, &pam, &err)
                      : idaas_pam_client_new(c->ptr, opts, &pam, &err);
    free(opts);
    if (rc != IDAAS_CODE_OK) {
        throw_idaas(env, rc, err);
        return NULL;
    }
    return wrap_handle(env, K_PAM, pam);
}

/* pamInvalidateApiKey(pam, id|null) */
static napi_value js_pam_invalidate(napi_env env, napi_callback_info info) {
    size_t argc = 2;
    napi_value argv[2];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    handle *h = NULL;
    if (argc < 2 || !get_handle(env, argv[0], K_PAM, false, &h)) return NULL;
    char *id = NULL;
    if (!get_string(env, argv[1], true, "credentialIdentifier", &id)) return NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_pam_invalidate_api_key(h->ptr, id, &err);
    free(id);
    if (rc != IDAAS_CODE_OK) throw_idaas(env, rc, err);
    return NULL;
}

static napi_value js_cancel_new(napi_env env, napi_callback_info info) {
    (void)info;
    idaas_cancel *c = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_cancel_new(&c, &err);
    if (rc != IDAAS_CODE_OK) {
        throw_idaas(env, rc, err);
        return NULL;
    }
    return wrap_handle(env, K_CANCEL, c);
}

/* cancelCancel(cancel): a no-op on a closed token */
static napi_value js_cancel_cancel(napi_env env, napi_callback_info info) {
    size_t argc = 1;
    napi_value argv[1];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    handle *h = NULL;
    if (argc < 1 || napi_unwrap(env, argv[0], (void **)&h) != napi_ok || !h || h->kind != K_CANCEL) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a cancel token handle");
        return NULL;
    }
    if (h->ptr) idaas_cancel_cancel(h->ptr);
    return NULL;
}

/* ---- logger ----------------------------------------------------------------------------------------------- */

typedef struct {
    uint32_t level;
    char *target;
    char *message;
} log_msg;

static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;
static napi_threadsafe_function g_log_tsfn = NULL; /* the installed logger's tsfn */
static napi_env g_log_env = NULL;                  /* the env that installed it */

static void log_call_js(napi_env env, napi_value js_cb, void *context, void *data) {
    (void)context;
    log_msg *m = data;
    if (env && js_cb) {
        napi_value undef, args[3];
        napi_get_undefined(env, &undef);
        napi_create_uint32(env, m->level, &args[0]);
        napi_create_string_utf8(env, m->target ? m->target : "", NAPI_AUTO_LENGTH, &args[1]);
        napi_create_string_utf8(env, m->message ? m->message : "", NAPI_AUTO_LENGTH, &args[2]);
        if (napi_call_function(env, undef, js_cb, 3, args, NULL) == napi_pending_exception) {
            napi_value exc; /* a throwing logger must not take the process down: drop it */
            napi_get_and_clear_last_exception(env, &exc);
        }
    }
    free(m->target);
    free(m->message);
    free(m);
}

/* Any thread (also the JS thread): queue the record; never blocks. */
static void log_trampoline(uint32_t level, const char *target, const char *message, void *user_data) {
    napi_threadsafe_function tsfn = user_data;
    log_msg *m = malloc(sizeof *m);
    if (!m) return;
    m->level = level;
    m->target = strdup(target ? target : "");
    m->message = strdup(message ? message : "");
    if (!m->target || !m->message || napi_call_threadsafe_function(tsfn, m, napi_tsfn_nonblocking) != napi_ok) {
        free(m->target);
        free(m->message);
        free(m);
    }
}

static void logger_env_cleanup(void *arg);

static void remove_logger_locked(void) {
    if (!g_log_tsfn) return;
    idaas_set_logger(NULL, NULL, IDAAS_LOG_LEVEL_OFF, NULL); /* the old callback is no longer running */
    napi_release_threadsafe_function(g_log_tsfn, napi_tsfn_release);
    napi_remove_env_cleanup_hook(g_log_env, logger_env_cleanup, g_log_env);
    g_log_tsfn = NULL;
    g_log_env = NULL;
}

/* Environment teardown: the logger must be removed before its tsfn goes away. Registered after the
 * tsfn is created, so it runs before the tsfn's own cleanup (hooks run in reverse order). */
static void logger_env_cleanup(void *arg) {
    napi_env env = arg;
    pthread_mutex_lock(&g_log_mu);
    if (g_log_env == env) {
        idaas_set_logger(NULL, NULL, IDAAS_LOG_LEVEL_OFF, NULL);
        g_log_tsfn = NULL; /* released by the environment teardown */
        g_log_env = NULL;
    }
    pthread_mutex_unlock(&g_log_mu);
}

/* setLogger(fn|null, maxLevel) */
static napi_value js_set_logger(napi_env env, napi_callback_info info) {
    size_t argc = 2;
    napi_value argv[2];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    napi_valuetype t = napi_undefined;
    if (argc > 0) napi_typeof(env, argv[0], &t);
    uint32_t level = IDAAS_LOG_LEVEL_INFO;
    if (argc > 1) napi_get_value_uint32(env, argv[1], &level);
    pthread_mutex_lock(&g_log_mu);
    if (t != napi_function) {
        if (g_log_env == env || g_log_env == NULL) remove_logger_locked();
        pthread_mutex_unlock(&g_log_mu);
        return NULL;
    }
    napi_threadsafe_function tsfn = NULL;
    napi_value name;
    napi_create_string_utf8(env, "idaas.logger", NAPI_AUTO_LENGTH, &name);
    if (napi_create_threadsafe_function(env, argv[0], NULL, name, 0, 1, NULL, NULL, NULL, log_call_js, &tsfn) != napi_ok) {
        pthread_mutex_unlock(&g_log_mu);
        throw_last(env, "napi_create_threadsafe_function");
        return NULL;
    }
    napi_unref_threadsafe_function(env, tsfn); /* logging must not keep the process alive */
    idaas_error *err = NULL;
    idaas_code rc = idaas_set_logger(log_trampoline, tsfn, level, &err);
    if (rc != IDAAS_CODE_OK) {
        napi_release_threadsafe_function(tsfn, napi_tsfn_release);
        pthread_mutex_unlock(&g_log_mu);
        throw_idaas(env, rc, err);
        return NULL;
    }
    /* the previous callback (if any) is no longer running: release its tsfn */
    if (g_log_tsfn) napi_release_threadsafe_function(g_log_tsfn, napi_tsfn_release);
    if (g_log_env == env) napi_remove_env_cleanup_hook(env, logger_env_cleanup, env);
    g_log_tsfn = tsfn;
    g_log_env = env;
    napi_add_env_cleanup_hook(env, logger_env_cleanup, env);
    pthread_mutex_unlock(&g_log_mu);
    return NULL;
}

/* ---- plugins ---------------------------------------------------------------------------------------------- */

/* One registered plugin. Lives for the life of the process (the ABI keeps user_data for every client
 * created after the registration); `dead` is set when its environment goes away. */
typedef struct {
    pthread_mutex_t mu;
    napi_threadsafe_function tsfn;
    pthread_t js_thread;
    bool dead;
    uint32_t timeout_ms;
    char *name;
    done_ctx *env_ctx; /* sync_calls of the plugin's environment */
} plugin_ctx;

/* One pending plugin call, shared by the native thread waiting and the JS side. The JS side's
 * reference is held by the external handed to the dispatcher and dropped by its finalizer (so a plugin
 * Promise that never settles leaks nothing once it is garbage-collected). */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs; /* waiter + JS side */
    bool done;     /* the result is set (or the waiter gave up) */
    bool answered; /* the JS side has answered (pluginAnswer is accepted once) */
    char *scope;
    char *token;   /* secret: zeroed */
    char *message; /* error message */
    uint64_t expires_in;
} plugin_call;

static void plugin_call_unref_locked(plugin_call *c) {
    /* called with c->mu held; unlocks it */
    int left = --c->refs;
    pthread_mutex_unlock(&c->mu);
    if (left == 0) {
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
        free(c->scope);
        secure_free(c->token);
        free(c->message);
        free(c);
    }
}

/* The JS side's answer (at most once; later calls are no-ops). Does not drop the JS reference. */
static void plugin_call_answer(plugin_call *c, const char *token, uint64_t expires_in, const char *message) {
    pthread_mutex_lock(&c->mu);
    if (!c->answered) {
        c->answered = true;
        if (!c->done) {
            c->done = true;
            c->token = token ? strdup(token) : NULL;
            c->message = message ? strdup(message) : NULL;
            c->expires_in = expires_in;
            pthread_cond_signal(&c->cv);
        }
    }
    pthread_mutex_unlock(&c->mu);
}

static void plugin_call_release_js(plugin_call *c) {
    pthread_mutex_lock(&c->mu);
    plugin_call_unref_locked(c);
}

static void plugin_external_finalize(napi_env env, void *data, void *hint) {
    (void)env;
    (void)hint;
    plugin_call *c = data;
    plugin_call_answer(c, NULL, 0, "the plugin was dropped without answering");
    plugin_call_release_js(c);
}

static void plugin_call_js(napi_env env, napi_value js_cb, void *context, void *data) {
    (void)context;
    plugin_call *c = data;
    if (!env || !js_cb) {
        plugin_call_answer(c, NULL, 0, "the JavaScript environment of the plugin is shutting down");
        plugin_call_release_js(c);
        return;
    }
    napi_value undef, args[2];
    napi_get_undefined(env, &undef);
    napi_create_string_utf8(env, c->scope, NAPI_AUTO_LENGTH, &args[0]);
    if (napi_create_external(env, c, plugin_external_finalize, NULL, &args[1]) != napi_ok) {
        plugin_call_answer(c, NULL, 0, "the plugin dispatcher failed");
        plugin_call_release_js(c);
        return;
    }
    /* from here the external owns the JS reference; the dispatcher answers through pluginAnswer(ext, ...) */
    if (napi_call_function(env, undef, js_cb, 2, args, NULL) != napi_ok) {
        bool pending = false;
        napi_is_exception_pending(env, &pending);
        if (pending) {
            napi_value exc;
            napi_get_and_clear_last_exception(env, &exc);
        }
        plugin_call_answer(c, NULL, 0, "the plugin dispatcher failed");
    }
}

/* pluginAnswer(ext, token|null, expiresInSecs, message|null): called once per plugin call by index.js */
static napi_value js_plugin_answer(napi_env env, napi_callback_info info) {
    size_t argc = 4;
    napi_value argv[4];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    plugin_call *c = NULL;
    if (argc < 4 || napi_get_value_external(env, argv[0], (void **)&c) != napi_ok || !c) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "pluginAnswer(ext, token, expiresIn, message)");
        return NULL;
    }
    char *token = NULL, *message = NULL;
    double exp = 0;
    napi_get_value_double(env, argv[2], &exp);
    if (!get_string(env, argv[1], true, "token", &token)) {
        napi_value exc;
        napi_get_and_clear_last_exception(env, &exc);
        message = strdup("the plugin must resolve to a string token or {token, expiresIn}");
    } else if (!get_string(env, argv[3], true, "message", &message)) {
        napi_value exc;
        napi_get_and_clear_last_exception(env, &exc);
        message = strdup("plugin failed");
    }
    plugin_call_answer(c, token, exp > 0 ? (uint64_t)exp : 0, message);
    secure_free(token);
    free(message);
    return NULL;
}

/* The idaas_plugin_callback: runs on a library (native) thread. Blocks it until JS answers. */
static int32_t plugin_trampoline(void *user_data, const char *scope, idaas_plugin_result *result) {
    plugin_ctx *pc = user_data;
    if (pthread_equal(pthread_self(), pc->js_thread)) {
        /* A synchronous call on the JS thread needs a token from a JS plugin: the JS thread cannot run
         * the plugin while it waits here (deadlock). Refuse clearly instead. */
        idaas_plugin_result_set_error(result,
                                      "JavaScript plugin cannot run during a synchronous call on the main thread "
                                      "(use await client.getBearerToken() first, or the async API)",
                                      NULL);
        return 1;
    }
    plugin_call *c = calloc(1, sizeof *c);
    if (!c) return 1;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->refs = 2;
    c->scope = strdup(scope ? scope : "");
    pthread_mutex_lock(&pc->mu);
    napi_status s = pc->dead ? napi_closing : napi_call_threadsafe_function(pc->tsfn, c, napi_tsfn_blocking);
    pthread_mutex_unlock(&pc->mu);
    pthread_mutex_lock(&c->mu);
    if (s != napi_ok) {
        c->refs--; /* the JS side will never see it */
        c->answered = true;
        c->done = true;
        c->message = strdup("the JavaScript environment of the plugin is gone");
    }
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += pc->timeout_ms / 1000;
    deadline.tv_nsec += (long)(pc->timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    /* Wait in slices: if the JS thread stays inside a synchronous idaas call the whole time, it is
     * most likely waiting for this very token (the client's single flight) and will never run the
     * plugin: fail fast with a clear error instead of waiting out the timeout (deadlock rule). */
    const long slice_ns = 50L * 1000000L;
    int busy_slices = 0;
    bool sync_deadlock = false;
    while (!c->done) {
        struct timespec next;
        clock_gettime(CLOCK_REALTIME, &next);
        next.tv_nsec += slice_ns;
        if (next.tv_nsec >= 1000000000L) {
            next.tv_sec++;
            next.tv_nsec -= 1000000000L;
        }
        bool last = next.tv_sec > deadline.tv_sec || (next.tv_sec == deadline.tv_sec && next.tv_nsec >= deadline.tv_nsec);
        if (pthread_cond_timedwait(&c->cv, &c->mu, last ? &deadline : &next) == ETIMEDOUT) {
            if (c->done) break;
            if (last) break;
            if (__atomic_load_n(&pc->env_ctx->sync_calls, __ATOMIC_SEQ_CST) > 0) {
                if (++busy_slices >= 20) { /* 1 s */
                    sync_deadlock = true;
                    break;
                }
            } else {
                busy_slices = 0;
            }
        }
    }
    int32_t rc;
    if (!c->done && sync_deadlock) {
        idaas_plugin_result_set_error(result,
                                      "deadlock avoided: the JS thread is blocked in a synchronous idaas call (e.g. "
                                      "getBearerTokenSync) while this JavaScript plugin must run on it; use the async "
                                      "API (await getBearerToken()) for PLUGIN clients",
                                      NULL);
        c->done = true; /* a late answer is dropped */
        rc = 1;
    } else if (!c->done) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "the JavaScript plugin did not answer within %u ms (is the JS thread blocked in a synchronous call?)",
                 pc->timeout_ms);
        idaas_plugin_result_set_error(result, msg, NULL);
        c->done = true; /* a late answer is dropped */
        rc = 1;
    } else if (c->token) {
        rc = (int32_t)idaas_plugin_result_set_token(result, c->token, c->expires_in, NULL);
        if (rc != 0) idaas_plugin_result_set_error(result, "the plugin returned an invalid token", NULL);
    } else {
        idaas_plugin_result_set_error(result, c->message ? c->message : "plugin failed", NULL);
        rc = 1;
    }
    plugin_call_unref_locked(c);
    return rc;
}

static void plugin_env_cleanup(void *arg) {
    plugin_ctx *pc = arg;
    pthread_mutex_lock(&pc->mu);
    pc->dead = true;
    pthread_mutex_unlock(&pc->mu);
}

/* registerPlugin(name, dispatcher, timeoutMs) */
static napi_value js_register_plugin(napi_env env, napi_callback_info info) {
    size_t argc = 3;
    napi_value argv[3];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    char *name = NULL;
    if (argc < 3 || !get_string(env, argv[0], false, "name", &name)) return NULL;
    uint32_t timeout = 30000;
    napi_get_value_uint32(env, argv[2], &timeout);
    plugin_ctx *pc = calloc(1, sizeof *pc);
    if (!pc) {
        free(name);
        return NULL;
    }
    pthread_mutex_init(&pc->mu, NULL);
    pc->js_thread = pthread_self();
    pc->timeout_ms = timeout ? timeout : 30000;
    pc->name = name;
    pc->env_ctx = get_state(env)->done;
    napi_value rname;
    napi_create_string_utf8(env, "idaas.plugin", NAPI_AUTO_LENGTH, &rname);
    if (napi_create_threadsafe_function(env, argv[1], NULL, rname, 0, 1, NULL, NULL, NULL, plugin_call_js, &pc->tsfn) !=
        napi_ok) {
        free(name);
        free(pc);
        throw_last(env, "napi_create_threadsafe_function");
        return NULL;
    }
    napi_unref_threadsafe_function(env, pc->tsfn);
    idaas_error *err = NULL;
    idaas_code rc = idaas_register_plugin(name, plugin_trampoline, pc, &err);
    if (rc != IDAAS_CODE_OK) {
        napi_release_threadsafe_function(pc->tsfn, napi_tsfn_release);
        free(name);
        free(pc);
        throw_idaas(env, rc, err);
        return NULL;
    }
    /* pc is never freed: clients built with it may outlive any JS reference (ABI rule) */
    napi_add_env_cleanup_hook(env, plugin_env_cleanup, pc);
    return NULL;
}

/* ---- module ------------------------------------------------------------------------------------------------ */

static void state_finalize(napi_env env, void *data, void *hint) {
    (void)hint;
    addon_state *st = data;
    if (st->error_ctor) napi_delete_reference(env, st->error_ctor);
    pthread_mutex_lock(&g_log_mu);
    if (g_log_env == env) {
        idaas_set_logger(NULL, NULL, IDAAS_LOG_LEVEL_OFF, NULL);
        g_log_tsfn = NULL; /* released by the environment teardown */
        g_log_env = NULL;
    }
    pthread_mutex_unlock(&g_log_mu);
    free(st);
}

static napi_value constant(napi_env env, uint32_t v) {
    napi_value r;
    napi_create_uint32(env, v, &r);
    return r;
}

NAPI_MODULE_INIT() {
    addon_state *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->js_thread = pthread_self();
    st->done = calloc(1, sizeof *st->done);
    if (!st->done) return NULL;
    pthread_mutex_init(&st->done->mu, NULL);
    napi_value done_name;
    napi_create_string_utf8(env, "idaas.complete", NAPI_AUTO_LENGTH, &done_name);
    if (napi_create_threadsafe_function(env, NULL, NULL, done_name, 0, 1, st->done, done_finalize, st->done,
                                        done_call_js, &st->done->tsfn) != napi_ok)
        return NULL;
    napi_unref_threadsafe_function(env, st->done->tsfn); /* ref'd while works are pending */
    napi_set_instance_data(env, st, state_finalize, NULL);
    napi_property_descriptor props[] = {
#define FN(n, f) {n, NULL, f, NULL, NULL, NULL, napi_enumerable, NULL}
        FN("init", js_init),
        FN("version", js_version),
        FN("codeName", js_code_name),
        FN("stats", js_stats),
        FN("debugPanic", js_debug_panic),
        FN("close", js_close),
        FN("isClosed", js_is_closed),
        FN("call", js_call),
        FN("poll", js_poll),
        FN("clientNew", js_client_new),
        FN("clientGetTokenSync", js_client_get_token_sync),
        FN("clientGetProvider", js_client_get_provider),
        FN("providerNewStatic", js_provider_new_static),
        FN("providerFromCredential", js_provider_from_credential),
        FN("providerGetTokenSync", js_provider_get_token_sync),
        FN("pamNew", js_pam_new),
        FN("pamInvalidateApiKey", js_pam_invalidate),
        FN("cancelNew", js_cancel_new),
        FN("cancelCancel", js_cancel_cancel),
        FN("setLogger", js_set_logger),
        FN("registerPlugin", js_register_plugin),
        FN("pluginAnswer", js_plugin_answer),
#undef FN
    };
    napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
    napi_value ops;
    napi_create_object(env, &ops);
#define OPC(n, v) napi_set_named_property(env, ops, n, constant(env, v))
    OPC("CLIENT_GET_TOKEN", OP_CLIENT_GET_TOKEN);
    OPC("CLIENT_EXCHANGE", OP_CLIENT_EXCHANGE);
    OPC("PROVIDER_GET_TOKEN", OP_PROVIDER_GET_TOKEN);
    OPC("XPROVIDER_EXCHANGE", OP_XPROVIDER_EXCHANGE);
    OPC("PAM_GET_API_KEY", OP_PAM_GET_API_KEY);
    OPC("PAM_FETCH_V1", OP_PAM_FETCH_V1);
    OPC("PAM_FETCH_V2", OP_PAM_FETCH_V2);
    OPC("PAM_GET_SESSION", OP_PAM_GET_SESSION);
    OPC("PAM_GENERATE_JWT", OP_PAM_GENERATE_JWT);
    OPC("PAM_OBTAIN_JWT", OP_PAM_OBTAIN_JWT);
    OPC("PAM_OBTAIN_JWT_BY_SHORT", OP_PAM_OBTAIN_JWT_BY_SHORT);
    OPC("PAM_LIST", OP_PAM_LIST);
    OPC("PAM_VALIDATE", OP_PAM_VALIDATE);
    OPC("PAM_REVOKE", OP_PAM_REVOKE);
    OPC("PAM_REVOKE_BY_CONSUMER", OP_PAM_REVOKE_BY_CONSUMER);
    OPC("PAM_REINSTATE", OP_PAM_REINSTATE);
    OPC("PAM_REINSTATE_BY_CONSUMER", OP_PAM_REINSTATE_BY_CONSUMER);
#undef OPC
    napi_set_named_property(env, exports, "ops", ops);
    napi_value levels;
    napi_create_object(env, &levels);
    napi_set_named_property(env, levels, "off", constant(env, IDAAS_LOG_LEVEL_OFF));
    napi_set_named_property(env, levels, "error", constant(env, IDAAS_LOG_LEVEL_ERROR));
    napi_set_named_property(env, levels, "warn", constant(env, IDAAS_LOG_LEVEL_WARN));
    napi_set_named_property(env, levels, "info", constant(env, IDAAS_LOG_LEVEL_INFO));
    napi_set_named_property(env, levels, "debug", constant(env, IDAAS_LOG_LEVEL_DEBUG));
    napi_set_named_property(env, levels, "trace", constant(env, IDAAS_LOG_LEVEL_TRACE));
    napi_set_named_property(env, exports, "logLevels", levels);
    return exports;
}
