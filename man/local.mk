# Manual pages.
dist_man_MANS += man/shuttlectl.1
include man/policy.mk
