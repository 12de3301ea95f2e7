/*
 * A tiny C test harness for the idaas C ABI tests: check macros (thread-safe counters), a summary line
 * "N passed, N failed", an emulator child process started with --port 0 --ready-file, and a minimal
 * JSON field extractor for the ready file and the library's JSON results.
 */
#ifndef IDAAS_TEST_HARNESS_H
#define IDAAS_TEST_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "idaas.h"

extern char **environ;

#define MAYBE_UNUSED __attribute__((unused))

static long g_passed = 0;
static long g_failed = 0;

#define PASS() __atomic_fetch_add(&g_passed, 1, __ATOMIC_RELAXED)
#define FAIL_AT(file, line, ...)                                                                   \
    do {                                                                                           \
        __atomic_fetch_add(&g_failed, 1, __ATOMIC_RELAXED);                                        \
        fprintf(stderr, "FAIL %s:%d: ", file, line);                                               \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
    } while (0)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            PASS();                                                                                \
        } else {                                                                                   \
            FAIL_AT(__FILE__, __LINE__, "%s", #cond);                                              \
        }                                                                                          \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                                         \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (a_ != NULL && b_ != NULL && strcmp(a_, b_) == 0) {                                     \
            PASS();                                                                                \
        } else {                                                                                   \
            FAIL_AT(__FILE__, __LINE__, "%s == %s (\"%s\" vs \"%s\")", #a, #b, a_ ? a_ : "(null)", \
                    b_ ? b_ : "(null)");                                                           \
        }                                                                                          \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                                                \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (h_ != NULL && strstr(h_, n_) != NULL) {                                                \
            PASS();                                                                                \
        } else {                                                                                   \
            FAIL_AT(__FILE__, __LINE__, "%s contains \"%s\" (got \"%s\")", #hay, n_,               \
                    h_ ? h_ : "(null)");                                                           \
        }                                                                                          \
    } while (0)

/* Checks the code of a call; on a mismatch prints the error message too. Frees nothing. */
#define CHECK_CODE(expr, err, expected)                                                            \
    do {                                                                                           \
        idaas_code c_ = (expr);                                                                    \
        if ((uint32_t)c_ == (uint32_t)(expected)) {                                                \
            PASS();                                                                                \
        } else {                                                                                   \
            FAIL_AT(__FILE__, __LINE__, "%s -> %u (%s), expected %u (%s): %s", #expr,              \
                    (unsigned)c_, idaas_code_name((uint32_t)c_), (unsigned)(expected),             \
                    idaas_code_name((uint32_t)(expected)), idaas_error_message(err));              \
        }                                                                                          \
    } while (0)

/* Expects `expr` to fail with `expected`; checks the error handle (code, kind, message not empty,
 * message contains `substr` if not NULL) and frees it. */
