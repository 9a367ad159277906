# shuttlectl policy: the front end to libshuttle-policy.la (which
# src/cli/local.mk links; libtool carries its libyaml/jansson along).
shuttlectl_SOURCES += src/cli/cmd-policy.c
shuttlectl_SOURCES += src/cli/policy-reach.c
shuttlectl_LDADD += $(YAML_LIBS)
# policy test and policy lint (lint reads group files and the audit log).
shuttlectl_SOURCES += src/cli/cmd-policy-test.c src/cli/cmd-policy-lint.c
# policy shadow (a candidate beside the policy in force, in the broker).
shuttlectl_SOURCES += src/cli/cmd-policy-shadow.c
# policy draft: the records → rules part is pure (policy-draft.c, unit-tested).
shuttlectl_SOURCES += src/cli/cmd-policy-draft.c src/cli/policy-draft.c src/cli/policy-draft.h
