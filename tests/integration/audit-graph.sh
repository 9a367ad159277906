#!/bin/bash
# shuttlectl audit graph: a small hand-made log whose graph is worked out
# by hand (DOT and JSON, the window, the filters, a policy's overlay),
# usage errors, --output replaced only when complete, SVG and PNG through
# Graphviz when it is installed, a generated site of 203 containers; then
# (as root) the graph of what a real broker decided.  The first parts
# read files only: no root, no containers.
. "$(dirname "$0")/lib.sh"

GEN=${top_srcdir:-.}/tests/integration/audit-graph-gen.py
LOG=$T/hand.jsonl

plan 62

# json_edges FILE: "from to kind allow deny style[ declared]" per edge.
json_edges() {
        python3 -c '
import json, sys
g = json.load(open(sys.argv[1]))
for e in g["edges"]:
    d = "" if "declared" not in e else (" declared" if e["declared"] else " undeclared")
    print(e["from"], e["to"], e["kind"], e["allow"], e["deny"], e["style"] + d)' "$1"
}
json_nodes() {
        python3 -c '
import json, sys
g = json.load(open(sys.argv[1]))
print(" ".join("%s/%s" % (n["group"] or "-", n["name"]) for n in g["nodes"]))' "$1"
}

# ---- a log worked out by hand ----
# web and db (group shop) start; web asks db 3 times (allowed by web-db)
# and is refused once by a limit; web is denied cache once in full and 10
# times in a summary; mail (office) invokes viewer once, and the end of
# that is no second request; a reload and a revocation are no requests;
# one more web → db at 12:10.
ts() { printf '"ts":"2024-05-01T12:%s.000000Z"' "$1"; }
{
        echo "{$(ts 00:00),\"group\":\"shop\",\"from\":\"web\",\"to\":\"web\",\"kind\":\"container\",\"op\":\"start\",\"decision\":\"allow\",\"rule\":\"-\"}"
        echo "{$(ts 00:00),\"group\":\"shop\",\"from\":\"db\",\"to\":\"db\",\"kind\":\"container\",\"op\":\"start\",\"decision\":\"allow\",\"rule\":\"-\"}"
        for i in 1 2 3; do
                echo "{$(ts 00:01),\"group\":\"shop\",\"from\":\"web\",\"to\":\"db\",\"kind\":\"ipc\",\"op\":\"connect\",\"object\":\"db.kv\",\"decision\":\"allow\",\"rule\":\"web-db\"}"
        done
        echo "{$(ts 00:02),\"group\":\"shop\",\"from\":\"web\",\"to\":\"db\",\"kind\":\"ipc\",\"op\":\"connect\",\"object\":\"db.kv\",\"decision\":\"deny\",\"rule\":\"-\"}"
        echo "{$(ts 00:03),\"group\":\"shop\",\"from\":\"web\",\"to\":\"cache\",\"kind\":\"ipc\",\"op\":\"connect\",\"object\":\"cache.x\",\"decision\":\"deny\",\"rule\":\"default\"}"
        echo "{$(ts 00:03),\"group\":\"shop\",\"from\":\"web\",\"to\":\"cache\",\"kind\":\"ipc\",\"op\":\"connect\",\"object\":\"cache.x\",\"decision\":\"deny\",\"rule\":\"default\",\"suppressed\":10}"
        echo "{$(ts 00:04),\"group\":\"office\",\"from\":\"mail\",\"to\":\"viewer\",\"kind\":\"invoke\",\"op\":\"exec\",\"object\":\"/usr/bin/pdfview\",\"decision\":\"allow\",\"rule\":\"mail-opens-pdf\"}"
        echo "{$(ts 00:05),\"group\":\"office\",\"from\":\"mail\",\"to\":\"viewer\",\"kind\":\"invoke\",\"op\":\"end\",\"object\":\"/usr/bin/pdfview\",\"decision\":\"allow\",\"rule\":\"mail-opens-pdf\"}"
        echo "{$(ts 00:06),\"group\":null,\"from\":null,\"to\":null,\"kind\":\"policy\",\"op\":\"reload\",\"decision\":\"allow\",\"rule\":\"-\"}"
        echo "{$(ts 00:06),\"group\":\"shop\",\"from\":\"web\",\"to\":\"db\",\"kind\":\"transfer\",\"op\":\"revoke\",\"decision\":\"allow\",\"rule\":\"-\"}"
        echo "{$(ts 10:00),\"group\":\"shop\",\"from\":\"web\",\"to\":\"db\",\"kind\":\"ipc\",\"op\":\"connect\",\"object\":\"db.kv\",\"decision\":\"allow\",\"rule\":\"web-db\"}"
} >"$LOG"

