# shuttle-name pid|service|host CONTAINER ...: another container's names in
# this one's view (RESOLVE).  Bound into every container beside
# shuttle-invoke (/run/shuttle-bin/shuttle-name, linked from
# /run/shuttle/bin/), so built the same way: client sources alone,
# statically, no sanitizers (see invoke.mk).
pkglibexec_PROGRAMS += shuttle-name
shuttle_name_SOURCES = src/shuttle/client/shuttle-name.c \
	$(shuttle_helper_sources)
shuttle_name_CFLAGS = $(WARN_CFLAGS)
shuttle_name_LDFLAGS = -all-static
shuttle_name_LDADD = -lpthread
