#!/bin/bash
# transfer: a path of one container made visible in another at
# /run/shuttle/xfer/<id>/<name>, with the access the policy grants; listed,
# revoked (by the operator, on expiry, when a container goes); and every
# way of naming something else refused and audited.
. "$(dirname "$0")/lib.sh"
require_root
plan 43

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules:
  - id: a-share
    from: a
    to: b
    allow: transfer
    path: "/tmp/share/**"
    mode: ro
  - id: a-rw
    from: a
    to: b
    allow: transfer
    path: "/tmp/rw/**"
    mode: rw
  - id: a-etc
    from: a
    to: b
    allow: transfer
    path: "/etc/**"
  - id: a-proc
    from: a
    to: b
    allow: transfer
    path: "/proc/**"
  - id: a-lim
    from: a
    to: b
    allow: transfer
    path: "/tmp/lim/*"
    limit: { max_open: 1 }
YAML

start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
H=/opt/t
VOL=(-v "$(cd "$HELPERS" && pwd):$H:ro")
SX=("$SHUTTLECTL" exec --state-dir "$STATE_DIR")

"${SRUN[@]}" --name b "${VOL[@]}" -- sleep 600 >"$T/b.out" 2>&1 &
b_job=$!
"${SRUN[@]}" --name a "${VOL[@]}" -- sh -c '
        mkdir -p /tmp/share/dir /tmp/rw /tmp/other /tmp/brief /tmp/lim
        echo one >/tmp/lim/1; echo two >/tmp/lim/2
        echo shared-doc >/tmp/share/doc.txt
        echo in-dir >/tmp/share/dir/file
        echo top-secret >/tmp/secret.txt
        echo other >/tmp/other/x
        echo brief >/tmp/brief/x
        echo orig >/tmp/rw/f.txt; chmod 666 /tmp/rw/f.txt
        ln -s /etc/hostname /tmp/share/abs-link
        ln -s ../../../../../../etc/shadow /tmp/share/dots-link
        ln /tmp/secret.txt /tmp/share/hardlink
        mkfifo /tmp/share/fifo
        echo root-only >/tmp/share/root-only; chmod 600 /tmp/share/root-only
        touch /tmp/ready; exec sleep 600' >"$T/a.out" 2>&1 &
a_job=$!
wait_until test -S "$STATE_DIR/broker/b/broker.sock" || diag "b did not register: $(cat "$T/b.out")"
wait_until "${SX[@]}" a -- test -e /tmp/ready || diag "a did not start: $(cat "$T/a.out")"

xfer() { "${SX[@]}" a -- $H/brokercall transfer "$@" 2>&1; }
inb() { "${SX[@]}" b -- sh -c "$1" 2>&1; }

# ro
out=$(xfer /tmp/share/doc.txt b ro)
check_match "a hands /tmp/share/doc.txt to b: TRANSFERRED with an id and /run/shuttle/xfer/<id>/doc.txt" \
        "^[0-9]+ /run/shuttle/xfer/[0-9]+/doc.txt$" "$out"
