/*
 * The built-in PLUGIN `alibabacloudPluginCredentialProvider` through the plain C ABI (included by
 * test_emulator.h): the emulator's PLUGIN configuration, used as it is — no plugin registered, no
 * extra call — gets its token from the emulator's EIAM OpenAPI (GenerateOauthToken), and PAM works
 * with it; then the documented errors (alibaba-plugin.md §7.1) and the precedence of a registered
 * plugin of the same name (D-44).
 *
 * The credential chain reads the process environment when a client is made (§2.1), so each case
 * sets the variables first. This part runs single-threaded (no other thread reads the environment
 * meanwhile) and puts back every variable it changed.
 */
#ifndef IDAAS_TEST_ALIBABA_H
#define IDAAS_TEST_ALIBABA_H

#define ALIBABA_PLUGIN "alibabacloudPluginCredentialProvider"
#define ALIBABA_WRONG_SECRET "wrong-alibaba-secret-from-the-c-test"

/* The variables of the process that the chain could read (alibaba-plugin.md §2.9): a developer's
 * own ALIBABA_CLOUD_* settings must not decide what these tests see. */
static int is_chain_var(const char *entry) {
    return strncmp(entry, "ALIBABA_CLOUD_", 14) == 0 || strncmp(entry, "IDAAS_ALIBABA_CLOUD_", 20) == 0;
}

#define MAX_SAVED_VARS 64
typedef struct {
    char *entries[MAX_SAVED_VARS]; /* "NAME=VALUE" copies of the variables removed */
    int n;
    char *home;                    /* HOME before, or NULL */
} saved_env;

/* The name of an environment entry "NAME=VALUE" into buf. */
static const char *env_name(const char *entry, char *buf, size_t cap) {
    const char *eq = strchr(entry, '=');
    size_t len = eq ? (size_t)(eq - entry) : strlen(entry);
    if (len >= cap) len = cap - 1;
    memcpy(buf, entry, len);
    buf[len] = '\0';
    return buf;
}

/* Unsets every chain variable; keeps a copy of each in *s when s is not NULL. */
static void chain_env_clear(saved_env *s) {
    for (;;) {
        char **e = environ;
        while (*e && !is_chain_var(*e)) e++;
        if (!*e) break;
        if (s && s->n < MAX_SAVED_VARS) s->entries[s->n++] = strdup(*e);
        char name[256];
        unsetenv(env_name(*e, name, sizeof name)); /* moves the entries: search again */
    }
}

/* Removes every chain variable (remembering them in *s) and points HOME at `home`, an empty directory,
 * so that no ~/.aliyun/config.json or ~/.alibabacloud/credentials.ini of the machine is read. */
static void chain_env_isolate(saved_env *s, const char *home) {
    memset(s, 0, sizeof *s);
    s->home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    chain_env_clear(s);
    setenv("HOME", home, 1);
}

/* Puts back what chain_env_isolate changed. */
static void chain_env_restore(saved_env *s) {
    chain_env_clear(NULL);
    for (int i = 0; i < s->n; i++) {
        char *eq = strchr(s->entries[i], '=');
        if (eq) {
            *eq = '\0';
            setenv(s->entries[i], eq + 1, 1);
        }
        free(s->entries[i]);
    }
    if (s->home) setenv("HOME", s->home, 1);
    else unsetenv("HOME");
    free(s->home);
}

/* Sets every variable of the emulator's `alibabaCloud.environment` object (the AccessKey of its
 * fixtures, its STS and metadata endpoints): what a client on this machine needs. Returns how many. */
static int set_env_from_object(const char *obj) {
    int n = 0;
    const char *p = obj ? json_skip_ws(obj) : NULL;
    if (!p || *p != '{') return 0;
    p++;
    for (;;) {
        p = json_skip_ws(p);
        if (*p == ',') { p++; continue; }
        if (*p != '"') break;
        const char *kend = json_value_end(p);
        if (!kend) break;
        char name[128];
        size_t len = (size_t)(kend - p) - 2;
        if (len >= sizeof name) break;
        memcpy(name, p + 1, len);
        name[len] = '\0';
        char *value = json_str(obj, name);
        if (value) {
            setenv(name, value, 1);
            n++;
        }
        free(value);
        p = json_skip_ws(kend);
        if (*p != ':') break;
        const char *vend = json_value_end(p + 1);
        if (!vend) break;
        p = vend;
    }
    return n;
}

