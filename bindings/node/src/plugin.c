/*
 * plugin.c - JS token plugins.
 *
 * The library calls a plugin on a native thread and needs its answer before it returns; the JS
 * function can only run on its environment's JS thread. So the native thread queues the call to the
 * JS thread (a js_callback) and waits, up to the plugin's timeout, for index.js to answer through
 * pluginAnswer. Each plugin is added to one configuration (idaas_config_add_plugin); the library
 * calls free_user_data — jscb_release here — once neither the configuration nor any client made
 * from it needs the plugin, which ends the threadsafe function: nothing stays registered.
 *
 * Two waits that could never end are refused instead: a plugin call on the JS thread itself (a
 * synchronous read that needs a new token: the JS thread cannot run the plugin while it waits for
 * it) fails at once; a plugin that, from the JS thread, asks its own client for the token being
 * fetched makes that inner call give up after twice the call budget (the library's
 * RefreshWaitTimeout), after which the plugin answers.
 */
#include "addon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    js_callback *cb; /* calls index.js's dispatcher: (scope, call) */
    pthread_t js_thread;
    uint32_t timeout_ms;
} plugin;

/* One plugin call, shared by the waiting native thread and the JS side (the external handed to the
 * dispatcher, whose finalizer drops the JS side's count: a plugin Promise that never settles leaks
 * nothing once it is garbage-collected). */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;      /* waiter + JS side */
    bool done;     /* a result is set, or the waiter gave up */
    bool answered; /* the JS side has answered (only the first answer counts) */
    char *scope;
    char *token; /* secret: wiped */
    char *message;
    uint64_t expires_in;
} plugin_call;

/* Drops one count (c->mu held; unlocks it). */
static void plugin_call_unref_unlock(plugin_call *c) {
    bool last = --c->refs == 0;
    pthread_mutex_unlock(&c->mu);
    if (last) {
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
        free(c->scope);
        secure_free(c->token);
        free(c->message);
        free(c);
    }
}

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

/* The JS side is done with the call. */
static void plugin_call_drop_js(plugin_call *c) {
    pthread_mutex_lock(&c->mu);
    plugin_call_unref_unlock(c);
}

static void external_finalize(napi_env env, void *data, void *hint) {
    (void)env;
    (void)hint;
    plugin_call *c = data;
    plugin_call_answer(c, NULL, 0, "the plugin was dropped without answering");
    plugin_call_drop_js(c);
}

/* call_js of a plugin's js_callback: runs the dispatcher (scope, external). */
static void plugin_call_js(napi_env env, napi_value js_cb, void *context, void *data) {
    (void)context;
    plugin_call *c = data;
    napi_value undef, args[2];
    if (!env || !js_cb) {
        plugin_call_answer(c, NULL, 0, "the JavaScript environment of the plugin is shutting down");
        plugin_call_drop_js(c);
        return;
    }
    napi_get_undefined(env, &undef);
    napi_create_string_utf8(env, c->scope, NAPI_AUTO_LENGTH, &args[0]);
    if (napi_create_external(env, c, external_finalize, NULL, &args[1]) != napi_ok) {
        plugin_call_answer(c, NULL, 0, "the plugin dispatcher failed");
        plugin_call_drop_js(c);
        return;
    }
    /* from here the external holds the JS side's count */
    if (napi_call_function(env, undef, js_cb, 2, args, NULL) != napi_ok) {
        take_exception(env);
        plugin_call_answer(c, NULL, 0, "the plugin dispatcher failed");
    }
}

/* pluginAnswer(call, token|null, expiresInSecs, message|null): index.js, once per plugin call */
static napi_value js_plugin_answer(napi_env env, napi_callback_info info) {
    size_t argc = 4;
    napi_value argv[4];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    plugin_call *c = NULL;
    if (argc < 4 || napi_get_value_external(env, argv[0], (void **)&c) != napi_ok || !c) {
        throw_type(env, "ERR_INVALID_ARG_TYPE", "pluginAnswer(call, token, expiresIn, message)");
        return NULL;
    }
    char *token = NULL, *message = NULL;
    double expires_in = 0;
    napi_get_value_double(env, argv[2], &expires_in);
    if (!arg_string(env, argv[1], true, "token", &token)) {
        take_exception(env);
        message = strdup("the plugin must resolve to a string token or {token, expiresIn}");
    } else if (!arg_string(env, argv[3], true, "message", &message)) {
        take_exception(env);
        message = strdup("plugin failed");
    }
    plugin_call_answer(c, token, expires_in >= 1 && expires_in < 1e15 ? (uint64_t)expires_in : 0, message);
    secure_free(token);
    free(message);
    return NULL;
}

