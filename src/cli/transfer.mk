# shuttlectl transfer ls|revoke: the broker's live transfers.
shuttlectl_SOURCES += src/cli/cmd-transfer.c
