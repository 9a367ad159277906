# shuttle-invoke TARGET APP [ARG...]: bound into every container at
# /run/shuttle-bin/shuttle-invoke (and linked from /run/shuttle/bin/).  It
# runs inside containers whatever their rootfs, so it is built from the
# client sources alone and linked statically (glibc's static libc is
# enough: it resolves no names and loads nothing); no sanitizers, whose
# runtimes do not link statically.
pkglibexec_PROGRAMS += shuttle-invoke
shuttle_invoke_SOURCES = src/shuttle/client/shuttle-invoke.c src/shuttle/client/app-entry.h \
	$(shuttle_helper_sources)
shuttle_invoke_CFLAGS = $(WARN_CFLAGS)
shuttle_invoke_LDFLAGS = -all-static
shuttle_invoke_LDADD = -lpthread
