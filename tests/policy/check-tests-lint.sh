#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# TAP: 'shuttlectl policy test' runs a policy's tests (TAP, --json, exit
# status), 'policy check' runs them too, 'policy explain' does not; 'policy
# lint' reports, on small policies and group files worked out by hand,
# exactly the shadowed rules, the patterns naming no container of a group,
# and (with an audit log written here) the rules unused since a time.
set -u
: "${SHUTTLECTL:?}"

T=$(mktemp -d "${TMPDIR:-/tmp}/check-tests-lint.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; failed=1; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
# check_eq WHAT WANT GOT
check_eq() {
        if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "want: $2" "got:  $3"; fi
}
# run CMD...: stdout then stderr into $out, status into $rc
run() {
        out=$("$@" 2>"$T/stderr"); rc=$?
        if [ -s "$T/stderr" ]; then out=${out:+$out
}$(cat "$T/stderr"); fi
}

# ---- policy test -----------------------------------------------------------

cat >"$T/p.yaml" <<'YAML'
version: 1
default: deny
rules:
  - {id: web-kv, from: web, to: db, allow: ipc, endpoint: kv}
  - {id: no-admin, from: "*", to: db, deny: ipc, endpoint: "admin*"}
  - {id: web-admin, from: web, to: db, allow: ipc, endpoint: admin}
tests:
  - {name: web uses kv, from: web, to: db, kind: ipc, endpoint: kv, expect: allow, rule: web-kv}
  - {from: web, to: db, kind: ipc, endpoint: admin, expect: deny, rule: no-admin}
YAML
run "$SHUTTLECTL" policy test "$T/p.yaml"
check_eq "policy test: passing cases, TAP with each case's position, exit 0" \
"1..2
ok 1 - $T/p.yaml:8:5: web uses kv: web -> db ipc endpoint=kv: allow by rule 'web-kv' ($T/p.yaml:4)
ok 2 - $T/p.yaml:9:5: web -> db ipc endpoint=admin: deny by rule 'no-admin' ($T/p.yaml:5) rc=0" "$out rc=$rc"

run "$SHUTTLECTL" policy check "$T/p.yaml"
check_eq "policy check runs them and says so" \
        "$T/p.yaml: valid, 3 rules (ipc 3, invoke 0, transfer 0, depend 0, signal 0), default deny, audit all, 2 tests passed, 0 warnings rc=0" \
        "$out rc=$rc"

# The same tests in a file of their own, given with the policy: one policy.
cat >"$T/t.yaml" <<'YAML'
version: 1
tests:
  - {from: cron, to: db, kind: ipc, endpoint: kv, expect: deny, rule: default}
  - name: the admin allow never wins
    from: web
    to: db
    kind: ipc
    endpoint: admin
    expect: allow
YAML
run "$SHUTTLECTL" policy test "$T/p.yaml" "$T/t.yaml"
check_eq "policy test: a failing case is 'not ok' with what it got, exit 1" \
"1..4
ok 1 - $T/p.yaml:8:5: web uses kv: web -> db ipc endpoint=kv: allow by rule 'web-kv' ($T/p.yaml:4)
ok 2 - $T/p.yaml:9:5: web -> db ipc endpoint=admin: deny by rule 'no-admin' ($T/p.yaml:5)
ok 3 - $T/t.yaml:3:5: cron -> db ipc endpoint=kv: deny by the default (no rule matched)
not ok 4 - $T/t.yaml:4:5: the admin allow never wins: web -> db ipc endpoint=admin: expected allow, got deny by rule 'no-admin' ($T/p.yaml:5)
# look into it: shuttlectl policy explain $T/p.yaml $T/t.yaml --from web --to db --kind ipc --endpoint admin
# 1 of 4 tests failed rc=1" "$out rc=$rc"
hint=$(echo "$out" | sed -n 's/^# look into it: shuttlectl //p')
run eval "\"\$SHUTTLECTL\" $hint"
case "$out" in
"deny"*"rule: no-admin ($T/p.yaml:5)"*) ok "... and the explain command it suggests shows that decision" ;;
*) not_ok "the suggested explain command"; diag "$hint" "$out" ;;
esac
printf 'version: 1\ntests:\n  - {name: "a # b", from: a, to: b, kind: invoke, args: ["x y", "it'"'"'s"], expect: allow}\n' >"$T/q.yaml"
run "$SHUTTLECTL" policy test "$T/q.yaml"
check_eq "policy test: '#' escaped for TAP, arguments quoted for the shell" \
"1..1
not ok 1 - $T/q.yaml:3:5: a \\# b: a -> b invoke x y it's: expected allow, got deny by the default (no rule matched)
# look into it: shuttlectl policy explain $T/q.yaml --from a --to b --kind invoke --arg 'x y' --arg 'it'\\''s'
# 1 of 1 test failed rc=1" "$out rc=$rc"