#define EXPECT_ERR(expr, expected, substr)                                                         \
    do {                                                                                           \
        idaas_error *e_ = NULL;                                                                    \
        idaas_error **ep_ = &e_;                                                                   \
        idaas_code c_ = (expr);                                                                    \
        (void)ep_;                                                                                 \
        if ((uint32_t)c_ != (uint32_t)(expected)) {                                                \
            FAIL_AT(__FILE__, __LINE__, "%s -> %u (%s), expected %u: %s", #expr, (unsigned)c_,     \
                    idaas_code_name((uint32_t)c_), (unsigned)(expected), idaas_error_message(e_)); \
        } else if (e_ == NULL) {                                                                   \
            FAIL_AT(__FILE__, __LINE__, "%s: no error handle", #expr);                             \
        } else if (idaas_error_code(e_) != c_) {                                                   \
            FAIL_AT(__FILE__, __LINE__, "%s: idaas_error_code mismatch", #expr);                   \
        } else if (idaas_error_message(e_)[0] == '\0') {                                           \
            FAIL_AT(__FILE__, __LINE__, "%s: empty message", #expr);                               \
        } else if ((substr) != NULL && strstr(idaas_error_message(e_), (substr) ? (substr) : "") == NULL) { \
            FAIL_AT(__FILE__, __LINE__, "%s: message \"%s\" lacks \"%s\"", #expr,                  \
                    idaas_error_message(e_), (substr) ? (substr) : "");                            \
        } else {                                                                                   \
            PASS();                                                                                \
        }                                                                                          \
        idaas_error_free(e_);                                                                      \
    } while (0)

/* The err_out argument inside EXPECT_ERR. */
#define ERR ep_

MAYBE_UNUSED static int harness_summary(void) {
    printf("%ld passed, %ld failed\n", g_passed, g_failed);
    fflush(stdout);
    return g_failed == 0 ? 0 : 1;
}

/* ---- small utilities ------------------------------------------------------------------------ */

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return NULL; }
    long n = ftell(f);
    if (n < 0) { fclose(f); return NULL; }
    rewind(f);
    char *buf = (char *)malloc((size_t)n + 1);
    if (!buf) { fclose(f); return NULL; }
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0';
    return buf;
}

MAYBE_UNUSED static int write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

MAYBE_UNUSED static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* ---- minimal JSON extraction ------------------------------------------------------------------
 * Enough for the emulator's ready file and the library's results: finds "key": at any depth (first
 * occurrence in document order) and returns the raw value span or a decoded string. */

static const char *json_skip_ws(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
    return p;
}

/* End of the JSON value starting at p (one past it), or NULL. */
static const char *json_value_end(const char *p) {
    p = json_skip_ws(p);
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++)
            if (*p == '\\' && p[1]) p++;
        return *p == '"' ? p + 1 : NULL;
    }
    if (*p == '{' || *p == '[') {
        int depth = 0;
        for (; *p; p++) {
            if (*p == '"') {
                for (p++; *p && *p != '"'; p++)
                    if (*p == '\\' && p[1]) p++;
                if (!*p) return NULL;
            } else if (*p == '{' || *p == '[') {
                depth++;
            } else if (*p == '}' || *p == ']') {
                if (--depth == 0) return p + 1;
            }
        }
        return NULL;
    }
    while (*p && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n') p++;
    return p;
}

/* Start of the value of "key" (first occurrence as an object key), or NULL. */
static const char *json_find(const char *json, const char *key) {
    size_t klen = strlen(key);
    const char *p = json;
    while ((p = strstr(p, key)) != NULL) {
        if (p > json && p[-1] == '"' && p[klen] == '"') {
            const char *q = json_skip_ws(p + klen + 1);
            if (*q == ':') return json_skip_ws(q + 1);
        }
        p += klen;
    }
    return NULL;
}

/* A malloc'ed copy of the raw JSON value of "key" (objects, arrays, numbers, literals). */
MAYBE_UNUSED static char *json_raw(const char *json, const char *key) {
    const char *v = json ? json_find(json, key) : NULL;
    if (!v) return NULL;
    const char *end = json_value_end(v);
    if (!end) return NULL;
    size_t n = (size_t)(end - v);
    char *out = (char *)malloc(n + 1);
    memcpy(out, v, n);
    out[n] = '\0';
    return out;
}

/* A malloc'ed decoded copy of the string value of "key" (\uXXXX below 0x80 only), or NULL. */
MAYBE_UNUSED static char *json_str(const char *json, const char *key) {
    const char *v = json ? json_find(json, key) : NULL;
    if (!v || *v != '"') return NULL;
    const char *end = json_value_end(v);
    if (!end) return NULL;
    char *out = (char *)malloc((size_t)(end - v) + 1), *o = out;
    for (const char *p = v + 1; p < end - 1; p++) {
        if (*p != '\\') { *o++ = *p; continue; }
        p++;
        switch (*p) {
        case 'n': *o++ = '\n'; break;
        case 't': *o++ = '\t'; break;
        case 'r': *o++ = '\r'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'u': {
            unsigned cp = 0;
            if (sscanf(p + 1, "%4x", &cp) == 1) { *o++ = (char)(cp < 0x80 ? cp : '?'); p += 4; }
            break;
        }
        default: *o++ = *p; break;
        }
    }
    *o = '\0';
    return out;
}

/* Integer value of "key", or `dflt`. */
MAYBE_UNUSED static long long json_int(const char *json, const char *key, long long dflt) {
    const char *v = json ? json_find(json, key) : NULL;
    if (!v) return dflt;
    char *end = NULL;
    long long x = strtoll(v, &end, 10);
    return end == v ? dflt : x;
}

/* 1 for true, 0 for false, -1 when absent or not a boolean. */
MAYBE_UNUSED static int json_bool(const char *json, const char *key) {
    const char *v = json ? json_find(json, key) : NULL;
    if (!v) return -1;
    if (strncmp(v, "true", 4) == 0) return 1;
    if (strncmp(v, "false", 5) == 0) return 0;
    return -1;
}

