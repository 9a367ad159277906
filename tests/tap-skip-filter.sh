#!/bin/bash
# cmocka prints a skipped test as "not ok N # SKIP", which automake's TAP
# driver counts as a failure: print it as "ok N # SKIP" (what TAP means by a
# skip), keeping the test's exit status.
set -o pipefail
"$@" | sed -u 's/^not ok \([0-9][0-9]*\) # SKIP/ok \1 # SKIP/'