/* Waits (c->mu held) until the call is done or `timeout_ms` passed; true when done. */
static bool wait_done(plugin_call *c, uint32_t timeout_ms) {
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (!c->done)
        if (pthread_cond_timedwait(&c->cv, &c->mu, &until) == ETIMEDOUT) break;
    return c->done;
}

/* The idaas_plugin_callback: on a library thread; blocks it until the JS side answers. */
static int32_t plugin_trampoline(void *user_data, const char *scope, idaas_plugin_result *result) {
    plugin *p = user_data;
    if (pthread_equal(pthread_self(), p->js_thread)) {
        idaas_plugin_result_set_error(result,
                                      "JavaScript plugin cannot run during a synchronous call on the main thread "
                                      "(use await client.getBearerToken() first, or the async API)",
                                      NULL);
        return 1;
    }
    plugin_call *c = calloc(1, sizeof *c);
    char *scope_copy = strdup(scope ? scope : "");
    if (!c || !scope_copy) {
        free(c);
        free(scope_copy);
        idaas_plugin_result_set_error(result, "out of memory", NULL);
        return 1;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &attr);
    pthread_condattr_destroy(&attr);
    c->refs = 2;
    c->scope = scope_copy;
    bool queued = jscb_call(p->cb, c);
    pthread_mutex_lock(&c->mu);
    if (!queued) {
        c->refs--; /* the JS side will never see it */
        c->answered = c->done = true;
        c->message = strdup("the JavaScript environment of the plugin is gone");
    }
    int32_t rc = 1;
    if (!wait_done(c, p->timeout_ms)) {
        char msg[160];
        snprintf(msg, sizeof msg, "the JavaScript plugin did not answer within %u ms", p->timeout_ms);
        idaas_plugin_result_set_error(result, msg, NULL);
        c->done = true; /* a late answer is dropped */
    } else if (c->token) {
        rc = (int32_t)idaas_plugin_result_set_token(result, c->token, c->expires_in, NULL);
        if (rc != 0) idaas_plugin_result_set_error(result, "the plugin returned an invalid token", NULL);
    } else {
        idaas_plugin_result_set_error(result, c->message ? c->message : "plugin failed", NULL);
    }
    plugin_call_unref_unlock(c);
    return rc;
}

/* free_user_data of a plugin: the library no longer needs it (any thread). */
static void plugin_free(void *user_data) {
    plugin *p = user_data;
    jscb_release(p->cb);
    free(p);
}

bool plugin_add(napi_env env, idaas_config *cfg, const char *name, napi_value dispatch, uint32_t timeout_ms) {
    napi_valuetype t;
    if (napi_typeof(env, dispatch, &t) != napi_ok || t != napi_function) {
        throw_type(env, "ERR_INVALID_ARG_TYPE", "the plugin must be a function");
        return false;
    }
    plugin *p = calloc(1, sizeof *p);
    if (!p) {
        throw_oom(env);
        return false;
    }
    p->js_thread = pthread_self();
    p->timeout_ms = timeout_ms;
    p->cb = jscb_new(env, dispatch, "idaas.plugin", plugin_call_js, NULL);
    if (!p->cb) {
        free(p);
        return false;
    }
    idaas_error *err = NULL;
    idaas_code rc = idaas_config_add_plugin(cfg, name, plugin_trampoline, p, plugin_free, &err);
    if (rc != IDAAS_CODE_OK) {
        plugin_free(p); /* on error the library does not call free_user_data */
        throw_idaas(env, rc, err);
        return false;
    }
    return true;
}

const export_fn PLUGIN_EXPORTS[] = {
    {"pluginAnswer", js_plugin_answer, NULL},
};
const size_t PLUGIN_EXPORTS_LEN = sizeof PLUGIN_EXPORTS / sizeof PLUGIN_EXPORTS[0];
