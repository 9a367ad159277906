#!/bin/bash
# shuttlectl audit: the table, --json, each filter, usage errors, --verify
# before and after one flipped byte, --follow (also across a rotation).
# Most of it needs no root and no containers: the log comes from
# tests/unit/audit-gen, which appends records with the same library the
# broker uses.  The end (as root) reads the logs of real brokers through
# --state-dir: one started by `run GROUP.yaml`, one started with
# --audit-log elsewhere.
. "$(dirname "$0")/lib.sh"

GEN=${top_builddir:-.}/tests/unit/audit-gen
LOG=$T/audit.jsonl
FOLLOW_PID=

stop_follow() {
        [ -n "$FOLLOW_PID" ] || return 0
        kill -TERM "$FOLLOW_PID" 2>/dev/null
        wait "$FOLLOW_PID" 2>/dev/null
        FOLLOW_PID=
}
# The broker `run GROUP.yaml` starts (detached) for $T/auto, by its pid.
AUTO_PID=
stop_auto() {
        [ -n "$AUTO_PID" ] || return 0
        kill -TERM "$AUTO_PID" 2>/dev/null
        wait_until sh -c "! kill -0 $AUTO_PID" || kill -KILL "$AUTO_PID" 2>/dev/null
        AUTO_PID=
}
trap 'stop_follow; stop_auto; cleanup_lib' EXIT

count_lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
# wait_for_lines FILE N: until FILE has at least N lines (~5 s).
wait_for_lines() {
        local i=0
        while [ "$(count_lines "$1")" -lt "$2" ] && [ $i -lt 100 ]; do
                sleep 0.05; i=$((i + 1))
        done
        [ "$(count_lines "$1")" -ge "$2" ]
}

plan 72

# Records i = 0..19: from web/db/cache/mail[i%4], kind
# ipc/invoke/transfer/signal[i%4], allow for even i, ts 12:00:00 + i s.
"$GEN" "$LOG" 20
check_eq "audit-gen wrote 20 records" 20 "$(wc -l <"$LOG")"

# ---- the table ----
check_status "audit prints the table" 0 sctl audit --file "$LOG"
check_eq "... a header and one line per record" 21 "$(wc -l <"$T/out")"
check_match "... header names the columns" '^TIME +SEQ +DECISION +KIND +OP +FROM → TO +OBJECT +RULE$' "$(head -1 "$T/out")"
check_match "... first record: time, seq, decision, kind, op, route, object, rule" \
        '^2024-05-01 12:00:00Z +1 allow +ipc +connect +web → db +object-0 +fine$' "$(sed -n 2p "$T/out")"
check_match "... a deny row" '^2024-05-01 12:00:01Z +2 deny +invoke +connect +db → cache +object-1 +no-way$' \
        "$(sed -n 3p "$T/out")"
# Aligned: the OBJECT column starts at the same offset on every row.
check_eq "... columns are aligned" 1 \
        "$(tail -n +2 "$T/out" | awk '{ print index($0, "object-") }' | sort -u | wc -l)"

# ---- --json ----
check_status "--json" 0 sctl audit --file "$LOG" --json
check_eq "... prints the lines unchanged" "$(cat "$LOG")" "$(cat "$T/out")"

# ---- filters (through --json, counted) ----
n() { sctl audit --file "$LOG" --json "$@" | wc -l; }
check_eq "--from web" 5 "$(n --from web)"
check_eq "--to db" 5 "$(n --to db)"
check_eq "--kind invoke" 5 "$(n --kind invoke)"
check_eq "--decision deny" 10 "$(n --decision deny)"
check_eq "--decision allow --kind ipc" 5 "$(n --decision allow --kind ipc)"
check_eq "--from 'c*' (a glob)" 5 "$(n --from 'c*')"
check_eq "--since RFC 3339 keeps ts >= it" 5 "$(n --since 2024-05-01T12:00:15Z)"
check_eq "--since with an offset" 5 "$(n --since 2024-05-01T14:00:15+02:00)"
check_eq "--since 1h (records from 2024 are older)" 0 "$(n --since 1h)"
check_eq "--from applies to the table too" 5 \
        "$(sctl audit --file "$LOG" --from web | tail -n +2 | grep -c ' web → ')"

