# Benchmarks: `make bench` runs them; `make check` does not.
bench_scripts =
include bench/policy.mk
bench: all $(bench_scripts)
	@for b in $(bench_scripts); do echo "== $$b"; $(SHELL) $(srcdir)/$$b || exit 1; done
.PHONY: bench
