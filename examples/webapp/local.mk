# The webapp example's programs (copied into examples/webapp/bin to run).
noinst_PROGRAMS += examples/webapp/kvd examples/webapp/webd examples/webapp/kvcli
examples_webapp_kvd_SOURCES = examples/webapp/kvd.c
examples_webapp_webd_SOURCES = examples/webapp/webd.c
examples_webapp_kvcli_SOURCES = examples/webapp/kvcli.c \
	src/shuttle/client/client.h src/shuttle/client/client.c src/shuttle/client/protocol.h src/shuttle/client/protocol.c
examples_webapp_kvcli_CFLAGS = $(AM_CFLAGS)
examples_webapp_kvcli_LDADD = libshuttle-common.la
