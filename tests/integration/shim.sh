#!/bin/bash
# libshuttle-shim.so: preloaded by `shuttlectl run`, it turns connect() to
# /run/shuttle/svc/X.Y and to the address of "X.Y.shuttle" into the broker's
# fast path (audited as op "connect"); without it (--no-shim,
# SHUTTLE_SHIM=0, no broker reachable) the same calls take the proxy path
# (op "proxy-connect").  Everything else is left to libc, errno included.
. "$(dirname "$0")/lib.sh"
require_root
plan 43

SHIM=${top_builddir:-.}/.libs/libshuttle-shim.so
if [ ! -f "$SHIM" ]; then
        echo "Bail out! $SHIM was not built"
        exit 1
fi

# The library itself: exports only its hooks, needs nothing but libc.
check_eq "the shim exports exactly its hooks" \
        "__mq_open_2 __open64_2 __open_2 __openat64_2 __openat_2 connect execl execle execlp execv execve execvp execvpe getaddrinfo kill mq_open open open64 openat openat64 posix_spawn posix_spawnp shm_open sigqueue" \
        "$(nm -D --defined-only "$SHIM" | awk '$2 == "T" || $2 == "W" {print $3}' | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')"
check_eq "... and links nothing but libc" "[libc.so.6]" \
        "$(readelf -d "$SHIM" | awk '/NEEDED/ {print $NF}' | tr '\n' ' ' | sed 's/ $//')"

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules:
  - id: a-uses-kv
    from: a
    to: b
    allow: ipc
    endpoint: kv
  - id: nobody-gets-admin
    from: "*"
    to: b
    deny: ipc
    endpoint: admin
  - { id: a-uses-gone, from: a, to: b, allow: ipc, endpoint: gone }
  - { id: a-uses-stale, from: a, to: b, allow: ipc, endpoint: stale }
YAML

start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
H=/opt/t
VOL=(-v "$(cd "$HELPERS" && pwd):$H:ro")

# b also exports two services whose server is down: 'gone' has no socket,
# 'stale' a socket nobody listens on any more (a server that was killed).
"${SRUN[@]}" --name b "${VOL[@]}" --export kv=/run/kv.sock --export admin=/run/admin.sock \
        --export gone=/run/gone.sock --export stale=/run/stale.sock \
        -- sh -c "$H/sockecho serve stale /run/stale.sock >/tmp/st & p=\$!; i=0; while [ \$i -lt 400 ] && ! grep -q serving /tmp/st; do sleep 0.05; i=\$((i+1)); done; kill \$p; wait \$p; exec $H/sockecho serve kv /run/kv.sock admin /run/admin.sock" >"$T/b.out" 2>&1 &
bpid=$!
wait_until grep -q serving "$T/b.out" || diag "b did not start: $(cat "$T/b.out")"

# count PATTERN: how many audit records match.
count() { audit_grep "$1" | wc -l; }
FAST='"from":"a","to":"b","kind":"ipc","op":"connect","object":"b.kv","decision":"allow"'
PROXY='"from":"a","to":"b","kind":"ipc","op":"proxy-connect","object":"b.kv","decision":"allow"'

# ---- injection ----
out=$(srun --name a "${VOL[@]}" -- sh -c 'echo "$LD_PRELOAD"; test -r /run/shuttle-shim/libshuttle-shim.so && echo present; touch /run/shuttle-shim/libshuttle-shim.so 2>/dev/null || echo read-only' 2>&1 | tr '\n' ' ')
check_eq "run preloads the shim, bound read-only on the private /run" \
        "/run/shuttle-shim/libshuttle-shim.so present read-only " "$out"
out=$(srun --name a -e LD_PRELOAD=libm.so.6 -- sh -c 'echo "$LD_PRELOAD"' 2>&1)
check_eq "an LD_PRELOAD given with --env comes first, the shim after it" \
        "libm.so.6 /run/shuttle-shim/libshuttle-shim.so" "$out"
out=$(srun --name a --no-shim -- sh -c 'echo "[$LD_PRELOAD]"; ls /run/shuttle-shim 2>&1 >/dev/null | wc -l' 2>&1 | tr '\n' ' ')
check_eq "--no-shim: no LD_PRELOAD, nothing bound" "[] 1 " "$out"
out=$("$SHUTTLECTL" run --state-dir "$STATE_DIR" --isolated --name i -- sh -c 'echo "[$LD_PRELOAD]"' 2>&1)
check_eq "--isolated (no broker, nothing to redirect to): no shim" "[]" "$out"
out=$("$SHUTTLECTL" exec --state-dir "$STATE_DIR" b -- sh -c 'echo "$LD_PRELOAD"' 2>&1)
check_eq "exec into a container whose command has the shim preloads it too" \
        "/run/shuttle-shim/libshuttle-shim.so" "$out"

