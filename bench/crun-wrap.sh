#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# crun-wrap.sh CMD [ARGS...]: runs CMD (crun, or `true` to time the wrapper
# alone) where crun can run on this host.
#
# crun (1.8 in Debian 12) refuses the cgroup "hybrid" layout, v1 controllers
# with a cgroup2 hierarchy mounted at /sys/fs/cgroup/unified: "cgroups in
# hybrid mode not supported".  On such a host CMD runs in a private mount
# namespace where that cgroup2 mount is gone, so crun sees plain cgroup v1;
# elsewhere CMD runs as it is.  Every crun command on one container (run,
# exec, kill, delete) must go through this wrapper alike.
hybrid=$(awk '$5 == "/sys/fs/cgroup/unified" { for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print "yes"; break } }' /proc/self/mountinfo 2>/dev/null)
if [ "$hybrid" = yes ]; then
        exec unshare -m --propagation private sh -c 'umount -l /sys/fs/cgroup/unified 2>/dev/null; exec "$@"' sh "$@"
fi
exec "$@"
