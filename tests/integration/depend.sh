#!/bin/bash
# depend: a tree that container b provides, mounted into container a at
# `at` while both run — read-only unless the rule says rw, every mount
# below it included; resolved inside b (a symlink never reaches the host);
# a deny beats the allow; taken away when b stops and when a reload stops
# granting it; in whichever order the two start; audited throughout.  A
# path glob mounts each directory it matches in b (under `at` by basename,
# or at the same path), at most 64, re-expanded on a reload.
# (a, b and c are named dpa, dpb and dpc, which no other test uses.)
. "$(dirname "$0")/lib.sh"
require_root
plan 51

mkdir -p "$T/tree/sub" "$T/tree/inner" "$T/inner" "$T/rw" "$T/hostdir"
echo tree-content >"$T/tree/hello.txt"
echo deep >"$T/tree/sub/deep.txt"
echo inner-content >"$T/inner/x.txt"
echo HOST-SECRET >"$T/hostdir/secret"
# Links that name host paths: inside b (and a) they mean b's (a's) paths.
ln -s "$T/hostdir/secret" "$T/tree/esc"
ln -s "$T/hostdir" "$T/tree/uplink"
# For the globs: directories that match, and what must not (a file, a
# link to a host directory, a link to a matching directory, a denied one).
mkdir -p "$T/tools/t1" "$T/tools/t2" "$T/tools/secret" "$T/bopt/p1" "$T/bopt/p2" "$T/bopt/q" "$T/aopt" "$T/many"
for d in t1 t2 secret; do echo $d >"$T/tools/$d/id"; done
for d in p1 p2 q; do echo $d >"$T/bopt/$d/id"; done
echo file >"$T/tools/notdir"
ln -s "$T/hostdir" "$T/tools/hostlink"
ln -s t1 "$T/tools/t1link"
for i in $(seq -w 1 66); do mkdir "$T/many/d$i"; done

soon=$(date -u -d '+8 seconds' +%Y-%m-%dT%H:%M:%SZ)
rules_common='
  - id: a-soon
    from: dpa
    to: dpb
    allow: depend
    path: /data/tree/inner
    at: /tmp/soon
    until: '"$soon"'
  - id: a-tree
    from: dpa
    to: dpb
    allow: depend
    path: /data/tree
    at: /tmp/got/tree
  - id: a-up
    from: dpa
    to: dpb
    allow: depend
    path: /data/tree/uplink
    at: /mnt
  - id: a-sub
    from: dpa
    to: dpb
    allow: depend
    path: /data/tree/sub
    at: /srv
  - id: no-sub
    from: "*"
    to: dpb
    deny: depend
    path: /data/tree/sub
  - id: a-tools
    from: dpa
    to: dpb
    allow: depend
    path: "/data/tools/*"
    at: /tmp/tools
  - id: no-secret
    from: "*"
    to: dpb
    deny: depend
    path: /data/tools/secret
  - id: a-opt
    from: dpa
    to: dpb
    allow: depend
    path: "/data/opt/p*"
  - id: a-many
    from: dpa
    to: dpb
    allow: depend
    path: "/data/many/*"
    at: /tmp/many'
rule_rw='
  - id: a-rw
    from: dpa
    to: dpb
    allow: depend
    path: /data/rw
    at: /tmp/rw
    mode: rw'
printf 'version: 1\ndefault: deny\naudit: all\nrules:%s%s\n' "$rules_common" "$rule_rw" >"$T/policy.yaml"

start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
SX=("$SHUTTLECTL" exec --state-dir "$STATE_DIR")
mount_points >"$T/mounts-before"

start_b() {
        "${SRUN[@]}" --name dpb -v "$T/tree:/data/tree" -v "$T/inner:/data/tree/inner" -v "$T/rw:/data/rw" \
                -v "$T/tools:/data/tools" -v "$T/bopt:/data/opt" -v "$T/many:/data/many" -- sh -c 'touch /tmp/started; exec sleep 600' >"$T/b.out" 2>&1 &
        b_job=$!
        # A command starts once its container's registration is done, and
        # with it every depend mount that registration made.
        wait_until "${SX[@]}" dpb -- test -e /tmp/started || diag "b did not start: $(cat "$T/b.out")"
}
start_a() {
        "${SRUN[@]}" --name dpa -v "$T/aopt:/data/opt" -- sh -c 'touch /tmp/started; exec sleep 600' >"$T/a.out" 2>&1 &
        a_job=$!
        wait_until "${SX[@]}" dpa -- test -e /tmp/started || diag "a did not start: $(cat "$T/a.out")"
}
ina() { "${SX[@]}" dpa -- sh -c "$1" 2>&1; }
inb() { "${SX[@]}" dpb -- sh -c "$1" 2>&1; }

