# The audit log: the writer (shuttled), the reader and --verify (shuttlectl
# audit), aggregated denials, escaping for terminals.  libc, jansson,
# libcrypto and src/common only.
libshuttle_broker_la_SOURCES += \
	src/shuttle/audit/audit.h \
	src/shuttle/audit/audit-internal.h \
	src/shuttle/audit/audit-line.c \
	src/shuttle/audit/audit.c \
	src/shuttle/audit/audit-format.c \
	src/shuttle/audit/audit-read.c \
	src/shuttle/audit/audit-verify.c \
	src/shuttle/audit/audit-text.c \
	src/shuttle/audit/audit-agg.h \
	src/shuttle/audit/audit-agg.c
