# idaas - build, check and test the C ABI (include/idaas.h).
#
# C ABI targets (owned by the FFI work):
#   make lib               cargo build of libidaas.{a,so} ($(PROFILE), default release)
#   make header            regenerate include/idaas.h with the pinned cbindgen
#   make check-header      fail if include/idaas.h is not what cbindgen generates, or if a function
#                          breaks the header's naming or err_out rule (CI)
#   make check-symbols     fail if libidaas.so exports a function not prefixed idaas_
#   make c-examples        build examples/c/*.c against the static library
#   make c-test            C tests of every exported function against the emulator (+ C++ header check)
#   make c-test-valgrind   the same under valgrind (0 errors, 0 definitely/indirectly lost)
#   make c-test-asan       the same with -fsanitize=address on the C side
#   make pkgconfig         $(C_BUILD)/idaas.pc from idaas.pc.in for PREFIX
#   make install           install lib, header and idaas.pc under PREFIX (DESTDIR honoured)
#   make bench             the whole benchmark suite (scripts/bench.sh; BENCHMARKS.md); bench-quick: --quick
#
# Variables: CARGO_TARGET_DIR (default ./target), CARGO_FLAGS (extra flags of every cargo build, e.g.
# --locked as scripts/test-all.sh sets), PROFILE (release|debug, for lib/examples/install),
# PREFIX (/usr/local), CC, CXX, IDAAS_EMULATOR_BIN (emulator binary for the C tests).

CARGO            ?= cargo
CARGO_FLAGS      ?=
CBINDGEN         ?= cbindgen
CBINDGEN_VERSION := 0.29.4
CC               ?= cc
CXX              ?= c++
PREFIX           ?= /usr/local
LIBDIR           ?= $(PREFIX)/lib
INCLUDEDIR       ?= $(PREFIX)/include
PROFILE          ?= release
VALGRIND         ?= valgrind

CARGO_TARGET_DIR ?= $(CURDIR)/target
export CARGO_TARGET_DIR

ifeq ($(PROFILE),release)
  CARGO_PROFILE_FLAG := --release
else
  CARGO_PROFILE_FLAG :=
endif

LIB_DIR      := $(CARGO_TARGET_DIR)/$(PROFILE)
# The C tests' library (the test-hooks feature) has its own profile directory (Cargo.toml
# [profile.ffi-test], the dev settings): built into target/debug it would share cargo's fingerprint
# and deps/libidaas.{a,so} with `cargo test` / `cargo build` of the plain library, and each of them
# would rebuild idaas (and relink every test) after the other.
TEST_LIB_DIR := $(CARGO_TARGET_DIR)/ffi-test
EMU_DIR      := $(CARGO_TARGET_DIR)/debug
C_BUILD      := $(CARGO_TARGET_DIR)/c
VERSION      := $(shell sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n1)
URL          := $(shell sed -n 's/^repository *= *"\(.*\)"/\1/p' Cargo.toml | head -n1)

# Native libraries the Rust static library needs (rustc --print native-static-libs on Linux).
STATIC_LIBS  := -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
CFLAGS_C     ?= -std=c11 -Wall -Wextra -Werror -g -O1 -Iinclude

IDAAS_EMULATOR_BIN ?= $(EMU_DIR)/idaas-emulator
export IDAAS_EMULATOR_BIN

