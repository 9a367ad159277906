#!/bin/bash
# FIFOs as exports: `--export NAME=fifo:/PATH` (a named pipe the exporter
# makes itself), reached from any container the policy allows, with the
# end the rule's mode grants: through the shim's open() of
# /run/shuttle/svc/<container>.<name>, and without the shim through the
# client library's shuttle_open_fifo() (OPEN_FIFO on broker.sock).
. "$(dirname "$0")/lib.sh"
require_root
plan 34

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules:
  - { id: imp-logs, from: imp, to: own, allow: ipc, endpoint: logs, type: fifo, mode: wo }
  - { id: imp-feed, from: imp, to: own, allow: ipc, endpoint: feed, type: fifo, mode: ro }
  # Either end of the odd ones, so that what they are decides.
  - { id: imp-odd, from: imp, to: own, allow: ipc, endpoint: "x-*", type: fifo }
  # The right endpoint, but for unix sockets only: no FIFO.
  - { id: oth-logs-unix, from: oth, to: own, allow: ipc, endpoint: logs, type: unix }
  - { id: imp-usr, from: imp, to: usr, allow: ipc, type: fifo }
YAML

start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
H=/opt/t
VOL=(-v "$(cd "$HELPERS" && pwd):$H:ro")
SHIM_IN=/run/shuttle-shim/libshuttle-shim.so

"${SRUN[@]}" --name own "${VOL[@]}" --export logs=fifo:/tmp/logs.fifo --export feed=fifo:/tmp/feed.fifo \
        --export x-file=fifo:/tmp/regular --export x-link=fifo:/tmp/link --export x-missing=fifo:/tmp/nothing \
        -- sleep 600 >"$T/own.out" 2>&1 &
ownpid=$!
wait_until test -S "$STATE_DIR/broker/own/broker.sock" || diag "own did not register: $(cat "$T/own.out")"
OWN_ROOT=/proc/$(container_init_pid own)/root
oexec() {
        "$SHUTTLECTL" exec --state-dir "$STATE_DIR" -e LD_PRELOAD=$SHIM_IN \
                -e ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 own -- "$@" 2>&1
}
imp() { srun --name imp "${VOL[@]}" "$@" 2>&1; }
count() { audit_grep "$1" | wc -l; }
# exporter_reads N: the exporter reads its FIFO logs (in the background,
# into $T/readN.out) once it holds the read end.
exporter_reads() {
        rm -f "$OWN_ROOT/tmp/ready$1"
        oexec $H/fifocall read /tmp/logs.fifo /tmp/ready$1 >"$T/read$1.out" &
        readpid=$!
        wait_until test -e "$OWN_ROOT/tmp/ready$1" || diag "the exporter's reader did not start: $(cat "$T/read$1.out")"
}

# A FIFO on the host, for a symlink in the exporter to point at.
mkfifo "$T/host.fifo"
out=$(oexec sh -c "mkfifo /tmp/logs.fifo /tmp/feed.fifo && echo regular >/tmp/regular && ln -s $T/host.fifo /tmp/link && echo made")
check_eq "the exporter makes its FIFOs, a regular file and a symlink out of its root" "made" "$out"

# ---- data through the shim and without it ----
exporter_reads 1
out=$(imp -- sh -c 'echo hello-through-the-shim >/run/shuttle/svc/own.logs && echo written')
wait $readpid
check_eq "a shell's redirection to /run/shuttle/svc/own.logs writes into the exporter's FIFO" \
        "written hello-through-the-shim" "$out $(tr -d '\n' <"$T/read1.out")"
check_match "... audited with the rule and the end" \
        '"from":"imp","to":"own","kind":"ipc","op":"open-fifo","object":"own.logs","decision":"allow","rule":"imp-logs".*"mode":"wo"' \
        "$(audit_grep '"op":"open-fifo"')"

exporter_reads 2
out=$(imp --no-shim -- $H/fifocall lib-write own.logs hello-without-the-shim)
wait $readpid
check_eq "without the shim, shuttle_open_fifo() gets the write end from the broker" \
        "wrote 22 hello-without-the-shim" "$out $(tr -d '\n' <"$T/read2.out")"
out=$(imp --no-shim -- $H/fifocall write /run/shuttle/svc/own.logs x)
check_eq "... while open() of the svc path, without the shim, finds nothing there" "open: ENOENT" "$out"
out=$(imp -e SHUTTLE_SHIM=0 -- $H/fifocall write /run/shuttle/svc/own.logs x)
check_eq "... and with SHUTTLE_SHIM=0 the same" "open: ENOENT" "$out"

