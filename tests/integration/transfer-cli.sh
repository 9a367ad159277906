#!/bin/bash
# shuttle-transfer: the request side of transfer from inside a container
# (/run/shuttle/bin/shuttle-transfer TARGET PATH): prints the name the
# target sees, which the target can read (and write only with --mode rw
# where the policy grants it); relative paths start from the current
# directory; refusals, no broker and usage errors each exit as documented
# with a message saying which; group containers have it too.
# (Containers are named tc*, which no other test uses.)
. "$(dirname "$0")/lib.sh"
require_root
plan 40

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules:
  - { id: tc-share, from: tca, to: tcb, allow: transfer, path: "/tmp/share/**", mode: ro }
  - { id: tc-rw, from: tca, to: tcb, allow: transfer, path: "/tmp/rw/**", mode: rw }
  - { id: tc-anyone, from: tca, to: "*", allow: transfer, path: "/tmp/anyone/**" }
  - { id: tc-as, from: tca, to: tcb, allow: transfer, path: /tmp/as.txt, as: /tmp/inbox.txt }
YAML

start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
ST=/run/shuttle/bin/shuttle-transfer
SX=("$SHUTTLECTL" exec --state-dir "$STATE_DIR")

"${SRUN[@]}" --name tcb -- sh -c 'touch /tmp/inbox.txt /tmp/ready; exec sleep 600' >"$T/b.out" 2>&1 &
"${SRUN[@]}" --name tca -- sh -c '
        mkdir -p /tmp/share/dir /tmp/rw /tmp/other /tmp/anyone
        echo shared-doc >/tmp/share/doc.txt
        echo in-dir >/tmp/share/dir/file
        echo dash >/tmp/share/-dash
        echo orig >/tmp/rw/f.txt; chmod 666 /tmp/rw/f.txt
        echo orig >/tmp/rw/g.txt; chmod 666 /tmp/rw/g.txt
        echo other >/tmp/other/x
        echo any >/tmp/anyone/x
        echo as >/tmp/as.txt
        touch /tmp/ready; exec sleep 600' >"$T/a.out" 2>&1 &
for c in tca tcb; do
        wait_until test -S "$STATE_DIR/broker/$c/broker.sock" || diag "$c did not register: $(cat "$T"/?.out)"
done
wait_until "${SX[@]}" tcb -- test -e /tmp/ready || diag "tcb did not start: $(cat "$T/b.out")"
wait_until "${SX[@]}" tca -- test -e /tmp/ready || diag "tca did not start: $(cat "$T/a.out")"

# ina SCRIPT: SCRIPT in tca, stdout and stderr together (in the order
# written: one pipe), then "rc=N".
ina() { "${SX[@]}" tca -- sh -c "{ $1; } 2>&1; echo rc=\$?" 2>&1; }
# ina_out SCRIPT: SCRIPT's stdout alone (stderr to $T/err).
ina_out() { "${SX[@]}" tca -- sh -c "$1" 2>"$T/err"; }
inb() { "${SX[@]}" tcb -- sh -c "$1" 2>&1; }

# ---- the helper is there ----
out=$(ina "readlink $ST; $ST --version")
check_match "/run/shuttle/bin/shuttle-transfer links to the helper bound at /run/shuttle-bin, which runs" \
        "^/run/shuttle-bin/shuttle-transfer shuttle-transfer [0-9.]+ rc=0$" "$(echo $out)"

# ---- a transfer, read-only ----
tp=$(ina_out "$ST tcb /tmp/share/doc.txt"); rc=$?
check_eq "tca hands /tmp/share/doc.txt to tcb: exit 0, nothing on stderr" "0 " "$rc $(cat "$T/err")"
check_match "... and prints the one name tcb sees: /run/shuttle/xfer/<id>/doc.txt" \
        "^/run/shuttle/xfer/[0-9]+/doc.txt$" "$tp"
check_eq "... tcb reads the file at that name" "shared-doc" "$(inb "cat $tp")"
check_match "... but cannot write it (ro)" "Read-only file system" "$(inb "echo x >>$tp")"
check_match "... audited as an allowed transfer by rule tc-share, mode ro" \
        '"from":"tca","to":"tcb","kind":"transfer","op":"open","object":"/tmp/share/doc.txt","decision":"allow","rule":"tc-share".*"mode":"ro"' \
        "$(audit_grep '"object":"/tmp/share/doc.txt","decision":"allow"')"
