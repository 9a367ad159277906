# Privilege reduction: capabilities, no_new_privs, seccomp, rlimits, netlink.
libshuttle_runtime_la_SOURCES += \
	src/runtime/sandbox.h \
	src/runtime/sandbox.c \
	src/runtime/caps.c \
	src/runtime/seccomp.c \
	src/runtime/seccomp-table.c \
	src/runtime/rlimit.c \
	src/runtime/netlink.c
libshuttle_runtime_la_SOURCES += src/runtime/seccomp-builtin.h

# The seccomp profile compiled once, at build time, for the usual capability
# sets (libseccomp takes a good part of a second of CPU for each):
# seccomp-gen, built from the same sources, prints seccomp-builtin.c, which
# the runtime library carries.
noinst_PROGRAMS += src/runtime/seccomp-gen
src_runtime_seccomp_gen_SOURCES = src/runtime/seccomp-gen.c src/runtime/seccomp.c \
	src/runtime/seccomp-table.c src/runtime/caps.c
src_runtime_seccomp_gen_CFLAGS = $(AM_CFLAGS) $(LIBCAP_CFLAGS) $(LIBSECCOMP_CFLAGS) -DSECCOMP_GENERATOR
src_runtime_seccomp_gen_LDADD = libshuttle-common.la $(LIBCAP_LIBS) $(LIBSECCOMP_LIBS)
nodist_libshuttle_runtime_la_SOURCES = src/runtime/seccomp-builtin.c
CLEANFILES += src/runtime/seccomp-builtin.c
src/runtime/seccomp-builtin.c: src/runtime/seccomp-gen$(EXEEXT)
	$(AM_V_GEN)$(MKDIR_P) src/runtime && \
	src/runtime/seccomp-gen$(EXEEXT) >$@.tmp && mv -f $@.tmp $@
