#!/bin/bash
# invoke: running an app that lives in another container, through the
# broker, with the caller's stdio, arguments, allowed environment, signals
# and exit status; file arguments transferred as the rule says.
. "$(dirname "$0")/lib.sh"
require_root
plan 37

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules:
  - id: a-cat
    from: a
    to: b
    allow: invoke
    app: /bin/cat
    transfer: ro
  - id: lim-one
    from: lim
    to: b
    allow: invoke
    app: /bin/sh
    limit: { max_open: 1 }
  - id: a-sh
    from: a
    to: b
    allow: invoke
    app: /bin/sh
    env: [FOO, "LC_*"]
    transfer: ro
  - id: a-echo-ok
    from: a
    to: b
    allow: invoke
    app: /bin/echo
    args: ["ok-*", "..."]
  - id: a-tee-rw
    from: a
    to: b
    allow: invoke
    app: /usr/bin/tee
    transfer: rw
  - id: a-ls-plain
    from: a
    to: b
    allow: invoke
    app: /bin/ls
  - id: a-sleep
    from: a
    to: b
    allow: invoke
    app: /bin/sleep
YAML

# A soft descriptor limit below the hard one, as on a stock system: the
# broker takes the hard one for itself, the apps it starts get ours.
ulimit -Sn 1000
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
SI=/run/shuttle/bin/shuttle-invoke

"${SRUN[@]}" --name b --hostname bee --cap-add NET_ADMIN -- sleep 600 >"$T/b.out" 2>&1 &
b_job=$!
wait_until test -S "$STATE_DIR/broker/b/broker.sock" || diag "b did not register: $(cat "$T/b.out")"
b_pid=$(container_init_pid b)

out=$(srun --name a -- sh -c "readlink /run/shuttle/bin/shuttle-invoke; test -x $SI && echo exec" 2>&1 | tr '\n' ' ')
check_eq "/run/shuttle/bin/shuttle-invoke is there (a link to the helper bound at /run/shuttle-bin)" \
        "/run/shuttle-bin/shuttle-invoke exec " "$out"

out=$(printf 'line one\nline two\n' | srun --name a -- $SI b /bin/cat 2>&1)
check_eq "/bin/cat in b reads the caller's stdin and writes to its stdout" "line one
line two" "$out"
check_match "... audited as an allowed invoke by rule a-cat" '"from":"a","to":"b","kind":"invoke","op":"exec","object":"/bin/cat","decision":"allow","rule":"a-cat"' "$(audit_grep '"kind":"invoke"')"

out=$(srun --name a -- sh -c "$SI b /bin/sh -c 'echo to-stderr >&2; exit 7' 2>/tmp/err; echo rc=\$?; cat /tmp/err" 2>&1 | tr '\n' ' ')
check_eq "the exit status propagates (exit 7) and stderr is the caller's" "rc=7 to-stderr " "$out"
out=$(srun --name a -- sh -c "$SI b /bin/sh -c 'kill -TERM \$\$'; echo rc=\$?" 2>&1)
check_eq "an app killed by a signal gives 128+N" "rc=143" "$out"
hard=$(ulimit -Hn)
check_eq "the broker raised its own soft descriptor limit to the hard one" "$hard" \
        "$(awk '/^Max open files/ {print $4}' "/proc/$BROKER_PID/limits")"
out=$(srun --name a -- $SI b /bin/sh -c 'ulimit -Sn' 2>&1)
check_eq "... and the apps it starts have the soft limit it was started with" "1000" "$out"

# Inside b: b's host name, b's pid namespace, b's capabilities.
out=$(srun --name a --hostname ay -- sh -c "hostname; readlink /proc/self/ns/pid; grep CapEff /proc/self/status; $SI b /bin/sh -c 'hostname; readlink /proc/self/ns/pid; grep CapEff /proc/self/status'" 2>&1)
lines=()
while IFS= read -r l; do lines+=("$l"); done <<<"$out"
check_eq "the app runs with the target's host name" "ay bee" "${lines[0]:-} ${lines[3]:-}"
b_ns=$(readlink "/proc/$b_pid/ns/pid")
check_eq "... in the target's pid namespace" "$b_ns" "${lines[4]:-}"
if [ "${lines[1]:-x}" != "${lines[4]:-x}" ]; then ok "... which is not the caller's"; else not_ok "... which is not the caller's"; diag "$out"; fi
b_caps=$("$SHUTTLECTL" exec --state-dir "$STATE_DIR" b -- grep CapEff /proc/self/status 2>&1)
check_eq "... with the target's capabilities (b has NET_ADMIN)" "$b_caps" "${lines[5]:-}"
if [ "${lines[2]:-x}" != "${lines[5]:-x}" ]; then ok "... which differ from the caller's"; else not_ok "... which differ from the caller's"; diag "$out"; fi
# Each hierarchy's line of the app's /proc/self/cgroup is the target init's
# plus /shuttle-invoke-N: a cgroup of its own below the target's.
out=$(srun --name a -- $SI b /bin/sh -c 'sed "s|/shuttle-invoke-[0-9-]*\$||; s|:\$|:/|" /proc/self/cgroup | cmp - /proc/1/cgroup && grep -c "/shuttle-invoke-[0-9-]*\$" /proc/self/cgroup' 2>&1)
case $out in [1-9]*) ok "... in a cgroup of its own below each of the target's cgroups" ;;
*) not_ok "... in a cgroup of its own below each of the target's cgroups"; diag "$out" ;; esac