# b first, then a: a gets the tree as it registers.
start_b
start_a
check_eq "a grant with 'until' mounts until then" "inner-content" "$(ina 'cat /tmp/soon/x.txt')"
check_eq "a sees b's /data/tree at /tmp/got/tree (mount point created)" "tree-content" "$(ina 'cat /tmp/got/tree/hello.txt')"
check_eq "... with its subdirectories" "deep" "$(ina 'cat /tmp/got/tree/sub/deep.txt')"
check_eq "... and the mounts below it in b (recursive)" "inner-content" "$(ina 'cat /tmp/got/tree/inner/x.txt')"
check_match "a cannot write it (ro)" "Read-only file system" "$(ina 'echo x >/tmp/got/tree/new')"
check_match "... nor the mount below it" "Read-only file system" "$(ina 'echo x >/tmp/got/tree/inner/new')"
check_eq "... nothing was written" "no" "$(test -e "$T/tree/new" -o -e "$T/inner/new" && echo yes || echo no)"
check_match "the mount is audited with its rule" \
        '"from":"dpa","to":"dpb","kind":"depend","op":"mount","object":"dpb:/data/tree -> /tmp/got/tree","decision":"allow","rule":"a-tree"' \
        "$(audit_grep '"kind":"depend"')"

ina 'echo from-a >/tmp/rw/from-a' >/dev/null
check_eq "mode rw: a writes and b sees it" "from-a" "$(inb 'cat /data/rw/from-a')"
inb 'echo from-b >/data/rw/from-b' >/dev/null
check_eq "... and the other way" "from-b" "$(ina 'cat /tmp/rw/from-b')"

out=$(ina 'cat /tmp/got/tree/esc')
check_nomatch "a symlink in b's tree to a host path never shows the host's file in a" "HOST-SECRET" "$out"
check_nomatch "a depend path through a symlink to a host dir resolves inside b: the host dir is not mounted" \
        "secret" "$(ina 'ls -A /mnt')"
check_match "... the mount is refused and audited" \
        '"object":"dpb:/data/tree/uplink -> /mnt","decision":"deny","rule":"a-up","reason":"no such path in the provider"' \
        "$(audit_grep 'uplink')"

check_eq "a deny rule beats the allow: nothing at /srv" "" "$(ina 'ls -A /srv')"
check_match "... audited as a deny by the deny rule" \
        '"object":"dpb:/data/tree/sub -> /srv","decision":"deny","rule":"no-sub"' "$(audit_grep '/srv')"

# Path globs.
check_eq "a path glob with 'at': each directory it matches in b is under 'at' by its basename" "t1 t2" \
        "$(ina 'cat /tmp/tools/t1/id /tmp/tools/t2/id' | tr '\n' ' ' | sed 's/ $//')"
check_eq "... directories only: no file, no symlink (to a host directory or to a match)" "t1 t2" \
        "$(ina 'ls /tmp/tools' | tr '\n' ' ' | sed 's/ $//')"
check_match "... a deny rule beats the glob for its match" \
        '"object":"dpb:/data/tools/secret -> /tmp/tools/secret","decision":"deny","rule":"no-secret"' "$(audit_grep 'secret')"
check_match "... read-only" "Read-only file system" "$(ina 'echo x >/tmp/tools/t1/new')"
check_match "... each match audited with its rule and the glob" \
        '"object":"dpb:/data/tools/t1 -> /tmp/tools/t1","decision":"allow","rule":"a-tools".*"glob":"/data/tools/\*"' \
        "$(audit_grep '/tmp/tools/t1')"
check_eq "a path glob without 'at': each match at the same path in a" "p1 p2" \
        "$(ina 'cat /data/opt/p1/id /data/opt/p2/id' | tr '\n' ' ' | sed 's/ $//')"
check_eq "... and only the matches" "absent" "$(ina 'test -e /data/opt/q && echo present || echo absent')"
check_eq "more than 64 matches: 64 are mounted" "64" "$(ina 'ls /tmp/many | wc -l')"
check_eq "... the first 64 in name order" "d01 d64" "$(ina 'ls /tmp/many | sed -n "1p;\$p"' | tr '\n' ' ' | sed 's/ $//')"
check_match "... and the rest is an audited refusal" \
        '"object":"dpb:/data/many/\* -> /tmp/many","decision":"deny","rule":"a-many","reason":"more than 64 directories match' \
        "$(audit_grep '/data/many/\*')"

wait_until_long() { local i=0; until "$@" >/dev/null 2>&1; do [ $i -ge 300 ] && return 1; sleep 0.05; i=$((i + 1)); done; }
wait_until_long grep -q 'grant expired' "$AUDIT_LOG"
check_eq "the grant with 'until' is taken away when it expires" "absent" "$(ina 'test -e /tmp/soon/x.txt && echo present || echo absent')"
check_match "... audited" '"op":"revoke","object":"dpb:/data/tree/inner -> /tmp/soon".*"reason":"grant expired"' \
        "$(audit_grep '"op":"revoke"')"

