#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# libshuttle.so, the public client library, exports the shuttle_*
# functions and nothing else (no fd_send() or other internals that could
# clash with a program's own), and its headers compile on their own, in C
# and in C++.
set -u
lib="$top_builddir/.libs/libshuttle.so"
echo "1..3"
if [[ ! -e $lib ]]; then
        echo "not ok 1 - $lib was not built"
        exit 0
fi
others=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRW]$/ && $3 !~ /^shuttle_/ { print $3 }')
if [[ -z $others ]]; then
        echo "ok 1 - only shuttle_* symbols are exported"
else
        echo "not ok 1 - other symbols exported: $others"
fi
n=$(nm -D --defined-only "$lib" | awk '$3 ~ /^shuttle_/' | wc -l)
if nm -D --defined-only "$lib" | grep -qw shuttle_client_open && [[ $n -gt 20 ]]; then
        echo "ok 2 - the client calls are there ($n symbols)"
else
        echo "not ok 2 - shuttle_client_open missing or too few symbols ($n)"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/inc/shuttle"
cp "$top_srcdir/src/shuttle/client/client.h" "$top_srcdir/src/shuttle/client/protocol.h" "$tmp/inc/shuttle/"
printf '#include <shuttle/client.h>\nint main(void) { ShuttleClient *c = 0; return shuttle_client_open("/nonexistent", &c) == -2 ? 0 : 1; }\n' >"$tmp/t.c"
cc=${CC:-cc}
if $cc -std=c11 -Wall -Werror -I"$tmp/inc" "$tmp/t.c" -L"$top_builddir/.libs" -lshuttle -o "$tmp/t" 2>"$tmp/err" &&
   LD_LIBRARY_PATH="$top_builddir/.libs" "$tmp/t"; then
        if command -v c++ >/dev/null && ! c++ -fsyntax-only -x c++ -I"$tmp/inc" "$tmp/t.c" 2>>"$tmp/err"; then
                echo "not ok 3 - the headers do not compile as C++: $(head -c 400 "$tmp/err")"
        else
                echo "ok 3 - a program using only the installed headers builds, links and runs"
        fi
else
        echo "not ok 3 - a program using the headers does not build or run: $(head -c 400 "$tmp/err")"
fi
