# libFuzzer target for the config.json reader: ./configure --enable-fuzzing CC=clang
# then: tests/fuzz/fuzz-oci-spec -max_len=65536 CORPUS_DIR tests/unit/oci
# The readers are compiled into the target so they are instrumented.
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz-oci-spec
tests_fuzz_fuzz_oci_spec_SOURCES = tests/fuzz/fuzz-oci-spec.c src/runtime/oci-json.c \
	src/runtime/oci-spec.c src/runtime/oci-seccomp.c src/runtime/oci-shuttle.c \
	src/runtime/oci-mount.c
tests_fuzz_fuzz_oci_spec_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(LIBSECCOMP_CFLAGS) \
	$(LIBCAP_CFLAGS) -fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_oci_spec_LDFLAGS = -fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_oci_spec_LDADD = libshuttle-runtime.la libshuttle-common.la $(JANSSON_LIBS) \
	$(LIBSECCOMP_LIBS) $(LIBCAP_LIBS)
endif
EXTRA_DIST += tests/fuzz/fuzz-oci-spec.c
