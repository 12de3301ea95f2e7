/*
 * idaas_jni.c - JNI glue between dev.idaas.Native and the C ABI (include/idaas.h).
 *
 * Marshalling only, no logic:
 * - Java strings are encoded to standard UTF-8 here (not JNI's "modified UTF-8"): a lone surrogate is
 *   encoded as its 3-byte form, which the library reports as IDAAS_CODE_INVALID_UTF8; an embedded
 *   NUL is rejected (it would silently truncate the C string).
 * - Strings owned by the library come back to Java as byte[] (UTF-8) and are released with
 *   idaas_string_free (which zeroes them); Java decodes them and wipes the array.
 * - Errors become a Java exception built by dev.idaas.IdaasException.fromNative(...), with the
 *   library's class (idaas_code_class) and retry verdict (idaas_error_is_retryable): Java re-derives
 *   neither.
 * - Callbacks (log, plugin) may arrive on any native thread: the thread is attached as a daemon once
 *   and detached by a pthread key destructor when it exits.
 * - A callback object (TokenPlugin, IdaasLogger) given to a config is held by a JNI global reference,
 *   its user_data; the library calls release_global_ref (its free_user_data) once no config or client
 *   needs it any more, which deletes the reference so the object can be collected.
 */
#include <jni.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "idaas.h"

static JavaVM *g_vm;
static jclass g_exc_cls;          /* dev.idaas.IdaasException */
static jmethodID g_exc_from_native;
static jclass g_cb_cls;           /* dev.idaas.Callbacks */
static jmethodID g_cb_log, g_cb_plugin, g_cb_url;
static jclass g_pt_cls;           /* dev.idaas.PluginToken */
static jfieldID g_pt_token, g_pt_expires;

static pthread_key_t g_detach_key;
static pthread_once_t g_detach_once = PTHREAD_ONCE_INIT;

#define TOKEN_STACK 4096

/* ---- errors ------------------------------------------------------------------------------------ */

static jbyteArray bytes_of(JNIEnv *env, const char *s) {
    if (!s) return NULL;
    jsize n = (jsize)strlen(s);
    jbyteArray a = (*env)->NewByteArray(env, n);
    if (a && n) (*env)->SetByteArrayRegion(env, a, 0, n, (const jbyte *)s);
    return a;
}

/* Throws the exception for (code, err) and frees err. */
static void throw_error(JNIEnv *env, idaas_code code, idaas_error *err) {
    if ((*env)->ExceptionCheck(env)) {
        idaas_error_free(err);
        return;
    }
    uint32_t c = err ? (uint32_t)idaas_error_code(err) : (uint32_t)code;
    jint cls = (jint)idaas_code_class(c);
    jboolean retryable = idaas_error_is_retryable(err) ? JNI_TRUE : JNI_FALSE;
    jint http = err ? (jint)idaas_error_http_status(err) : 0;
    jbyteArray kind = bytes_of(env, err ? idaas_error_kind_name(err) : idaas_code_name(c));
    jbyteArray msg = bytes_of(env, err ? idaas_error_message(err) : idaas_code_name(c));
    jbyteArray server = bytes_of(env, err ? idaas_error_server_code(err) : NULL);
    jbyteArray req = bytes_of(env, err ? idaas_error_request_id(err) : NULL);
    idaas_error_free(err);
    if ((*env)->ExceptionCheck(env)) return; /* OOM */
    jobject ex = (*env)->CallStaticObjectMethod(env, g_exc_cls, g_exc_from_native, (jint)c, cls, retryable, http,
                                                kind, msg, server, req);
    if (ex && !(*env)->ExceptionCheck(env)) (*env)->Throw(env, (jthrowable)ex);
}

/* A local argument error of the glue (no idaas_error): code + message, never retryable. */
static void throw_local(JNIEnv *env, jint code, const char *message) {
    if ((*env)->ExceptionCheck(env)) return;
    jbyteArray kind = bytes_of(env, idaas_code_name((uint32_t)code));
    jbyteArray msg = bytes_of(env, message);
    if ((*env)->ExceptionCheck(env)) return;
    jobject ex = (*env)->CallStaticObjectMethod(env, g_exc_cls, g_exc_from_native, code,
                                                (jint)idaas_code_class((uint32_t)code), JNI_FALSE, 0, kind, msg,
                                                NULL, NULL);
    if (ex && !(*env)->ExceptionCheck(env)) (*env)->Throw(env, (jthrowable)ex);
}

/* ---- Java String -> NUL-terminated UTF-8 ---------------------------------------------------------- */

typedef struct {
    char *p;          /* NULL for a null jstring */
    size_t len;
    int heap;
    char stack[512];
} jstr;