# ---- the end the rule grants, and no other ----
out=$(imp -- $H/fifocall open /run/shuttle/svc/own.feed rdonly)
check_eq "mode ro: the read end, at once with no writer; writing to it is EBADF" \
        "fifo mode=rdonly nonblock=0 cloexec=0 write=EBADF" "$out"
out=$(imp -- $H/fifocall open /run/shuttle/svc/own.feed wronly)
check_eq "mode ro: no write end" "open: EACCES" "$out"
check_match "... the refusal is audited with the end asked for" \
        '"from":"imp","to":"own","kind":"ipc","op":"open-fifo","object":"own.feed","decision":"deny","rule":"default".*"mode":"wo"' \
        "$(audit_grep '"object":"own.feed","decision":"deny"')"
out=$(imp -- $H/fifocall open /run/shuttle/svc/own.logs rdonly)
check_eq "mode wo: no read end" "open: EACCES" "$out"
out=$(imp -- sh -c "$H/fifocall open /run/shuttle/svc/own.x-missing rdwr; $H/fifocall lib-open own.feed read,write" | tr '\n' ' ')
check_eq "both ends at once (O_RDWR), even where the rule grants either: EINVAL" \
        "open: EINVAL shuttle_open_fifo: EINVAL " "$out"
out=$(imp -- $H/fifocall open /run/shuttle/svc/own.feed rdonly,nonblock,cloexec)
check_eq "O_NONBLOCK and O_CLOEXEC are kept" "fifo mode=rdonly nonblock=1 cloexec=1 write=EBADF" "$out"
out=$(imp -- sh -c "$H/fifocall open /run/shuttle/svc/own.feed rdonly,creat; $H/fifocall open /run/shuttle/svc/own.feed rdonly,creat,excl" | tr '\n' ' ')
check_eq "O_CREAT is ignored, O_CREAT|O_EXCL is EEXIST" "fifo mode=rdonly nonblock=0 cloexec=0 write=EBADF open: EEXIST " "$out"
out=$(imp -- $H/fifocall lib-open own.feed read)
check_eq "the library's descriptor is close-on-exec" "fifo mode=rdonly nonblock=0 cloexec=1 write=EBADF" "$out"

# ---- no other end: nothing waits ----
t0=$(date +%s)
out=$(imp -- $H/fifocall write /run/shuttle/svc/own.logs nobody-reads)
t1=$(date +%s)
check_eq "the write end while no one reads: ENXIO, as with O_NONBLOCK" "open: ENXIO" "$out"
if [ $((t1 - t0)) -lt 10 ]; then ok "... at once ($((t1 - t0)) s)"; else not_ok "... at once ($((t1 - t0)) s)"; fi
out=$(imp --no-shim -- $H/fifocall lib-write own.logs x)
check_eq "... from the library too" "shuttle_open_fifo: ENXIO" "$out"
if broker_answers; then ok "the broker still answers"; else not_ok "the broker still answers"; fi

# ---- what is not a FIFO, or not in the exporter's root ----
d0=$(count '"object":"own.x-file","decision":"deny","rule":"imp-odd","reason":"the export.s path is not a FIFO"')
out=$(imp -- sh -c "$H/fifocall write /run/shuttle/svc/own.x-file overwritten; $H/fifocall open /run/shuttle/svc/own.x-file rdonly" | tr '\n' ' ')
check_eq "a regular file at the export's path is not opened, for writing or reading" "open: ENODEV open: ENODEV " "$out"
check_eq "... refused on the record, once each, with the rule that allowed the open" "2" \
        "$(($(count '"object":"own.x-file","decision":"deny","rule":"imp-odd","reason":"the export.s path is not a FIFO"') - d0))"
check_eq "... and left as it was" "regular" "$(cat "$OWN_ROOT/tmp/regular")"

timeout 15 cat "$T/host.fifo" >"$T/host.out" 2>/dev/null &
catpid=$!
out=$(imp -- sh -c "$H/fifocall lib-write own.x-link escaped; $H/fifocall lib-open own.x-link read" | tr '\n' ' ')
check_eq "a symlink to a host FIFO resolves inside the exporter's root (nothing there)" \
        "shuttle_open_fifo: ENOENT shuttle_open_fifo: ENOENT " "$out"
