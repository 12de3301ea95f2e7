/*
 * api_key: fetch an API key from the IDaaS Developer API (PAM).
 *
 *   api_key CONFIG_JSON_PATH CREDENTIAL_IDENTIFIER
 *
 * The configuration needs developerApiEndpoint; the client's bearer token for
 * urn:cloud:idaas:pam|.all authenticates the call. Against the emulator: credential openai_prod_key.
 */
#include <stdio.h>
#include <string.h>

#include "idaas.h"

static int fail(const char *what, idaas_error *err) {
    fprintf(stderr, "%s failed: [%s] %s\n", what, idaas_error_kind_name(err), idaas_error_message(err));
    /* the exit status is the error's class (1 argument ... 9 internal), never 0 */
    int status = (int)idaas_code_class(idaas_error_code(err));
    idaas_error_free(err);
    return status ? status : 1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s CONFIG_JSON_PATH CREDENTIAL_IDENTIFIER\n", argv[0]);
        return 2;
    }
    idaas_client *client = NULL;
    idaas_pam *pam = NULL;
    idaas_error *err = NULL;
    if (idaas_init(argv[1], &client, &err) != IDAAS_CODE_OK) return fail("creating the client", err);
    /* an in-memory API-key cache: keys are served from memory for 10 minutes */
    idaas_code rc = idaas_pam_new(client, "{\"apiKeyCache\":{\"ttlSecs\":600}}", &pam, &err);
    idaas_client_free(client); /* the PAM client keeps what it needs */
    if (rc != IDAAS_CODE_OK) return fail("creating the PAM client", err);

    char *key = NULL;
    if (idaas_pam_get_api_key(pam, argv[2], &key, &err) != IDAAS_CODE_OK) {
        idaas_pam_free(pam);
        return fail("getting the API key", err);
    }
    if (key == NULL) {
        printf("credential %s has no API key (e.g. an OAuth client credential)\n", argv[2]);
    } else {
        printf("API key %s: %.6s... (%zu chars)\n", argv[2], key, strlen(key));
        idaas_string_free(key);
    }
    idaas_pam_free(pam);
    return 0;
}
