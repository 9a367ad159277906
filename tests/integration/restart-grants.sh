#!/bin/bash
# What running containers were granted survives a broker killed with
# SIGKILL (invariant 11): after a restart, a live transfer is listed again
# with its id and revocable, a depend mount is in the books again (taken
# away when its provider stops, not mounted twice); a grant whose source
# or provider stopped while the broker was down is taken down and audited;
# an unreadable record neither crashes the broker nor leaves its mount.
# Then the bound on live transfers into one target.
# (Containers are named rg*, which no other test uses.)
. "$(dirname "$0")/lib.sh"
require_root
plan 36

mkdir -p "$T/tree"
echo tree-content >"$T/tree/hello.txt"
cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules:
  - { id: share, from: "rg*", to: rgb, allow: transfer, path: "/tmp/share/**" }
  - { id: placed, from: rga, to: rgb, allow: transfer, path: /tmp/placed.txt, as: /tmp/inbox/placed.txt }
  - { id: from-p, from: rgb, to: rgp, allow: depend, path: /data/tree, at: /tmp/fromp }
  - { id: from-q, from: rgb, to: rgq, allow: depend, path: /data/tree, at: /tmp/fromq }
YAML

start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
H=/opt/t
VOL=(-v "$(cd "$HELPERS" && pwd):$H:ro")
SX=("$SHUTTLECTL" exec --state-dir "$STATE_DIR")

# source NAME: a container with /tmp/share/doc.txt and /tmp/placed.txt.
source_start() {
        "${SRUN[@]}" --name "$1" "${VOL[@]}" -- sh -c "
                mkdir -p /tmp/share; echo doc-of-$1 >/tmp/share/doc.txt; echo placed >/tmp/placed.txt
                touch /tmp/ready; exec sleep 600" >"$T/$1.out" 2>&1 &
}
"${SRUN[@]}" --name rgb "${VOL[@]}" -- sh -c 'mkdir -p /tmp/inbox; touch /tmp/ready; exec sleep 600' \
        >"$T/rgb.out" 2>&1 &
"${SRUN[@]}" --name rgp -v "$T/tree:/data/tree:ro" -- sleep 600 >"$T/rgp.out" 2>&1 &
p_job=$!
"${SRUN[@]}" --name rgq -v "$T/tree:/data/tree:ro" -- sleep 600 >"$T/rgq.out" 2>&1 &
q_job=$!
source_start rga
source_start rgc
c_job=$!
for n in rgb rga rgc; do
        wait_until "${SX[@]}" $n -- test -e /tmp/ready || diag "$n did not start: $(cat "$T/$n.out")"
done
wait_until test -S "$STATE_DIR/broker/rgp/broker.sock" || diag "rgp did not register: $(cat "$T/rgp.out")"
wait_until test -S "$STATE_DIR/broker/rgq/broker.sock" || diag "rgq did not register: $(cat "$T/rgq.out")"

xfer() { local who=$1; shift; "${SX[@]}" "$who" -- $H/brokercall transfer "$@" 2>&1; }
inb() { "${SX[@]}" rgb -- sh -c "$1" 2>&1; }
mounts_at() { inb "grep -c ' $1 ' /proc/self/mountinfo"; }

