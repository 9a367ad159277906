# What `make install` ships: the default policy (tests/policy/
# check-default.sh) and the file list of an install (tests/check-install.sh).
TESTS += tests/policy/check-default.sh
dist_noinst_SCRIPTS += tests/policy/check-default.sh
TESTS += tests/check-install.sh
dist_noinst_SCRIPTS += tests/check-install.sh