# Arguments against the rule's predicates.
out=$(srun --name a -- $SI b /bin/echo ok-1 more 2>&1)
check_eq "arguments matching the rule pass" "ok-1 more" "$out"
out=$(srun --name a -- sh -c "$SI b /bin/echo bad; echo rc=\$?" 2>&1)
check_match "arguments that do not are refused (exit 125)" "ermission denied.*rc=125" "$(echo $out)"
check_match "... and audited as a deny" '"kind":"invoke","op":"exec","object":"/bin/echo bad","decision":"deny"' "$(audit_grep '/bin/echo bad')"
out=$(srun --name a -- sh -c "$SI b /bin/rm -rf /; echo rc=\$?" 2>&1)
check_match "an app no rule names is refused" "rc=125" "$out"
check_match "... audited as a default deny" '"object":"/bin/rm -rf /","decision":"deny","rule":"default"' "$(audit_grep '/bin/rm')"
out=$(srun --name a -- sh -c "$SI nosuch /bin/cat </dev/null; echo rc=\$?" 2>&1)
check_match "no such target container: refused" "rc=125" "$out"

# The environment: only what the rule's env allowlist names.
out=$(srun --name a -- sh -c "FOO=foo BAR=bar LC_X=lcx SHUTTLE_INVOKE_ENV='FOO BAR LC_X' $SI b /bin/sh -c 'echo \"\${FOO:-none} \${BAR:-none} \${LC_X:-none}\"'" 2>&1)
check_eq "env: allowed names pass, others are dropped" "foo none lcx" "$out"
out=$(srun --name a -- sh -c "FOO=foo $SI b /bin/sh -c 'echo \${FOO:-none}'" 2>&1)
check_eq "env: nothing passes unless SHUTTLE_INVOKE_ENV offers it" "none" "$out"