/* Returns 0, or -1 with a Java exception pending. */
static int jstr_get(JNIEnv *env, jstring s, jstr *out) {
    out->p = NULL;
    out->len = 0;
    out->heap = 0;
    if (!s) return 0;
    jsize n = (*env)->GetStringLength(env, s);
    size_t cap = (size_t)n * 3 + 1;
    char *dst = out->stack;
    if (cap > sizeof out->stack) {
        dst = (char *)malloc(cap);
        if (!dst) {
            throw_local(env, IDAAS_CODE_INTERNAL, "out of memory encoding a string argument");
            return -1;
        }
        out->heap = 1;
    }
    /* GetStringRegion copies into our buffer (GetStringCritical would malloc a UTF-16 copy of every
     * compact Latin-1 string). */
    jchar ustack[256];
    jchar *u = ustack;
    if (n > (jsize)(sizeof ustack / sizeof ustack[0])) {
        u = (jchar *)malloc((size_t)n * sizeof(jchar));
        if (!u) {
            if (out->heap) free(dst);
            throw_local(env, IDAAS_CODE_INTERNAL, "out of memory encoding a string argument");
            return -1;
        }
    }
    (*env)->GetStringRegion(env, s, 0, n, u);
    size_t j = 0;
    int nul = 0;
    for (jsize i = 0; i < n; i++) {
        uint32_t c = u[i];
        if (c == 0) nul = 1;
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && u[i + 1] >= 0xDC00 && u[i + 1] <= 0xDFFF) {
            c = 0x10000 + ((c - 0xD800) << 10) + (u[i + 1] - 0xDC00);
            i++;
        }
        if (c < 0x80) {
            dst[j++] = (char)c;
        } else if (c < 0x800) {
            dst[j++] = (char)(0xC0 | (c >> 6));
            dst[j++] = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) { /* includes lone surrogates: invalid UTF-8 on purpose */
            dst[j++] = (char)(0xE0 | (c >> 12));
            dst[j++] = (char)(0x80 | ((c >> 6) & 0x3F));
            dst[j++] = (char)(0x80 | (c & 0x3F));
        } else {
            dst[j++] = (char)(0xF0 | (c >> 18));
            dst[j++] = (char)(0x80 | ((c >> 12) & 0x3F));
            dst[j++] = (char)(0x80 | ((c >> 6) & 0x3F));
            dst[j++] = (char)(0x80 | (c & 0x3F));
        }
    }
    idaas_buffer_wipe(u, (size_t)n * sizeof(jchar));
    if (u != ustack) free(u);
    dst[j] = '\0';
    out->p = dst;
    out->len = j;
    if (nul) {
        idaas_buffer_wipe(dst, j);
        if (out->heap) free(dst);
        out->p = NULL;
        throw_local(env, IDAAS_CODE_INVALID_ARGUMENT, "a string argument contains a NUL character");
        return -1;
    }
    return 0;
}

/* Wipes (arguments may be secrets: tokens, configuration JSON) and frees. */
static void jstr_release(jstr *s) {
    if (!s->p) return;
    idaas_buffer_wipe(s->p, s->len);
    if (s->heap) free(s->p);
    s->p = NULL;
}

/* An owned library string -> byte[] (NULL for NULL); the string is freed (zeroed) either way. */
static jbyteArray take_string(JNIEnv *env, char *s) {
    if (!s) return NULL;
    jbyteArray a = bytes_of(env, s);
    idaas_string_free(s);
    return a;
}

/* ---- threads and callbacks ---------------------------------------------------------------------- */

static void detach_thread(void *unused) {
    (void)unused;
    if (g_vm) (*g_vm)->DetachCurrentThread(g_vm);
}

static void make_detach_key(void) { pthread_key_create(&g_detach_key, detach_thread); }

/* The JNIEnv of the current thread, attaching it (as a daemon, once) when it is a native thread. */
static JNIEnv *attach_env(void) {
    JNIEnv *env = NULL;
    if (!g_vm) return NULL;
    jint r = (*g_vm)->GetEnv(g_vm, (void **)&env, JNI_VERSION_1_8);
    if (r == JNI_OK) return env;
    if (r != JNI_EDETACHED) return NULL;
    JavaVMAttachArgs args = {JNI_VERSION_1_8, (char *)"idaas-native", NULL};
    if ((*g_vm)->AttachCurrentThreadAsDaemon(g_vm, (void **)&env, &args) != JNI_OK) return NULL;
    pthread_once(&g_detach_once, make_detach_key);
    pthread_setspecific(g_detach_key, env); /* non-NULL value: the destructor detaches at thread exit */
    return env;
}

/* user_data: the global ref of a config's IdaasLogger, or NULL for the process-wide callback (the
 * Java side then forwards to System.Logger). */
static void log_cb(uint32_t level, const char *target, const char *message, void *user_data) {
    JNIEnv *env = attach_env();
    if (!env) return;
    if ((*env)->PushLocalFrame(env, 8) != 0) {
        (*env)->ExceptionClear(env);
        return;
    }
    jbyteArray t = bytes_of(env, target);
    jbyteArray m = bytes_of(env, message);
    if (!(*env)->ExceptionCheck(env)) (*env)->CallStaticVoidMethod(env, g_cb_cls, g_cb_log, (jobject)user_data, (jint)level, t, m);
    if ((*env)->ExceptionCheck(env)) (*env)->ExceptionClear(env);
    (*env)->PopLocalFrame(env, NULL);
}

