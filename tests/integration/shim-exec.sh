#!/bin/bash
# Exec of /run/shuttle/apps/<container>/<app>: an invoke through the broker.
# The broker makes /run/shuttle/apps/B/<name> in A for every app a literal
# allow rule from A to B names (links to shuttle-invoke, which work without
# the shim: static binaries, --no-shim), and keeps them in step with the
# policy; the shim turns every exec call and posix_spawn of a name under
# apps/ (the entries, and paths such as apps/B/usr/bin/x that a glob rule
# allows) into shuttle-invoke's.  Either way the broker decides and audits.
. "$(dirname "$0")/lib.sh"
require_root
plan 57

SHIM=${top_builddir:-.}/.libs/libshuttle-shim.so
if [ ! -f "$SHIM" ]; then
        echo "Bail out! $SHIM was not built"
        exit 1
fi

write_policy() {
        cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules:
  - { id: a-echo, from: a, to: b, allow: invoke, app: /bin/echo }
  - { id: a-sh, from: a, to: b, allow: invoke, app: /bin/sh, env: [FOO], transfer: ro }
  - { id: a-host, from: a, to: b, allow: invoke, app: "/usr/bin/host*" }
  - { id: a-true, from: a, to: b, allow: invoke, app: /bin/true }
  - { id: a-usr-true, from: a, to: b, allow: invoke, app: /usr/bin/true }
  - { id: a-cat, from: a, to: b, allow: invoke, app: /bin/cat }
  - { id: no-cat, from: "*", to: b, deny: invoke, app: /bin/cat }
YAML
        if [ "${1:-}" = with-id ]; then
                echo '  - { id: a-id, from: a, to: b, allow: invoke, app: /usr/bin/id, args: ["-un"] }' >>"$T/policy.yaml"
        fi
}
write_policy
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }

H=/opt/t
VOL=(-v "$(cd "$HELPERS" && pwd):$H:ro")
APPS=/run/shuttle/apps/b
# b holds the apps; its host name tells where they ran.
"${SRUN[@]}" --name b --hostname bee -- sleep 600 >"$T/b.out" 2>&1 &
b_job=$!
wait_until test -S "$STATE_DIR/broker/b/broker.sock" || diag "b did not register: $(cat "$T/b.out")"
# arun ARGS... -- CMD: a one-shot container a (host name ay) with the helpers.
arun() { srun --name a --hostname ay "${VOL[@]}" "$@"; }

# ---- the entries ----
out=$(arun -- sh -c "ls -A /run/shuttle/apps; ls -A $APPS" 2>&1 | tr '\n' ' ')
check_eq "a has apps/b/ with an entry per literal allow rule (not the glob, not the app a deny rule refuses)" \
        "b echo sh true " "$out"
check_eq "... each a link to shuttle-invoke" "/run/shuttle-bin/shuttle-invoke" \
        "$(arun -- readlink $APPS/echo 2>&1)"
check_eq "b, which the policy lets invoke nothing, has no entries" "0" \
        "$("$SHUTTLECTL" exec --state-dir "$STATE_DIR" b -- sh -c 'ls -A /run/shuttle/apps | wc -l' 2>&1)"

# ---- (a) through the shim ----
out=$(arun -- sh -c "sh -c 'exec $APPS/sh -c \"hostname; exit 3\"'; echo rc=\$?" 2>&1 | tr '\n' ' ')
check_eq "sh's exec of apps/b/sh runs /bin/sh in b (b's host name) and its exit status comes back" \
        "bee rc=3 " "$out"
check_match "... audited with the path the bare name resolves to, allowed by a-sh" \
        '"from":"a","to":"b","kind":"invoke","op":"exec","object":"/bin/sh -c hostname; exit 3","decision":"allow","rule":"a-sh"' \
        "$(audit_grep '"kind":"invoke"')"
