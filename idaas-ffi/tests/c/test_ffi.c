/*
 * Tests of every exported function of the idaas C ABI (include/idaas.h), including their error paths.
 * They double as examples of the ownership rules: every handle is freed, every returned string goes
 * through idaas_string_free, every error through idaas_error_free. Run by `make c-test`, and under
 * valgrind / ASan by `make c-test-valgrind` / `make c-test-asan` (leaks fail those runs).
 *
 * Offline part: argument errors, errors, strings, cancel, logger, config, PLUGIN clients (a token
 * source without a server), providers, threads. Emulator part (IDAAS_EMULATOR_BIN): token endpoint,
 * token exchange, server errors via the emulator's fault API, and every PAM operation.
 */
#include <pthread.h>
#include <stdint.h>

#include "harness.h"

#ifndef IDAAS_EXPECTED_VERSION
#define IDAAS_EXPECTED_VERSION NULL
#endif

static int g_slow = 0; /* under valgrind: fewer iterations */
static char g_tmpdir[256];

/* ---- offline fixtures ------------------------------------------------------------------------ */

#define PLUGIN_NAME "c-test-plugin"
#define TOKEN_LEN 1100

static char g_plugin_token[TOKEN_LEN + 1];
static long g_plugin_calls = 0;

/* The PLUGIN callback: a 1,100-byte token for the default scope, "scoped-<scope>" otherwise, and a
 * failure for scopes containing "fail". */
static int32_t test_plugin(void *user_data, const char *scope, idaas_plugin_result *result) {
    long *calls = (long *)user_data;
    __atomic_fetch_add(calls, 1, __ATOMIC_RELAXED);
    if (strstr(scope, "fail") != NULL) {
        idaas_plugin_result_set_error(result, "the test plugin refuses scopes containing 'fail'", NULL);
        return 7;
    }
    if (strstr(scope, "silent") != NULL) {
        return 0; /* success without a token: an error */
    }
    if (strcmp(scope, "urn:cloud:idaas:pam|.all") == 0) {
        return (int32_t)idaas_plugin_result_set_token(result, g_plugin_token, 3600, NULL);
    }
    if (strstr(scope, "nocache") != NULL) {
        /* no lifetime: not cached, a new token (and version) on every call */
        char t[64];
        snprintf(t, sizeof t, "nocache-%ld", __atomic_load_n(calls, __ATOMIC_RELAXED));
        return (int32_t)idaas_plugin_result_set_token(result, t, 0, NULL);
    }
    char buf[512];
    snprintf(buf, sizeof buf, "scoped-%s", scope);
    return (int32_t)idaas_plugin_result_set_token(result, buf, 3600, NULL);
}

/* Writes a PLUGIN config for `plugin_name` into `buf`. */
static const char *plugin_config_into(char *buf, size_t cap, const char *plugin_name) {
    snprintf(buf, cap,
             "{\"idaasInstanceId\":\"idaas_test\",\"clientId\":\"app_test\","
             "\"issuer\":\"http://127.0.0.1:9/api/v2/iauths_system/oauth2\","
             "\"tokenEndpoint\":\"http://127.0.0.1:9/api/v2/iauths_system/oauth2/token\","
             "\"authnConfiguration\":{\"authnMethod\":\"PLUGIN\",\"pluginName\":\"%s\"}}",
             plugin_name);
    return buf;
}

static char g_plugin_config[1024]; /* the config of PLUGIN_NAME, set up in main() */

static const char *plugin_config_json(const char *plugin_name) {
    if (strcmp(plugin_name, PLUGIN_NAME) == 0) return g_plugin_config;
    static char other[1024]; /* single-threaded callers only */
    return plugin_config_into(other, sizeof other, plugin_name);
}

static idaas_client *new_plugin_client(void) {
    idaas_client *client = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_client_new_from_json(plugin_config_json(PLUGIN_NAME), NULL, &client, &err);
    if (rc != IDAAS_CODE_OK) {
        fprintf(stderr, "new_plugin_client: %s\n", idaas_error_message(err));
        idaas_error_free(err);
        return NULL;
    }
    return client;
}

/* ---- basics ------------------------------------------------------------------------------------ */

static void test_version_and_codes(void) {
    const char *v = idaas_version();
    CHECK(v != NULL && strlen(v) >= 5);
    if (IDAAS_EXPECTED_VERSION != NULL) CHECK_STR_EQ(v, IDAAS_EXPECTED_VERSION);
    CHECK_STR_EQ(idaas_code_name(IDAAS_CODE_OK), "ok");
    CHECK_STR_EQ(idaas_code_name(IDAAS_CODE_AUTH), "auth");
    CHECK_STR_EQ(idaas_code_name(IDAAS_CODE_TIMEOUT), "timeout");
    CHECK_STR_EQ(idaas_code_name(IDAAS_CODE_PANIC), "panic");
    CHECK_STR_EQ(idaas_code_name(12345), "unknown");
    /* the values are part of the ABI */
    CHECK(IDAAS_CODE_NULL_ARGUMENT == 100 && IDAAS_CODE_INVALID_UTF8 == 101);
    CHECK(IDAAS_CODE_INVALID_ARGUMENT == 102 && IDAAS_CODE_BUFFER_TOO_SMALL == 103);
    CHECK(IDAAS_CODE_REENTRANT_CALL == 104);
    CHECK_STR_EQ(idaas_code_name(IDAAS_CODE_REENTRANT_CALL), "reentrant_call");
    CHECK(IDAAS_CODE_CONFIG == 200 && IDAAS_CODE_CREDENTIAL == 300 && IDAAS_CODE_AUTH == 301);
    CHECK(IDAAS_CODE_CLIENT_ERROR == 400 && IDAAS_CODE_SERVER_ERROR == 401);
    CHECK(IDAAS_CODE_UNEXPECTED_RESPONSE == 402 && IDAAS_CODE_TRANSPORT == 500);
    CHECK(IDAAS_CODE_TIMEOUT == 501 && IDAAS_CODE_CANCELLED == 600 && IDAAS_CODE_INTERNAL == 900);
    CHECK(IDAAS_CODE_PANIC == 901 && IDAAS_CODE_UNSUPPORTED == 902);
}

