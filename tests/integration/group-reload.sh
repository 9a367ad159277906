#!/bin/bash
# `shuttlectl policy reload` (and SIGHUP) re-reads each running group's
# policy from its group file (a policy file it names, or inline), says what
# it read (files, rules, per group), and is all or nothing: a refused file
# (the node's, a group file, a group's policy file; a group file gone or
# renamed) leaves every old policy serving, names file:line and exits 1.
# The copy a restarted broker restores is kept up to date, and every
# reload is audited.
. "$(dirname "$0")/lib.sh"
require_root
plan 39

H=/opt/t
G=$T/g
COPY=$STATE_DIR/groups/rg/policy.yaml
mkdir -p "$G"

cat >"$T/node.yaml" <<'YAML'
version: 1
default: deny
rules:
  - { id: node-only, from: x, to: y, allow: ipc }
YAML
group_file() {   # group_file [NAME]: the group file with `policy: policy.yaml`
        cat >"$G/group.yaml" <<YAML
group: ${1:-rg}
policy: policy.yaml
containers:
  rlb:
    command: ["$H/sockecho", "serve", "gkv", "/run/kv.sock"]
    exports:
      - { name: kv, socket: /run/kv.sock }
    ready: { socket: /run/kv.sock, timeout: 5s }
    volumes: ["$(cd "$HELPERS" && pwd):$H:ro"]
  rla:
    command: ["sleep", "infinity"]
    depends_on: [rlb]
    volumes: ["$(cd "$HELPERS" && pwd):$H:ro"]
YAML
}
deny_policy() {
        cat >"$G/policy.yaml" <<'YAML'
version: 1
default: deny
rules:
  - { id: unrelated, from: rlb, to: rla, allow: ipc, endpoint: none }
YAML
}
allow_policy() {
        cat >"$G/policy.yaml" <<'YAML'
version: 1
default: deny
rules:
  - { id: rla-kv, from: rla, to: rlb, allow: ipc, endpoint: kv }
  - { id: unrelated, from: rlb, to: rla, allow: ipc, endpoint: none }
YAML
}
reload() { "$SHUTTLECTL" policy reload --state-dir "$STATE_DIR" "$@" 2>&1; echo "rc=$?"; }
# What rla sees of rlb's service: its proxy socket and what a call returns.
svc() { "$SHUTTLECTL" exec --state-dir "$STATE_DIR" rla -- sh -c 'ls -A /run/shuttle/svc' 2>&1 | tr '\n' ' '; }
call() { "$SHUTTLECTL" exec --state-dir "$STATE_DIR" rla -- $H/sockecho call /run/shuttle/svc/rlb.kv "$1" 2>&1; }

group_file
deny_policy
start_broker --policy "$T/node.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
out=$("$SHUTTLECTL" run --state-dir "$STATE_DIR" --no-shim --detach "$G/group.yaml" 2>&1)
check_match "the group starts" "group 'rg' is up" "$out"
check_eq "its policy gives rla no way to rlb" "" "$(svc)"

# An edit of the group's policy file, then a reload: rla now reaches rlb.
allow_policy
out=$(reload)
check_eq "reload says what it read: the node's file and the group's, with their rules" \
        "policy reloaded|  shuttled: $T/node.yaml: 1 rules|  group rg: $G/policy.yaml (named in $G/group.yaml): 2 rules|rc=0" \
        "$(echo "$out" | paste -sd'|')"
check_eq "... and the group's new policy is in force: rla reaches rlb's service" "gkv:after-reload" "$(call after-reload)"
check_match "... the copy a restarted broker restores is the new one" "id: rla-kv" "$(cat "$COPY")"
check_eq "... no temporary copy is left" "" "$(ls "$STATE_DIR/groups/rg" | grep -v -x -e lock -e supervisor.json -e supervisor.log -e policy.yaml)"
check_match "... audited for the node's policy" \
        '"group":null,"from":null,"to":null,"kind":"policy","op":"reload","object":"'"$T"'/node.yaml","decision":"allow","rule":"-","reason":"reloaded","files":\["'"$T"'/node.yaml"\],"rules":1' \
        "$(audit_grep '"kind":"policy"')"
check_match "... and for the group's, with its group file" \
        '"group":"rg","from":null,"to":null,"kind":"policy","op":"reload","object":"'"$G"'/policy.yaml","decision":"allow","rule":"-","reason":"reloaded","group_file":"'"$G"'/group.yaml","rules":2' \
        "$(audit_grep '"kind":"policy"')"

