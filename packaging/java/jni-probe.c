/* jni-probe LIB: dlopen()s a libidaas_jni.so with RTLD_NOW (every undefined symbol resolved against
 * the process's libc now, as System.load does) and calls its Java_dev_idaas_Native_version through a
 * minimal JNIEnv (NewByteArray, SetByteArrayRegion). The load test of a platform's JNI library where
 * no JVM of that platform runs here: aarch64 (under qemu) and musl (built with musl-gcc, so the
 * process runs on musl's loader). packaging/java/test.sh builds it with each platform's cc. */
#include <dlfcn.h>
#include <jni.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct array {
    jsize n;
    char bytes[];
};

static jbyteArray JNICALL new_byte_array(JNIEnv *env, jsize n) {
    (void)env;
    struct array *a = calloc(1, sizeof *a + (size_t)n + 1);
    if (!a) abort();
    a->n = n;
    return (jbyteArray)a;
}

static void JNICALL set_byte_array_region(JNIEnv *env, jbyteArray array, jsize start, jsize len,
                                          const jbyte *buf) {
    (void)env;
    memcpy(((struct array *)array)->bytes + start, buf, (size_t)len);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: jni-probe LIB\n");
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "jni-probe: dlopen: %s\n", dlerror());
        return 1;
    }
    if (!dlsym(lib, "JNI_OnLoad")) {
        fprintf(stderr, "jni-probe: no JNI_OnLoad\n");
        return 1;
    }
    /* The Rust library is linked in with its symbols hidden (exports.map, --exclude-libs). */
    if (dlsym(lib, "idaas_version")) {
        fprintf(stderr, "jni-probe: idaas_version is exported\n");
        return 1;
    }
    jbyteArray(JNICALL * version)(JNIEnv *, jclass);
    void *sym = dlsym(lib, "Java_dev_idaas_Native_version");
    if (!sym) {
        fprintf(stderr, "jni-probe: no Java_dev_idaas_Native_version\n");
        return 1;
    }
    memcpy(&version, &sym, sizeof sym);
    struct JNINativeInterface_ functions;
    memset(&functions, 0, sizeof functions);
    functions.NewByteArray = new_byte_array;
    functions.SetByteArrayRegion = set_byte_array_region;
    JNIEnv env = &functions;
    struct array *v = (struct array *)version(&env, NULL);
    if (!v) {
        fprintf(stderr, "jni-probe: no version\n");
        return 1;
    }
    printf("idaas %s\n", v->bytes);
    return 0;
}
