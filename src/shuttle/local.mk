# The broker's library (shuttled links it; shuttlectl links it for `audit`).
# Other broker modules add themselves with `libshuttle_broker_la_SOURCES +=`
# in their own fragments.
noinst_LTLIBRARIES += libshuttle-broker.la
libshuttle_broker_la_SOURCES = \
	src/shuttle/audit.h \
	src/shuttle/audit-internal.h \
	src/shuttle/audit-line.c \
	src/shuttle/audit.c \
	src/shuttle/audit-read.c \
	src/shuttle/audit-verify.c \
	src/shuttle/audit-text.c \
	src/shuttle/audit-agg.h \
	src/shuttle/audit-agg.c
libshuttle_broker_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(LIBCRYPTO_CFLAGS)
libshuttle_broker_la_LIBADD = libshuttle-common.la $(JANSSON_LIBS) $(LIBCRYPTO_LIBS)
# The wire protocol and client library, then the daemon itself.
include src/shuttle/protocol.mk
include src/shuttle/broker.mk
include src/shuttle/invoke.mk
include src/shuttle/shim/local.mk
include src/shuttle/libshuttle.mk
include src/shuttle/name.mk
include src/shuttle/transfer.mk
# Time stamps on group container logs (the supervisor writes, `logs` reads).
libshuttle_broker_la_SOURCES += src/shuttle/logline.h src/shuttle/logline.c
