# The broker daemon: event loop, registry, IPC mediation, requests.
libshuttle_broker_la_SOURCES += \
	src/shuttle/broker.h src/shuttle/broker.c src/shuttle/broker-internal.h \
	src/shuttle/control.h src/shuttle/control.c \
	src/shuttle/registry.c src/shuttle/ipc.c src/shuttle/pipeline.c src/shuttle/mediator.h src/shuttle/signal.c src/shuttle/accept.c \
	src/shuttle/nsconnect.h src/shuttle/nsconnect.c \
	src/shuttle/invoke.c src/shuttle/apps.c src/shuttle/transfer.c src/shuttle/depend.c src/shuttle/grants.c \
	src/shuttle/resolve.c src/shuttle/shmq.c src/shuttle/reload.c \
	src/shuttle/notify.h src/shuttle/notify.c
libshuttle_broker_la_CFLAGS += $(YAML_CFLAGS) -pthread
libshuttle_broker_la_LIBADD += libshuttle-policy.la -lpthread

sbin_PROGRAMS += shuttled
shuttled_SOURCES = src/shuttle/shuttled.c
shuttled_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
shuttled_LDADD = libshuttle-broker.la libshuttle-runtime.la libshuttle-policy.la libshuttle-common.la

# What shuttlectl asks of the broker (registration, group policies).
libshuttle_broker_la_SOURCES += src/shuttle/broker-client.h src/shuttle/broker-client.c \
	src/shuttle/locate.h src/shuttle/locate.c

# App groups: the supervisor behind `shuttlectl run GROUP.yaml`.
libshuttle_broker_la_SOURCES += src/shuttle/group-run.h src/shuttle/group-run.c