static int32_t plugin_cb(void *user_data, const char *scope, idaas_plugin_result *result) {
    JNIEnv *env = attach_env();
    if (!env) {
        idaas_plugin_result_set_error(result, "the JVM could not attach this thread", NULL);
        return 1;
    }
    if ((*env)->PushLocalFrame(env, 16) != 0) {
        (*env)->ExceptionClear(env);
        idaas_plugin_result_set_error(result, "out of memory in the JVM", NULL);
        return 1;
    }
    int32_t rc = 1;
    jbyteArray s = bytes_of(env, scope);
    jobject r = NULL;
    if (!(*env)->ExceptionCheck(env))
        r = (*env)->CallStaticObjectMethod(env, g_cb_cls, g_cb_plugin, (jobject)user_data, s);
    if ((*env)->ExceptionCheck(env)) {
        (*env)->ExceptionClear(env);
        idaas_plugin_result_set_error(result, "the Java plugin threw", NULL);
    } else if (r && (*env)->IsInstanceOf(env, r, g_pt_cls)) {
        jstring tok = (jstring)(*env)->GetObjectField(env, r, g_pt_token);
        jlong exp = (*env)->GetLongField(env, r, g_pt_expires);
        jstr t;
        if (jstr_get(env, tok, &t) == 0) {
            idaas_error *err = NULL;
            idaas_code c = idaas_plugin_result_set_token(result, t.p, (uint64_t)(exp < 0 ? 0 : exp), &err);
            if (c == IDAAS_CODE_OK) {
                rc = 0;
            } else {
                idaas_plugin_result_set_error(result, idaas_error_message(err), NULL);
            }
            idaas_error_free(err);
            jstr_release(&t);
        } else {
            (*env)->ExceptionClear(env);
            idaas_plugin_result_set_error(result, "the Java plugin returned an unusable token", NULL);
        }
    } else if (r) { /* a String: the error message */
        jstr m;
        if (jstr_get(env, (jstring)r, &m) == 0) {
            idaas_plugin_result_set_error(result, m.p ? m.p : "plugin failed", NULL);
            jstr_release(&m);
        } else {
            (*env)->ExceptionClear(env);
        }
    }
    (*env)->PopLocalFrame(env, NULL);
    return rc;
}

typedef struct {
    JNIEnv *env;
    jobject consumer;
} url_ctx;

/* Called on the thread of idaas_pam_poll_oauth_token (a Java thread): env is valid. */
static int32_t url_cb(const char *url, void *user_data) {
    url_ctx *ctx = (url_ctx *)user_data;
    JNIEnv *env = ctx->env;
    jbyteArray u = bytes_of(env, url);
    if ((*env)->ExceptionCheck(env)) {
        (*env)->ExceptionClear(env);
        return 1;
    }
    jint r = (*env)->CallStaticIntMethod(env, g_cb_cls, g_cb_url, ctx->consumer, u);
    if ((*env)->ExceptionCheck(env)) {
        (*env)->ExceptionClear(env);
        r = 1;
    }
    (*env)->DeleteLocalRef(env, u);
    return (int32_t)r;
}

/* The free_user_data of config callbacks: deletes the global ref held as user_data. The library calls
 * it once, from any thread (a native refresh thread, the cleaner thread freeing a client ...). */
static void release_global_ref(void *user_data) {
    if (!user_data) return;
    JNIEnv *env = attach_env();
    if (env) (*env)->DeleteGlobalRef(env, (jobject)user_data);
}

/* ---- load ------------------------------------------------------------------------------------------ */

static jclass global_class(JNIEnv *env, const char *name) {
    jclass c = (*env)->FindClass(env, name);
    if (!c) return NULL;
    jclass g = (jclass)(*env)->NewGlobalRef(env, c);
    (*env)->DeleteLocalRef(env, c);
    return g;
}

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved) {
    (void)reserved;
    JNIEnv *env;
    g_vm = vm;
    if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK) return JNI_ERR;
    if (!(g_exc_cls = global_class(env, "dev/idaas/IdaasException"))) return JNI_ERR;
    g_exc_from_native = (*env)->GetStaticMethodID(env, g_exc_cls, "fromNative",
                                                  "(IIZI[B[B[B[B)Ldev/idaas/IdaasException;");
    if (!g_exc_from_native) return JNI_ERR;
    if (!(g_cb_cls = global_class(env, "dev/idaas/Callbacks"))) return JNI_ERR;
    g_cb_log = (*env)->GetStaticMethodID(env, g_cb_cls, "log", "(Ljava/lang/Object;I[B[B)V");
    g_cb_plugin = (*env)->GetStaticMethodID(env, g_cb_cls, "plugin", "(Ljava/lang/Object;[B)Ljava/lang/Object;");
    g_cb_url = (*env)->GetStaticMethodID(env, g_cb_cls, "onUrl", "(Ljava/lang/Object;[B)I");
    if (!g_cb_log || !g_cb_plugin || !g_cb_url) return JNI_ERR;
    if (!(g_pt_cls = global_class(env, "dev/idaas/PluginToken"))) return JNI_ERR;
    g_pt_token = (*env)->GetFieldID(env, g_pt_cls, "token", "Ljava/lang/String;");
    g_pt_expires = (*env)->GetFieldID(env, g_pt_cls, "expiresInSecs", "J");
    if (!g_pt_token || !g_pt_expires) return JNI_ERR;
    return JNI_VERSION_1_8;
}

