# shuttle-oci: the OCI runtime (runc-compatible); a thin main, the state
# directory, and the verbs (docs/OCI.md).
sbin_PROGRAMS += shuttle-oci
shuttle_oci_SOURCES = \
	src/cli/oci.h \
	src/cli/shuttle-oci.c \
	src/cli/oci-state.c \
	src/cli/oci-create.c \
	src/cli/oci-verbs.c \
	src/cli/oci-exec.c \
	src/cli/oci-update.c \
	src/cli/oci-hooks.c \
	src/cli/oci-broker.c \
	src/cli/oci-seccomp-cache.h \
	src/cli/oci-seccomp-cache.c \
	src/cli/oci-seccomp-notify.h \
	src/cli/oci-seccomp-notify.c
shuttle_oci_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
shuttle_oci_LDADD = libshuttle-broker.la libshuttle-runtime.la libshuttle-policy.la libshuttle-common.la \
	$(JANSSON_LIBS) $(LIBSECCOMP_LIBS) $(LIBCRYPTO_LIBS)
# The cache of compiled seccomp profiles hashes with libcrypto, loaded on
# first use (crypto-lazy.c, as in shuttlectl): a create without a profile
# does not map it.
shuttle_oci_SOURCES += src/cli/crypto-lazy.c
shuttle_oci_CFLAGS += $(LIBCRYPTO_CFLAGS) $(LIBSECCOMP_CFLAGS)
shuttle_oci_LDFLAGS = -Wl,--as-needed
