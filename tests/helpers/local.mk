# Programs the integration tests run inside containers.
check_PROGRAMS += tests/helpers/sockecho tests/helpers/rawframe tests/helpers/brokercall
tests_helpers_sockecho_SOURCES = tests/helpers/sockecho.c
tests_helpers_rawframe_SOURCES = tests/helpers/rawframe.c
tests_helpers_rawframe_LDADD = libshuttle-broker.la libshuttle-common.la
tests_helpers_brokercall_SOURCES = tests/helpers/brokercall.c
tests_helpers_brokercall_LDADD = libshuttle-broker.la libshuttle-common.la
# libshuttle-shim.so from the program's side (tests/integration/shim.sh).
check_PROGRAMS += tests/helpers/shimcall
tests_helpers_shimcall_SOURCES = tests/helpers/shimcall.c
tests_helpers_shimcall_LDADD = -lpthread
# The shim's exec hooks from the program's side (tests/integration/shim-exec.sh).
check_PROGRAMS += tests/helpers/execcall
tests_helpers_execcall_SOURCES = tests/helpers/execcall.c
# shm_open()/mq_open() through the shim (tests/integration/shm-mq.sh).
check_PROGRAMS += tests/helpers/shmqcall
tests_helpers_shmqcall_SOURCES = tests/helpers/shmqcall.c
# kill() and sigqueue() through the shim (tests/integration/names.sh).
check_PROGRAMS += tests/helpers/sigcall
tests_helpers_sigcall_SOURCES = tests/helpers/sigcall.c
tests_helpers_sigcall_LDADD = -lpthread
# Escapes through what of ours lives in a container (tests/integration/escape.sh).
check_PROGRAMS += tests/helpers/escapecall
tests_helpers_escapecall_SOURCES = tests/helpers/escapecall.c
# Raw system calls, for the seccomp profile (tests/integration/seccomp.sh).
check_PROGRAMS += tests/helpers/syscalls
tests_helpers_syscalls_SOURCES = tests/helpers/syscalls.c
tests_helpers_syscalls_CFLAGS = $(AM_CFLAGS) $(LIBSECCOMP_CFLAGS)
tests_helpers_syscalls_LDADD = $(LIBSECCOMP_LIBS)
# The service manager's end of sd_notify(3) (tests/integration/notify.sh).
check_PROGRAMS += tests/helpers/notifyrecv
tests_helpers_notifyrecv_SOURCES = tests/helpers/notifyrecv.c
# FIFO exports through the shim's open() and the client library (tests/integration/fifo.sh).
check_PROGRAMS += tests/helpers/fifocall
tests_helpers_fifocall_SOURCES = tests/helpers/fifocall.c
tests_helpers_fifocall_LDADD = libshuttle-broker.la libshuttle-common.la
# A subreaper and a console socket's listener, as conmon and containerd's
# shim are to shuttle-oci (tests/integration/oci-lifecycle.sh).
check_PROGRAMS += tests/helpers/subreaper tests/helpers/consock
tests_helpers_subreaper_SOURCES = tests/helpers/subreaper.c
tests_helpers_consock_SOURCES = tests/helpers/consock.c
tests_helpers_consock_LDADD = libshuttle-common.la
# A proxied connection's edges: half-close, a peer that never reads
# (tests/integration/proxy-relay.sh).
check_PROGRAMS += tests/helpers/relaycall
tests_helpers_relaycall_SOURCES = tests/helpers/relaycall.c
# The seccomp agent at a bundle's linux.seccomp.listenerPath
# (tests/integration/oci-seccomp-notify.sh).
check_PROGRAMS += tests/helpers/seccomp-agent
tests_helpers_seccomp_agent_SOURCES = tests/helpers/seccomp-agent.c
tests_helpers_seccomp_agent_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_helpers_seccomp_agent_LDADD = libshuttle-common.la $(JANSSON_LIBS)