run "$SHUTTLECTL" policy test --json "$T/p.yaml" "$T/t.yaml"
case "$out" in
*'"line": 4,'*'"name": "the admin allow never wins",'*'"expect": "allow",'*'"decision": "deny",'*'"rule": "no-admin",'*'"passed": false'*) ok "policy test --json: each case with its request, decision and verdict (exit $rc)" ;;
*) not_ok "policy test --json"; diag "$out" ;;
esac
[ $rc -eq 1 ] && ok "... exit 1 with a failure" || not_ok "... exit 1 with a failure (got $rc)"

# A tests file can include the policy it tests: then check runs them.
printf 'version: 1\ninclude: p.yaml\ntests:\n  - {from: web, to: db, kind: ipc, endpoint: admin, expect: allow}\n' \
        >"$T/inc.yaml"
run "$SHUTTLECTL" policy check "$T/inc.yaml"
check_eq "policy check: a failing test is an error at its position, exit 1" \
"$T/inc.yaml:4:5: test failed: web -> db ipc endpoint=admin: expected allow, got deny by rule 'no-admin' ($T/p.yaml:5)
$T/inc.yaml: invalid policy (1 error) rc=1" "$out rc=$rc"
run "$SHUTTLECTL" policy explain "$T/inc.yaml" --from web --to db --kind ipc --endpoint admin
case "$out $rc" in
*"deny"*"no-admin"*" 0") ok "policy explain still works on a policy whose tests fail" ;;
*) not_ok "policy explain on a policy whose tests fail"; diag "$out rc=$rc" ;;
esac

run "$SHUTTLECTL" policy test "$T/p.yaml" "$T/inc.yaml"
[ $rc -eq 1 ] && ok "policy test: a file already loaded (by include) is read once" ||
        not_ok "policy test: include of a file given too (rc=$rc)"
printf 'version: 1\nrules: []\n' >"$T/none.yaml"
run "$SHUTTLECTL" policy test "$T/none.yaml"
check_eq "policy test without any test: exit 1, says so" \
        "shuttlectl: policy test: the files given have no 'tests' (see TESTS in shuttle-policy(5)) rc=1" "$out rc=$rc"
printf 'version: 1\ntests:\n  - {from: web, to: db, kind: ipc, app: /bin/sh, expect: allow}\n' >"$T/bad.yaml"
run "$SHUTTLECTL" policy test "$T/bad.yaml"
check_eq "policy test: a malformed case is an error at its key" \
        "$T/bad.yaml:3:41: 'app' does not apply to ipc requests rc=1" "$out rc=$rc"
run "$SHUTTLECTL" policy test
[ $rc -eq 2 ] && ok "policy test without FILE: exit 2" || not_ok "policy test without FILE: exit $rc"

# ---- policy lint -----------------------------------------------------------

cat >"$T/group.yaml" <<'YAML'
group: webapp
containers:
  db: { command: ["true"] }
  web: { command: ["true"] }
YAML
cat >"$T/l.yaml" <<'YAML'
version: 1
default: deny
rules:
  - {id: web-kv, from: web, to: db, allow: ipc, endpoint: kv}
  - {id: web-kv-again, from: web, to: db, allow: ipc, endpoint: kv}
  - {id: web-db, from: web, to: db, allow: ipc}
  - {id: kv-unix, from: web, to: db, allow: ipc, endpoint: kv, type: unix}
  - {id: no-admin, from: "*", to: db, deny: ipc, endpoint: "admin*"}
  - {id: web-admin, from: web, to: db, allow: ipc, endpoint: admin-ui}
  - {id: ghost, from: webapp/web, to: "webapp/cache*", allow: ipc}
  - {id: elsewhere, from: mail/x, to: webapp/db, allow: ipc}
