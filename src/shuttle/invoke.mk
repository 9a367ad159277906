# invoke and transfer: the broker's side (invoke.c and transfer.c are in
# broker.mk), the mount work of transfers, and the helper containers run.
libshuttle_broker_la_SOURCES += \
	src/shuttle/xfer.h src/shuttle/xfer.c src/shuttle/xfer-glob.c

# shuttle-invoke TARGET APP [ARG...]: bound into every container at
# /run/shuttle-bin/shuttle-invoke (and linked from /run/shuttle/bin/).  It
# runs inside containers whatever their rootfs, so it is built from the
# client sources alone and linked statically (glibc's static libc is
# enough: it resolves no names and loads nothing); no sanitizers, whose
# runtimes do not link statically.
pkglibexec_PROGRAMS = shuttle-invoke
shuttle_invoke_SOURCES = src/shuttle/shuttle-invoke.c src/shuttle/app-entry.h \
	src/shuttle/protocol.h src/shuttle/protocol.c \
	src/shuttle/client.h src/shuttle/client.c \
	src/common/fdpass.h src/common/fdpass.c
shuttle_invoke_CFLAGS = $(WARN_CFLAGS)
shuttle_invoke_LDFLAGS = -all-static
shuttle_invoke_LDADD = -lpthread
