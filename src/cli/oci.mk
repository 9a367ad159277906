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
	src/cli/oci-broker.c
shuttle_oci_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
shuttle_oci_LDADD = libshuttle-broker.la libshuttle-runtime.la libshuttle-policy.la libshuttle-common.la $(JANSSON_LIBS)
