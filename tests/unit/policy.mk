# Policy engine: unit tests (cmocka), the malformed-policy corpus and the
# shipped-policies check (TAP shell), and the fuzz target.
policy_test_programs = \
	tests/unit/test-policy-glob \
	tests/unit/test-policy-load \
	tests/unit/test-policy-decide \
	tests/unit/test-policy-reach \
	tests/unit/test-policy-tests \
	tests/unit/test-policy-lint
check_PROGRAMS += $(policy_test_programs)
TESTS += $(policy_test_programs)

policy_test_cflags = $(TEST_CFLAGS) $(YAML_CFLAGS) $(JANSSON_CFLAGS)
policy_test_libs = libshuttle-policy.la $(TEST_LIBS)

tests_unit_test_policy_glob_SOURCES = tests/unit/test-policy-glob.c
tests_unit_test_policy_glob_CFLAGS = $(policy_test_cflags)
tests_unit_test_policy_glob_LDADD = $(policy_test_libs)

tests_unit_test_policy_load_SOURCES = tests/unit/test-policy-load.c
tests_unit_test_policy_load_CFLAGS = $(policy_test_cflags)
tests_unit_test_policy_load_LDADD = $(policy_test_libs)

tests_unit_test_policy_decide_SOURCES = tests/unit/test-policy-decide.c tests/unit/policy-fixture.h
tests_unit_test_policy_decide_CFLAGS = $(policy_test_cflags) -pthread
tests_unit_test_policy_decide_LDADD = $(policy_test_libs) -lpthread

tests_unit_test_policy_reach_SOURCES = tests/unit/test-policy-reach.c tests/unit/policy-fixture.h
tests_unit_test_policy_reach_CFLAGS = $(policy_test_cflags)
tests_unit_test_policy_reach_LDADD = $(policy_test_libs)

# The policies a broker keeps by digest (src/shuttle/policy-store.c).
check_PROGRAMS += tests/unit/test-policy-store
TESTS += tests/unit/test-policy-store
tests_unit_test_policy_store_SOURCES = tests/unit/test-policy-store.c tests/unit/policy-fixture.h
tests_unit_test_policy_store_CFLAGS = $(policy_test_cflags) $(LIBCRYPTO_CFLAGS)
tests_unit_test_policy_store_LDADD = libshuttle-broker.la $(policy_test_libs) libshuttle-common.la \
	$(JANSSON_LIBS) $(LIBCRYPTO_LIBS)

tests_unit_test_policy_tests_SOURCES = tests/unit/test-policy-tests.c
tests_unit_test_policy_tests_CFLAGS = $(policy_test_cflags)
tests_unit_test_policy_tests_LDADD = $(policy_test_libs)

tests_unit_test_policy_lint_SOURCES = tests/unit/test-policy-lint.c tests/unit/policy-fixture.h
tests_unit_test_policy_lint_CFLAGS = $(policy_test_cflags)
tests_unit_test_policy_lint_LDADD = $(policy_test_libs)

# 'shuttlectl policy check' over policies/, examples/ and the malformed
# corpus in tests/policy/bad/ (TAP).
TESTS += tests/policy/check-policies.sh
dist_noinst_SCRIPTS += tests/policy/check-policies.sh
EXTRA_DIST += tests/policy/bad

# 'shuttlectl policy reach' on a policy worked out by hand (TAP).
TESTS += tests/policy/check-reach.sh
dist_noinst_SCRIPTS += tests/policy/check-reach.sh
EXTRA_DIST += tests/policy/reach

# 'shuttlectl policy test' and 'policy lint' on policies worked out by hand.
TESTS += tests/policy/check-tests-lint.sh
dist_noinst_SCRIPTS += tests/policy/check-tests-lint.sh

include tests/fuzz/policy.mk