YAML
# By hand: web-kv-again is web-kv again, later (never decides); web-db is
# broader than web-kv but decides the other endpoints; kv-unix is more
# specific than web-kv (its type) and wins for unix; web-admin is covered by
# the deny; webapp has no cache*; group mail is not known.
run "$SHUTTLECTL" policy lint --group "$T/group.yaml" "$T/l.yaml"
check_eq "policy lint: the findings worked out by hand, exit 1" \
"$T/l.yaml:5:5: shadowed: allow rule 'web-kv-again' never decides ipc: allow rule 'web-kv' ($T/l.yaml:4:5) matches every request it matches and is as specific and comes first
$T/l.yaml:9:5: shadowed: allow rule 'web-admin' never decides ipc: deny rule 'no-admin' ($T/l.yaml:8:5) matches every request it matches and a deny wins over any allow
$T/l.yaml:10:5: no-container: rule 'ghost': to 'webapp/cache*' matches no container of group webapp (its containers: db, web)
policy lint: 3 findings rc=1" "$out rc=$rc"

# The allow that t.yaml's failing test showed never wins:
run "$SHUTTLECTL" policy lint "$T/p.yaml"
check_eq "policy lint: the allow a deny covers, in the tested policy" \
"$T/p.yaml:6:5: shadowed: allow rule 'web-admin' never decides ipc: deny rule 'no-admin' ($T/p.yaml:5:5) matches every request it matches and a deny wins over any allow
policy lint: 1 finding rc=1" "$out rc=$rc"
run "$SHUTTLECTL" policy lint "$T/inc.yaml"
case "$out $rc" in
*"p.yaml:6:5: shadowed: allow rule 'web-admin'"*"1 finding 1") ok "... a policy whose tests fail is still linted (tests are not run)" ;;
*) not_ok "lint of a policy whose tests fail"; diag "$out rc=$rc" ;;
esac
printf 'version: 1\nrules:\n  - {id: a, from: web, to: db, allow: ipc}\n' >"$T/clean.yaml"
run "$SHUTTLECTL" policy lint --group "$T/group.yaml" "$T/clean.yaml"
check_eq "policy lint: a clean policy, exit 0" "policy lint: 0 findings rc=0" "$out rc=$rc"

run "$SHUTTLECTL" policy lint --json --group "$T/group.yaml" "$T/l.yaml"
case "$out" in
*'"line": 9,'*'"column": 5,'*'"kind": "shadowed",'*'"rule": "web-admin",'*'"by": {'*'"rule": "no-admin",'*'"line": 8,'*) ok "policy lint --json: position, kind, rule and the rule that wins" ;;
*) not_ok "policy lint --json"; diag "$out" ;;
esac

