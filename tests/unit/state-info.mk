# The state reader (src/runtime/state-info.h): parsing, live/stale entries.
check_PROGRAMS += tests/unit/test-state-info
TESTS += tests/unit/test-state-info
tests_unit_test_state_info_SOURCES = tests/unit/test-state-info.c
tests_unit_test_state_info_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_state_info_LDADD = libshuttle-runtime.la libshuttle-common.la $(TEST_LIBS)

# The state directory's entries (src/runtime/state.h): creation, take-over, cleanup.
check_PROGRAMS += tests/unit/test-state
TESTS += tests/unit/test-state
tests_unit_test_state_SOURCES = tests/unit/test-state.c
tests_unit_test_state_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_state_LDADD = libshuttle-runtime.la libshuttle-common.la $(TEST_LIBS)