# A broken edit (and a good one of the node's file in the same reload):
# nothing is applied, the errors name file:line:col, exit 1.
cp "$COPY" "$T/copy-before"
cat >"$G/policy.yaml" <<'YAML'
version: 1
default: deny
rules:
  - { id: rla-kv, from: rla, to: rlb, allow: talk, endpoint: kv }
YAML
printf '  - { id: node-two, from: x, to: z, allow: ipc }\n' >>"$T/node.yaml"
out=$(reload)
check_match "a broken group policy is refused with its file:line:col, exit 1" \
        "^$G/policy.yaml:4:[0-9]+: .*talk.*rc=1$" "$(echo $out)"
check_match "... the reply says nothing was applied and why, per policy" \
        "refused, nothing applied; the old policies keep serving: shuttled: $T/node.yaml: 2 rules, not applied group rg \($G/group.yaml\): refused rc=1" \
        "$(echo $out)"
check_eq "... the group's old policy keeps serving" "gkv:after-bad-edit" "$(call after-bad-edit)"
check_status "... and so does the node's" 0 cmp -s "$T/copy-before" "$COPY"
check_match "... the refusal is audited with the first error" \
        '"group":"rg",.*"kind":"policy","op":"reload","object":"'"$G"'/group.yaml","decision":"deny","rule":"-","reason":"'"$G"'/policy.yaml:4:[0-9]+: ' \
        "$(audit_grep '"kind":"policy"' | tail -1)"
check_match "... as is the node's policy that was not applied" \
        '"object":"'"$T"'/node.yaml","decision":"deny","rule":"-","reason":"not applied: another policy of the reload was refused","files":\[.*\],"rules":2' \
        "$(audit_grep '"kind":"policy"' | tail -2 | head -1)"
check_match "... and logged by the broker" "Policy reload refused, keeping the old policies" "$(cat "$T/shuttled.log")"

# The group file itself is read again and checked: an error in it, a group
# renamed, a group file gone: refused the same way.
deny_policy
cp "$G/group.yaml" "$T/group.yaml.good"
sed -i 's/^    depends_on: \[rlb\]$/    depends_om: [rlb]/' "$G/group.yaml"
line=$(grep -n depends_om "$G/group.yaml" | cut -d: -f1)
out=$(reload)
check_match "an error in the group file is refused at its line, exit 1" \
        "^$G/group.yaml:$line:5: unknown key 'depends_om'.*rc=1$" "$(echo $out)"
check_eq "... and the old policy keeps serving" "gkv:after-bad-group" "$(call after-bad-group)"
group_file other
out=$(reload)
check_match "a group file that now names another group is refused" \
        "$G/group.yaml: names group 'other', not 'rg'.*rc=1" "$(echo $out)"
mv "$G/group.yaml" "$T/moved.yaml"
out=$(reload)
check_match "a group file that is gone is refused, saying so" "$G/group.yaml: cannot open: No such file or directory.*rc=1" \
        "$(echo $out)"
check_eq "... and the old policy still serves" "gkv:after-gone" "$(call after-gone)"
sed -e '/^policy:/d' "$T/group.yaml.good" >"$G/group.yaml"
out=$(reload)
check_match "a group file that names no policy any more is refused" \
        "$G/group.yaml: names no policy any more .*rc=1" "$(echo $out)"

# Inline: the group file holds the policy.
{ sed -e '/^policy:/,$d' "$T/group.yaml.good"
  printf 'policy:\n  version: 1\n  default: deny\n  rules:\n    - { id: in-kv, from: rla, to: rlb, allwo: ipc }\n'
  sed -n '/^containers:/,$p' "$T/group.yaml.good"
} >"$G/group.yaml"
out=$(reload)
check_match "an inline policy's error is reported at its place in the group file" \
        "^$G/group.yaml:6:[0-9]+: .*allwo.*rc=1$" "$(echo $out)"
sed -i 's/allwo: ipc }/allow: ipc, endpoint: other }/' "$G/group.yaml"
out=$(reload)
check_match "an inline policy reloads, named as such" \
         "group rg: inline in $G/group.yaml: 1 rules rc=0" "$(echo $out)"
