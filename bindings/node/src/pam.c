/*
 * pam.c - the PAM client (IDaaS Developer API), the 3LO poll and its cancel token.
 */
#include "addon.h"

#include <stdlib.h>
#include <string.h>

/* ---- Promise-returning calls ------------------------------------------------------------------ */

#define PAM(c) ((const idaas_pam *)(c)->h->ptr)

static void exec_get_api_key(call *c) {
    c->code = idaas_pam_get_api_key(PAM(c), c->s[0], &c->out, &c->err);
}
static void exec_fetch_v1(call *c) {
    c->code = idaas_pam_fetch_oauth_token(PAM(c), c->s[0], c->s[1], &c->out, &c->err);
}
static void exec_fetch_v2(call *c) {
    c->code = idaas_pam_fetch_oauth_token_v2(PAM(c), c->s[0], c->s[1], c->s[2], &c->out, &c->err);
}
static void exec_get_session(call *c) {
    c->code = idaas_pam_get_oauth_session(PAM(c), c->s[0], &c->out, &c->err);
}
static void exec_generate_jwt(call *c) {
    c->code = idaas_pam_generate_jwt(PAM(c), c->s[0], c->s[1], c->s[2], c->s[3], &c->out, &c->err);
}
static void exec_obtain_jwt(call *c) {
    c->code = idaas_pam_obtain_jwt(PAM(c), c->s[0], c->s[1], &c->out, &c->err);
}
static void exec_obtain_jwt_by_short(call *c) {
    c->code = idaas_pam_obtain_jwt_by_short_token(PAM(c), c->s[0], &c->out, &c->err);
}
static void exec_list(call *c) {
    c->code = idaas_pam_list_tokens(PAM(c), c->s[0], c->s[1], c->s[2], &c->out, &c->err);
}
static void exec_validate(call *c) {
    c->code = idaas_pam_validate_token(PAM(c), c->s[0], c->s[1], &c->active, &c->err);
}
static void exec_revoke(call *c) {
    c->code = idaas_pam_revoke_token(PAM(c), c->s[0], c->s[1], &c->err);
}
static void exec_revoke_by_consumer(call *c) {
    c->code = idaas_pam_revoke_tokens_by_consumer(PAM(c), c->s[0], c->s[1], &c->err);
}
static void exec_reinstate(call *c) {
    c->code = idaas_pam_reinstate_token(PAM(c), c->s[0], c->s[1], &c->err);
}
static void exec_reinstate_by_consumer(call *c) {
    c->code = idaas_pam_reinstate_tokens_by_consumer(PAM(c), c->s[0], c->s[1], &c->err);
}

const op_desc PAM_OPS[] = {
    {"pamGetApiKey", K_PAM, 1, 0, {"credentialIdentifier"}, R_STRING, exec_get_api_key},
    {"pamFetchOAuthToken", K_PAM, 2, 2u, {"credentialProviderIdentifier", "scope"}, R_STRING, exec_fetch_v1},
    {"pamFetchOAuthTokenV2", K_PAM, 3, 4u, {"credentialProviderIdentifier", "authorizationFlow", "options"}, R_STRING,
     exec_fetch_v2},
    {"pamGetOAuthSession", K_PAM, 1, 0, {"sessionUri"}, R_STRING, exec_get_session},
    {"pamGenerateJwt", K_PAM, 4, 8u, {"credentialProviderIdentifier", "subject", "audiences", "options"}, R_STRING,
     exec_generate_jwt},
    {"pamObtainJwt", K_PAM, 2, 0, {"consumerId", "authenticationTokenId"}, R_STRING, exec_obtain_jwt},
    {"pamObtainJwtByShortToken", K_PAM, 1, 0, {"derivedShortToken"}, R_STRING, exec_obtain_jwt_by_short},
    {"pamListTokens", K_PAM, 3, 4u, {"consumerId", "credentialProviderIdentifier", "options"}, R_STRING, exec_list},
    {"pamValidateToken", K_PAM, 2, 2u, {"token", "tokenTypeHint"}, R_BOOL, exec_validate},
    {"pamRevokeToken", K_PAM, 2, 2u, {"token", "tokenTypeHint"}, R_VOID, exec_revoke},
    {"pamRevokeTokensByConsumer", K_PAM, 2, 0, {"consumerId", "credentialProviderIdentifier"}, R_VOID,
     exec_revoke_by_consumer},
    {"pamReinstateToken", K_PAM, 2, 2u, {"token", "tokenTypeHint"}, R_VOID, exec_reinstate},
    {"pamReinstateTokensByConsumer", K_PAM, 2, 0, {"consumerId", "credentialProviderIdentifier"}, R_VOID,
     exec_reinstate_by_consumer},
};
const size_t PAM_OPS_LEN = sizeof PAM_OPS / sizeof PAM_OPS[0];

/* ---- the 3LO poll ----------------------------------------------------------------------------- */

/* call_js of the authorization-URL callback: data is a malloc'ed copy of the URL. */
static void on_url_js(napi_env env, napi_value js_cb, void *context, void *data) {
    (void)context;
    char *url = data;
    if (env && js_cb) {
        napi_value undef, arg;
        napi_get_undefined(env, &undef);
        napi_create_string_utf8(env, url, NAPI_AUTO_LENGTH, &arg);
        if (napi_call_function(env, undef, js_cb, 1, &arg, NULL) == napi_pending_exception) {
            /* index.js catches the user's exceptions; anything else is a bug: report it */
            napi_value exc = take_exception(env);
            if (exc) napi_fatal_exception(env, exc);
        }
    }
    free(url);
}

