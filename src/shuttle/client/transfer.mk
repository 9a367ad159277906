# shuttle-transfer [--mode ro|rw] TARGET PATH: hands a file or directory of
# this container to another (TRANSFER) and prints its name there.  Bound
# into every container beside shuttle-invoke
# (/run/shuttle-bin/shuttle-transfer, linked from /run/shuttle/bin/), so
# built the same way: client sources alone, statically, no sanitizers (see
# invoke.mk).
pkglibexec_PROGRAMS += shuttle-transfer
shuttle_transfer_SOURCES = src/shuttle/client/shuttle-transfer.c src/shuttle/client/abs-path.h \
	$(shuttle_helper_sources)
shuttle_transfer_CFLAGS = $(WARN_CFLAGS)
shuttle_transfer_LDFLAGS = -all-static
shuttle_transfer_LDADD = -lpthread
