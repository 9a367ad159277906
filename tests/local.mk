# Unit tests (cmocka, one binary per module) and integration tests (TAP
# shell scripts that start real containers; they skip unless run as root).
TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
TEST_LIBS = $(CMOCKA_LIBS)

include tests/unit/common.mk
include tests/unit/cli.mk
include tests/unit/policy.mk
include tests/unit/cgroup.mk
include tests/unit/sandbox.mk
include tests/helpers/local.mk
include tests/integration/local.mk

TESTS += tests/check-man.sh tests/check-usage.sh tests/check-waits.sh tests/check-tap-filter.sh tests/check-accept.sh tests/check-layers.sh tests/check-layers-plant.sh
dist_noinst_SCRIPTS += tests/check-man.sh tests/check-usage.sh tests/check-waits.sh tests/check-tap-filter.sh tests/check-accept.sh tests/check-layers.sh tests/check-layers-plant.sh
include tests/unit/protocol.mk
include tests/fuzz/protocol.mk
include tests/unit/audit.mk
include tests/unit/group.mk
include tests/unit/bridge.mk
include tests/unit/state-info.mk
include tests/completion.mk
include tests/unit/xfer.mk
include tests/unit/notify.mk
include tests/unit/pipeline.mk
include tests/dist.mk
include tests/unit/audit-graph.mk
include tests/unit/oci.mk
include tests/unit/image.mk
# What shuttlectl maps at start (issue 14 item 3).
TESTS += tests/check-start-libs.sh
dist_noinst_SCRIPTS += tests/check-start-libs.sh