check_eq "... and is in force: rla's way to rlb is gone" "" "$(svc)"
check_match "... the copy follows it" "id: in-kv" "$(cat "$COPY")"

# SIGHUP re-reads the group the same way.
sed -i 's/endpoint: other }/endpoint: kv }/' "$G/group.yaml"
before=$(grep -c "Policy of group 'rg' reloaded" "$T/shuttled.log")
kill -HUP "$BROKER_PID"
wait_until sh -c "[ \$(grep -c \"Policy of group 'rg' reloaded\" '$T/shuttled.log') -gt $before ]"
check_match "SIGHUP reloads the group's policy too, and logs what it read" \
        "Policy of group 'rg' reloaded from inline in $G/group.yaml: 1 rules" "$(cat "$T/shuttled.log")"
check_eq "... in force" "gkv:after-sighup" "$(call after-sighup)"

# A broker killed and restarted restores the newest copy, and still knows
# where the group file is.
kill -KILL "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null
start_broker --policy "$T/node.yaml" || { echo "Bail out! shuttled did not restart"; exit 1; }
check_eq "after kill -9 and a restart, the broker decides with the newest policy" "gkv:after-restart" \
        "$(call after-restart)"
sed -i 's/endpoint: kv }/endpoint: other }/' "$G/group.yaml"
out=$("$SHUTTLECTL" policy reload --state-dir "$STATE_DIR" --json 2>&1; echo "rc=$?")
check_match "... and a reload still re-reads the group file (--json)" \
        '"group": "rg",.*"source": "'"$G"'/group.yaml",.*"status": "reloaded",.*"rules": 1.*rc=0' "$(echo $out)"
check_match "... --json also gives the node's policy" \
        '"policy": \{ "files": \[ "'"$T"'/node.yaml" \], "status": "reloaded", "error": null, "rules": 2 \}' "$(echo $out)"
check_eq "... in force" "" "$(svc)"

# A refused reload with --json: the errors and each item's status.
cp "$T/node.yaml" "$T/policy-node.good"
printf 'version: 1\nrules: [\n' >"$T/node.yaml"
out=$("$SHUTTLECTL" policy reload --state-dir "$STATE_DIR" --json 2>&1; echo "rc=$?")
check_match "a refused reload with --json: ok false, the node's file refused, the group not applied, exit 1" \
        '"ok": false,.*"status": "refused",.*"group": "rg",.*"status": "not-applied",.*"error": "'"$T"'/node.yaml:[0-9]+:.*rc=1' "$(echo $out)"

# A supervisor killed (it cannot drop its policy) takes its containers
# with it; its group file may be gone too, and must not stop reloads.
cp "$T/policy-node.good" "$T/node.yaml"
sup=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$STATE_DIR/groups/rg/supervisor.json")
kill -KILL "$sup"
wait_until sh -c "! \"$SHUTTLECTL\" ps --state-dir '$STATE_DIR' | grep -q -w rg"
mv "$G/group.yaml" "$T/group.yaml.last"
out=$(reload)
check_match "a group whose supervisor was killed is left out of a reload, and its policy dropped" \
        "^policy reloaded shuttled: $T/node.yaml: 2 rules group rg: its supervisor is gone: its policy is dropped rc=0$" \
        "$(echo $out)"
out=$(reload)
check_eq "... once" "policy reloaded|  shuttled: $T/node.yaml: 2 rules|rc=0" "$(echo "$out" | paste -sd'|')"

# Run again over what the killed one left, and stopped.
mv "$T/group.yaml.last" "$G/group.yaml"
out=$("$SHUTTLECTL" run --state-dir "$STATE_DIR" --no-shim --detach "$G/group.yaml" 2>&1)
check_match "the group runs again after its supervisor was killed" "group 'rg' is up" "$out"
out=$("$SHUTTLECTL" stop --state-dir "$STATE_DIR" rg 2>&1; echo "rc=$?")
check_match "the group stops" "rc=0" "$out"
check_eq "... and its copy of the policy is gone" "" "$(ls "$STATE_DIR/groups/rg" 2>/dev/null | grep policy)"
check_eq "... and nothing of its containers is left" "" "$(leftovers rla; leftovers rlb)"
"$SHUTTLECTL" audit --file "$AUDIT_LOG" --verify >"$T/verify" 2>&1
check_eq "the audit chain verifies" "0" "$?"
stop_broker
finish
