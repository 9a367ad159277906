#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# TAP: shuttlectl policy reach on tests/policy/reach/mail.yaml, whose paths
# are worked out by hand below; the example in shuttle-policy(5) is what
# the command prints; --json, --hops, --group, --max-hops, --max-paths;
# usage errors exit 2 and an invalid policy 1.
set -u
: "${SHUTTLECTL:?}" "${top_srcdir:?}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-reach.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; failed=1; }
diag() { sed 's/^/# /' "$@"; }
# same NAME FILE: FILE's content is $tmp/want's.
same() {
        if cmp -s "$tmp/want" "$2"; then ok "$1"; else
                not_ok "$1"; diff -u "$tmp/want" "$2" | diag; fi
}

cp "$top_srcdir/tests/policy/reach/mail.yaml" "$tmp/policy.yaml"
cd "$tmp" || exit 99

# By hand: mail invokes pdfview in viewer (line 12); viewer may use db's kv
# (line 20); db transfers its dumps to backup (line 25); db answers web,
# which asks it (line 6); every container but mail may write the logger's
# FIFO (line 34) and nothing comes back from it.
"$SHUTTLECTL" policy reach policy.yaml --from mail >out 2>&1
cat >want <<'EOF'
mail reaches 5 of 5 other containers (a shortest path to each)

mail -> viewer  (1 hop)
  mail -> viewer  invoke: mail-opens-pdf (policy.yaml:12)

mail -> viewer -> db  (2 hops)
  mail -> viewer  invoke: mail-opens-pdf (policy.yaml:12)
  viewer -> db    ipc: viewer-kv (policy.yaml:20)

mail -> viewer -> logger  (2 hops)
  mail -> viewer    invoke: mail-opens-pdf (policy.yaml:12)
  viewer -> logger  ipc: apps-write-logs (policy.yaml:34)

mail -> viewer -> db -> backup  (3 hops)
  mail -> viewer  invoke: mail-opens-pdf (policy.yaml:12)
  viewer -> db    ipc: viewer-kv (policy.yaml:20)
  db -> backup    transfer: dump (policy.yaml:25)

mail -> viewer -> db -> web  (3 hops)
  mail -> viewer  invoke: mail-opens-pdf (policy.yaml:12)
  viewer -> db    ipc: viewer-kv (policy.yaml:20)
  db -> web       ipc-reply: web-uses-kv (policy.yaml:6)
EOF
same "--from mail: the five containers mail reaches, a shortest path to each" out

# The example of shuttle-policy(5), EXAMPLES, as the man page prints it.
sed -n '/^\$ shuttlectl policy reach policy.yaml \\-\\-from mail \\-\\-to backup$/,/^\$ /p' \
        "$top_srcdir/man/shuttle-policy.5" | sed '1d;$d; s/\\-/-/g' >want
"$SHUTTLECTL" policy reach policy.yaml --from mail --to backup >out 2>&1
if [ -s want ]; then same "shuttle-policy(5)'s example: mail to backup" out; else
        not_ok "shuttle-policy(5) has the example of policy reach"; fi

"$SHUTTLECTL" policy reach policy.yaml --from mail --hops invoke,transfer >out 2>&1
cat >want <<'EOF'
mail reaches 1 of 5 other containers (a shortest path to each)

mail -> viewer  (1 hop)
  mail -> viewer  invoke: mail-opens-pdf (policy.yaml:12)
EOF
same "--hops invoke,transfer: only the viewer" out

# Backwards: the logger and backup affect nobody but the logger; db
# reaches mail through its answers to viewer and the app's output.
"$SHUTTLECTL" policy reach policy.yaml --from backup --to mail >out 2>&1
printf '0 paths from backup to mail in at most 4 hops\n' >want
same "backup reaches no path to mail" out
"$SHUTTLECTL" policy reach policy.yaml --from db --to mail --json >out 2>&1
if python3 - out <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
steps = [(s["from"], s["to"], [(v["hop"], v["rule"], v["file"], v["line"]) for v in s["via"]])
         for p in r["paths"] for s in p["steps"]]