check_status "audit graph writes DOT by default" 0 sctl audit graph --file "$LOG"
cp "$T/out" "$T/small.dot"
check_match "... a digraph" '^digraph shuttle \{$' "$(head -1 "$T/small.dot")"
check_match "... a cluster per group" 'label="group shop";' "$(cat "$T/small.dot")"
check_eq "... one edge per (from, to, kind): web → db ipc, web → cache ipc, mail → viewer invoke" 3 \
        "$(grep -c -- ' -> ' "$T/small.dot")"
check_match "... web → db counted, with its rules (mixed: orange)" \
        'label="ipc: 4 allowed, 1 denied\\nweb-db \(4\), - \(1\)", color="#e07000"' "$(cat "$T/small.dot")"
check_match "... web → cache: the summary's 10 and the 1 in full (refused: red)" \
        'label="ipc: 11 denied\\ndefault", color="#d62728"' "$(cat "$T/small.dot")"
check_match "... the invocation once, not twice" 'label="invoke: 1 allowed\\nmail-opens-pdf"' "$(cat "$T/small.dot")"
check_match "... the legend counts the requests" '17 requests\.' "$(cat "$T/small.dot")"

check_status "--format json" 0 sctl audit graph --file "$LOG" --format json
cp "$T/out" "$T/small.json"
check_eq "... the nodes: by group, then the ungrouped" "office/mail shop/db shop/web -/cache -/viewer" \
        "$(json_nodes "$T/small.json")"
check_eq "... the edges" "mail viewer invoke 1 0 used
web db ipc 4 1 mixed
web cache ipc 0 11 refused" "$(json_edges "$T/small.json")"

check_status "--until 2024-05-01T12:05:00Z" 0 sctl audit graph --file "$LOG" --format json --until 2024-05-01T12:05:00Z
check_eq "... leaves out the allow at 12:10" "web db ipc 3 1 mixed" "$(json_edges "$T/out" | grep '^web db')"
check_match "... and says so" '"until": "2024-05-01T12:05:00.000000Z"' "$(cat "$T/out")"
check_status "--since 2024-05-01T12:00:04Z" 0 sctl audit graph --file "$LOG" --format json --since 2024-05-01T12:00:04Z
check_eq "... keeps the invocation and the last allow" "mail viewer invoke 1 0 used
web db ipc 1 0 used" "$(json_edges "$T/out")"
check_status "--from web --kind ipc --to 'c*'" 0 sctl audit graph --file "$LOG" --format json --from web --kind ipc --to 'c*'
check_eq "... one edge" "web cache ipc 0 11 refused" "$(json_edges "$T/out")"
check_eq "... web still in its group" "shop/web -/cache" "$(json_nodes "$T/out")"

# ---- a policy's overlay, worked out by hand ----
cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
rules:
  - { id: web-db, from: shop/web, to: shop/db, allow: ipc, endpoint: kv }
  - { id: web-finds-db, from: web, to: db, allow: transfer, service: kv }
  - { id: all-log, from: "*", to: logger, allow: ipc, endpoint: log }
  - { id: mail-opens-pdf, from: office/mail, to: viewer, allow: invoke, app: /usr/bin/pdfview }
  - { id: cache-sig, from: cache, to: web, allow: signal }
  - { id: no-sig-web, from: "*", to: web, deny: signal }
