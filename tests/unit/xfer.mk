# Transfers: the pure parts of src/shuttle/xfer.c.
check_PROGRAMS += tests/unit/test-xfer
TESTS += tests/unit/test-xfer
tests_unit_test_xfer_SOURCES = tests/unit/test-xfer.c
tests_unit_test_xfer_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_xfer_LDADD = libshuttle-broker.la libshuttle-common.la $(TEST_LIBS)
