/*
 * config.c - configurations, `init` and client creation.
 *
 * `init(path?, options)` is the quick start: the lookup of idaas_init (explicit path, else
 * CLOUD_IDAAS_CONFIG_PATH, else ~/.cloud_idaas/client-config.json) and a client, off the JS thread.
 * It calls idaas_config_load + idaas_client_new rather than idaas_init because idaas_init takes no
 * options, and the binding names itself in the User-Agent (userAgentSuffix) like every other
 * client it makes; idaas_init is exactly those two calls without options.
 *
 * The advanced path keeps the configuration as a handle: plugins and a logger are added to it
 * (plugin.c, logger.c) and clients made from it (synchronously: idaas_client_new does no network
 * I/O without `prefetch`, which the binding does not use). A config handle is only ever used on
 * the JS thread, so its mutating functions never race with another call on it (ABI rule).
 */
#include "addon.h"

#include <stdlib.h>

static void exec_init(call *c) {
    idaas_config *cfg = NULL;
    idaas_client *client = NULL;
    c->code = idaas_config_load(c->s[0], &cfg, &c->err);
    if (c->code == IDAAS_CODE_OK) c->code = idaas_client_new(cfg, c->s[1], &client, &c->err);
    idaas_config_free(cfg);
    c->new_ptr = client;
}

const op_desc CONFIG_OPS[] = {
    {"init", 0, 2, 1u | 2u, {"configPath", "options"}, R_CLIENT, exec_init},
};
const size_t CONFIG_OPS_LEN = sizeof CONFIG_OPS / sizeof CONFIG_OPS[0];

/* configLoad(path|null) -> config handle */
static napi_value js_config_load(napi_env env, napi_callback_info info) {
    size_t argc = 1;
    napi_value argv[1];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    char *path = NULL;
    if (argc && !arg_string(env, argv[0], true, "configPath", &path)) return NULL;
    idaas_config *cfg = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_config_load(path, &cfg, &err);
    free(path);
    if (rc != IDAAS_CODE_OK) {
        throw_idaas(env, rc, err);
        return NULL;
    }
    return handle_wrap(env, K_CONFIG, cfg);
}

/* configFromJson(text) -> config handle */
static napi_value js_config_from_json(napi_env env, napi_callback_info info) {
    size_t argc = 1;
    napi_value argv[1];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    char *json = NULL;
    napi_value undef;
    napi_get_undefined(env, &undef);
    if (!arg_string(env, argc ? argv[0] : undef, false, "config", &json)) return NULL;
    idaas_config *cfg = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_config_from_json(json, &cfg, &err);
    secure_free(json); /* a config may carry a secret (e.g. a private key in line) */
    if (rc != IDAAS_CODE_OK) {
        throw_idaas(env, rc, err);
        return NULL;
    }
    return handle_wrap(env, K_CONFIG, cfg);
}

/* configAddPlugin(config, name, dispatch, timeoutMs) */
static napi_value js_config_add_plugin(napi_env env, napi_callback_info info) {
    size_t argc = 4;
    napi_value argv[4];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    handle *h = NULL;
    char *name = NULL;
    uint32_t timeout_ms = 0;
    if (argc < 4) {
        throw_type(env, "ERR_INVALID_ARG_TYPE", "configAddPlugin(config, name, dispatch, timeoutMs)");
        return NULL;
    }
    if (!handle_get(env, argv[0], K_CONFIG, false, &h) || !arg_string(env, argv[1], false, "name", &name)) return NULL;
    if (napi_get_value_uint32(env, argv[3], &timeout_ms) != napi_ok || timeout_ms == 0) {
        free(name);
        throw_type(env, "ERR_INVALID_ARG_VALUE", "timeoutMs must be a positive integer");
        return NULL;
    }
    plugin_add(env, h->ptr, name, argv[2], timeout_ms);
    free(name);
    return NULL;
}

/* configSetLogger(config, fn|null, maxLevel) */
static napi_value js_config_set_logger(napi_env env, napi_callback_info info) {
    size_t argc = 3;
    napi_value argv[3];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    handle *h = NULL;
    uint32_t level = 0;
    if (argc < 3) {
        throw_type(env, "ERR_INVALID_ARG_TYPE", "configSetLogger(config, fn, maxLevel)");
        return NULL;
    }
    if (!handle_get(env, argv[0], K_CONFIG, false, &h)) return NULL;
    napi_get_value_uint32(env, argv[2], &level);
    logger_set_on_config(env, h->ptr, argv[1], level);
    return NULL;
}

/* clientNew(config, optionsJson|null) -> client handle */
static napi_value js_client_new(napi_env env, napi_callback_info info) {
    size_t argc = 2;
    napi_value argv[2];
    NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    handle *h = NULL;
    char *opts = NULL;
    if (argc < 2) {
        throw_type(env, "ERR_INVALID_ARG_TYPE", "clientNew(config, options)");
        return NULL;
    }
    if (!handle_get(env, argv[0], K_CONFIG, false, &h) || !arg_string(env, argv[1], true, "options", &opts)) return NULL;
    idaas_client *client = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_client_new(h->ptr, opts, &client, &err);
    free(opts);
    if (rc != IDAAS_CODE_OK) {
        throw_idaas(env, rc, err);
        return NULL;
    }
    return handle_wrap(env, K_CLIENT, client);
}

const export_fn CONFIG_EXPORTS[] = {
    {"configLoad", js_config_load, NULL},
    {"configFromJson", js_config_from_json, NULL},
    {"configAddPlugin", js_config_add_plugin, NULL},
    {"configSetLogger", js_config_set_logger, NULL},
    {"clientNew", js_client_new, NULL},
};
const size_t CONFIG_EXPORTS_LEN = sizeof CONFIG_EXPORTS / sizeof CONFIG_EXPORTS[0];
