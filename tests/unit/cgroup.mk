# cgroup unit tests: v1/v2 backends on fake trees, v1 on the real hierarchy
# when run as root.
check_PROGRAMS += tests/unit/test-cgroup
TESTS += tests/unit/test-cgroup
tests_unit_test_cgroup_SOURCES = tests/unit/test-cgroup.c
tests_unit_test_cgroup_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_cgroup_LDADD = libshuttle-runtime.la libshuttle-common.la $(TEST_LIBS)

check_PROGRAMS += tests/unit/test-cgroup-sub
TESTS += tests/unit/test-cgroup-sub
tests_unit_test_cgroup_sub_SOURCES = tests/unit/test-cgroup-sub.c
tests_unit_test_cgroup_sub_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_cgroup_sub_LDADD = libshuttle-runtime.la libshuttle-common.la $(TEST_LIBS)

check_PROGRAMS += tests/unit/test-cgroup-bpf
TESTS += tests/unit/test-cgroup-bpf
tests_unit_test_cgroup_bpf_SOURCES = tests/unit/test-cgroup-bpf.c
tests_unit_test_cgroup_bpf_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_cgroup_bpf_LDADD = libshuttle-runtime.la libshuttle-common.la $(TEST_LIBS)