C_TEST_DIR   := idaas-ffi/tests/c
C_TEST_SRC   := $(C_TEST_DIR)/test_ffi.c
C_TEST_DEPS  := $(C_TEST_SRC) $(wildcard $(C_TEST_DIR)/*.h) include/idaas.h
EXAMPLES     := get_token api_key jwt_lifecycle bench

.PHONY: lib header check-header check-symbols c-examples c-test c-test-valgrind c-test-asan \
        c-test-lib emulator-bin cxx-check pkgconfig install bench bench-quick

lib:
	$(CARGO) build $(CARGO_FLAGS) -p idaas-ffi $(CARGO_PROFILE_FLAG)

# --- header -----------------------------------------------------------------------------------------
define require_cbindgen
	@command -v $(CBINDGEN) >/dev/null 2>&1 || { echo "cbindgen not found: cargo install cbindgen --version $(CBINDGEN_VERSION) --locked" >&2; exit 1; }
	@$(CBINDGEN) --version | grep -q "$(CBINDGEN_VERSION)" || { echo "cbindgen $(CBINDGEN_VERSION) required, found: $$($(CBINDGEN) --version)" >&2; exit 1; }
endef

header:
	$(require_cbindgen)
	$(CBINDGEN) --quiet --config idaas-ffi/cbindgen.toml --lang c --output include/idaas.h idaas-ffi

check-header:
	$(require_cbindgen)
	@mkdir -p $(C_BUILD)
	$(CBINDGEN) --quiet --config idaas-ffi/cbindgen.toml --lang c --output $(C_BUILD)/idaas.h.generated idaas-ffi
	@diff -u include/idaas.h $(C_BUILD)/idaas.h.generated || { echo "include/idaas.h is stale: run 'make header' and commit it" >&2; exit 1; }
	@echo "check-header: include/idaas.h is up to date"
	@python3 scripts/check-header-names.py include/idaas.h

# --- symbols ----------------------------------------------------------------------------------------
check-symbols: lib
	@so=$(LIB_DIR)/libidaas.so; \
	bad=$$(nm -D --defined-only "$$so" | awk 'NF >= 3 {print $$3}' | grep -v '^idaas_' || true); \
	if [ -n "$$bad" ]; then echo "check-symbols: $$so exports symbols without the idaas_ prefix:" >&2; echo "$$bad" >&2; exit 1; fi; \
	n=$$(nm -D --defined-only "$$so" | awk '$$2 ~ /^[TtWwiI]$$/' | wc -l); \
	[ "$$n" -gt 0 ] || { echo "check-symbols: no exported functions in $$so" >&2; exit 1; }; \
	echo "check-symbols: $$n exported functions, every exported symbol prefixed idaas_"

# --- C examples (static link) -----------------------------------------------------------------------
c-examples: lib
	@mkdir -p $(C_BUILD)/examples
	@for e in $(EXAMPLES); do \
	  echo "  CC  examples/c/$$e.c"; \
	  $(CC) $(CFLAGS_C) -O2 examples/c/$$e.c -o $(C_BUILD)/examples/$$e $(LIB_DIR)/libidaas.a $(STATIC_LIBS) || exit 1; \
	done

# --- C tests ----------------------------------------------------------------------------------------
# The tests link the debug static library built with the `test-hooks` feature (idaas_debug_panic),
# in $(TEST_LIB_DIR) (see TEST_LIB_DIR).
c-test-lib:
	$(CARGO) build $(CARGO_FLAGS) -p idaas-ffi --features test-hooks --profile ffi-test

emulator-bin:
	@if [ "$(IDAAS_EMULATOR_BIN)" = "$(EMU_DIR)/idaas-emulator" ]; then $(CARGO) build $(CARGO_FLAGS) -p idaas-emulator; fi

$(C_BUILD)/test_ffi: $(C_TEST_DEPS) $(TEST_LIB_DIR)/libidaas.a
	@mkdir -p $(C_BUILD)
	$(CC) $(CFLAGS_C) -DIDAAS_EXPECTED_VERSION=\"$(VERSION)\" -D_GNU_SOURCE -pthread $(C_TEST_SRC) -o $@ $(TEST_LIB_DIR)/libidaas.a $(STATIC_LIBS)

$(C_BUILD)/test_ffi_asan: $(C_TEST_DEPS) $(TEST_LIB_DIR)/libidaas.a
	@mkdir -p $(C_BUILD)
	$(CC) $(CFLAGS_C) -DIDAAS_EXPECTED_VERSION=\"$(VERSION)\" -D_GNU_SOURCE -pthread -fsanitize=address -fno-omit-frame-pointer $(C_TEST_SRC) -o $@ $(TEST_LIB_DIR)/libidaas.a $(STATIC_LIBS)

# The header must compile as C++ too (extern "C" guards, no C-only constructs).
cxx-check:
	$(CXX) -x c++ -std=c++11 -fsyntax-only -Wall -Wextra -Werror -Iinclude $(C_TEST_DIR)/cxx_check.c
	$(CC) -x c -std=c99 -pedantic -fsyntax-only -Wall -Wextra -Werror -Iinclude $(C_TEST_DIR)/cxx_check.c

c-test: c-test-lib emulator-bin cxx-check
	@$(MAKE) --no-print-directory $(C_BUILD)/test_ffi
	$(C_BUILD)/test_ffi

c-test-valgrind: c-test-lib emulator-bin
	@$(MAKE) --no-print-directory $(C_BUILD)/test_ffi
	IDAAS_TEST_SLOW=1 $(VALGRIND) --leak-check=full --errors-for-leak-kinds=definite,indirect \
	  --show-leak-kinds=definite,indirect --error-exitcode=1 --trace-children=no \
	  --suppressions=$(C_TEST_DIR)/valgrind.supp \
	  $(C_BUILD)/test_ffi

c-test-asan: c-test-lib emulator-bin
	@$(MAKE) --no-print-directory $(C_BUILD)/test_ffi_asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 $(C_BUILD)/test_ffi_asan

# --- pkg-config and install -------------------------------------------------------------------------
pkgconfig:
	@mkdir -p $(C_BUILD)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	    -e 's|@VERSION@|$(VERSION)|g' -e 's|@STATIC_LIBS@|$(STATIC_LIBS)|g' -e 's|@URL@|$(URL)|g' \
	    idaas-ffi/pkg/idaas.pc.in > $(C_BUILD)/idaas.pc
	@echo "pkgconfig: $(C_BUILD)/idaas.pc"

install: lib pkgconfig
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)
	install -m 0644 $(LIB_DIR)/libidaas.a $(DESTDIR)$(LIBDIR)/libidaas.a
	install -m 0755 $(LIB_DIR)/libidaas.so $(DESTDIR)$(LIBDIR)/libidaas.so
	install -m 0644 include/idaas.h $(DESTDIR)$(INCLUDEDIR)/idaas.h
	install -m 0644 $(C_BUILD)/idaas.pc $(DESTDIR)$(LIBDIR)/pkgconfig/idaas.pc

# --- benchmarks -------------------------------------------------------------------------------------
bench:
	scripts/bench.sh

bench-quick:
	scripts/bench.sh --quick
