# Audit append benchmark: built with the rest (noinst), run by 'make bench'
# through bench/audit.sh, never by 'make check'.
noinst_PROGRAMS += bench/audit-append
bench_audit_append_SOURCES = bench/audit-append.c
bench_audit_append_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) -pthread
bench_audit_append_LDADD = libshuttle-broker.la libshuttle-common.la $(JANSSON_LIBS) $(LIBCRYPTO_LIBS) -lpthread
bench_scripts += bench/audit.sh
dist_noinst_SCRIPTS += bench/audit.sh
