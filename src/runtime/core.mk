libshuttle_runtime_la_SOURCES += \
	src/runtime/container.h src/runtime/container.c \
	src/runtime/container-internal.h src/runtime/container-init.c src/runtime/container-ns.c \
	src/runtime/mounts.h src/runtime/mounts.c \
	src/runtime/state.h src/runtime/state.c \
	src/runtime/monitor-proto.h src/runtime/monitor-client.h src/runtime/monitor-client.c \
	src/runtime/tty.h src/runtime/tty.c
libshuttle_runtime_la_SOURCES += src/runtime/state-info.h src/runtime/state-read.c src/runtime/exec.h src/runtime/exec.c src/runtime/exec-internal.h src/runtime/exec-zygote.c src/runtime/lifecycle.h src/runtime/lifecycle.c
libshuttle_runtime_la_SOURCES += src/runtime/env.h src/runtime/env.c
