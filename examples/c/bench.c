/*
 * bench: the cost of the hot path through the C ABI — a cached token (1,100 bytes) from
 * idaas_client_get_token + idaas_string_free, from idaas_client_get_token_into (no allocation) and from
 * idaas_client_get_token_versioned (the caller keeps its copy: nothing copied while it is current).
 *
 *   bench [ITERATIONS] [THREADS]   (default 1,000,000 per thread, measured in batches of 1,000;
 *                                   THREADS default 1: prints the median; with THREADS > 1 every
 *                                   thread reads the same client at once)
 *
 * The token source is a PLUGIN callback (no server): after the first call every read is a cache hit,
 * which is what the figure measures. Build against the release static library (make c-examples).
 * Besides the human-readable lines it prints one `BENCH {json}` line per measurement (median and p99
 * of the per-batch ns/op, ops/s over all threads), which scripts/bench.sh collects.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
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

/* Of a sorted array (nearest rank). */
static double p99(const double *v, size_t n) {
    size_t i = (size_t)((double)(n - 1) * 0.99 + 0.5);
    return v[i < n ? i : n - 1];
}

static idaas_client *client;

struct job {
    int into; /* 0: get_token + string_free, 1: get_token_into, 2: get_token_versioned (copy kept) */
    size_t batches;
    double *per_op; /* batches entries */
};

static void *run(void *arg) {
    struct job *j = arg;
    char buf[2048];
    size_t len = 0;
    uint64_t version = 0;
    for (size_t b = 0; b < j->batches; b++) {
        uint64_t t0 = now_ns();
        for (int i = 0; i < BATCH; i++) {
            if (j->into == 2) {
                /* a caller that keeps its copy (what the Go binding does): nothing copied while current */
                if (idaas_client_get_token_versioned(client, NULL, &version, buf, sizeof buf, &len, NULL) != IDAAS_CODE_OK)
                    abort();
            } else if (j->into) {
                if (idaas_client_get_token_into(client, NULL, buf, sizeof buf, &len, NULL) != IDAAS_CODE_OK) abort();
            } else {
                char *t = NULL;
                if (idaas_client_get_token(client, NULL, &t, NULL) != IDAAS_CODE_OK) abort();
                idaas_string_free(t);
            }
        }
        j->per_op[b] = (double)(now_ns() - t0) / BATCH;
    }
    idaas_buffer_wipe(buf, sizeof buf);
    return NULL;
}

/* Runs `threads` threads of `batches` batches each; returns the median ns/op, sets p99 and ops/s. */
static double measure(int into, int threads, size_t batches, double *p99_out, double *ops_out) {
    size_t n = batches * (size_t)threads;
    double *all = malloc(n * sizeof *all);
    struct job *jobs = calloc((size_t)threads, sizeof *jobs);
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    if (!all || !jobs || !tids) abort();
    uint64_t t0 = now_ns();
    for (int t = 0; t < threads; t++) {
        jobs[t] = (struct job){into, batches, all + (size_t)t * batches};
        if (pthread_create(&tids[t], NULL, run, &jobs[t]) != 0) abort();
    }
    for (int t = 0; t < threads; t++) pthread_join(tids[t], NULL);
    double wall_ns = (double)(now_ns() - t0);
    double m = median(all, n);
    *p99_out = p99(all, n);
    *ops_out = (double)n * BATCH / (wall_ns / 1e9);
    free(all);
    free(jobs);
    free(tids);
    return m;
}

int main(int argc, char **argv) {
    long iterations = argc > 1 ? atol(argv[1]) : 1000000;
    int threads = argc > 2 ? atoi(argv[2]) : 1;
    size_t batches = (size_t)(iterations / BATCH);
    if (batches < 1) batches = 1;
    if (threads < 1) threads = 1;
    memset(token, 'x', TOKEN_LEN);
    token[TOKEN_LEN] = '\0';

    idaas_error *err = NULL;
    idaas_config *config = NULL;
    idaas_code rc = idaas_config_from_json(
        "{\"idaasInstanceId\":\"idaas_bench\",\"clientId\":\"app_bench\","
        "\"issuer\":\"https://idaas.invalid/oauth2\",\"tokenEndpoint\":\"https://idaas.invalid/oauth2/token\","
        "\"authnConfiguration\":{\"authnMethod\":\"PLUGIN\",\"pluginName\":\"bench\"}}",
        &config, &err);
    if (rc == IDAAS_CODE_OK) rc = idaas_config_add_plugin(config, "bench", plugin, NULL, NULL, &err);
    if (rc == IDAAS_CODE_OK) rc = idaas_client_new(config, "{\"prefetch\":true}", &client, &err);
    idaas_config_free(config); /* the client keeps its plugin */
    if (rc != IDAAS_CODE_OK) {
        fprintf(stderr, "setup failed: %s\n", idaas_error_message(err));
        idaas_error_free(err);
        return 1;
    }

    /* warm-up */
    for (int i = 0; i < 100000; i++) {
        char *t = NULL;
        idaas_client_get_token(client, NULL, &t, NULL);
        idaas_string_free(t);
    }

    double p1, o1, p2, o2, p3, o3;
    double m1 = measure(0, threads, batches, &p1, &o1);
    double m2 = measure(1, threads, batches, &p2, &o2);
    double m3 = measure(2, threads, batches, &p3, &o3);

    printf("idaas %s, cached %d-byte token, %d thread(s) x %zu batches of %d\n", idaas_version(), TOKEN_LEN,
           threads, batches, BATCH);
    printf("idaas_client_get_token + idaas_string_free: median %.1f ns/op, p99 %.1f ns/op\n", m1, p1);
    printf("idaas_client_get_token_into (caller buffer): median %.1f ns/op, p99 %.1f ns/op\n", m2, p2);
    printf("idaas_client_get_token_versioned (copy kept): median %.1f ns/op, p99 %.1f ns/op\n", m3, p3);
    printf("BENCH {\"name\":\"cached_token\",\"impl\":\"c\",\"variant\":\"idaas_client_get_token + idaas_string_free\","
           "\"threads\":%d,\"median_ns\":%.1f,\"p99_ns\":%.1f,\"ops_per_sec\":%.0f,\"batch\":%d,\"token_bytes\":%d}\n",
           threads, m1, p1, o1, BATCH, TOKEN_LEN);
    printf("BENCH {\"name\":\"cached_token\",\"impl\":\"c\",\"variant\":\"idaas_client_get_token_into (caller buffer)\","
           "\"threads\":%d,\"median_ns\":%.1f,\"p99_ns\":%.1f,\"ops_per_sec\":%.0f,\"batch\":%d,\"token_bytes\":%d}\n",
           threads, m2, p2, o2, BATCH, TOKEN_LEN);
    printf("BENCH {\"name\":\"cached_token\",\"impl\":\"c\",\"variant\":\"idaas_client_get_token_versioned (caller keeps its copy)\","
           "\"threads\":%d,\"median_ns\":%.1f,\"p99_ns\":%.1f,\"ops_per_sec\":%.0f,\"batch\":%d,\"token_bytes\":%d}\n",
           threads, m3, p3, o3, BATCH, TOKEN_LEN);
    idaas_client_free(client);
    return 0;
}
