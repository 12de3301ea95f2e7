/*
 * strings.c - JS strings into C strings and back.
 *
 * Arguments are copied to NUL-terminated UTF-8 for the ABI; a JS string holding a NUL is refused
 * (the C string would silently end there). Copies that may hold a secret (tokens, credentials) are
 * wiped with idaas_buffer_wipe before they are freed.
 */
#include "addon.h"

#include <stdlib.h>
#include <string.h>

void secure_free(char *s) {
    if (!s) return;
    idaas_buffer_wipe(s, strlen(s));
    free(s);
}

bool is_nullish(napi_env env, napi_value v) {
    napi_valuetype t;
    return napi_typeof(env, v, &t) == napi_ok && (t == napi_undefined || t == napi_null);
}

bool arg_string(napi_env env, napi_value v, bool nullable, const char *name, char **out) {
    *out = NULL;
    napi_valuetype t;
    if (napi_typeof(env, v, &t) != napi_ok) {
        throw_napi(env, "napi_typeof");
        return false;
    }
    if (nullable && (t == napi_undefined || t == napi_null)) return true;
    if (t != napi_string) {
        throw_type(env, "ERR_INVALID_ARG_TYPE", "%s must be a string%s", name, nullable ? " (or null/undefined)" : "");
        return false;
    }
    size_t len = 0;
    if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
        throw_napi(env, "napi_get_value_string_utf8");
        return false;
    }
    char *buf = malloc(len + 1);
    if (!buf) {
        throw_oom(env);
        return false;
    }
    size_t got = 0;
    napi_get_value_string_utf8(env, v, buf, len + 1, &got);
    if (strlen(buf) != got) {
        secure_free(buf);
        throw_type(env, "ERR_INVALID_ARG_VALUE", "%s must not contain NUL characters", name);
        return false;
    }
    *out = buf;
    return true;
}

napi_value string_or_null(napi_env env, const char *s) {
    napi_value v;
    if (s) napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
    else napi_get_null(env, &v);
    return v;
}

napi_value token_string(napi_env env, const char *buf, size_t len) {
    /* Tokens are ASCII (RFC 6750 b64token), for which latin1 is a plain copy: cheaper than the UTF-8
     * decoder, which stays the fallback for anything else. */
    napi_value v = NULL;
    size_t i = 0;
    while (i < len && (unsigned char)buf[i] < 0x80) i++;
    if (i == len) napi_create_string_latin1(env, buf, len, &v);
    else napi_create_string_utf8(env, buf, len, &v);
    return v;
}
