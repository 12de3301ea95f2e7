/*
 * Emulator-backed tests (included by test_ffi.c): idaas_init from each place it looks, the token
 * endpoint, token exchange, server errors through the emulator's fault API (/_emulator/faults) with
 * the library's retry verdict (idaas_error_is_retryable), the built-in Alibaba Cloud plugin
 * (test_alibaba.h), and every PAM operation.
 */
#ifndef IDAAS_TEST_EMULATOR_H
#define IDAAS_TEST_EMULATOR_H

static emulator g_em;
static char *g_cfg_post;   /* client config JSON (CLIENT_SECRET_POST) */
static char *g_secret;     /* the emulator's client secret */

static void add_fault(const char *spec) {
    char body[512];
    snprintf(body, sizeof body, "{\"spec\":\"%s\"}", spec);
    int status = emulator_http(&g_em, "POST", "/_emulator/faults", body, NULL);
    if (status != 200) FAIL_AT(__FILE__, __LINE__, "adding fault %s: HTTP %d", spec, status);
}

static void clear_faults(void) {
    emulator_http(&g_em, "DELETE", "/_emulator/faults", NULL, NULL);
}

/* A client from config JSON text with `options_json` (NULL with the failure recorded, or with the
 * error in *err_out when err_out is not NULL). */
static idaas_client *client_from_json(const char *json, const char *options_json, idaas_error **err_out) {
    idaas_config *cfg = NULL;
    idaas_client *client = NULL;
    idaas_error *err = NULL;
    if (idaas_config_from_json(json, &cfg, &err) == IDAAS_CODE_OK) {
        idaas_client_new(cfg, options_json, &client, &err);
        idaas_config_free(cfg); /* the client does not borrow it */
    }
    if (!client) {
        if (err_out) {
            *err_out = err;
        } else {
            FAIL_AT(__FILE__, __LINE__, "client: %s", idaas_error_message(err));
            idaas_error_free(err);
        }
    }
    return client;
}

static idaas_client *new_emulator_client(void) { return client_from_json(g_cfg_post, NULL, NULL); }

/* ---- token endpoint ---------------------------------------------------------------------------- */

/* A TRACE-level log callback that looks for secrets in every record. */
static long g_trace_records = 0, g_trace_leaks = 0;
static void secret_watch_cb(uint32_t level, const char *target, const char *message, void *user_data) {
    const char *secret = (const char *)user_data;
    __atomic_fetch_add(&g_trace_records, 1, __ATOMIC_RELAXED);
    /* the HTTP stack's TRACE records hex-dump raw requests (secrets split across rows) */
    int raw_dump = level == IDAAS_LOG_LEVEL_TRACE && (strncmp(target, "ureq", 4) == 0 || strncmp(target, "rustls", 6) == 0);
    if (raw_dump || strstr(message, secret) || strstr(message, "Bearer ey") || strstr(message, "\"access_token\":\"ey") ||
        strstr(message, "client_secret="))
        __atomic_fetch_add(&g_trace_leaks, 1, __ATOMIC_RELAXED);
}

static void test_emulator_log_no_secrets(void) {
    idaas_error *err = NULL;
    CHECK_CODE(idaas_log_set_callback(secret_watch_cb, g_secret, IDAAS_LOG_LEVEL_TRACE, &err), err, IDAAS_CODE_OK);
    idaas_client *client = new_emulator_client();
    char *token = NULL;
    if (client) {
        CHECK_CODE(idaas_client_get_token(client, NULL, &token, &err), err, IDAAS_CODE_OK);
        idaas_string_free(token);
        idaas_pam *pam = NULL;
        CHECK_CODE(idaas_pam_new(client, NULL, &pam, &err), err, IDAAS_CODE_OK);
        char *key = NULL;
        CHECK_CODE(idaas_pam_get_api_key(pam, "openai_prod_key", &key, &err), err, IDAAS_CODE_OK);
        idaas_string_free(key);
        idaas_pam_free(pam);
        idaas_client_free(client);
    }
    CHECK_CODE(idaas_log_set_callback(NULL, NULL, IDAAS_LOG_LEVEL_OFF, &err), err, IDAAS_CODE_OK);
    CHECK(g_trace_records > 0);  /* something was logged at DEBUG/TRACE ... */
    CHECK(g_trace_leaks == 0);   /* ... and no record carried a secret */
}

/* idaas_init against the server: the quick start of the header, from each place it looks. */
static void test_emulator_init(void) {
    idaas_client *client = NULL;
    idaas_error *err = NULL;
    char path[400];
    snprintf(path, sizeof path, "%s/client-config.json", g_em.dir);
    CHECK(write_file(path, g_cfg_post) == 0);
    char *saved_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;

    /* an explicit path */
    unsetenv("CLOUD_IDAAS_CONFIG_PATH");
    CHECK_CODE(idaas_init(path, &client, &err), err, IDAAS_CODE_OK);
    char *token = NULL;
    if (client) {
        CHECK_CODE(idaas_client_get_token(client, NULL, &token, &err), err, IDAAS_CODE_OK);
        CHECK(token != NULL && strlen(token) > 20);
        idaas_string_free(token);
        token = NULL;
    }
    idaas_client_free(client);
    client = NULL;

    /* NULL: CLOUD_IDAAS_CONFIG_PATH */
    setenv("CLOUD_IDAAS_CONFIG_PATH", path, 1);
    CHECK_CODE(idaas_init(NULL, &client, &err), err, IDAAS_CODE_OK);
    if (client) {
        CHECK_CODE(idaas_client_get_token(client, "api.example.com|read:file", &token, &err), err, IDAAS_CODE_OK);
        idaas_string_free(token);
        token = NULL;
    }
    idaas_client_free(client);
    client = NULL;
    unsetenv("CLOUD_IDAAS_CONFIG_PATH");

    /* NULL: ~/.cloud_idaas/client-config.json */
    char home[400], dir[420], file[460];
    snprintf(home, sizeof home, "%s/home", g_em.dir);
    snprintf(dir, sizeof dir, "%s/.cloud_idaas", home);
    snprintf(file, sizeof file, "%s/client-config.json", dir);
    mkdir(home, 0700);
    mkdir(dir, 0700);
    CHECK(write_file(file, g_cfg_post) == 0);
    setenv("HOME", home, 1);
    CHECK_CODE(idaas_init(NULL, &client, &err), err, IDAAS_CODE_OK);
    if (client) {
        CHECK_CODE(idaas_client_get_token(client, NULL, &token, &err), err, IDAAS_CODE_OK);
        idaas_string_free(token);
    }
    idaas_client_free(client);
    if (saved_home) setenv("HOME", saved_home, 1);
    else unsetenv("HOME");
    free(saved_home);
}

