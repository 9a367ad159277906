# App group files: every key, every error class with its position, the
# graph (cycles, start order), policies (path and inline), warnings.
check_PROGRAMS += tests/unit/test-group
TESTS += tests/unit/test-group
tests_unit_test_group_SOURCES = tests/unit/test-group.c
tests_unit_test_group_CFLAGS = $(TEST_CFLAGS) $(YAML_CFLAGS)
tests_unit_test_group_LDADD = libshuttle-runtime.la libshuttle-policy.la libshuttle-common.la $(TEST_LIBS)
