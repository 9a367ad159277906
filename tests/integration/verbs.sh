#!/bin/bash
# ps, exec, kill, stop and logs on running containers.
. "$(dirname "$0")/lib.sh"
require_root
plan 69

S=(--state-dir "$STATE_DIR")
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- ps ----
out=$(sctl ps "${S[@]}")
check_eq "ps without containers prints just the header" "NAME GROUP STATE PID UPTIME MEMORY PIDS CPUS COMMAND" "$(echo $out)"
check_eq "... and an empty JSON array" "[]" "$(sctl ps "${S[@]}" --format json)"

"${SRUN[@]}" --name web --hostname inbox --memory 64M --pids 32 --cpus 0.5 --ulimit nofile=512:1024 -- \
        sh -c 'trap "echo got-USR1" USR1; echo ready; while :; do sleep 0.1; done' >"$T/web.out" 2>&1 &
web=$!
pid=$(container_init_pid web)
wait_until grep -q ready "$T/web.out"

out=$(sctl ps "${S[@]}")
check_match "ps lists the container: no group, running, init pid, uptime, limits, command" \
        "^web +- +running +$pid +[0-9]+s +64M +32 +0\.5 +sh -c 'trap " "$(echo "$out" | grep '^web ')"
json=$(sctl ps "${S[@]}" --format json)
check_match "ps --format json: name, group null, state, pid as a number" \
        "^\[\{\"name\":\"web\",\"group\":null,\"state\":\"running\",\"pid\":$pid," "$json"
check_match "... limits as numbers (memory in bytes, CPUs as a fraction)" \
        '"memory":67108864,"pids":32,"cpus":0\.5,"command":\["sh","-c",' "$json"
