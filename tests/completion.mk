# The bash completion: completions of a few command lines, and its option
# lists against each verb's --help (tests/check-completion.sh).
TESTS += tests/check-completion.sh
dist_noinst_SCRIPTS += tests/check-completion.sh