/* The idaas_url_callback, on the poll's executor thread: hand the URL to the JS thread and keep
 * polling (the JS side aborts through the cancel token, see index.js). */
static int32_t on_url(const char *url, void *user_data) {
    call *c = user_data;
    if (!c->on_url) return 0;
    char *copy = strdup(url ? url : "");
    if (copy && !jscb_call(c->on_url, copy)) free(copy);
    return 0;
}

static void exec_poll(call *c) {
    c->code = idaas_pam_poll_oauth_token(PAM(c), c->s[0], c->s[1], on_url, c, c->cancel ? c->cancel->ptr : NULL,
                                         &c->out, &c->err);
}

static const op_desc POLL_OP = {"pamPollOAuthToken", K_PAM, 2, 2u, {"credentialProviderIdentifier", "options"},
                                R_STRING, exec_poll};

/* pamPollOAuthToken(pam, id, optionsJson|null, onUrl|null, cancel|null, callId) */
static napi_value js_poll(napi_env env, napi_callback_info info) {
    size_t argc = 6;
    napi_value argv[6], undef;
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    napi_get_undefined(env, &undef);
    for (size_t i = argc; i < 6; i++) argv[i] = undef;
    handle *cancel = NULL;
    if (!handle_get(env, argv[4], K_CANCEL, true, &cancel)) return NULL;
    napi_valuetype t;
    napi_typeof(env, argv[3], &t);
    if (t != napi_function && t != napi_undefined && t != napi_null) {
        throw_type(env, "ERR_INVALID_ARG_TYPE", "onAuthorizationUrl must be a function");
        return NULL;
    }
    napi_value args[4] = {argv[0], argv[1], argv[2], argv[5]}; /* (pam, id, options, callId) */
    call *c = call_new(env, &POLL_OP, 4, args);
    if (!c) return NULL;
    c->cancel = cancel;
    if (t == napi_function) {
        c->on_url = jscb_new(env, argv[3], "idaas.onAuthorizationUrl", on_url_js, NULL);
        if (!c->on_url) {
            call_free(c);
            return NULL;
        }
    }
    call_start(env, c);
    return NULL;
}

/* ---- sync functions --------------------------------------------------------------------------- */

/* pamNew(client, provider|null, optionsJson|null) -> PAM handle */
static napi_value js_pam_new(napi_env env, napi_callback_info info) {
    size_t argc = 3;
    napi_value argv[3];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc < 3) {
        throw_type(env, "ERR_INVALID_ARG_TYPE", "pamNew(client, provider, options)");
        return NULL;
    }
    handle *client = NULL, *provider = NULL;
    char *opts = NULL;
    if (!handle_get(env, argv[0], K_CLIENT, false, &client) || !handle_get(env, argv[1], K_PROVIDER, true, &provider) ||
        !arg_string(env, argv[2], true, "options", &opts))
        return NULL;
    idaas_pam *pam = NULL;
    idaas_error *err = NULL;
    idaas_code rc = provider ? idaas_pam_new_with_provider(client->ptr, provider->ptr, opts, &pam, &err)
                             : idaas_pam_new(client->ptr, opts, &pam, &err);
    free(opts);
    if (rc != IDAAS_CODE_OK) {
        throw_idaas(env, rc, err);
        return NULL;
    }
    return handle_wrap(env, K_PAM, pam);
}

/* pamInvalidateApiKey(pam, id|null) */
static napi_value js_pam_invalidate(napi_env env, napi_callback_info info) {
    size_t argc = 2;
    napi_value argv[2];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    handle *h = NULL;
    char *id = NULL;
    if (argc < 2) {
        throw_type(env, "ERR_INVALID_ARG_TYPE", "pamInvalidateApiKey(pam, id)");
        return NULL;
    }
    if (!handle_get(env, argv[0], K_PAM, false, &h) || !arg_string(env, argv[1], true, "credentialIdentifier", &id))
        return NULL;
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
    return handle_wrap(env, K_CANCEL, c);
}

/* cancelCancel(cancel): a no-op on a closed token (the poll it served has ended) */
static napi_value js_cancel_cancel(napi_env env, napi_callback_info info) {
    size_t argc = 1;
    napi_value argv[1];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    handle *h = NULL;
    if (argc < 1 || napi_unwrap(env, argv[0], (void **)&h) != napi_ok || !h || h->kind != K_CANCEL) {
        throw_type(env, "ERR_INVALID_ARG_TYPE", "expected a cancel token handle");
        return NULL;
    }
    if (!h->closed) idaas_cancel_cancel(h->ptr);
    return NULL;
}

const export_fn PAM_EXPORTS[] = {
    {"pamNew", js_pam_new, NULL},
    {"pamInvalidateApiKey", js_pam_invalidate, NULL},
    {"pamPollOAuthToken", js_poll, NULL},
    {"cancelNew", js_cancel_new, NULL},
    {"cancelCancel", js_cancel_cancel, NULL},
};
const size_t PAM_EXPORTS_LEN = sizeof PAM_EXPORTS / sizeof PAM_EXPORTS[0];
