libshuttle_runtime_la_SOURCES += src/runtime/sandbox.h src/runtime/sandbox.c