# An audit log: web-kv and kv-unix decided something yesterday; only web-kv
# in the last hour.  no-admin's denials are audited (audit: all).
now=$(date -u +%s)
ts() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.000000Z; }
{
        printf '{"ts":"%s","seq":1,"from":"web","to":"db","kind":"ipc","decision":"allow","rule":"kv-unix"}\n' "$(ts $((now - 86400)))"
        printf '{"ts":"%s","seq":2,"from":"web","to":"db","kind":"ipc","decision":"allow","rule":"web-kv"}\n' "$(ts $((now - 86400)))"
        printf 'not json\n'
        printf '{"ts":"%s","seq":3,"from":"web","to":"db","kind":"ipc","decision":"allow","rule":"web-kv"}\n' "$(ts $((now - 60)))"
        printf '{"ts":"%s","seq":4,"from":"web","to":"db","kind":"ipc","decision":"deny","rule":"default"}\n' "$(ts $((now - 60)))"
} >"$T/audit.jsonl"
run "$SHUTTLECTL" policy lint --audit "$T/audit.jsonl" --since 1h "$T/l.yaml"
check_eq "policy lint --audit --since: the rules unused in the window (shadowed ones said as such)" \
"$T/l.yaml:5:5: shadowed: allow rule 'web-kv-again' never decides ipc: allow rule 'web-kv' ($T/l.yaml:4:5) matches every request it matches and is as specific and comes first
$T/l.yaml:6:5: unused: allow rule 'web-db' decided nothing in the audit records read
$T/l.yaml:7:5: unused: allow rule 'kv-unix' decided nothing in the audit records read
$T/l.yaml:8:5: unused: deny rule 'no-admin' decided nothing in the audit records read
$T/l.yaml:9:5: shadowed: allow rule 'web-admin' never decides ipc: deny rule 'no-admin' ($T/l.yaml:8:5) matches every request it matches and a deny wins over any allow
$T/l.yaml:10:5: unused: allow rule 'ghost' decided nothing in the audit records read
$T/l.yaml:11:5: unused: allow rule 'elsewhere' decided nothing in the audit records read
policy lint: 7 findings rc=1" "$out rc=$rc"
run "$SHUTTLECTL" policy lint --audit "$T/audit.jsonl" "$T/l.yaml"
case "$out" in
*"rule 'kv-unix' decided nothing"*) not_ok "policy lint --audit without --since reads the whole log"; diag "$out" ;;
*"rule 'web-db' decided nothing"*) ok "policy lint --audit without --since reads the whole log" ;;
*) not_ok "policy lint --audit without --since"; diag "$out" ;;
esac
sed 's/audit: all/audit: deny/; s/^default: deny/default: deny\naudit: deny/' "$T/l.yaml" >"$T/l-deny.yaml"
run "$SHUTTLECTL" policy lint --audit "$T/audit.jsonl" --since 1h "$T/l-deny.yaml"
case "$out" in
*"unused: allow rule"*) not_ok "with audit: deny, allows are not judged for use"; diag "$out" ;;
*"unused: deny rule 'no-admin'"*"5 rules not judged for use"*) ok "with audit: deny, allows are not judged for use, and lint says so" ;;
*) not_ok "with audit: deny, allows are not judged"; diag "$out" ;;
esac

# A group's own policy: every 'from' must be one of its containers.
cat >"$T/own.yaml" <<'YAML'
group: webapp
policy:
  version: 1
  rules:
    - {id: web-db, from: web, to: db, allow: ipc}
    - {id: cron-db, from: cron, to: db, allow: ipc}
containers:
  db: { command: ["true"] }
  web: { command: ["true"] }
YAML
run "$SHUTTLECTL" policy lint --group "$T/own.yaml"
check_eq "policy lint --group alone: the group's own policy, its 'from's checked" \
"$T/own.yaml:6:7: no-container: rule 'cron-db': from 'cron' matches no container of group webapp, whose policy this is (its containers: db, web)
policy lint: 1 finding rc=1" "$out rc=$rc"

run "$SHUTTLECTL" policy lint --since 1h "$T/l.yaml"
[ $rc -eq 2 ] && ok "policy lint --since without --audit: exit 2" || not_ok "--since without --audit: exit $rc"
run "$SHUTTLECTL" policy lint
[ $rc -eq 2 ] && ok "policy lint without FILE or --group: exit 2" || not_ok "lint without FILE: exit $rc"
run "$SHUTTLECTL" policy lint "$T/bad.yaml"
check_eq "policy lint on an invalid policy: its errors, exit 3" \
        "$T/bad.yaml:3:41: 'app' does not apply to ipc requests rc=3" "$out rc=$rc"
run "$SHUTTLECTL" policy lint --audit "$T/missing.jsonl" "$T/l.yaml"
case "$out $rc" in
*"missing.jsonl"*" 3") ok "policy lint with a log it cannot read: exit 3, names it" ;;
*) not_ok "policy lint with a missing log"; diag "$out rc=$rc" ;;
esac

for verb in test lint; do
        run "$SHUTTLECTL" policy $verb --help
        case "$out $rc" in
        "Usage: shuttlectl policy $verb"*" 0") ok "policy $verb --help" ;;
        *) not_ok "policy $verb --help"; diag "$out" ;;
        esac
done

echo "1..$n"
exit $failed