static void test_error_accessors_null(void) {
    CHECK(idaas_error_code(NULL) == IDAAS_CODE_OK);
    CHECK_STR_EQ(idaas_error_message(NULL), "");
    CHECK(idaas_error_http_status(NULL) == 0);
    CHECK(idaas_error_server_code(NULL) == NULL);
    CHECK(idaas_error_request_id(NULL) == NULL);
    CHECK_STR_EQ(idaas_error_kind_name(NULL), "ok");
    idaas_error_free(NULL);
    idaas_string_free(NULL);
    idaas_secure_zero(NULL, 0);
    PASS();
}

static void test_panic(void) {
    idaas_error *err = NULL;
    idaas_code rc = idaas_debug_panic(&err);
    CHECK(rc == IDAAS_CODE_PANIC);
    CHECK(idaas_error_code(err) == IDAAS_CODE_PANIC);
    CHECK_STR_EQ(idaas_error_kind_name(err), "panic");
    CHECK_CONTAINS(idaas_error_message(err), "idaas_debug_panic");
    CHECK(idaas_error_http_status(err) == 0);
    CHECK(idaas_error_server_code(err) == NULL);
    idaas_error_free(err);
    /* err_out may be NULL: only the code */
    CHECK(idaas_debug_panic(NULL) == IDAAS_CODE_PANIC);
    /* the library still works after a caught panic */
    CHECK(idaas_version() != NULL);
}

static void test_strings(void) {
    char buf[16];
    memset(buf, 'x', sizeof buf);
    idaas_secure_zero(buf, sizeof buf);
    int zero = 1;
    for (size_t i = 0; i < sizeof buf; i++) zero &= buf[i] == 0;
    CHECK(zero);
}