# ---- connect() to a svc socket ----
f0=$(count "$FAST"); p0=$(count "$PROXY")
out=$(srun --name a "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.kv hi 2>&1)
check_eq "with the shim, connect() to /run/shuttle/svc/b.kv reaches b's kv" "kv:hi" "$out"
check_eq "... over the fast path: one 'connect' record, no 'proxy-connect'" "1 0" \
        "$(($(count "$FAST") - f0)) $(($(count "$PROXY") - p0))"

f0=$(count "$FAST"); p0=$(count "$PROXY")
out=$(srun --name a --no-shim "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.kv hi 2>&1)
check_eq "--no-shim: the same call still works" "kv:hi" "$out"
check_eq "... through the proxy: 'proxy-connect', no 'connect'" "0 1" \
        "$(($(count "$FAST") - f0)) $(($(count "$PROXY") - p0))"

f0=$(count "$FAST"); p0=$(count "$PROXY")
out=$(srun --name a -e SHUTTLE_SHIM=0 "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.kv hi 2>&1)
check_eq "SHUTTLE_SHIM=0: works, through the proxy" "kv:hi 0 1" \
        "$out $(($(count "$FAST") - f0)) $(($(count "$PROXY") - p0))"

f0=$(count "$FAST"); p0=$(count "$PROXY")
out=$(srun --name a -e SHUTTLE_BROKER_SOCKET=/nonexistent.sock "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.kv hi 2>&1)
check_eq "broker unreachable for the shim: it falls back to the proxy socket" "kv:hi 0 1" \
        "$out $(($(count "$FAST") - f0)) $(($(count "$PROXY") - p0))"

d0=$(count '"from":"a".*"object":"b.admin","decision":"deny","rule":"nobody-gets-admin"')
out=$(srun --name a "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.admin x 2>&1; echo "rc=$?")
check_match "a denied service: connect() fails with EACCES (exit 5)" "Permission denied.*rc=5" "$(echo $out)"
check_eq "... and the denial is in the audit log" "1" \
        "$(($(count '"from":"a".*"object":"b.admin","decision":"deny","rule":"nobody-gets-admin"') - d0))"
out=$(srun --name a --no-shim "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.admin x 2>&1; echo "rc=$?")
check_match "(without the shim there is no socket to connect to: ENOENT, exit 4)" "rc=4" "$(echo $out)"

# An allowed service whose server is down is ECONNREFUSED, as for a plain
# socket: programs tell it from a refusal.
out=$(srun --name a "${VOL[@]}" -- sh -c "$H/sockecho call /run/shuttle/svc/b.gone x; echo rc=\$?; $H/sockecho call /run/shuttle/svc/b.stale x; echo rc=\$?" 2>&1)
check_match "an allowed service with no server (no socket, a stale one): ECONNREFUSED (exit 3) both" \
        "Connection refused rc=3 .*Connection refused rc=3" "$(echo $out)"
out=$(srun --name a "${VOL[@]}" -- sh -c "for s in b.admin b.gone b.stale b.kv; do $H/brokercall connect \$s; done" 2>&1)
check_eq "libshuttle's shuttle_connect_service(): -EACCES for the policy, -ECONNREFUSED for no server" \
        "EACCES ECONNREFUSED ECONNREFUSED connected" "$(echo $out)"
# Without the shim the proxy socket accepts before the broker decides and
# connects (the kernel completes connect() on the listening socket); the
# broker then closes it: the program reads end-of-file.
out=$(srun --name a --no-shim "${VOL[@]}" -- $H/sockecho call /run/shuttle/svc/b.gone x 2>&1; echo "rc=$?")
check_match "--no-shim, no server behind an allowed service: connected, then closed (no answer, exit 2)" \
        "no answer.*rc=2" "$(echo $out)"

# ---- getaddrinfo("b.kv.shuttle") ----
f0=$(count "$FAST")
out=$(srun --name a "${VOL[@]}" -- $H/shimcall tcp b.kv.shuttle 7000 over-tcp 2>&1 | tr '\n' ' ')
check_eq "getaddrinfo(b.kv.shuttle) + a TCP connect reach b's unix service" "address 127.77.0.1 kv:over-tcp " "$out"
check_eq "... over the fast path" "1" "$(($(count "$FAST") - f0))"
out=$(srun --name a "${VOL[@]}" -- $H/shimcall tcp B.KV.SHUTTLE. 80 x 2>&1; echo "rc=$?")
check_match "names are exact: B.KV is another container (resolved, then refused by the policy)" "Permission denied.*rc=5" "$(echo $out)"
out=$(srun --name a "${VOL[@]}" -- $H/shimcall tcp b.admin.shuttle 80 x 2>&1; echo "rc=$?")
check_match "a denied service by name: EACCES" "Permission denied.*rc=5" "$(echo $out)"
out=$(srun --name a "${VOL[@]}" -- $H/shimcall tcp b.gone.shuttle 80 x 2>&1; echo "rc=$?")
check_match "an allowed service by name with no server: ECONNREFUSED" "Connection refused.*rc=3" "$(echo $out)"
out=$(srun --name a --no-shim "${VOL[@]}" -- $H/shimcall tcp b.kv.shuttle 7000 x 2>&1; echo "rc=$?")
check_match "without the shim the name does not resolve" "getaddrinfo b.kv.shuttle: .*rc=6" "$(echo $out)"
out=$(srun --name a "${VOL[@]}" -- $H/shimcall tcp nosuchname.shuttle 80 x 2>&1; echo "rc=$?")
check_match "a name that is not <container>.<service>.shuttle goes to the real resolver" "getaddrinfo nosuchname.shuttle: .*rc=6" "$(echo $out)"

# ---- everything else is untouched ----
out=$(srun --name a "${VOL[@]}" -- sh -c ": >/tmp/s.out; $H/sockecho serve own /tmp/own.sock tcpown tcp:9000 >/tmp/s.out & p=\$!; i=0; while [ \$i -lt 400 ] && ! grep -q serving /tmp/s.out; do sleep 0.05; i=\$((i+1)); done; $H/sockecho call /tmp/own.sock unix; $H/shimcall tcp 127.0.0.1 9000 tcp; $H/shimcall tcp localhost 9000 byname; kill \$p" 2>&1 | grep -v '^address' | tr '\n' ' ')
check_eq "connect() to an ordinary unix socket, TCP address and name works unchanged" "own:unix tcpown:tcp tcpown:byname " "$out"

out=$(srun --name a "${VOL[@]}" -- sh -c "$H/sockecho serve x /tmp/gone.sock >/dev/null & p=\$!; sleep 0.3; kill \$p; wait \$p; $H/shimcall errno /tmp/gone.sock; $H/shimcall errno /tmp/nothing.sock; $H/shimcall errno /run/shuttle/svc/not-a-service; $H/shimcall errno /run/shuttle/svc/b.kv/x" 2>/dev/null | tr '\n' '|')
check_eq "errno after a connect() the shim does not redirect is exactly the real call's" \
        "libc -1 ECONNREFUSED / syscall -1 ECONNREFUSED|libc -1 ENOENT / syscall -1 ENOENT|libc -1 ENOENT / syscall -1 ENOENT|libc -1 ENOTDIR / syscall -1 ENOTDIR|" "$out"
out=$(srun --name a "${VOL[@]}" -- $H/shimcall dgram /run/shuttle/svc/b.kv 2>&1)
check_eq "a datagram socket is left to the real connect()" "dgram connect=-1 EPROTOTYPE" "$out"

out=$(srun --name a "${VOL[@]}" -- $H/shimcall keep /run/shuttle/svc/b.kv 2>&1)
check_eq "a redirected connect() keeps errno, O_NONBLOCK and FD_CLOEXEC as they were" \
        "connect=0 errno-kept=yes nonblock=1 cloexec=0 answer=kv:nb | connect=0 nonblock=0 cloexec=1" "$out"

# ---- threads, fork ----
f0=$(count "$FAST"); p0=$(count "$PROXY")
out=$(srun --name a "${VOL[@]}" -- $H/shimcall threads /run/shuttle/svc/b.kv 8 20 2>&1)
check_eq "8 threads x 20 connects, all answered" "ok 160" "$out"
check_eq "... all 160 over the fast path" "160 0" "$(($(count "$FAST") - f0)) $(($(count "$PROXY") - p0))"

f0=$(count "$FAST"); p0=$(count "$PROXY")
out=$(srun --name a "${VOL[@]}" -- $H/shimcall fork /run/shuttle/svc/b.kv 2>&1 | tr '\n' ' ')
check_eq "after fork the child connects through the shim, and so does the parent" \
        "kv:parent kv:child kv:child-again kv:parent-again " "$out"
check_eq "... all four over the fast path" "4 0" "$(($(count "$FAST") - f0)) $(($(count "$PROXY") - p0))"

# ---- the kept broker connection ----
out=$(srun --name a "${VOL[@]}" -- $H/shimcall kept /run/shuttle/svc/b.kv 20 2>&1 | tail -n 1)
check_eq "20 connects of one process: one broker connection, kept (the same descriptors after the first and the last)" \
        "kept" "$out"
# A program that closes every descriptor it did not open (close_range)
# and then opens its own on the same numbers: the shim neither writes into
# them nor closes them, and connects again on a connection of its own.
f0=$(count "$FAST"); p0=$(count "$PROXY")
out=$(srun --name a "${VOL[@]}" -- $H/shimcall closeall /run/shuttle/svc/b.kv 2>&1 | tr '\n' ' ')
check_eq "after close_range() and new descriptors on the freed numbers, the next connect works" \
        "kv:first kv:again clean " "$out"
check_eq "... both over the fast path" "2 0" "$(($(count "$FAST") - f0)) $(($(count "$PROXY") - p0))"

# Identity is the connection's (invariant 2), made when it was accepted: a
# connection of a's to broker.sock passed to a process of c (which no rule
# lets reach anything) still speaks for a, and only for a; c's own
# connection speaks for c.
mkdir -p "$T/lend"
srun --name c "${VOL[@]}" -v "$T/lend:/lend" -- $H/brokercall borrow /lend/sock b.kv >"$T/borrow.out" 2>&1 &
cpid=$!
f0=$(count "$FAST")
fc=$(count '"from":"c","to":"b","kind":"ipc","op":"connect","object":"b.kv","decision":"allow"')
srun --name a "${VOL[@]}" -v "$T/lend:/lend" -- $H/brokercall lend /lend/sock >"$T/lend.out" 2>&1
wait $cpid
check_eq "a's broker connection, passed to a process of c: HELLO names a, and a's grant answers; c's own is refused" \
        "borrowed: a connected own: c EACCES" "$(cat "$T/borrow.out" "$T/lend.out")"
check_eq "... audited as a's connect, never as an allow of c's" "1 0" \
        "$(($(count "$FAST") - f0)) $(($(count '"from":"c","to":"b","kind":"ipc","op":"connect","object":"b.kv","decision":"allow"') - fc))"

# A shell pipeline: every program of the container has the shim.
f0=$(count "$FAST")
out=$(srun --name a "${VOL[@]}" -- sh -c "$H/sockecho call /run/shuttle/svc/b.kv one; sh -c '$H/sockecho call /run/shuttle/svc/b.kv two'" 2>&1 | tr '\n' ' ')
check_eq "programs started by programs have it too" "kv:one kv:two  2" "$out $(($(count "$FAST") - f0))"

# An app group gets it as well (and --no-shim applies to the whole group).
mkdir -p "$T/g"
cat >"$T/g/group.yaml" <<YAML
group: shimg
policy: policy.yaml
containers:
  gb:
    command: ["$H/sockecho", "serve", "gkv", "/run/kv.sock"]
    exports:
      - { name: kv, socket: /run/kv.sock }
    ready: { socket: /run/kv.sock, timeout: 5s }
    volumes: ["$(cd "$HELPERS" && pwd):$H:ro"]
  ga:
    command: ["sh", "-c", "$H/sockecho call /run/shuttle/svc/gb.kv from-group; echo preload=\$LD_PRELOAD"]
    depends_on: [gb]
    volumes: ["$(cd "$HELPERS" && pwd):$H:ro"]
YAML
cat >"$T/g/policy.yaml" <<'YAML'
version: 1
default: deny
rules:
  - { id: ga-kv, from: ga, to: gb, allow: ipc, endpoint: kv }
YAML
g0=$(count '"from":"ga","to":"gb","kind":"ipc","op":"connect"')
run_group_until "$T/g" "preload=" 20
check_match "a group container reaches its service through the shim" "gkv:from-group.*preload=/run/shuttle-shim/libshuttle-shim.so" "$(tr '\n' ' ' <"$T/g.out")"
check_eq "... over the fast path" "1" "$(($(count '"from":"ga","to":"gb","kind":"ipc","op":"connect"') - g0))"

kill -TERM $bpid 2>/dev/null
wait $bpid 2>/dev/null
"$SHUTTLECTL" audit --file "$AUDIT_LOG" --verify >"$T/verify" 2>&1
check_eq "the audit chain verifies" "0" "$?"
stop_broker
finish