/* ---- helpers for the common shapes ---------------------------------------------------------------- */

#define FN(name) JNICALL Java_dev_idaas_Native_##name
#define H(T, h) ((const T *)(intptr_t)(h))
#define CHECK_RC(rc, err) \
    do { if ((rc) != IDAAS_CODE_OK) { throw_error(env, (rc), (err)); } } while (0)

/* ---- misc --------------------------------------------------------------------------------------------- */

JNIEXPORT jbyteArray FN(version)(JNIEnv *env, jclass c) {
    (void)c;
    return bytes_of(env, idaas_version());
}

JNIEXPORT jbyteArray FN(codeName)(JNIEnv *env, jclass c, jint code) {
    (void)c;
    return bytes_of(env, idaas_code_name((uint32_t)code));
}

JNIEXPORT jint FN(codeClass)(JNIEnv *env, jclass c, jint code) {
    (void)env; (void)c;
    return (jint)idaas_code_class((uint32_t)code);
}

JNIEXPORT void FN(debugPanic)(JNIEnv *env, jclass c) {
    (void)c;
    idaas_error *err = NULL;
    idaas_code rc = idaas_debug_panic(&err);
    CHECK_RC(rc, err);
}

/* The process-wide log callback (records of clients without a logger of their own, and of the HTTP
 * stack), forwarded to System.Logger; max_level 0 removes it. */
JNIEXPORT void FN(logSetCallback)(JNIEnv *env, jclass c, jint max_level) {
    (void)c;
    idaas_error *err = NULL;
    idaas_code rc = max_level <= 0 ? idaas_log_set_callback(NULL, NULL, 0, &err)
                                   : idaas_log_set_callback(log_cb, NULL, (uint32_t)max_level, &err);
    CHECK_RC(rc, err);
}

/* ---- cancel ------------------------------------------------------------------------------------------ */

JNIEXPORT jlong FN(cancelNew)(JNIEnv *env, jclass c) {
    (void)c;
    idaas_cancel *out = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_cancel_new(&out, &err);
    CHECK_RC(rc, err);
    return (jlong)(intptr_t)out;
}

JNIEXPORT void FN(cancelCancel)(JNIEnv *env, jclass c, jlong h) {
    (void)env; (void)c;
    idaas_cancel_cancel(H(idaas_cancel, h));
}

JNIEXPORT jboolean FN(cancelIsCancelled)(JNIEnv *env, jclass c, jlong h) {
    (void)env; (void)c;
    return idaas_cancel_is_cancelled(H(idaas_cancel, h)) ? JNI_TRUE : JNI_FALSE;
}

JNIEXPORT void FN(cancelFree)(JNIEnv *env, jclass c, jlong h) {
    (void)env; (void)c;
    idaas_cancel_free((idaas_cancel *)(intptr_t)h);
}

/* ---- config ------------------------------------------------------------------------------------------ */

/* idaas_config_load: the file at path, or (path null) CLOUD_IDAAS_CONFIG_PATH, else the default file. */
JNIEXPORT jlong FN(configLoad)(JNIEnv *env, jclass c, jstring path) {
    (void)c;
    jstr p;
    if (jstr_get(env, path, &p) != 0) return 0;
    idaas_config *out = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_config_load(p.p, &out, &err);
    jstr_release(&p);
    CHECK_RC(rc, err);
    return (jlong)(intptr_t)out;
}

JNIEXPORT jlong FN(configFromJson)(JNIEnv *env, jclass c, jstring json) {
    (void)c;
    jstr j;
    if (jstr_get(env, json, &j) != 0) return 0;
    idaas_config *out = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_config_from_json(j.p, &out, &err);
    jstr_release(&j);
    CHECK_RC(rc, err);
    return (jlong)(intptr_t)out;
}