id=$(echo "$tp" | cut -d/ -f5)
check_match "... shuttlectl transfer ls lists it" "^$id +tca +tcb +ro +transfer +- +/tmp/share/doc.txt +$tp" \
        "$("$SHUTTLECTL" transfer ls --state-dir "$STATE_DIR" 2>&1)"

# ---- relative paths start from the current directory ----
tp=$(ina_out "cd /tmp/share && $ST tcb dir/file")
check_eq "a relative path (cd /tmp/share; dir/file) is the file of the current directory" "in-dir" "$(inb "cat $tp")"
check_match "... audited as /tmp/share/dir/file" '"object":"/tmp/share/dir/file","decision":"allow","rule":"tc-share"' \
        "$(audit_grep '/tmp/share/dir/file')"
tp=$(ina_out "cd /tmp/share/dir && $ST tcb .")
check_match "'.' is the current directory itself" "^/run/shuttle/xfer/[0-9]+/dir$" "$tp"
check_eq "... tcb sees what is in it" "in-dir" "$(inb "cat $tp/file")"
tp=$(ina_out "cd /tmp/share/dir && $ST tcb ../doc.txt")
check_eq "'..' from the current directory" "shared-doc" "$(inb "cat $tp")"
check_match "... judged and audited on the normalised path, with the one asked for" \
        '"object":"/tmp/share/doc.txt","decision":"allow","rule":"tc-share".*"requested":"/tmp/share/dir/../doc.txt"' \
        "$(audit_grep 'dir/../doc.txt')"
out=$(ina "cd /tmp/other && $ST tcb ../share/../other/x")
check_match "'..' leading out of the rule's glob is refused" \
        "^shuttle-transfer: /tmp/other/../share/../other/x to 'tcb' \(ro\) refused: Permission denied: denied by policy rc=1$" \
        "$(echo $out)"
tp=$(ina_out "cd /tmp/share && $ST -- tcb -dash")
check_eq "'--' ends the options: a file named -dash" "dash" "$(inb "cat $tp")"

# ---- --mode ----
tp=$(ina_out "$ST --mode rw tcb /tmp/rw/f.txt")
check_match "--mode rw where the rule grants rw" "^/run/shuttle/xfer/[0-9]+/f.txt$" "$tp"
inb "echo from-b >>$tp" >/dev/null
check_eq "... tcb writes, tca sees it" "orig from-b" "$("${SX[@]}" tca -- cat /tmp/rw/f.txt | tr '\n' ' ' | sed 's/ $//')"
check_match "... audited with mode rw" '"object":"/tmp/rw/f.txt","decision":"allow","rule":"tc-rw".*"mode":"rw"' \
        "$(audit_grep '"object":"/tmp/rw/f.txt"')"
tp=$(ina_out "$ST tcb /tmp/rw/g.txt")
check_match "without --mode the transfer is read-only, even where rw would be granted" "Read-only file system" \
        "$(inb "echo x >>$tp")"
tp=$(ina_out "$ST tcb /tmp/rw/g.txt -m rw")
inb "echo from-b >>$tp" >/dev/null
check_eq "options after TARGET PATH count too (-m rw)" "orig from-b" \
        "$("${SX[@]}" tca -- cat /tmp/rw/g.txt | tr '\n' ' ' | sed 's/ $//')"

# ---- refusals: exit 1, the reason on stderr, audited ----
out=$(ina "$ST --mode rw tcb /tmp/share/doc.txt")
check_eq "rw asked where only ro is granted: refused by the policy, exit 1" \
        "shuttle-transfer: /tmp/share/doc.txt to 'tcb' (rw) refused: Permission denied: denied by policy rc=1" "$(echo $out)"
check_match "... audited as a deny in mode rw" '"object":"/tmp/share/doc.txt","decision":"deny".*"mode":"rw"' \
        "$(audit_grep '"object":"/tmp/share/doc.txt","decision":"deny"')"
out=$(ina "$ST tcb /tmp/other/x")
check_eq "a path no rule names: refused, exit 1" \
        "shuttle-transfer: /tmp/other/x to 'tcb' (ro) refused: Permission denied: denied by policy rc=1" "$(echo $out)"
check_match "... audited as a default deny" '"from":"tca","to":"tcb","kind":"transfer","op":"open","object":"/tmp/other/x","decision":"deny","rule":"default"' \
        "$(audit_grep '"object":"/tmp/other/x"')"
out=$(ina "$ST tcnosuch /tmp/share/doc.txt")
check_eq "a target no rule names: refused by the policy (nothing is told about it)" \
        "shuttle-transfer: /tmp/share/doc.txt to 'tcnosuch' (ro) refused: Permission denied: denied by policy rc=1" \
        "$(echo $out)"
