# The OCI runtime's pure parts: config.json into C values (oci-spec.c with
# the JSON readers of oci-json.c), its seccomp profile through libseccomp
# (oci-seccomp.c), mount options (oci-mount.c), `spec` and `features`
# (oci-default.c), Shuttle's annotations (oci-shuttle.c); and what
# config.json asks of a container as a ContainerConfig (oci-config.c).
libshuttle_runtime_la_SOURCES += \
	src/runtime/oci-spec.h \
	src/runtime/oci-internal.h \
	src/runtime/oci-json.c \
	src/runtime/oci-spec.c \
	src/runtime/oci-seccomp.c \
	src/runtime/oci-mount.c \
	src/runtime/oci-default.c \
	src/runtime/oci-shuttle.c \
	src/runtime/oci-config.h \
	src/runtime/oci-config.c \
	src/runtime/oci-hooks.h \
	src/runtime/oci-hooks.c
