#!/bin/bash
# App groups: dependency order, readiness timeouts, foreground output with
# prefixes, Ctrl-C stopping in reverse order, restart policy, validation,
# a container opting out of the shim.
. "$(dirname "$0")/lib.sh"
require_root
plan 33

start_broker
g=$T/g.yaml

# Order: c depends on b depends on a; each prints when it starts.
cat >"$g" <<'YAML'
group: order
containers:
  c:
    command: ["sh", "-c", "echo c-up; sleep 0.3"]
    depends_on: [b]
  a:
    command: ["sh", "-c", "echo a-up; touch /run/ready.sock; sleep 0.6"]
  b:
    command: ["sh", "-c", "echo b-up; sleep 0.5"]
    depends_on: [a]
YAML
out=$("$SHUTTLECTL" run --state-dir "$STATE_DIR" "$g" 2>&1)
# Start order is what the supervisor reports; the containers' own lines come
# through separate pipes, so their relative order is not a guarantee.
check_match "containers start in dependency order" \
        "container 'a' is up.*container 'b' is up.*container 'c' is up" "$(echo $out)"
check_match "... and each one's output is shown with its name" "a \| a-up" "$out"
check_match "... (b)" "b \| b-up" "$out"
check_match "... (c)" "c \| c-up" "$out"
check_match "the group ends when its containers have ended" "container 'c' exited with status 0" "$out"

# A readiness timeout names the container and tears the group down.
cat >"$g" <<'YAML'
group: slow
containers:
  base:
    command: ["sleep", "30"]
  never:
    command: ["sleep", "30"]
    depends_on: [base]
    ready: { socket: /run/never.sock, timeout: 1s }
  after:
    command: ["sleep", "30"]
    depends_on: [never]
YAML
out=$("$SHUTTLECTL" run --state-dir "$STATE_DIR" "$g" 2>&1; echo "rc=$?")
check_match "a readiness timeout is an error naming the container" "container 'never' was not ready within 1.0s \(socket /run/never.sock\)" "$out"
check_match "... and the run fails" "rc=1" "$out"
check_nomatch "... what depends on it never starts" "after \|" "$out"
check_eq "... and nothing is left running" "" "$("$SHUTTLECTL" ps --state-dir "$STATE_DIR" 2>&1 | tail -n +2)"

# A readiness command run inside the container.
cat >"$g" <<'YAML'
group: cmdready
containers:
  svc:
    command: ["sh", "-c", "sleep 0.5; touch /tmp/ok; sleep 30"]
    ready: { command: ["test", "-e", "/tmp/ok"], timeout: 5s }
  user:
    command: ["echo", "svc-was-ready"]
    depends_on: [svc]
YAML
timeout 20 "$SHUTTLECTL" run --state-dir "$STATE_DIR" "$g" >"$T/cmd.out" 2>&1 &
run=$!
wait_until grep -q svc-was-ready "$T/cmd.out"
check_match "a ready command that exits 0 inside the container lets dependents start" "user +\| svc-was-ready" "$(cat "$T/cmd.out")"

# Ctrl-C (SIGINT to shuttlectl) stops the group in reverse order.
kill -INT $run
wait $run
check_match "SIGINT stops the group" "stopping group 'cmdready'" "$(cat "$T/cmd.out")"

# Restart on failure, with backoff; the broker's audit log says so.
cat >"$g" <<'YAML'
group: flaky
containers:
  f:
    command: ["sh", "-c", "echo try; exit 3"]
    restart: { policy: on-failure, backoff: 100ms, max: 2 }
YAML
out=$("$SHUTTLECTL" run --state-dir "$STATE_DIR" "$g" 2>&1; echo "rc=$?")
check_eq "on-failure restarts up to max (3 runs)" "3" "$(echo "$out" | grep -c 'f | try')"
check_match "... and the group's status is the container's" "rc=3" "$out"
check_match "... restarts are in the audit log" '"kind":"container","op":"restart","object":"f"' "$(audit_grep '"op":"restart"')"

# Validation: a cycle is refused with the cycle, and nothing starts.
cat >"$g" <<'YAML'
group: cyc
containers:
  x:
    command: ["true"]
    depends_on: [y]
  y:
    command: ["true"]
    depends_on: [x]
YAML
out=$("$SHUTTLECTL" run --state-dir "$STATE_DIR" "$g" 2>&1; echo "rc=$?")
check_match "a dependency cycle is refused, naming the cycle" "g.yaml:[0-9]+:[0-9]+: .*dependency cycle: x -> y -> x" "$out"
check_match "... with exit 1" "rc=1" "$out"
check_eq "... and nothing was started" "" "$(ls "$STATE_DIR/groups" 2>/dev/null)"

