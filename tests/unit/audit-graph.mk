# shuttlectl audit graph: the pure graph builder (src/cli/audit-graph*.c)
# and the policy's declared graph (src/policy/declared.c), with known
# answers; the CLI test reads generated logs (no containers).
check_PROGRAMS += tests/unit/test-audit-graph
TESTS += tests/unit/test-audit-graph
tests_unit_test_audit_graph_SOURCES = tests/unit/test-audit-graph.c src/cli/audit-graph.c \
	src/cli/audit-graph-out.c src/cli/audit-graph.h
tests_unit_test_audit_graph_CFLAGS = $(TEST_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_audit_graph_LDADD = libshuttle-broker.la libshuttle-policy.la libshuttle-common.la \
	$(JANSSON_LIBS) $(LIBCRYPTO_LIBS) $(YAML_LIBS) $(TEST_LIBS)
TESTS += tests/integration/audit-graph.sh
dist_noinst_SCRIPTS += tests/integration/audit-graph.sh tests/integration/audit-graph-gen.py
