#!/bin/sh
# A node whose shuttled keeps its state elsewhere than /run/shuttle:
# install as /usr/local/sbin/shuttle-oci-node and give it as BinaryName
# (containerd) or runtime_path (CRI-O).  Global options go before the
# verb in any order, so the caller's own (--root, --log, ...) still work.
# tests/integration/oci-containerd.sh drives its containers this way.
exec /usr/sbin/shuttle-oci --shuttle-state /var/lib/shuttle-node "$@"
