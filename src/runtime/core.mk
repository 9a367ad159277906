libshuttle_runtime_la_SOURCES += src/runtime/container.h src/runtime/container.c