kill $catpid 2>/dev/null; wait $catpid 2>/dev/null
check_eq "... and the host FIFO saw no one" "" "$(cat "$T/host.out")"
out=$(imp -- $H/fifocall lib-open own.x-missing read)
check_eq "an exported FIFO the exporter has not made: ENOENT" "shuttle_open_fifo: ENOENT" "$out"

# ---- the exporter's user ----
"${SRUN[@]}" --name usr --user 1000:1000 "${VOL[@]}" --export p=fifo:/tmp/p.fifo -- sleep 600 >"$T/usr.out" 2>&1 &
usrpid=$!
wait_until test -S "$STATE_DIR/broker/usr/broker.sock" || diag "usr did not register: $(cat "$T/usr.out")"
USR_ROOT=/proc/$(container_init_pid usr)/root
mkfifo -m 600 "$USR_ROOT/tmp/p.fifo"
out=$(imp -- $H/fifocall lib-open usr.p read)
check_eq "the FIFO's mode is checked as the exporter's user, not as root" "shuttle_open_fifo: EACCES" "$out"
chown 1000:1000 "$USR_ROOT/tmp/p.fifo"
out=$(imp -- $H/fifocall lib-open usr.p read)
check_eq "... which may open its own FIFO" "fifo mode=rdonly nonblock=0 cloexec=1 write=EBADF" "$out"
kill -TERM $usrpid 2>/dev/null
wait $usrpid 2>/dev/null

# ---- not allowed ----
d0=$(count '"from":"nob","to":"own","kind":"ipc","op":"open-fifo","object":"own.logs","decision":"deny","rule":"default"')
out=$(srun --name nob "${VOL[@]}" -- $H/fifocall write /run/shuttle/svc/own.logs x 2>&1)
check_eq "a container no rule allows gets EACCES" "open: EACCES" "$out"
check_eq "... and the denial is in the audit log" "1" \
        "$(($(count '"from":"nob","to":"own","kind":"ipc","op":"open-fifo","object":"own.logs","decision":"deny","rule":"default"') - d0))"
out=$(srun --name oth "${VOL[@]}" -- $H/fifocall lib-open own.logs write 2>&1)
check_eq "a rule for the endpoint with 'type: unix' does not grant the FIFO" "shuttle_open_fifo: EACCES" "$out"

# ---- many opens ----
wait_until test ! -e "$STATE_DIR/broker/imp"
fds0=$(broker_fds)
out=$(imp -- $H/fifocall lib-loop own.feed 200)
check_eq "200 opens in a row" "ok 200" "$out"
wait_until test ! -e "$STATE_DIR/broker/imp"
check_broker_fds_at_most "the broker holds no more descriptors than before" "$fds0"

# ---- a broker restart ----
stop_broker
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not restart"; exit 1; }
wait_until audit_grep '"kind":"container","op":"adopt","object":"own"'
out=$(imp -- $H/fifocall lib-open own.feed read)
check_eq "a restarted broker re-adopts the exporter with its FIFO exports" \
        "fifo mode=rdonly nonblock=0 cloexec=1 write=EBADF" "$out"

# ---- an app group ----
mkdir -p "$T/g"
cat >"$T/g/group.yaml" <<YAML
group: fifog
policy: policy.yaml
containers:
  prod:
    command: ["sh", "-c", "mkfifo /tmp/g.fifo && $H/fifocall read /tmp/g.fifo /tmp/ready"]
    exports:
      - { name: logs, fifo: /tmp/g.fifo }
    ready: { command: [test, -e, /tmp/ready], timeout: 20s }
    volumes: ["$(cd "$HELPERS" && pwd):$H:ro"]
  cons:
    command: ["sh", "-c", "echo hi-group >/run/shuttle/svc/prod.logs && echo sent"]
    depends_on: [prod]
    volumes: ["$(cd "$HELPERS" && pwd):$H:ro"]
YAML
cat >"$T/g/policy.yaml" <<'YAML'
version: 1
default: deny
rules:
  - { id: cons-logs, from: cons, to: prod, allow: ipc, endpoint: logs, type: fifo, mode: wo }
YAML
run_group_until "$T/g" "^prod +\| hi-group"
check_eq "a group's 'fifo' export reaches the container the group's policy allows" \
        "cons | sent prod | hi-group " \
        "$(group_lines '^(cons|prod) +\| (hi-group|sent)$' "$T/g.out")"

kill -TERM $ownpid 2>/dev/null
wait $ownpid 2>/dev/null
"$SHUTTLECTL" audit --file "$AUDIT_LOG" --verify >"$T/verify" 2>&1
check_eq "the audit chain verifies" "0" "$?"
stop_broker
finish
