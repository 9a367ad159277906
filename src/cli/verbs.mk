# Verbs on running containers and groups: ps, exec, kill, stop, logs.
shuttlectl_SOURCES += \
	src/cli/verb-options.h \
	src/cli/cmd-ps.c \
	src/cli/cmd-exec.c \
	src/cli/cmd-kill.c \
	src/cli/cmd-logs.c
