#!/bin/bash
# transfer with `as`: the object appears at the rule's path in the target
# (not under /run/shuttle/xfer/), with the access granted; the mount point
# is found or made inside the target's root only (no symlink followed, not
# on a read-only file system, never on the host); one transfer per place;
# revoking takes the mount and the mount point it made away.
# (The containers are named xa and xb, which no other test uses.)
. "$(dirname "$0")/lib.sh"
require_root
plan 36

mkdir -p "$T/hostdir"
echo HOST >"$T/hostdir/keep"

# policy AS_OF_MOVE: the rules, with the `as` of rule a-move given.
policy() {
        cat >"$T/policy.yaml" <<YAML
version: 1
default: deny
audit: all
rules:
  - { id: a-file, from: xa, to: xb, allow: transfer, path: /tmp/share/doc.txt, as: /tmp/inbox/report.txt }
  - { id: a-dir, from: xa, to: xb, allow: transfer, path: /tmp/share/dir, as: /tmp/inbox/dir }
  - { id: a-rw, from: xa, to: xb, allow: transfer, path: /tmp/share/rw.txt, mode: rw, as: /home/rw.txt }
  - { id: a-over, from: xa, to: xb, allow: transfer, path: /tmp/share/over.txt, as: /tmp/inbox/own.txt }
  - { id: a-ro-old, from: xa, to: xb, allow: transfer, path: /tmp/share/x1, as: /etc/passwd }
  - { id: a-ro-new, from: xa, to: xb, allow: transfer, path: /tmp/share/x2, as: /etc/shuttle-test-new }
  - { id: a-noparent, from: xa, to: xb, allow: transfer, path: /tmp/share/x3, as: /tmp/nosuch/x3 }
  - { id: a-esc, from: xa, to: xb, allow: transfer, path: /tmp/share/x4, as: /tmp/esc/x4 }
  - { id: a-link, from: xa, to: xb, allow: transfer, path: /tmp/share/x5, as: /tmp/lnk/x5 }
  - { id: a-type, from: xa, to: xb, allow: transfer, path: /tmp/share/x6, as: /var/tmp }
  - { id: a-nested, from: xa, to: xb, allow: transfer, path: /tmp/share/x7, as: /tmp/inbox/dir/x7 }
  - { id: a-broker, from: xa, to: xb, allow: transfer, path: /tmp/share/x8, as: /run/shuttle/x8 }
  - { id: a-move, from: xa, to: xb, allow: transfer, path: /tmp/share/move.txt, as: $1 }
YAML
}
policy /tmp/inbox/m1
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
H=/opt/t
VOL=(-v "$(cd "$HELPERS" && pwd):$H:ro")
SX=("$SHUTTLECTL" exec --state-dir "$STATE_DIR")

# b has what `as` may find: a directory, a file of its own, and links
# that lead elsewhere in b and to a path that only exists on the host.
"${SRUN[@]}" --name xb "${VOL[@]}" -- sh -c "
        mkdir -p /tmp/inbox
        echo b-own >/tmp/inbox/own.txt
        ln -s /tmp/inbox /tmp/lnk
        ln -s $T/hostdir /tmp/esc
        touch /tmp/ready; exec sleep 600" >"$T/b.out" 2>&1 &
b_job=$!
"${SRUN[@]}" --name xa "${VOL[@]}" -- sh -c '
        mkdir -p /tmp/share/dir
        echo shared-doc >/tmp/share/doc.txt
        echo in-dir >/tmp/share/dir/file
        echo orig >/tmp/share/rw.txt; chmod 666 /tmp/share/rw.txt
        echo over >/tmp/share/over.txt
        echo move >/tmp/share/move.txt
        for i in 1 2 3 4 5 6 7 8; do echo x$i >/tmp/share/x$i; done
        touch /tmp/ready; exec sleep 600' >"$T/a.out" 2>&1 &
