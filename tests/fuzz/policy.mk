# libFuzzer target for the policy loader: ./configure --enable-fuzzing CC=clang
# then: tests/fuzz/fuzz-policy-load -max_len=65536 CORPUS_DIR policies tests/policy/bad
# The library sources are compiled into the target so they are instrumented.
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz-policy-load
tests_fuzz_fuzz_policy_load_SOURCES = tests/fuzz/fuzz-policy-load.c $(libshuttle_policy_la_SOURCES)
tests_fuzz_fuzz_policy_load_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS) $(JANSSON_CFLAGS) -fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_policy_load_LDFLAGS = -fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_policy_load_LDADD = libshuttle-common.la $(YAML_LIBS) $(JANSSON_LIBS)
endif
EXTRA_DIST += tests/fuzz/fuzz-policy-load.c
