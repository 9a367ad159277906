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
tests_unit_test_client_LDADD = libshuttle-broker.la libshuttle-common.la $(TEST_LIBS) -lpthread

# The names under /run/shuttle/apps/ (src/shuttle/app-entry.h, header-only).
tests_unit_test_app_entry_SOURCES = tests/unit/test-app-entry.c src/shuttle/app-entry.h
tests_unit_test_app_entry_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_app_entry_LDADD = $(TEST_LIBS)
