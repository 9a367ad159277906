#!/bin/bash
# --net loopback (default) and --net none.
. "$(dirname "$0")/lib.sh"
require_root
plan 4

out=$(srun -- cat /sys/class/net/lo/operstate /sys/class/net/lo/flags 2>&1 | tr '\n' ' ')
check_match "lo is up by default" "^unknown 0x9 $" "$out"
out=$(srun --net none -- cat /sys/class/net/lo/flags 2>&1)
check_eq "--net none leaves lo down" "0x8" "$out"
# A TCP round trip over loopback inside the container (bash's /dev/tcp).
out=$(srun -- bash -c 'exec 3<>/dev/tcp/127.0.0.1/1' 2>&1)
check_match "loopback answers (connection refused, not unreachable)" "Connection refused" "$out"
out=$(srun -- bash -c 'exec 3<>/dev/tcp/192.0.2.1/80' 2>&1)
check_match "no route out of the container" "unreachable" "$out"
finish
