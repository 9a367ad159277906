# shuttlectl: thin main plus one file per verb.
bin_PROGRAMS += shuttlectl
shuttlectl_SOURCES = \
	src/cli/shuttlectl.c src/cli/verbs.h \
	src/cli/run-options.c src/cli/run-options.h \
	src/cli/cmd-run.c
include src/cli/policy.mk
shuttlectl_CFLAGS = $(AM_CFLAGS)
shuttlectl_LDADD = libshuttle-runtime.la libshuttle-common.la
