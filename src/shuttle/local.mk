# src/shuttle/: the broker, the shim, the client side and the group
# supervisor, in rooms by what each part is and where it runs
# (docs/ARCHITECTURE.md; tests/check-layers.sh keeps the includes to it).
#
# libshuttle-broker.la is what runs on the host: shuttled links all of it,
# shuttlectl the audit log, the control channel and the supervisor.  Each
# room adds its sources with `libshuttle_broker_la_SOURCES +=`.
noinst_LTLIBRARIES += libshuttle-broker.la
libshuttle_broker_la_SOURCES =
libshuttle_broker_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(LIBCRYPTO_CFLAGS)
libshuttle_broker_la_LIBADD = libshuttle-common.la $(JANSSON_LIBS) $(LIBCRYPTO_LIBS)
include src/shuttle/audit/local.mk
include src/shuttle/client/local.mk
include src/shuttle/host/local.mk
include src/shuttle/supervisor/local.mk
include src/shuttle/daemon/local.mk
include src/shuttle/shim/local.mk