out=$(arun -- sh -c "$APPS/sh -c 'kill -TERM \$\$'; echo rc=\$?" 2>&1)
check_eq "an app killed by a signal gives 128+N" "rc=143" "$out"
out=$(arun -- sh -c "echo piped | $APPS/sh -c 'read l; echo \"\$(hostname) read \$l\"'" 2>&1)
check_eq "the caller's stdin is the app's" "bee read piped" "$out"
out=$(arun -- sh -c "$APPS/usr/bin/hostname; echo rc=\$?" 2>&1 | tr '\n' ' ')
check_eq "the path form apps/b/usr/bin/hostname (a glob rule: no entry) works through the shim" "bee rc=0 " "$out"
check_match "... audited as /usr/bin/hostname, allowed by the glob rule" \
        '"object":"/usr/bin/hostname","decision":"allow","rule":"a-host"' "$(audit_grep '"kind":"invoke"')"
out=$(arun -- $H/execcall execv $APPS/echo $(seq 300) 2>&1)
check_eq "more arguments than an INVOKE takes: E2BIG" "execv failed E2BIG
execv exit 127" "$out"
out=$(arun -- sh -c "$H/execcall errno /nonexistent; $H/execcall errno /run/shuttle/apps/b; $H/execcall errno /run/shuttle/apps/b/." 2>&1 | tr '\n' ' ')
check_eq "an exec the shim does not redirect fails as the real call does" "ENOENT EACCES EACCES " "$out"
out=$(arun -- sh -c "exec /bin/true; echo not-reached" 2>&1; echo "rc=$?")
check_eq "... and any other exec is the real one" "rc=0" "$out"

# ---- (b) every hook ----
APP_CMD='echo "$(hostname) ${FOO:-none}"; exit 5'
for kind in execve execv execvp execvpe execl execlp execle spawn spawnp; do
        case $kind in
        execle | execvpe) env=from-$kind ;;
        *) env=none ;;
        esac
        out=$(arun -- $H/execcall $kind $APPS/sh -c "$APP_CMD" 2>&1)
        check_eq "$kind of apps/b/sh runs it in b, with the caller's environment, exit status 5" "bee $env
$kind exit 5" "$out"
done
check_eq "... each one an invoke in the audit log, resolved to /bin/sh and allowed by a-sh" "9" \
        "$(audit_grep '"kind":"invoke","op":"exec","object":"/bin/sh -c echo .*exit 5","decision":"allow","rule":"a-sh"' | grep -vc "\"phase\":\"decided\"")"
for kind in execvp execlp spawnp; do
        out=$(arun -e PATH=$APPS:/usr/bin:/bin -- $H/execcall $kind sh -c "$APP_CMD" 2>&1)
        check_eq "$kind of a bare name that \$PATH finds in apps/b first runs it in b" "bee none
$kind exit 5" "$out"
done
out=$(arun -e PATH=/usr/bin:/bin:$APPS -- $H/execcall execvp sh -c "$APP_CMD" 2>&1)
check_eq "... and locally when \$PATH finds a local one first" "ay none
execvp exit 5" "$out"
out=$(arun -e PATH=$APPS:/usr/bin:/bin -- $H/execcall execvp hostname 2>&1)
check_eq "... and locally when apps/b has no such entry" "ay
execvp exit 0" "$out"

# ---- (c) without the shim ----
out=$(arun --no-shim -- sh -c "$APPS/sh -c 'hostname; exit 4'; echo rc=\$?" 2>&1 | tr '\n' ' ')
check_eq "--no-shim: the entry alone (a link to shuttle-invoke) runs the app in b, status and all" "bee rc=4 " "$out"
check_match "... the broker resolved the bare name: /bin/sh, rule a-sh (the name asked for is in app_name)" \
        '"object":"/bin/sh -c hostname; exit 4","decision":"allow","rule":"a-sh".*"app_name":"sh"' \
        "$(audit_grep '"kind":"invoke"')"
