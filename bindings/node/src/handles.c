/*
 * handles.c - idaas handles behind JS objects.
 *
 * Each idaas handle (config, client, provider, exchange provider, PAM client, cancel token) lives in
 * a `handle` wrapped into a plain JS object, which index.js keeps in a class instance. close() frees
 * the idaas handle as soon as no call in flight uses it; the wrap finalizer is the backstop when the
 * object is garbage-collected without close(). See `handle` in addon.h for the two counts.
 */
#include "addon.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const KIND_NAMES[] = {"?", "config", "client", "provider", "exchange provider", "PAM client",
                                         "cancel token"};

static int64_t g_live = 0; /* atomic */

int64_t handles_live(void) {
    return __atomic_load_n(&g_live, __ATOMIC_RELAXED);
}

static void free_idaas(enum handle_kind kind, void *p) {
    __atomic_fetch_sub(&g_live, 1, __ATOMIC_RELAXED);
    switch (kind) {
    case K_CONFIG: idaas_config_free(p); break;
    case K_CLIENT: idaas_client_free(p); break;
    case K_PROVIDER: idaas_provider_free(p); break;
    case K_XPROVIDER: idaas_exchange_provider_free(p); break;
    case K_PAM: idaas_pam_free(p); break;
    case K_CANCEL: idaas_cancel_free(p); break;
    }
}

static void drop_use(handle *h) {
    /* acq_rel: the last user's work on the idaas handle happens before its free */
    if (__atomic_sub_fetch(&h->uses, 1, __ATOMIC_ACQ_REL) == 0) free_idaas(h->kind, h->ptr);
}

static void drop_ref(handle *h) {
    if (__atomic_sub_fetch(&h->refs, 1, __ATOMIC_ACQ_REL) == 0) free(h);
}

void handle_acquire(handle *h) {
    __atomic_add_fetch(&h->uses, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&h->refs, 1, __ATOMIC_RELAXED);
}

void handle_release(handle *h) {
    drop_use(h);
    drop_ref(h);
}

void handle_memo_clear(napi_env env, handle *h) {
    if (h->memo_ref) {
        napi_delete_reference(env, h->memo_ref);
        h->memo_ref = NULL;
    }
    h->memo_version = 0;
}

static void close_on_js_thread(napi_env env, handle *h) {
    handle_memo_clear(env, h);
    if (!h->closed) {
        h->closed = true;
        drop_use(h);
    }
}

static void handle_finalize(napi_env env, void *data, void *hint) {
    (void)hint;
    handle *h = data;
    close_on_js_thread(env, h);
    drop_ref(h);
}

napi_value handle_wrap(napi_env env, enum handle_kind kind, void *ptr) {
    __atomic_fetch_add(&g_live, 1, __ATOMIC_RELAXED); /* free_idaas counts it down, also on failure */
    handle *h = calloc(1, sizeof *h);
    if (!h) {
        free_idaas(kind, ptr);
        throw_oom(env);
        return NULL;
    }
    h->kind = kind;
    h->ptr = ptr;
    h->uses = 1;
    h->refs = 1;
    napi_value obj;
    if (napi_create_object(env, &obj) != napi_ok || napi_wrap(env, obj, h, handle_finalize, NULL, NULL) != napi_ok) {
        free_idaas(kind, ptr);
        free(h);
        throw_napi(env, "napi_wrap");
        return NULL;
    }
    return obj;
}

static handle *unwrap_any(napi_env env, napi_value v) {
    napi_valuetype t;
    handle *h = NULL;
    if (napi_typeof(env, v, &t) != napi_ok || t != napi_object) return NULL;
    if (napi_unwrap(env, v, (void **)&h) != napi_ok) return NULL;
    return h;
}

bool handle_get(napi_env env, napi_value v, enum handle_kind kind, bool nullable, handle **out) {
    *out = NULL;
    if (nullable && is_nullish(env, v)) return true;
    handle *h = unwrap_any(env, v);
    if (!h || h->kind != kind) {
        throw_type(env, "ERR_INVALID_ARG_TYPE", "expected a %s handle", KIND_NAMES[kind]);
        return false;
    }
    if (h->closed) {
        char msg[96];
        snprintf(msg, sizeof msg, "the %s is closed", KIND_NAMES[kind]);
        napi_throw_error(env, "ERR_IDAAS_CLOSED", msg);
        return false;
    }
    *out = h;
    return true;
}

/* close(handle): frees the idaas handle once no call uses it. Idempotent. */
static napi_value js_close(napi_env env, napi_callback_info info) {
    size_t argc = 1;
    napi_value argv[1];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    handle *h = argc ? unwrap_any(env, argv[0]) : NULL;
    if (!h) {
        throw_type(env, "ERR_INVALID_ARG_TYPE", "expected an idaas handle");
        return NULL;
    }
    close_on_js_thread(env, h);
    return NULL;
}

static napi_value js_is_closed(napi_env env, napi_callback_info info) {
    size_t argc = 1;
    napi_value argv[1], r;
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    handle *h = argc ? unwrap_any(env, argv[0]) : NULL;
    if (!h) {
        throw_type(env, "ERR_INVALID_ARG_TYPE", "expected an idaas handle");
        return NULL;
    }
    napi_get_boolean(env, h->closed, &r);
    return r;
}

const export_fn HANDLE_EXPORTS[] = {
    {"close", js_close, NULL},
    {"isClosed", js_is_closed, NULL},
};
const size_t HANDLE_EXPORTS_LEN = sizeof HANDLE_EXPORTS / sizeof HANDLE_EXPORTS[0];