/* `json` without the top-level member `key` (malloc'ed). */
static char *json_without(const char *json, const char *key) {
    char quoted[128];
    snprintf(quoted, sizeof quoted, "\"%s\"", key);
    const char *k = strstr(json, quoted);
    if (!k) return strdup(json);
    const char *colon = json_skip_ws(k + strlen(quoted));
    const char *end = colon && *colon == ':' ? json_value_end(colon + 1) : NULL;
    if (!end) return strdup(json);
    const char *start = k;
    const char *after = json_skip_ws(end);
    if (*after == ',') {
        end = after + 1; /* "key":value, → drop the comma after it */
    } else {
        while (start > json && start[-1] != ',') start--; /* last member: drop the comma before it */
        if (start > json) start--;
    }
    size_t n = strlen(json);
    char *out = (char *)malloc(n + 1);
    size_t head = (size_t)(start - json);
    memcpy(out, json, head);
    strcpy(out + head, end);
    return out;
}

/* How many OpenAPI GenerateOauthToken calls the emulator logged since the log was last cleared, and
 * whether one of them named the environment (`x-acs-credentials-provider: default/env`). */
static int count_generate_oauth_token(int *from_env) {
    char *body = NULL;
    int status = emulator_http(&g_em, "GET", "/_emulator/requests", NULL, &body);
    int n = 0;
    if (status == 200 && body) {
        for (const char *p = body; (p = strstr(p, "\"GenerateOauthToken\"")) != NULL; p++) n++;
        if (from_env) *from_env = strstr(body, "\"default/env\"") != NULL;
    }
    free(body);
    return status == 200 ? n : -1;
}

static void clear_requests(void) { emulator_http(&g_em, "DELETE", "/_emulator/requests", NULL, NULL); }

/* A token from the plugin the application registers under the built-in's name. */
static int32_t app_alibaba_plugin(void *user_data, const char *scope, idaas_plugin_result *result) {
    (void)scope;
    __atomic_fetch_add((long *)user_data, 1, __ATOMIC_RELAXED);
    return (int32_t)idaas_plugin_result_set_token(result, "from-the-application-plugin", 3600, NULL);
}

