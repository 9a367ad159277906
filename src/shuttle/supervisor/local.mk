# App groups: the supervisor behind `shuttlectl run GROUP.yaml` (it runs in
# shuttlectl, not in the broker), and the time stamps on group container
# logs (the supervisor writes them, `shuttlectl logs` reads them).
libshuttle_broker_la_SOURCES += \
	src/shuttle/supervisor/group-run.h src/shuttle/supervisor/group-run.c \
	src/shuttle/supervisor/logline.h src/shuttle/supervisor/logline.c