/* ---- the emulator child process ----------------------------------------------------------------- */

typedef struct {
    pid_t pid;
    char dir[256];        /* temp dir holding the ready file, configs, logs */
    char ready_path[300];
    char *ready;          /* ready-file JSON */
} emulator;

/* Starts IDAAS_EMULATOR_BIN --port 0 --ready-file <dir>/ready.json and waits (up to 60 s) for the
 * ready file. Returns 0 on success; -1 (with a message) when no emulator is available. */
MAYBE_UNUSED static int emulator_start(emulator *em) {
    memset(em, 0, sizeof *em);
    const char *bin = getenv("IDAAS_EMULATOR_BIN");
    if (!bin || !*bin) {
        fprintf(stderr, "note: IDAAS_EMULATOR_BIN not set: emulator tests skipped\n");
        return -1;
    }
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "note: emulator %s not executable: emulator tests skipped\n", bin);
        return -1;
    }
    snprintf(em->dir, sizeof em->dir, "/tmp/idaas-ctest-XXXXXX");
    if (!mkdtemp(em->dir)) { perror("mkdtemp"); return -1; }
    snprintf(em->ready_path, sizeof em->ready_path, "%s/ready.json", em->dir);
    char log_path[320];
    snprintf(log_path, sizeof log_path, "%s/emulator.log", em->dir);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    char *argv[] = {(char *)bin, (char *)"--port", (char *)"0", (char *)"--ready-file",
                    em->ready_path, NULL};
    int rc = posix_spawn(&em->pid, bin, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) { fprintf(stderr, "posix_spawn %s: %s\n", bin, strerror(rc)); return -1; }

    for (int i = 0; i < 600; i++) {
        char *text = read_file(em->ready_path);
        if (text && strlen(text) > 2 && text[strlen(text) - 1] != ',' && json_value_end(json_skip_ws(text))) {
            em->ready = text;
            return 0;
        }
        free(text);
        int status;
        if (waitpid(em->pid, &status, WNOHANG) == em->pid) {
            fprintf(stderr, "emulator exited early (status %d); log: %s\n", status, log_path);
            em->pid = 0;
            return -1;
        }
        sleep_ms(100);
    }
    fprintf(stderr, "emulator did not become ready in 60 s; log: %s\n", log_path);
    return -1;
}

MAYBE_UNUSED static void emulator_stop(emulator *em) {
    if (em->pid > 0) {
        kill(em->pid, SIGTERM);
        int status;
        for (int i = 0; i < 50 && waitpid(em->pid, &status, WNOHANG) == 0; i++) sleep_ms(100);
        kill(em->pid, SIGKILL);
        waitpid(em->pid, &status, 0);
        em->pid = 0;
    }
    free(em->ready);
    em->ready = NULL;
}

/* One plain-HTTP request to the emulator's port (control API). Returns the HTTP status (or -1) and a
 * malloc'ed body in *body_out (may be NULL). */
MAYBE_UNUSED static int emulator_http(const emulator *em, const char *method, const char *path,
                                      const char *body, char **body_out) {
    if (body_out) *body_out = NULL;
    char *base = json_str(em->ready, "httpBaseUrl");
    if (!base) return -1;
    const char *colon = strrchr(base, ':');
    int port = colon ? atoi(colon + 1) : 0;
    free(base);
    if (port <= 0) return -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) { close(fd); return -1; }
    size_t blen = body ? strlen(body) : 0;
    size_t cap = 512 + blen + strlen(path);
    char *req = (char *)malloc(cap);
    int n = snprintf(req, cap,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     method, path, port, blen, body ? body : "");
    ssize_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, req + off, (size_t)(n - off));
        if (w <= 0) break;
        off += w;
    }
    free(req);
    size_t rcap = 65536, rlen = 0;
    char *resp = (char *)malloc(rcap);
    for (;;) {
        if (rlen + 4096 > rcap) { rcap *= 2; resp = (char *)realloc(resp, rcap); }
        ssize_t r = read(fd, resp + rlen, rcap - rlen - 1);
        if (r <= 0) break;
        rlen += (size_t)r;
    }
    close(fd);
    resp[rlen] = '\0';
    int status = -1;
    if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1) status = -1;
    const char *b = strstr(resp, "\r\n\r\n");
    if (body_out && b) *body_out = strdup(b + 4);
    free(resp);
    return status;
}

#endif /* IDAAS_TEST_HARNESS_H */
