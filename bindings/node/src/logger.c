/*
 * logger.c - log callbacks: one per configuration (idaas_config_set_logger), and the process-wide
 * one (idaas_log_set_callback) for clients without their own and for the HTTP stack.
 *
 * Records may come from any thread; each is copied and queued to the JS thread of the environment
 * that set the logger (never blocking the library). A configuration's logger is released by the
 * library (free_user_data) with the last client using it. The process-wide logger is one per
 * process, like the ABI's: the last setLogger wins, also across worker_threads, and it is removed
 * when the environment that set it goes away.
 */
#include "addon.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint32_t level;
    char *target;
    char *message;
} log_record;

static void log_record_free(log_record *r) {
    free(r->target);
    free(r->message);
    free(r);
}

/* call_js of a logger's js_callback */
static void log_call_js(napi_env env, napi_value js_cb, void *context, void *data) {
    (void)context;
    log_record *r = data;
    if (env && js_cb) {
        napi_value undef, args[3];
        napi_get_undefined(env, &undef);
        napi_create_uint32(env, r->level, &args[0]);
        napi_create_string_utf8(env, r->target, NAPI_AUTO_LENGTH, &args[1]);
        napi_create_string_utf8(env, r->message, NAPI_AUTO_LENGTH, &args[2]);
        /* a throwing logger must not take the process down: its exception is dropped */
        if (napi_call_function(env, undef, js_cb, 3, args, NULL) != napi_ok) take_exception(env);
    }
    log_record_free(r);
}

/* The idaas_log_callback (any thread): queue the record. */
static void log_trampoline(uint32_t level, const char *target, const char *message, void *user_data) {
    log_record *r = malloc(sizeof *r);
    if (!r) return;
    r->level = level;
    r->target = strdup(target ? target : "");
    r->message = strdup(message ? message : "");
    if (!r->target || !r->message || !jscb_call(user_data, r)) log_record_free(r);
}

/* A js_callback for fn, or NULL with a pending exception. */
static js_callback *logger_callback(napi_env env, napi_value fn) {
    napi_valuetype t;
    if (napi_typeof(env, fn, &t) != napi_ok || t != napi_function) {
        throw_type(env, "ERR_INVALID_ARG_TYPE", "the logger must be a function or null");
        return NULL;
    }
    return jscb_new(env, fn, "idaas.logger", log_call_js, NULL);
}

bool logger_set_on_config(napi_env env, idaas_config *cfg, napi_value fn, uint32_t max_level) {
    idaas_error *err = NULL;
    idaas_code rc;
    if (is_nullish(env, fn)) {
        rc = idaas_config_set_logger(cfg, NULL, NULL, IDAAS_LOG_LEVEL_OFF, NULL, &err);
    } else {
        js_callback *cb = logger_callback(env, fn);
        if (!cb) return false;
        rc = idaas_config_set_logger(cfg, log_trampoline, cb, max_level, jscb_release_user_data, &err);
        if (rc != IDAAS_CODE_OK) jscb_release(cb); /* on error the library does not call free_user_data */
    }
    if (rc != IDAAS_CODE_OK) {
        throw_idaas(env, rc, err);
        return false;
    }
    return true;
}

/* ---- the process-wide logger ------------------------------------------------------------------ */

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static js_callback *g_cb = NULL; /* the installed callback's user_data */
static void *g_owner = NULL;     /* the addon_state of the module instance that installed it (only
                                    compared, never dereferenced: it may be freed before its hook) */

/* Forgets the installed callback (g_mu held; the library no longer calls it). */
static void forget_locked(void) {
    if (!g_cb) return;
    jscb_release(g_cb);
    g_cb = NULL;
    g_owner = NULL;
}

void logger_env_cleanup(void *st) {
    pthread_mutex_lock(&g_mu);
    if (g_owner == st) {
        idaas_log_set_callback(NULL, NULL, IDAAS_LOG_LEVEL_OFF, NULL);
        forget_locked();
    }
    pthread_mutex_unlock(&g_mu);
}

/* setLogger(fn|null, maxLevel) */
static napi_value js_set_logger(napi_env env, napi_callback_info info) {
    size_t argc = 2;
    napi_value argv[2], undef;
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    napi_get_undefined(env, &undef);
    napi_value fn = argc > 0 ? argv[0] : undef;
    uint32_t level = IDAAS_LOG_LEVEL_INFO;
    if (argc > 1) napi_get_value_uint32(env, argv[1], &level);
    if (is_nullish(env, fn)) {
        pthread_mutex_lock(&g_mu);
        /* when this returns, the old callback is no longer running and will not be called again */
        idaas_log_set_callback(NULL, NULL, IDAAS_LOG_LEVEL_OFF, NULL);
        forget_locked();
        pthread_mutex_unlock(&g_mu);
        return NULL;
    }
    js_callback *cb = logger_callback(env, fn);
    if (!cb) return NULL;
    pthread_mutex_lock(&g_mu);
    idaas_error *err = NULL;
    idaas_code rc = idaas_log_set_callback(log_trampoline, cb, level, &err);
    if (rc != IDAAS_CODE_OK) {
        pthread_mutex_unlock(&g_mu);
        jscb_release(cb);
        throw_idaas(env, rc, err);
        return NULL;
    }
    forget_locked(); /* the previous callback is no longer running */
    g_cb = cb;
    g_owner = addon_state_of(env);
    pthread_mutex_unlock(&g_mu);
    return NULL;
}

const export_fn LOGGER_EXPORTS[] = {
    {"setLogger", js_set_logger, NULL},
};
const size_t LOGGER_EXPORTS_LEN = sizeof LOGGER_EXPORTS / sizeof LOGGER_EXPORTS[0];
