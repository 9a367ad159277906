# Manual pages.
include man/policy.mk