# ---- usage errors and a missing file ----
check_status "--decision maybe is a usage error" 2 sctl audit --file "$LOG" --decision maybe
check_match "... naming the option" '--decision' "$(cat "$T/err")"
check_status "an unknown option is a usage error" 2 sctl audit --file "$LOG" --bogus
check_match "... naming it" "'--bogus'" "$(cat "$T/err")"
check_status "--since garbage is a usage error" 2 sctl audit --file "$LOG" --since yesterday-ish
check_status "a missing file fails" 1 sctl audit --file "$T/nope.jsonl"
check_match "... naming the file" "$T/nope.jsonl" "$(cat "$T/err")"
check_status "--state-dir with a relative path is a usage error" 2 sctl audit --state-dir rel/state
check_match "... naming the option" "--state-dir: 'rel/state': expected an absolute path" "$(cat "$T/err")"
check_status "--file with --state-dir is a usage error" 2 sctl audit --file "$LOG" --state-dir "$T"
# No broker on it: the file a broker shuttlectl starts there writes.
mkdir -p "$T/quiet"
cp "$LOG" "$T/quiet/audit.jsonl"
check_status "--state-dir DIR without a broker reads DIR/audit.jsonl" 0 sctl audit --state-dir "$T/quiet" --json
check_eq "... all of it" "$(cat "$LOG")" "$(cat "$T/out")"
check_status "... also for --verify" 0 sctl audit --state-dir "$T/quiet" --verify
check_match "... which checks it" '^audit log OK: 20 records, chain intact$' "$(head -1 "$T/out")"
check_status "--state-dir DIR without a log there fails" 1 sctl audit --state-dir "$T/empty"
check_match "... naming the file and why it was chosen" \
        "'$T/empty/audit.jsonl' \(no broker answers on $T/empty; a broker shuttlectl starts there writes this file\)" \
        "$(cat "$T/err")"

# ---- --verify ----
check_status "--verify on an intact log" 0 sctl audit --file "$LOG" --verify
check_match "... says so" '^audit log OK: 20 records, chain intact$' "$(head -1 "$T/out")"

# Flip one byte inside record 7's object ("object-6" → "object-7").
off=$(grep -b -o '"object":"object-6"' "$LOG" | cut -d: -f1)
printf '7' | dd of="$LOG" bs=1 seek=$((off + 17)) conv=notrunc status=none
check_status "--verify after one flipped byte" 1 sctl audit --file "$LOG" --verify
check_match "... names the record and the problem" ':7: record seq 7: hash mismatch' "$(cat "$T/out")"

# ---- text a terminal would misread ----
# A record as an older writer left it: U+202E and a C1 control (CSI) raw
# in the object, with a correct hash.
OLD=$T/old.jsonl
G=0000000000000000000000000000000000000000000000000000000000000000
body='{"ts":"2024-05-01T12:00:00.000000Z","seq":1,"group":null,"from":"web","to":"db","kind":"transfer","op":"open","object":"/x'$'\u202e''fdp'$'\xc2\x9b''m","decision":"deny","rule":null,"reason":null,"prev":"'$G'"'
h=$({ printf '%s\n%s}' "$G" "$body"; } | sha256sum | cut -d' ' -f1)
printf '%s,"hash":"%s"}\n' "$body" "$h" >"$OLD"
check_status "(the hand-made record verifies)" 0 sctl audit --file "$OLD" --verify
check_status "the table of a record with U+202E and a C1 control" 0 sctl audit --file "$OLD"
check_match "... shows both escaped" ' open +web → db +/x\\u202efdp\\u009bm +-$' "$(cat "$T/out")"
check_eq "... and neither raw" "0" "$(LC_ALL=C grep -c -P '\xe2\x80\xae|\xc2[\x80-\x9f]' "$T/out")"
check_nomatch "... its rule, null (it was decided by no rule), is not shown as the policy's default" \
        'default' "$(cat "$T/out")"
check_status "--json of it" 0 sctl audit --file "$OLD" --json
check_match "... escapes both as JSON \\u escapes" '"object":"/x\\u202efdp\\u009bm"' "$(cat "$T/out")"
check_eq "... and prints neither raw" "0" "$(LC_ALL=C grep -c -P '\xe2\x80\xae|\xc2[\x80-\x9f]' "$T/out")"
check_eq "... which is the same string to a JSON reader" "$(jq -r .object "$OLD" 2>/dev/null)" "$(jq -r .object "$T/out" 2>/dev/null)"

# ---- retention: what rotation deletes is recorded, and a gap fails ----
R=$T/ret/audit.jsonl
mkdir -p "$T/ret"
"$GEN" --max-size 2048 --keep 2 "$R" 60
check_eq "only --keep rotated files are left" "audit.jsonl audit.jsonl.1 audit.jsonl.2" "$(cd "$T/ret" && echo *)"
check_status "--verify --all fails on the gap rotation left" 1 sctl audit --file "$R" --all --verify
check_match "... naming what is gone and the rotation that deleted it" \
        'audit.jsonl.2:1: record seq ([0-9]+): gap: records seq 1\.\.[0-9]+ are not in the log; seq [0-9]+\.\.[0-9]+ were deleted by rotation at 20[0-9T:.-]+Z \(record seq [0-9]+\)' \
        "$(head -1 "$T/out")"
check_match "... and that the rest is intact" '^\(the [0-9]+ records checked, seq [0-9]+\.\.[0-9]+, chain intact, last hash [0-9a-f]{64}\)$' \
        "$(tail -1 "$T/out")"
check_status "plain --verify fails on it too" 1 sctl audit --file "$R" --verify
check_status "the table shows the drop record" 0 sctl audit --file "$R" --all
check_match "... as what was deleted" ' dropped +audit .* audit\.jsonl\.2 +seq [0-9]+\.\.[0-9]+ deleted by rotation$' "$(cat "$T/out")"

