# shuttle-zygote: the pre-forked helper the broker starts inside an invoke
# target (zygote.h), executed from the host's file by descriptor.  It runs
# inside containers whatever their rootfs, so it is built from one file and
# linked statically (libc only); no sanitizers, whose runtimes do not link
# statically.
pkglibexec_PROGRAMS += shuttle-zygote
shuttle_zygote_SOURCES = src/runtime/zygote-main.c src/runtime/zygote.h
shuttle_zygote_CFLAGS = $(WARN_CFLAGS)
shuttle_zygote_LDFLAGS = -all-static
libshuttle_runtime_la_SOURCES += src/runtime/zygote.h