a_job=$!
wait_until "${SX[@]}" xb -- test -e /tmp/ready || diag "b did not start: $(cat "$T/b.out")"
wait_until "${SX[@]}" xa -- test -e /tmp/ready || diag "a did not start: $(cat "$T/a.out")"

xfer() { "${SX[@]}" xa -- $H/brokercall transfer "$@" 2>&1; }
inb() { "${SX[@]}" xb -- sh -c "$1" 2>&1; }
mounted_in_b() { inb "grep -c ' $1 ' /proc/self/mountinfo"; }

# A file, at `as` (created there).
out=$(xfer /tmp/share/doc.txt xb ro)
check_match "with 'as' the transfer is at that path in b, and the reply says so" "^[0-9]+ /tmp/inbox/report.txt$" "$out"
id=${out%% *}
check_eq "... b reads it there" "shared-doc" "$(inb 'cat /tmp/inbox/report.txt')"
check_match "... but cannot write it (ro)" "Read-only file system" "$(inb 'echo x >>/tmp/inbox/report.txt')"
check_eq "... and nothing appears under /run/shuttle/xfer" "" "$(inb 'ls -A /run/shuttle/xfer 2>/dev/null')"
check_match "shuttlectl transfer ls shows where b sees it" "^$id +xa +xb +ro +transfer +- +/tmp/share/doc.txt +/tmp/inbox/report.txt" \
        "$("$SHUTTLECTL" transfer ls --state-dir "$STATE_DIR" 2>&1)"
check_match "... audited with the rule and the target path" \
        '"object":"/tmp/share/doc.txt","decision":"allow","rule":"a-file".*"as":"/tmp/inbox/report.txt".*"target_path":"/tmp/inbox/report.txt"' \
        "$(audit_grep '"op":"open"')"

out=$(xfer /tmp/share/doc.txt xb ro)
check_match "a second live transfer to the same 'as' is refused" "^refused: Device or resource busy: another live transfer holds 'as'" "$out"
out=$(xfer /tmp/share/dir xb ro)
check_match "a directory at 'as' (created as a directory)" "^[0-9]+ /tmp/inbox/dir$" "$out"
dir_id=${out%% *}
check_eq "... b sees what is in it" "in-dir" "$(inb 'cat /tmp/inbox/dir/file')"
out=$(xfer /tmp/share/x7 xb ro)
check_match "an 'as' inside another live transfer's is refused too" "^refused: Device or resource busy" "$out"
check_eq "... and nothing was written into a's directory" "file" "$("${SX[@]}" xa -- ls /tmp/share/dir 2>&1)"

check_eq "shuttlectl transfer revoke ID" "transfer $id revoked" "$("$SHUTTLECTL" transfer revoke --state-dir "$STATE_DIR" "$id" 2>&1)"
check_eq "... the file is gone from b, mount point included" "absent" "$(inb 'test -e /tmp/inbox/report.txt && echo present || echo absent')"
check_eq "... nothing is mounted there" "0" "$(mounted_in_b /tmp/inbox/report.txt)"
out=$(xfer /tmp/share/doc.txt xb ro)
check_match "... and the place is free again" "^[0-9]+ /tmp/inbox/report.txt$" "$out"

# rw, on a file b owns: mounted over it, and b's file is back afterwards.
out=$(xfer /tmp/share/rw.txt xb rw)
check_match "rw at 'as'" "^[0-9]+ /home/rw.txt$" "$out"
inb 'echo from-b >>/home/rw.txt' >/dev/null
check_eq "... b writes and a sees it" "orig from-b" "$("${SX[@]}" xa -- cat /tmp/share/rw.txt | tr '\n' ' ' | sed 's/ $//')"
out=$(xfer /tmp/share/over.txt xb ro)
check_match "an existing file of b on a writable file system is mounted over" "^[0-9]+ /tmp/inbox/own.txt$" "$out"
over_id=${out%% *}
check_eq "... b sees a's file there" "over" "$(inb 'cat /tmp/inbox/own.txt')"
"$SHUTTLECTL" transfer revoke --state-dir "$STATE_DIR" "$over_id" >/dev/null 2>&1
check_eq "... revoked, b's own file is back (not removed)" "b-own" "$(inb 'cat /tmp/inbox/own.txt')"

