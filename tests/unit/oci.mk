# The OCI readers (src/runtime/oci-spec.h): config.json fixtures in
# tests/unit/oci/, one test per refusal; seccomp profiles loaded in children.
check_PROGRAMS += tests/unit/test-oci-spec tests/unit/test-oci-seccomp
TESTS += tests/unit/test-oci-spec tests/unit/test-oci-seccomp
EXTRA_DIST += tests/unit/oci
OCI_TEST_CFLAGS = $(TEST_CFLAGS) -DOCI_FIXTURE_DIR='"$(abs_top_srcdir)/tests/unit/oci"' \
	$(JANSSON_CFLAGS) $(LIBSECCOMP_CFLAGS)
tests_unit_test_oci_spec_SOURCES = tests/unit/test-oci-spec.c
tests_unit_test_oci_spec_CFLAGS = $(OCI_TEST_CFLAGS)
tests_unit_test_oci_spec_LDADD = libshuttle-runtime.la libshuttle-common.la $(TEST_LIBS)
tests_unit_test_oci_seccomp_SOURCES = tests/unit/test-oci-seccomp.c
tests_unit_test_oci_seccomp_CFLAGS = $(OCI_TEST_CFLAGS)
tests_unit_test_oci_seccomp_LDADD = libshuttle-runtime.la libshuttle-common.la $(LIBSECCOMP_LIBS) $(TEST_LIBS)