static void test_emulator_tokens(void) {
    idaas_client *client = new_emulator_client();
    if (!client) return;
    idaas_error *err = NULL;
    char *token = NULL;
    CHECK_CODE(idaas_client_get_token(client, NULL, &token, &err), err, IDAAS_CODE_OK);
    CHECK(token != NULL && strlen(token) > 20);
    char *again = NULL;
    CHECK_CODE(idaas_client_get_token(client, NULL, &again, &err), err, IDAAS_CODE_OK);
    CHECK_STR_EQ(token, again); /* cached */
    idaas_string_free(again);
    idaas_string_free(token);
    CHECK_CODE(idaas_client_get_token(client, "api.example.com|read:file", &token, &err), err, IDAAS_CODE_OK);
    idaas_string_free(token);
    char buf[4096];
    size_t len = 0;
    CHECK_CODE(idaas_client_get_token_into(client, "api.example.com|write:file", buf, sizeof buf, &len, &err),
               err, IDAAS_CODE_OK);
    CHECK(len > 20 && strlen(buf) == len);
    idaas_buffer_wipe(buf, sizeof buf);

    /* a scope the client was not granted: refused by the server */
    {
        idaas_error *e = NULL;
        idaas_code rc = idaas_client_get_token(client, "api.example.com|admin", &token, &e);
        CHECK(rc == IDAAS_CODE_AUTH);
        CHECK(idaas_error_http_status(e) >= 400 && idaas_error_http_status(e) < 500);
        CHECK(idaas_error_server_code(e) != NULL);
        CHECK_STR_EQ(idaas_error_kind_name(e), "auth");
        CHECK(!idaas_error_is_retryable(e));
        idaas_error_free(e);
    }
    idaas_client_free(client);

    /* the wrong client secret: 401 invalid_client with a request id */
    setenv("IDAAS_CLIENT_SECRET", "not-the-secret", 1);
    client = new_emulator_client();
    {
        idaas_error *e = NULL;
        CHECK(idaas_client_get_token(client, NULL, &token, &e) == IDAAS_CODE_AUTH);
        CHECK(idaas_error_http_status(e) == 401);
        CHECK_STR_EQ(idaas_error_server_code(e), "invalid_client");
        CHECK(idaas_error_request_id(e) != NULL);
        CHECK(strstr(idaas_error_message(e), "not-the-secret") == NULL); /* never a secret */
        CHECK(!idaas_error_is_retryable(e));
        idaas_error_free(e);
    }
    idaas_client_free(client);

    /* the secret variable unset: a local credential error, no request */
    unsetenv("IDAAS_CLIENT_SECRET");
    client = new_emulator_client();
    EXPECT_ERR(idaas_client_get_token(client, NULL, &token, ERR), IDAAS_CODE_CREDENTIAL, "IDAAS_CLIENT_SECRET");
    idaas_client_free(client);
    setenv("IDAAS_CLIENT_SECRET", g_secret, 1);

    /* prefetch surfaces errors in the constructor */
    setenv("IDAAS_CLIENT_SECRET", "wrong", 1);
    {
        idaas_error *e = NULL;
        client = client_from_json(g_cfg_post, "{\"prefetch\":true}", &e);
        CHECK(client == NULL);
        CHECK(idaas_error_code(e) == IDAAS_CODE_AUTH);
        CHECK(!idaas_error_is_retryable(e)); /* a refused credential: trying again does not help */
        idaas_error_free(e);
        idaas_client_free(client);
    }
    setenv("IDAAS_CLIENT_SECRET", g_secret, 1);
    client = client_from_json(g_cfg_post, "{\"prefetch\":true}", NULL);
    CHECK(client != NULL);
    idaas_client_free(client);
}

static void test_emulator_faults(void) {
    idaas_client *client = NULL;
    char *token = NULL;

    add_fault("token=status/503:10");
    client = new_emulator_client();
    {
        idaas_error *e = NULL;
        CHECK(idaas_client_get_token(client, NULL, &token, &e) == IDAAS_CODE_SERVER_ERROR);
        CHECK(idaas_error_http_status(e) == 503);
        CHECK_STR_EQ(idaas_error_kind_name(e), "server");
        CHECK(idaas_error_is_retryable(e)); /* a server failure: trying again may help */
        idaas_error_free(e);
        /* an invalid argument is not, on the same client */
        CHECK(idaas_client_get_token(client, "a|x b|y", &token, &e) == IDAAS_CODE_INVALID_ARGUMENT);
        CHECK(!idaas_error_is_retryable(e));
        idaas_error_free(e);
    }
    idaas_client_free(client);
    clear_faults();

    /* throttled: a client error that is worth retrying */
    add_fault("token=status/429:10");
    client = new_emulator_client();
    {
        idaas_error *e = NULL;
        CHECK(idaas_client_get_token(client, NULL, &token, &e) == IDAAS_CODE_CLIENT_ERROR);
        CHECK(idaas_error_http_status(e) == 429);
        CHECK(idaas_error_is_retryable(e));
        idaas_error_free(e);
    }
    idaas_client_free(client);
    clear_faults();

    add_fault("token=non-json:10");
    client = new_emulator_client();
    {
        idaas_error *e = NULL;
        CHECK(idaas_client_get_token(client, NULL, &token, &e) == IDAAS_CODE_UNEXPECTED_RESPONSE);
        CHECK(!idaas_error_is_retryable(e));
        idaas_error_free(e);
    }
    idaas_client_free(client);
    clear_faults();

    add_fault("token=reset:10");
    client = new_emulator_client();
    {
        idaas_error *e = NULL;
        CHECK(idaas_client_get_token(client, NULL, &token, &e) == IDAAS_CODE_TRANSPORT);
        CHECK(idaas_error_is_retryable(e));
        idaas_error_free(e);
    }
    idaas_client_free(client);
    clear_faults();

    /* nothing listens there: connection refused */
    {
        const char *cfg = "{\"idaasInstanceId\":\"i\",\"clientId\":\"app_secret\","
                          "\"issuer\":\"http://127.0.0.1:1/oauth2\",\"tokenEndpoint\":\"http://127.0.0.1:1/oauth2/token\","
                          "\"authnConfiguration\":{\"authnMethod\":\"CLIENT_SECRET_POST\","
                          "\"clientSecretEnvVarName\":\"IDAAS_CLIENT_SECRET\"}}";
        client = client_from_json(cfg, NULL, NULL);
        idaas_error *e = NULL;
        CHECK(idaas_client_get_token(client, NULL, &token, &e) == IDAAS_CODE_TRANSPORT);
        CHECK(idaas_error_is_retryable(e));
        CHECK(idaas_error_http_status(e) == 0);
        idaas_error_free(e);
        idaas_client_free(client);
    }

    /* a read timeout (readTimeout is at least 2000 ms) */
    if (!g_slow) {
        char *cfg = strdup(g_cfg_post);
        const char *http = json_find(cfg, "httpConfiguration");
        if (http && *http == '{') {
            size_t need = strlen(cfg) + 64;
            char *patched = (char *)malloc(need);
            size_t head = (size_t)(http - cfg) + 1;
            memcpy(patched, cfg, head);
            snprintf(patched + head, need - head, "\"readTimeout\":2000,%s", cfg + head);
            add_fault("token=latency/4000:10");
            client = client_from_json(patched, NULL, NULL);
            idaas_error *e = NULL;
            CHECK(idaas_client_get_token(client, NULL, &token, &e) == IDAAS_CODE_TIMEOUT);
            CHECK(idaas_error_is_retryable(e));
            idaas_error_free(e);
            idaas_client_free(client);
            clear_faults();
            free(patched);
        } else {
            FAIL_AT(__FILE__, __LINE__, "no httpConfiguration in the emulator config");
        }
        free(cfg);
    }
}

