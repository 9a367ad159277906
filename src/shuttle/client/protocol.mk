# The wire protocol of broker.sock (docs/PROTOCOL.md) and the client
# library programs inside a container use.  protocol.c and client.c depend
# on libc and src/common only: they will also be linked into the shim.
libshuttle_broker_la_SOURCES += \
	src/shuttle/client/protocol.h src/shuttle/client/protocol.c \
	src/shuttle/client/client.h src/shuttle/client/client.c

# shuttle-connect CONTAINER.SERVICE: connect through the broker, relay
# stdin/stdout (man/shuttle-connect.1).  It runs inside containers,
# whatever their rootfs, so it is built like shuttle-invoke (invoke.mk):
# from the client sources alone, statically, no sanitizers.  Installed in
# bindir: containers on the host rootfs find it on their PATH.
# What every static helper is built from besides its own file: the client
# sources, and the options, connecting and messages they share.
shuttle_helper_sources = src/shuttle/client/helper-common.h src/shuttle/client/helper-common.c \
	src/shuttle/client/protocol.h src/shuttle/client/protocol.c \
	src/shuttle/client/client.h src/shuttle/client/client.c \
	src/common/fdpass.h src/common/fdpass.c

bin_PROGRAMS += shuttle-connect
shuttle_connect_SOURCES = src/shuttle/client/shuttle-connect.c $(shuttle_helper_sources) \
	src/common/fileio.h src/common/fileio.c
shuttle_connect_CFLAGS = $(WARN_CFLAGS)
shuttle_connect_LDFLAGS = -all-static
shuttle_connect_LDADD = -lpthread
