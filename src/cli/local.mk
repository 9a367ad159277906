# shuttlectl: thin main plus one file per verb.
bin_PROGRAMS += shuttlectl
shuttlectl_SOURCES = \
	src/cli/shuttlectl.c src/cli/verbs.h \
	src/cli/run-options.c src/cli/run-options.h \
	src/cli/cmd-run.c
shuttlectl_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
shuttlectl_LDADD = libshuttle-broker.la libshuttle-runtime.la libshuttle-policy.la libshuttle-common.la \
	$(JANSSON_LIBS) $(LIBCRYPTO_LIBS)
# libcrypto on first use only (crypto-lazy.c): linked --as-needed, so that
# a start does not map it.
shuttlectl_SOURCES += src/cli/crypto-lazy.c
shuttlectl_CFLAGS += $(LIBCRYPTO_CFLAGS)
shuttlectl_LDFLAGS = -Wl,--as-needed
include src/cli/policy.mk
include src/cli/audit.mk
include src/cli/verbs.mk
include src/cli/transfer.mk
include src/cli/oci.mk
