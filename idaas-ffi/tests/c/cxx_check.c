/* Compiled as C++ (and as pedantic C99) by `make cxx-check`: the generated header must be usable from
 * both languages (extern "C" guards, no C-only constructs). */
#include "idaas.h"

static const char *version_of_library(void) {
    idaas_error *err = NULL;
    idaas_cancel *cancel = NULL;
    if (idaas_cancel_new(&cancel, &err) != IDAAS_CODE_OK) {
        idaas_error_free(err);
        return 0;
    }
    idaas_cancel_free(cancel);
    return idaas_version();
}

int main(void) {
    return version_of_library() != 0 ? 0 : 1;
}
