# Container runtime library: namespaces, mounts, init, cgroups, sandboxing.
noinst_LTLIBRARIES += libshuttle-runtime.la
libshuttle_runtime_la_SOURCES =
libshuttle_runtime_la_CFLAGS = $(AM_CFLAGS) $(LIBCAP_CFLAGS) $(LIBSECCOMP_CFLAGS) \
	$(LIBMNL_CFLAGS) $(JANSSON_CFLAGS)
libshuttle_runtime_la_LIBADD = libshuttle-common.la $(LIBCAP_LIBS) $(LIBSECCOMP_LIBS) \
	$(LIBMNL_LIBS) $(JANSSON_LIBS)
include src/runtime/core.mk
include src/runtime/cgroup.mk
include src/runtime/sandbox.mk
include src/runtime/group.mk
include src/runtime/bridge.mk
include src/runtime/oci.mk
include src/runtime/image.mk
include src/runtime/monitor.mk
include src/runtime/init.mk
