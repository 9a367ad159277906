# Benchmarks: `make bench` runs them; `make check` does not.
BENCH_SCRIPTS =
include bench/policy.mk
bench: all $(BENCH_SCRIPTS)
	@for b in $(BENCH_SCRIPTS); do echo "== $$b"; $(SHELL) $(srcdir)/$$b || exit 1; done
.PHONY: bench