/* The plugin object is held by a global ref until the library releases it (release_global_ref). */
JNIEXPORT void FN(configAddPlugin)(JNIEnv *env, jclass c, jlong h, jstring name, jobject plugin) {
    (void)c;
    jstr n;
    if (jstr_get(env, name, &n) != 0) return;
    jobject g = plugin ? (*env)->NewGlobalRef(env, plugin) : NULL;
    if (plugin && !g) {
        jstr_release(&n);
        throw_local(env, IDAAS_CODE_INTERNAL, "out of memory holding the plugin");
        return;
    }
    idaas_error *err = NULL;
    idaas_code rc = idaas_config_add_plugin((idaas_config *)(intptr_t)h, n.p, g ? plugin_cb : NULL, g,
                                            release_global_ref, &err);
    jstr_release(&n);
    /* On error the library does not call free_user_data: the reference is still ours. */
    if (rc != IDAAS_CODE_OK && g) (*env)->DeleteGlobalRef(env, g);
    CHECK_RC(rc, err);
}

/* logger null: removes the config's logger (its clients then log to the process-wide callback). */
JNIEXPORT void FN(configSetLogger)(JNIEnv *env, jclass c, jlong h, jobject logger, jint max_level) {
    (void)c;
    jobject g = logger ? (*env)->NewGlobalRef(env, logger) : NULL;
    if (logger && !g) {
        throw_local(env, IDAAS_CODE_INTERNAL, "out of memory holding the logger");
        return;
    }
    idaas_error *err = NULL;
    idaas_code rc = idaas_config_set_logger((idaas_config *)(intptr_t)h, g ? log_cb : NULL, g,
                                            (uint32_t)(max_level < 0 ? 0 : max_level), release_global_ref, &err);
    if (rc != IDAAS_CODE_OK && g) (*env)->DeleteGlobalRef(env, g);
    CHECK_RC(rc, err);
}

JNIEXPORT void FN(configFree)(JNIEnv *env, jclass c, jlong h) {
    (void)env; (void)c;
    idaas_config_free((idaas_config *)(intptr_t)h);
}

/* ---- client ------------------------------------------------------------------------------------------ */

JNIEXPORT jlong FN(clientNew)(JNIEnv *env, jclass c, jlong config, jstring opts) {
    (void)c;
    jstr o;
    if (jstr_get(env, opts, &o) != 0) return 0;
    idaas_client *out = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_client_new(H(idaas_config, config), o.p, &out, &err);
    jstr_release(&o);
    CHECK_RC(rc, err);
    return (jlong)(intptr_t)out;
}

JNIEXPORT void FN(clientFree)(JNIEnv *env, jclass c, jlong h) {
    (void)env; (void)c;
    idaas_client_free((idaas_client *)(intptr_t)h);
}

/* The hot path. Copies the token into `buf` (a reusable Java array) and returns its length; returns
 * -(required length) when `buf` is too small (the token stays cached: the caller grows and retries). */
JNIEXPORT jint FN(clientGetTokenInto)(JNIEnv *env, jclass c, jlong h, jstring scope, jbyteArray buf) {
    (void)c;
    jstr s;
    if (jstr_get(env, scope, &s) != 0) return 0;
    char stack[TOKEN_STACK];
    size_t len = 0;
    idaas_error *err = NULL;
    idaas_code rc = idaas_client_get_token_into(H(idaas_client, h), s.p, stack, sizeof stack, &len, &err);
    jint ret = 0;
    if (rc == IDAAS_CODE_OK) {
        jsize cap = (*env)->GetArrayLength(env, buf);
        if ((size_t)cap >= len) {
            (*env)->SetByteArrayRegion(env, buf, 0, (jsize)len, (const jbyte *)stack);
            ret = (jint)len;
        } else {
            ret = -(jint)len;
        }
        idaas_buffer_wipe(stack, len);
    }
    /* A token longer than the stack buffer (len = required size): a heap buffer; a refresh may change
     * the size between two calls, hence the loop. */
    for (int attempt = 0; rc == IDAAS_CODE_BUFFER_TOO_SMALL && attempt < 4; attempt++) {
        idaas_error_free(err);
        err = NULL;
        size_t need = len;
        char *big = (char *)malloc(need);
        if (!big) {
            jstr_release(&s);
            throw_local(env, IDAAS_CODE_INTERNAL, "out of memory");
            return 0;
        }
        rc = idaas_client_get_token_into(H(idaas_client, h), s.p, big, need, &len, &err);
        if (rc == IDAAS_CODE_OK) {
            jsize cap = (*env)->GetArrayLength(env, buf);
            if ((size_t)cap >= len) {
                (*env)->SetByteArrayRegion(env, buf, 0, (jsize)len, (const jbyte *)big);
                ret = (jint)len;
            } else {
                ret = -(jint)len;
            }
            idaas_buffer_wipe(big, len);
        }
        free(big);
    }
    jstr_release(&s);
    CHECK_RC(rc, err);
    return ret;
}

JNIEXPORT jlong FN(clientGetProvider)(JNIEnv *env, jclass c, jlong h, jstring scope) {
    (void)c;
    jstr s;
    if (jstr_get(env, scope, &s) != 0) return 0;
    idaas_provider *out = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_client_get_provider(H(idaas_client, h), s.p, &out, &err);
    jstr_release(&s);
    CHECK_RC(rc, err);
    return (jlong)(intptr_t)out;
}

