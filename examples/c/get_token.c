/*
 * get_token: the quick start — idaas_init, then print (a redacted form of) the bearer token for a
 * scope.
 *
 *   get_token [CONFIG_JSON_PATH [SCOPE]]
 *
 * Without a path idaas_init uses the default lookup (CLOUD_IDAAS_CONFIG_PATH, then
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
    /* the exit status is the error's class (1 argument ... 9 internal), never 0 */
    int status = (int)idaas_code_class(idaas_error_code(err));
    idaas_error_free(err);
    return status ? status : 1;
}

int main(int argc, char **argv) {
    idaas_client *client = NULL;
    idaas_error *err = NULL;
    /* The one way to start: the file given, else the default lookup. (For client options, plugins
     * or a logger of its own: idaas_config_load, then idaas_client_new.) */
    if (idaas_init(argc > 1 ? argv[1] : NULL, &client, &err) != IDAAS_CODE_OK)
        return fail("creating the client", err);

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
    idaas_buffer_wipe(buf, sizeof buf); /* it held a secret */
    idaas_client_free(client);
    return 0;
}