# Ctrl-C reaches the remote app.
out=$(srun --name a -- sh -c ": >/tmp/o; $SI b /bin/sh -c 'trap \"echo got-int; exit 130\" INT; echo ready; while :; do sleep 0.1; done' >/tmp/o 2>&1 &
        p=\$!; i=0; while ! grep -q ready /tmp/o && [ \$i -lt 400 ]; do sleep 0.05; i=\$((i+1)); done
        kill -INT \$p; wait \$p; echo rc=\$?; cat /tmp/o" 2>&1 | tr '\n' ' ')
check_eq "SIGINT to shuttle-invoke reaches the app (its trap runs, exit 130)" "rc=130 ready got-int " "$out"

# The invocation is tied to its caller.
srun --name a -- sh -c "$SI b /bin/sleep 1007 & p=\$!; sleep 0.5; kill -KILL \$p; sleep 0.2" >/dev/null 2>&1
if wait_until sh -c '! pgrep -f "^/bin/sleep 1007" >/dev/null'; then ok "the app dies when its caller goes"; else
        not_ok "the app dies when its caller goes"; pkill -KILL -f "^/bin/sleep 1007"; fi

# The rule's limit: max_open counts running invocations.
out=$(srun --name lim -- sh -c ": >/tmp/o; $SI b /bin/sh -c 'echo started; exec sleep 30' >/tmp/o 2>&1 & p=\$!
        i=0; while ! grep -q started /tmp/o && [ \$i -lt 400 ]; do sleep 0.05; i=\$((i+1)); done
        $SI b /bin/sh -c 'echo second'; echo rc=\$?; kill -TERM \$p; wait \$p; $SI b /bin/sh -c 'echo third'" 2>&1 | tr '\n' ' ')
check_match "max_open: 1 refuses a second running invocation, and allows one after the first ended" \
        "max_open of rule .lim-one. reached.*rc=125 third" "$out"
check_match "... audited" '"from":"lim","to":"b","kind":"invoke","op":"exec","object":"/bin/sh -c echo second","decision":"deny","rule":"lim-one","reason":"max_open of rule' \
        "$(audit_grep 'echo second')"

# Bounded: at most 16 running invocations per container.
# (The 17th starts once all 16 apps said they run: no fixed sleep.)
out=$(srun --name a -- sh -c ": >/tmp/ups; for i in \$(seq 16); do $SI b /bin/sh -c 'echo up; exec sleep 31' >>/tmp/ups 2>&1 & done
        i=0; while [ \$(grep -c up /tmp/ups) -lt 16 ] && [ \$i -lt 400 ]; do sleep 0.05; i=\$((i+1)); done
        $SI b /bin/sleep 0; echo rc=\$?" 2>&1)
check_match "a 17th running invocation is refused" "too many running invocations.*rc=125" "$(echo $out)"
check_match "... and audited" '"decision":"deny","rule":"a-sleep","reason":"too many running invocations' "$(audit_grep 'too many running')"
wait_until sh -c '! pgrep -f "^sleep 31$" >/dev/null' || diag "sleeps left behind"

# File arguments: ro.
out=$(srun --name a -- sh -c "echo secret-data >/tmp/doc.txt; $SI b /bin/sh -c 'echo \$0; cat \$0; echo x >>\$0 && echo wrote; grep -c \" /run/shuttle/xfer/\" /proc/self/mountinfo' /tmp/doc.txt 2>&1" 2>&1)
check_match "a file argument (transfer: ro) is rewritten to /run/shuttle/xfer/<id>/<name>" "^/run/shuttle/xfer/[0-9]+/doc.txt" "$out"
check_match "... and is readable there" "secret-data" "$out"
check_match "... but not writable" "Read-only file system" "$out"
check_nomatch "... (the write did not succeed)" "wrote" "$out"
out=$(srun --name a -- $SI b /bin/sh -c 'grep -c " /run/shuttle/xfer/" /proc/self/mountinfo; ls /run/shuttle/xfer | wc -l' 2>&1 | tr '\n' ' ')
check_eq "... and it is gone once the invocation ended" "0 0 " "$out"
check_match "... its revocation is audited" '"kind":"transfer","op":"revoke","object":"/tmp/doc.txt".*"reason":"invocation ended"' "$(audit_grep '"op":"revoke"')"

# rw: the target writes, the caller sees it.
out=$(srun --name a -- sh -c "echo one >/tmp/log.txt; echo two | $SI b /usr/bin/tee -a /tmp/log.txt >/dev/null; cat /tmp/log.txt" 2>&1 | tr '\n' ' ')
check_eq "transfer: rw lets the target write the caller's file" "one two " "$out"

# transfer: none (a-ls-plain): arguments pass unchanged.
out=$(srun --name a -- sh -c "echo x >/tmp/only-in-a; $SI b /bin/ls /tmp/only-in-a; echo rc=\$?" 2>&1 | tr '\n' ' ')
check_match "without transfer the path passes as is (and b has no such file)" "only-in-a.*No such file.*rc=2" "$out"

"$SHUTTLECTL" audit --file "$AUDIT_LOG" --verify >"$T/verify" 2>&1
check_eq "the audit chain verifies" "0" "$?"

# A broker killed outright takes the apps it started with it: nothing runs
# on in the target that nobody watches or can stop.
"${SRUN[@]}" --name a -- $SI b /bin/sleep 1009 >/dev/null 2>&1 &
inv_job=$!
if wait_until pgrep -f "^/bin/sleep 1009" >/dev/null; then
        kill -KILL "$BROKER_PID"
        wait "$BROKER_PID" 2>/dev/null
        BROKER_PID=
        if wait_until sh -c '! pgrep -f "^/bin/sleep 1009" >/dev/null'; then
                ok "an invoked app dies with a SIGKILLed broker"
        else
                not_ok "an invoked app dies with a SIGKILLed broker"
                pkill -KILL -f "^/bin/sleep 1009"
        fi
else
        not_ok "an invoked app dies with a SIGKILLed broker"
        diag "the app did not start"
fi
wait $inv_job 2>/dev/null

kill -TERM $b_job 2>/dev/null; wait $b_job 2>/dev/null
stop_broker
finish
