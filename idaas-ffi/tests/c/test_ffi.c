/*
 * Tests of every exported function of the idaas C ABI (include/idaas.h), including their error paths.
 * They double as examples of the ownership rules: every handle is freed, every returned string goes
 * through idaas_string_free, every error through idaas_error_free. Run by `make c-test`, and under
 * valgrind / ASan by `make c-test-valgrind` / `make c-test-asan` (leaks fail those runs).
 *
 * Offline part: codes and classes, errors, strings, cancel, idaas_init and config loading, callbacks
 * that belong to a config (plugins, loggers: isolation, lifetime, re-entrancy), PLUGIN clients (a
 * token source without a server), providers, threads. Emulator part (IDAAS_EMULATOR_BIN): idaas_init
 * against a server, token endpoint, token exchange, server errors via the emulator's fault API
 * (including idaas_error_is_retryable), and every PAM operation.
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

/* A plugin whose user data says which token it hands out and counts its calls and releases. */
typedef struct {
    const char *token;
    long calls;
    long freed; /* times free_user_data was called on it */
} plugin_ud;

static int32_t ud_plugin(void *user_data, const char *scope, idaas_plugin_result *result) {
    plugin_ud *ud = (plugin_ud *)user_data;
    (void)scope;
    __atomic_fetch_add(&ud->calls, 1, __ATOMIC_RELAXED);
    return (int32_t)idaas_plugin_result_set_token(result, ud->token, 3600, NULL);
}

