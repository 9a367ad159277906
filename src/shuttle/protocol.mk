# The wire protocol of broker.sock (docs/PROTOCOL.md) and the client
# library programs inside a container use.  protocol.c and client.c depend
# on libc and src/common only: they will also be linked into the shim.
libshuttle_broker_la_SOURCES += \
	src/shuttle/protocol.h src/shuttle/protocol.c \
	src/shuttle/client.h src/shuttle/client.c

# shuttle-connect SERVICE: connect through the broker, relay stdin/stdout.
# It runs inside containers, so it is built from the client sources alone
# (own CFLAGS: its objects are separate from the libtool ones).
noinst_PROGRAMS += shuttle-connect
shuttle_connect_SOURCES = src/shuttle/shuttle-connect.c \
	src/shuttle/protocol.h src/shuttle/protocol.c \
	src/shuttle/client.h src/shuttle/client.c
shuttle_connect_CFLAGS = $(AM_CFLAGS)
shuttle_connect_LDADD = libshuttle-common.la -lpthread
