# shuttlectl audit: the front end to the audit log in libshuttle-broker.la.
# src/cli/local.mk includes this and adds $(shuttlectl_audit_libs) to
# shuttlectl_LDADD and $(shuttlectl_audit_cflags) to shuttlectl_CFLAGS.
shuttlectl_SOURCES += src/cli/cmd-audit.c
shuttlectl_SOURCES += src/cli/audit-explain.c src/cli/audit-request.c src/cli/audit-request.h
shuttlectl_SOURCES += src/cli/audit-shadow-diff.c src/cli/audit-shadow-diff.h
shuttlectl_audit_cflags = $(JANSSON_CFLAGS)
shuttlectl_audit_libs = libshuttle-broker.la $(JANSSON_LIBS) $(LIBCRYPTO_LIBS)
# shuttlectl audit graph: the interaction graph (pure) and its verb.
shuttlectl_SOURCES += src/cli/cmd-audit-graph.c src/cli/audit-graph.c src/cli/audit-graph-out.c \
	src/cli/audit-graph.h