# Refusals, each clear and audited.
out=$(xfer /tmp/share/x1 xb ro)
check_match "an existing file on a read-only file system in b (/etc/passwd) is not shadowed" \
        "^refused: Read-only file system: 'as' is on a read-only file system in the target" "$out"
check_eq "... b's /etc/passwd is unchanged" "root" "$(inb 'head -1 /etc/passwd | cut -d: -f1')"
check_match "... audited as a deny with the reason" \
        '"object":"/tmp/share/x1","decision":"deny","rule":"a-ro-old","reason":".as. is on a read-only' "$(audit_grep '/tmp/share/x1')"
out=$(xfer /tmp/share/x2 xb ro)
check_match "a new name on a read-only file system in b: refused" "^refused: Read-only file system" "$out"
out=$(xfer /tmp/share/x3 xb ro)
check_match "a missing directory of 'as': refused" "^refused: No such file or directory: the directory of 'as' does not exist" "$out"
out=$(xfer /tmp/share/x4 xb ro)
check_match "an 'as' naming a host path through a symlink in b: refused" "^refused: Too many levels of symbolic links" "$out"
check_eq "... nothing was created on the host" "keep" "$(ls "$T/hostdir")"
out=$(xfer /tmp/share/x5 xb ro)
check_match "a symlink in 'as''s directory, even one inside b, is not followed" "^refused: Too many levels of symbolic links: a symlink on the way" "$out"
check_eq "... nothing was created where it points" "absent" "$(inb 'test -e /tmp/inbox/x5 && echo present || echo absent')"
out=$(xfer /tmp/share/x6 xb ro)
check_match "a file at an 'as' that is a directory in b: refused" "^refused: Is a directory" "$out"
out=$(xfer /tmp/share/x8 xb ro)
check_match "an 'as' under /run/shuttle: refused" "^refused: Operation not permitted: 'as' overlaps /run/shuttle" "$out"

# A reload that moves `as` revokes what is at the old place.
out=$(xfer /tmp/share/move.txt xb ro)
check_match "a transfer at the first 'as'" "^[0-9]+ /tmp/inbox/m1$" "$out"
policy /tmp/inbox/m2
"$SHUTTLECTL" policy reload --state-dir "$STATE_DIR" >/dev/null 2>&1 || diag "reload failed"
wait_until sh -c "'$SHUTTLECTL' exec --state-dir '$STATE_DIR' xb -- test ! -e /tmp/inbox/m1"
check_match "a reload that changes 'as' revokes it" '"object":"/tmp/share/move.txt".*"reason":"the policy now places it elsewhere' \
        "$(audit_grep '"op":"revoke"')"

# The caller stops: every transfer it made leaves b, mount points too.
kill -TERM $a_job 2>/dev/null; wait $a_job 2>/dev/null
wait_until sh -c "! '$SHUTTLECTL' transfer ls --state-dir '$STATE_DIR' | grep -q /tmp/share" || true
check_eq "when the caller stops, nothing it handed over stays mounted in b" "0" \
        "$(inb "grep -cE ' /tmp/inbox| /home/rw.txt' /proc/self/mountinfo")"
check_eq "... and b's own files are what is left" "own.txt" "$(inb 'ls /tmp/inbox; ls /home')"

kill -TERM $b_job 2>/dev/null; wait $b_job 2>/dev/null
"$SHUTTLECTL" audit --file "$AUDIT_LOG" --verify >"$T/verify" 2>&1
check_eq "the audit chain verifies" "0" "$?"
stop_broker
finish