out=$(arun --no-shim -- sh -c "cd $APPS && ./echo by relative name" 2>&1)
check_eq "... also run by a relative name" "by relative name" "$out"
out=$(arun --no-shim -- sh -c "$APPS/echo -n no-options; echo; $APPS/echo --socket=x -- y" 2>&1 | tr '\n' ' ')
check_eq "... every argument is the app's (no options of shuttle-invoke)" "no-options --socket=x -- y " "$out"
out=$(arun --no-shim -- sh -c "echo '#!$APPS/sh' >/tmp/s.sh; echo 'hostname; echo \$0' >>/tmp/s.sh; chmod +x /tmp/s.sh; /tmp/s.sh" 2>&1 | tr '\n' ' ')
check_match "... also as a script's #! line (the script crosses as a file argument)" \
        "^bee /run/shuttle/xfer/[0-9]+/s.sh $" "$out"
out=$(arun -- busybox sh -c "$APPS/echo static; echo rc=\$?" 2>&1 | tr '\n' ' ')
check_eq "a static binary (busybox sh, which the shim is not loaded into) uses the entry too" "static rc=0 " "$out"
out=$(arun --no-shim -- sh -c "$APPS/usr/bin/hostname; echo rc=\$?" 2>&1)
check_match "... but a name with no entry needs the shim (the glob rule's path: not found)" "rc=127" "$out"

# ---- (d) refusals ----
out=$(arun -- sh -c "$APPS/usr/bin/id; echo rc=\$?" 2>&1 | tr '\n' ' ')
check_match "an app no rule allows is refused: shuttle-invoke's exit status 125" \
        "/usr/bin/id in 'b': Permission denied.* rc=125 " "$out"
check_match "... and the denial is in the audit log" \
        '"from":"a","to":"b","kind":"invoke","op":"exec","object":"/usr/bin/id","decision":"deny","rule":"default"' \
        "$(audit_grep '"kind":"invoke"')"
out=$(arun -- sh -c "$APPS/bin/cat /etc/hostname; echo rc=\$?" 2>&1 | tr '\n' ' ')
check_match "an app a deny rule refuses (and that has no entry) is refused through the shim" "rc=125 " "$out"
check_match "... by that rule" '"object":"/bin/cat /etc/hostname","decision":"deny","rule":"no-cat"' \
        "$(audit_grep '"kind":"invoke"')"
out=$(arun -- sh -c "$APPS/true; echo rc=\$?" 2>&1 | tr '\n' ' ')
check_match "a bare name two rules name with different paths is refused as ambiguous" \
        "No such file or directory: app name 'true' is ambiguous: the policy names (/bin/true, /usr/bin/true|/usr/bin/true, /bin/true) rc=125 " \
        "$out"
check_match "... and audited" '"object":"true","decision":"deny","rule":"-","reason":"app name .true. is ambiguous' \
        "$(audit_grep '"kind":"invoke"')"
out=$(arun -- sh -c "$H/execcall spawn /run/shuttle/apps/nosuch/x" 2>&1 | tr '\n' ' ')
check_match "an entry-shaped name for no container is refused (125)" "x in 'nosuch': Permission denied.* spawn exit 125 " "$out"

# ---- (f) SHUTTLE_SHIM=0 ----
out=$(arun -e SHUTTLE_SHIM=0 -- sh -c "$APPS/usr/bin/hostname; echo rc=\$?; $H/execcall spawn $APPS/usr/bin/hostname" 2>&1 | tr '\n' ' ')
check_match "SHUTTLE_SHIM=0: exec and posix_spawn of a name without an entry are the real calls (not found)" \
        "rc=127 spawn (failed ENOENT|exit 127) $" "$out"
out=$(arun -e SHUTTLE_SHIM=0 -- $H/execcall execv $APPS/echo via-link 2>&1 | tr '\n' ' ')
check_eq "... while an entry works, through the link" "via-link execv exit 0 " "$out"

