/*
 * client.c - the client and its providers.
 *
 * The synchronous token read is the hot path. It uses the ABI's version-aware read: the client
 * handle (default scope) and a provider handle keep the JS string of the last token with its
 * version, and while the library says that version is current nothing is copied and the same
 * (immutable) JS string is returned. Other reads copy the token into a stack buffer, make the JS
 * string and wipe the buffer.
 */
#include "addon.h"

#include <stdlib.h>

/* ---- Promise-returning calls ------------------------------------------------------------------ */

static void exec_client_get_token(call *c) {
    c->code = idaas_client_get_token(c->h->ptr, c->s[0], &c->out, &c->err);
}

static void exec_client_exchange(call *c) {
    c->code = idaas_client_exchange_token(c->h->ptr, c->s[0], c->s[1], c->s[2], c->s[3], &c->out, &c->err);
}

static void exec_provider_get_token(call *c) {
    c->code = idaas_provider_get_token(c->h->ptr, &c->out, &c->err);
}

static void exec_xprovider_exchange(call *c) {
    c->code = idaas_exchange_provider_exchange(c->h->ptr, c->s[0], c->s[1], c->s[2], &c->out, &c->err);
}

const op_desc CLIENT_OPS[] = {
    {"clientGetToken", K_CLIENT, 1, 1u, {"scope"}, R_STRING, exec_client_get_token},
    {"clientExchangeToken", K_CLIENT, 4, 4u | 8u,
     {"subjectToken", "subjectTokenType", "requestedTokenType", "scope"}, R_STRING, exec_client_exchange},
    {"providerGetToken", K_PROVIDER, 0, 0, {0}, R_STRING, exec_provider_get_token},
    {"exchangeProviderExchange", K_XPROVIDER, 3, 4u, {"subjectToken", "subjectTokenType", "requestedTokenType"},
     R_STRING, exec_xprovider_exchange},
};
const size_t CLIENT_OPS_LEN = sizeof CLIENT_OPS / sizeof CLIENT_OPS[0];

/* ---- the synchronous read --------------------------------------------------------------------- */

/* The token of client h (scope: NULL = default) or provider h; `memo`: use and update h's memo. */
static napi_value token_sync(napi_env env, handle *h, const char *scope, bool memo) {
    char stackbuf[4096]; /* typical tokens fit: no malloc */
    char *buf = stackbuf;
    size_t cap = sizeof stackbuf, len = 0;
    uint64_t version = memo ? h->memo_version : 0;
    idaas_error *err = NULL;
    idaas_code rc;
    for (;;) {
        rc = h->kind == K_CLIENT ? idaas_client_get_token_versioned(h->ptr, scope, &version, buf, cap, &len, &err)
                                 : idaas_provider_get_token_versioned(h->ptr, &version, buf, cap, &len, &err);
        if (rc != IDAAS_CODE_BUFFER_TOO_SMALL || buf != stackbuf) break;
        idaas_error_free(err);
        err = NULL;
        cap = len;
        buf = malloc(cap);
        if (!buf) {
            throw_oom(env);
            return NULL;
        }
    }
    napi_value v = NULL;
    if (rc != IDAAS_CODE_OK) {
        throw_idaas(env, rc, err);
    } else if (memo && len == 0 && h->memo_ref) {
        /* the memo is current (len 0 only ever means "your copy is current") */
        if (napi_get_reference_value(env, h->memo_ref, &v) != napi_ok || !v) throw_napi(env, "napi_get_reference_value");
    } else {
        v = token_string(env, buf, len);
        if (memo && v && version != 0) {
            handle_memo_clear(env, h);
            if (napi_create_reference(env, v, 1, &h->memo_ref) == napi_ok) h->memo_version = version;
            else h->memo_ref = NULL;
        }
        idaas_buffer_wipe(buf, len);
    }
    if (buf != stackbuf) free(buf);
    return v;
}

