#!/bin/sh
# Sets up a fresh Debian 12 machine and runs the whole test suite, as root:
#   1. installs the Debian packages,
#   2. builds and runs `make check` (unit and integration tests),
#   3. builds again with ASan+UBSan and runs the suite under them.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

"$top/scripts/install-deps.sh"

status=0
echo "== plain build: make check"
BUILD_DIR=$top/build "$top/scripts/build.sh"
make -C "$top/build" check || status=1
if [ $status != 0 ]; then
        cat "$top/build/test-suite.log" || true
fi

echo "== ASan+UBSan build: make check"
BUILD_DIR=$top/build-asan "$top/scripts/build.sh" --enable-sanitizers
ASAN_OPTIONS=detect_leaks=1 make -C "$top/build-asan" check || { status=1; cat "$top/build-asan/test-suite.log" || true; }

exit $status
