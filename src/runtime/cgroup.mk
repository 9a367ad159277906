libshuttle_runtime_la_SOURCES += src/runtime/cgroup.h src/runtime/cgroup.c
