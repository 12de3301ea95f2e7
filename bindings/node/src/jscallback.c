/*
 * jscallback.c - a JS function that any thread may call.
 *
 * A threadsafe function alone is not enough for the library's callbacks: the library may call a
 * logger or plugin after the JS environment that gave it has gone away (a terminated
 * worker_thread, process exit), and Node finalizes the environment's threadsafe functions then.
 * js_callback keeps a flag, under its own lock, that says so: from then on calls are refused
 * instead of touching freed memory. The struct is counted: one for its owner (jscb_release), one
 * for its threadsafe function (until finalized), one per jscb_hold; it is freed at zero.
 */
#include "addon.h"

#include <stdlib.h>

struct js_callback {
    pthread_mutex_t mu;
    napi_threadsafe_function tsfn;
    bool released; /* the owner is done with it */
    bool gone;     /* the threadsafe function is finalized: never touch it again */
    int refs;      /* owner + threadsafe function + holds */
};

static int64_t g_live = 0; /* atomic */

int64_t jscb_live(void) {
    return __atomic_load_n(&g_live, __ATOMIC_RELAXED);
}

/* Drops one count (cb->mu held; unlocks it). */
static void unref_unlock(js_callback *cb) {
    bool last = --cb->refs == 0;
    pthread_mutex_unlock(&cb->mu);
    if (last) {
        pthread_mutex_destroy(&cb->mu);
        free(cb);
        __atomic_fetch_sub(&g_live, 1, __ATOMIC_RELAXED);
    }
}

/* Runs on the JS thread once the threadsafe function is released and drained, or when the
 * environment is torn down. */
static void finalize(napi_env env, void *data, void *hint) {
    (void)env;
    (void)hint;
    js_callback *cb = data;
    pthread_mutex_lock(&cb->mu);
    cb->gone = true;
    unref_unlock(cb);
}

js_callback *jscb_new(napi_env env, napi_value fn, const char *name, napi_threadsafe_function_call_js call_js,
                      void *context) {
    js_callback *cb = calloc(1, sizeof *cb);
    if (!cb) {
        throw_oom(env);
        return NULL;
    }
    pthread_mutex_init(&cb->mu, NULL);
    cb->refs = 2;
    napi_value rname;
    napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &rname);
    if (napi_create_threadsafe_function(env, fn, NULL, rname, 0, 1, cb, finalize, context, call_js, &cb->tsfn) !=
        napi_ok) {
        pthread_mutex_destroy(&cb->mu);
        free(cb);
        throw_napi(env, "napi_create_threadsafe_function");
        return NULL;
    }
    __atomic_fetch_add(&g_live, 1, __ATOMIC_RELAXED);
    /* A logger or plugin must not keep the process alive; calls in flight do, see calls.c. */
    napi_unref_threadsafe_function(env, cb->tsfn);
    return cb;
}

bool jscb_call(js_callback *cb, void *data) {
    pthread_mutex_lock(&cb->mu);
    bool ok = !cb->released && !cb->gone &&
              napi_call_threadsafe_function(cb->tsfn, data, napi_tsfn_nonblocking) == napi_ok;
    pthread_mutex_unlock(&cb->mu);
    return ok;
}

void jscb_release(js_callback *cb) {
    if (!cb) return;
    pthread_mutex_lock(&cb->mu);
    if (cb->released) { /* released twice: a bug of the caller; never drop the count twice */
        pthread_mutex_unlock(&cb->mu);
        return;
    }
    cb->released = true;
    /* queued calls are still delivered; then Node finalizes it (finalize above) */
    if (!cb->gone) napi_release_threadsafe_function(cb->tsfn, napi_tsfn_release);
    unref_unlock(cb);
}

void jscb_hold(js_callback *cb) {
    pthread_mutex_lock(&cb->mu);
    cb->refs++;
    pthread_mutex_unlock(&cb->mu);
}

void jscb_drop(js_callback *cb) {
    pthread_mutex_lock(&cb->mu);
    unref_unlock(cb);
}

void jscb_release_user_data(void *cb) {
    jscb_release(cb);
}

void jscb_set_keep_alive(napi_env env, js_callback *cb, bool keep) {
    pthread_mutex_lock(&cb->mu);
    if (!cb->gone) {
        if (keep) napi_ref_threadsafe_function(env, cb->tsfn);
        else napi_unref_threadsafe_function(env, cb->tsfn);
    }
    pthread_mutex_unlock(&cb->mu);
}