YAML
check_status "--policy" 0 sctl audit graph --file "$LOG" --format json --policy "$T/policy.yaml"
# logger is named by the policy; every other node may log to it (never
# used); web may find db (never used); cache's signal to web is taken
# back whole by no-sig-web; web → cache is allowed by no rule.
check_eq "... declared, used, refused and never used edges" "mail logger ipc 0 0 unused declared
mail viewer invoke 1 0 used declared
db logger ipc 0 0 unused declared
web db ipc 4 1 mixed declared
web db transfer 0 0 unused declared
web cache ipc 0 11 refused undeclared
web logger ipc 0 0 unused declared
cache logger ipc 0 0 unused declared
viewer logger ipc 0 0 unused declared" "$(json_edges "$T/out")"
check_status "... as DOT" 0 sctl audit graph --file "$LOG" --policy "$T/policy.yaml"
check_match "... never used: dashed, grey" \
        'label="transfer: never used\\nweb-finds-db", color="#8c8c8c", fontcolor="#8c8c8c", style=dashed' "$(cat "$T/out")"
check_match "... a node only the policy names: dashed" 'label="logger", style="rounded,dashed"' "$(cat "$T/out")"
# A policy that no longer allows the invocation that happened.
printf 'version: 1\nrules:\n  - { id: web-db, from: web, to: db, allow: ipc, endpoint: kv }\n' >"$T/narrow.yaml"
check_status "--policy that does not allow a used edge" 0 sctl audit graph --file "$LOG" --policy "$T/narrow.yaml"
check_match "... says so on it" 'label="invoke: 1 allowed\\nmail-opens-pdf\\n\(not allowed by this policy\)"' "$(cat "$T/out")"
printf 'version: 1\nrules:\n  - { id: x, from: a, to: b, allow: ipcc }\n' >"$T/bad.yaml"
check_status "a refused policy fails" 1 sctl audit graph --file "$LOG" --policy "$T/bad.yaml"
check_match "... with file:line:col" "$T/bad.yaml:3:[0-9]+: " "$(cat "$T/err")"

# ---- usage errors ----
check_status "--format gif is a usage error" 2 sctl audit graph --file "$LOG" --format gif
check_match "... naming the option" "invalid --format 'gif'" "$(cat "$T/err")"
check_status "--until before --since is a usage error" 2 sctl audit graph --file "$LOG" --since 2024-05-01T13:00:00Z \
        --until 2024-05-01T12:00:00Z
check_status "an unknown option is a usage error" 2 sctl audit graph --file "$LOG" --follow
check_match "... naming it" "'--follow'" "$(cat "$T/err")"
check_status "a missing log fails" 1 sctl audit graph --file "$T/nope.jsonl"
check_match "... naming it" "$T/nope.jsonl" "$(cat "$T/err")"
{ cat "$LOG"; echo 'not json'; echo '[1,2]'; } >"$T/junk.jsonl"
check_status "lines that are not records are skipped" 0 sctl audit graph --file "$T/junk.jsonl" --format json
check_match "... with one warning that counts them" "$T/junk.jsonl: 2 lines not JSON records, skipped \(the first: line 14\)" \
        "$(cat "$T/err")"
check_eq "... the graph the same" "$(cat "$T/small.json")" "$(cat "$T/out")"
check_status "plain 'audit' still shows the table" 0 sctl audit --file "$LOG"
check_match "... its header" '^TIME +SEQ +DECISION' "$(head -1 "$T/out")"

# ---- --output: the format from the suffix, replaced only when complete ----
check_status "-o FILE.json writes JSON" 0 sctl audit graph --file "$LOG" -o "$T/g.json"
check_eq "... the same graph" "$(cat "$T/small.json")" "$(cat "$T/g.json")"
echo before >"$T/keep.dot"
check_status "a failed run (refused policy) ..." 1 sctl audit graph --file "$LOG" --policy "$T/bad.yaml" -o "$T/keep.dot"
check_eq "... leaves the old output as it was" before "$(cat "$T/keep.dot")"
check_eq "... and no temporary file" "" "$(ls "$T" | grep '^keep\.dot\.')"

# ---- SVG and PNG through Graphviz ----
if command -v dot >/dev/null 2>&1; then
        check_status "-o FILE.svg" 0 sctl audit graph --file "$LOG" -o "$T/g.svg"
        check_match "... is SVG" '<svg ' "$(head -c 2000 "$T/g.svg")"
        check_match "... with the edge's label" 'ipc: 4 allowed, 1 denied' "$(cat "$T/g.svg")"
        check_status "--format png to a pipe" 0 sh -c "'$SHUTTLECTL' audit graph --file '$LOG' --format png | cat >'$T/g.png'"
        check_eq "... is PNG" "89504e47" "$(head -c 4 "$T/g.png" | od -An -tx1 | tr -d ' \n')"
