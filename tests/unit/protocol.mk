# Wire protocol and client library: cmocka unit tests.
protocol_test_programs = \
	tests/unit/test-protocol \
	tests/unit/test-client \
	tests/unit/test-app-entry
check_PROGRAMS += $(protocol_test_programs)
TESTS += $(protocol_test_programs)

tests_unit_test_protocol_SOURCES = tests/unit/test-protocol.c
tests_unit_test_protocol_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_protocol_LDADD = libshuttle-broker.la libshuttle-common.la $(TEST_LIBS)

tests_unit_test_client_SOURCES = tests/unit/test-client.c
tests_unit_test_client_CFLAGS = $(TEST_CFLAGS) -pthread
# Against the public library, as a program inside a container would link it.
tests_unit_test_client_LDADD = libshuttle.la libshuttle-common.la $(TEST_LIBS) -lpthread

# libshuttle exports the shuttle_* functions and nothing else.
TESTS += tests/unit/libshuttle-symbols.sh
EXTRA_DIST += tests/unit/libshuttle-symbols.sh

# The names under /run/shuttle/apps/ (src/shuttle/client/app-entry.h, header-only).
tests_unit_test_app_entry_SOURCES = tests/unit/test-app-entry.c src/shuttle/client/app-entry.h
tests_unit_test_app_entry_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_app_entry_LDADD = $(TEST_LIBS)

# shuttle-transfer's relative paths (src/shuttle/client/abs-path.h, header-only).
check_PROGRAMS += tests/unit/test-abs-path
TESTS += tests/unit/test-abs-path
tests_unit_test_abs_path_SOURCES = tests/unit/test-abs-path.c src/shuttle/client/abs-path.h
tests_unit_test_abs_path_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_abs_path_LDADD = $(TEST_LIBS)
