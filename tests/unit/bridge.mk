# bridge unit tests: names, subnet allocation, and live bridges/veths inside
# private network namespaces of the test (the live parts skip unless root).
check_PROGRAMS += tests/unit/test-bridge
TESTS += tests/unit/test-bridge
tests_unit_test_bridge_SOURCES = tests/unit/test-bridge.c
tests_unit_test_bridge_CFLAGS = $(TEST_CFLAGS) $(LIBNL_CFLAGS)
tests_unit_test_bridge_LDADD = libshuttle-runtime.la libshuttle-common.la $(LIBNL_LIBS) $(TEST_LIBS)
