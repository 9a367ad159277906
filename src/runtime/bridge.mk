# Group networking: one bridge per app group, a veth per container (libnl-route-3).
libshuttle_runtime_la_SOURCES += src/runtime/bridge.h src/runtime/bridge-internal.h src/runtime/bridge.c \
	src/runtime/bridge-addr.c src/runtime/bridge-state.c \
	src/runtime/bridge-nl.h src/runtime/bridge-nl.c
libshuttle_runtime_la_CFLAGS += $(LIBNL_CFLAGS)
libshuttle_runtime_la_LIBADD += $(LIBNL_LIBS)
