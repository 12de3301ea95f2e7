/*
 * get_token: print (a redacted form of) the bearer token for a scope.
 *
 *   get_token [CONFIG_JSON_PATH [SCOPE]]
 *
 * Without a path the default lookup is used (CLOUD_IDAAS_CONFIG_PATH, then
 * ~/.cloud_idaas/client-config.json). Against the local emulator:
 *   idaas-emulator --port 0 --print-config CLIENT_SECRET_POST > cfg.json   (and export IDAAS_CLIENT_SECRET)
 *   ./get_token cfg.json
 */
#include <stdio.h>
#include <string.h>

#include "idaas.h"

static int fail(const char *what, idaas_error *err) {
    fprintf(stderr, "%s failed: [%s] %s (HTTP %u, code %s, request id %s)\n", what,
            idaas_error_kind_name(err), idaas_error_message(err), idaas_error_http_status(err),
            idaas_error_server_code(err) ? idaas_error_server_code(err) : "-",
            idaas_error_request_id(err) ? idaas_error_request_id(err) : "-");
    int code = (int)idaas_error_code(err);
    idaas_error_free(err);
    return code / 100 ? code / 100 : 1;
}

int main(int argc, char **argv) {
    idaas_client *client = NULL;
    idaas_error *err = NULL;
    const char *options = "{\"userAgentSuffix\":\"c-example/get_token\"}";
    idaas_code rc = argc > 1 ? idaas_client_new_from_file(argv[1], options, &client, &err)
                             : idaas_client_new_default(options, &client, &err);
    if (rc != IDAAS_CODE_OK) return fail("creating the client", err);

    const char *scope = argc > 2 ? argv[2] : NULL; /* NULL: the configured default scope */
    char *token = NULL;
    if (idaas_client_get_token(client, scope, &token, &err) != IDAAS_CODE_OK) {
        idaas_client_free(client);
        return fail("getting a token", err);
    }
    /* never print a whole token: it is a secret */
    printf("idaas %s: token for %s: %.12s... (%zu bytes)\n", idaas_version(), scope ? scope : "the default scope",
           token, strlen(token));
    idaas_string_free(token); /* zeroes, then frees */

    /* the zero-allocation variant into a caller buffer */
    char buf[4096];
    size_t len = 0;
    if (idaas_client_get_token_into(client, scope, buf, sizeof buf, &len, &err) != IDAAS_CODE_OK) {
        idaas_client_free(client);
        return fail("getting a token into a buffer", err);
    }
    printf("cached copy into a buffer: %zu bytes\n", len);
    idaas_secure_zero(buf, sizeof buf);
    idaas_client_free(client);
    return 0;
}
