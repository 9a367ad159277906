#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# 'shuttlectl policy lint' and 'policy test' beside 'policy check' on
# generated policies of 1,000 and 10,000 rules: the mix of
# bench/policy-decide.c (70% exact pairs with an exact endpoint, 10% glob
# endpoints, 10% glob callers, 5% glob targets, 5% denies, two broad rules
# '*' to '*'), a group file naming (up to 1,000 of) the targets, one test case per ten
# rules; and, as the worst case for lint, 10,000 rules whose caller and
# target are both globs (every rule compared with every other).  Times
# are wall clock, best of three runs of the whole command (loading
# included).  Target: lint under a second at 10,000 rules.  Prints a
# table; does not fail on targets.  'make bench' runs it with SHUTTLECTL.
set -u
ctl=${SHUTTLECTL:-${top_builddir:-.}/shuttlectl}
if [ ! -x "$ctl" ]; then
        echo "policy-lint.sh: $ctl not found (build it, or set SHUTTLECTL)" >&2
        exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/bench-policy-lint.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

# gen N SHAPE: the policy (with tests) in $T/pN.yaml, the group in $T/gN.yaml.
gen() {
        awk -v n="$1" -v shape="$2" -v pol="$T/p$1$2.yaml" -v grp="$T/g$1$2.yaml" 'BEGIN {
                seed = 12345; callers = int(n / 4) + 1; targets = int(n / 8) + 1
                print "version: 1\ndefault: deny\naudit: deny\nrules:" > pol
                print "- {id: no-proc, from: \"*\", to: \"*\", deny: ipc, endpoint: \"proc-*\"}" > pol
                print "- {id: base, from: \"*\", to: \"*\", allow: ipc, endpoint: health}" > pol
                for (i = 0; i < n; i++) {
                        seed = (seed * 1103515245 + 12345) % 2147483648; c = seed % callers
                        seed = (seed * 1103515245 + 12345) % 2147483648; t = seed % targets
                        seed = (seed * 1103515245 + 12345) % 2147483648; e = seed % 16
                        k = i % 20
                        if (shape == "glob")
                                printf "- {id: r%d, from: \"c%d*\", to: \"s%d*\", allow: ipc, endpoint: e%d}\n", i, c, t, e > pol
                        else if (k < 14)
                                printf "- {id: r%d, from: c%d, to: s%d, allow: ipc, endpoint: e%d}\n", i, c, t, e > pol
                        else if (k < 16)
                                printf "- {id: r%d, from: c%d, to: s%d, allow: ipc, endpoint: \"e%d*\"}\n", i, c, t, e > pol
                        else if (k < 18)
                                printf "- {id: r%d, from: \"c%d*\", to: s%d, allow: ipc, endpoint: e%d}\n", i, c, t, e > pol
                        else if (k < 19)
                                printf "- {id: r%d, from: c%d, to: \"app/s%d*\", allow: ipc, endpoint: e%d}\n", i, c, t % 1000, e > pol
                        else
                                printf "- {id: r%d, from: c%d, to: s%d, deny: ipc, endpoint: e%d}\n", i, c, t, e > pol
                        if (i % 10 == 0)
                                tests[i] = sprintf("- {from: c%d, to: s%d, kind: ipc, endpoint: e%d, expect: %s}", c, t, e, k == 19 ? "deny" : "allow")
                }
                print "tests:" > pol
                for (i in tests)
                        print tests[i] > pol
                print "group: app\ncontainers:" > grp
                for (t = 0; t < targets && t < 1000; t++)
                        printf "  s%d: { command: [\"true\"] }\n", t > grp
        }'
}

# best3 CMD...: the best of three wall-clock runs, in ms, into $ms; the
# last run's stdout lines into $lines.
best3() {
        ms=
        for _ in 1 2 3; do
                t0=$(date +%s%N)
                lines=$("$@" 2>/dev/null | wc -l)
                t1=$(date +%s%N)
                d=$(( (t1 - t0) / 1000000 ))
                if [ -z "$ms" ] || [ "$d" -lt "$ms" ]; then ms=$d; fi
        done
}

printf '%-16s %10s %10s %10s %10s %10s\n' "policy" "check ms" "test ms" "lint ms" "cases" "findings"
for run in "1000 mix" "10000 mix" "10000 glob"; do
        set -- $run
        gen "$1" "$2"
        p=$T/p$1$2.yaml g=$T/g$1$2.yaml
        best3 "$ctl" policy check "$p"; check=$ms
        best3 "$ctl" policy test "$p"; test=$ms cases=$((lines - 1))
        best3 "$ctl" policy lint --group "$g" "$p"; lint=$ms findings=$lines
        printf '%-16s %10s %10s %10s %10s %10s\n' "$1 rules, $2" "$check" "$test" "$lint" "$cases" "$findings"
done
echo "target: lint < 1000 ms at 10000 rules (check: load and tests; lint: load and lint)"
