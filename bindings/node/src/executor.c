/*
 * executor.c - the threads that run the library's blocking calls.
 *
 * Why not N-API async work (the libuv thread pool): that pool has 4 threads by default, shared with
 * fs, dns.lookup, crypto and zlib, and queued in FIFO order. The library's calls block — on the
 * network up to the call budget, the 3LO poll up to 180 s — and a call whose token comes from a JS
 * plugin blocks until the JS thread has run that plugin. A plugin usually does I/O itself (reads a
 * file, or calls a vault over HTTPS, which needs dns.lookup): on the libuv pool, four concurrent
 * plugin-backed calls occupy every pool thread while the plugin's own fs/dns request waits behind
 * them, so nothing moves until the plugin times out; four 3LO polls stall every fs call of the
 * application for minutes. test/plugin_logger.test.js and test/pam.test.js show both staying
 * responsive. So blocking calls run here instead: threads started on demand up to
 * IDAAS_NODE_MAX_THREADS (default 32; further calls queue), exiting after 30 s idle. A finished
 * call goes back to its environment's JS thread through a threadsafe function (calls.c).
 */
#include "addon.h"

#include <signal.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static task *g_head = NULL, *g_tail = NULL;
static int g_queued = 0, g_threads = 0, g_idle = 0, g_max = 0;

enum { IDLE_EXIT_SECS = 30, DEFAULT_MAX_THREADS = 32 };

static void *worker_main(void *arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "idaas-worker");
    pthread_mutex_lock(&g_mu);
    for (;;) {
        while (!g_head) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += IDLE_EXIT_SECS;
            g_idle++;
            int rc = pthread_cond_timedwait(&g_cv, &g_mu, &until);
            g_idle--;
            if (rc != 0 && !g_head) {
                g_threads--;
                pthread_mutex_unlock(&g_mu);
                return NULL;
            }
        }
        task *t = g_head;
        g_head = t->next;
        if (!g_head) g_tail = NULL;
        g_queued--;
        pthread_mutex_unlock(&g_mu);
        t->run(t);
        pthread_mutex_lock(&g_mu);
    }
}

/* Starts one more thread (g_mu held). */
static bool start_thread(void) {
    pthread_t tid;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* the threads (and those the library starts from them) take no signals: Node's JS thread does */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    bool ok = pthread_create(&tid, &attr, worker_main, NULL) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (ok) g_threads++;
    return ok;
}

bool executor_submit(task *t) {
    pthread_mutex_lock(&g_mu);
    if (!g_max) {
        const char *e = getenv("IDAAS_NODE_MAX_THREADS");
        int n = e ? atoi(e) : 0;
        g_max = n > 0 ? n : DEFAULT_MAX_THREADS;
    }
    if (g_queued + 1 > g_idle && g_threads < g_max && !start_thread() && g_threads == 0) {
        pthread_mutex_unlock(&g_mu);
        return false; /* no thread at all would ever run it */
    }
    t->next = NULL;
    if (g_tail) g_tail->next = t;
    else g_head = t;
    g_tail = t;
    g_queued++;
    pthread_cond_signal(&g_cv);
    pthread_mutex_unlock(&g_mu);
    return true;
}