"${SRUN[@]}" --name dpc -- sh -c 'touch /tmp/started; exec sleep 600' >"$T/c.out" 2>&1 &
c_job=$!
wait_until "${SX[@]}" dpc -- test -e /tmp/started || diag "c did not start: $(cat "$T/c.out")"
check_eq "no grant, no mount: c has no /tmp/got" "absent" "$("${SX[@]}" dpc -- sh -c 'test -e /tmp/got && echo present || echo absent')"
check_eq "... and nothing was mounted for it" "" "$(audit_grep '"from":"dpc".*"kind":"depend"')"
"$SHUTTLECTL" stop --state-dir "$STATE_DIR" dpc >/dev/null 2>&1
wait $c_job 2>/dev/null

# A reload that drops the rw rule takes that tree away, and only that one;
# it also expands the globs again.
mkdir "$T/tools/t3" && echo t3 >"$T/tools/t3/id"
rm -rf "$T/tools/t2"
printf 'version: 1\ndefault: deny\naudit: all\nrules:%s\n' "$rules_common" >"$T/policy.yaml"
out=$("$SHUTTLECTL" policy reload --state-dir "$STATE_DIR" 2>&1; echo "rc=$?")
check_match "policy reload" "rc=0" "$out"
check_eq "after the reload a no longer has b's /data/rw" "absent" "$(ina 'test -e /tmp/rw/from-b && echo present || echo absent')"
check_match "... the revocation is audited" \
        '"from":"dpa","to":"dpb","kind":"depend","op":"revoke","object":"dpb:/data/rw -> /tmp/rw","decision":"allow","rule":"a-rw","reason":"no longer allowed by the policy"' \
        "$(audit_grep '"op":"revoke"')"
check_eq "... the other tree stays" "tree-content" "$(ina 'cat /tmp/got/tree/hello.txt')"
check_eq "... a directory new in b that the glob matches is mounted" "t3" "$(ina 'cat /tmp/tools/t3/id')"
check_eq "... one that is gone from b is unmounted" "0" "$(ina "grep -c ' /tmp/tools/t2 ' /proc/self/mountinfo")"
check_match "... audited" '"op":"revoke","object":"dpb:/data/tools/t2 -> /tmp/tools/t2".*"reason":"no longer matches in the provider"' \
        "$(audit_grep '"op":"revoke"')"
check_eq "... the matches that stay are mounted once" "1" "$(ina "grep -c ' /tmp/tools/t1 ' /proc/self/mountinfo")"

# b stops: its tree leaves a.
"$SHUTTLECTL" stop --state-dir "$STATE_DIR" dpb >/dev/null 2>&1
wait $b_job 2>/dev/null
check_match "when b stops, the tree disappears from a" "No such file" "$(ina 'cat /tmp/got/tree/hello.txt')"
check_eq "... nothing is mounted at /tmp/got/tree any more" "0" "$(ina "grep -c ' /tmp/got/tree ' /proc/self/mountinfo")"
check_match "... audited" '"kind":"depend","op":"revoke","object":"dpb:/data/tree -> /tmp/got/tree".*"reason":"provider stopped"' \
        "$(audit_grep '"op":"revoke"')"
check_eq "... and so do the glob's matches" "0" "$(ina "grep -cE ' /tmp/tools/| /tmp/many/| /data/opt/' /proc/self/mountinfo")"

# b starts again, after a: a gets the tree when b registers.
start_b
check_eq "b starting after a: a gets the tree" "tree-content" "$(ina 'cat /tmp/got/tree/hello.txt')"
check_eq "... once" "1" "$(ina "grep -c ' /tmp/got/tree ' /proc/self/mountinfo")"
check_eq "the dropped rw grant stays dropped" "absent" "$(ina 'test -e /tmp/rw/from-b && echo present || echo absent')"
check_eq "... and the glob's matches come back" "/tmp/tools/t1 /tmp/tools/t3" \
        "$(ina "grep -oE ' /tmp/tools/[^ ]+ ' /proc/self/mountinfo" | sort | tr -d ' ' | tr '\n' ' ' | sed 's/ $//')"

# The broker stops: it takes its mounts with it (a restarted one re-adopts
# the containers and mounts again).
stop_broker
check_eq "when the broker stops, a no longer has the tree" "0" "$(ina "grep -c ' /tmp/got/tree ' /proc/self/mountinfo")"
check_match "... audited" '"op":"revoke","object":"dpb:/data/tree -> /tmp/got/tree".*"reason":"broker stopped"' \
        "$(audit_grep '"op":"revoke"')"

start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not restart"; exit 1; }
# (Re-adoption goes on while the control socket already answers.)
wait_until ina 'test -e /tmp/got/tree/hello.txt'
check_eq "a restarted broker re-adopts both and mounts the tree again" "tree-content" "$(ina 'cat /tmp/got/tree/hello.txt')"
check_eq "... once" "1" "$(ina "grep -c ' /tmp/got/tree ' /proc/self/mountinfo")"
stop_broker

kill -TERM $a_job $b_job 2>/dev/null
wait $a_job $b_job 2>/dev/null
check_eq "nothing of a, b or c is left" "" "$(leftovers dpa; leftovers dpb; leftovers dpc)"
check_eq "no mount is left on the host" "" "$(mounts_left "$T/mounts-before")"
finish
