# Audit log: unit tests (cmocka), the record generator the shell test uses,
# and the `shuttlectl audit` integration test (no root needed).
check_PROGRAMS += tests/unit/test-audit tests/unit/audit-gen
TESTS += tests/unit/test-audit tests/integration/audit-cli.sh
dist_noinst_SCRIPTS += tests/integration/audit-cli.sh

audit_test_cflags = $(TEST_CFLAGS) $(JANSSON_CFLAGS) $(LIBCRYPTO_CFLAGS)
audit_test_libs = libshuttle-broker.la libshuttle-common.la $(JANSSON_LIBS) $(LIBCRYPTO_LIBS)

tests_unit_test_audit_SOURCES = tests/unit/test-audit.c tests/unit/audit-fixture.h
tests_unit_test_audit_CFLAGS = $(audit_test_cflags)
tests_unit_test_audit_LDADD = $(audit_test_libs) $(TEST_LIBS)
# Counts the library's fdatasync() calls (test_close_syncs).
tests_unit_test_audit_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=fdatasync

tests_unit_audit_gen_SOURCES = tests/unit/audit-gen.c
tests_unit_audit_gen_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_audit_gen_LDADD = $(audit_test_libs)

# Time stamps on group container logs (src/shuttle/supervisor/logline.c).
check_PROGRAMS += tests/unit/test-logline
TESTS += tests/unit/test-logline
tests_unit_test_logline_SOURCES = tests/unit/test-logline.c
tests_unit_test_logline_CFLAGS = $(audit_test_cflags)
tests_unit_test_logline_LDADD = $(audit_test_libs) $(TEST_LIBS)

# Invariant 10 (aggregated denials, recorded drops, gaps) and escaping.
check_PROGRAMS += tests/unit/test-audit-bounds
TESTS += tests/unit/test-audit-bounds
tests_unit_test_audit_bounds_SOURCES = tests/unit/test-audit-bounds.c tests/unit/audit-fixture.h
tests_unit_test_audit_bounds_CFLAGS = $(audit_test_cflags)
tests_unit_test_audit_bounds_LDADD = $(audit_test_libs) $(TEST_LIBS)

# The writer's own record formatting against jansson's dump of the same
# record (hostile strings, extra keys and values, random bytes), and a log
# the jansson writer wrote (tests/unit/audit/) written again the same.
EXTRA_DIST += tests/unit/audit
check_PROGRAMS += tests/unit/test-audit-writer
TESTS += tests/unit/test-audit-writer
tests_unit_test_audit_writer_SOURCES = tests/unit/test-audit-writer.c tests/unit/audit-fixture.h
tests_unit_test_audit_writer_CFLAGS = $(audit_test_cflags) -DAUDIT_FIXTURE_DIR='"$(abs_top_srcdir)/tests/unit/audit"'
tests_unit_test_audit_writer_LDADD = $(audit_test_libs) $(TEST_LIBS)