else
        for i in 1 2 3 4 5; do ok "# SKIP Graphviz's dot is not installed"; done
fi
check_status "svg without dot in PATH fails" 1 env PATH=/nonexistent "$SHUTTLECTL" audit graph --file "$LOG" --format svg
check_match "... saying what it needs" "needs Graphviz's 'dot' in PATH" "$(cat "$T/err")"

# ---- 203 containers: 20 app groups and infra ----
python3 "$GEN" "$T/site.jsonl" "$T/site.yaml"
check_status "a site of 203 containers" 0 sctl audit graph --file "$T/site.jsonl" --policy "$T/site.yaml" --format json
cp "$T/out" "$T/site.json"
check_eq "... 203 nodes" 203 "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["nodes"]))' "$T/site.json")"
# Per group: 9 edges used, worker → db mixed (no-admin), metrics → worker
# and web → db refused, backup → api declared but never used.
check_eq "... 260 edges: 180 used, 20 mixed, 40 refused, 20 never used" "20 mixed
40 refused
20 unused
180 used" "$(json_edges "$T/site.json" | awk '{ print $6 }' | sort | uniq -c | awk '{ print $1, $2 }')"
check_eq "... each group's 12 or 13 edges stay in the group or go to infra" 0 \
        "$(json_edges "$T/site.json" | awk '{ split($1, a, "-"); split($2, b, "-"); if (a[1] != b[1] && b[1] != "infra") print }' | wc -l)"
check_eq "... web → db of a group: the 3 in full and the summary's 20" "shop07-web shop07-db ipc 0 23 refused undeclared" \
        "$(json_edges "$T/site.json" | grep '^shop07-web shop07-db ')"
if command -v dot >/dev/null 2>&1; then
        check_status "... drawn as PNG" 0 sctl audit graph --file "$T/site.jsonl" --policy "$T/site.yaml" -o "$T/site.png"
        check_eq "... is PNG" "89504e47" "$(head -c 4 "$T/site.png" | od -An -tx1 | tr -d ' \n')"
else
        for i in 1 2; do ok "# SKIP Graphviz's dot is not installed"; done
fi

# ---- what a real broker decided (root) ----
if [ "$(id -u)" != 0 ]; then
        for i in $(seq $((_n + 1)) 62); do ok "# SKIP the broker part needs root"; done
        finish
fi
cat >"$T/rpolicy.yaml" <<'YAML'
version: 1
default: deny
rules:
  - { id: ga-uses-kv, from: ga, to: gb, allow: ipc, endpoint: kv }
YAML
start_broker --policy "$T/rpolicy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
H=/opt/t
VOL=(-v "$(cd "$HELPERS" && pwd):$H:ro" -v "$(cd "${top_builddir:-.}" && pwd):/opt/b:ro")
"${SRUN[@]}" --name gb "${VOL[@]}" --export kv=/run/kv.sock --export admin=/run/admin.sock \
        -- "$H/sockecho" serve kv /run/kv.sock admin /run/admin.sock >"$T/gb.out" 2>&1 &
GB=$!
wait_until grep -q serving "$T/gb.out" || diag "gb did not start: $(cat "$T/gb.out")"
# One connection allowed (kv), one refused by the default (admin).
srun --name ga "${VOL[@]}" -- sh -c 'echo one | /opt/b/shuttle-connect gb.kv; echo two | /opt/b/shuttle-connect gb.admin' \
        >"$T/ga.out" 2>&1
check_match "ga reached kv" "kv:one" "$(cat "$T/ga.out")"
check_status "the graph of the log the broker on --state-dir writes" 0 sctl audit graph --state-dir "$STATE_DIR" \
        --format json --policy "$T/rpolicy.yaml"
check_eq "... ga → gb: kv allowed, admin denied" "ga gb ipc 1 1 mixed declared" "$(json_edges "$T/out")"
kill -TERM "$GB" 2>/dev/null; wait "$GB" 2>/dev/null
stop_broker
finish
