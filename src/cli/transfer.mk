# shuttlectl transfer ls|revoke: the broker's live transfers.
shuttlectl_SOURCES += src/cli/cmd-transfer.c src/cli/control-call.c src/cli/control-call.h
# shuttlectl ask ls|allow|deny: requests that wait for an operator.
shuttlectl_SOURCES += src/cli/cmd-ask.c