/* ---- token exchange ------------------------------------------------------------------------------ */

#define AT_TYPE "urn:ietf:params:oauth:token-type:access_token"

static void test_emulator_exchange(void) {
    idaas_client *client = new_emulator_client();
    if (!client) return;
    idaas_error *err = NULL;
    char *subject = NULL, *json = NULL;
    CHECK_CODE(idaas_client_get_token(client, NULL, &subject, &err), err, IDAAS_CODE_OK);
    if (!subject) { idaas_client_free(client); return; }

    CHECK_CODE(idaas_client_exchange_token(client, subject, AT_TYPE, NULL, NULL, &json, &err), err, IDAAS_CODE_OK);
    char *at = json_str(json, "access_token");
    CHECK(at != NULL && strlen(at) > 20);
    CHECK(json_int(json, "expires_at", 0) > 1700000000);
    CHECK(json_int(json, "expires_in", 0) > 0);
    char *tt = json_str(json, "token_type");
    CHECK(tt != NULL);
    free(tt);
    CHECK(json_find(json, "issued_token_type") != NULL);

    /* wrap the result for the PAM client: a static provider */
    idaas_provider *p = NULL;
    char *t2 = NULL;
    CHECK_CODE(idaas_provider_new_from_credential_json(json, &p, &err), err, IDAAS_CODE_OK);
    CHECK_CODE(idaas_provider_get_token(p, &t2, &err), err, IDAAS_CODE_OK);
    CHECK_STR_EQ(t2, at);
    idaas_string_free(t2);
    idaas_pam *pam = NULL;
    CHECK_CODE(idaas_pam_new_with_provider(client, p, NULL, &pam, &err), err, IDAAS_CODE_OK);
    idaas_provider_free(p);
    char *key = NULL;
    CHECK_CODE(idaas_pam_get_api_key(pam, "openai_prod_key", &key, &err), err, IDAAS_CODE_OK);
    CHECK_STR_EQ(key, "sk-EXAMPLE0123456789abcdef");
    idaas_string_free(key);
    idaas_pam_free(pam);
    free(at);
    idaas_string_free(json);
    json = NULL;

    CHECK_CODE(idaas_client_exchange_token(client, subject, AT_TYPE, AT_TYPE, "api.example.com|read:file", &json, &err),
               err, IDAAS_CODE_OK);
    idaas_string_free(json);
    json = NULL;

    /* the exchange provider */
    idaas_exchange_provider *xp = NULL;
    CHECK_CODE(idaas_client_get_exchange_provider(client, "api.example.com|read:file", &xp, &err), err, IDAAS_CODE_OK);
    CHECK_CODE(idaas_exchange_provider_exchange(xp, subject, AT_TYPE, NULL, &json, &err), err, IDAAS_CODE_OK);
    CHECK(json_find(json, "access_token") != NULL);
    idaas_string_free(json);
    json = NULL;
    EXPECT_ERR(idaas_exchange_provider_exchange(NULL, subject, AT_TYPE, NULL, &json, ERR), IDAAS_CODE_NULL_ARGUMENT, "provider");
    EXPECT_ERR(idaas_exchange_provider_exchange(xp, NULL, AT_TYPE, NULL, &json, ERR), IDAAS_CODE_NULL_ARGUMENT, "subject_token");
    EXPECT_ERR(idaas_exchange_provider_exchange(xp, subject, NULL, NULL, &json, ERR), IDAAS_CODE_NULL_ARGUMENT, "subject_token_type");
    EXPECT_ERR(idaas_exchange_provider_exchange(xp, subject, AT_TYPE, "\xff", &json, ERR), IDAAS_CODE_INVALID_UTF8, NULL);
    EXPECT_ERR(idaas_exchange_provider_exchange(xp, subject, AT_TYPE, NULL, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "credential_json_out");
    EXPECT_ERR(idaas_exchange_provider_exchange(xp, " ", AT_TYPE, NULL, &json, ERR), IDAAS_CODE_INVALID_ARGUMENT, "subject_token");
    idaas_client_free(client); /* the exchange provider keeps working */
    client = NULL;
    CHECK_CODE(idaas_exchange_provider_exchange(xp, subject, AT_TYPE, NULL, &json, &err), err, IDAAS_CODE_OK);
    idaas_string_free(json);
    json = NULL;
    {
        /* a subject token the server does not accept */
        idaas_code rc = idaas_exchange_provider_exchange(xp, "not-a-token", AT_TYPE, NULL, &json, &err);
        CHECK(rc == IDAAS_CODE_AUTH || rc == IDAAS_CODE_CLIENT_ERROR);
        CHECK(idaas_error_http_status(err) >= 400);
        idaas_error_free(err);
        err = NULL;
    }
    idaas_exchange_provider_free(xp);
    idaas_exchange_provider_free(NULL);

    client = new_emulator_client();
    EXPECT_ERR(idaas_client_exchange_token(NULL, subject, AT_TYPE, NULL, NULL, &json, ERR), IDAAS_CODE_NULL_ARGUMENT, "client");
    EXPECT_ERR(idaas_client_exchange_token(client, subject, AT_TYPE, NULL, "bad scope", &json, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);
    EXPECT_ERR(idaas_client_exchange_token(client, subject, "", NULL, NULL, &json, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);
    EXPECT_ERR(idaas_client_exchange_token(client, subject, AT_TYPE, NULL, NULL, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, NULL);
    EXPECT_ERR(idaas_client_get_exchange_provider(NULL, NULL, &xp, ERR), IDAAS_CODE_NULL_ARGUMENT, "client");
    EXPECT_ERR(idaas_client_get_exchange_provider(client, NULL, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "provider_out");
    EXPECT_ERR(idaas_client_get_exchange_provider(client, "x y", &xp, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);
    idaas_client_free(client);
    idaas_string_free(subject);
}

/* ---- PAM ------------------------------------------------------------------------------------------- */

/* A PAM client with a user-bound token: the client's token exchanged (RFC 8693), wrapped in a static
 * provider — what the 3LO operations need. */
static idaas_pam *new_user_pam(idaas_client *client) {
    idaas_error *err = NULL;
    char *subject = NULL, *json = NULL;
    idaas_provider *p = NULL;
    idaas_pam *pam = NULL;
    if (idaas_client_get_token(client, NULL, &subject, &err) == IDAAS_CODE_OK &&
        idaas_client_exchange_token(client, subject, "urn:ietf:params:oauth:token-type:access_token", NULL, NULL,
                                    &json, &err) == IDAAS_CODE_OK &&
        idaas_provider_new_from_credential_json(json, &p, &err) == IDAAS_CODE_OK &&
        idaas_pam_new_with_provider(client, p, NULL, &pam, &err) == IDAAS_CODE_OK) {
        PASS();
    } else {
        FAIL_AT(__FILE__, __LINE__, "user PAM client: %s", idaas_error_message(err));
        idaas_error_free(err);
    }
    idaas_string_free(subject);
    idaas_string_free(json);
    idaas_provider_free(p);
    return pam;
}

static void test_emulator_pam_api_keys(idaas_client *client) {
    idaas_pam *pam = NULL, *cached = NULL;
    idaas_error *err = NULL;
    char *key = NULL;
    CHECK_CODE(idaas_pam_new(client, NULL, &pam, &err), err, IDAAS_CODE_OK);
    CHECK_CODE(idaas_pam_get_api_key(pam, "openai_prod_key", &key, &err), err, IDAAS_CODE_OK);
    CHECK_STR_EQ(key, "sk-EXAMPLE0123456789abcdef");
    idaas_string_free(key);
    key = (char *)"sentinel";
    CHECK_CODE(idaas_pam_get_api_key(pam, "partner_oauth_client", &key, &err), err, IDAAS_CODE_OK);
    CHECK(key == NULL); /* no API key in an OAuth-client credential: NULL + OK */
    {
        idaas_error *e = NULL;
        CHECK(idaas_pam_get_api_key(pam, "no_such_credential", &key, &e) == IDAAS_CODE_CLIENT_ERROR);
        CHECK(idaas_error_http_status(e) == 404);
        CHECK(idaas_error_server_code(e) != NULL);
        CHECK(!idaas_error_is_retryable(e));
        idaas_error_free(e);
    }
    EXPECT_ERR(idaas_pam_get_api_key(NULL, "openai_prod_key", &key, ERR), IDAAS_CODE_NULL_ARGUMENT, "pam");
    EXPECT_ERR(idaas_pam_get_api_key(pam, NULL, &key, ERR), IDAAS_CODE_NULL_ARGUMENT, "credential_identifier");
    EXPECT_ERR(idaas_pam_get_api_key(pam, "openai_prod_key", NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "api_key_out");
    EXPECT_ERR(idaas_pam_get_api_key(pam, "\xff", &key, ERR), IDAAS_CODE_INVALID_UTF8, NULL);
    EXPECT_ERR(idaas_pam_get_api_key(pam, " ", &key, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);

    /* server errors through the fault API */
    add_fault("devapi:ObtainCredential=status/500:10");
    {
        idaas_error *e = NULL;
        CHECK(idaas_pam_get_api_key(pam, "openai_prod_key", &key, &e) == IDAAS_CODE_SERVER_ERROR);
        CHECK(idaas_error_http_status(e) == 500);
        CHECK(idaas_error_is_retryable(e));
        idaas_error_free(e);
    }
    clear_faults();
    add_fault("devapi:ObtainCredential=status/403:1");
    EXPECT_ERR(idaas_pam_get_api_key(pam, "openai_prod_key", &key, ERR), IDAAS_CODE_AUTH, NULL);
    clear_faults();

    /* the API-key cache: the second read is served from memory even while the server fails */
    CHECK_CODE(idaas_pam_new(client, "{\"apiKeyCache\":{\"ttlSecs\":600}}", &cached, &err), err, IDAAS_CODE_OK);
    CHECK_CODE(idaas_pam_get_api_key(cached, "openai_prod_key", &key, &err), err, IDAAS_CODE_OK);
    idaas_string_free(key);
    add_fault("devapi:ObtainCredential=status/404:10");
    CHECK_CODE(idaas_pam_get_api_key(cached, "openai_prod_key", &key, &err), err, IDAAS_CODE_OK);
    CHECK_STR_EQ(key, "sk-EXAMPLE0123456789abcdef");
    idaas_string_free(key);
    CHECK_CODE(idaas_pam_invalidate_api_key(cached, "openai_prod_key", &err), err, IDAAS_CODE_OK);
    EXPECT_ERR(idaas_pam_get_api_key(cached, "openai_prod_key", &key, ERR), IDAAS_CODE_CLIENT_ERROR, NULL);
    clear_faults();
    CHECK_CODE(idaas_pam_invalidate_api_key(cached, NULL, &err), err, IDAAS_CODE_OK);
    CHECK_CODE(idaas_pam_invalidate_api_key(pam, NULL, &err), err, IDAAS_CODE_OK); /* no cache: no-op */
    EXPECT_ERR(idaas_pam_invalidate_api_key(NULL, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "pam");
    EXPECT_ERR(idaas_pam_invalidate_api_key(pam, "\xff", ERR), IDAAS_CODE_INVALID_UTF8, NULL);
    idaas_pam_free(cached);

    /* constructor errors */
    EXPECT_ERR(idaas_pam_new(NULL, NULL, &cached, ERR), IDAAS_CODE_NULL_ARGUMENT, "client");
    EXPECT_ERR(idaas_pam_new(client, NULL, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "pam_out");
    EXPECT_ERR(idaas_pam_new(client, "{\"apiKeyCache\":{\"ttl\":1}}", &cached, ERR), IDAAS_CODE_INVALID_ARGUMENT, "ttl");
    EXPECT_ERR(idaas_pam_new(client, "{\"apiKeyCache\":{\"ttlSecs\":0}}", &cached, ERR), IDAAS_CODE_INVALID_ARGUMENT, "ttl");
    EXPECT_ERR(idaas_pam_new_with_provider(client, NULL, NULL, &cached, ERR), IDAAS_CODE_NULL_ARGUMENT, "provider");
    EXPECT_ERR(idaas_pam_new_with_provider(NULL, NULL, NULL, &cached, ERR), IDAAS_CODE_NULL_ARGUMENT, "client");
    {
        /* a configuration without developerApiEndpoint */
        idaas_client *plain = new_plugin_client();
        EXPECT_ERR(idaas_pam_new(plain, NULL, &cached, ERR), IDAAS_CODE_CONFIG, NULL);
        idaas_provider *sp = NULL;
        CHECK_CODE(idaas_provider_new_static("t", 0, &sp, &err), err, IDAAS_CODE_OK);
        EXPECT_ERR(idaas_pam_new_with_provider(plain, sp, NULL, &cached, ERR), IDAAS_CODE_CONFIG, NULL);
        EXPECT_ERR(idaas_pam_new_with_provider(client, sp, "{\"x\":1}", &cached, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);
        EXPECT_ERR(idaas_pam_new_with_provider(client, sp, NULL, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, NULL);
        idaas_provider_free(sp);
        idaas_client_free(plain);
    }
    /* a static provider with a token the server rejects: 401 → AUTH */
    {
        idaas_provider *sp = NULL;
        CHECK_CODE(idaas_provider_new_static("not-a-valid-token", 0, &sp, &err), err, IDAAS_CODE_OK);
        CHECK_CODE(idaas_pam_new_with_provider(client, sp, NULL, &cached, &err), err, IDAAS_CODE_OK);
        idaas_error *e = NULL;
        CHECK(idaas_pam_get_api_key(cached, "openai_prod_key", &key, &e) == IDAAS_CODE_AUTH);
        CHECK(idaas_error_http_status(e) == 401);
        idaas_error_free(e);
        idaas_pam_free(cached);
        idaas_provider_free(sp);
    }
    idaas_pam_free(pam);
    idaas_pam_free(NULL);
}

static void test_emulator_pam_oauth(idaas_client *client) {
    idaas_pam *pam = NULL;
    idaas_error *err = NULL;
    char *json = NULL, *token = NULL;
    CHECK_CODE(idaas_pam_new(client, NULL, &pam, &err), err, IDAAS_CODE_OK);

    /* v1 (deprecated) */
    CHECK_CODE(idaas_pam_fetch_oauth_token(pam, "google_drive_reader", NULL, &token, &err), err, IDAAS_CODE_OK);
    CHECK(token != NULL && strlen(token) > 0);
    idaas_string_free(token);
    CHECK_CODE(idaas_pam_fetch_oauth_token(pam, "google_drive_reader", "https://www.googleapis.com/auth/drive.readonly",
                                           &token, &err), err, IDAAS_CODE_OK);
    idaas_string_free(token);
    EXPECT_ERR(idaas_pam_fetch_oauth_token(NULL, "x", NULL, &token, ERR), IDAAS_CODE_NULL_ARGUMENT, "pam");
    EXPECT_ERR(idaas_pam_fetch_oauth_token(pam, NULL, NULL, &token, ERR), IDAAS_CODE_NULL_ARGUMENT, "credential_provider_identifier");
    EXPECT_ERR(idaas_pam_fetch_oauth_token(pam, "x", "\xff", &token, ERR), IDAAS_CODE_INVALID_UTF8, NULL);
    EXPECT_ERR(idaas_pam_fetch_oauth_token(pam, "x", NULL, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "access_token_out");
    EXPECT_ERR(idaas_pam_fetch_oauth_token(pam, "no_such_provider", NULL, &token, ERR), IDAAS_CODE_CLIENT_ERROR, NULL);

    /* v2, 2LO */
    CHECK_CODE(idaas_pam_fetch_oauth_token_v2(pam, "google_drive_reader", "m2m", NULL, &json, &err), err, IDAAS_CODE_OK);
    char *atv = json_str(json, "accessTokenValue");
    CHECK(atv != NULL && strlen(atv) > 0);
    free(atv);
    CHECK(json_find(json, "credentialProviderId") != NULL);
    idaas_string_free(json);
    json = NULL;
    CHECK_CODE(idaas_pam_fetch_oauth_token_v2(pam, "google_drive_reader", "m2m",
                                              "{\"scope\":\"https://www.googleapis.com/auth/drive.readonly\","
                                              "\"forceAuthentication\":true,\"customParameters\":{\"prompt\":\"consent\"}}",
                                              &json, &err), err, IDAAS_CODE_OK);
    idaas_string_free(json);
    json = NULL;
    {
        idaas_error *e = NULL;
        CHECK(idaas_pam_fetch_oauth_token_v2(pam, "google_drive_reader", "3lo", NULL, &json, &e) == IDAAS_CODE_INVALID_ARGUMENT);
        CHECK_STR_EQ(idaas_error_server_code(e), "invalid_authorization_flow");
        idaas_error_free(e);
    }
    EXPECT_ERR(idaas_pam_fetch_oauth_token_v2(pam, "google_drive_reader", "m2m", "{\"customParameters\":{\"a\":1}}", &json, ERR),
               IDAAS_CODE_INVALID_ARGUMENT, "customParameters.a");
    EXPECT_ERR(idaas_pam_fetch_oauth_token_v2(pam, "google_drive_reader", "m2m", "{\"scopes\":\"x\"}", &json, ERR),
               IDAAS_CODE_INVALID_ARGUMENT, "scopes");
    EXPECT_ERR(idaas_pam_fetch_oauth_token_v2(NULL, "a", "m2m", NULL, &json, ERR), IDAAS_CODE_NULL_ARGUMENT, "pam");
    EXPECT_ERR(idaas_pam_fetch_oauth_token_v2(pam, NULL, "m2m", NULL, &json, ERR), IDAAS_CODE_NULL_ARGUMENT, NULL);
    EXPECT_ERR(idaas_pam_fetch_oauth_token_v2(pam, "a", NULL, NULL, &json, ERR), IDAAS_CODE_NULL_ARGUMENT, "authorization_flow");
    EXPECT_ERR(idaas_pam_fetch_oauth_token_v2(pam, "a", "m2m", NULL, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "result_json_out");
    idaas_pam_free(pam);
    pam = new_user_pam(client);
    if (!pam) return;
    /* with m2m, a provider that needs the user is a flow mismatch */
    {
        idaas_error *e = NULL;
        CHECK(idaas_pam_fetch_oauth_token_v2(pam, "google_drive_user", "m2m", NULL, &json, &e) == IDAAS_CODE_CLIENT_ERROR);
        CHECK_STR_EQ(idaas_error_server_code(e), "authorization_flow_mismatch");
        idaas_error_free(e);
    }

    /* v2, 3LO: a session; its state */
    CHECK_CODE(idaas_pam_fetch_oauth_token_v2(pam, "google_drive_user", "user_federation", "{\"forceAuthentication\":true}",
                                              &json, &err), err, IDAAS_CODE_OK);
    char *uri = json_str(json, "sessionUri");
    char *url = json_str(json, "authorizationUrl");
    CHECK(uri != NULL && url != NULL);
    idaas_string_free(json);
    json = NULL;
    if (uri) {
        CHECK_CODE(idaas_pam_get_oauth_session(pam, uri, &json, &err), err, IDAAS_CODE_OK);
        char *status = json_str(json, "sessionStatus");
        CHECK_STR_EQ(status, "pending");
        free(status);
        idaas_string_free(json);
        json = NULL;
    }
    free(uri);
    free(url);
    EXPECT_ERR(idaas_pam_get_oauth_session(pam, "urn:ietf:params:oauth:request_uri:nope", &json, ERR), IDAAS_CODE_CLIENT_ERROR, NULL);
    EXPECT_ERR(idaas_pam_get_oauth_session(NULL, "u", &json, ERR), IDAAS_CODE_NULL_ARGUMENT, "pam");
    EXPECT_ERR(idaas_pam_get_oauth_session(pam, NULL, &json, ERR), IDAAS_CODE_NULL_ARGUMENT, "session_uri");
    EXPECT_ERR(idaas_pam_get_oauth_session(pam, "u", NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "result_json_out");
    idaas_pam_free(pam);
}

/* ---- the 3LO poll -------------------------------------------------------------------------------- */

typedef struct {
    int calls;
    const char *complete_as; /* session status set from the callback, or NULL */
    const idaas_cancel *cancel_from_thread;
    int abort_rc;
} poll_ctx;

static void *cancel_later(void *arg) {
    sleep_ms(300);
    idaas_cancel_cancel((const idaas_cancel *)arg);
    return NULL;
}

static pthread_t g_cancel_thread;

/* Playing the user: the callback gets the authorization URL, and completes/fails the session through
 * the emulator's control API (the session id is the last segment of the session list). */
static int32_t on_url_cb(const char *url, void *user_data) {
    poll_ctx *ctx = (poll_ctx *)user_data;
    ctx->calls++;
    if (!url || !*url) return 1;
    if (ctx->complete_as) {
        char *list = NULL;
        emulator_http(&g_em, "GET", "/_emulator/sessions", NULL, &list);
        /* the newest session is the last string in the "sessions" array */
        const char *last = list ? strrchr(list, ']') : NULL;
        const char *q2 = NULL, *q1 = NULL;
        if (last) {
            for (const char *p = last; p > list; p--) {
                if (*p == '"') {
                    if (!q2) q2 = p;
                    else { q1 = p; break; }
                }
            }
        }
        if (q1 && q2) {
            char id[256], path[400], body[128];
            snprintf(id, sizeof id, "%.*s", (int)(q2 - q1 - 1), q1 + 1);
            snprintf(path, sizeof path, "/_emulator/sessions/%s", id);
            snprintf(body, sizeof body, "{\"status\":\"%s\"}", ctx->complete_as);
            int st = emulator_http(&g_em, "POST", path, body, NULL);
            if (st != 200) fprintf(stderr, "setting session %s: HTTP %d\n", id, st);
        }
        free(list);
    }
    if (ctx->cancel_from_thread) pthread_create(&g_cancel_thread, NULL, cancel_later, (void *)ctx->cancel_from_thread);
    return ctx->abort_rc;
}

static void test_emulator_pam_poll(idaas_client *client) {
    idaas_error *err = NULL;
    char *json = NULL;
    idaas_pam *pam = new_user_pam(client);
    if (!pam) return;
    const char *fast = "{\"intervalMs\":50,\"maxPollingRetries\":40,\"forceAuthentication\":true}";

    /* the user approves: the final reply carries the token */
    poll_ctx ok = {0, "completed", NULL, 0};
    CHECK_CODE(idaas_pam_poll_oauth_token(pam, "google_drive_user", fast, on_url_cb, &ok, NULL, &json, &err), err, IDAAS_CODE_OK);
    CHECK(ok.calls == 1);
    char *atv = json_str(json, "accessTokenValue");
    CHECK(atv != NULL && strlen(atv) > 0);
    free(atv);
    idaas_string_free(json);
    json = NULL;

    /* a provider with a token at once: no callback */
    poll_ctx none = {0, NULL, NULL, 0};
    CHECK_CODE(idaas_pam_poll_oauth_token(pam, "google_drive_reader", NULL, on_url_cb, &none, NULL, &json, &err), err, IDAAS_CODE_OK);
    CHECK(none.calls == 0);
    idaas_string_free(json);
    json = NULL;

    /* the user refuses */
    poll_ctx failed = {0, "failed", NULL, 0};
    EXPECT_ERR(idaas_pam_poll_oauth_token(pam, "google_drive_user", fast, on_url_cb, &failed, NULL, &json, ERR), IDAAS_CODE_AUTH, NULL);

    /* nobody answers: out of polls */
    poll_ctx slow = {0, NULL, NULL, 0};
    EXPECT_ERR(idaas_pam_poll_oauth_token(pam, "google_drive_user", "{\"intervalMs\":20,\"maxPollingRetries\":3,\"forceAuthentication\":true}",
                                          on_url_cb, &slow, NULL, &json, ERR), IDAAS_CODE_TIMEOUT, "polling");
    /* a caller deadline */
    EXPECT_ERR(idaas_pam_poll_oauth_token(pam, "google_drive_user", "{\"intervalMs\":100,\"timeoutMs\":250,\"forceAuthentication\":true}",
                                          on_url_cb, &slow, NULL, &json, ERR), IDAAS_CODE_TIMEOUT, NULL);

    /* cancelled from another thread while sleeping (interval 10 s): returns promptly */
    idaas_cancel *cancel = NULL;
    CHECK_CODE(idaas_cancel_new(&cancel, &err), err, IDAAS_CODE_OK);
    poll_ctx cx = {0, NULL, cancel, 0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    EXPECT_ERR(idaas_pam_poll_oauth_token(pam, "google_drive_user", "{\"intervalMs\":10000,\"forceAuthentication\":true}",
                                          on_url_cb, &cx, cancel, &json, ERR), IDAAS_CODE_CANCELLED, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(g_cancel_thread, NULL);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(secs < 5.0);
    /* an already cancelled token: nothing is sent */
    EXPECT_ERR(idaas_pam_poll_oauth_token(pam, "google_drive_user", NULL, on_url_cb, &cx, cancel, &json, ERR), IDAAS_CODE_CANCELLED, NULL);
    idaas_cancel_free(cancel);

    /* the callback aborts */
    poll_ctx abort_ctx = {0, NULL, NULL, 42};
    EXPECT_ERR(idaas_pam_poll_oauth_token(pam, "google_drive_user", fast, on_url_cb, &abort_ctx, NULL, &json, ERR),
               IDAAS_CODE_CANCELLED, "42");

    /* argument errors */
    EXPECT_ERR(idaas_pam_poll_oauth_token(NULL, "x", NULL, on_url_cb, NULL, NULL, &json, ERR), IDAAS_CODE_NULL_ARGUMENT, "pam");
    EXPECT_ERR(idaas_pam_poll_oauth_token(pam, NULL, NULL, on_url_cb, NULL, NULL, &json, ERR), IDAAS_CODE_NULL_ARGUMENT, NULL);
    EXPECT_ERR(idaas_pam_poll_oauth_token(pam, "x", NULL, NULL, NULL, NULL, &json, ERR), IDAAS_CODE_NULL_ARGUMENT, "on_url");
    EXPECT_ERR(idaas_pam_poll_oauth_token(pam, "x", NULL, on_url_cb, NULL, NULL, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "result_json_out");
    EXPECT_ERR(idaas_pam_poll_oauth_token(pam, "x", "{\"intervalMs\":0}", on_url_cb, NULL, NULL, &json, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);
    EXPECT_ERR(idaas_pam_poll_oauth_token(pam, "x", "{\"interval\":1}", on_url_cb, NULL, NULL, &json, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);
    EXPECT_ERR(idaas_pam_poll_oauth_token(pam, "x", "{\"customParameters\":{\"k\":true}}", on_url_cb, NULL, NULL, &json, ERR),
               IDAAS_CODE_INVALID_ARGUMENT, NULL);
    idaas_pam_free(pam);
}

/* ---- JWT lifecycle ----------------------------------------------------------------------------- */

static int validate(idaas_pam *pam, const char *token) {
    bool active = false;
    idaas_error *err = NULL;
    if (idaas_pam_validate_token(pam, token, NULL, &active, &err) != IDAAS_CODE_OK) {
        FAIL_AT(__FILE__, __LINE__, "validate: %s", idaas_error_message(err));
        idaas_error_free(err);
        return -1;
    }
    return active ? 1 : 0;
}

static void test_emulator_pam_jwt(idaas_client *client) {
    idaas_pam *pam = NULL;
    idaas_error *err = NULL;
    char *json = NULL;
    CHECK_CODE(idaas_pam_new(client, NULL, &pam, &err), err, IDAAS_CODE_OK);

    CHECK_CODE(idaas_pam_generate_jwt(pam, "partner_jwt", "billing-agent", "[\"https://api.partner.example\"]",
                                      "{\"includeDerivedShortToken\":true,\"expiration\":900,"
                                      "\"customClaims\":{\"tenant\":\"acme\",\"tier\":2},\"issuer\":null}",
                                      &json, &err), err, IDAAS_CODE_OK);
    char *jwt = json_str(json, "jwtValue");
    char *dst = json_str(json, "derivedShortToken");
    char *token_id = json_str(json, "authenticationTokenId");
    char *consumer = json_str(json, "consumerId");
    CHECK(jwt != NULL && dst != NULL && token_id != NULL && consumer != NULL);
    idaas_string_free(json);
    json = NULL;
    if (!jwt || !dst || !token_id || !consumer) {
        free(jwt); free(dst); free(token_id); free(consumer);
        idaas_pam_free(pam);
        return;
    }

    /* obtain it again, by id and by short token */
    CHECK_CODE(idaas_pam_obtain_jwt(pam, consumer, token_id, &json, &err), err, IDAAS_CODE_OK);
    char *again = json_str(json, "jwtValue");
    CHECK_STR_EQ(again, jwt);
    free(again);
    idaas_string_free(json);
    json = NULL;
    CHECK_CODE(idaas_pam_obtain_jwt_by_short_token(pam, dst, &json, &err), err, IDAAS_CODE_OK);
    again = json_str(json, "jwtValue");
    CHECK_STR_EQ(again, jwt);
    free(again);
    idaas_string_free(json);
    json = NULL;

    /* validate → revoke → validate → reinstate → validate */
    CHECK(validate(pam, jwt) == 1);
    CHECK(validate(pam, dst) == 1);
    CHECK_CODE(idaas_pam_revoke_token(pam, jwt, NULL, &err), err, IDAAS_CODE_OK);
    CHECK(validate(pam, jwt) == 0);
    CHECK_CODE(idaas_pam_reinstate_token(pam, jwt, "jwt", &err), err, IDAAS_CODE_OK);
    CHECK(validate(pam, jwt) == 1);
    CHECK_CODE(idaas_pam_revoke_tokens_by_consumer(pam, consumer, "partner_jwt", &err), err, IDAAS_CODE_OK);
    CHECK(validate(pam, jwt) == 0);
    CHECK_CODE(idaas_pam_reinstate_tokens_by_consumer(pam, consumer, "partner_jwt", &err), err, IDAAS_CODE_OK);
    CHECK(validate(pam, jwt) == 1);
    CHECK(validate(pam, "garbage-token") == 0);

    /* list, one page at a time */
    CHECK_CODE(idaas_pam_generate_jwt(pam, "partner_jwt", "billing-agent", "[\"https://api.partner.example\"]", NULL, &json, &err),
               err, IDAAS_CODE_OK);
    idaas_string_free(json);
    json = NULL;
    long entities = 0;
    int pages = 0;
    char options[512] = "{\"maxResults\":1}";
    for (;;) {
        if (idaas_pam_list_tokens(pam, consumer, "partner_jwt", options, &json, &err) != IDAAS_CODE_OK) {
            FAIL_AT(__FILE__, __LINE__, "list: %s", idaas_error_message(err));
            idaas_error_free(err);
            err = NULL;
            break;
        }
        pages++;
        CHECK(json_find(json, "totalCount") != NULL);
        for (const char *p = json; (p = strstr(p, "\"authenticationTokenId\"")) != NULL; p++) entities++;
        CHECK(strstr(json, "jwtValue") == NULL); /* no token material in lists */
        char *next = json_str(json, "nextToken");
        idaas_string_free(json);
        json = NULL;
        if (!next || !*next || pages > 50) { free(next); break; }
        snprintf(options, sizeof options, "{\"maxResults\":1,\"nextToken\":\"%s\"}", next);
        free(next);
    }
    CHECK(pages >= 2 && entities >= 2);
    CHECK_CODE(idaas_pam_list_tokens(pam, consumer, "partner_jwt", "{\"revoked\":false,\"expired\":false}", &json, &err), err, IDAAS_CODE_OK);
    idaas_string_free(json);
    json = NULL;

    /* argument errors of every JWT function */
    bool active;
    EXPECT_ERR(idaas_pam_generate_jwt(NULL, "p", "s", "[]", NULL, &json, ERR), IDAAS_CODE_NULL_ARGUMENT, "pam");
    EXPECT_ERR(idaas_pam_generate_jwt(pam, NULL, "s", "[\"a\"]", NULL, &json, ERR), IDAAS_CODE_NULL_ARGUMENT, NULL);
    EXPECT_ERR(idaas_pam_generate_jwt(pam, "partner_jwt", NULL, "[\"a\"]", NULL, &json, ERR), IDAAS_CODE_NULL_ARGUMENT, "subject");
    EXPECT_ERR(idaas_pam_generate_jwt(pam, "partner_jwt", "s", NULL, NULL, &json, ERR), IDAAS_CODE_NULL_ARGUMENT, "audiences_json");
    EXPECT_ERR(idaas_pam_generate_jwt(pam, "partner_jwt", "s", "\"a\"", NULL, &json, ERR), IDAAS_CODE_INVALID_ARGUMENT, "audiences_json");
    EXPECT_ERR(idaas_pam_generate_jwt(pam, "partner_jwt", "s", "", NULL, &json, ERR), IDAAS_CODE_INVALID_ARGUMENT, "audiences_json");
    EXPECT_ERR(idaas_pam_generate_jwt(pam, "partner_jwt", "s", "[\"urn:cloud:idaas:x\"]", NULL, &json, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);
    EXPECT_ERR(idaas_pam_generate_jwt(pam, "partner_jwt", "s", "[\"a\"]", "{\"expiry\":1}", &json, ERR), IDAAS_CODE_INVALID_ARGUMENT, "expiry");
    EXPECT_ERR(idaas_pam_generate_jwt(pam, "partner_jwt", "s", "[\"a\"]", NULL, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "result_json_out");
    EXPECT_ERR(idaas_pam_generate_jwt(pam, "no_such_provider", "s", "[\"a\"]", NULL, &json, ERR), IDAAS_CODE_CLIENT_ERROR, NULL);
    EXPECT_ERR(idaas_pam_obtain_jwt(NULL, consumer, token_id, &json, ERR), IDAAS_CODE_NULL_ARGUMENT, "pam");
    EXPECT_ERR(idaas_pam_obtain_jwt(pam, NULL, token_id, &json, ERR), IDAAS_CODE_NULL_ARGUMENT, "consumer_id");
    EXPECT_ERR(idaas_pam_obtain_jwt(pam, consumer, NULL, &json, ERR), IDAAS_CODE_NULL_ARGUMENT, "authentication_token_id");
    EXPECT_ERR(idaas_pam_obtain_jwt(pam, consumer, token_id, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "result_json_out");
    EXPECT_ERR(idaas_pam_obtain_jwt(pam, consumer, "atntkn_nope", &json, ERR), IDAAS_CODE_CLIENT_ERROR, NULL);
    EXPECT_ERR(idaas_pam_obtain_jwt_by_short_token(NULL, dst, &json, ERR), IDAAS_CODE_NULL_ARGUMENT, "pam");
    EXPECT_ERR(idaas_pam_obtain_jwt_by_short_token(pam, NULL, &json, ERR), IDAAS_CODE_NULL_ARGUMENT, "derived_short_token");
    EXPECT_ERR(idaas_pam_obtain_jwt_by_short_token(pam, dst, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "result_json_out");
    EXPECT_ERR(idaas_pam_list_tokens(NULL, consumer, "partner_jwt", NULL, &json, ERR), IDAAS_CODE_NULL_ARGUMENT, "pam");
    EXPECT_ERR(idaas_pam_list_tokens(pam, NULL, "partner_jwt", NULL, &json, ERR), IDAAS_CODE_NULL_ARGUMENT, "consumer_id");
    EXPECT_ERR(idaas_pam_list_tokens(pam, consumer, NULL, NULL, &json, ERR), IDAAS_CODE_NULL_ARGUMENT, NULL);
    EXPECT_ERR(idaas_pam_list_tokens(pam, consumer, "partner_jwt", "{\"maxResults\":-1}", &json, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);
    EXPECT_ERR(idaas_pam_list_tokens(pam, consumer, "partner_jwt", NULL, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "page_json_out");
    EXPECT_ERR(idaas_pam_validate_token(NULL, jwt, NULL, &active, ERR), IDAAS_CODE_NULL_ARGUMENT, "pam");
    EXPECT_ERR(idaas_pam_validate_token(pam, NULL, NULL, &active, ERR), IDAAS_CODE_NULL_ARGUMENT, "token");
    EXPECT_ERR(idaas_pam_validate_token(pam, jwt, "\xff", &active, ERR), IDAAS_CODE_INVALID_UTF8, NULL);
    EXPECT_ERR(idaas_pam_validate_token(pam, jwt, NULL, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "active_out");
    EXPECT_ERR(idaas_pam_revoke_token(NULL, jwt, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "pam");
    EXPECT_ERR(idaas_pam_revoke_token(pam, NULL, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "token");
    EXPECT_ERR(idaas_pam_revoke_token(pam, "", NULL, ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);
    EXPECT_ERR(idaas_pam_reinstate_token(NULL, jwt, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "pam");
    EXPECT_ERR(idaas_pam_reinstate_token(pam, NULL, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, "token");
    EXPECT_ERR(idaas_pam_reinstate_token(pam, jwt, "\xff", ERR), IDAAS_CODE_INVALID_UTF8, NULL);
    EXPECT_ERR(idaas_pam_revoke_tokens_by_consumer(NULL, consumer, "partner_jwt", ERR), IDAAS_CODE_NULL_ARGUMENT, "pam");
    EXPECT_ERR(idaas_pam_revoke_tokens_by_consumer(pam, NULL, "partner_jwt", ERR), IDAAS_CODE_NULL_ARGUMENT, "consumer_id");
    EXPECT_ERR(idaas_pam_revoke_tokens_by_consumer(pam, consumer, NULL, ERR), IDAAS_CODE_NULL_ARGUMENT, NULL);
    EXPECT_ERR(idaas_pam_reinstate_tokens_by_consumer(NULL, consumer, "partner_jwt", ERR), IDAAS_CODE_NULL_ARGUMENT, "pam");
    EXPECT_ERR(idaas_pam_reinstate_tokens_by_consumer(pam, NULL, "partner_jwt", ERR), IDAAS_CODE_NULL_ARGUMENT, NULL);
    EXPECT_ERR(idaas_pam_reinstate_tokens_by_consumer(pam, consumer, " ", ERR), IDAAS_CODE_INVALID_ARGUMENT, NULL);

    /* a server failure on a state-changing call is not retried and reported as is */
    add_fault("devapi:RevokeAuthenticationToken=status/502:1");
    {
        idaas_error *e = NULL;
        CHECK(idaas_pam_revoke_token(pam, jwt, NULL, &e) == IDAAS_CODE_SERVER_ERROR);
        CHECK(idaas_error_http_status(e) == 502);
        idaas_error_free(e);
    }
    clear_faults();
    CHECK(validate(pam, jwt) == 1);

    free(jwt);
    free(dst);
    free(token_id);
    free(consumer);
    idaas_pam_free(pam);
}

/* The built-in Alibaba Cloud plugin (PLUGIN alibabacloudPluginCredentialProvider). */
#include "test_alibaba.h"

static void run_emulator_tests(void) {
    if (emulator_start(&g_em) != 0) {
        emulator_stop(&g_em);
        return;
    }
    char *configs = json_raw(g_em.ready, "clientConfigs");
    g_cfg_post = configs ? json_raw(configs, "CLIENT_SECRET_POST") : NULL;
    free(configs);
    g_secret = json_str(g_em.ready, "clientSecret");
    CHECK(g_cfg_post != NULL && g_secret != NULL);
    if (g_cfg_post && g_secret) {
        setenv("IDAAS_CLIENT_SECRET", g_secret, 1);
        test_emulator_init();
        test_emulator_tokens();
        test_emulator_log_no_secrets();
        test_emulator_faults();
        test_emulator_exchange();
        test_emulator_alibaba_plugin();
        idaas_client *client = new_emulator_client();
        if (client) {
            test_emulator_pam_api_keys(client);
            test_emulator_pam_oauth(client);
            test_emulator_pam_poll(client);
            test_emulator_pam_jwt(client);
            idaas_client_free(client);
        }
    }
    free(g_cfg_post);
    free(g_secret);
    emulator_stop(&g_em);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_em.dir);
    if (g_em.dir[0] && system(cmd) != 0) fprintf(stderr, "note: could not remove %s\n", g_em.dir);
}

#endif /* IDAAS_TEST_EMULATOR_H */
