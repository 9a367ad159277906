# Privilege reduction: capabilities, no_new_privs, seccomp, rlimits, netlink.
libshuttle_runtime_la_SOURCES += \
	src/runtime/sandbox.h \
	src/runtime/sandbox.c \
	src/runtime/caps.c \
	src/runtime/seccomp.c \
	src/runtime/seccomp-table.c \
	src/runtime/rlimit.c \
	src/runtime/netlink.c
