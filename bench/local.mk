# Benchmarks: `make bench` runs them; `make check` does not.
# A script whose first line names bash runs with bash, others with $(SHELL);
# each gets SHUTTLECTL (the binary just built); exit 77 means skipped.
bench_scripts =
bench_scripts += bench/start-latency.sh
EXTRA_DIST += bench/start-latency.sh
include bench/policy.mk
include bench/audit.mk
# IPC benchmark: native vs fast path vs proxy, broker RSS (bench/ipc.sh).
# ipc-bench runs inside containers; built only for 'make bench'.
EXTRA_PROGRAMS = bench/ipc-bench
bench_ipc_bench_SOURCES = bench/ipc-bench.c
bench_ipc_bench_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
bench_ipc_bench_LDADD = libshuttle-broker.la libshuttle-policy.la libshuttle-common.la $(JANSSON_LIBS) -lpthread
CLEANFILES += bench/ipc-bench$(EXEEXT)
bench_scripts += bench/ipc.sh
dist_noinst_SCRIPTS += bench/ipc.sh
bench: bench/ipc-bench$(EXEEXT)
# Each script may add figures to one table (bench/results.sh), printed at the
# end by bench/summary.sh: the rows of issue 14 with their goals.
# `make bench BENCH='bench/start-latency.sh bench/invoke.sh'` runs some only.
# The reference tools (hyperfine, crun, bubblewrap): scripts/install-deps.sh --bench.
BENCH = $(bench_scripts)
bench: all $(bench_scripts)
	@results='$(abs_top_builddir)/bench-results.txt'; : >"$$results"; failed=; \
	for b in $(BENCH); do \
	  echo "== $$b"; \
	  if sed -n 1p '$(srcdir)/'"$$b" | grep -q bash; then sh=bash; else sh='$(SHELL)'; fi; \
	  BENCH_RESULTS=$$results SHUTTLECTL='$(abs_top_builddir)/shuttlectl' $$sh '$(srcdir)/'"$$b"; rc=$$?; \
	  case $$rc in 0) ;; 77) echo "== $$b: skipped" ;; *) echo "== $$b: FAILED (exit status $$rc)"; failed="$$failed $$b" ;; esac; \
	done; \
	echo "== summary (issue 14): Shuttle / reference, measured side by side in this run"; \
	bash '$(srcdir)/bench/summary.sh' "$$results"; \
	test -z "$$failed" || { echo "failed:$$failed"; exit 1; }
EXTRA_DIST += bench/results.sh bench/summary.sh bench/crun-wrap.sh
CLEANFILES += bench-results.txt
.PHONY: bench
bench_scripts += bench/group-start.sh
EXTRA_DIST += bench/group-start.sh
bench_scripts += bench/invoke.sh
EXTRA_DIST += bench/invoke.sh
# create + start + delete through the OCI command line: shuttle-oci, crun, runc.
bench_scripts += bench/oci-lifecycle.sh
EXTRA_DIST += bench/oci-lifecycle.sh
bench: shuttle-oci$(EXEEXT) tests/helpers/subreaper$(EXEEXT)
bench_scripts += bench/idle-memory.sh
EXTRA_DIST += bench/idle-memory.sh
# The shim's cost: non-redirected calls with and without it, a redirected
# connect() against the client library (bench/shim.sh).  shim-bench is built
# from the client sources alone, like the shim, and only for 'make bench'.
EXTRA_PROGRAMS += bench/shim-bench
bench_shim_bench_SOURCES = bench/shim.c \
	src/shuttle/client/client.h src/shuttle/client/client.c \
	src/shuttle/client/protocol.h src/shuttle/client/protocol.c \
	src/common/fdpass.h src/common/fdpass.c
bench_shim_bench_CFLAGS = $(AM_CFLAGS)
bench_shim_bench_LDADD = -lpthread
CLEANFILES += bench/shim-bench$(EXEEXT)
bench_scripts += bench/shim.sh
dist_noinst_SCRIPTS += bench/shim.sh
bench: bench/shim-bench$(EXEEXT) libshuttle-shim.la
# Register + unregister against the number of registered containers
# (bench/register.sh); register-bench is built only for 'make bench'.
EXTRA_PROGRAMS += bench/register-bench
bench_register_bench_SOURCES = bench/register.c
bench_register_bench_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
bench_register_bench_LDADD = libshuttle-broker.la libshuttle-runtime.la libshuttle-common.la $(JANSSON_LIBS)
CLEANFILES += bench/register-bench$(EXEEXT)
bench_scripts += bench/register.sh
dist_noinst_SCRIPTS += bench/register.sh
bench: bench/register-bench$(EXEEXT)
