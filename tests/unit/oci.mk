# The OCI readers (src/runtime/oci-spec.h): config.json fixtures in
# tests/unit/oci/, one test per refusal.
check_PROGRAMS += tests/unit/test-oci-spec
TESTS += tests/unit/test-oci-spec
EXTRA_DIST += tests/unit/oci
OCI_TEST_CFLAGS = $(TEST_CFLAGS) -DOCI_FIXTURE_DIR='"$(abs_top_srcdir)/tests/unit/oci"' \
	$(JANSSON_CFLAGS) $(LIBSECCOMP_CFLAGS)
tests_unit_test_oci_spec_SOURCES = tests/unit/test-oci-spec.c
tests_unit_test_oci_spec_CFLAGS = $(OCI_TEST_CFLAGS)
tests_unit_test_oci_spec_LDADD = libshuttle-runtime.la libshuttle-common.la $(TEST_LIBS)
# What config.json asks of a container, as a ContainerConfig (oci-config.c).
check_PROGRAMS += tests/unit/test-oci-config
TESTS += tests/unit/test-oci-config
tests_unit_test_oci_config_SOURCES = tests/unit/test-oci-config.c
tests_unit_test_oci_config_CFLAGS = $(OCI_TEST_CFLAGS)
tests_unit_test_oci_config_LDADD = libshuttle-runtime.la libshuttle-common.la $(TEST_LIBS)