/* clientGetTokenSync(client, scope|null) -> string */
static napi_value js_client_get_token_sync(napi_env env, napi_callback_info info) {
    size_t argc = 2;
    napi_value argv[2];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    handle *h = NULL;
    if (!handle_get(env, argv[0], K_CLIENT, false, &h)) return NULL;
    if (argc < 2 || is_nullish(env, argv[1])) return token_sync(env, h, NULL, true);
    char *scope = NULL;
    if (!arg_string(env, argv[1], false, "scope", &scope)) return NULL;
    napi_value v = token_sync(env, h, scope, false);
    free(scope);
    return v;
}

/* providerGetTokenSync(provider) -> string */
static napi_value js_provider_get_token_sync(napi_env env, napi_callback_info info) {
    size_t argc = 1;
    napi_value argv[1];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    handle *h = NULL;
    if (!handle_get(env, argv[0], K_PROVIDER, false, &h)) return NULL;
    return token_sync(env, h, NULL, true);
}

/* ---- providers -------------------------------------------------------------------------------- */

/* clientGetProvider(client, scope|null, exchange bool) -> provider / exchange provider handle */
static napi_value js_client_get_provider(napi_env env, napi_callback_info info) {
    size_t argc = 3;
    napi_value argv[3];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    handle *h = NULL;
    char *scope = NULL;
    bool exchange = false;
    if (argc < 3) {
        throw_type(env, "ERR_INVALID_ARG_TYPE", "clientGetProvider(client, scope, exchange)");
        return NULL;
    }
    if (!handle_get(env, argv[0], K_CLIENT, false, &h) || !arg_string(env, argv[1], true, "scope", &scope)) return NULL;
    napi_get_value_bool(env, argv[2], &exchange);
    idaas_error *err = NULL;
    idaas_code rc;
    void *out = NULL;
    if (exchange) {
        idaas_exchange_provider *x = NULL;
        rc = idaas_client_get_exchange_provider(h->ptr, scope, &x, &err);
        out = x;
    } else {
        idaas_provider *p = NULL;
        rc = idaas_client_get_provider(h->ptr, scope, &p, &err);
        out = p;
    }
    free(scope);
    if (rc != IDAAS_CODE_OK) {
        throw_idaas(env, rc, err);
        return NULL;
    }
    return handle_wrap(env, exchange ? K_XPROVIDER : K_PROVIDER, out);
}

/* providerNewStatic(accessToken, expiresAtEpochSecs) -> provider handle */
static napi_value js_provider_new_static(napi_env env, napi_callback_info info) {
    size_t argc = 2;
    napi_value argv[2];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    char *token = NULL;
    napi_value undef;
    napi_get_undefined(env, &undef);
    if (!arg_string(env, argc ? argv[0] : undef, false, "accessToken", &token)) return NULL;
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
    return handle_wrap(env, K_PROVIDER, p);
}

/* providerFromCredential(credentialJson) -> provider handle */
static napi_value js_provider_from_credential(napi_env env, napi_callback_info info) {
    size_t argc = 1;
    napi_value argv[1];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    char *json = NULL;
    napi_value undef;
    napi_get_undefined(env, &undef);
    if (!arg_string(env, argc ? argv[0] : undef, false, "credential", &json)) return NULL;
    idaas_provider *p = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_provider_new_from_credential_json(json, &p, &err);
    secure_free(json);
    if (rc != IDAAS_CODE_OK) {
        throw_idaas(env, rc, err);
        return NULL;
    }
    return handle_wrap(env, K_PROVIDER, p);
}

const export_fn CLIENT_EXPORTS[] = {
    {"clientGetTokenSync", js_client_get_token_sync, NULL},
    {"providerGetTokenSync", js_provider_get_token_sync, NULL},
    {"clientGetProvider", js_client_get_provider, NULL},
    {"providerNewStatic", js_provider_new_static, NULL},
    {"providerFromCredential", js_provider_from_credential, NULL},
};
const size_t CLIENT_EXPORTS_LEN = sizeof CLIENT_EXPORTS / sizeof CLIENT_EXPORTS[0];
