check_PROGRAMS += tests/unit/test-run-options
TESTS += tests/unit/test-run-options
tests_unit_test_run_options_SOURCES = tests/unit/test-run-options.c src/cli/run-options.c
tests_unit_test_run_options_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_run_options_LDADD = libshuttle-runtime.la libshuttle-common.la $(TEST_LIBS)
