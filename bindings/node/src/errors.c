/*
 * errors.c - errors of the library as JS errors.
 *
 * The addon collects what the ABI says about a failure — code, class (idaas_code_class), whether a
 * retry may help (idaas_error_is_retryable), HTTP status, server code, request id, message — and
 * hands it to the factory index.js registered (setErrorFactory), which picks the Error subclass for
 * the class. Nothing about codes is re-derived here or in JS.
 */
#include "addon.h"

#include <stdarg.h>
#include <stdio.h>

void throw_napi(napi_env env, const char *what) {
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

void throw_oom(napi_env env) {
    napi_throw_error(env, "ERR_IDAAS_OOM", "idaas native: out of memory");
}

void throw_type(napi_env env, const char *code, const char *fmt, ...) {
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    napi_throw_type_error(env, code, msg);
}

napi_value take_exception(napi_env env) {
    bool pending = false;
    napi_value exc = NULL;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &exc);
    return exc;
}

static void set_u32(napi_env env, napi_value obj, const char *name, uint32_t v) {
    napi_value x;
    napi_create_uint32(env, v, &x);
    napi_set_named_property(env, obj, name, x);
}

napi_value error_value(napi_env env, idaas_code code, const idaas_error *err) {
    napi_value props, msg, v, inst = NULL;
    napi_create_object(env, &props);
    set_u32(env, props, "codeNumber", (uint32_t)code);
    set_u32(env, props, "classNumber", (uint32_t)idaas_code_class((uint32_t)code));
    napi_create_string_utf8(env, err ? idaas_error_kind_name(err) : idaas_code_name((uint32_t)code), NAPI_AUTO_LENGTH,
                            &v);
    napi_set_named_property(env, props, "kind", v);
    set_u32(env, props, "httpStatus", err ? idaas_error_http_status(err) : 0);
    napi_set_named_property(env, props, "serverCode", string_or_null(env, err ? idaas_error_server_code(err) : NULL));
    napi_set_named_property(env, props, "requestId", string_or_null(env, err ? idaas_error_request_id(err) : NULL));
    napi_get_boolean(env, err ? idaas_error_is_retryable(err) : false, &v);
    napi_set_named_property(env, props, "retryable", v);
    const char *m = err ? idaas_error_message(err) : "";
    if (!*m) m = idaas_code_name((uint32_t)code);
    napi_create_string_utf8(env, m, NAPI_AUTO_LENGTH, &msg);

    addon_state *st = addon_state_of(env);
    napi_value factory, undef;
    if (st && st->error_factory && napi_get_reference_value(env, st->error_factory, &factory) == napi_ok && factory) {
        napi_value args[2] = {msg, props};
        napi_get_undefined(env, &undef);
        if (napi_call_function(env, undef, factory, 2, args, &inst) == napi_ok && inst) return inst;
        take_exception(env); /* a broken factory: fall back to a plain Error below */
    }
    napi_create_error(env, NULL, msg, &inst);
    return inst;
}

void throw_idaas(napi_env env, idaas_code code, idaas_error *err) {
    napi_throw(env, error_value(env, code, err));
    idaas_error_free(err);
}
