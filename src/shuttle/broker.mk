# The broker daemon: event loop, registry, IPC mediation, requests.
libshuttle_broker_la_SOURCES += \
	src/shuttle/broker.h src/shuttle/broker.c src/shuttle/broker-internal.h \
	src/shuttle/control.h src/shuttle/control.c \
	src/shuttle/registry.c src/shuttle/ipc.c src/shuttle/requests.c
libshuttle_broker_la_CFLAGS += $(YAML_CFLAGS)
libshuttle_broker_la_LIBADD += libshuttle-policy.la

sbin_PROGRAMS += shuttled
shuttled_SOURCES = src/shuttle/shuttled.c
shuttled_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
shuttled_LDADD = libshuttle-broker.la libshuttle-policy.la libshuttle-common.la