# ---- --follow ----
rm -f "$LOG"
"$GEN" "$LOG" 20
timeout 20 "$SHUTTLECTL" audit --file "$LOG" --follow --json >"$T/follow.out" 2>"$T/follow.err" &
FOLLOW_PID=$!
wait_for_lines "$T/follow.out" 20
"$GEN" --now --object-prefix followed "$LOG" 1
if wait_for_lines "$T/follow.out" 21 && grep -q '"object":"followed-20"' "$T/follow.out"; then
        ok "--follow prints a record appended after it started"
else
        not_ok "--follow prints a record appended after it started"
        diag "$(cat "$T/follow.out" "$T/follow.err")"
fi
# Enough records to rotate twice: the follower ends on the new file's last.
"$GEN" --now --object-prefix rotated --max-size 3000 "$LOG" 20
if [ -e "$LOG.1" ] && wait_until grep -q '"object":"rotated-40"' "$T/follow.out"; then
        ok "--follow continues across a rotation"
else
        not_ok "--follow continues across a rotation"
        diag "$(tail -3 "$T/follow.out")" "$(cat "$T/follow.err")"
fi
check_eq "... and it is still running (like tail -f)" 0 "$(kill -0 "$FOLLOW_PID" 2>/dev/null; echo $?)"
stop_follow
check_eq "... and no follower is left behind" "" "$(pgrep -f -- "--file $LOG --follow" || true)"

# ---- real brokers, found through their state directory (root) ----
if [ "$(id -u)" != 0 ]; then
        for i in $(seq 13); do ok "# SKIP brokers and containers need root"; done
        finish
fi

# `run GROUP.yaml` starts a broker when none runs; its audit log is beside
# the state directory, and the notice names it.
A=$T/auto
cat >"$T/g.yaml" <<YAML
group: audcli
containers:
  one:
    command: ["sleep", "300"]
YAML
out=$("$SHUTTLECTL" run --state-dir "$A" --detach "$T/g.yaml" 2>&1)
check_match "run GROUP.yaml names the audit log of the broker it started" \
        "started shuttled \(state in $A, audit log $A/audit\.jsonl\)" "$out"
AUTO_PID=$(pgrep -f "^shuttled --state-dir $A --audit-log" | head -1)
"$SHUTTLECTL" stop --state-dir "$A" audcli >/dev/null 2>&1
wait_until grep -q '"kind":"container","op":"stop"' "$A/audit.jsonl"
check_status "audit --state-dir reads that broker's log" 0 sctl audit --state-dir "$A"
check_match "... the container's start" '^[0-9: Z-]+ +[0-9]+ allow +container +start +' "$(cat "$T/out")"
check_match "... and its stop, told apart by the OP column" '^[0-9: Z-]+ +[0-9]+ allow +container +stop +' "$(cat "$T/out")"
check_match "... whose rule is '-' (the broker's own record, no policy decided it)" \
        ' container +stop +.* -$' "$(cat "$T/out")"
# The broker it started runs detached: stop it.
if [ -n "$AUTO_PID" ] && kill -TERM "$AUTO_PID" && wait_until sh -c "! kill -0 $AUTO_PID"; then
        ok "(the broker run started stops on SIGTERM)"
        AUTO_PID=
else
        not_ok "(the broker run started stops on SIGTERM)"
        stop_auto
fi
check_status "... and with it stopped, audit --state-dir still reads the log beside it" 0 \
        sctl audit --state-dir "$A" --json
check_eq "... the same lines" "$(cat "$A/audit.jsonl")" "$(cat "$T/out")"

# A broker started with --audit-log elsewhere: it says where its log is.
AUDIT_LOG=$T/elsewhere/broker.jsonl
cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules: []
YAML
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
"${SRUN[@]}" --name b -- sleep 300 >"$T/b.out" 2>&1 &
b_job=$!
wait_until test -S "$STATE_DIR/broker/b/broker.sock" || diag "b did not register: $(cat "$T/b.out")"
out=$(srun --name a -- sh -c '/run/shuttle/bin/shuttle-invoke b /bin/true; echo rc=$?' 2>&1)
check_match "an invocation no rule allows is refused" "rc=125" "$out"
check_status "audit --state-dir reads the log the broker was started with (--audit-log)" 0 \
        sctl audit --state-dir "$STATE_DIR" --json
check_eq "... all of it" "$(cat "$AUDIT_LOG")" "$(cat "$T/out")"
check_match "... the default's deny says so: rule \"default\", as docs/AUDIT.md says" \
        '"from":"a","to":"b","kind":"invoke","op":"exec","object":"/bin/true","decision":"deny","rule":"default"' \
        "$(cat "$T/out")"
sctl audit --state-dir "$STATE_DIR" --kind invoke >"$T/out" 2>&1
check_match "... and the table shows it: OP exec, RULE default" \
        '^[0-9: Z-]+ +[0-9]+ deny +invoke +exec +a → b +/bin/true +default$' "$(cat "$T/out")"
kill -TERM "$b_job" 2>/dev/null
wait "$b_job" 2>/dev/null
stop_broker

finish