out=$(ina "$ST tcnosuch /tmp/anyone/x")
check_eq "a target a rule allows but that does not run: no such container" \
        "shuttle-transfer: /tmp/anyone/x to 'tcnosuch' (ro) refused: No such file or directory: no such container rc=1" \
        "$(echo $out)"
check_match "... audited" '"to":"tcnosuch","kind":"transfer","op":"open","object":"/tmp/anyone/x","decision":"deny","rule":"tc-anyone","reason":"no such container"' \
        "$(audit_grep '"to":"tcnosuch"')"
out=$(ina "$ST tcb /tmp/share/nosuch")
check_eq "a file the caller does not have" \
        "shuttle-transfer: /tmp/share/nosuch to 'tcb' (ro) refused: No such file or directory: no such file in the caller rc=1" \
        "$(echo $out)"

# ---- the rule's 'as' ----
tp=$(ina_out "$ST tcb /tmp/as.txt")
check_eq "under a rule with 'as' it prints that path" "/tmp/inbox.txt" "$tp"
check_eq "... where tcb reads it" "as" "$(inb "cat /tmp/inbox.txt")"

# ---- no broker ----
out=$(ina "SHUTTLE_BROKER_SOCKET=/nonexistent.sock $ST tcb /tmp/share/doc.txt")
check_eq "no broker at \$SHUTTLE_BROKER_SOCKET: says so, exit 1" \
        "shuttle-transfer: no broker at /nonexistent.sock: No such file or directory (mediation is off in this container) rc=1" \
        "$(echo $out)"
out=$(ina "$ST --socket /tmp/share/doc.txt tcb /tmp/share/doc.txt")
check_match "... nor at --socket PATH (a file that is no socket)" \
        "^shuttle-transfer: no broker at /tmp/share/doc.txt: Connection refused.* rc=1$" "$(echo $out)"

# ---- usage errors exit 2 ----
out=$(ina "$ST")
check_match "no arguments: usage, exit 2" "^Usage: shuttle-transfer .* rc=2$" "$(echo $out)"
out=$(ina "$ST tcb")
check_match "TARGET alone: exit 2" "^Usage: shuttle-transfer .* rc=2$" "$(echo $out)"
out=$(ina "$ST tcb /tmp/a /tmp/b")
check_match "three arguments: exit 2" "^shuttle-transfer: one TARGET and one PATH, not 3 arguments Usage: .* rc=2$" \
        "$(echo $out)"
out=$(ina "$ST --mode rx tcb /tmp/share/doc.txt")
check_eq "--mode neither ro nor rw: exit 2" "shuttle-transfer: --mode is ro or rw, not 'rx' rc=2" "$(echo $out)"
out=$(ina "$ST 'tc/b' /tmp/share/doc.txt")
check_eq "a TARGET no container can be named: exit 2, nothing sent" \
        "shuttle-transfer: cannot ask for '/tmp/share/doc.txt' to 'tc/b': invalid container name rc=2" "$(echo $out)"
check_eq "... and nothing audited" "" "$(audit_grep '"to":"tc/b"')"

# ---- group containers have it too ----
G=tcgroup$$
mkdir -p "$T/g"
cat >"$T/g/group.yaml" <<YAML
group: $G
policy: policy.yaml
containers:
  tcx:
    command: ["sh", "-c", "echo from-x >/tmp/note; exec sleep 300"]
    net: none
  tcy:
    command: ["sleep", "300"]
    net: none
YAML
cat >"$T/g/policy.yaml" <<'YAML'
version: 1
default: deny
rules:
  - { id: x-gives-y, from: tcx, to: tcy, allow: transfer, path: /tmp/note }
YAML
out=$("$SHUTTLECTL" run --state-dir "$STATE_DIR" --detach "$T/g/group.yaml" 2>&1)
wait_until test -S "$STATE_DIR/broker/tcy/broker.sock" || diag "tcy did not register: $out"
wait_until "${SX[@]}" tcx -- test -e /tmp/note || diag "group did not start: $out"
tp=$("${SX[@]}" tcx -- $ST tcy /tmp/note 2>&1)
check_eq "in an app group, tcx hands /tmp/note to tcy, which reads it" "from-x" "$("${SX[@]}" tcy -- cat "$tp" 2>&1)"
"$SHUTTLECTL" stop --state-dir "$STATE_DIR" "$G" >/dev/null 2>&1

"$SHUTTLECTL" audit --file "$AUDIT_LOG" --verify >"$T/verify" 2>&1
check_eq "the audit chain verifies" "0" "$?"
stop_broker
finish
