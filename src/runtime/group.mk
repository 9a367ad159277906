# App group files (see src/runtime/group.h, shuttle-group(5)): read with the
# policy library's YAML reader; a group carries its compiled Policy.
libshuttle_runtime_la_SOURCES += \
	src/runtime/group.h src/runtime/group-internal.h \
	src/runtime/group.c src/runtime/group-container.c src/runtime/group-graph.c
libshuttle_runtime_la_CFLAGS += $(YAML_CFLAGS)
libshuttle_runtime_la_LIBADD += libshuttle-policy.la $(YAML_LIBS)
