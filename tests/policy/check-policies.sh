#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# TAP: 'shuttlectl policy check' accepts every shipped policy (policies/,
# and policy files under examples/) and refuses every malformed one
# (tests/policy/bad/, plus huge, binary and deeply nested files generated
# here) with exit 1 and a FILE:LINE:COL: message.  A file in bad/ whose
# first line is "# expect: LINE:COL: TEXT" must produce an error at exactly
# that position whose message contains TEXT.
set -u
: "${SHUTTLECTL:?}" "${top_srcdir:?}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-policies.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; failed=1; }
diag() { sed 's/^/# /' "$@"; }

check_good() {
        if "$SHUTTLECTL" policy check "$1" >"$tmp/out" 2>"$tmp/err"; then
                if grep -q ": valid, " "$tmp/out"; then
                        ok "valid: $1"
                else
                        not_ok "valid: $1 (no summary)"
                        diag "$tmp/out"
                fi
        else
                not_ok "valid: $1 (exit $?)"
                diag "$tmp/err"
        fi
}

# check_bad FILE [LINE:COL: TEXT]: exit 1, a position on every error line,
# and (if given) an error at LINE:COL containing TEXT.
check_bad() {
        f=$1
        expect=${2:-}
        "$SHUTTLECTL" policy check "$f" >"$tmp/out" 2>"$tmp/err"
        rc=$?
        if [ "$rc" -ne 1 ]; then
                not_ok "refused: $f (exit $rc, want 1)"
                diag "$tmp/err"
                return
        fi
        # Every diagnostic line names the file with a 1-based position.
        if ! grep -q -F "$f:" "$tmp/err" ||
           grep -v -F "$f: invalid policy" "$tmp/err" | grep -v -q -E "^[^ ]+:[1-9][0-9]*:[1-9][0-9]*: "; then
                not_ok "refused: $f (message without file:line:col)"
                diag "$tmp/err"
                return
        fi
        pos=${expect%%: *}
        text=${expect#*: }
        if [ -n "$expect" ] && ! grep -F -- "$f:$pos: " "$tmp/err" | grep -q -F -- "$text"; then
                not_ok "refused: $f (missing '$expect')"
                diag "$tmp/err"
                return
        fi
        if [ -s "$tmp/out" ]; then
                not_ok "refused: $f (printed a summary)"
                return
        fi
        ok "refused: $f"
}

# --- shipped policies -------------------------------------------------------
for f in "$top_srcdir"/policies/*.yaml; do
        [ -e "$f" ] || continue
        check_good "$f"
done
# examples/ holds app groups and policies; a policy has a top-level
# 'rules:' or 'default:' and no 'group:'.
if [ -d "$top_srcdir/examples" ]; then
        find "$top_srcdir/examples" -name '*.yaml' -type f | sort >"$tmp/examples"
        while read -r f; do
                if grep -q -E '^(rules|default):' "$f" && ! grep -q -E '^group:' "$f"; then
                        check_good "$f"
                fi
        done <"$tmp/examples"
fi

# --- the malformed corpus ---------------------------------------------------
for f in "$top_srcdir"/tests/policy/bad/*.yaml; do
        expect=$(sed -n '1s/^# expect: //p' "$f")
        check_bad "$f" "$expect"
done

# --- generated: too big, too long, binary, too deep -------------------------
big="$tmp/too-big.yaml"
{ echo "version: 1"; head -c 1100000 /dev/zero | tr '\0' '#'; echo; } >"$big"
check_bad "$big" "1:1: file too large"

long="$tmp/long-string.yaml"
{ printf 'version: 1\nrules:\n  - id: "'; head -c 1000000 /dev/zero | tr '\0' 'a'; printf '"\n'; } >"$long"
check_bad "$long" "3:9: string too long (1000000 bytes, at most 4096)"

garbage="$tmp/garbage.yaml"
awk 'BEGIN { srand(42); for (i = 0; i < 65536; i++) printf "%c", int(rand() * 256) }' </dev/null >"$garbage"
check_bad "$garbage"

nul="$tmp/nul.yaml"
printf 'version: 1\nrules: []\0\n' >"$nul"
check_bad "$nul" "2:10: invalid input: control characters are not allowed (byte 0x00)"

# Reading stops at the first level past the cap (an alias after the
# nesting is never reached): the nesting costs nothing past the cap.
deep="$tmp/deep.yaml"
{ printf 'version: 1\nrules: '; head -c 400000 /dev/zero | tr '\0' '['; head -c 400000 /dev/zero | tr '\0' ']'
  echo; echo 'x: *a'; } >"$deep"
check_bad "$deep" "2:15: nesting deeper than 8 levels"
if grep -q "aliases are not allowed" "$tmp/err"; then
        not_ok "deep nesting: reading stopped at the cap"
        diag "$tmp/err"
else
        ok "deep nesting: reading stopped at the cap"
fi

deepmap="$tmp/deep-map.yaml"
{ printf 'version: 1\nrules: '; i=0; while [ $i -lt 2000 ]; do printf '{a: '; i=$((i + 1)); done
  i=0; while [ $i -lt 2000 ]; do printf '}'; i=$((i + 1)); done; echo; } >"$deepmap"
check_bad "$deepmap" "2:36: nesting deeper than 8 levels"

# Many errors: all reported (up to the cap), still one clean refusal.
many="$tmp/many.yaml"
{ echo "version: 1"; i=0; while [ $i -lt 500 ]; do echo "key$i: x"; i=$((i + 1)); done; } >"$many"
check_bad "$many" "2:1: unknown key 'key0'"
count=$(grep -c "unknown key" "$tmp/err")
if [ "$count" -eq 200 ] && grep -q "too many errors, giving up" "$tmp/err"; then
        ok "error cap: 200 errors then 'too many errors'"
else
        not_ok "error cap: got $count errors"
fi

# A directory is loaded as policy.d; a FIFO is refused without hanging.
mkdir "$tmp/policy.d"
printf 'version: 1\nrules:\n  - {from: a, to: b, allow: ipc}\n' >"$tmp/policy.d/10-a.yaml"
printf 'version: 1\ninclude: policy.d\n' >"$tmp/main.yaml"
check_good "$tmp/main.yaml"
if mkfifo "$tmp/fifo.yaml" 2>/dev/null; then
        "$SHUTTLECTL" policy check "$tmp/fifo.yaml" >/dev/null 2>"$tmp/err"
        rc=$?
        if [ $rc -eq 1 ] && grep -q "not a regular file" "$tmp/err"; then
                ok "FIFO refused"
        else
                not_ok "FIFO refused (exit $rc)"
        fi
fi

# Usage errors exit 2.
"$SHUTTLECTL" policy check >/dev/null 2>&1
rc=$?
if [ $rc -eq 2 ]; then ok "check without FILE: exit 2"; else not_ok "check without FILE: exit $rc"; fi
"$SHUTTLECTL" policy explain "$top_srcdir/policies/webapp.yaml" --from a --to b --kind chat >/dev/null 2>&1
rc=$?
if [ $rc -eq 2 ]; then ok "explain --kind chat: exit 2"; else not_ok "explain --kind chat: exit $rc"; fi

# explain and show, end to end on the shipped policies.
web="$top_srcdir/policies/webapp.yaml"
if "$SHUTTLECTL" policy explain "$web" --from webapp/web --to webapp/db --kind ipc --endpoint kv \
        --type unix >"$tmp/out" 2>"$tmp/err" &&
   [ "$(sed -n 1p "$tmp/out")" = "allow" ] &&
   grep -q -F "rule: web-uses-kv ($web:12)" "$tmp/out" &&
   grep -q -F "limit: max_open 10" "$tmp/out"; then
        ok "explain: web may use kv"
else
        not_ok "explain: web may use kv"
        diag "$tmp/out" "$tmp/err"
fi
if "$SHUTTLECTL" policy explain "$web" --from webapp/web --to webapp/db --kind signal --signal TERM \
        --json >"$tmp/out" 2>"$tmp/err" &&
   grep -q '"decision": "deny"' "$tmp/out" && grep -q '"id": "nobody-signals-db"' "$tmp/out"; then
        ok "explain --json: nobody signals db"
else
        not_ok "explain --json: nobody signals db"
        diag "$tmp/out" "$tmp/err"
fi
if "$SHUTTLECTL" policy explain "$web" --from web --to webapp/db --kind ipc --endpoint kv --type unix >"$tmp/out" 2>&1 &&
   [ "$(sed -n 1p "$tmp/out")" = "deny" ] && grep -q "^rule: default" "$tmp/out" &&
   grep -q "near-miss allow web-uses-kv" "$tmp/out"; then
        ok "explain: ungrouped web is not webapp/web"
else
        not_ok "explain: ungrouped web is not webapp/web"
        diag "$tmp/out"
fi
# Transfer of names: --pid, --service and --host pick the kind of name.
printf '%s\n' 'version: 1' 'rules:' \
        '  - {id: pids, from: a, to: b, allow: transfer, pid: "/usr/bin/*"}' \
        '  - {id: hosts, from: a, to: b, allow: transfer, host: true}' >"$tmp/names.yaml"
if "$SHUTTLECTL" policy explain "$tmp/names.yaml" --from a --to b --kind transfer --pid /usr/bin/sleep \
        >"$tmp/out" 2>&1 && [ "$(sed -n 1p "$tmp/out")" = "allow" ] && grep -q "^rule: pids " "$tmp/out" &&
   grep -q "near-miss allow hosts .*: request is for a pid, rule is for a host" "$tmp/out" &&
   "$SHUTTLECTL" policy explain "$tmp/names.yaml" --from a --to b --kind transfer --host --json >"$tmp/out" 2>&1 &&
   grep -q '"name": "host"' "$tmp/out" && grep -q '"decision": "allow"' "$tmp/out" &&
   "$SHUTTLECTL" policy explain "$tmp/names.yaml" --from a --to b --kind transfer --path /usr/bin/sleep \
        >"$tmp/out" 2>&1 && [ "$(sed -n 1p "$tmp/out")" = "deny" ]; then
        ok "explain --pid/--host: a rule is about its kind of name only"
else
        not_ok "explain --pid/--host: a rule is about its kind of name only"
        diag "$tmp/out"
fi
"$SHUTTLECTL" policy explain "$tmp/names.yaml" --from a --to b --kind transfer --pid /x --mode rw >/dev/null 2>&1
rc1=$?
"$SHUTTLECTL" policy explain "$tmp/names.yaml" --from a --to b --kind transfer --pid /x --host >/dev/null 2>&1
rc2=$?
"$SHUTTLECTL" policy explain "$tmp/names.yaml" --from a --to b --kind signal --host >/dev/null 2>&1
rc3=$?
if [ "$rc1 $rc2 $rc3" = "2 2 2" ]; then ok "explain: --mode with --pid, two names, --host for signal: exit 2"; else
        not_ok "explain: --mode with --pid, two names, --host for signal: exit $rc1 $rc2 $rc3"; fi
# show's YAML is itself a valid policy with the same rules.
for f in "$top_srcdir"/policies/*.yaml; do
        [ -e "$f" ] || continue
        b=$(basename "$f")
        if "$SHUTTLECTL" policy show "$f" >"$tmp/show-$b" 2>"$tmp/err" &&
           "$SHUTTLECTL" policy check "$tmp/show-$b" >"$tmp/out" 2>&1 &&
           [ "$("$SHUTTLECTL" policy check "$f" | sed 's/^[^:]*: //')" = "$(sed 's/^[^:]*: //' "$tmp/out")" ]; then
                ok "show round-trips: $b"
        else
                not_ok "show round-trips: $b"
                diag "$tmp/show-$b" "$tmp/out" "$tmp/err"
        fi
done
if "$SHUTTLECTL" policy show --json "$web" >"$tmp/out" 2>&1 &&
   grep -q -F "\"source\": \"$web:12:5\"" "$tmp/out"; then
        ok "show --json names each rule's source"
else
        not_ok "show --json names each rule's source"
        diag "$tmp/out"
fi
for sub in check explain show; do
        if "$SHUTTLECTL" policy "$sub" --help >"$tmp/out" 2>&1 && grep -q "^Usage: shuttlectl policy $sub" "$tmp/out"; then
                ok "policy $sub --help"
        else
                not_ok "policy $sub --help"
        fi
done

echo "1..$n"
exit 0
