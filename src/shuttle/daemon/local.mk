# The broker daemon shuttled.  The core: the event loop (broker.c), the one
# door of its sockets (accept.c), the pipeline every request takes
# (pipeline.c), requests waiting for an operator (ask.c), registration
# (registry.c), policy loads (reload.c, their answers reload-answer.c), the
# app groups' own policies (groups.c), the
# shadow decisions beside the policy in force (shadow.c), the
# books of grants (grants.c, transfers.c), the apps/ links (apps.c), the
# processes of a container (procs.c), readiness (notify.c).  The mediators,
# one file per kind of request (mediator.h): ipc.c, signal.c, invoke.c,
# transfer.c, resolve.c, shmq.c, and depend.c for depend grants.  The mount
# work of transfers and depend grants: xfer.c, xfer-glob.c.
libshuttle_broker_la_SOURCES += \
	src/shuttle/daemon/broker.h src/shuttle/daemon/broker.c \
	src/shuttle/daemon/broker-api.h src/shuttle/daemon/core.h src/shuttle/daemon/mediator.h \
	src/shuttle/daemon/accept.c src/shuttle/daemon/pipeline.c src/shuttle/daemon/audit-sync.c src/shuttle/daemon/registry.c \
	src/shuttle/daemon/reload.c src/shuttle/daemon/reload-internal.h src/shuttle/daemon/reload-answer.c src/shuttle/daemon/grants.c src/shuttle/daemon/transfers.c \
	src/shuttle/daemon/apps.c src/shuttle/daemon/procs.c src/shuttle/daemon/shadow.c src/shuttle/daemon/groups.c \
	src/shuttle/daemon/ask.c \
	src/shuttle/daemon/notify.h src/shuttle/daemon/notify.c \
	src/shuttle/daemon/ipc.c src/shuttle/daemon/signal.c src/shuttle/daemon/invoke.c \
	src/shuttle/daemon/invoke-zygote.c \
	src/shuttle/daemon/transfer.c src/shuttle/daemon/resolve.c src/shuttle/daemon/shmq.c \
	src/shuttle/daemon/depend.c \
	src/shuttle/daemon/xfer.h src/shuttle/daemon/xfer.c src/shuttle/daemon/xfer-glob.c
libshuttle_broker_la_CFLAGS += $(YAML_CFLAGS) -pthread
libshuttle_broker_la_LIBADD += libshuttle-policy.la -lpthread

sbin_PROGRAMS += shuttled
shuttled_SOURCES = src/shuttle/daemon/shuttled.c
shuttled_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
shuttled_LDADD = libshuttle-broker.la libshuttle-runtime.la libshuttle-policy.la libshuttle-common.la
