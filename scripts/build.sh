#!/bin/sh
# Configures and builds Shuttle out of tree in build/ (or $BUILD_DIR).
# Extra arguments go to configure, e.g. --enable-sanitizers.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}

cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
        autoreconf -fi
fi
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ] || [ "$#" -gt 0 ]; then
        "$top/configure" -q "$@"
fi
make -j"$(nproc)"
