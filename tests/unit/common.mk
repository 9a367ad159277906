check_PROGRAMS += tests/unit/test-parse tests/unit/test-fdpass
TESTS += tests/unit/test-parse tests/unit/test-fdpass
tests_unit_test_parse_SOURCES = tests/unit/test-parse.c
tests_unit_test_parse_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_parse_LDADD = libshuttle-common.la $(TEST_LIBS)
tests_unit_test_fdpass_SOURCES = tests/unit/test-fdpass.c
tests_unit_test_fdpass_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_fdpass_LDADD = libshuttle-common.la $(TEST_LIBS)

check_PROGRAMS += tests/unit/test-mounts
TESTS += tests/unit/test-mounts
tests_unit_test_mounts_SOURCES = tests/unit/test-mounts.c
tests_unit_test_mounts_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_mounts_LDADD = libshuttle-runtime.la libshuttle-common.la $(TEST_LIBS)

check_PROGRAMS += tests/unit/test-env
TESTS += tests/unit/test-env
tests_unit_test_env_SOURCES = tests/unit/test-env.c
tests_unit_test_env_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_env_LDADD = libshuttle-runtime.la libshuttle-common.la $(TEST_LIBS)

check_PROGRAMS += tests/unit/test-strmap
TESTS += tests/unit/test-strmap
tests_unit_test_strmap_SOURCES = tests/unit/test-strmap.c
tests_unit_test_strmap_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_strmap_LDADD = libshuttle-common.la $(TEST_LIBS)

check_PROGRAMS += tests/unit/test-proc-stat
TESTS += tests/unit/test-proc-stat
tests_unit_test_proc_stat_SOURCES = tests/unit/test-proc-stat.c
tests_unit_test_proc_stat_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_proc_stat_LDADD = libshuttle-common.la $(TEST_LIBS)
