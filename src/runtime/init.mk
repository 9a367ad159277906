# shuttle-init: what a container's pid 1 becomes once its command is forked
# (src/runtime/shuttle-init.c), executed from the host's file by descriptor
# (container-init.c).  It stays in every container for its whole life, so it
# is built as shuttle-monitor is (monitor.mk): from that file alone,
# statically, no sanitizers, against musl where musl-gcc is installed (a few
# pages of RSS), else against glibc's static libc.
shuttle_init_deps = $(top_srcdir)/src/runtime/shuttle-init.c \
	$(top_srcdir)/src/runtime/container-internal.h $(top_srcdir)/src/runtime/container.h
EXTRA_DIST += src/runtime/shuttle-init.c
if HAVE_MUSL_GCC
pkglibexec_SCRIPTS += shuttle-init
shuttle-init: $(shuttle_init_deps) config.h
	$(AM_V_CCLD)$(MUSL_GCC) -static -Os $(WARN_CFLAGS) -include $(top_builddir)/config.h -I$(top_srcdir)/src \
		-o $@ $(top_srcdir)/src/runtime/shuttle-init.c
CLEANFILES += shuttle-init
else
pkglibexec_PROGRAMS += shuttle-init
shuttle_init_SOURCES = src/runtime/shuttle-init.c src/runtime/container-internal.h
shuttle_init_CFLAGS = $(WARN_CFLAGS)
shuttle_init_LDFLAGS = -all-static
endif
