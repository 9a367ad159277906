# cgroup limits: v1 and v2 backends (see src/runtime/cgroup.h).
libshuttle_runtime_la_SOURCES += \
	src/runtime/cgroup.h src/runtime/cgroup-internal.h \
	src/runtime/cgroup.c src/runtime/cgroup-v1.c src/runtime/cgroup-v2.c \
	src/runtime/cgroup-sub.c src/runtime/cgroup-live.c \
	src/runtime/cgroup-bpf.h src/runtime/cgroup-bpf.c