JNIEXPORT jlong FN(clientGetExchangeProvider)(JNIEnv *env, jclass c, jlong h, jstring scope) {
    (void)c;
    jstr s;
    if (jstr_get(env, scope, &s) != 0) return 0;
    idaas_exchange_provider *out = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_client_get_exchange_provider(H(idaas_client, h), s.p, &out, &err);
    jstr_release(&s);
    CHECK_RC(rc, err);
    return (jlong)(intptr_t)out;
}

JNIEXPORT jbyteArray FN(clientExchangeToken)(JNIEnv *env, jclass c, jlong h, jstring subject, jstring subject_type,
                                              jstring requested_type, jstring scope) {
    (void)c;
    jstr a, b, d, e;
    jbyteArray ret = NULL;
    if (jstr_get(env, subject, &a) != 0) return NULL;
    if (jstr_get(env, subject_type, &b) != 0) goto out_a;
    if (jstr_get(env, requested_type, &d) != 0) goto out_b;
    if (jstr_get(env, scope, &e) != 0) goto out_d;
    char *json = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_client_exchange_token(H(idaas_client, h), a.p, b.p, d.p, e.p, &json, &err);
    if (rc == IDAAS_CODE_OK) ret = take_string(env, json);
    else throw_error(env, rc, err);
    jstr_release(&e);
out_d:
    jstr_release(&d);
out_b:
    jstr_release(&b);
out_a:
    jstr_release(&a);
    return ret;
}

/* ---- providers ------------------------------------------------------------------------------------- */

JNIEXPORT jlong FN(providerNewStatic)(JNIEnv *env, jclass c, jstring token, jlong expires_at) {
    (void)c;
    jstr t;
    if (jstr_get(env, token, &t) != 0) return 0;
    idaas_provider *out = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_provider_new_static(t.p, (uint64_t)(expires_at < 0 ? 0 : expires_at), &out, &err);
    jstr_release(&t);
    CHECK_RC(rc, err);
    return (jlong)(intptr_t)out;
}

JNIEXPORT jlong FN(providerNewFromCredentialJson)(JNIEnv *env, jclass c, jstring json) {
    (void)c;
    jstr j;
    if (jstr_get(env, json, &j) != 0) return 0;
    idaas_provider *out = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_provider_new_from_credential_json(j.p, &out, &err);
    jstr_release(&j);
    CHECK_RC(rc, err);
    return (jlong)(intptr_t)out;
}

/* Same contract as clientGetTokenInto, for a provider (a scope-bound provider is the fast way to read
 * a non-default scope: no scope string to marshal or parse per call). */
JNIEXPORT jint FN(providerGetTokenInto)(JNIEnv *env, jclass c, jlong h, jbyteArray buf) {
    (void)c;
    char stack[TOKEN_STACK];
    size_t len = 0;
    idaas_error *err = NULL;
    idaas_code rc = idaas_provider_get_token_into(H(idaas_provider, h), stack, sizeof stack, &len, &err);
    jint ret = 0;
    if (rc == IDAAS_CODE_OK) {
        jsize cap = (*env)->GetArrayLength(env, buf);
        if ((size_t)cap >= len) {
            (*env)->SetByteArrayRegion(env, buf, 0, (jsize)len, (const jbyte *)stack);
            ret = (jint)len;
        } else {
            ret = -(jint)len;
        }
        idaas_buffer_wipe(stack, len);
    }
    for (int attempt = 0; rc == IDAAS_CODE_BUFFER_TOO_SMALL && attempt < 4; attempt++) {
        idaas_error_free(err);
        err = NULL;
        size_t need = len;
        char *big = (char *)malloc(need);
        if (!big) {
            throw_local(env, IDAAS_CODE_INTERNAL, "out of memory");
            return 0;
        }
        rc = idaas_provider_get_token_into(H(idaas_provider, h), big, need, &len, &err);
        if (rc == IDAAS_CODE_OK) {
            jsize cap = (*env)->GetArrayLength(env, buf);
            if ((size_t)cap >= len) {
                (*env)->SetByteArrayRegion(env, buf, 0, (jsize)len, (const jbyte *)big);
                ret = (jint)len;
            } else {
                ret = -(jint)len;
            }
            idaas_buffer_wipe(big, len);
        }
        free(big);
    }
    CHECK_RC(rc, err);
    return ret;
}

JNIEXPORT void FN(providerFree)(JNIEnv *env, jclass c, jlong h) {
    (void)env; (void)c;
    idaas_provider_free((idaas_provider *)(intptr_t)h);
}

