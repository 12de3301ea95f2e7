/* Emulator-backed tests (included by test_ffi.c). */
#ifndef IDAAS_TEST_EMULATOR_H
#define IDAAS_TEST_EMULATOR_H

static void run_emulator_tests(void) {
    emulator em;
    if (emulator_start(&em) != 0) {
        emulator_stop(&em);
        return;
    }
    emulator_stop(&em);
}

#endif