static void test_emulator_alibaba_plugin(void) {
    char *configs = json_raw(g_em.ready, "clientConfigs");
    char *cfg = configs ? json_raw(configs, "PLUGIN") : NULL;
    char *alibaba = json_raw(g_em.ready, "alibabaCloud");
    char *env_obj = alibaba ? json_raw(alibaba, "environment") : NULL;
    char *good_secret = env_obj ? json_str(env_obj, "ALIBABA_CLOUD_ACCESS_KEY_SECRET") : NULL;
    free(configs);
    free(alibaba);
    CHECK(cfg != NULL && env_obj != NULL && good_secret != NULL);
    if (!cfg || !env_obj || !good_secret) goto out;
    char *plugin_name = json_str(cfg, "pluginName");
    CHECK_STR_EQ(plugin_name, ALIBABA_PLUGIN); /* the configuration as the emulator prints it */
    free(plugin_name);

    char home[400];
    snprintf(home, sizeof home, "%s/alibaba-home", g_em.dir);
    CHECK(mkdir(home, 0700) == 0);
    saved_env saved;
    chain_env_isolate(&saved, home);
    CHECK(set_env_from_object(env_obj) >= 2);
    idaas_error *err = NULL;

    /* 1. The AccessKey of the environment: a token from GenerateOauthToken, and PAM with it. */
    {
        clear_requests();
        idaas_client *client = client_from_json(cfg, NULL, NULL);
        char *token = NULL, *key = NULL;
        idaas_pam *pam = NULL;
        if (client) {
            CHECK_CODE(idaas_client_get_token(client, NULL, &token, &err), err, IDAAS_CODE_OK);
            /* the emulator's access tokens are JWTs */
            CHECK(token != NULL && strlen(token) > 20 && strchr(token, '.') != NULL);
            CHECK_CODE(idaas_pam_new(client, NULL, &pam, &err), err, IDAAS_CODE_OK);
            CHECK_CODE(idaas_pam_get_api_key(pam, "openai_prod_key", &key, &err), err, IDAAS_CODE_OK);
            CHECK_STR_EQ(key, "sk-EXAMPLE0123456789abcdef");
        }
        int from_env = 0;
        /* one OpenAPI call: PAM used the cached token of the configured scope */
        CHECK(count_generate_oauth_token(&from_env) == 1);
        CHECK(from_env);
        idaas_string_free(token);
        idaas_string_free(key);
        idaas_pam_free(pam);
        idaas_client_free(client);
    }

    /* 2. A wrong secret: the server's SignatureDoesNotMatch as an AUTH error; no secret shown. */
    {
        setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ALIBABA_WRONG_SECRET, 1);
        clear_requests();
        idaas_client *client = client_from_json(cfg, NULL, NULL);
        char *token = NULL;
        idaas_error *e = NULL;
        if (client) {
            CHECK_CODE(idaas_client_get_token(client, NULL, &token, &e), e, IDAAS_CODE_AUTH);
            CHECK(token == NULL);
            CHECK_STR_EQ(idaas_error_server_code(e), "SignatureDoesNotMatch");
            CHECK(idaas_error_http_status(e) == 400);
            CHECK(idaas_error_request_id(e) != NULL);
            CHECK(!idaas_error_is_retryable(e));
            CHECK(strstr(idaas_error_message(e), ALIBABA_WRONG_SECRET) == NULL);
            CHECK(strstr(idaas_error_message(e), good_secret) == NULL);
            CHECK(count_generate_oauth_token(NULL) == 1); /* a refused key is not retried */
        }
        idaas_error_free(e);
        idaas_client_free(client);
    }

    /* 3. No credentials anywhere and the metadata service switched off: the chain's error, naming
     * every source it asked. */
    {
        unsetenv("ALIBABA_CLOUD_ACCESS_KEY_ID");
        unsetenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
        setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true", 1);
        clear_requests();
        idaas_client *client = client_from_json(cfg, NULL, NULL);
        char *token = NULL;
        idaas_error *e = NULL;
        if (client) {
            CHECK_CODE(idaas_client_get_token(client, NULL, &token, &e), e, IDAAS_CODE_CREDENTIAL);
            CHECK_STR_EQ(idaas_error_server_code(e), "AlibabaCloudCredentialsNotFound");
            CHECK(idaas_error_http_status(e) == 0);
            const char *msg = idaas_error_message(e);
            CHECK_CONTAINS(msg, "default/env");
            CHECK_CONTAINS(msg, "ALIBABA_CLOUD_ACCESS_KEY_ID");
            CHECK_CONTAINS(msg, "default/oidc_role_arn");
            CHECK_CONTAINS(msg, "default/cli_profile");
            CHECK_CONTAINS(msg, "default/profile");
            CHECK_CONTAINS(msg, "default/ecs_ram_role");
            CHECK_CONTAINS(msg, "ALIBABA_CLOUD_ECS_METADATA_DISABLED");
            CHECK_CONTAINS(msg, "default/credential_uri");
            CHECK_CONTAINS(msg, home); /* the profile files were looked for under HOME */
            CHECK(count_generate_oauth_token(NULL) == 0);
        }
        idaas_error_free(e);
        idaas_client_free(client);
        unsetenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED");
        set_env_from_object(env_obj);
    }

    /* 4. No openApiEndpoint: a configuration error when the client is made, before any request. */
    {
        char *no_endpoint = json_without(cfg, "openApiEndpoint");
        CHECK(strstr(no_endpoint, "openApiEndpoint") == NULL);
        idaas_config *c = NULL;
        idaas_client *client = NULL;
        idaas_error *e = NULL;
        CHECK_CODE(idaas_config_from_json(no_endpoint, &c, &err), err, IDAAS_CODE_OK);
        if (c) {
            CHECK_CODE(idaas_client_new(c, NULL, &client, &e), e, IDAAS_CODE_CONFIG);
            CHECK(client == NULL);
            CHECK_STR_EQ(idaas_error_server_code(e), "OpenApiEndpointNotFound");
            CHECK_CONTAINS(idaas_error_message(e), ALIBABA_PLUGIN);
        }
        idaas_error_free(e);
        idaas_client_free(client);
        idaas_config_free(c);
        free(no_endpoint);
    }

    /* 5. A plugin the application registers under the built-in's name wins (its own token, no
     * OpenAPI call), although the environment's key would work. */
    {
        long calls = 0;
        idaas_config *c = NULL;
        idaas_client *client = NULL;
        char *token = NULL;
        clear_requests();
        CHECK_CODE(idaas_config_from_json(cfg, &c, &err), err, IDAAS_CODE_OK);
        if (c) {
            CHECK_CODE(idaas_config_add_plugin(c, ALIBABA_PLUGIN, app_alibaba_plugin, &calls, NULL, &err), err,
                       IDAAS_CODE_OK);
            CHECK_CODE(idaas_client_new(c, NULL, &client, &err), err, IDAAS_CODE_OK);
        }
        if (client) {
            CHECK_CODE(idaas_client_get_token(client, NULL, &token, &err), err, IDAAS_CODE_OK);
            CHECK_STR_EQ(token, "from-the-application-plugin");
            CHECK(calls == 1);
            CHECK(count_generate_oauth_token(NULL) == 0);
        }
        idaas_string_free(token);
        idaas_client_free(client);
        idaas_config_free(c);
    }

    chain_env_restore(&saved);
out:
    free(cfg);
    free(env_obj);
    free(good_secret);
}

#endif /* IDAAS_TEST_ALIBABA_H */
