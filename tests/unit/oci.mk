# The OCI readers (src/runtime/oci-spec.h): config.json fixtures in
# tests/unit/oci/, one test per refusal; seccomp profiles loaded in children;
# `spec`, `features` and mount options; Shuttle's annotations.
check_PROGRAMS += tests/unit/test-oci-spec tests/unit/test-oci-seccomp \
	tests/unit/test-oci-default tests/unit/test-oci-shuttle
TESTS += tests/unit/test-oci-spec tests/unit/test-oci-seccomp \
	tests/unit/test-oci-default tests/unit/test-oci-shuttle
EXTRA_DIST += tests/unit/oci
OCI_TEST_CFLAGS = $(TEST_CFLAGS) -DOCI_FIXTURE_DIR='"$(abs_top_srcdir)/tests/unit/oci"' \
	$(JANSSON_CFLAGS) $(LIBSECCOMP_CFLAGS)
tests_unit_test_oci_spec_SOURCES = tests/unit/test-oci-spec.c
tests_unit_test_oci_spec_CFLAGS = $(OCI_TEST_CFLAGS)
tests_unit_test_oci_spec_LDADD = libshuttle-runtime.la libshuttle-common.la $(TEST_LIBS)
tests_unit_test_oci_seccomp_SOURCES = tests/unit/test-oci-seccomp.c
tests_unit_test_oci_seccomp_CFLAGS = $(OCI_TEST_CFLAGS)
tests_unit_test_oci_seccomp_LDADD = libshuttle-runtime.la libshuttle-common.la $(LIBSECCOMP_LIBS) $(TEST_LIBS)
tests_unit_test_oci_default_SOURCES = tests/unit/test-oci-default.c
tests_unit_test_oci_default_CFLAGS = $(OCI_TEST_CFLAGS)
tests_unit_test_oci_default_LDADD = libshuttle-runtime.la libshuttle-common.la $(JANSSON_LIBS) \
	$(LIBSECCOMP_LIBS) $(TEST_LIBS)
tests_unit_test_oci_shuttle_SOURCES = tests/unit/test-oci-shuttle.c
tests_unit_test_oci_shuttle_CFLAGS = $(OCI_TEST_CFLAGS)
tests_unit_test_oci_shuttle_LDADD = libshuttle-runtime.la libshuttle-common.la $(TEST_LIBS)
include tests/fuzz/oci.mk
# What config.json asks of a container, as a ContainerConfig (oci-config.c).
check_PROGRAMS += tests/unit/test-oci-config
TESTS += tests/unit/test-oci-config
tests_unit_test_oci_config_SOURCES = tests/unit/test-oci-config.c
tests_unit_test_oci_config_CFLAGS = $(OCI_TEST_CFLAGS)
tests_unit_test_oci_config_LDADD = libshuttle-runtime.la libshuttle-common.la $(TEST_LIBS)
# shuttle-oci's cache of compiled seccomp profiles (src/cli/oci-seccomp-cache.c):
# keys, entry checks, the directory's checks, the bound; hits loaded in children.
check_PROGRAMS += tests/unit/test-oci-seccomp-cache
TESTS += tests/unit/test-oci-seccomp-cache
tests_unit_test_oci_seccomp_cache_SOURCES = tests/unit/test-oci-seccomp-cache.c \
	src/cli/oci-seccomp-cache.c src/cli/oci-seccomp-cache.h \
	src/shuttle/host/sha256.c src/shuttle/host/sha256.h
tests_unit_test_oci_seccomp_cache_CFLAGS = $(OCI_TEST_CFLAGS) $(LIBCRYPTO_CFLAGS)
tests_unit_test_oci_seccomp_cache_LDADD = libshuttle-runtime.la libshuttle-common.la $(LIBSECCOMP_LIBS) \
	$(LIBCRYPTO_LIBS) $(TEST_LIBS)
# What shuttle-oci sends linux.seccomp.listenerPath's agent
# (src/cli/oci-seccomp-notify.c): the container process state, its delivery.
check_PROGRAMS += tests/unit/test-oci-seccomp-notify
TESTS += tests/unit/test-oci-seccomp-notify
tests_unit_test_oci_seccomp_notify_SOURCES = tests/unit/test-oci-seccomp-notify.c \
	src/cli/oci-seccomp-notify.c src/cli/oci-seccomp-notify.h
tests_unit_test_oci_seccomp_notify_CFLAGS = $(OCI_TEST_CFLAGS)
tests_unit_test_oci_seccomp_notify_LDADD = libshuttle-common.la $(JANSSON_LIBS) $(TEST_LIBS)
# The one OCI hook runner (oci-hooks.c): state, env, failures, timeout, cancel.
check_PROGRAMS += tests/unit/test-oci-hooks
TESTS += tests/unit/test-oci-hooks
tests_unit_test_oci_hooks_SOURCES = tests/unit/test-oci-hooks.c
tests_unit_test_oci_hooks_CFLAGS = $(OCI_TEST_CFLAGS)
tests_unit_test_oci_hooks_LDADD = libshuttle-runtime.la libshuttle-common.la $(TEST_LIBS)
