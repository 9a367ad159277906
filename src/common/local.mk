# Shared helpers: every other layer may include src/common, it includes none.
noinst_LTLIBRARIES += libshuttle-common.la
libshuttle_common_la_SOURCES = \
	src/common/macro.h \
	src/common/time-util.h \
	src/common/log.c src/common/log.h \
	src/common/fdpass.c src/common/fdpass.h \
	src/common/fileio.c src/common/fileio.h \
	src/common/json-file.c src/common/json-file.h \
	src/common/parse.c src/common/parse.h \
	src/common/proc-stat.c src/common/proc-stat.h \
	src/common/strmap.c src/common/strmap.h \
	src/common/socket-util.c src/common/socket-util.h
libshuttle_common_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
libshuttle_common_la_LIBADD = $(JANSSON_LIBS)
