# Policy decision benchmark: built with the rest (noinst), run by 'make
# bench' through bench/policy-decide.sh, never by 'make check'.
noinst_PROGRAMS += bench/policy-decide
bench_policy_decide_SOURCES = bench/policy-decide.c
bench_policy_decide_CFLAGS = $(AM_CFLAGS)
bench_policy_decide_LDADD = libshuttle-policy.la
bench_scripts += bench/policy-decide.sh
dist_noinst_SCRIPTS += bench/policy-decide.sh
# policy reach beside policy check on a 10,000-rule policy (wall time of
# shuttlectl, best of 5; bench/policy-reach.sh).
bench_scripts += bench/policy-reach.sh
dist_noinst_SCRIPTS += bench/policy-reach.sh
# policy lint and policy test beside policy check on generated 1,000- and
# 10,000-rule policies (bench/policy-lint.sh, through shuttlectl).
bench_scripts += bench/policy-lint.sh
dist_noinst_SCRIPTS += bench/policy-lint.sh