id=${out%% *}
tp=${out#* }
check_eq "... b reads it there" "shared-doc" "$(inb "cat $tp")"
check_match "... but cannot write it (ro)" "Read-only file system" "$(inb "echo x >>$tp")"
check_match "... audited as an allowed transfer by rule a-share" \
        '"from":"a","to":"b","kind":"transfer","op":"open","object":"/tmp/share/doc.txt","decision":"allow","rule":"a-share"' \
        "$(audit_grep '"op":"open"')"
out=$("$SHUTTLECTL" transfer ls --state-dir "$STATE_DIR" 2>&1)
check_match "shuttlectl transfer ls lists it" "^$id +a +b +ro +transfer +- +/tmp/share/doc.txt +$tp" "$out"
out=$("$SHUTTLECTL" transfer ls --json --state-dir "$STATE_DIR" 2>&1)
check_match "... and --json too" "\"id\": ?$id,.*\"path\": ?\"/tmp/share/doc.txt\"" "$out"

out=$(xfer /tmp/share/dir b ro)
check_match "a directory crosses too" "^[0-9]+ /run/shuttle/xfer/[0-9]+/dir$" "$out"
check_eq "... and b sees what is in it" "in-dir" "$(inb "cat ${out#* }/file")"

check_eq "shuttlectl transfer revoke ID" "transfer $id revoked" "$("$SHUTTLECTL" transfer revoke --state-dir "$STATE_DIR" "$id" 2>&1)"
check_match "... b no longer sees it" "No such file" "$(inb "cat $tp")"
check_eq "... nothing of it is mounted in b any more" "0" "$(inb "grep -c ' $tp ' /proc/self/mountinfo")"
check_eq "... its placeholder is gone" "no" "$(test -e "$STATE_DIR/broker/b/xfer/$id" && echo yes || echo no)"
check_nomatch "... transfer ls no longer lists it" "/tmp/share/doc.txt" "$("$SHUTTLECTL" transfer ls --state-dir "$STATE_DIR" 2>&1)"
check_match "... the revocation is audited" '"kind":"transfer","op":"revoke","object":"/tmp/share/doc.txt".*"reason":"revoked by the operator"' "$(audit_grep '"op":"revoke"')"
out=$("$SHUTTLECTL" transfer revoke --state-dir "$STATE_DIR" 99999 2>&1; echo "rc=$?")
check_match "revoking an unknown id fails" "no transfer 99999.*rc=1" "$(echo $out)"

# rw
out=$(xfer /tmp/rw/f.txt b rw)
check_match "rw where rw is granted" "^[0-9]+ /run/shuttle/xfer/[0-9]+/f.txt$" "$out"
inb "echo from-b >>${out#* }" >/dev/null
check_eq "... b writes and a sees it" "orig from-b" "$("${SX[@]}" a -- cat /tmp/rw/f.txt | tr '\n' ' ' | sed 's/ $//')"

# Refusals, each audited.
out=$(xfer /tmp/share/doc.txt b rw)
check_match "rw asked where ro is granted: refused" "^refused: Permission denied" "$out"
check_match "... audited as a deny" '"object":"/tmp/share/doc.txt","decision":"deny".*"mode":"rw"' "$(audit_grep '"mode":"rw"')"
out=$(xfer /tmp/other/x b ro)
check_match "a path outside every rule's glob: refused" "^refused: Permission denied" "$out"
check_match "... audited as a default deny" '"object":"/tmp/other/x","decision":"deny","rule":"default"' "$(audit_grep '/tmp/other/x')"
out=$(xfer /tmp/share/../secret.txt b ro)
check_match "'..' leading out of the glob is judged on the normalised path: refused" "^refused: Permission denied" "$out"
check_match "... audited with the normalised path and the one asked for" '"object":"/tmp/secret.txt","decision":"deny".*"requested":"/tmp/share/../secret.txt"' "$(audit_grep 'secret.txt')"
out=$(xfer /../../etc/shadow b ro)
check_match "'..' above the root stays in the caller's root: /../../etc/shadow is a's /etc/shadow, which a does not have" \
        "^refused: No such file or directory" "$out"
out=$(xfer /tmp/share/abs-link b ro)
check_match "a symlink (to /etc/hostname) is refused" "^refused: Too many levels of symbolic links" "$out"
out=$(xfer /tmp/share/dots-link b ro)
check_match "a symlink climbing out with '..' is refused" "^refused: Too many levels of symbolic links" "$out"
check_match "... both audited" '"object":"/tmp/share/dots-link","decision":"deny","rule":"a-share","reason":"a symlink or magic link in the path"' "$(audit_grep 'dots-link')"
out=$(xfer /proc/self/root/tmp/share/doc.txt b ro)
check_match "/proc/self/root tricks are refused (ELOOP)" "^refused: Too many levels of symbolic links" "$out"
out=$(xfer /tmp/share/hardlink b ro)
check_match "a hard link (to a file outside the glob) is refused" "^refused: Too many links" "$out"
check_match "... audited" '"object":"/tmp/share/hardlink","decision":"deny","rule":"a-share","reason":"a file with more than one hard link"' "$(audit_grep 'hardlink')"
out=$(xfer /tmp/share/fifo b ro)
check_match "a FIFO (not a regular file or directory) is refused" "^refused: Operation not permitted" "$out"
out=$("${SX[@]}" --user 1000 a -- $H/brokercall transfer /tmp/share/root-only b ro 2>&1)
check_match "a file the caller may not read itself is refused" "^refused: Permission denied: the caller may not read it" "$out"
out=$(xfer /tmp/share/doc.txt nosuch ro)
check_match "an unknown target container is refused (no rule names it)" "^refused: Permission denied" "$out"

# Expiry: the grant's until passes, the transfer goes.
cat >>"$T/policy.yaml" <<YAML
  - id: a-brief
    from: a
    to: b
    allow: transfer
    path: "/tmp/brief/**"
    until: $(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%SZ)
YAML
"$SHUTTLECTL" policy reload --state-dir "$STATE_DIR" >/dev/null 2>&1 || diag "reload failed"
out=$(xfer /tmp/brief/x b ro)
check_match "a transfer under a rule with 'until'" "^[0-9]+ /run/shuttle/xfer/[0-9]+/x$" "$out"
brief=${out#* }
i=0
while inb "test -e $brief" >/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
check_match "... is revoked once it has passed" "No such file" "$(inb "cat $brief")"
check_match "... audited as expired" '"object":"/tmp/brief/x".*"reason":"grant expired"' "$(audit_grep '"op":"revoke"')"

# The rule's limit: max_open counts live transfers.
out=$(xfer /tmp/lim/1 b ro)
check_match "max_open: 1 lets one live transfer through" "^[0-9]+ /run/shuttle/xfer/" "$out"
lim1=${out%% *}
out=$(xfer /tmp/lim/2 b ro)
check_match "... refuses a second while the first lives (audited)" \
        "^refused: Permission denied: max_open of rule .a-lim. reached" "$out"
check_match "... in the audit log" '"object":"/tmp/lim/2","decision":"deny","rule":"a-lim","reason":"max_open of rule' \
        "$(audit_grep '/tmp/lim/2')"
"$SHUTTLECTL" transfer revoke --state-dir "$STATE_DIR" "$lim1" >/dev/null 2>&1
out=$(xfer /tmp/lim/2 b ro)
check_match "... and lets it through once the first is revoked" "^[0-9]+ /run/shuttle/xfer/" "$out"

# A transfer lives no longer than its containers.
out=$(xfer /tmp/share/dir b ro)
kill -TERM $a_job 2>/dev/null; wait $a_job 2>/dev/null
wait_until sh -c "! '$SHUTTLECTL' transfer ls --state-dir '$STATE_DIR' | grep -q /tmp/share" || true
check_eq "when the caller stops, its transfers are revoked in the target" "0 0" "$(inb "grep -c ' /run/shuttle/xfer/' /proc/self/mountinfo; ls /run/shuttle/xfer | wc -l" | tr '\n' ' ' | sed 's/ $//')"

kill -TERM $b_job 2>/dev/null; wait $b_job 2>/dev/null
check_eq "nothing is left in the broker's directory" "" "$(ls -A "$STATE_DIR/broker" 2>/dev/null)"
"$SHUTTLECTL" audit --file "$AUDIT_LOG" --verify >"$T/verify" 2>&1
check_eq "the audit chain verifies" "0" "$?"
stop_broker
finish
