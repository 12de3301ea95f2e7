/* Compiled as C++ (and as pedantic C99) by `make cxx-check`: the generated header must be usable from
 * both languages (extern "C" guards, no C-only constructs, enums and callback types that convert as
 * documented). */
#include "idaas.h"

static int32_t plugin(void *user_data, const char *scope, idaas_plugin_result *result) {
    (void)user_data;
    (void)scope;
    return (int32_t)idaas_plugin_result_set_token(result, "t", 60, 0);
}

static void release(void *user_data) { (void)user_data; }

static void on_log(uint32_t level, const char *target, const char *message, void *user_data) {
    (void)level, (void)target, (void)message, (void)user_data;
}

static const char *version_of_library(void) {
    idaas_error *err = 0;
    idaas_cancel *cancel = 0;
    if (idaas_cancel_new(&cancel, &err) != IDAAS_CODE_OK) {
        idaas_error_free(err);
        return 0;
    }
    idaas_cancel_free(cancel);
    return idaas_version();
}

int main(void) {
    idaas_plugin_callback p = plugin;
    idaas_free_callback f = release;
    idaas_log_callback l = on_log;
    idaas_config *config = 0;
    if (idaas_config_from_json("{}", &config, 0) == IDAAS_CODE_OK) {
        idaas_config_add_plugin(config, "x", p, 0, f, 0);
        idaas_config_set_logger(config, l, 0, IDAAS_LOG_LEVEL_WARN, f, 0);
        idaas_config_free(config);
    }
    idaas_class c = idaas_code_class(IDAAS_CODE_AUTH);
    return version_of_library() != 0 && c == IDAAS_CLASS_AUTHENTICATION && !idaas_error_is_retryable(0) ? 0 : 1;
}