JNIEXPORT jbyteArray FN(exchangeProviderExchange)(JNIEnv *env, jclass c, jlong h, jstring subject,
                                                   jstring subject_type, jstring requested_type) {
    (void)c;
    jstr a, b, d;
    jbyteArray ret = NULL;
    if (jstr_get(env, subject, &a) != 0) return NULL;
    if (jstr_get(env, subject_type, &b) != 0) goto out_a;
    if (jstr_get(env, requested_type, &d) != 0) goto out_b;
    char *json = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_exchange_provider_exchange(H(idaas_exchange_provider, h), a.p, b.p, d.p, &json, &err);
    if (rc == IDAAS_CODE_OK) ret = take_string(env, json);
    else throw_error(env, rc, err);
    jstr_release(&d);
out_b:
    jstr_release(&b);
out_a:
    jstr_release(&a);
    return ret;
}

JNIEXPORT void FN(exchangeProviderFree)(JNIEnv *env, jclass c, jlong h) {
    (void)env; (void)c;
    idaas_exchange_provider_free((idaas_exchange_provider *)(intptr_t)h);
}

/* ---- PAM --------------------------------------------------------------------------------------------- */

JNIEXPORT jlong FN(pamNew)(JNIEnv *env, jclass c, jlong client, jlong provider, jstring opts) {
    (void)c;
    jstr o;
    if (jstr_get(env, opts, &o) != 0) return 0;
    idaas_pam *out = NULL;
    idaas_error *err = NULL;
    idaas_code rc = provider
        ? idaas_pam_new_with_provider(H(idaas_client, client), H(idaas_provider, provider), o.p, &out, &err)
        : idaas_pam_new(H(idaas_client, client), o.p, &out, &err);
    jstr_release(&o);
    CHECK_RC(rc, err);
    return (jlong)(intptr_t)out;
}

JNIEXPORT void FN(pamFree)(JNIEnv *env, jclass c, jlong h) {
    (void)env; (void)c;
    idaas_pam_free((idaas_pam *)(intptr_t)h);
}

/* Calls with up to four string arguments and one owned string result (or none). */
#define PAM_ARGS4(a1, a2, a3, a4)                                          \
    jstr s1, s2, s3, s4;                                                   \
    s1.p = s2.p = s3.p = s4.p = NULL;                                      \
    if (jstr_get(env, a1, &s1) != 0 || jstr_get(env, a2, &s2) != 0 ||      \
        jstr_get(env, a3, &s3) != 0 || jstr_get(env, a4, &s4) != 0) {      \
        jstr_release(&s1); jstr_release(&s2); jstr_release(&s3);           \
        jstr_release(&s4);                                                 \
        return 0;                                                          \
    }
#define PAM_RELEASE4() do { jstr_release(&s1); jstr_release(&s2); jstr_release(&s3); jstr_release(&s4); } while (0)

JNIEXPORT jbyteArray FN(pamGetApiKey)(JNIEnv *env, jclass c, jlong h, jstring id) {
    (void)c;
    PAM_ARGS4(id, NULL, NULL, NULL)
    char *out = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_pam_get_api_key(H(idaas_pam, h), s1.p, &out, &err);
    PAM_RELEASE4();
    if (rc != IDAAS_CODE_OK) { throw_error(env, rc, err); return NULL; }
    return take_string(env, out);
}

JNIEXPORT void FN(pamInvalidateApiKey)(JNIEnv *env, jclass c, jlong h, jstring id) {
    (void)c;
    jstr s;
    if (jstr_get(env, id, &s) != 0) return;
    idaas_error *err = NULL;
    idaas_code rc = idaas_pam_invalidate_api_key(H(idaas_pam, h), s.p, &err);
    jstr_release(&s);
    CHECK_RC(rc, err);
}

JNIEXPORT jbyteArray FN(pamFetchOAuthToken)(JNIEnv *env, jclass c, jlong h, jstring provider, jstring scope) {
    (void)c;
    PAM_ARGS4(provider, scope, NULL, NULL)
    char *out = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_pam_fetch_oauth_token(H(idaas_pam, h), s1.p, s2.p, &out, &err);
    PAM_RELEASE4();
    if (rc != IDAAS_CODE_OK) { throw_error(env, rc, err); return NULL; }
    return take_string(env, out);
}

JNIEXPORT jbyteArray FN(pamFetchOAuthTokenV2)(JNIEnv *env, jclass c, jlong h, jstring provider, jstring flow,
                                               jstring opts) {
    (void)c;
    PAM_ARGS4(provider, flow, opts, NULL)
    char *out = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_pam_fetch_oauth_token_v2(H(idaas_pam, h), s1.p, s2.p, s3.p, &out, &err);
    PAM_RELEASE4();
    if (rc != IDAAS_CODE_OK) { throw_error(env, rc, err); return NULL; }
    return take_string(env, out);
}

JNIEXPORT jbyteArray FN(pamGetOAuthSession)(JNIEnv *env, jclass c, jlong h, jstring uri) {
    (void)c;
    PAM_ARGS4(uri, NULL, NULL, NULL)
    char *out = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_pam_get_oauth_session(H(idaas_pam, h), s1.p, &out, &err);
    PAM_RELEASE4();
    if (rc != IDAAS_CODE_OK) { throw_error(env, rc, err); return NULL; }
    return take_string(env, out);
}

