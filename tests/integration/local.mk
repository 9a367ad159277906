# Integration tests: TAP shell scripts that start real containers (root).
integration_tests = \
	tests/integration/run-basics.sh \
	tests/integration/isolation.sh \
	tests/integration/network.sh \
	tests/integration/filesystem.sh \
	tests/integration/security.sh \
	tests/integration/limits.sh \
	tests/integration/devices-v2.sh \
	tests/integration/signals.sh \
	tests/integration/volumes.sh \
	tests/integration/teardown.sh \
	tests/integration/tty.sh \
	tests/integration/broker-ipc.sh \
	tests/integration/broker-more.sh \
	tests/integration/group-webapp.sh \
	tests/integration/group-lifecycle.sh
TESTS += $(integration_tests)
dist_noinst_SCRIPTS += $(integration_tests)
dist_noinst_DATA += tests/integration/lib.sh
integration_tests += tests/integration/verbs.sh
integration_tests += tests/integration/monitor.sh tests/integration/monitor-shared.sh tests/integration/init-exec.sh
integration_tests += tests/integration/start-many.sh
integration_tests += tests/integration/group-net.sh
integration_tests += tests/integration/shim.sh
integration_tests += tests/integration/peer-check.sh
integration_tests += tests/integration/proxy-relay.sh
integration_tests += tests/integration/seccomp.sh
integration_tests += tests/integration/invoke.sh tests/integration/transfer.sh
integration_tests += tests/integration/invoke-fd.sh tests/integration/invoke-tree.sh tests/integration/invoke-zygote.sh \
	tests/integration/invoke-reuse.sh
integration_tests += tests/integration/transfer-as.sh tests/integration/transfer-cli.sh
integration_tests += tests/integration/group-reload.sh
integration_tests += tests/integration/shadow.sh
integration_tests += tests/integration/restart-grants.sh
integration_tests += tests/integration/restart-counts.sh
integration_tests += tests/integration/grant-instance.sh
integration_tests += tests/integration/example-mail-viewer.sh
integration_tests += tests/integration/depend.sh tests/integration/example-build-toolchain.sh
integration_tests += tests/integration/shim-exec.sh
integration_tests += tests/integration/shm-mq.sh
integration_tests += tests/integration/fifo.sh
integration_tests += tests/integration/names.sh
integration_tests += tests/integration/escape.sh
integration_tests += tests/integration/audit-flood.sh
integration_tests += tests/integration/reload-async.sh
integration_tests += tests/integration/reload-tests.sh
integration_tests += tests/integration/notify.sh
integration_tests += tests/integration/audit-explain.sh
integration_tests += tests/integration/oci-lifecycle.sh
integration_tests += tests/integration/oci-create-interrupt.sh
integration_tests += tests/integration/oci-hooks-start.sh
integration_tests += tests/integration/oci-timens.sh
integration_tests += tests/integration/oci-shuttle.sh
integration_tests += tests/integration/oci-crio.sh
integration_tests += tests/integration/oci-containerd.sh
integration_tests += tests/integration/oci-verbs.sh
integration_tests += tests/integration/oci-podman.sh
integration_tests += tests/integration/oci-seccomp-cache.sh
integration_tests += tests/integration/oci-userns.sh
integration_tests += tests/integration/oci-seccomp-notify.sh
integration_tests += tests/integration/learn.sh
integration_tests += tests/integration/broker-idle.sh
integration_tests += tests/integration/connect-handles.sh
integration_tests += tests/integration/audit-sync.sh
integration_tests += tests/integration/audit-sync-act.sh
integration_tests += tests/integration/audit-sync-prepare.sh
integration_tests += tests/integration/ask.sh
integration_tests += tests/integration/run-image.sh
