# The service manager's readiness protocol (src/shuttle/daemon/notify.c).
check_PROGRAMS += tests/unit/test-notify
TESTS += tests/unit/test-notify
tests_unit_test_notify_SOURCES = tests/unit/test-notify.c
tests_unit_test_notify_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_notify_LDADD = libshuttle-broker.la libshuttle-common.la $(TEST_LIBS)