static void ud_plugin_free(void *user_data) {
    __atomic_fetch_add(&((plugin_ud *)user_data)->freed, 1, __ATOMIC_RELAXED);
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

/* A CLIENT_SECRET_POST config whose endpoints nothing listens on: creating a client does no I/O. */
#define SECRET_POST_CONFIG                                                                         \
    "{\"idaasInstanceId\":\"idaas_test\",\"clientId\":\"app_test\","                              \
    "\"issuer\":\"http://127.0.0.1:9/oauth2\",\"tokenEndpoint\":\"http://127.0.0.1:9/oauth2/token\"," \
    "\"authnConfiguration\":{\"authnMethod\":\"CLIENT_SECRET_POST\","                             \
    "\"clientSecretEnvVarName\":\"IDAAS_CLIENT_SECRET\"}}"

static char g_plugin_config[1024]; /* the config of PLUGIN_NAME, set up in main() */
static idaas_config *g_plugin_cfg; /* g_plugin_config with test_plugin added (set up in main()) */

static const char *plugin_config_json(const char *plugin_name) {
    if (strcmp(plugin_name, PLUGIN_NAME) == 0) return g_plugin_config;
    static char other[1024]; /* single-threaded callers only */
    return plugin_config_into(other, sizeof other, plugin_name);
}

/* A config from `json` (NULL with a failure recorded when it is refused). */
static idaas_config *new_config(const char *json) {
    idaas_config *cfg = NULL;
    idaas_error *err = NULL;
    if (idaas_config_from_json(json, &cfg, &err) != IDAAS_CODE_OK) {
        FAIL_AT(__FILE__, __LINE__, "config: %s", idaas_error_message(err));
        idaas_error_free(err);
        return NULL;
    }
    return cfg;
}

/* The PLUGIN config of `name` with `cb` / `user_data` / `free_user_data` added under that name. */
static idaas_config *new_plugin_config(const char *name, idaas_plugin_callback cb, void *user_data,
                                       idaas_free_callback free_user_data) {
    char json[1024];
    idaas_config *cfg = new_config(plugin_config_into(json, sizeof json, name));
    if (!cfg) return NULL;
    idaas_error *err = NULL;
    if (idaas_config_add_plugin(cfg, name, cb, user_data, free_user_data, &err) != IDAAS_CODE_OK) {
        FAIL_AT(__FILE__, __LINE__, "add_plugin %s: %s", name, idaas_error_message(err));
        idaas_error_free(err);
        idaas_config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* A client from `cfg` with `options_json` (NULL with a failure recorded when it is refused). */
static idaas_client *new_client(const idaas_config *cfg, const char *options_json) {
    idaas_client *client = NULL;
    idaas_error *err = NULL;
    if (cfg == NULL) return NULL;
    if (idaas_client_new(cfg, options_json, &client, &err) != IDAAS_CODE_OK) {
        FAIL_AT(__FILE__, __LINE__, "client: %s", idaas_error_message(err));
        idaas_error_free(err);
        return NULL;
    }
    return client;
}

static idaas_client *new_plugin_client(void) { return new_client(g_plugin_cfg, NULL); }

/* The token of `client` for `scope` as a malloc'ed copy ("ERROR <code>" on failure). */
static char *token_of(const idaas_client *client, const char *scope) {
    char *token = NULL, *copy;
    idaas_error *err = NULL;
    idaas_code rc = idaas_client_get_token(client, scope, &token, &err);
    if (rc != IDAAS_CODE_OK) {
        char buf[64];
        snprintf(buf, sizeof buf, "ERROR %u", (unsigned)rc);
        idaas_error_free(err);
        return strdup(buf);
    }
    copy = strdup(token);
    idaas_string_free(token);
    return copy;
}

static double secs_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Joins `th` within `secs` seconds; 0 when it returned, -1 when it is still running (a hang). */
static int join_within(pthread_t th, int secs) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += secs;
    return pthread_timedjoin_np(th, NULL, &deadline) == 0 ? 0 : -1;
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

/* idaas_code_class: the class of every code, and of codes a newer library may add. */
static void test_code_class(void) {
    /* the class values are part of the ABI */
    CHECK(IDAAS_CLASS_OK == 0 && IDAAS_CLASS_ARGUMENT == 1 && IDAAS_CLASS_CONFIG == 2);
    CHECK(IDAAS_CLASS_AUTHENTICATION == 3 && IDAAS_CLASS_SERVER_REPLY == 4 && IDAAS_CLASS_NETWORK == 5);
    CHECK(IDAAS_CLASS_CANCELLED == 6 && IDAAS_CLASS_INTERNAL == 9);

    static const struct {
        uint32_t code;
        uint32_t cls;
    } table[] = {
        {IDAAS_CODE_OK, IDAAS_CLASS_OK},
        {IDAAS_CODE_NULL_ARGUMENT, IDAAS_CLASS_ARGUMENT},
        {IDAAS_CODE_INVALID_UTF8, IDAAS_CLASS_ARGUMENT},
        {IDAAS_CODE_INVALID_ARGUMENT, IDAAS_CLASS_ARGUMENT},
        {IDAAS_CODE_BUFFER_TOO_SMALL, IDAAS_CLASS_ARGUMENT},
        {IDAAS_CODE_REENTRANT_CALL, IDAAS_CLASS_ARGUMENT},
        {IDAAS_CODE_CONFIG, IDAAS_CLASS_CONFIG},
        {IDAAS_CODE_CREDENTIAL, IDAAS_CLASS_AUTHENTICATION},
        {IDAAS_CODE_AUTH, IDAAS_CLASS_AUTHENTICATION},
        {IDAAS_CODE_CLIENT_ERROR, IDAAS_CLASS_SERVER_REPLY},
        {IDAAS_CODE_SERVER_ERROR, IDAAS_CLASS_SERVER_REPLY},
        {IDAAS_CODE_UNEXPECTED_RESPONSE, IDAAS_CLASS_SERVER_REPLY},
        {IDAAS_CODE_TRANSPORT, IDAAS_CLASS_NETWORK},
        {IDAAS_CODE_TIMEOUT, IDAAS_CLASS_NETWORK},
        {IDAAS_CODE_CANCELLED, IDAAS_CLASS_CANCELLED},
        {IDAAS_CODE_INTERNAL, IDAAS_CLASS_INTERNAL},
        {IDAAS_CODE_PANIC, IDAAS_CLASS_INTERNAL},
        {IDAAS_CODE_UNSUPPORTED, IDAAS_CLASS_INTERNAL},
        /* codes this library does not know: by their hundreds group; outside the groups: INTERNAL */
        {123, IDAAS_CLASS_ARGUMENT},
        {199, IDAAS_CLASS_ARGUMENT},
        {250, IDAAS_CLASS_CONFIG},
        {350, IDAAS_CLASS_AUTHENTICATION},
        {499, IDAAS_CLASS_SERVER_REPLY},
        {555, IDAAS_CLASS_NETWORK},
        {601, IDAAS_CLASS_CANCELLED},
        {1, IDAAS_CLASS_INTERNAL},
        {99, IDAAS_CLASS_INTERNAL},
        {700, IDAAS_CLASS_INTERNAL},
        {777, IDAAS_CLASS_INTERNAL},
        {800, IDAAS_CLASS_INTERNAL},
        {999, IDAAS_CLASS_INTERNAL},
        {1000, IDAAS_CLASS_INTERNAL},
        {123456, IDAAS_CLASS_INTERNAL},
        {UINT32_MAX, IDAAS_CLASS_INTERNAL},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        uint32_t got = (uint32_t)idaas_code_class(table[i].code);
        if (got == table[i].cls) {
            PASS();
        } else {
            FAIL_AT(__FILE__, __LINE__, "idaas_code_class(%u) = %u, expected %u", (unsigned)table[i].code,
                    (unsigned)got, (unsigned)table[i].cls);
        }
    }
    /* every code this library names is in the table above (a new code needs a row) */
    for (uint32_t c = 0; c < 1000; c++) {
        if (strcmp(idaas_code_name(c), "unknown") == 0) continue;
        int listed = 0;
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) listed |= table[i].code == c;
        if (!listed) FAIL_AT(__FILE__, __LINE__, "code %u (%s) has no row in the class table", (unsigned)c, idaas_code_name(c));
    }
    PASS();
}

static void test_error_accessors_null(void) {
    CHECK(idaas_error_code(NULL) == IDAAS_CODE_OK);
    CHECK_STR_EQ(idaas_error_message(NULL), "");
    CHECK(idaas_error_http_status(NULL) == 0);
    CHECK(idaas_error_server_code(NULL) == NULL);
    CHECK(idaas_error_request_id(NULL) == NULL);
    CHECK_STR_EQ(idaas_error_kind_name(NULL), "ok");
    CHECK(!idaas_error_is_retryable(NULL));
    idaas_error_free(NULL);
    idaas_string_free(NULL);
    idaas_buffer_wipe(NULL, 0);
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
    CHECK(!idaas_error_is_retryable(err)); /* a bug: trying again does not help */
    idaas_error_free(err);
    /* err_out may be NULL: only the code */
    CHECK(idaas_debug_panic(NULL) == IDAAS_CODE_PANIC);
    /* the library still works after a caught panic */
    CHECK(idaas_version() != NULL);
}

static void test_buffer_wipe(void) {
    char buf[24];
    memset(buf, 'x', sizeof buf);
    idaas_buffer_wipe(buf, 16);
    int zero = 1;
    for (size_t i = 0; i < 16; i++) zero &= buf[i] == 0;
    CHECK(zero);
    /* exactly `len` bytes: the rest is untouched */
    int kept = 1;
    for (size_t i = 16; i < sizeof buf; i++) kept &= buf[i] == 'x';
    CHECK(kept);
    /* len 0 touches nothing, even with a real buffer */
    memset(buf, 'y', sizeof buf);
    idaas_buffer_wipe(buf, 0);
    CHECK(buf[0] == 'y');
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

/* A log callback's user data: counts records (all, warnings, above the level it was installed
 * with, those whose message contains `needle`) and its releases. */
typedef struct {
    uint32_t max_level;
    const char *needle;
    long records;
    long warnings;
    long above_max;
    long needle_hits;
    long freed;
    char last_target[128];
} log_probe;

static void probe_cb(uint32_t level, const char *target, const char *message, void *user_data) {
    log_probe *p = (log_probe *)user_data;
    __atomic_fetch_add(&p->records, 1, __ATOMIC_RELAXED);
    if (level == IDAAS_LOG_LEVEL_WARN) __atomic_fetch_add(&p->warnings, 1, __ATOMIC_RELAXED);
    if (level > p->max_level || level < IDAAS_LOG_LEVEL_ERROR) __atomic_fetch_add(&p->above_max, 1, __ATOMIC_RELAXED);
    if (p->needle && strstr(message, p->needle)) __atomic_fetch_add(&p->needle_hits, 1, __ATOMIC_RELAXED);
    snprintf(p->last_target, sizeof p->last_target, "%s", target);
}

static void probe_free(void *user_data) {
    __atomic_fetch_add(&((log_probe *)user_data)->freed, 1, __ATOMIC_RELAXED);
}

/* Writes the PLUGIN config of PLUGIN_NAME to <tmp>/world-writable.json, mode 0666: loading it makes
 * the library log a warning. */
static void write_world_writable_config(char *path, size_t cap) {
    snprintf(path, cap, "%s/world-writable.json", g_tmpdir);
    CHECK(write_file(path, plugin_config_json(PLUGIN_NAME)) == 0);
    chmod(path, 0666);
}

/* The process-wide callback (idaas_log_set_callback). */
static void test_global_logger(void) {
    static log_probe sink;
    memset(&sink, 0, sizeof sink);
    sink.max_level = IDAAS_LOG_LEVEL_DEBUG;
    EXPECT_ERR(idaas_log_set_callback(probe_cb, &sink, 6, ERR), IDAAS_CODE_INVALID_ARGUMENT, "max_level");
    idaas_error *err = NULL;
    CHECK_CODE(idaas_log_set_callback(probe_cb, &sink, IDAAS_LOG_LEVEL_DEBUG, &err), err, IDAAS_CODE_OK);
    CHECK(err == NULL);

    /* A config file writable by others makes the library log a warning. */
    char path[320];
    write_world_writable_config(path, sizeof path);
    idaas_config *cfg = NULL;
    CHECK_CODE(idaas_config_load(path, &cfg, &err), err, IDAAS_CODE_OK);
    idaas_config_free(cfg);
    CHECK(sink.warnings >= 1);
    CHECK_CONTAINS(sink.last_target, "idaas");
    CHECK(sink.above_max == 0);

    /* removed: nothing more is delivered */
    CHECK_CODE(idaas_log_set_callback(NULL, NULL, IDAAS_LOG_LEVEL_OFF, &err), err, IDAAS_CODE_OK);
    long before = sink.records;
    CHECK_CODE(idaas_config_load(path, &cfg, &err), err, IDAAS_CODE_OK);
    idaas_config_free(cfg);
    CHECK(sink.records == before);
    unlink(path);
}

/* A process-wide callback that tries to replace itself: refused (it would deadlock). */
static idaas_code g_set_from_cb = IDAAS_CODE_OK;
static long g_set_from_cb_calls = 0;
static void replacing_cb(uint32_t level, const char *target, const char *message, void *user_data) {
    (void)level, (void)target, (void)message, (void)user_data;
    if (__atomic_fetch_add(&g_set_from_cb_calls, 1, __ATOMIC_RELAXED) == 0)
        g_set_from_cb = idaas_log_set_callback(NULL, NULL, IDAAS_LOG_LEVEL_OFF, NULL);
}

static void test_global_logger_set_from_callback(void) {
    idaas_error *err = NULL;
    CHECK_CODE(idaas_log_set_callback(replacing_cb, NULL, IDAAS_LOG_LEVEL_DEBUG, &err), err, IDAAS_CODE_OK);
    idaas_client *client = new_plugin_client(); /* no logger of its own: records go to replacing_cb */
    char *t = token_of(client, "api://set-from-callback|read");
    free(t);
    idaas_client_free(client);
    CHECK(g_set_from_cb_calls >= 1);
    CHECK(g_set_from_cb == IDAAS_CODE_UNSUPPORTED);
    CHECK_CODE(idaas_log_set_callback(NULL, NULL, IDAAS_LOG_LEVEL_OFF, &err), err, IDAAS_CODE_OK);
}

/* A config with the plugin of PLUGIN_NAME and `probe` as its logger at `max_level`. */
static idaas_config *config_with_logger(const char *json, log_probe *probe, uint32_t max_level) {
    idaas_config *cfg = new_config(json);
    if (!cfg) return NULL;
    idaas_error *err = NULL;
    probe->max_level = max_level;
    CHECK_CODE(idaas_config_add_plugin(cfg, PLUGIN_NAME, test_plugin, &g_plugin_calls, NULL, &err), err, IDAAS_CODE_OK);
    CHECK_CODE(idaas_config_set_logger(cfg, probe_cb, probe, max_level, probe_free, &err), err, IDAAS_CODE_OK);
    return cfg;
}

/* Loggers per config (idaas_config_set_logger): routing, levels, lifetime, argument errors. */
static void test_config_logger(void) {
    idaas_error *err = NULL;
    static log_probe global, a, w_warn, w_error, w_debug, w_off;
    memset(&global, 0, sizeof global);
    global.max_level = IDAAS_LOG_LEVEL_DEBUG;
    CHECK_CODE(idaas_log_set_callback(probe_cb, &global, IDAAS_LOG_LEVEL_DEBUG, &err), err, IDAAS_CODE_OK);

    /* a client of a config with a logger: its records reach that logger, not the process-wide one */
    memset(&a, 0, sizeof a);
    idaas_config *cfg_a = config_with_logger(plugin_config_json(PLUGIN_NAME), &a, IDAAS_LOG_LEVEL_DEBUG);
    idaas_client *client_a = new_client(cfg_a, NULL);
    idaas_config_free(cfg_a);
    CHECK(a.freed == 0); /* the client still uses the logger */
    a.needle = "api://logger-a|read";
    global.needle = "api://logger-a|read";
    char *t = token_of(client_a, "api://logger-a|read");
    CHECK_STR_EQ(t, "scoped-api://logger-a|read");
    free(t);
    CHECK(a.needle_hits >= 1);
    CHECK(global.needle_hits == 0);
    CHECK_CONTAINS(a.last_target, "idaas");
    /* ... also those of a provider made from that client, after the client is gone */
    idaas_provider *p = NULL;
    CHECK_CODE(idaas_client_get_provider(client_a, "api://logger-a|provider", &p, &err), err, IDAAS_CODE_OK);
    idaas_client_free(client_a);
    CHECK(a.freed == 0); /* the provider still uses it */
    a.needle = "api://logger-a|provider";
    global.needle = "api://logger-a|provider";
    char *pt = NULL;
    CHECK_CODE(idaas_provider_get_token(p, &pt, &err), err, IDAAS_CODE_OK);
    idaas_string_free(pt);
    CHECK(a.needle_hits >= 1);
    CHECK(global.needle_hits == 0);
    idaas_provider_free(p);
    CHECK(a.freed == 1); /* the last user is gone: released once */

    /* a client of a config without a logger: the process-wide callback, not another config's */
    a.needle_hits = 0;
    a.needle = "api://logger-b|read";
    global.needle = "api://logger-b|read";
    idaas_client *client_b = new_plugin_client();
    t = token_of(client_b, "api://logger-b|read");
    free(t);
    idaas_client_free(client_b);
    CHECK(global.needle_hits >= 1);
    CHECK(a.needle_hits == 0);
    CHECK(a.freed == 1); /* never twice */

    /* max_level: a config read from a world-writable file replays its load warning (WARN) to the
     * logger of every client made from it; getting a token logs at DEBUG. */
    char path[320];
    write_world_writable_config(path, sizeof path);
    struct {
        log_probe *probe;
        uint32_t level;
        long warnings;   /* expected */
        int debug_hits;  /* the DEBUG record of the token fetch expected */
    } cases[] = {
        {&w_off, IDAAS_LOG_LEVEL_OFF, 0, 0},
        {&w_error, IDAAS_LOG_LEVEL_ERROR, 0, 0},
        {&w_warn, IDAAS_LOG_LEVEL_WARN, 1, 0},
        {&w_debug, IDAAS_LOG_LEVEL_DEBUG, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        log_probe *w = cases[i].probe;
        memset(w, 0, sizeof *w);
        w->needle = "api://logger-w|read";
        idaas_config *cfg = NULL;
        CHECK_CODE(idaas_config_load(path, &cfg, &err), err, IDAAS_CODE_OK);
        if (!cfg) continue;
        w->max_level = cases[i].level;
        CHECK_CODE(idaas_config_add_plugin(cfg, PLUGIN_NAME, test_plugin, &g_plugin_calls, NULL, &err), err, IDAAS_CODE_OK);
        CHECK_CODE(idaas_config_set_logger(cfg, probe_cb, w, cases[i].level, probe_free, &err), err, IDAAS_CODE_OK);
        idaas_client *client = new_client(cfg, NULL);
        t = token_of(client, "api://logger-w|read");
        free(t);
        idaas_client_free(client);
        idaas_config_free(cfg);
        if (w->warnings == cases[i].warnings) PASS();
        else FAIL_AT(__FILE__, __LINE__, "max_level %u: %ld warnings, expected %ld", cases[i].level, w->warnings, cases[i].warnings);
        if ((w->needle_hits > 0) == cases[i].debug_hits) PASS();
        else FAIL_AT(__FILE__, __LINE__, "max_level %u: %ld DEBUG records of the fetch", cases[i].level, w->needle_hits);
        CHECK(w->above_max == 0);
        if (cases[i].level == IDAAS_LOG_LEVEL_OFF) CHECK(w->records == 0);
        CHECK(w->freed == 1);
    }
    unlink(path);

    /* replacing and removing: a logger no client uses is released at once; a NULL callback
     * ignores its user data (never released) and sends later clients' records to the process-wide
     * callback */
    {
        static log_probe l1, l2, l3;
        memset(&l1, 0, sizeof l1);
        memset(&l2, 0, sizeof l2);
        memset(&l3, 0, sizeof l3);
        idaas_config *cfg = new_plugin_config(PLUGIN_NAME, test_plugin, &g_plugin_calls, NULL);
        CHECK_CODE(idaas_config_set_logger(cfg, probe_cb, &l1, IDAAS_LOG_LEVEL_DEBUG, probe_free, &err), err, IDAAS_CODE_OK);
        idaas_client *c1 = new_client(cfg, NULL); /* uses l1 */
        CHECK_CODE(idaas_config_set_logger(cfg, probe_cb, &l2, IDAAS_LOG_LEVEL_DEBUG, probe_free, &err), err, IDAAS_CODE_OK);
        CHECK(l1.freed == 0); /* c1 still uses it */
        CHECK_CODE(idaas_config_set_logger(cfg, NULL, &l3, IDAAS_LOG_LEVEL_DEBUG, probe_free, &err), err, IDAAS_CODE_OK);
        CHECK(l2.freed == 1); /* replaced before any client used it */
        idaas_client *c2 = new_client(cfg, NULL); /* no logger of its own */
        global.needle_hits = 0;
        global.needle = "api://logger-removed|read";
        l1.needle = "api://logger-removed|read";
        t = token_of(c2, "api://logger-removed|read");
        free(t);
        CHECK(global.needle_hits >= 1);
        CHECK(l1.needle_hits == 0);
        l1.needle = "api://logger-c1|read";
        t = token_of(c1, "api://logger-c1|read");
        free(t);
        CHECK(l1.needle_hits >= 1);
        idaas_client_free(c2);
        idaas_config_free(cfg);
        CHECK(l1.freed == 0);
        idaas_client_free(c1);
        CHECK(l1.freed == 1);
        CHECK(l3.freed == 0);
    }

    /* argument errors: free_user_data is not called */
    {
        static log_probe bad;
        memset(&bad, 0, sizeof bad);
        idaas_config *cfg = new_config(plugin_config_json(PLUGIN_NAME));
        EXPECT_ERR(idaas_config_set_logger(NULL, probe_cb, &bad, IDAAS_LOG_LEVEL_WARN, probe_free, ERR),
                   IDAAS_CODE_NULL_ARGUMENT, "config");
        EXPECT_ERR(idaas_config_set_logger(cfg, probe_cb, &bad, 6, probe_free, ERR), IDAAS_CODE_INVALID_ARGUMENT, "max_level");
        EXPECT_ERR(idaas_config_set_logger(cfg, probe_cb, &bad, UINT32_MAX, probe_free, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);
        idaas_config_free(cfg);
        CHECK(bad.freed == 0);
    }
    CHECK_CODE(idaas_log_set_callback(NULL, NULL, IDAAS_LOG_LEVEL_OFF, &err), err, IDAAS_CODE_OK);
}

/* A config logger that calls back into the library: asks its own client for a token (of scope
 * g_logcb_scope, NULL: the default scope) from inside every record, once per thread at a time. */
static idaas_client *g_logcb_client = NULL;
static const char *g_logcb_scope = NULL;
static _Thread_local int t_in_log_cb = 0;
static long g_logcb_entered = 0, g_logcb_returned = 0, g_logcb_ok = 0;
static double g_logcb_max_secs = 0;

static void reentrant_log_cb(uint32_t level, const char *target, const char *message, void *user_data) {
    (void)level, (void)target, (void)message, (void)user_data;
    idaas_client *client = __atomic_load_n(&g_logcb_client, __ATOMIC_ACQUIRE);
    if (t_in_log_cb || client == NULL) return;
    t_in_log_cb = 1;
    __atomic_fetch_add(&g_logcb_entered, 1, __ATOMIC_RELAXED);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char *token = NULL;
    if (idaas_client_get_token(client, g_logcb_scope, &token, NULL) == IDAAS_CODE_OK)
        __atomic_fetch_add(&g_logcb_ok, 1, __ATOMIC_RELAXED);
    idaas_string_free(token);
    double secs = secs_since(&t0);
    if (secs > g_logcb_max_secs) g_logcb_max_secs = secs;
    __atomic_fetch_add(&g_logcb_returned, 1, __ATOMIC_RELAXED);
    t_in_log_cb = 0;
}

static void *logcb_outer(void *arg) {
    idaas_code *rc = (idaas_code *)arg;
    char *token = NULL;
    *rc = idaas_client_get_token(g_logcb_client, NULL, &token, NULL);
    idaas_string_free(token);
    return NULL;
}

/* A PLUGIN config with a 2 s call budget: a call waiting for a refresh gives up after 4 s. */
#define SHORT_BUDGET_PLUGIN_CONFIG                                                                 \
    "{\"idaasInstanceId\":\"idaas_test\",\"clientId\":\"app_test\","                              \
    "\"issuer\":\"http://127.0.0.1:9/oauth2\",\"tokenEndpoint\":\"http://127.0.0.1:9/oauth2/token\"," \
    "\"authnConfiguration\":{\"authnMethod\":\"PLUGIN\",\"pluginName\":\"" PLUGIN_NAME "\"},"     \
    "\"httpConfiguration\":{\"connectTimeout\":2000,\"readTimeout\":2000,\"callTimeout\":2000}}"

/* Runs the default-scope fetch of a new client of `cfg` with the callback asking for `scope`;
 * returns the outer call's code, or -1 when it did not return within 20 s (a deadlock). */
static int run_logcb_case(const idaas_config *cfg, const char *scope, double *outer_secs) {
    idaas_client *client = new_client(cfg, NULL);
    if (!client) return -1;
    g_logcb_entered = g_logcb_returned = g_logcb_ok = 0;
    g_logcb_max_secs = 0;
    g_logcb_scope = scope;
    __atomic_store_n(&g_logcb_client, client, __ATOMIC_RELEASE);
    /* On a thread with a deadline, so that a deadlock fails the test instead of hanging it. */
    idaas_code outer = IDAAS_CODE_INTERNAL;
    pthread_t th;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_create(&th, NULL, logcb_outer, &outer);
    if (join_within(th, 20) != 0) return -1; /* the client stays in use by the stuck thread */
    *outer_secs = secs_since(&t0);
    __atomic_store_n(&g_logcb_client, NULL, __ATOMIC_RELEASE);
    idaas_client_free(client);
    return (int)outer;
}

static void test_config_logger_reentrant(void) {
    idaas_error *err = NULL;
    idaas_config *cfg = new_config(SHORT_BUDGET_PLUGIN_CONFIG);
    if (!cfg) return;
    CHECK_CODE(idaas_config_add_plugin(cfg, PLUGIN_NAME, test_plugin, &g_plugin_calls, NULL, &err), err, IDAAS_CODE_OK);
    CHECK_CODE(idaas_config_set_logger(cfg, reentrant_log_cb, NULL, IDAAS_LOG_LEVEL_TRACE, NULL, &err), err, IDAAS_CODE_OK);
    double secs = 0;

    /* another scope of its own client, from inside a record of the default scope's fetch: served */
    int rc = run_logcb_case(cfg, "api://logcb-other|read", &secs);
    if (rc < 0) {
        FAIL_AT(__FILE__, __LINE__, "%s", "a log callback calling back into its own client deadlocked");
        idaas_config_free(cfg);
        return;
    }
    CHECK(rc == IDAAS_CODE_OK);
    CHECK(g_logcb_entered >= 1);                 /* the callback ran and called back in ... */
    CHECK(g_logcb_returned == g_logcb_entered);  /* ... every such call came back ... */
    CHECK(g_logcb_ok == g_logcb_entered);        /* ... and was served */
    if (secs < 3.0) PASS();
    else FAIL_AT(__FILE__, __LINE__, "the fetch took %.1f s with a logger calling back in", secs);

    /* the very scope being fetched: the call comes back (it does not deadlock), at the latest when
     * its wait for the refresh in progress gives up (twice the 2 s call budget), and the outer call
     * still succeeds */
    rc = run_logcb_case(cfg, NULL, &secs);
    if (rc < 0) {
        FAIL_AT(__FILE__, __LINE__, "%s", "a log callback asking its own client for the scope being fetched deadlocked");
        idaas_config_free(cfg);
        return;
    }
    CHECK(rc == IDAAS_CODE_OK);
    CHECK(g_logcb_entered >= 1);
    CHECK(g_logcb_returned == g_logcb_entered);
    if (g_logcb_max_secs < 6.0 && secs < 10.0) PASS();
    else FAIL_AT(__FILE__, __LINE__, "a call from inside the log callback took %.1f s (outer %.1f s)", g_logcb_max_secs, secs);
    idaas_config_free(cfg);
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
    EXPECT_ERR(idaas_config_from_json("{}", &cfg, ERR), IDAAS_CODE_CONFIG, NULL);
    /* a missing required key: the catalogue code is the server code */
    {
        idaas_error *e = NULL;
        CHECK(idaas_config_from_json("{\"idaasInstanceId\":\"i\",\"issuer\":\"https://x\","
                                     "\"tokenEndpoint\":\"https://x/t\",\"authnConfiguration\":{}}",
                                     &cfg, &e) == IDAAS_CODE_CONFIG);
        CHECK_STR_EQ(idaas_error_server_code(e), "ClientIdNotFound");
        CHECK_STR_EQ(idaas_error_kind_name(e), "config");
        CHECK(idaas_error_request_id(e) == NULL);
        CHECK(!idaas_error_is_retryable(e));
        idaas_error_free(e);
    }
    /* err_out NULL: only the code */
    CHECK(idaas_config_from_json("[]", &cfg, NULL) == IDAAS_CODE_CONFIG);

    /* files: idaas_config_load with a path */
    char path[320];
    snprintf(path, sizeof path, "%s/client-config.json", g_tmpdir);
    CHECK(write_file(path, good) == 0);
    CHECK_CODE(idaas_config_load(path, &cfg, &err), err, IDAAS_CODE_OK);
    idaas_config_free(cfg);
    EXPECT_ERR(idaas_config_load("/nonexistent/idaas.json", &cfg, ERR), IDAAS_CODE_CONFIG, "not found");
    EXPECT_ERR(idaas_config_load("\xc3\x28", &cfg, ERR), IDAAS_CODE_INVALID_UTF8, NULL);
    EXPECT_ERR(idaas_config_load(path, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "config_out");
    EXPECT_ERR(idaas_config_load("/dev/zero", &cfg, ERR), IDAAS_CODE_CONFIG, NULL); /* not a regular file */
    {
        char bad[320];
        snprintf(bad, sizeof bad, "%s/no-client-id.json", g_tmpdir);
        CHECK(write_file(bad, "{\"idaasInstanceId\":\"i\",\"issuer\":\"https://x\",\"tokenEndpoint\":\"https://x/t\","
                              "\"authnConfiguration\":{}}") == 0);
        idaas_error *e = NULL;
        CHECK(idaas_config_load(bad, &cfg, &e) == IDAAS_CODE_CONFIG);
        CHECK_STR_EQ(idaas_error_server_code(e), "ClientIdNotFound");
        idaas_error_free(e);
        /* an explicit path wins over CLOUD_IDAAS_CONFIG_PATH */
        setenv("CLOUD_IDAAS_CONFIG_PATH", bad, 1);
        CHECK_CODE(idaas_config_load(path, &cfg, &err), err, IDAAS_CODE_OK);
        idaas_config_free(cfg);
        unlink(bad);
    }

    /* NULL: the default lookup through CLOUD_IDAAS_CONFIG_PATH */
    setenv("CLOUD_IDAAS_CONFIG_PATH", path, 1);
    CHECK_CODE(idaas_config_load(NULL, &cfg, &err), err, IDAAS_CODE_OK);
    /* the config loaded from the file works: a PLUGIN client from it */
    if (cfg) {
        CHECK_CODE(idaas_config_add_plugin(cfg, PLUGIN_NAME, test_plugin, &g_plugin_calls, NULL, &err), err, IDAAS_CODE_OK);
        idaas_client *client = new_client(cfg, NULL);
        char *t = token_of(client, "api://loaded|read");
        CHECK_STR_EQ(t, "scoped-api://loaded|read");
        free(t);
        idaas_client_free(client);
    }
    idaas_config_free(cfg);
    EXPECT_ERR(idaas_config_load(NULL, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, NULL);
    setenv("CLOUD_IDAAS_CONFIG_PATH", "/nonexistent/idaas-default.json", 1);
    EXPECT_ERR(idaas_config_load(NULL, &cfg, ERR), IDAAS_CODE_CONFIG, "LoadConfigFileFailed");
    unsetenv("CLOUD_IDAAS_CONFIG_PATH");
}

/* ---- idaas_init ------------------------------------------------------------------------------------ */

/* Makes <tmp>/<name>/.cloud_idaas/<file> holding `json` (file NULL: only the directories) and
 * returns the home directory in `home`. */
static void make_home(char *home, size_t cap, const char *name, const char *file, const char *json) {
    char dir[400], path[480];
    snprintf(home, cap, "%s/%s", g_tmpdir, name);
    mkdir(home, 0700);
    snprintf(dir, sizeof dir, "%s/.cloud_idaas", home);
    mkdir(dir, 0700);
    if (file) {
        snprintf(path, sizeof path, "%s/%s", dir, file);
        CHECK(write_file(path, json) == 0);
    }
}

static void test_init(void) {
    idaas_client *client = NULL;
    idaas_error *err = NULL;
    char *saved_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    unsetenv("CLOUD_IDAAS_CONFIG_PATH");

    /* an explicit path */
    char path[320], bad[320];
    snprintf(path, sizeof path, "%s/init-config.json", g_tmpdir);
    CHECK(write_file(path, SECRET_POST_CONFIG) == 0);
    snprintf(bad, sizeof bad, "%s/init-bad.json", g_tmpdir);
    CHECK(write_file(bad, "{\"idaasInstanceId\":\"i\",\"issuer\":\"https://x\",\"tokenEndpoint\":\"https://x/t\","
                          "\"authnConfiguration\":{}}") == 0);
    CHECK_CODE(idaas_init(path, &client, &err), err, IDAAS_CODE_OK);
    CHECK(client != NULL && err == NULL);
    if (client) {
        /* no network I/O at init; the configuration is the file's (its secret variable is named) */
        char *token = NULL;
        unsetenv("IDAAS_CLIENT_SECRET");
        EXPECT_ERR(idaas_client_get_token(client, NULL, &token, ERR), IDAAS_CODE_CREDENTIAL, "IDAAS_CLIENT_SECRET");
    }
    idaas_client_free(client);
    client = NULL;
    /* it wins over CLOUD_IDAAS_CONFIG_PATH */
    setenv("CLOUD_IDAAS_CONFIG_PATH", bad, 1);
    CHECK_CODE(idaas_init(path, &client, &err), err, IDAAS_CODE_OK);
    idaas_client_free(client);
    client = NULL;
    unsetenv("CLOUD_IDAAS_CONFIG_PATH");
    EXPECT_ERR(idaas_init("/nonexistent/idaas-init.json", &client, ERR), IDAAS_CODE_CONFIG, "not found");
    EXPECT_ERR(idaas_init("\xff", &client, ERR), IDAAS_CODE_INVALID_UTF8, NULL);
    EXPECT_ERR(idaas_init(path, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "client_out");
    {
        idaas_error *e = NULL;
        CHECK(idaas_init(bad, &client, &e) == IDAAS_CODE_CONFIG);
        CHECK_STR_EQ(idaas_error_server_code(e), "ClientIdNotFound");
        idaas_error_free(e);
    }
    /* a PLUGIN config needs its plugin added to a config first: init cannot make that client */
    {
        char ppath[320];
        snprintf(ppath, sizeof ppath, "%s/init-plugin.json", g_tmpdir);
        CHECK(write_file(ppath, plugin_config_json(PLUGIN_NAME)) == 0);
        EXPECT_ERR(idaas_init(ppath, &client, ERR), IDAAS_CODE_CONFIG, PLUGIN_NAME);
        unlink(ppath);
    }

    /* NULL: CLOUD_IDAAS_CONFIG_PATH (the file it names is the one read: a bad one fails) */
    setenv("CLOUD_IDAAS_CONFIG_PATH", path, 1);
    CHECK_CODE(idaas_init(NULL, &client, &err), err, IDAAS_CODE_OK);
    idaas_client_free(client);
    client = NULL;
    setenv("CLOUD_IDAAS_CONFIG_PATH", bad, 1);
    {
        idaas_error *e = NULL;
        CHECK(idaas_init(NULL, &client, &e) == IDAAS_CODE_CONFIG);
        CHECK_STR_EQ(idaas_error_server_code(e), "ClientIdNotFound");
        idaas_error_free(e);
    }
    setenv("CLOUD_IDAAS_CONFIG_PATH", "   ", 1); /* blank: ignored, like unset */

    /* NULL without the variable: ~/.cloud_idaas/client-config.json */
    char home[320];
    make_home(home, sizeof home, "home-good", "client-config.json", SECRET_POST_CONFIG);
    setenv("HOME", home, 1);
    CHECK_CODE(idaas_init(NULL, &client, &err), err, IDAAS_CODE_OK);
    idaas_client_free(client);
    client = NULL;
    /* a leading ~ of an explicit path is the home directory too */
    CHECK_CODE(idaas_init("~/.cloud_idaas/client-config.json", &client, &err), err, IDAAS_CODE_OK);
    idaas_client_free(client);
    client = NULL;
    unsetenv("CLOUD_IDAAS_CONFIG_PATH");

    /* only ~/.cloud_idaas/client_config.json (underscore): CONFIG, and the message says to rename it */
    make_home(home, sizeof home, "home-underscore", "client_config.json", SECRET_POST_CONFIG);
    setenv("HOME", home, 1);
    {
        idaas_error *e = NULL;
        CHECK(idaas_init(NULL, &client, &e) == IDAAS_CODE_CONFIG);
        CHECK_STR_EQ(idaas_error_server_code(e), "LoadConfigFileFailed");
        CHECK_CONTAINS(idaas_error_message(e), "client_config.json");
        CHECK_CONTAINS(idaas_error_message(e), "rename");
        CHECK_CONTAINS(idaas_error_message(e), "client-config.json");
        idaas_error_free(e);
        /* idaas_config_load has the same lookup */
        idaas_config *cfg = NULL;
        EXPECT_ERR(idaas_config_load(NULL, &cfg, ERR), IDAAS_CODE_CONFIG, "rename");
    }
    /* neither file: CONFIG without the rename hint */
    make_home(home, sizeof home, "home-empty", NULL, NULL);
    setenv("HOME", home, 1);
    {
        idaas_error *e = NULL;
        CHECK(idaas_init(NULL, &client, &e) == IDAAS_CODE_CONFIG);
        CHECK_STR_EQ(idaas_error_server_code(e), "LoadConfigFileFailed");
        CHECK_CONTAINS(idaas_error_message(e), "CLOUD_IDAAS_CONFIG_PATH");
        CHECK(strstr(idaas_error_message(e), "rename") == NULL);
        idaas_error_free(e);
    }

    if (saved_home) setenv("HOME", saved_home, 1);
    else unsetenv("HOME");
    free(saved_home);
    unlink(path);
    unlink(bad);
}

/* ---- plugins belong to a config ------------------------------------------------------------------ */

static void test_config_add_plugin(void) {
    idaas_error *err = NULL;
    idaas_client *client = NULL;

    /* argument errors: free_user_data is not called */
    {
        plugin_ud ud = {"t", 0, 0};
        idaas_config *cfg = new_config(plugin_config_json(PLUGIN_NAME));
        EXPECT_ERR(idaas_config_add_plugin(NULL, PLUGIN_NAME, ud_plugin, &ud, ud_plugin_free, ERR), IDAAS_CODE_NULL_ARGUMENT, "config");
        EXPECT_ERR(idaas_config_add_plugin(cfg, NULL, ud_plugin, &ud, ud_plugin_free, ERR), IDAAS_CODE_NULL_ARGUMENT, "name");
        EXPECT_ERR(idaas_config_add_plugin(cfg, PLUGIN_NAME, NULL, &ud, ud_plugin_free, ERR), IDAAS_CODE_NULL_ARGUMENT, "callback");
        EXPECT_ERR(idaas_config_add_plugin(cfg, " ", ud_plugin, &ud, ud_plugin_free, ERR), IDAAS_CODE_INVALID_ARGUMENT, "blank");
        EXPECT_ERR(idaas_config_add_plugin(cfg, "\xff", ud_plugin, &ud, ud_plugin_free, ERR), IDAAS_CODE_INVALID_UTF8, NULL);
        /* a PLUGIN config whose plugin was not added to it: no client */
        EXPECT_ERR(idaas_client_new(cfg, NULL, &client, ERR), IDAAS_CODE_CONFIG, PLUGIN_NAME);
        /* a plugin under another name does not help */
        CHECK_CODE(idaas_config_add_plugin(cfg, "another-name", ud_plugin, &ud, ud_plugin_free, &err), err, IDAAS_CODE_OK);
        EXPECT_ERR(idaas_client_new(cfg, NULL, &client, ERR), IDAAS_CODE_CONFIG, PLUGIN_NAME);
        CHECK(ud.freed == 0);
        idaas_config_free(cfg);
        CHECK(ud.freed == 1); /* the config was its only user */
        CHECK(ud.calls == 0);
    }
    /* the setters reject bad arguments */
    EXPECT_ERR(idaas_plugin_result_set_token(NULL, "t", 1, ERR), IDAAS_CODE_NULL_ARGUMENT, "result");
    EXPECT_ERR(idaas_plugin_result_set_error(NULL, "m", ERR), IDAAS_CODE_NULL_ARGUMENT, "result");

    /* two configs, different plugins under the same name: neither sees the other's */
    {
        plugin_ud ua = {"token-from-config-a", 0, 0}, ub = {"token-from-config-b", 0, 0};
        idaas_config *cfg_a = new_plugin_config("shared-name", ud_plugin, &ua, ud_plugin_free);
        idaas_config *cfg_b = new_plugin_config("shared-name", ud_plugin, &ub, ud_plugin_free);
        idaas_config *cfg_c = new_config(plugin_config_json("shared-name")); /* none added */
        idaas_client *ca = new_client(cfg_a, NULL), *cb = new_client(cfg_b, NULL);
        char *ta = token_of(ca, NULL), *tb = token_of(cb, NULL);
        CHECK_STR_EQ(ta, "token-from-config-a");
        CHECK_STR_EQ(tb, "token-from-config-b");
        free(ta);
        free(tb);
        CHECK(ua.calls == 1 && ub.calls == 1);
        EXPECT_ERR(idaas_client_new(cfg_c, NULL, &client, ERR), IDAAS_CODE_CONFIG, "shared-name");
        idaas_config_free(cfg_c);

        /* free_user_data runs once, after the config AND every client made from it are gone */
        idaas_client *ca2 = new_client(cfg_a, NULL);
        idaas_config_free(cfg_a);
        CHECK(ua.freed == 0); /* freed the config, clients remain */
        ta = token_of(ca, "api://a|after-config-free");
        CHECK_STR_EQ(ta, "token-from-config-a");
        free(ta);
        idaas_client_free(ca);
        CHECK(ua.freed == 0); /* ca2 remains */
        idaas_provider *pa = NULL;
        CHECK_CODE(idaas_client_get_provider(ca2, "api://a|provider", &pa, &err), err, IDAAS_CODE_OK);
        idaas_client_free(ca2);
        CHECK(ua.freed == 0); /* a provider made from ca2 remains */
        char *pt = NULL;
        CHECK_CODE(idaas_provider_get_token(pa, &pt, &err), err, IDAAS_CODE_OK);
        CHECK_STR_EQ(pt, "token-from-config-a");
        idaas_string_free(pt);
        idaas_provider_free(pa);
        CHECK(ua.freed == 1);

        /* the other order: clients first, then the config */
        idaas_client_free(cb);
        CHECK(ub.freed == 0);
        idaas_config_free(cfg_b);
        CHECK(ub.freed == 1);
        CHECK(ua.freed == 1 && ub.freed == 1); /* never twice */
    }

    /* adding a name again replaces the plugin for later clients; earlier clients keep theirs */
    {
        plugin_ud u1 = {"first-plugin", 0, 0}, u2 = {"second-plugin", 0, 0}, u3 = {"third-plugin", 0, 0};
        idaas_config *cfg = new_plugin_config("replaced", ud_plugin, &u1, ud_plugin_free);
        idaas_client *c1 = new_client(cfg, NULL);
        CHECK_CODE(idaas_config_add_plugin(cfg, "replaced", ud_plugin, &u2, ud_plugin_free, &err), err, IDAAS_CODE_OK);
        CHECK(u1.freed == 0); /* c1 uses it */
        idaas_client *c2 = new_client(cfg, NULL);
        char *t1 = token_of(c1, NULL), *t2 = token_of(c2, NULL);
        CHECK_STR_EQ(t1, "first-plugin");
        CHECK_STR_EQ(t2, "second-plugin");
        free(t1);
        free(t2);
        CHECK_CODE(idaas_config_add_plugin(cfg, "replaced", ud_plugin, &u3, ud_plugin_free, &err), err, IDAAS_CODE_OK);
        CHECK(u2.freed == 0); /* c2 uses it */
        idaas_client_free(c1);
        CHECK(u1.freed == 1);
        idaas_client_free(c2);
        CHECK(u2.freed == 1);
        CHECK(u3.freed == 0);
        idaas_config_free(cfg);
        CHECK(u3.freed == 1); /* replaced before any client used it: released with the config */
        CHECK(u1.freed == 1 && u2.freed == 1);
    }

    /* NULL free_user_data: nothing to release (and nothing crashes) */
    {
        plugin_ud u = {"no-free", 0, 0};
        idaas_config *cfg = new_plugin_config("no-free", ud_plugin, &u, NULL);
        idaas_client *c = new_client(cfg, NULL);
        idaas_config_free(cfg);
        char *t = token_of(c, NULL);
        CHECK_STR_EQ(t, "no-free");
        free(t);
        idaas_client_free(c);
        CHECK(u.freed == 0);
    }
}

static int32_t failing_plugin(void *user_data, const char *scope, idaas_plugin_result *result) {
    (void)scope;
    __atomic_fetch_add((long *)user_data, 1, __ATOMIC_RELAXED);
    idaas_plugin_result_set_error(result, "this plugin always fails", NULL);
    return 1;
}

static void test_client_constructors(void) {
    idaas_client *client = NULL;
    idaas_config *cfg = g_plugin_cfg;
    idaas_error *err = NULL;

    CHECK_CODE(idaas_client_new(cfg, NULL, &client, &err), err, IDAAS_CODE_OK);
    char *token = NULL;
    CHECK_CODE(idaas_client_get_token(client, NULL, &token, &err), err, IDAAS_CODE_OK);
    CHECK(token != NULL && strlen(token) == TOKEN_LEN);
    idaas_string_free(token);
    idaas_client_free(client);
    client = NULL;
    idaas_client_free(NULL);

    /* the client does not borrow the config */
    {
        idaas_config *own = new_plugin_config(PLUGIN_NAME, test_plugin, &g_plugin_calls, NULL);
        client = new_client(own, NULL);
        idaas_config_free(own);
        char *t = token_of(client, NULL);
        CHECK_STR_EQ(t, g_plugin_token);
        free(t);
        idaas_client_free(client);
        client = NULL;
    }

    CHECK_CODE(idaas_client_new(cfg, "{\"userAgentSuffix\":\"c-test/1.0\",\"asyncRefresh\":true,\"prefetch\":true}",
                                &client, &err), err, IDAAS_CODE_OK);
    idaas_client_free(client);
    client = NULL;
    CHECK_CODE(idaas_client_new(cfg, "{}", &client, &err), err, IDAAS_CODE_OK);
    idaas_client_free(client);
    client = NULL;
    CHECK_CODE(idaas_client_new(cfg, "", &client, &err), err, IDAAS_CODE_OK); /* "" = defaults */
    idaas_client_free(client);
    client = NULL;
    EXPECT_ERR(idaas_client_new(cfg, "{\"userAgentSufix\":\"typo\"}", &client, ERR), IDAAS_CODE_INVALID_ARGUMENT, "userAgentSufix");
    EXPECT_ERR(idaas_client_new(cfg, "{\"prefetch\":\"yes\"}", &client, ERR), IDAAS_CODE_INVALID_ARGUMENT, "options_json");
    EXPECT_ERR(idaas_client_new(cfg, "not json", &client, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);
    EXPECT_ERR(idaas_client_new(cfg, "[1]", &client, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);
    EXPECT_ERR(idaas_client_new(cfg, "{}", NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "client_out");
    EXPECT_ERR(idaas_client_new(NULL, NULL, &client, ERR), IDAAS_CODE_NULL_ARGUMENT, "config");
    EXPECT_ERR(idaas_client_new(cfg, "\xff", &client, ERR), IDAAS_CODE_INVALID_UTF8, NULL);
    /* prefetch surfaces a failing token source in the constructor; without it nothing is fetched */
    {
        long calls = 0;
        idaas_config *failing = new_plugin_config(PLUGIN_NAME, failing_plugin, &calls, NULL);
        EXPECT_ERR(idaas_client_new(failing, "{\"prefetch\":true}", &client, ERR), IDAAS_CODE_CREDENTIAL, "always fails");
        CHECK(calls == 1);
        CHECK_CODE(idaas_client_new(failing, "{\"prefetch\":false}", &client, &err), err, IDAAS_CODE_OK);
        CHECK(calls == 1);
        idaas_client_free(client);
        client = NULL;
        idaas_config_free(failing);
    }

    /* from a file, and from the default lookup (CLOUD_IDAAS_CONFIG_PATH), with options */
    char path[320];
    snprintf(path, sizeof path, "%s/plugin-config.json", g_tmpdir);
    CHECK(write_file(path, plugin_config_json(PLUGIN_NAME)) == 0);
    const char *lookups[] = {path, NULL};
    setenv("CLOUD_IDAAS_CONFIG_PATH", path, 1);
    for (int i = 0; i < 2; i++) {
        idaas_config *loaded = NULL;
        CHECK_CODE(idaas_config_load(lookups[i], &loaded, &err), err, IDAAS_CODE_OK);
        if (!loaded) continue;
        CHECK_CODE(idaas_config_add_plugin(loaded, PLUGIN_NAME, test_plugin, &g_plugin_calls, NULL, &err), err, IDAAS_CODE_OK);
        CHECK_CODE(idaas_client_new(loaded, NULL, &client, &err), err, IDAAS_CODE_OK);
        idaas_client_free(client);
        client = NULL;
        CHECK_CODE(idaas_client_new(loaded, "{\"prefetch\":true}", &client, &err), err, IDAAS_CODE_OK);
        idaas_client_free(client);
        client = NULL;
        EXPECT_ERR(idaas_client_new(loaded, "{\"bad\":true}", &client, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);
        EXPECT_ERR(idaas_client_new(loaded, NULL, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, NULL);
        idaas_config_free(loaded);
    }
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
    idaas_buffer_wipe(exact, TOKEN_LEN + 1);
    free(exact);
    CHECK_CODE(idaas_client_get_token_into(client, "api://svc|write", buf, sizeof buf, &len, &err), err, IDAAS_CODE_OK);
    CHECK_STR_EQ(buf, "scoped-api://svc|write");
    EXPECT_ERR(idaas_client_get_token_into(NULL, NULL, buf, sizeof buf, &len, ERR), IDAAS_CODE_NULL_ARGUMENT, "client");
    EXPECT_ERR(idaas_client_get_token_into(client, NULL, buf, sizeof buf, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "len_out");
    EXPECT_ERR(idaas_client_get_token_into(client, "\xff", buf, sizeof buf, &len, ERR), IDAAS_CODE_INVALID_UTF8, NULL);
    EXPECT_ERR(idaas_client_get_token_into(client, "api://fail|z", buf, sizeof buf, &len, ERR), IDAAS_CODE_CREDENTIAL, NULL);
    idaas_buffer_wipe(buf, sizeof buf);

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
        idaas_buffer_wipe(buf, sizeof buf);
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
    EXPECT_ERR(idaas_provider_new_from_credential_json("{\"token_type\":\"Bearer\"}", &p, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);
    EXPECT_ERR(idaas_provider_new_from_credential_json("{\"access_token\":42}", &p, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);
    EXPECT_ERR(idaas_provider_new_from_credential_json("{\"access_token\":\"\"}", &p, ERR), IDAAS_CODE_INVALID_ARGUMENT, "blank");
    EXPECT_ERR(idaas_provider_new_from_credential_json("nope", &p, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);
    EXPECT_ERR(idaas_provider_new_from_credential_json(NULL, &p, ERR), IDAAS_CODE_NULL_ARGUMENT, NULL);
    EXPECT_ERR(idaas_provider_new_from_credential_json("{\"access_token\":\"a\"}", NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, NULL);
    /* the access token must be a bearer token (RFC 6750 characters): refused when the provider is
     * made, not when the token is used; an embedded NUL could not even become a C string */
    {
        static const char *refused[] = {
            "{\"access_token\":\"a b\"}",          /* a space */
            "{\"access_token\":\"a\\tb\"}",        /* a tab */
            "{\"access_token\":\"a\\nb\"}",        /* a line break: a header injection */
            "{\"access_token\":\"a\\u0001b\"}",    /* another control character */
            "{\"access_token\":\"a\\u007fb\"}",    /* DEL */
            "{\"access_token\":\"a\\u0000b\"}",    /* NUL */
            "{\"access_token\":\"t\\u00e9\"}",     /* not ASCII */
            "{\"access_token\":\" leading\"}",
        };
        for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
            p = NULL;
            idaas_error *e = NULL;
            idaas_code rc = idaas_provider_new_from_credential_json(refused[i], &p, &e);
            if (rc == IDAAS_CODE_INVALID_ARGUMENT && p == NULL && strstr(idaas_error_message(e), "access_token") != NULL) {
                PASS();
            } else {
                FAIL_AT(__FILE__, __LINE__, "credential JSON %s -> %u (%s)", refused[i], (unsigned)rc, idaas_error_message(e));
            }
            idaas_error_free(e);
            idaas_provider_free(p);
        }
        /* the whole RFC 6750 character set is accepted */
        CHECK_CODE(idaas_provider_new_from_credential_json("{\"access_token\":\"aZ09-._~+/==\",\"scope\":\"s|x\"}", &p, &err),
                   err, IDAAS_CODE_OK);
        CHECK_CODE(idaas_provider_get_token(p, &token, &err), err, IDAAS_CODE_OK);
        CHECK_STR_EQ(token, "aZ09-._~+/==");
        idaas_string_free(token);
        idaas_provider_free(p);
    }
    idaas_buffer_wipe(buf, sizeof buf);
}

/* ---- threads ------------------------------------------------------------------------------------ */

#define THREADS 16

typedef struct {
    const idaas_client *client;
    int iterations;
    long ok;
    plugin_ud ud; /* create_use_free_worker: the plugin user data of its configs */
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

/* Each cycle: a config with its own plugin (user data per thread), a client from it and from the
 * shared g_plugin_cfg (const: usable from many threads), a provider that outlives both. */
static void *create_use_free_worker(void *arg) {
    shared_arg *a = (shared_arg *)arg;
    for (int i = 0; i < a->iterations; i++) {
        idaas_config *cfg = NULL;
        idaas_client *client = NULL, *shared = NULL;
        idaas_provider *p = NULL;
        char *token = NULL;
        if (idaas_config_from_json(plugin_config_json(PLUGIN_NAME), &cfg, NULL) != IDAAS_CODE_OK) continue;
        if (idaas_config_add_plugin(cfg, PLUGIN_NAME, ud_plugin, &a->ud, ud_plugin_free, NULL) != IDAAS_CODE_OK ||
            idaas_client_new(cfg, NULL, &client, NULL) != IDAAS_CODE_OK) {
            idaas_config_free(cfg);
            continue;
        }
        idaas_config_free(cfg);
        if (idaas_client_get_provider(client, NULL, &p, NULL) == IDAAS_CODE_OK) {
            idaas_client_free(client);
            client = NULL;
            if (idaas_provider_get_token(p, &token, NULL) == IDAAS_CODE_OK && strcmp(token, g_plugin_token) == 0)
                a->ok++;
            idaas_string_free(token);
            token = NULL;
            idaas_provider_free(p);
        }
        idaas_client_free(client);
        if (idaas_client_new(g_plugin_cfg, NULL, &shared, NULL) == IDAAS_CODE_OK) {
            if (idaas_client_get_token(shared, NULL, &token, NULL) == IDAAS_CODE_OK && strcmp(token, g_plugin_token) == 0)
                a->ok++;
            idaas_string_free(token);
            idaas_client_free(shared);
        }
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
    static shared_arg args[THREADS];
    int iters = g_slow ? 200 : 20000;
    for (int i = 0; i < THREADS; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].client = client;
        args[i].iterations = iters;
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
        memset(&args[i], 0, sizeof args[i]);
        args[i].iterations = cycles;
        args[i].ud.token = g_plugin_token;
        pthread_create(&th[i], NULL, create_use_free_worker, &args[i]);
    }
    ok = 0;
    long freed = 0, calls = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ok += args[i].ok;
        freed += args[i].ud.freed;
        calls += args[i].ud.calls;
    }
    CHECK(ok == (long)THREADS * cycles * 2);
    CHECK(calls == (long)THREADS * cycles); /* one fetch per config's client */
    CHECK(freed == (long)THREADS * cycles); /* every plugin released once, with its last handle */
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
    idaas_config *cfg = new_plugin_config(REENTRANT_PLUGIN, reentrant_plugin, NULL, NULL);
    g_reentrant_client = new_client(cfg, NULL);
    idaas_config_free(cfg);
    if (!g_reentrant_client) return;
    /* On a thread with a deadline: before the fix this call waited for itself forever. */
    idaas_error *outer = NULL;
    pthread_t th;
    pthread_create(&th, NULL, reentrant_outer, &outer);
    if (join_within(th, 10) != 0) {
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

/* The same from another thread: the plugin starts a thread that asks the same client for the same
 * scope and joins it. That call cannot be detected as re-entrant (another thread); it waits for the
 * refresh in progress, and gives up after twice the call budget (callTimeout 2000 ms: 4 s) with
 * IDAAS_CODE_TIMEOUT / RefreshWaitTimeout, so the plugin can return. */
#define XTHREAD_PLUGIN "c-xthread-plugin"
#define XTHREAD_CONFIG                                                                             \
    "{\"idaasInstanceId\":\"idaas_test\",\"clientId\":\"app_test\","                              \
    "\"issuer\":\"http://127.0.0.1:9/oauth2\",\"tokenEndpoint\":\"http://127.0.0.1:9/oauth2/token\"," \
    "\"authnConfiguration\":{\"authnMethod\":\"PLUGIN\",\"pluginName\":\"" XTHREAD_PLUGIN "\"},"   \
    "\"httpConfiguration\":{\"connectTimeout\":2000,\"readTimeout\":2000,\"callTimeout\":2000}}"

typedef struct {
    const idaas_client *client;
    long plugin_calls;
    int inner_joined;         /* 1 when the inner thread came back within the plugin's deadline */
    idaas_code inner_code;
    char inner_server_code[64];
    int inner_retryable;
    double inner_secs;
    idaas_code outer_code;
    char outer_token[64];
} xthread_ctx;

static void *xthread_inner(void *arg) {
    xthread_ctx *x = (xthread_ctx *)arg;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char *token = NULL;
    idaas_error *err = NULL;
    x->inner_code = idaas_client_get_token(x->client, NULL, &token, &err);
    x->inner_secs = secs_since(&t0);
    const char *sc = idaas_error_server_code(err);
    snprintf(x->inner_server_code, sizeof x->inner_server_code, "%s", sc ? sc : "");
    x->inner_retryable = idaas_error_is_retryable(err);
    idaas_string_free(token);
    idaas_error_free(err);
    return NULL;
}

static int32_t xthread_plugin(void *user_data, const char *scope, idaas_plugin_result *result) {
    xthread_ctx *x = (xthread_ctx *)user_data;
    (void)scope;
    if (__atomic_fetch_add(&x->plugin_calls, 1, __ATOMIC_RELAXED) == 0) {
        pthread_t th;
        pthread_create(&th, NULL, xthread_inner, x);
        if (join_within(th, 30) == 0) {
            x->inner_joined = 1;
        } else {
            /* a regression: the inner call hangs; fail instead of hanging the test run */
            idaas_plugin_result_set_error(result, "the inner call did not return", NULL);
            return 1;
        }
    }
    return (int32_t)idaas_plugin_result_set_token(result, "xthread-token", 3600, NULL);
}

static void *xthread_outer(void *arg) {
    xthread_ctx *x = (xthread_ctx *)arg;
    char *token = NULL;
    x->outer_code = idaas_client_get_token(x->client, NULL, &token, NULL);
    if (token) snprintf(x->outer_token, sizeof x->outer_token, "%s", token);
    idaas_string_free(token);
    return NULL;
}

static void test_plugin_reentrant_other_thread(void) {
    static xthread_ctx x;
    memset(&x, 0, sizeof x);
    x.inner_code = x.outer_code = IDAAS_CODE_INTERNAL;
    idaas_config *cfg = new_config(XTHREAD_CONFIG);
    idaas_error *err = NULL;
    CHECK_CODE(idaas_config_add_plugin(cfg, XTHREAD_PLUGIN, xthread_plugin, &x, NULL, &err), err, IDAAS_CODE_OK);
    idaas_client *client = new_client(cfg, NULL);
    idaas_config_free(cfg);
    if (!client) return;
    x.client = client;
    pthread_t th;
    pthread_create(&th, NULL, xthread_outer, &x);
    if (join_within(th, 45) != 0) {
        FAIL_AT(__FILE__, __LINE__, "%s", "a plugin waiting for its own client on another thread deadlocked");
        return; /* the client stays in use by the stuck threads */
    }
    CHECK(x.inner_joined == 1);
    CHECK(x.inner_code == IDAAS_CODE_TIMEOUT);
    CHECK_STR_EQ(x.inner_server_code, "RefreshWaitTimeout");
    CHECK(x.inner_retryable);
    /* it waited about twice the call budget (4 s), not forever and not zero */
    if (x.inner_secs >= 3.5 && x.inner_secs < 15.0) PASS();
    else FAIL_AT(__FILE__, __LINE__, "the inner call gave up after %.2f s, expected about 4 s", x.inner_secs);
    /* the plugin then returned its token to the outer call, which was fetched once */
    CHECK(x.outer_code == IDAAS_CODE_OK);
    CHECK_STR_EQ(x.outer_token, "xthread-token");
    CHECK(x.plugin_calls == 1);
    char *t = token_of(client, NULL); /* cached now */
    CHECK_STR_EQ(t, "xthread-token");
    free(t);
    CHECK(x.plugin_calls == 1);
    idaas_client_free(client);
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
    g_plugin_cfg = new_plugin_config(PLUGIN_NAME, test_plugin, &g_plugin_calls, NULL);
    if (!g_plugin_cfg) return harness_summary();

    test_version_and_codes();
    test_code_class();
    test_error_accessors_null();
    test_panic();
    test_buffer_wipe();
    test_cancel();
    test_global_logger();
    test_global_logger_set_from_callback();
    test_config_logger();
    test_config_logger_reentrant();
    test_config();
    test_init();
    test_config_add_plugin();
    test_client_constructors();
    test_client_tokens();
    test_providers();
    test_threads();
    test_plugin_reentrant_call();
    test_plugin_reentrant_other_thread();
    run_emulator_tests();

    idaas_config_free(g_plugin_cfg);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "note: could not remove %s\n", g_tmpdir);
    return harness_summary();
}
