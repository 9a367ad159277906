#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# 'shuttlectl policy reach' on a 10,000-rule policy, beside 'policy check'
# on the same file: wall time of the whole command (load included), best of
# 5.  The policy mixes every kind over 2,500 containers (ipc 55%, invoke
# 15%, transfer 10%, depend 10%, signal 5%, deny 5%, some globs) plus two
# rules from '*' to '*' that every container is on.  Target: reach in
# under a second.  Prints a table; does not fail on the target.
# 'make bench' sets SHUTTLECTL; BENCH_REACH_RULES changes the size.
ctl=${SHUTTLECTL:-${top_builddir:-.}/shuttlectl}
rules=${BENCH_REACH_RULES:-10000}
if [ ! -x "$ctl" ]; then
        echo "policy-reach.sh: $ctl not found (build it, or set SHUTTLECTL)" >&2
        exit 1
fi
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
policy=$dir/policy.yaml

awk -v n="$rules" 'BEGIN {
        seed = 12345; nodes = int(n / 4) + 1
        print "version: 1\ndefault: deny\naudit: deny\nrules:"
        print "- {id: no-proc, from: \"*\", to: \"*\", deny: ipc, endpoint: \"proc-*\"}"
        print "- {id: health, from: \"*\", to: \"*\", allow: ipc, endpoint: health}"
        for (i = 0; i < n; i++) {
                seed = (seed * 1103515245 + 12345) % 2147483648; a = seed % nodes
                seed = (seed * 1103515245 + 12345) % 2147483648; b = seed % nodes
                k = i % 20
                if (k < 9)       printf "- {id: r%d, from: n%d, to: n%d, allow: ipc, endpoint: e%d}\n", i, a, b, i % 16
                else if (k < 10) printf "- {id: r%d, from: \"n%d*\", to: n%d, allow: ipc, endpoint: \"e*\"}\n", i, a, b
                else if (k < 11) printf "- {id: r%d, from: n%d, to: \"grp/*\", allow: ipc, endpoint: e%d}\n", i, a, i % 16
                else if (k < 14) printf "- {id: r%d, from: n%d, to: n%d, allow: invoke, app: /usr/bin/t%d}\n", i, a, b, i % 32
                else if (k < 16) printf "- {id: r%d, from: n%d, to: n%d, allow: transfer, path: \"/srv/x%d/**\", mode: %s}\n", i, a, b, i % 8, (i % 3 ? "ro" : "rw")
                else if (k < 18) printf "- {id: r%d, from: n%d, to: n%d, allow: depend, path: /opt/t%d}\n", i, a, b, i % 8
                else if (k < 19) printf "- {id: r%d, from: n%d, to: n%d, allow: signal, signals: [TERM]}\n", i, a, b
                else             printf "- {id: r%d, from: n%d, to: n%d, deny: [ipc, invoke]}\n", i, a, b
        }
}' >"$policy" || exit 1

# Milliseconds of the best of 5 runs of "$@".
best_ms() {
        best=
        for _ in 1 2 3 4 5; do
                t0=$(date +%s%N)
                "$@" >/dev/null 2>&1
                rc=$?
                t1=$(date +%s%N)
                if [ "$rc" -ne 0 ]; then
                        echo "policy-reach.sh: '$*' failed ($rc)" >&2
                        exit 1
                fi
                ms=$(( (t1 - t0) / 1000000 ))
                if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
        done
        echo "$best"
}

printf '%s rules, %s bytes\n\n' "$rules" "$(wc -c <"$policy")"
printf '%-58s %10s\n' "command" "ms (best of 5)"
for args in "check" \
            "reach --from n1" \
            "reach --from n1 --max-hops 2" \
            "reach --from n1 --to n2" \
            "reach --from n1 --to n2 --hops invoke,transfer,depend" \
            "reach --from n1 --to n2 --max-hops 6 --max-paths 1000" ; do
        # shellcheck disable=SC2086 # the words are options
        ms=$(best_ms "$ctl" policy $args "$policy") || exit 1
        printf '%-58s %10s\n' "policy $args" "$ms"
done
printf '\ntarget: policy reach < 1000 ms on 10000 rules\n'