# ---- (e) the entries follow the policy and the containers ----
"${SRUN[@]}" --name a "${VOL[@]}" -- sleep 600 >"$T/a.out" 2>&1 &
a_job=$!
wait_until test -S "$STATE_DIR/broker/a/broker.sock" || diag "a did not register: $(cat "$T/a.out")"
ax() { "$SHUTTLECTL" exec --state-dir "$STATE_DIR" a -- "$@"; }
wait_until test -L "$STATE_DIR/broker/a/apps/b/echo"
check_eq "a running a has apps/b/ (no entry for id yet)" "echo sh true " "$(ax ls -A $APPS 2>&1 | tr '\n' ' ')"
write_policy with-id
reload_broker
check_eq "after a reload that allows /usr/bin/id (with an argument predicate), apps/b/id appears" \
        "echo id sh true " "$(ax ls -A $APPS 2>&1 | tr '\n' ' ')"
check_eq "... and works (the broker still checks the arguments)" "root" "$(ax $APPS/id -un 2>&1)"
# 2>&1 inside: exec relays the command's stdout and stderr each on its own
# pipe, so their order is only kept when they are one stream in there.
out=$(ax sh -c "$APPS/id -u 2>&1; echo rc=\$?" 2>&1 | tr '\n' ' ')
check_match "... arguments the rule does not allow are refused" "Permission denied.* rc=125 " "$out"
write_policy
reload_broker
check_eq "after a reload without it, apps/b/id is gone" "echo sh true " "$(ax ls -A $APPS 2>&1 | tr '\n' ' ')"
printf 'version: 1\nrules: [\n' >"$T/policy.yaml"
reload_broker
check_eq "a policy with errors is not loaded: the entries stay" "echo sh true " "$(ax ls -A $APPS 2>&1 | tr '\n' ' ')"
write_policy

kill -TERM $b_job 2>/dev/null
wait $b_job 2>/dev/null
if wait_until sh -c "! test -e '$STATE_DIR/broker/a/apps/b'"; then ok "when b stops, apps/b/ leaves a"; else
        not_ok "when b stops, apps/b/ leaves a"; diag "$(ls -lR "$STATE_DIR/broker/a/apps")"; fi
check_eq "... as a sees it" "0" "$(ax sh -c 'ls -A /run/shuttle/apps | wc -l' 2>&1)"
"${SRUN[@]}" --name b --hostname bee -- sleep 600 >"$T/b.out" 2>&1 &
b_job=$!
wait_until test -S "$STATE_DIR/broker/b/broker.sock"
if wait_until test -L "$STATE_DIR/broker/a/apps/b/echo"; then ok "when b comes back, so do a's entries for it"; else
        not_ok "when b comes back, so do a's entries for it"; fi
check_eq "... and they work" "bee" "$(ax $APPS/sh -c hostname 2>&1)"

# A broker restarted with another policy re-adopts a and b and brings a's
# entries in step with it.
stop_broker
write_policy with-id
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not restart"; exit 1; }
if wait_until test -L "$STATE_DIR/broker/a/apps/b/id"; then ok "a restarted broker re-adopts a and b, with the entries its policy names"; else
        not_ok "a restarted broker re-adopts a and b, with the entries its policy names"; diag "$(ls -lR "$STATE_DIR/broker/a")"; fi
check_eq "... as a sees them" "echo id sh true " "$(ax ls -A $APPS 2>&1 | tr '\n' ' ')"

kill -TERM $a_job 2>/dev/null
wait $a_job 2>/dev/null
if wait_until sh -c "! test -e '$STATE_DIR/broker/a'"; then ok "when a stops, its directory goes, apps/ and all"; else
        not_ok "when a stops, its directory goes, apps/ and all"; diag "$(ls -lR "$STATE_DIR/broker/a")"; fi
kill -TERM $b_job 2>/dev/null
wait $b_job 2>/dev/null

"$SHUTTLECTL" audit --file "$AUDIT_LOG" --verify >"$T/verify" 2>&1
check_eq "the audit chain verifies" "0" "$?"
stop_broker
finish