assert r["from"] == "db" and r["to"] == "mail" and r["max_hops"] == 4 and r["containers"] == 6, r
assert r["truncated"] is False and len(r["paths"]) == 1 and r["paths"][0]["hops"] == 2, r
assert steps == [("db", "viewer", [("ipc-reply", "viewer-kv", "policy.yaml", 20)]),
                 ("viewer", "mail", [("invoke-reply", "mail-opens-pdf", "policy.yaml", 12)])], steps
EOF
then ok "--json: db reaches mail by viewer's question and the app's output"; else
        not_ok "--json: db reaches mail by viewer's question and the app's output"; diag out; fi

# Bounds: one hop is too few; at most one path of several.
"$SHUTTLECTL" policy reach policy.yaml --from mail --to db --max-hops 1 >out 2>&1
printf '0 paths from mail to db in at most 1 hop\n' >want
same "--max-hops 1: mail does not reach db" out
# A diamond: a signals b and c, which signal d; a may not signal d.
cat >diamond.yaml <<'EOF'
version: 1
rules:
  - { from: a, to: b, allow: signal }
  - { from: a, to: c, allow: signal }
  - { from: b, to: d, allow: signal }
  - { from: c, to: d, allow: signal }
EOF
"$SHUTTLECTL" policy reach diamond.yaml --from a --to d >out 2>&1
if head -n 1 out | grep -qx '2 paths from a to d in at most 4 hops' && grep -qx 'a -> b -> d  (2 hops)' out &&
   grep -qx 'a -> c -> d  (2 hops)' out; then ok "a diamond: two paths"; else not_ok "a diamond: two paths"; diag out; fi
"$SHUTTLECTL" policy reach diamond.yaml --from a --to d --max-paths 1 >out 2>&1
if head -n 1 out | grep -qx '1 path from a to d in at most 4 hops (more not shown: raise --max-paths or lower --max-hops)' &&
   grep -qx 'a -> b -> d  (2 hops)' out; then
        ok "--max-paths 1: the first path, and more not shown"; else not_ok "--max-paths 1"; diag out; fi

# An app group's containers: the glob "*" of apps-write-logs stands for
# each of them.
cat >group.yaml <<'EOF'
group: shop
policy:
  version: 1
  rules: []
containers:
  web: { command: ["true"] }
  cart: { command: ["true"] }
EOF
"$SHUTTLECTL" policy reach policy.yaml --from logger --to shop/cart --group group.yaml >out 2>&1
printf '0 paths from logger to shop/cart in at most 4 hops\n' >want
same "--group: nothing comes back from the logger's FIFO" out
"$SHUTTLECTL" policy reach policy.yaml --from shop/cart --group group.yaml >out 2>&1
if head -n 1 out | grep -qx 'shop/cart reaches 1 of 7 other containers (a shortest path to each)' &&
   grep -qx '  shop/cart -> logger  ipc: apps-write-logs (policy.yaml:34)' out; then
        ok "--group: shop/cart may write the logger's FIFO, and is one of 8 containers"; else
        not_ok "--group: shop/cart may write the logger's FIFO"; diag out; fi

# Errors.
usage() {
        what=$1
        shift
        "$SHUTTLECTL" policy reach "$@" >out 2>&1
        rc=$?
        if [ "$rc" -eq 2 ] && grep -q -e "$what" out; then ok "usage error ($rc): $*"; else
                not_ok "usage error: $* (exit $rc)"; diag out; fi
}
usage "needs --from" policy.yaml
usage "no FILE" --from mail
usage "unknown hop 'ipc-rw'" policy.yaml --from mail --hops ipc,ipc-rw
usage "'web\*' is not a container name" policy.yaml --from 'web*'
usage "--max-paths needs --to" policy.yaml --from mail --max-paths 3
usage "--max-hops must be a number" policy.yaml --from mail --max-hops 0
printf 'version: 1\nrules:\n  - { from: a, to: b, allow: ipc, endpiont: x }\n' >bad.yaml
"$SHUTTLECTL" policy reach bad.yaml --from a >out 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -q '^bad.yaml:3:35: ' out; then ok "an invalid policy: exit 1, file:line:col"; else
        not_ok "an invalid policy: exit 1 (got $rc)"; diag out; fi

echo "1..$n"
exit $failed