static void test_cancel(void) {
    idaas_cancel *c = NULL;
    idaas_error *err = NULL;
    CHECK_CODE(idaas_cancel_new(&c, &err), err, IDAAS_CODE_OK);
    CHECK(err == NULL);
    CHECK(c != NULL);
    CHECK(!idaas_cancel_is_cancelled(c));
    idaas_cancel_cancel(c);
    CHECK(idaas_cancel_is_cancelled(c));
    idaas_cancel_cancel(c); /* idempotent */
    CHECK(idaas_cancel_is_cancelled(c));
    idaas_cancel_free(c);
    idaas_cancel_cancel(NULL);
    CHECK(!idaas_cancel_is_cancelled(NULL));
    idaas_cancel_free(NULL);
    EXPECT_ERR(idaas_cancel_new(NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "cancel_out");
}

/* ---- logging ------------------------------------------------------------------------------------ */

typedef struct {
    long records;
    long warnings;
    char last_target[128];
} log_sink;

static void test_logger_cb(uint32_t level, const char *target, const char *message, void *user_data) {
    log_sink *s = (log_sink *)user_data;
    s->records++;
    if (level == IDAAS_LOG_LEVEL_WARN) s->warnings++;
    snprintf(s->last_target, sizeof s->last_target, "%s", target);
    (void)message;
}

static void test_logger(void) {
    static log_sink sink;
    memset(&sink, 0, sizeof sink);
    EXPECT_ERR(idaas_set_logger(test_logger_cb, &sink, 6, ERR), IDAAS_CODE_INVALID_ARGUMENT, "max_level");
    idaas_error *err = NULL;
    CHECK_CODE(idaas_set_logger(test_logger_cb, &sink, IDAAS_LOG_LEVEL_DEBUG, &err), err, IDAAS_CODE_OK);
    CHECK(err == NULL);

    /* A config file writable by others makes the library log a warning. */
    char path[320];
    snprintf(path, sizeof path, "%s/world-writable.json", g_tmpdir);
    CHECK(write_file(path, plugin_config_json(PLUGIN_NAME)) == 0);
    chmod(path, 0666);
    idaas_config *cfg = NULL;
    CHECK_CODE(idaas_config_from_file(path, &cfg, &err), err, IDAAS_CODE_OK);
    idaas_config_free(cfg);
    CHECK(sink.warnings >= 1);
    CHECK_CONTAINS(sink.last_target, "idaas");

    /* removed: nothing more is delivered */
    CHECK_CODE(idaas_set_logger(NULL, NULL, IDAAS_LOG_LEVEL_OFF, &err), err, IDAAS_CODE_OK);
    long before = sink.records;
    CHECK_CODE(idaas_config_from_file(path, &cfg, &err), err, IDAAS_CODE_OK);
    idaas_config_free(cfg);
    CHECK(sink.records == before);
    unlink(path);
}

/* ---- config ------------------------------------------------------------------------------------- */

static void test_config(void) {
    idaas_config *cfg = NULL;
    idaas_error *err = NULL;
    const char *good = plugin_config_json(PLUGIN_NAME);

    CHECK_CODE(idaas_config_from_json(good, &cfg, &err), err, IDAAS_CODE_OK);
    CHECK(cfg != NULL && err == NULL);
    idaas_config_free(cfg);
    idaas_config_free(NULL);

    EXPECT_ERR(idaas_config_from_json(NULL, &cfg, ERR), IDAAS_CODE_NULL_ARGUMENT, "json");
    EXPECT_ERR(idaas_config_from_json(good, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "config_out");
    EXPECT_ERR(idaas_config_from_json("{\"clientId\":\"\xff\xfe\"}", &cfg, ERR), IDAAS_CODE_INVALID_UTF8, "UTF-8");
    EXPECT_ERR(idaas_config_from_json("{not json", &cfg, ERR), IDAAS_CODE_CONFIG, NULL);
    /* a missing required key: the catalogue code is the server code */
    {
        idaas_error *e = NULL;
        CHECK(idaas_config_from_json("{\"idaasInstanceId\":\"i\",\"issuer\":\"https://x\","
                                     "\"tokenEndpoint\":\"https://x/t\",\"authnConfiguration\":{}}",
                                     &cfg, &e) == IDAAS_CODE_CONFIG);
        CHECK_STR_EQ(idaas_error_server_code(e), "ClientIdNotFound");
        CHECK_STR_EQ(idaas_error_kind_name(e), "config");
        CHECK(idaas_error_request_id(e) == NULL);
        idaas_error_free(e);
    }
    /* err_out NULL: only the code */
    CHECK(idaas_config_from_json("[]", &cfg, NULL) == IDAAS_CODE_CONFIG);

    /* files */
    char path[320];
    snprintf(path, sizeof path, "%s/client-config.json", g_tmpdir);
    CHECK(write_file(path, good) == 0);
    CHECK_CODE(idaas_config_from_file(path, &cfg, &err), err, IDAAS_CODE_OK);
    idaas_config_free(cfg);
    EXPECT_ERR(idaas_config_from_file(NULL, &cfg, ERR), IDAAS_CODE_NULL_ARGUMENT, "path");
    EXPECT_ERR(idaas_config_from_file("/nonexistent/idaas.json", &cfg, ERR), IDAAS_CODE_CONFIG, "not found");
    EXPECT_ERR(idaas_config_from_file("\xc3\x28", &cfg, ERR), IDAAS_CODE_INVALID_UTF8, NULL);
    EXPECT_ERR(idaas_config_from_file(path, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "config_out");

    /* default lookup through CLOUD_IDAAS_CONFIG_PATH */
    setenv("CLOUD_IDAAS_CONFIG_PATH", path, 1);
    CHECK_CODE(idaas_config_load_default(&cfg, &err), err, IDAAS_CODE_OK);
    idaas_config_free(cfg);
    EXPECT_ERR(idaas_config_load_default(NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, NULL);
    setenv("CLOUD_IDAAS_CONFIG_PATH", "/nonexistent/idaas-default.json", 1);
    EXPECT_ERR(idaas_config_load_default(&cfg, ERR), IDAAS_CODE_CONFIG, "LoadConfigFileFailed");
    unsetenv("CLOUD_IDAAS_CONFIG_PATH");
}

/* ---- PLUGIN clients: the token path without a server ------------------------------------------- */

static void test_plugin_registration(void) {
    EXPECT_ERR(idaas_register_plugin(NULL, test_plugin, &g_plugin_calls, ERR), IDAAS_CODE_NULL_ARGUMENT, "name");
    EXPECT_ERR(idaas_register_plugin(PLUGIN_NAME, NULL, &g_plugin_calls, ERR), IDAAS_CODE_NULL_ARGUMENT, "callback");
    EXPECT_ERR(idaas_register_plugin(" ", test_plugin, &g_plugin_calls, ERR), IDAAS_CODE_INVALID_ARGUMENT, "blank");
    EXPECT_ERR(idaas_register_plugin("\xff", test_plugin, &g_plugin_calls, ERR), IDAAS_CODE_INVALID_UTF8, NULL);
    idaas_error *err = NULL;
    CHECK_CODE(idaas_register_plugin(PLUGIN_NAME, test_plugin, &g_plugin_calls, &err), err, IDAAS_CODE_OK);
    /* the setters reject bad arguments */
    EXPECT_ERR(idaas_plugin_result_set_token(NULL, "t", 1, ERR), IDAAS_CODE_NULL_ARGUMENT, "result");
    EXPECT_ERR(idaas_plugin_result_set_error(NULL, "m", ERR), IDAAS_CODE_NULL_ARGUMENT, "result");
}

static void test_client_constructors(void) {
    idaas_client *client = NULL;
    idaas_config *cfg = NULL;
    idaas_error *err = NULL;
    const char *json = plugin_config_json(PLUGIN_NAME);

    CHECK_CODE(idaas_config_from_json(json, &cfg, &err), err, IDAAS_CODE_OK);
    CHECK_CODE(idaas_client_new(cfg, NULL, &client, &err), err, IDAAS_CODE_OK);
    idaas_config_free(cfg); /* the client does not borrow the config */
    char *token = NULL;
    CHECK_CODE(idaas_client_get_token(client, NULL, &token, &err), err, IDAAS_CODE_OK);
    CHECK(token != NULL && strlen(token) == TOKEN_LEN);
    idaas_string_free(token);
    idaas_client_free(client);
    client = NULL;
    idaas_client_free(NULL);

    CHECK_CODE(idaas_config_from_json(json, &cfg, &err), err, IDAAS_CODE_OK);
    CHECK_CODE(idaas_client_new(cfg, "{\"userAgentSuffix\":\"c-test/1.0\",\"asyncRefresh\":true,\"prefetch\":true}",
                                &client, &err), err, IDAAS_CODE_OK);
    idaas_client_free(client);
    client = NULL;
    EXPECT_ERR(idaas_client_new(cfg, "{\"userAgentSufix\":\"typo\"}", &client, ERR), IDAAS_CODE_INVALID_ARGUMENT, "userAgentSufix");
    EXPECT_ERR(idaas_client_new(cfg, "{\"prefetch\":\"yes\"}", &client, ERR), IDAAS_CODE_INVALID_ARGUMENT, "options_json");
    EXPECT_ERR(idaas_client_new(cfg, "not json", &client, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);
    EXPECT_ERR(idaas_client_new(cfg, "{}", NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "client_out");
    EXPECT_ERR(idaas_client_new(NULL, NULL, &client, ERR), IDAAS_CODE_NULL_ARGUMENT, "config");
    EXPECT_ERR(idaas_client_new(cfg, "\xff", &client, ERR), IDAAS_CODE_INVALID_UTF8, NULL);
    CHECK_CODE(idaas_client_new(cfg, "", &client, &err), err, IDAAS_CODE_OK); /* "" = defaults */
    idaas_client_free(client);
    client = NULL;
    idaas_config_free(cfg);

    /* from JSON / file / default */
    CHECK_CODE(idaas_client_new_from_json(json, "{}", &client, &err), err, IDAAS_CODE_OK);
    idaas_client_free(client);
    client = NULL;
    EXPECT_ERR(idaas_client_new_from_json(NULL, NULL, &client, ERR), IDAAS_CODE_NULL_ARGUMENT, "json");
    EXPECT_ERR(idaas_client_new_from_json("{}", NULL, &client, ERR), IDAAS_CODE_CONFIG, NULL);
    EXPECT_ERR(idaas_client_new_from_json(json, "[1]", &client, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);
    EXPECT_ERR(idaas_client_new_from_json(json, NULL, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, NULL);
    /* a plugin name nobody registered */
    EXPECT_ERR(idaas_client_new_from_json(plugin_config_json("nobody-registered-this"), NULL, &client, ERR),
               IDAAS_CODE_CONFIG, "nobody-registered-this");

    char path[320];
    snprintf(path, sizeof path, "%s/plugin-config.json", g_tmpdir);
    CHECK(write_file(path, json) == 0);
    CHECK_CODE(idaas_client_new_from_file(path, NULL, &client, &err), err, IDAAS_CODE_OK);
    idaas_client_free(client);
    client = NULL;
    EXPECT_ERR(idaas_client_new_from_file(NULL, NULL, &client, ERR), IDAAS_CODE_NULL_ARGUMENT, "path");
    EXPECT_ERR(idaas_client_new_from_file("/nonexistent.json", NULL, &client, ERR), IDAAS_CODE_CONFIG, NULL);
    EXPECT_ERR(idaas_client_new_from_file(path, "{\"x\":1}", &client, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);
    EXPECT_ERR(idaas_client_new_from_file(path, NULL, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, NULL);

    setenv("CLOUD_IDAAS_CONFIG_PATH", path, 1);
    CHECK_CODE(idaas_client_new_default(NULL, &client, &err), err, IDAAS_CODE_OK);
    idaas_client_free(client);
    client = NULL;
    CHECK_CODE(idaas_client_new_default("{\"prefetch\":true}", &client, &err), err, IDAAS_CODE_OK);
    idaas_client_free(client);
    client = NULL;
    EXPECT_ERR(idaas_client_new_default(NULL, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, NULL);
    EXPECT_ERR(idaas_client_new_default("{\"bad\":true}", &client, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);
    setenv("CLOUD_IDAAS_CONFIG_PATH", "/nonexistent/cfg.json", 1);
    EXPECT_ERR(idaas_client_new_default(NULL, &client, ERR), IDAAS_CODE_CONFIG, NULL);
    unsetenv("CLOUD_IDAAS_CONFIG_PATH");
}

static void test_client_tokens(void) {
    idaas_client *client = new_plugin_client();
    CHECK(client != NULL);
    if (!client) return;
    idaas_error *err = NULL;
    char *token = NULL;

    long calls_before = g_plugin_calls;
    CHECK_CODE(idaas_client_get_token(client, NULL, &token, &err), err, IDAAS_CODE_OK);
    CHECK_STR_EQ(token, g_plugin_token);
    idaas_string_free(token);
    CHECK_CODE(idaas_client_get_token(client, NULL, &token, &err), err, IDAAS_CODE_OK);
    idaas_string_free(token);
    CHECK(g_plugin_calls - calls_before == 1); /* cached */
    /* the configured default scope spelled out is the same provider */
    CHECK_CODE(idaas_client_get_token(client, "urn:cloud:idaas:pam|.all", &token, &err), err, IDAAS_CODE_OK);
    CHECK_STR_EQ(token, g_plugin_token);
    idaas_string_free(token);
    CHECK(g_plugin_calls - calls_before == 1);

    CHECK_CODE(idaas_client_get_token(client, "api://svc|read", &token, &err), err, IDAAS_CODE_OK);
    CHECK_STR_EQ(token, "scoped-api://svc|read");
    idaas_string_free(token);

    /* errors */
    EXPECT_ERR(idaas_client_get_token(NULL, NULL, &token, ERR), IDAAS_CODE_NULL_ARGUMENT, "client");
    EXPECT_ERR(idaas_client_get_token(client, NULL, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "token_out");
    EXPECT_ERR(idaas_client_get_token(client, "\xff", &token, ERR), IDAAS_CODE_INVALID_UTF8, "scope");
    EXPECT_ERR(idaas_client_get_token(client, "a|x b|y", &token, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);
    EXPECT_ERR(idaas_client_get_token(client, "api://fail|x", &token, ERR), IDAAS_CODE_CREDENTIAL, "refuses");
    EXPECT_ERR(idaas_client_get_token(client, "api://silent|x", &token, ERR), IDAAS_CODE_CREDENTIAL, "set_token");
    {
        idaas_error *e = NULL;
        CHECK(idaas_client_get_token(client, "api://fail|y", &token, &e) == IDAAS_CODE_CREDENTIAL);
        CHECK_STR_EQ(idaas_error_server_code(e), "PluginFailed");
        CHECK_STR_EQ(idaas_error_kind_name(e), "credential");
        idaas_error_free(e);
    }

    /* _into */
    char buf[2048];
    size_t len = 0;
    CHECK_CODE(idaas_client_get_token_into(client, NULL, buf, sizeof buf, &len, &err), err, IDAAS_CODE_OK);
    CHECK(len == TOKEN_LEN && strcmp(buf, g_plugin_token) == 0);
    len = 0;
    EXPECT_ERR(idaas_client_get_token_into(client, NULL, buf, 10, &len, ERR), IDAAS_CODE_BUFFER_TOO_SMALL, "1101");
    CHECK(len == TOKEN_LEN + 1);
    len = 0;
    CHECK(idaas_client_get_token_into(client, NULL, NULL, 0, &len, NULL) == IDAAS_CODE_BUFFER_TOO_SMALL);
    CHECK(len == TOKEN_LEN + 1);
    char *exact = (char *)malloc(len);
    CHECK_CODE(idaas_client_get_token_into(client, NULL, exact, len, &len, &err), err, IDAAS_CODE_OK);
    CHECK(len == TOKEN_LEN && exact[TOKEN_LEN] == '\0');
    idaas_secure_zero(exact, TOKEN_LEN + 1);
    free(exact);
    CHECK_CODE(idaas_client_get_token_into(client, "api://svc|write", buf, sizeof buf, &len, &err), err, IDAAS_CODE_OK);
    CHECK_STR_EQ(buf, "scoped-api://svc|write");
    EXPECT_ERR(idaas_client_get_token_into(NULL, NULL, buf, sizeof buf, &len, ERR), IDAAS_CODE_NULL_ARGUMENT, "client");
    EXPECT_ERR(idaas_client_get_token_into(client, NULL, buf, sizeof buf, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "len_out");
    EXPECT_ERR(idaas_client_get_token_into(client, "\xff", buf, sizeof buf, &len, ERR), IDAAS_CODE_INVALID_UTF8, NULL);
    EXPECT_ERR(idaas_client_get_token_into(client, "api://fail|z", buf, sizeof buf, &len, ERR), IDAAS_CODE_CREDENTIAL, NULL);
    idaas_secure_zero(buf, sizeof buf);

    /* _versioned: nothing copied while the caller's copy is current */
    {
        uint64_t ver = 0, v1;
        len = 99;
        CHECK_CODE(idaas_client_get_token_versioned(client, NULL, &ver, buf, sizeof buf, &len, &err), err, IDAAS_CODE_OK);
        CHECK(ver >= 1 && len == TOKEN_LEN && strcmp(buf, g_plugin_token) == 0);
        v1 = ver;
        memset(buf, 'x', 16);
        len = 99;
        CHECK_CODE(idaas_client_get_token_versioned(client, NULL, &ver, buf, sizeof buf, &len, &err), err, IDAAS_CODE_OK);
        CHECK(ver == v1 && len == 0 && buf[0] == 'x'); /* current: not copied */
        CHECK_CODE(idaas_client_get_token_versioned(client, "urn:cloud:idaas:pam|.all", &ver, buf, sizeof buf, &len, &err),
                   err, IDAAS_CODE_OK);
        CHECK(ver == v1 && len == 0); /* the default scope spelled out: same cache, same version */
        ver = v1 + 1000; /* a version this cache never had: copied */
        CHECK_CODE(idaas_client_get_token_versioned(client, NULL, &ver, buf, sizeof buf, &len, &err), err, IDAAS_CODE_OK);
        CHECK(ver == v1 && len == TOKEN_LEN && strcmp(buf, g_plugin_token) == 0);
        ver = 0;
        EXPECT_ERR(idaas_client_get_token_versioned(client, NULL, &ver, buf, 10, &len, ERR), IDAAS_CODE_BUFFER_TOO_SMALL, NULL);
        CHECK(ver == 0 && len == TOKEN_LEN + 1); /* version unchanged when nothing was copied */
        CHECK(idaas_client_get_token_versioned(client, NULL, &ver, NULL, 0, &len, NULL) == IDAAS_CODE_BUFFER_TOO_SMALL);
        CHECK(ver == 0 && len == TOKEN_LEN + 1);
        /* uncacheable tokens: a new token and version on every call */
        uint64_t va = 0;
        char first[sizeof buf];
        CHECK_CODE(idaas_client_get_token_versioned(client, "api://nocache|v", &va, buf, sizeof buf, &len, &err), err, IDAAS_CODE_OK);
        CHECK(va >= 1 && strncmp(buf, "nocache-", 8) == 0);
        snprintf(first, sizeof first, "%s", buf);
        uint64_t vb = va;
        CHECK_CODE(idaas_client_get_token_versioned(client, "api://nocache|v", &vb, buf, sizeof buf, &len, &err), err, IDAAS_CODE_OK);
        CHECK(vb > va && len > 0 && strcmp(buf, first) != 0);
        EXPECT_ERR(idaas_client_get_token_versioned(NULL, NULL, &ver, buf, sizeof buf, &len, ERR), IDAAS_CODE_NULL_ARGUMENT, "client");
        EXPECT_ERR(idaas_client_get_token_versioned(client, NULL, NULL, buf, sizeof buf, &len, ERR), IDAAS_CODE_NULL_ARGUMENT,
                   "version_inout");
        EXPECT_ERR(idaas_client_get_token_versioned(client, NULL, &ver, buf, sizeof buf, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT,
                   "len_out");
        EXPECT_ERR(idaas_client_get_token_versioned(client, "api://fail|v", &ver, buf, sizeof buf, &len, ERR),
                   IDAAS_CODE_CREDENTIAL, NULL);
        idaas_secure_zero(buf, sizeof buf);
    }

    /* token exchange is not available for PLUGIN clients */
    char *json = NULL;
    EXPECT_ERR(idaas_client_exchange_token(client, "tok", "urn:ietf:params:oauth:token-type:access_token", NULL, NULL, &json, ERR),
               IDAAS_CODE_CONFIG, "PLUGIN");
    idaas_exchange_provider *xp = NULL;
    EXPECT_ERR(idaas_client_get_exchange_provider(client, NULL, &xp, ERR), IDAAS_CODE_CONFIG, "PLUGIN");
    idaas_client_free(client);
    client = NULL;
}

static void test_providers(void) {
    idaas_client *client = new_plugin_client();
    CHECK(client != NULL);
    if (!client) return;
    idaas_error *err = NULL;
    idaas_provider *p = NULL, *ps = NULL;
    char *token = NULL;

    CHECK_CODE(idaas_client_get_provider(client, NULL, &p, &err), err, IDAAS_CODE_OK);
    CHECK_CODE(idaas_client_get_provider(client, "api://other|read", &ps, &err), err, IDAAS_CODE_OK);
    idaas_client_free(client); /* providers outlive the client */
    CHECK_CODE(idaas_provider_get_token(p, &token, &err), err, IDAAS_CODE_OK);
    CHECK_STR_EQ(token, g_plugin_token);
    idaas_string_free(token);
    CHECK_CODE(idaas_provider_get_token(ps, &token, &err), err, IDAAS_CODE_OK);
    CHECK_STR_EQ(token, "scoped-api://other|read");
    idaas_string_free(token);
    char buf[2048];
    size_t len = 0;
    CHECK_CODE(idaas_provider_get_token_into(p, buf, sizeof buf, &len, &err), err, IDAAS_CODE_OK);
    CHECK(len == TOKEN_LEN);
    EXPECT_ERR(idaas_provider_get_token_into(p, buf, 100, &len, ERR), IDAAS_CODE_BUFFER_TOO_SMALL, NULL);
    CHECK(len == TOKEN_LEN + 1);
    {
        uint64_t ver = 0, v1;
        CHECK_CODE(idaas_provider_get_token_versioned(p, &ver, buf, sizeof buf, &len, &err), err, IDAAS_CODE_OK);
        CHECK(ver >= 1 && len == TOKEN_LEN && strcmp(buf, g_plugin_token) == 0);
        v1 = ver;
        CHECK_CODE(idaas_provider_get_token_versioned(p, &ver, buf, sizeof buf, &len, &err), err, IDAAS_CODE_OK);
        CHECK(ver == v1 && len == 0);
        EXPECT_ERR(idaas_provider_get_token_versioned(NULL, &ver, buf, sizeof buf, &len, ERR), IDAAS_CODE_NULL_ARGUMENT, "provider");
        EXPECT_ERR(idaas_provider_get_token_versioned(p, NULL, buf, sizeof buf, &len, ERR), IDAAS_CODE_NULL_ARGUMENT,
                   "version_inout");
    }
    EXPECT_ERR(idaas_provider_get_token_into(NULL, buf, sizeof buf, &len, ERR), IDAAS_CODE_NULL_ARGUMENT, "provider");
    EXPECT_ERR(idaas_provider_get_token_into(p, buf, sizeof buf, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "len_out");
    EXPECT_ERR(idaas_provider_get_token(NULL, &token, ERR), IDAAS_CODE_NULL_ARGUMENT, "provider");
    EXPECT_ERR(idaas_provider_get_token(p, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "token_out");
    idaas_provider_free(p);
    idaas_provider_free(ps);
    idaas_provider_free(NULL);

    client = new_plugin_client();
    EXPECT_ERR(idaas_client_get_provider(NULL, NULL, &p, ERR), IDAAS_CODE_NULL_ARGUMENT, "client");
    EXPECT_ERR(idaas_client_get_provider(client, NULL, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "provider_out");
    EXPECT_ERR(idaas_client_get_provider(client, "no-pipe-here", &p, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);
    EXPECT_ERR(idaas_client_get_provider(client, "\xff", &p, ERR), IDAAS_CODE_INVALID_UTF8, NULL);
    /* a provider whose plugin fails reports it on use */
    CHECK_CODE(idaas_client_get_provider(client, "api://fail|p", &p, &err), err, IDAAS_CODE_OK);
    EXPECT_ERR(idaas_provider_get_token(p, &token, ERR), IDAAS_CODE_CREDENTIAL, NULL);
    EXPECT_ERR(idaas_provider_get_token_into(p, buf, sizeof buf, &len, ERR), IDAAS_CODE_CREDENTIAL, NULL);
    idaas_provider_free(p);
    idaas_client_free(client);
    client = NULL;

    /* static providers */
    CHECK_CODE(idaas_provider_new_static("static-token-1", 4102444800ULL, &p, &err), err, IDAAS_CODE_OK);
    CHECK_CODE(idaas_provider_get_token(p, &token, &err), err, IDAAS_CODE_OK);
    CHECK_STR_EQ(token, "static-token-1");
    idaas_string_free(token);
    CHECK_CODE(idaas_provider_get_token_into(p, buf, sizeof buf, &len, &err), err, IDAAS_CODE_OK);
    CHECK(len == strlen("static-token-1"));
    {
        /* a provider without versions: always copied, version 0 */
        uint64_t ver = 5;
        CHECK_CODE(idaas_provider_get_token_versioned(p, &ver, buf, sizeof buf, &len, &err), err, IDAAS_CODE_OK);
        CHECK(ver == 0 && len == strlen("static-token-1") && strcmp(buf, "static-token-1") == 0);
        buf[0] = 'x';
        CHECK_CODE(idaas_provider_get_token_versioned(p, &ver, buf, sizeof buf, &len, &err), err, IDAAS_CODE_OK);
        CHECK(ver == 0 && len == strlen("static-token-1") && buf[0] == 's');
    }
    idaas_provider_free(p);
    EXPECT_ERR(idaas_provider_new_static(NULL, 0, &p, ERR), IDAAS_CODE_NULL_ARGUMENT, "access_token");
    EXPECT_ERR(idaas_provider_new_static("  ", 0, &p, ERR), IDAAS_CODE_INVALID_ARGUMENT, "blank");
    EXPECT_ERR(idaas_provider_new_static("t", 0, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "provider_out");
    EXPECT_ERR(idaas_provider_new_static("\xff", 0, &p, ERR), IDAAS_CODE_INVALID_UTF8, NULL);

    CHECK_CODE(idaas_provider_new_from_credential_json(
                   "{\"access_token\":\"exchanged\\u0041\",\"token_type\":\"Bearer\",\"expires_in\":60,"
                   "\"expires_at\":4102444800,\"issued_token_type\":null,\"extra\":1}", &p, &err),
               err, IDAAS_CODE_OK);
    CHECK_CODE(idaas_provider_get_token(p, &token, &err), err, IDAAS_CODE_OK);
    CHECK_STR_EQ(token, "exchangedA");
    idaas_string_free(token);
    idaas_provider_free(p);
    EXPECT_ERR(idaas_provider_new_from_credential_json("{\"token_type\":\"Bearer\"}", &p, ERR), IDAAS_CODE_INVALID_ARGUMENT, "access_token");
    EXPECT_ERR(idaas_provider_new_from_credential_json("{\"access_token\":\"\"}", &p, ERR), IDAAS_CODE_INVALID_ARGUMENT, "blank");
    EXPECT_ERR(idaas_provider_new_from_credential_json("nope", &p, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);
    EXPECT_ERR(idaas_provider_new_from_credential_json(NULL, &p, ERR), IDAAS_CODE_NULL_ARGUMENT, NULL);
    EXPECT_ERR(idaas_provider_new_from_credential_json("{\"access_token\":\"a\"}", NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, NULL);
    /* a token with an embedded NUL cannot become a C string */
    CHECK_CODE(idaas_provider_new_from_credential_json("{\"access_token\":\"a\\u0000b\"}", &p, &err), err, IDAAS_CODE_OK);
    EXPECT_ERR(idaas_provider_get_token(p, &token, ERR), IDAAS_CODE_UNEXPECTED_RESPONSE, "NUL");
    EXPECT_ERR(idaas_provider_get_token_into(p, buf, sizeof buf, &len, ERR), IDAAS_CODE_UNEXPECTED_RESPONSE, "NUL");
    idaas_provider_free(p);
    idaas_secure_zero(buf, sizeof buf);
}

/* ---- threads ------------------------------------------------------------------------------------ */

#define THREADS 16

typedef struct {
    const idaas_client *client;
    int iterations;
    long ok;
} shared_arg;

static void *shared_client_worker(void *arg) {
    shared_arg *a = (shared_arg *)arg;
    char buf[2048];
    for (int i = 0; i < a->iterations; i++) {
        char *token = NULL;
        idaas_error *err = NULL;
        if (idaas_client_get_token(a->client, NULL, &token, &err) == IDAAS_CODE_OK &&
            strcmp(token, g_plugin_token) == 0)
            a->ok++;
        idaas_string_free(token);
        idaas_error_free(err);
        size_t len = 0;
        const char *scope = (i % 2) ? "api://svc|read" : NULL;
        if (idaas_client_get_token_into(a->client, scope, buf, sizeof buf, &len, NULL) == IDAAS_CODE_OK)
            a->ok++;
    }
    return NULL;
}

static void *create_use_free_worker(void *arg) {
    shared_arg *a = (shared_arg *)arg;
    for (int i = 0; i < a->iterations; i++) {
        idaas_client *client = NULL;
        idaas_provider *p = NULL;
        char *token = NULL;
        if (idaas_client_new_from_json(plugin_config_json(PLUGIN_NAME), NULL, &client, NULL) != IDAAS_CODE_OK)
            continue;
        if (idaas_client_get_provider(client, NULL, &p, NULL) == IDAAS_CODE_OK) {
            idaas_client_free(client);
            client = NULL;
            if (idaas_provider_get_token(p, &token, NULL) == IDAAS_CODE_OK && strcmp(token, g_plugin_token) == 0)
                a->ok++;
            idaas_string_free(token);
            idaas_provider_free(p);
        }
        idaas_client_free(client);
        client = NULL;
        if (i == 0) {
            idaas_error *err = NULL;
            idaas_debug_panic(&err); /* panics in many threads at once are contained too */
            idaas_error_free(err);
        }
    }
    return NULL;
}

static void test_threads(void) {
    idaas_client *client = new_plugin_client();
    CHECK(client != NULL);
    if (!client) return;
    pthread_t th[THREADS];
    shared_arg args[THREADS];
    int iters = g_slow ? 200 : 20000;
    for (int i = 0; i < THREADS; i++) {
        args[i].client = client;
        args[i].iterations = iters;
        args[i].ok = 0;
        pthread_create(&th[i], NULL, shared_client_worker, &args[i]);
    }
    long ok = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ok += args[i].ok;
    }
    CHECK(ok == (long)THREADS * iters * 2);
    idaas_client_free(client);
    client = NULL;

    int cycles = g_slow ? 5 : 50;
    for (int i = 0; i < THREADS; i++) {
        args[i].client = NULL;
        args[i].iterations = cycles;
        args[i].ok = 0;
        pthread_create(&th[i], NULL, create_use_free_worker, &args[i]);
    }
    ok = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ok += args[i].ok;
    }
    CHECK(ok == (long)THREADS * cycles);
}

/* ---- a plugin calling back into its own client ------------------------------------------------- */

#define REENTRANT_PLUGIN "c-reentrant-plugin"
#define OTHER_SCOPE "api.example.com|other"

static idaas_client *g_reentrant_client = NULL;
static idaas_code g_reentrant_inner = IDAAS_CODE_OK;
static char g_reentrant_server_code[64];

/* For OTHER_SCOPE a plain token; for a scope ending in "|use-other" the token of OTHER_SCOPE from the
 * same client; otherwise it asks its own client for the default-scope token it is fetching (the
 * re-entrant call) and reports that call's error. */
static int32_t reentrant_plugin(void *user_data, const char *scope, idaas_plugin_result *result) {
    (void)user_data;
    if (strcmp(scope, OTHER_SCOPE) == 0) {
        return (int32_t)idaas_plugin_result_set_token(result, "other-token", 3600, NULL);
    }
    char *token = NULL;
    idaas_error *err = NULL;
    const char *want = strstr(scope, "|use-other") != NULL ? OTHER_SCOPE : NULL;
    idaas_code rc = idaas_client_get_token(g_reentrant_client, want, &token, &err);
    if (want != NULL) {
        if (rc != IDAAS_CODE_OK) {
            idaas_error_free(err);
            return 1;
        }
        char buf[128];
        snprintf(buf, sizeof buf, "via-%s", token);
        idaas_string_free(token);
        return (int32_t)idaas_plugin_result_set_token(result, buf, 3600, NULL);
    }
    g_reentrant_inner = rc;
    if (rc == IDAAS_CODE_OK) {
        idaas_string_free(token);
        return (int32_t)idaas_plugin_result_set_token(result, "unreachable", 3600, NULL);
    }
    const char *sc = idaas_error_server_code(err);
    snprintf(g_reentrant_server_code, sizeof g_reentrant_server_code, "%s", sc ? sc : "");
    idaas_plugin_result_set_error(result, idaas_error_message(err), NULL);
    idaas_error_free(err);
    return 1;
}

static void *reentrant_outer(void *arg) {
    idaas_error **err = (idaas_error **)arg;
    char *token = NULL;
    if (idaas_client_get_token(g_reentrant_client, NULL, &token, err) == IDAAS_CODE_OK) {
        idaas_string_free(token);
    }
    return NULL;
}

static void test_plugin_reentrant_call(void) {
    idaas_error *err = NULL;
    CHECK_CODE(idaas_register_plugin(REENTRANT_PLUGIN, reentrant_plugin, NULL, &err), err, IDAAS_CODE_OK);
    CHECK_CODE(idaas_client_new_from_json(plugin_config_json(REENTRANT_PLUGIN), NULL, &g_reentrant_client, &err),
               err, IDAAS_CODE_OK);
    if (!g_reentrant_client) return;
    /* On a thread with a deadline: before the fix this call waited for itself forever. */
    idaas_error *outer = NULL;
    pthread_t th;
    pthread_create(&th, NULL, reentrant_outer, &outer);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    if (pthread_timedjoin_np(th, NULL, &deadline) != 0) {
        FAIL_AT(__FILE__, __LINE__, "%s", "a plugin calling back into its own client deadlocked");
        return; /* the client stays in use by the stuck thread */
    }
    CHECK(g_reentrant_inner == IDAAS_CODE_REENTRANT_CALL);
    CHECK_STR_EQ(g_reentrant_server_code, "ReentrantCall");
    /* the plugin failed with the inner error's message: the outer call is a plugin failure */
    CHECK(idaas_error_code(outer) == IDAAS_CODE_CREDENTIAL);
    CHECK(strstr(idaas_error_message(outer), "re-entrant call") != NULL);
    idaas_error_free(outer);

    /* another scope of the same client, from inside the plugin, works */
    char *token = NULL;
    CHECK_CODE(idaas_client_get_token(g_reentrant_client, "api.example.com|use-other", &token, &err), err,
               IDAAS_CODE_OK);
    if (token) CHECK_STR_EQ(token, "via-other-token");
    idaas_string_free(token);
    idaas_client_free(g_reentrant_client);
    g_reentrant_client = NULL;
}

/* Emulator-backed tests live in test_emulator.h (token endpoint, exchange, faults, PAM). */
#include "test_emulator.h"

int main(void) {
    g_slow = getenv("IDAAS_TEST_SLOW") != NULL;
    setvbuf(stderr, NULL, _IONBF, 0);
    plugin_config_into(g_plugin_config, sizeof g_plugin_config, PLUGIN_NAME);
    memset(g_plugin_token, 'T', TOKEN_LEN);
    memcpy(g_plugin_token, "eyJhbGciOiJSUzI1NiJ9.", 21);
    g_plugin_token[TOKEN_LEN] = '\0';
    snprintf(g_tmpdir, sizeof g_tmpdir, "/tmp/idaas-ctest-tmp-XXXXXX");
    if (!mkdtemp(g_tmpdir)) {
        perror("mkdtemp");
        return 2;
    }

    test_version_and_codes();
    test_error_accessors_null();
    test_panic();
    test_strings();
    test_cancel();
    test_plugin_registration();
    test_logger();
    test_config();
    test_client_constructors();
    test_client_tokens();
    test_providers();
    test_threads();
    test_plugin_reentrant_call();
    run_emulator_tests();

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "note: could not remove %s\n", g_tmpdir);
    return harness_summary();
}
