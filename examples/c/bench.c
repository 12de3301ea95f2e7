/*
 * bench: the cost of the hot path through the C ABI — a cached token (1,100 bytes) from
 * idaas_client_get_token + idaas_string_free, and from idaas_client_get_token_into (no allocation).
 *
 *   bench [ITERATIONS]      (default 1,000,000, measured in batches of 1,000; prints the median)
 *
 * The token source is a PLUGIN callback (no server): after the first call every read is a cache hit,
 * which is what the figure measures. Build against the release static library (make c-examples).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "idaas.h"

#define TOKEN_LEN 1100
#define BATCH 1000

static char token[TOKEN_LEN + 1];

static int32_t plugin(void *user_data, const char *scope, idaas_plugin_result *result) {
    (void)user_data;
    (void)scope;
    return (int32_t)idaas_plugin_result_set_token(result, token, 3600, NULL);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
    long iterations = argc > 1 ? atol(argv[1]) : 1000000;
    size_t batches = (size_t)(iterations / BATCH);
    if (batches < 1) batches = 1;
    memset(token, 'x', TOKEN_LEN);
    token[TOKEN_LEN] = '\0';

    idaas_error *err = NULL;
    idaas_client *client = NULL;
    if (idaas_register_plugin("bench", plugin, NULL, &err) != IDAAS_CODE_OK ||
        idaas_client_new_from_json(
            "{\"idaasInstanceId\":\"idaas_bench\",\"clientId\":\"app_bench\","
            "\"issuer\":\"https://idaas.invalid/oauth2\",\"tokenEndpoint\":\"https://idaas.invalid/oauth2/token\","
            "\"authnConfiguration\":{\"authnMethod\":\"PLUGIN\",\"pluginName\":\"bench\"}}",
            "{\"prefetch\":true}", &client, &err) != IDAAS_CODE_OK) {
        fprintf(stderr, "setup failed: %s\n", idaas_error_message(err));
        idaas_error_free(err);
        return 1;
    }

    double *per_op = malloc(batches * sizeof *per_op);
    char buf[2048];
    size_t len = 0;

    /* warm-up */
    for (int i = 0; i < 100000; i++) {
        char *t = NULL;
        idaas_client_get_token(client, NULL, &t, NULL);
        idaas_string_free(t);
    }

    for (size_t b = 0; b < batches; b++) {
        uint64_t t0 = now_ns();
        for (int i = 0; i < BATCH; i++) {
            char *t = NULL;
            if (idaas_client_get_token(client, NULL, &t, NULL) != IDAAS_CODE_OK) abort();
            idaas_string_free(t);
        }
        per_op[b] = (double)(now_ns() - t0) / BATCH;
    }
    double m1 = median(per_op, batches);

    for (size_t b = 0; b < batches; b++) {
        uint64_t t0 = now_ns();
        for (int i = 0; i < BATCH; i++) {
            if (idaas_client_get_token_into(client, NULL, buf, sizeof buf, &len, NULL) != IDAAS_CODE_OK) abort();
        }
        per_op[b] = (double)(now_ns() - t0) / BATCH;
    }
    double m2 = median(per_op, batches);

    printf("idaas %s, cached %d-byte token, %zu batches of %d\n", idaas_version(), TOKEN_LEN, batches, BATCH);
    printf("idaas_client_get_token + idaas_string_free: median %.1f ns/op\n", m1);
    printf("idaas_client_get_token_into (caller buffer): median %.1f ns/op\n", m2);
    idaas_secure_zero(buf, sizeof buf);
    free(per_op);
    idaas_client_free(client);
    return 0;
}
