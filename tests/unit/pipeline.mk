# The one pipeline of broker requests (src/shuttle/daemon/pipeline.c): every
# request type through it, one audit record each (needs root: skipped
# otherwise).
check_PROGRAMS += tests/unit/test-pipeline
TESTS += tests/unit/test-pipeline
tests_unit_test_pipeline_SOURCES = tests/unit/test-pipeline.c
tests_unit_test_pipeline_CFLAGS = $(TEST_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_pipeline_LDADD = libshuttle-broker.la libshuttle-runtime.la libshuttle-policy.la libshuttle-common.la \
	$(JANSSON_LIBS) $(TEST_LIBS)
