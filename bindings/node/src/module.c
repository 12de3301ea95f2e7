/*
 * module.c - module initialisation: per-environment state, the export table, and the small
 * synchronous functions that belong to no handle.
 *
 * The addon loads once per environment (the main thread and each worker_thread); every
 * environment gets its own state (instance data) and completion channel. The export names are the
 * private interface of index.js, which shapes the public API.
 */
#include "addon.h"

#include <stdlib.h>

addon_state *addon_state_of(napi_env env) {
    addon_state *st = NULL;
    napi_get_instance_data(env, (void **)&st);
    return st;
}

/* version() -> the library version */
static napi_value js_version(napi_env env, napi_callback_info info) {
    (void)info;
    napi_value v;
    napi_create_string_utf8(env, idaas_version(), NAPI_AUTO_LENGTH, &v);
    return v;
}

static uint32_t code_arg(napi_env env, napi_callback_info info) {
    size_t argc = 1;
    napi_value argv[1];
    uint32_t code = 0;
    if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc > 0)
        napi_get_value_uint32(env, argv[0], &code);
    return code;
}

/* codeName(code) -> 'auth', 'timeout' ... ('unknown' for a code this library does not know) */
static napi_value js_code_name(napi_env env, napi_callback_info info) {
    napi_value v;
    napi_create_string_utf8(env, idaas_code_name(code_arg(env, info)), NAPI_AUTO_LENGTH, &v);
    return v;
}

/* codeClass(code) -> the idaas_class of the code (also of a code a newer library adds) */
static napi_value js_code_class(napi_env env, napi_callback_info info) {
    napi_value v;
    napi_create_uint32(env, (uint32_t)idaas_code_class(code_arg(env, info)), &v);
    return v;
}

/* stats() -> {liveHandles, liveCallbacks}: what is not freed yet, for the leak tests */
static napi_value js_stats(napi_env env, napi_callback_info info) {
    (void)info;
    napi_value o, v;
    napi_create_object(env, &o);
    napi_create_int64(env, handles_live(), &v);
    napi_set_named_property(env, o, "liveHandles", v);
    napi_create_int64(env, jscb_live(), &v);
    napi_set_named_property(env, o, "liveCallbacks", v);
    return o;
}

/* debugPanic(): idaas_debug_panic (IDAAS_CODE_PANIC in test-hooks builds, IDAAS_CODE_UNSUPPORTED
 * otherwise): a library error through the real error path, for the tests. */
static napi_value js_debug_panic(napi_env env, napi_callback_info info) {
    (void)info;
    idaas_error *err = NULL;
    idaas_code rc = idaas_debug_panic(&err);
    if (rc != IDAAS_CODE_OK) throw_idaas(env, rc, err);
    return NULL;
}

/* setErrorFactory((message, props) -> Error): how errors.c builds JS errors */
static napi_value js_set_error_factory(napi_env env, napi_callback_info info) {
    size_t argc = 1;
    napi_value argv[1];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    napi_valuetype t = napi_undefined;
    if (argc) napi_typeof(env, argv[0], &t);
    if (t != napi_function) {
        throw_type(env, "ERR_INVALID_ARG_TYPE", "setErrorFactory(fn)");
        return NULL;
    }
    addon_state *st = addon_state_of(env);
    if (st->error_factory) napi_delete_reference(env, st->error_factory);
    st->error_factory = NULL;
    NAPI_OK(napi_create_reference(env, argv[0], 1, &st->error_factory));
    return NULL;
}

static const export_fn MODULE_EXPORTS[] = {
    {"version", js_version, NULL},
    {"codeName", js_code_name, NULL},
    {"codeClass", js_code_class, NULL},
    {"stats", js_stats, NULL},
    {"debugPanic", js_debug_panic, NULL},
    {"setErrorFactory", js_set_error_factory, NULL},
};

static void state_finalize(napi_env env, void *data, void *hint) {
    (void)hint;
    addon_state *st = data;
    if (st->error_factory) napi_delete_reference(env, st->error_factory);
    jscb_release(st->complete);
    free(st);
}

static bool define_fns(napi_env env, napi_value exports, const export_fn *fns, size_t n) {
    for (size_t i = 0; i < n; i++) {
        napi_property_descriptor d = {fns[i].name, NULL, fns[i].fn, NULL, NULL, NULL, napi_enumerable, fns[i].data};
        if (napi_define_properties(env, exports, 1, &d) != napi_ok) return false;
    }
    return true;
}

static bool define_ops(napi_env env, napi_value exports, const op_desc *ops, size_t n) {
    for (size_t i = 0; i < n; i++) {
        napi_property_descriptor d = {ops[i].js_name, NULL, call_op, NULL, NULL, NULL, napi_enumerable, (void *)&ops[i]};
        if (napi_define_properties(env, exports, 1, &d) != napi_ok) return false;
    }
    return true;
}

static void set_u32(napi_env env, napi_value obj, const char *name, uint32_t v) {
    napi_value x;
    napi_create_uint32(env, v, &x);
    napi_set_named_property(env, obj, name, x);
}

NAPI_MODULE_INIT() {
    addon_state *st = calloc(1, sizeof *st);
    if (!st) {
        throw_oom(env);
        return NULL;
    }
    if (napi_set_instance_data(env, st, state_finalize, NULL) != napi_ok) {
        free(st);
        throw_napi(env, "napi_set_instance_data");
        return NULL;
    }
    napi_add_env_cleanup_hook(env, logger_env_cleanup, st);
    bool ok = define_fns(env, exports, MODULE_EXPORTS, sizeof MODULE_EXPORTS / sizeof MODULE_EXPORTS[0]) &&
              define_fns(env, exports, HANDLE_EXPORTS, HANDLE_EXPORTS_LEN) &&
              define_fns(env, exports, CALL_EXPORTS, CALL_EXPORTS_LEN) &&
              define_fns(env, exports, CONFIG_EXPORTS, CONFIG_EXPORTS_LEN) &&
              define_fns(env, exports, CLIENT_EXPORTS, CLIENT_EXPORTS_LEN) &&
              define_fns(env, exports, PAM_EXPORTS, PAM_EXPORTS_LEN) &&
              define_fns(env, exports, PLUGIN_EXPORTS, PLUGIN_EXPORTS_LEN) &&
              define_fns(env, exports, LOGGER_EXPORTS, LOGGER_EXPORTS_LEN) &&
              define_ops(env, exports, CONFIG_OPS, CONFIG_OPS_LEN) &&
              define_ops(env, exports, CLIENT_OPS, CLIENT_OPS_LEN) && define_ops(env, exports, PAM_OPS, PAM_OPS_LEN);
    if (!ok) {
        throw_napi(env, "napi_define_properties");
        return NULL;
    }
    napi_value levels;
    napi_create_object(env, &levels);
    set_u32(env, levels, "off", IDAAS_LOG_LEVEL_OFF);
    set_u32(env, levels, "error", IDAAS_LOG_LEVEL_ERROR);
    set_u32(env, levels, "warn", IDAAS_LOG_LEVEL_WARN);
    set_u32(env, levels, "info", IDAAS_LOG_LEVEL_INFO);
    set_u32(env, levels, "debug", IDAAS_LOG_LEVEL_DEBUG);
    set_u32(env, levels, "trace", IDAAS_LOG_LEVEL_TRACE);
    napi_set_named_property(env, exports, "logLevels", levels);
    return exports;
}
