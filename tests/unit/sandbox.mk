# sandbox unit tests (capabilities, no_new_privs, seccomp, rlimits, netlink).
# The privileged parts run in forked children and skip unless run as root.
check_PROGRAMS += tests/unit/test-sandbox
TESTS += tests/unit/test-sandbox
tests_unit_test_sandbox_SOURCES = tests/unit/test-sandbox.c
tests_unit_test_sandbox_CFLAGS = $(TEST_CFLAGS) $(LIBCAP_CFLAGS) $(LIBSECCOMP_CFLAGS)
tests_unit_test_sandbox_LDADD = libshuttle-runtime.la libshuttle-common.la $(LIBCAP_LIBS) $(TEST_LIBS)

# test-sandbox as on a kernel without the i386 ABI (its probe made to die of
# SIGSEGV): a skip with a reason, and exactly the planned tests run.
TESTS += tests/unit/sandbox-no-ia32.sh
EXTRA_DIST += tests/unit/sandbox-no-ia32.sh
