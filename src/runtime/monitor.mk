# shuttle-monitor: what `shuttlectl run --detach` becomes once its
# container's command runs (src/runtime/shuttle-monitor.c).  It stays while
# the container runs, outside its cgroup, so it is built from that file
# and the fd-passing pair (common/fdpass.c) alone, statically, no
# sanitizers: against musl where musl-gcc is installed (musl-tools; about
# 60 KB, a few pages of RSS), else against glibc's static libc (several
# hundred KB of RSS).  bench/idle-memory.sh measures it.
shuttle_monitor_deps = $(top_srcdir)/src/runtime/shuttle-monitor.c \
	$(top_srcdir)/src/runtime/container-internal.h $(top_srcdir)/src/runtime/container.h \
	$(top_srcdir)/src/runtime/monitor-proto.h $(top_srcdir)/src/common/fdpass.c $(top_srcdir)/src/common/fdpass.h
EXTRA_DIST += src/runtime/shuttle-monitor.c
if HAVE_MUSL_GCC
pkglibexec_SCRIPTS = shuttle-monitor
shuttle-monitor: $(shuttle_monitor_deps) config.h
	$(AM_V_CCLD)$(MUSL_GCC) -static -Os $(WARN_CFLAGS) -include $(top_builddir)/config.h -I$(top_srcdir)/src \
		-o $@ $(top_srcdir)/src/runtime/shuttle-monitor.c $(top_srcdir)/src/common/fdpass.c
CLEANFILES += shuttle-monitor
else
pkglibexec_PROGRAMS += shuttle-monitor
shuttle_monitor_SOURCES = src/runtime/shuttle-monitor.c src/runtime/container-internal.h src/runtime/monitor-proto.h \
	src/common/fdpass.c src/common/fdpass.h
shuttle_monitor_CFLAGS = $(WARN_CFLAGS)
shuttle_monitor_LDFLAGS = -all-static
endif
