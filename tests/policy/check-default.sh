#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# TAP: the policy installed as /etc/shuttle/policy.yaml (policies/
# default.yaml) loads, has no rule and denies every kind of request; each of
# its commented examples is a valid rule once uncommented (the lines
# starting "#  - " or "#    "), and allows what its comment says.
set -u
: "${SHUTTLECTL:?}" "${top_srcdir:?}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-default.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
shipped=$top_srcdir/policies/default.yaml
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; failed=1; }
diag() { sed 's/^/# /' "$@"; }

out=$("$SHUTTLECTL" policy check "$shipped" 2>&1)
case $out in
*": valid, 0 rules "*", default deny, "*) ok "the shipped policy is valid, without rules, default deny" ;;
*) not_ok "the shipped policy is valid, without rules, default deny"; echo "$out" | diag ;;
esac

sed -E 's/^#(  - |    )/\1/' "$shipped" >"$tmp/examples.yaml"
out=$("$SHUTTLECTL" policy check "$tmp/examples.yaml" 2>&1)
case $out in
*": valid, 14 rules (ipc 4, invoke 1, transfer 5, depend 2, signal 2), default deny, "*)
        ok "its 14 examples, uncommented, are a valid policy" ;;
*) not_ok "its 14 examples, uncommented, are a valid policy"; echo "$out" | diag ;;
esac

# decide FILE WANT RULE ARGS...: explain's decision and rule (a function
# of sh: its variables are the script's, hence the d_ names).
decide() {
        d_file=$1 d_want=$2 d_rule=$3
        shift 3
        "$SHUTTLECTL" policy explain "$d_file" --now 2027-01-01T00:00:00Z "$@" >"$tmp/out" 2>&1
        if [ "$(sed -n 1p "$tmp/out")" = "$d_want" ] && grep -q "^rule: $d_rule\( \|$\)" "$tmp/out"; then
                ok "$(basename "$d_file"): $d_want by $d_rule: $*"
        else
                not_ok "$(basename "$d_file"): $d_want by $d_rule: $*"
                diag "$tmp/out"
        fi
}
while read -r rule args; do
        # shellcheck disable=SC2086
        decide "$shipped" deny default $args
        # shellcheck disable=SC2086
        decide "$tmp/examples.yaml" allow "$rule" $args
done <<'REQUESTS'
web-uses-kv --from web --to db --kind ipc --endpoint kv --type unix
web-reads-frames --from web --to db --kind ipc --endpoint frames --type shm
web-asks-admin --from web --to db --kind ipc --endpoint admin --type unix
mail-opens-pdf --from mail --to viewer --kind invoke --app /usr/bin/pdfview --arg /tmp/bill.pdf --env LANG
build-hands-artifacts --from build --to publish --kind transfer --path /srv/outbox/app.tar
web-finds-db --from web --to db --kind transfer --host
build-uses-toolchain --from build --to toolchain --kind depend --path /opt/toolchain
ui-controls-player --from ui --to media --kind signal --app /usr/bin/mpv --signal TERM
REQUESTS
decide "$tmp/examples.yaml" deny nobody-kills-db --from ui --to db --kind signal --signal KILL
"$SHUTTLECTL" policy explain "$tmp/examples.yaml" --from web --to db --kind ipc --endpoint admin >"$tmp/out" 2>&1
if grep -q "^ask: an operator answers first (shuttlectl ask), denied after 120000 ms$" "$tmp/out"; then
        ok "web-asks-admin asks an operator, for 2 minutes"
else
        not_ok "web-asks-admin asks an operator, for 2 minutes"; diag "$tmp/out"
fi

echo "1..$n"
exit $failed