# shim: false leaves one container without the shim; its sibling has it.
# Each looks at its own environment and at what a program of it has
# mapped (the grep reading /proc/self/maps is that program).
cat >"$g" <<'YAML'
group: shimsel
containers:
  withshim:
    command: ["sh", "-c", "echo env=$LD_PRELOAD; grep -q libshuttle-shim /proc/self/maps && echo mapped || echo unmapped"]
  noshim:
    shim: false
    command: ["sh", "-c", "echo env=$LD_PRELOAD; grep -q libshuttle-shim /proc/self/maps && echo mapped || echo unmapped"]
YAML
out=$("$SHUTTLECTL" run --state-dir "$STATE_DIR" "$g" 2>&1; echo "rc=$?")
check_match "the group with a 'shim: false' container runs" "rc=0" "$out"
check_match "a container without 'shim' has the shim in LD_PRELOAD" "withshim +\| env=.*/run/shuttle-shim/libshuttle-shim.so" "$out"
check_match "... and mapped" "withshim +\| mapped" "$out"
check_nomatch "the one with 'shim: false' has no shim in LD_PRELOAD" "noshim +\| env=.*libshuttle-shim" "$out"
check_match "... nor mapped" "noshim +\| unmapped" "$out"

# Logs: each run of a group starts a fresh log, stamped line by line; the
# run before stays readable with --previous.
cat >"$g" <<'YAML'
group: logged
containers:
  lg:
    command: ["sh", "-c", "echo run-one"]
YAML
"$SHUTTLECTL" run --state-dir "$STATE_DIR" "$g" >/dev/null 2>&1
sed -i 's/run-one/run-two/' "$g"
"$SHUTTLECTL" run --state-dir "$STATE_DIR" "$g" >/dev/null 2>&1
L=(logs --state-dir "$STATE_DIR")
check_eq "logs prints the output of the group's last run only" "run-two" "$(sctl "${L[@]}" lg 2>&1)"
check_eq "logs --previous prints the run before" "run-one" "$(sctl "${L[@]}" --previous lg 2>&1)"
out=$(sctl "${L[@]}" --timestamps lg 2>&1)
check_match "logs --timestamps starts each line with the time it was written" \
        '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z run-two$' "$out"
check_eq "logs --since TIME leaves out earlier lines" "" "$(sctl "${L[@]}" --since 2099-01-01T00:00:00Z lg 2>&1)"
check_eq "... and keeps the line written at TIME" "run-two" "$(sctl "${L[@]}" --since "${out%% *}" lg 2>&1)"
check_eq "... TIME may be an age" "run-two" "$(sctl "${L[@]}" --since 1h lg 2>&1)"
check_status "logs --since with a bad time is a usage error" 2 sctl "${L[@]}" --since yesterday lg

# --follow prints what is appended while the container runs, and ends with it.
cat >"$g" <<'YAML'
group: followed
containers:
  fl:
    command: ["sh", "-c", "echo first; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo second; sleep 30"]
YAML
"$SHUTTLECTL" run --state-dir "$STATE_DIR" --detach "$g" >/dev/null 2>&1
wait_until sh -c "'$SHUTTLECTL' logs --state-dir '$STATE_DIR' fl | grep -q first"
"$SHUTTLECTL" logs --state-dir "$STATE_DIR" --follow fl >"$T/follow.out" 2>&1 &
lf=$!
wait_until grep -q first "$T/follow.out"
"$SHUTTLECTL" exec --state-dir "$STATE_DIR" fl -- touch /tmp/go
wait_until grep -q second "$T/follow.out"
check_eq "logs --follow prints lines as they are appended" "first second" "$(tr '\n' ' ' <"$T/follow.out" | sed 's/ $//')"
"$SHUTTLECTL" stop --state-dir "$STATE_DIR" followed >/dev/null 2>&1
wait_until sh -c "! kill -0 $lf"
check_eq "logs --follow ends when the container is no longer running" "no" "$(kill -0 $lf 2>/dev/null && echo yes || echo no)"
wait $lf

# A plain container now running under the name did not write that log.
"${SRUN[@]}" --name lg -- sh -c 'echo ready; sleep 30' >"$T/lg.out" 2>&1 &
plain=$!
wait_until grep -q ready "$T/lg.out"
check_status "logs of a plain container that has a group container's name exits 1" 1 sctl "${L[@]}" lg
check_match "... and says why" "container 'lg' has no log: it is not of an app group" "$(cat "$T/err")"
kill -TERM $plain
wait $plain
stop_broker
finish
