/*
 * startup_rss: start-up time and resident memory of a C process using libidaas (static link).
 *
 *   startup_rss CONFIG_PATH PAM_CALLS [--startup-only]
 *
 * 1. start-up: idaas_init(CONFIG_PATH) + the first idaas_client_get_token — config load, client,
 *    first token from the token endpoint (the emulator, over HTTPS) — timed with CLOCK_MONOTONIC;
 * 2. VmRSS (/proc/self/status) after that init;
 * 3. PAM_CALLS calls of idaas_pam_get_api_key (no API-key cache: each one is a Developer API
 *    request) + idaas_string_free, VmRSS after the first 1,000 (warm: pools, TLS buffers, allocator
 *    arenas) and after all of them. Growth between the two is what a leak would show.
 *
 * The client secret comes from the environment variable the config names (IDAAS_CLIENT_SECRET for
 * the emulator's configs). Prints `BENCH {json}` lines (scripts/bench.sh collects them).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "idaas.h"

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* VmRSS in KiB, or -1. */
static long vm_rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

static void rss_line(const char *variant, long kib, long calls) {
    printf("BENCH {\"name\":\"rss\",\"impl\":\"c\",\"variant\":\"%s\",\"threads\":1,\"value\":%.2f,\"unit\":\"MiB\","
           "\"vm_rss_kib\":%ld,\"pam_calls\":%ld}\n",
           variant, (double)kib / 1024.0, kib, calls);
}

static int fail(const char *what, idaas_error *err) {
    fprintf(stderr, "startup_rss: %s: %s\n", what, err ? idaas_error_message(err) : "?");
    idaas_error_free(err);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s CONFIG_PATH PAM_CALLS [--startup-only]\n", argv[0]);
        return 2;
    }
    long calls = atol(argv[2]);
    int startup_only = argc > 3 && strcmp(argv[3], "--startup-only") == 0;
    long rss_start = vm_rss_kib();

    idaas_error *err = NULL;
    idaas_client *client = NULL;
    char *token = NULL;
    uint64_t t0 = now_ns();
    if (idaas_init(argv[1], &client, &err) != IDAAS_CODE_OK) return fail("idaas_init", err);
    if (idaas_client_get_token(client, NULL, &token, &err) != IDAAS_CODE_OK) {
        idaas_client_free(client);
        return fail("idaas_client_get_token", err);
    }
    double startup_ns = (double)(now_ns() - t0);
    idaas_string_free(token);
    long rss_init = vm_rss_kib();
    printf("BENCH {\"name\":\"startup\",\"impl\":\"c\",\"variant\":\"process: idaas_init + first idaas_client_get_token\","
           "\"threads\":1,\"median_ns\":%.0f,\"p99_ns\":%.0f,\"ops_per_sec\":%.1f}\n",
           startup_ns, startup_ns, 1e9 / startup_ns);
    if (startup_only) {
        idaas_client_free(client);
        return 0;
    }
    printf("start-up %.2f ms; VmRSS at main() %ld KiB, after init %ld KiB\n", startup_ns / 1e6, rss_start, rss_init);
    rss_line("before init (main)", rss_start, 0);
    rss_line("after init (client + first token)", rss_init, 0);

    idaas_pam *pam = NULL;
    if (idaas_pam_new(client, NULL, &pam, &err) != IDAAS_CODE_OK) return fail("idaas_pam_new", err);
    long warm = calls < 1000 ? calls : 1000, rss_warm = -1;
    for (long i = 0; i < calls; i++) {
        char *key = NULL;
        if (idaas_pam_get_api_key(pam, "openai_prod_key", &key, &err) != IDAAS_CODE_OK)
            return fail("idaas_pam_get_api_key", err);
        if (!key) return fail("idaas_pam_get_api_key returned no key", NULL);
        idaas_string_free(key);
        if (i + 1 == warm) rss_warm = vm_rss_kib();
    }
    long rss_end = vm_rss_kib();
    printf("VmRSS after %ld PAM calls %ld KiB, after %ld %ld KiB: growth %ld KiB\n", warm, rss_warm, calls, rss_end,
           rss_end - rss_warm);
    rss_line("after 1,000 PAM calls (warm)", rss_warm, warm);
    rss_line("after all PAM calls", rss_end, calls);
    printf("BENCH {\"name\":\"rss_growth\",\"impl\":\"c\",\"variant\":\"VmRSS growth from call 1,000 to call %ld\","
           "\"threads\":1,\"value\":%.2f,\"unit\":\"MiB\",\"growth_kib\":%ld,\"pam_calls\":%ld}\n",
           calls, (double)(rss_end - rss_warm) / 1024.0, rss_end - rss_warm, calls);
    idaas_pam_free(pam);
    idaas_client_free(client);
    return 0;
}
