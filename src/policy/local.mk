# Policy engine: YAML policy → compiled, indexed, reference-counted Policy;
# decisions without I/O.  Depends on src/common only.
noinst_LTLIBRARIES += libshuttle-policy.la
libshuttle_policy_la_SOURCES = \
	src/policy/policy.h \
	src/policy/policy-internal.h \
	src/policy/glob.c src/policy/glob.h \
	src/policy/diag.c \
	src/policy/ytree.c src/policy/ytree.h \
	src/policy/rule.c \
	src/policy/load.c src/policy/load.h \
	src/policy/rules.c \
	src/policy/compile.c \
	src/policy/decide.c src/policy/decide.h \
	src/policy/explain.c \
	src/policy/tests.c \
	src/policy/cover.c \
	src/policy/lint.c \
	src/policy/dump.c \
	src/policy/reach.c src/policy/reach-internal.h src/policy/reach-search.c
libshuttle_policy_la_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS) $(JANSSON_CFLAGS)
libshuttle_policy_la_LIBADD = libshuttle-common.la $(YAML_LIBS) $(JANSSON_LIBS)
# The declared graph, for `audit graph --policy`.
libshuttle_policy_la_SOURCES += src/policy/declared.c src/policy/declared.h
