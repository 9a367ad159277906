shuttlectl_SOURCES += src/cli/cmd-policy.c
