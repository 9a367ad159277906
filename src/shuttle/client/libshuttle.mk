# libshuttle: the public client library of broker.sock, for programs inside
# a container that talk to the broker themselves instead of through the
# shim (man/libshuttle.3).  Built from the same client sources as the shim
# and the helpers; it links nothing but libc and exports only the shuttle_*
# functions.  No sanitizers: it is linked into arbitrary programs.
lib_LTLIBRARIES = libshuttle.la
libshuttle_la_SOURCES = \
	src/shuttle/client/client.h src/shuttle/client/client-internal.h src/shuttle/client/client.c \
	src/shuttle/client/protocol.h src/shuttle/client/protocol.c \
	src/common/fdpass.h src/common/fdpass.c
libshuttle_la_CFLAGS = $(WARN_CFLAGS)
libshuttle_la_LDFLAGS = -version-info 0:0:0 -export-symbols-regex '^shuttle_' -Wl,-z,defs
libshuttle_la_LIBADD = -lpthread
# Installed as <shuttle/client.h> and <shuttle/protocol.h>.
pkginclude_HEADERS = src/shuttle/client/client.h src/shuttle/client/protocol.h
pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = src/shuttle/libshuttle.pc
EXTRA_DIST += src/shuttle/client/libshuttle.pc.in
CLEANFILES += src/shuttle/libshuttle.pc
src/shuttle/libshuttle.pc: src/shuttle/client/libshuttle.pc.in Makefile
	$(AM_V_GEN)$(MKDIR_P) src/shuttle && \
	sed -e 's|@prefix[@]|$(prefix)|g' -e 's|@exec_prefix[@]|$(exec_prefix)|g' \
	    -e 's|@libdir[@]|$(libdir)|g' -e 's|@includedir[@]|$(includedir)|g' \
	    -e 's|@VERSION[@]|$(VERSION)|g' $(srcdir)/src/shuttle/client/libshuttle.pc.in > $@.tmp && mv $@.tmp $@
