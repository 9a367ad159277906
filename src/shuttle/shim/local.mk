# libshuttle-shim.so, preloaded into containers (man/shuttle-shim.7).  It is
# loaded into arbitrary programs, so it is built from the client sources
# alone and links nothing but libc: not libshuttle-common.la (log.c pulls
# jansson), and no sanitizers even in a sanitizer build (their runtime
# would have to come first in every program).  Only the interposed
# functions are exported.
pkglib_LTLIBRARIES = libshuttle-shim.la
libshuttle_shim_la_SOURCES = \
	src/shuttle/shim/shim.c src/shuttle/shim/shim-names.c src/shuttle/shim/shim-internal.h \
	src/shuttle/shim/shim-exec.c src/shuttle/client/app-entry.h \
	src/shuttle/shim/shim-ipc.c src/shuttle/shim/shim-fifo.c \
	src/shuttle/shim/shim-signal.c \
	src/shuttle/client/client.h src/shuttle/client/client-internal.h src/shuttle/client/client.c \
	src/shuttle/client/protocol.h src/shuttle/client/protocol.c \
	src/common/fdpass.h src/common/fdpass.c
libshuttle_shim_la_CFLAGS = $(WARN_CFLAGS) -fvisibility=hidden
libshuttle_shim_la_LDFLAGS = -module -avoid-version -shared -Wl,-z,defs
libshuttle_shim_la_LIBADD = -ldl -lpthread

