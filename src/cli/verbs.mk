# Verbs on running containers and groups: ps, exec, kill, stop, logs; and
# images, the OCI images run --rootfs unpacked.
shuttlectl_SOURCES += \
	src/cli/verb-options.h \
	src/cli/cmd-ps.c \
	src/cli/cmd-exec.c \
	src/cli/cmd-kill.c \
	src/cli/cmd-logs.c \
	src/cli/cmd-images.c
