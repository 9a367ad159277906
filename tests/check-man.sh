#!/bin/bash
# Every option `shuttlectl run --help` lists is documented in shuttlectl(1),
# and every option shuttlectl(1) documents for run is in --help.
set -u
: "${SHUTTLECTL:=./shuttlectl}"
man="${top_srcdir:-.}/man/shuttlectl.1"

help_opts=$("$SHUTTLECTL" run --help | grep -oE -- '--[a-z][a-z-]+' | sort -u)
# The RUN section, "\-\-name" -> "--name".
man_opts=$(sed -n '/^\.SH RUN/,/^\.SH POLICY/p' "$man" | sed 's/\\-/-/g' | grep -oE -- '--[a-z][a-z-]+' | sort -u)

echo "1..2"
missing=$(comm -23 <(echo "$help_opts") <(echo "$man_opts"))
if [ -z "$missing" ]; then echo "ok 1 - every run option in --help is in shuttlectl(1)"; else
        echo "not ok 1 - options in --help but not in shuttlectl(1): $(echo $missing)"; fail=1; fi
extra=$(comm -13 <(echo "$help_opts") <(echo "$man_opts"))
if [ -z "$extra" ]; then echo "ok 2 - every run option in shuttlectl(1) is in --help"; else
        echo "not ok 2 - options in shuttlectl(1) but not in --help: $(echo $extra)"; fail=1; fi
exit ${fail:-0}