out=$(xfer rga /tmp/share/doc.txt rgb ro)
id_a=${out%% *}
tp_a=${out#* }
out=$(xfer rgc /tmp/share/doc.txt rgb ro)
id_c=${out%% *}
tp_c=${out#* }
out=$(xfer rga /tmp/placed.txt rgb ro)
id_as=${out%% *}
wait_for '[ "$(mounts_at /tmp/fromp)" = 1 ]'
wait_for '[ "$(mounts_at /tmp/fromq)" = 1 ]'
check_eq "before: rgb reads rga's and rgc's transfers and has both depend trees" \
        "doc-of-rga doc-of-rgc placed tree-content tree-content" \
        "$(inb "cat $tp_a $tp_c /tmp/inbox/placed.txt /tmp/fromp/hello.txt /tmp/fromq/hello.txt" | tr '\n' ' ' | sed 's/ $//')"
check_eq "each grant has a record of its own in a directory only root enters" "700 600" \
        "$(stat -c %a "$STATE_DIR/grants") $(stat -c %a "$STATE_DIR/grants/xfer-$id_a.json")"
check_eq "... five of them" "5" "$(ls "$STATE_DIR/grants" | grep -c '\.json$')"

# The broker dies; while it is down rgc (a source) and rgq (a provider)
# stop, and a record is damaged.
kill -KILL "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null
BROKER_PID=
rm -f "$STATE_DIR/control.sock"
kill -TERM $c_job $q_job
wait $c_job $q_job 2>/dev/null
echo '{"id": 999, "from": ' >"$STATE_DIR/grants/xfer-999.json"
# A well-formed record that names a place the broker never mounts at: it
# must not make a restarted broker unmount what is there.
sed -e 's/"id":[0-9]*,/"id":998,/' -e 's|"target_path":"[^"]*"|"target_path":"/etc/hosts"|' \
        "$STATE_DIR/grants/xfer-$id_a.json" >"$STATE_DIR/grants/xfer-998.json"
hosts_before=$(mounts_at /etc/hosts)
check_eq "with the broker gone, rgb still has rgc's transfer (nobody took it down)" "doc-of-rgc" "$(inb "cat $tp_c")"

start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not restart"; exit 1; }
ls_out=$("$SHUTTLECTL" transfer ls --state-dir "$STATE_DIR" 2>&1)
check_match "after the restart, rga's transfer is listed with its id" "^$id_a +rga +rgb +ro " "$ls_out"
check_match "... and the one placed with 'as'" "^$id_as +rga +rgb +ro .* /tmp/inbox/placed.txt$" "$ls_out"
check_nomatch "... rgc's is not: its source stopped while the broker was down" "^$id_c " "$ls_out"
check_match "... it is taken down and audited" \
        "\"from\":\"rgc\",\"to\":\"rgb\",\"kind\":\"transfer\",\"op\":\"revoke\".*\"reason\":\"the source stopped while the broker was down\".*\"xfer_id\":$id_c" \
        "$(audit_grep '"op":"revoke"')"
check_eq "... its mount is gone from rgb" "0" "$(mounts_at "$tp_c")"
check_match "the restored ones are audited as such" \
        "\"from\":\"rga\",\"to\":\"rgb\",\"kind\":\"transfer\",\"op\":\"adopt\".*\"reason\":\"restored after a broker restart\".*\"xfer_id\":$id_a" \
        "$(audit_grep '"op":"adopt"')"
check_match "the damaged record is audited" \
        '"kind":"transfer","op":"revoke".*"reason":"its record in the state directory is unreadable".*"xfer_id":999' \
        "$(audit_grep '"op":"revoke"')"
check_match "... and so is one that names another place" \
        '"kind":"transfer","op":"revoke".*"reason":"its record in the state directory is unreadable".*"xfer_id":998' \
        "$(audit_grep '"op":"revoke"')"
check_eq "... which stays as it was in rgb" "$hosts_before" "$(mounts_at /etc/hosts)"
check_eq "... and gone, with rgc's" "absent absent absent" \
        "$(for i in 999 998 "$id_c"; do test -e "$STATE_DIR/grants/xfer-$i.json" && echo present || echo absent; done | tr '\n' ' ' | sed 's/ $//')"
check_eq "rgb still reads rga's transfers" "doc-of-rga placed" \
        "$(inb "cat $tp_a /tmp/inbox/placed.txt" | tr '\n' ' ' | sed 's/ $//')"

check_status "transfer revoke of a restored id works" 0 "$SHUTTLECTL" transfer revoke --state-dir "$STATE_DIR" "$id_a"
check_eq "... its mount leaves rgb" "0" "$(mounts_at "$tp_a")"
check_match "... audited as revoked by the operator" \
        "\"op\":\"revoke\",\"object\":\"/tmp/share/doc.txt\".*\"reason\":\"revoked by the operator\".*\"xfer_id\":$id_a" \
        "$(audit_grep '"op":"revoke"')"
check_eq "... and its record with it" "absent" \
        "$(test -e "$STATE_DIR/grants/xfer-$id_a.json" && echo present || echo absent)"
check_status "the one placed with 'as' too" 0 "$SHUTTLECTL" transfer revoke --state-dir "$STATE_DIR" "$id_as"
check_eq "... its mount and the mount point the broker made leave rgb" "0 absent" \
        "$(mounts_at /tmp/inbox/placed.txt) $(inb 'test -e /tmp/inbox/placed.txt && echo present || echo absent')"

out=$(xfer rga /tmp/share/doc.txt rgb ro)
check_match "a new transfer gets an id no grant had (after 999)" "^1000 /run/shuttle/xfer/1000/doc.txt$" "$out"
check_status "... and is revoked" 0 "$SHUTTLECTL" transfer revoke --state-dir "$STATE_DIR" 1000

# Depend mounts.
check_eq "rgp's tree is still in rgb, mounted once (not again on top)" "1 tree-content" \
        "$(mounts_at /tmp/fromp) $(inb 'cat /tmp/fromp/hello.txt')"
check_match "... restored to the books, audited" \
        '"from":"rgb","to":"rgp","kind":"depend","op":"adopt","object":"rgp:/data/tree -> /tmp/fromp".*"reason":"restored after a broker restart"' \
        "$(audit_grep '"op":"adopt"')"
check_eq "rgq's tree, whose provider stopped while the broker was down, is gone from rgb" "0" \
        "$(mounts_at /tmp/fromq)"
check_match "... audited" \
        '"from":"rgb","to":"rgq","kind":"depend","op":"revoke","object":"rgq:/data/tree -> /tmp/fromq".*"reason":"the provider stopped while the broker was down"' \
        "$(audit_grep '"op":"revoke"')"
kill -TERM $p_job
wait $p_job 2>/dev/null
wait_for '[ "$(mounts_at /tmp/fromp)" = 0 ]'
check_eq "when rgp stops now, the restored mount is taken away" "0" "$(mounts_at /tmp/fromp)"
check_match "... audited" '"to":"rgp","kind":"depend","op":"revoke","object":"rgp:/data/tree -> /tmp/fromp".*"reason":"provider stopped"' \
        "$(audit_grep '"op":"revoke"')"
check_eq "no record is left of what was revoked" "" "$(ls "$STATE_DIR/grants")"

# A broker that stops (SIGTERM) takes its transfers down, records too.
out=$(xfer rga /tmp/share/doc.txt rgb ro)
stop_broker
check_eq "a broker that stops takes its transfers down, and their records" "0 " \
        "$(mounts_at "${out#* }") $(ls "$STATE_DIR/grants")"
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not restart"; exit 1; }
check_eq "... a new one finds nothing to restore" "" "$("$SHUTTLECTL" transfer ls --state-dir "$STATE_DIR" --json | tr -d '[]')"

# At most 1024 live transfers into one container: four sources that each
# make 256 (their own bound) fill it, a fifth is refused.
for n in rgs1 rgs2 rgs3 rgs4; do source_start $n; done
for n in rgs1 rgs2 rgs3 rgs4; do
        wait_until "${SX[@]}" $n -- test -e /tmp/ready || diag "$n did not start: $(cat "$T/$n.out")"
done
many=""
for n in rga rgs1 rgs2 rgs3; do
        many="$many $("${SX[@]}" $n -- $H/brokercall transfers /tmp/share/doc.txt rgb 256 2>&1)"
done
check_eq "four sources make 256 transfers each into rgb" " ok 256 ok 256 ok 256 ok 256" "$many"
out=$("${SX[@]}" rgs4 -- $H/brokercall transfer /tmp/share/doc.txt rgb ro 2>&1)
check_match "a fifth source's transfer into rgb is refused" \
        "^refused: .*: too many live transfers into the target \(at most 1024\)$" "$out"
check_match "... audited" '"from":"rgs4","to":"rgb","kind":"transfer","op":"open".*"decision":"deny".*"reason":"too many live transfers into the target' \
        "$(audit_grep '"from":"rgs4"')"
last=$("$SHUTTLECTL" transfer ls --state-dir "$STATE_DIR" --json | grep -oE '"id":[0-9]+' | head -1 | cut -d: -f2)
"$SHUTTLECTL" transfer revoke --state-dir "$STATE_DIR" "$last" >/dev/null 2>&1
out=$("${SX[@]}" rgs4 -- $H/brokercall transfer /tmp/share/doc.txt rgb ro 2>&1)
check_match "... and let through once one is revoked" "^[0-9]+ /run/shuttle/xfer/" "$out"

stop_broker
finish