JNIEXPORT jbyteArray FN(pamPollOAuthToken)(JNIEnv *env, jclass c, jlong h, jstring provider, jstring opts,
                                            jobject on_url, jlong cancel) {
    (void)c;
    PAM_ARGS4(provider, opts, NULL, NULL)
    url_ctx ctx = {env, on_url};
    char *out = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_pam_poll_oauth_token(H(idaas_pam, h), s1.p, s2.p, on_url ? url_cb : NULL, &ctx,
                                               H(idaas_cancel, cancel), &out, &err);
    PAM_RELEASE4();
    if (rc != IDAAS_CODE_OK) { throw_error(env, rc, err); return NULL; }
    return take_string(env, out);
}

JNIEXPORT jbyteArray FN(pamGenerateJwt)(JNIEnv *env, jclass c, jlong h, jstring provider, jstring subject,
                                         jstring audiences, jstring opts) {
    (void)c;
    PAM_ARGS4(provider, subject, audiences, opts)
    char *out = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_pam_generate_jwt(H(idaas_pam, h), s1.p, s2.p, s3.p, s4.p, &out, &err);
    PAM_RELEASE4();
    if (rc != IDAAS_CODE_OK) { throw_error(env, rc, err); return NULL; }
    return take_string(env, out);
}

JNIEXPORT jbyteArray FN(pamObtainJwt)(JNIEnv *env, jclass c, jlong h, jstring consumer, jstring token_id) {
    (void)c;
    PAM_ARGS4(consumer, token_id, NULL, NULL)
    char *out = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_pam_obtain_jwt(H(idaas_pam, h), s1.p, s2.p, &out, &err);
    PAM_RELEASE4();
    if (rc != IDAAS_CODE_OK) { throw_error(env, rc, err); return NULL; }
    return take_string(env, out);
}

JNIEXPORT jbyteArray FN(pamObtainJwtByShortToken)(JNIEnv *env, jclass c, jlong h, jstring short_token) {
    (void)c;
    PAM_ARGS4(short_token, NULL, NULL, NULL)
    char *out = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_pam_obtain_jwt_by_short_token(H(idaas_pam, h), s1.p, &out, &err);
    PAM_RELEASE4();
    if (rc != IDAAS_CODE_OK) { throw_error(env, rc, err); return NULL; }
    return take_string(env, out);
}

JNIEXPORT jbyteArray FN(pamListTokens)(JNIEnv *env, jclass c, jlong h, jstring consumer, jstring provider,
                                        jstring opts) {
    (void)c;
    PAM_ARGS4(consumer, provider, opts, NULL)
    char *out = NULL;
    idaas_error *err = NULL;
    idaas_code rc = idaas_pam_list_tokens(H(idaas_pam, h), s1.p, s2.p, s3.p, &out, &err);
    PAM_RELEASE4();
    if (rc != IDAAS_CODE_OK) { throw_error(env, rc, err); return NULL; }
    return take_string(env, out);
}

JNIEXPORT jboolean FN(pamValidateToken)(JNIEnv *env, jclass c, jlong h, jstring token, jstring hint) {
    (void)c;
    PAM_ARGS4(token, hint, NULL, NULL)
    bool active = false;
    idaas_error *err = NULL;
    idaas_code rc = idaas_pam_validate_token(H(idaas_pam, h), s1.p, s2.p, &active, &err);
    PAM_RELEASE4();
    if (rc != IDAAS_CODE_OK) { throw_error(env, rc, err); return JNI_FALSE; }
    return active ? JNI_TRUE : JNI_FALSE;
}

/* op: 0 revoke, 1 reinstate, 2 revoke by consumer, 3 reinstate by consumer */
JNIEXPORT void FN(pamRevokeOrReinstate)(JNIEnv *env, jclass c, jlong h, jint op, jstring a, jstring b) {
    (void)c;
    jstr s1, s2;
    if (jstr_get(env, a, &s1) != 0) return;
    if (jstr_get(env, b, &s2) != 0) { jstr_release(&s1); return; }
    const idaas_pam *pam = H(idaas_pam, h);
    idaas_error *err = NULL;
    idaas_code rc;
    switch (op) {
    case 0: rc = idaas_pam_revoke_token(pam, s1.p, s2.p, &err); break;
    case 1: rc = idaas_pam_reinstate_token(pam, s1.p, s2.p, &err); break;
    case 2: rc = idaas_pam_revoke_tokens_by_consumer(pam, s1.p, s2.p, &err); break;
    default: rc = idaas_pam_reinstate_tokens_by_consumer(pam, s1.p, s2.p, &err); break;
    }
    jstr_release(&s1);
    jstr_release(&s2);
    CHECK_RC(rc, err);
}