if command -v python3 >/dev/null 2>&1; then
        out=$(echo "$json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[0]["name"], d[0]["pid"], d[0]["uptime"] >= 0)' 2>&1)
        check_eq "... and it parses as JSON" "web $pid True" "$out"
else
        ok "# SKIP no python3 to parse the JSON"
fi

# ---- exec ----
check_eq "exec sees the container's host name" "inbox" "$(sctl exec "${S[@]}" web -- hostname 2>&1)"
check_eq "exec is in the container's pid namespace: pid 1 is its init" "shuttle-init" \
        "$(sctl exec "${S[@]}" web -- cat /proc/1/comm 2>&1)"
# (pid 2 is the container's command, the sh running the loop; the loop's
# short-lived sleeps are no steady thing to look for.)
out=$(sctl exec "${S[@]}" web -- cat /proc/2/cmdline 2>&1 | tr '\0' ' ')
check_match "... its /proc shows the container's command" "^sh -c trap" "$out"
check_nomatch "... and no host process" "^(shuttlectl|bash)$" "$out"
out=$(sctl exec "${S[@]}" web -- cat /proc/self/cgroup 2>&1)
check_eq "exec is at the root of the container's cgroup namespace" "" "$(echo "$out" | grep -v ':/$')"
# From the host: the exec'd process sits in the container's cgroups.
sctl exec "${S[@]}" web -- sleep 2.5 &
ex=$!
wait_until pgrep -f '^sleep 2\.5$'
expid=$(pgrep -f '^sleep 2\.5$' | head -1)
cg=$(cgroup_dir_of_pid "$pid" pids)
if [ -n "$expid" ] && grep -qx "$expid" "$cg/cgroup.procs"; then ok "exec'd processes count in the container's cgroup"; else
        not_ok "exec'd processes count in the container's cgroup"; diag "pid '$expid' not in $cg/cgroup.procs"; fi
kill -TERM $ex
wait $ex
check_eq "a signal to exec is forwarded to the command (143)" "143" "$?"

cmd=$(pgrep -P "$pid" | head -1)
want=$(awk '/^CapEff/ {print $2}' "/proc/$cmd/status")
check_eq "exec gets the container command's capabilities" "$want" \
        "$(sctl exec "${S[@]}" web -- awk '/^CapEff/ {print $2}' /proc/self/status 2>&1)"
check_eq "... no_new_privs" "1" "$(sctl exec "${S[@]}" web -- awk '/^NoNewPrivs/ {print $2}' /proc/self/status 2>&1)"
check_eq "... a seccomp filter" "2" "$(sctl exec "${S[@]}" web -- awk '/^Seccomp:/ {print $2}' /proc/self/status 2>&1)"
# (A sanitizer build adds ASAN_OPTIONS in containers: see env.c.)
check_eq "... a clean environment plus --env, later ones winning" \
        "FOO=bar HOME=/root HOSTNAME=inbox PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin container=shuttle" \
        "$(sctl exec "${S[@]}" -e FOO=foo -e FOO=bar web -- env 2>&1 | grep -v '^ASAN_OPTIONS=' | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')"
check_eq "--user sets uid and gid" "uid=4242 gid=4243 groups=4243" "$(sctl exec "${S[@]}" -u 4242:4243 web -- id 2>&1)"
check_eq "--workdir" "/tmp" "$(sctl exec "${S[@]}" -w /tmp web -- pwd 2>&1)"
check_eq "... the container's --ulimit values (nofile=512:1024)" "512 1024" \
        "$(sctl exec "${S[@]}" web -- sh -c 'echo $(ulimit -Sn) $(ulimit -Hn)' 2>&1)"
out=$(sctl exec "${S[@]}" web -- sh -c 'test -e /proc/self/fd/7 && echo leaked || echo closed' 7</etc/hostname 2>&1)
check_eq "descriptors beyond stdio do not leak into the container" "closed" "$out"
check_status "exec exits with the command's status" 7 sctl exec "${S[@]}" web -- sh -c 'exit 7'
check_status "exec of a missing command exits 127" 127 sctl exec "${S[@]}" web -- /no/such/command
check_match "... and says so" "failed to execute /no/such/command" "$(cat "$T/err")"
check_status "exec into an unknown container exits 1" 1 sctl exec "${S[@]}" nope -- true
check_match "... with a clear message" "no running container named 'nope'" "$(cat "$T/err")"

# A file exec writes in /tmp is the container's own file.
"${SRUN[@]}" --name waiter -- sh -c 'while [ ! -e /tmp/from-exec ]; do sleep 0.05; done; cat /tmp/from-exec' \
        >"$T/waiter.out" 2>&1 &
w=$!
container_init_pid waiter >/dev/null
sctl exec "${S[@]}" waiter -- sh -c 'echo written-by-exec > /tmp/from-exec'
wait $w
check_eq "the container's command sees what exec wrote in its /tmp" "0 written-by-exec" "$? $(cat "$T/waiter.out")"
check_eq "no file of the container reached the host's /tmp" "no" "$(test -e /tmp/from-exec && echo yes || echo no)"
check_eq "a finished container disappears from ps" "" "$(sctl ps "${S[@]}" | grep '^waiter ')"

check_status "logs of a container without a log exits 1" 1 sctl logs "${S[@]}" web
check_match "... and says why" "container 'web' has no log: it is not of an app group" "$(cat "$T/err")"

# ---- kill ----
check_status "kill USR1" 0 sctl kill "${S[@]}" web USR1
wait_until grep -q got-USR1 "$T/web.out"
check_eq "... reaches a trap in the container" "got-USR1" "$(grep -v ready "$T/web.out")"
check_status "kill with an unknown signal name is a usage error" 2 sctl kill "${S[@]}" web BOGUS
check_status "kill of an unknown container exits 1" 1 sctl kill "${S[@]}" nope
sctl kill "${S[@]}" web KILL
wait $web
check_eq "kill KILL ends the container: run exits 137" "137" "$?"
check_eq "... nothing is left behind" "" "$(leftovers web)"

# ---- stop ----
"${SRUN[@]}" --name trapper -- sh -c 'trap "echo bye; exit 3" TERM; echo ready; while :; do sleep 0.1; done' >"$T/trapper.out" 2>&1 &
tr=$!
wait_until grep -q ready "$T/trapper.out"
out=$(sctl stop "${S[@]}" trapper 2>&1)
rc=$?
check_eq "stop prints the name and succeeds" "0 trapper" "$rc $out"
check_eq "... the state entry is gone when stop returns" "" "$(leftovers trapper)"
wait $tr
check_eq "... the command handled SIGTERM" "3 bye" "$? $(grep -v ready "$T/trapper.out")"

"${SRUN[@]}" --name stubborn -- sh -c 'trap "" TERM; echo ready; while :; do sleep 0.1; done' >"$T/stubborn.out" 2>&1 &
st=$!
wait_until grep -q ready "$T/stubborn.out"
t0=$(now_ms)
sctl stop "${S[@]}" -t 1 stubborn >/dev/null 2>"$T/stop.err"
rc=$?
t1=$(now_ms)
wait $st
check_eq "stop -t 1 of a container that ignores SIGTERM kills it" "0 137" "$rc $?"
if [ $((t1 - t0)) -ge 1000 ] && [ $((t1 - t0)) -lt 6000 ]; then ok "... after the grace period ($((t1 - t0)) ms)"; else
        not_ok "... after the grace period"; diag "took $((t1 - t0)) ms"; fi
# A container run as another user: exec uses that user; stop of a command
# that does not trap SIGTERM.
"${SRUN[@]}" --name usr --user 4242 -- sleep 60 >/dev/null 2>&1 &
us=$!
container_init_pid usr >/dev/null
check_eq "exec runs as the container's user by default" "4242 0000000000000000" \
        "$(sctl exec "${S[@]}" usr -- sh -c 'id -u; awk "/^CapEff/ {print \$2}" /proc/self/status' 2>&1 | tr '\n' ' ' | sed 's/ $//')"
out=$(sctl stop "${S[@]}" usr 2>&1)
wait $us
check_eq "stop ends a command that does not trap SIGTERM (run exits 143)" "usr 143" "$out $?"

# A group: stop signals its supervisor (here a stand-in holding the group's
# lock) and returns once the lock is released.
mkdir -p "$STATE_DIR/groups/grp"
flock -x "$STATE_DIR/groups/grp/lock" sh -c 'echo $$ >"$0"; trap "exit 0" TERM; while :; do sleep 0.1; done' \
        "$T/sup.pid" &
sup=$!
wait_for_file "$T/sup.pid"
sleep 0.1
echo "{\"group\":\"grp\",\"pid\":$(cat "$T/sup.pid"),\"containers\":[]}" >"$STATE_DIR/groups/grp/supervisor.json"
out=$(sctl stop "${S[@]}" grp 2>&1)
check_eq "stop GROUP stops the group's supervisor and waits for it" "0 grp" "$? $out"
wait $sup
check_eq "... which got SIGTERM" "0" "$?"

check_status "stop of an unknown name exits 1" 1 sctl stop "${S[@]}" nope
check_match "... and names it" "no running container or group named 'nope'" "$(cat "$T/err")"

# ---- run --detach ----
out=$("${SRUN[@]}" --detach --name bg -- sh -c 'cat; echo "stdin-closed"; echo to-stderr >&2; exec sleep 60' 2>&1)
check_eq "run --detach returns at once with the container's name" "0 bg" "$? $out"
check_match "... and leaves it running" "^bg +- +running " "$(sctl ps "${S[@]}" | grep '^bg ')"
check_match "ps --json (--format json) says it is detached" '"name":"bg",.*"detached":true' "$(sctl ps "${S[@]}" --json)"
wait_until sh -c "'$SHUTTLECTL' logs --state-dir '$STATE_DIR' bg | grep -q to-stderr"
check_eq "its stdin is empty and its output (stdout and stderr) is in its log" "stdin-closed to-stderr" \
        "$(sctl logs "${S[@]}" bg | tr '\n' ' ' | sed 's/ $//')"
owner=$(sed -n 's/.*"owner_pid":\([0-9]*\).*/\1/p' "$STATE_DIR/containers/bg/state.json")
check_eq "... its owner runs in a session of its own, without a terminal" "$owner ?" \
        "$(ps -o sid=,tty= -p "$owner" | awk '{print $1, $2}')"
check_status "a second container of the same name is refused" 125 "${SRUN[@]}" --detach --name bg -- true
check_eq "... and leaves the running one's log alone" "stdin-closed to-stderr" \
        "$(sctl logs "${S[@]}" bg | tr '\n' ' ' | sed 's/ $//')"
check_status "run --detach of a command that does not exist exits 127" 127 "${SRUN[@]}" --detach --name bad -- /nonexistent
check_match "... naming it" "nonexistent" "$(cat "$T/err")"
check_status "--detach with --tty is a usage error" 2 "${SRUN[@]}" --detach --tty --name x -- true
check_eq "stop ends a detached container" "bg" "$(sctl stop "${S[@]}" bg 2>&1)"
check_eq "... its log stays readable" "stdin-closed to-stderr" "$(sctl logs "${S[@]}" bg | tr '\n' ' ' | sed 's/ $//')"
check_eq "... nothing is left behind" "" "$(leftovers bg)"

# ---- logs ----
mkdir -p "$STATE_DIR/logs"
printf 'one\ntwo\nthree\nfour\n' >"$STATE_DIR/logs/old.log"
check_eq "logs prints the whole log" "one two three four" "$(sctl logs "${S[@]}" old | tr '\n' ' ' | sed 's/ $//')"
check_eq "logs -n 2 prints the last two lines" "three four" "$(sctl logs "${S[@]}" -n 2 old | tr '\n' ' ' | sed 's/ $//')"
check_eq "logs --follow of a container that is not running ends after the log" "4" \
        "$(timeout 5 "$SHUTTLECTL" logs "${S[@]}" --follow old | wc -l)"

# ---- stale entries and usage errors ----
mkdir -p "$STATE_DIR/containers/ghost"
echo '{"name":"ghost","owner_pid":1,"init_pid":1,"cgroups":[],"created":1,"command":["true"]}' \
        >"$STATE_DIR/containers/ghost/state.json"
: >"$STATE_DIR/containers/ghost/lock"
check_eq "ps leaves out a stale entry" "" "$(sctl ps "${S[@]}" | grep ghost)"
check_match "ps -a shows it as stale" "^ghost +- +stale " "$(sctl ps "${S[@]}" -a | grep ghost)"
check_status "stop of a stale entry exits 1" 1 sctl stop "${S[@]}" ghost

bad=0
for v in ps exec kill stop logs; do
        "$SHUTTLECTL" $v --bogus >/dev/null 2>"$T/err"
        rc=$?
        if [ $rc != 2 ] || ! grep -q -- "--bogus" "$T/err"; then bad=1; diag "$v --bogus: exit $rc: $(cat "$T/err")"; fi
done
check_eq "a bad option is a usage error (exit 2) naming the option" "0" "$bad"
# A command with a newline is still one row of ps.
"${SRUN[@]}" --name multi -- sh -c 'echo ready
exec sleep 30' >"$T/multi.out" 2>&1 &
ml=$!
wait_until grep -q ready "$T/multi.out"
out=$(sctl ps "${S[@]}" | grep -c .)
check_eq "ps keeps a command with a newline on one row (header + 1)" "2" "$out"
kill -TERM $ml 2>/dev/null; wait $ml 2>/dev/null

finish
