/*
 * jwt_lifecycle: generate a JWT authentication token, then validate → revoke → validate → reinstate →
 * validate it (IDaaS Developer API).
 *
 *   jwt_lifecycle CONFIG_JSON_PATH [CREDENTIAL_PROVIDER [SUBJECT [AUDIENCE]]]
 *
 * Defaults match the emulator: partner_jwt, billing-agent, https://api.partner.example.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idaas.h"

static idaas_error *err = NULL;

static int fail(const char *what) {
    fprintf(stderr, "%s failed: [%s] %s\n", what, idaas_error_kind_name(err), idaas_error_message(err));
    /* the exit status is the error's class (1 argument ... 9 internal), never 0 */
    int status = (int)idaas_code_class(idaas_error_code(err));
    idaas_error_free(err);
    return status ? status : 1;
}

/* The string value of "key" in a flat spot of a JSON text (enough for this example: the values
 * printed here contain no escapes). Returns a malloc'ed copy or NULL. */
static char *json_string_field(const char *json, const char *key) {
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *p = strstr(json, pattern);
    if (!p) return NULL;
    p += strlen(pattern);
    const char *end = strchr(p, '"');
    if (!end) return NULL;
    char *out = malloc((size_t)(end - p) + 1);
    memcpy(out, p, (size_t)(end - p));
    out[end - p] = '\0';
    return out;
}

static int show_validity(const idaas_pam *pam, const char *jwt, const char *step) {
    bool active = false;
    if (idaas_pam_validate_token(pam, jwt, NULL, &active, &err) != IDAAS_CODE_OK) return fail("validate");
    printf("%-22s active=%s\n", step, active ? "true" : "false");
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s CONFIG_JSON_PATH [CREDENTIAL_PROVIDER [SUBJECT [AUDIENCE]]]\n", argv[0]);
        return 2;
    }
    const char *provider = argc > 2 ? argv[2] : "partner_jwt";
    const char *subject = argc > 3 ? argv[3] : "billing-agent";
    const char *audience = argc > 4 ? argv[4] : "https://api.partner.example";

    idaas_client *client = NULL;
    idaas_pam *pam = NULL;
    if (idaas_init(argv[1], &client, &err) != IDAAS_CODE_OK) return fail("client");
    idaas_code rc = idaas_pam_new(client, NULL, &pam, &err);
    idaas_client_free(client);
    if (rc != IDAAS_CODE_OK) return fail("PAM client");

    char audiences[512];
    snprintf(audiences, sizeof audiences, "[\"%s\"]", audience);
    char *result = NULL;
    if (idaas_pam_generate_jwt(pam, provider, subject, audiences,
                               "{\"expiration\":900,\"includeDerivedShortToken\":true,"
                               "\"customClaims\":{\"tenant\":\"acme\"}}",
                               &result, &err) != IDAAS_CODE_OK) {
        idaas_pam_free(pam);
        return fail("generate");
    }
    char *jwt = json_string_field(result, "jwtValue");
    char *id = json_string_field(result, "authenticationTokenId");
    idaas_string_free(result); /* holds the JWT: zeroed on free */
    if (!jwt) {
        fprintf(stderr, "no jwtValue in the reply\n");
        idaas_pam_free(pam);
        return 1;
    }
    printf("generated %s: %.16s... (%zu chars)\n", id ? id : "?", jwt, strlen(jwt));

    int status = show_validity(pam, jwt, "after generate:");
    if (!status && idaas_pam_revoke_token(pam, jwt, NULL, &err) != IDAAS_CODE_OK) status = fail("revoke");
    if (!status) status = show_validity(pam, jwt, "after revoke:");
    if (!status && idaas_pam_reinstate_token(pam, jwt, NULL, &err) != IDAAS_CODE_OK) status = fail("reinstate");
    if (!status) status = show_validity(pam, jwt, "after reinstate:");

    idaas_buffer_wipe(jwt, strlen(jwt)); /* our copy of the JWT */
    free(jwt);
    free(id);
    idaas_pam_free(pam);
    return status;
}
