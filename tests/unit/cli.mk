check_PROGRAMS += tests/unit/test-run-options
TESTS += tests/unit/test-run-options
tests_unit_test_run_options_SOURCES = tests/unit/test-run-options.c src/cli/run-options.c
tests_unit_test_run_options_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_run_options_LDADD = libshuttle-runtime.la libshuttle-common.la $(TEST_LIBS)

# The request an audit record asks (shuttlectl audit explain).
check_PROGRAMS += tests/unit/test-audit-request
TESTS += tests/unit/test-audit-request
tests_unit_test_audit_request_SOURCES = tests/unit/test-audit-request.c src/cli/audit-request.c
tests_unit_test_audit_request_CFLAGS = $(TEST_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_audit_request_LDADD = libshuttle-policy.la libshuttle-common.la $(JANSSON_LIBS) $(TEST_LIBS)

# policy draft: records → rules, each recorded request decided again against the draft.
check_PROGRAMS += tests/unit/test-policy-draft
TESTS += tests/unit/test-policy-draft
tests_unit_test_policy_draft_SOURCES = tests/unit/test-policy-draft.c src/cli/policy-draft.c src/cli/audit-request.c
tests_unit_test_policy_draft_CFLAGS = $(TEST_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_policy_draft_LDADD = libshuttle-policy.la libshuttle-common.la $(JANSSON_LIBS) $(TEST_LIBS)
