#!/bin/bash
# POSIX shared memory and message queues as exports: `--export
# NAME=shm:SIZE` (an object the broker keeps, charged to the exporter) and
# `--export NAME=mq:/QUEUE` (a queue the exporter creates in its own IPC
# namespace), reached from any container the policy allows with shm_open()
# and mq_open() of "/<container>.<name>" through the shim (OPEN_SHM and
# OPEN_MQ on broker.sock).
. "$(dirname "$0")/lib.sh"
require_root
plan 49

cat >"$T/policy.yaml" <<'YAML'
version: 1
default: deny
audit: all
rules:
  - { id: imp-frames, from: imp, to: own, allow: ipc, endpoint: frames, type: shm }
  - { id: imp-queues, from: imp, to: own, allow: ipc, endpoint: "*jobs", type: mq }
  # Anything else of own's, so that what is not there is ENOENT for imp.
  - { id: imp-any, from: imp, to: own, allow: ipc }
  - { id: imp-small, from: imp, to: small, allow: ipc, type: shm }
  # The right endpoint, but for unix sockets only: no shared memory.
  - { id: oth-frames-unix, from: oth, to: own, allow: ipc, endpoint: frames, type: unix }
YAML

start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
H=/opt/t
VOL=(-v "$(cd "$HELPERS" && pwd):$H:ro")
SHIM_IN=/run/shuttle-shim/libshuttle-shim.so

# The exporter runs as uid 1000: its queues' modes are checked against
# that user, not against the broker's root.
"${SRUN[@]}" --name own --user 1000:1000 "${VOL[@]}" --export frames=shm:1M --export jobs=mq:/jobs \
        --export rojobs=mq:/ro --export missing=mq:/missing -- sleep 600 >"$T/own.out" 2>&1 &
ownpid=$!
wait_until test -S "$STATE_DIR/broker/own/broker.sock" || diag "own did not register: $(cat "$T/own.out")"
# Commands inside the exporter, with the shim as its own programs have it.
oexec() {
        "$SHUTTLECTL" exec --state-dir "$STATE_DIR" -e LD_PRELOAD=$SHIM_IN \
                -e ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 own -- "$@" 2>&1
}
imp() { srun --name imp "${VOL[@]}" "$@" 2>&1; }
memfds() { ls -l "/proc/$BROKER_PID/fd" 2>/dev/null | grep -c 'memfd:shuttle:own.frames'; }
count() { audit_grep "$1" | wc -l; }

# ---- shared memory ----
out=$(oexec $H/shmqcall shm-write /own.frames 0 from-owner)
check_eq "the exporter opens its own object through the broker and writes to it" "wrote 1048576" "$out"
check_eq "... one object, made by the broker on first use" "1" "$(memfds)"
check_match "... its own export: allowed without a rule, and audited" \
        '"from":"own","to":"own","kind":"ipc","op":"open-shm","object":"own.frames","decision":"allow","rule":"-"' \
        "$(audit_grep '"op":"open-shm"')"

out=$(imp -- $H/shmqcall shm-read /own.frames 0)
check_eq "an allowed importer sees what the exporter wrote" "from-owner" "$out"
out=$(imp -- $H/shmqcall shm-write /own.frames 4096 from-importer)
check_eq "... and writes through its own mapping" "wrote 1048576" "$out"
out=$(oexec $H/shmqcall shm-read /own.frames 4096)
check_eq "... which the exporter sees" "from-importer" "$out"
check_eq "... the importer's opens are audited with the rule" "2" \
        "$(count '"from":"imp","to":"own","kind":"ipc","op":"open-shm","object":"own.frames","decision":"allow","rule":"imp-frames"')"

out=$(imp -- $H/shmqcall shm-ro /own.frames)
check_eq "read-only: no writable shared mapping, no truncating, no writing" \
        "mmap-rw=EACCES ftruncate=EINVAL write=EBADF" "$out"
out=$(imp -- $H/shmqcall shm-sealed /own.frames)
check_eq "read-write: the object is sealed (no growing, shrinking or new seals)" \
        "grow=EPERM shrink=EPERM seal-write=EPERM" "$out"
out=$(imp -- $H/shmqcall shm-keep /own.frames)
check_eq "a redirected shm_open() keeps errno and gives a close-on-exec descriptor" "errno-kept=yes cloexec=1" "$out"
out=$(imp -- sh -c "$H/shmqcall shm-open /own.frames rdwr,creat; $H/shmqcall shm-open /own.frames rdwr,creat,excl; $H/shmqcall shm-open /own.frames rdwr,trunc" | tr '\n' ' ')
check_eq "O_CREAT is ignored, O_CREAT|O_EXCL is EEXIST, O_TRUNC is EINVAL" "ok EEXIST EINVAL " "$out"

# ---- message queues ----
out=$(oexec sh -c "$H/shmqcall mq-create /jobs 600; $H/shmqcall mq-create /ro 400" | tr '\n' ' ')
check_eq "the exporter creates its queues in its own IPC namespace" "created created " "$out"
out=$(imp -- $H/shmqcall mq-send /own.jobs hello-jobs)
check_eq "an allowed importer sends to the exporter's queue" "sent" "$out"
out=$(oexec $H/shmqcall mq-recv /jobs)
check_eq "... and the exporter receives it from its own queue" "hello-jobs" "$out"
out=$(oexec $H/shmqcall mq-send /jobs back-to-you)
out=$(imp -- $H/shmqcall mq-recv /own.jobs)
check_eq "the other way round too" "back-to-you" "$out"
check_match "... audited with the rule" \
        '"from":"imp","to":"own","kind":"ipc","op":"open-mq","object":"own.jobs","decision":"allow","rule":"imp-queues"' \
        "$(audit_grep '"op":"open-mq"')"
out=$(imp -- sh -c "$H/shmqcall mq-open /own.jobs rdonly,nonblock; $H/shmqcall mq-empty /own.jobs" | tr '\n' ' ')
check_eq "O_NONBLOCK is passed on" "ok nonblock mq_receive: EAGAIN " "$out"
out=$(imp -- sh -c "$H/shmqcall mq-open /own.jobs rdwr,creat; $H/shmqcall mq-open /own.jobs rdwr,creat,excl" | tr '\n' ' ')
check_eq "O_CREAT is ignored, O_CREAT|O_EXCL is EEXIST" "ok EEXIST " "$out"
out=$(imp -- sh -c "$H/shmqcall mq-open /own.rojobs rdonly; $H/shmqcall mq-open /own.rojobs wronly" | tr '\n' ' ')
check_eq "the queue's mode is checked as the exporter's user, not as root" "ok EACCES " "$out"
out=$(imp -- $H/shmqcall mq-open /own.missing rdonly)
check_eq "an exported queue the exporter has not created: ENOENT" "ENOENT" "$out"

# ---- what is not there, or not allowed ----
out=$(imp -- sh -c "$H/shmqcall shm-open /own.jobs rdonly; $H/shmqcall mq-open /own.frames rdonly; $H/shmqcall shm-open /own.nosuch rdonly" | tr '\n' ' ')
check_eq "allowed, but the other kind of export, or none: ENOENT" "ENOENT ENOENT ENOENT " "$out"

d0=$(count '"from":"nob","to":"own","kind":"ipc","op":"open-shm","object":"own.frames","decision":"deny","rule":"default"')
out=$(srun --name nob "${VOL[@]}" -- sh -c "$H/shmqcall shm-read /own.frames 0; $H/shmqcall mq-send /own.jobs x" 2>&1 | tr '\n' ' ')
check_eq "a container no rule allows gets EACCES from both" "shm_open: EACCES mq_open: EACCES " "$out"
check_eq "... and the denial is in the audit log" "1" \
        "$(($(count '"from":"nob","to":"own","kind":"ipc","op":"open-shm","object":"own.frames","decision":"deny","rule":"default"') - d0))"
check_eq "... for the queue too" "1" \
        "$(count '"from":"nob","to":"own","kind":"ipc","op":"open-mq","object":"own.jobs","decision":"deny"')"
out=$(srun --name oth "${VOL[@]}" -- $H/shmqcall shm-read /own.frames 0 2>&1)
check_eq "a rule for the endpoint with 'type: unix' does not grant shared memory" "shm_open: EACCES" "$out"

out=$(imp -e SHUTTLE_SHIM=0 -- sh -c "$H/shmqcall shm-read /own.frames 0; $H/shmqcall mq-send /own.jobs x" | tr '\n' ' ')
check_eq "SHUTTLE_SHIM=0: the names are the container's own (none there)" "shm_open: ENOENT mq_open: ENOENT " "$out"
out=$(imp --no-shim -- $H/shmqcall shm-read /own.frames 0)
check_eq "--no-shim: the same" "shm_open: ENOENT" "$out"

n0=$(count '"op":"open-shm","object":"PostgreSQL.42","decision":"deny","rule":"-","reason":"no such container"')
out=$(imp -- sh -c "$H/shmqcall shm-open /PostgreSQL.42 rdwr,creat,excl; $H/shmqcall shm-open /PostgreSQL.42 rdwr; $H/shmqcall mq-open /my.queue rdwr,creat; $H/shmqcall mq-open /my.queue rdonly; $H/shmqcall shm-open /plain rdwr,creat" | tr '\n' ' ')
check_eq "names of no container are the container's own, created and opened as usual" "ok ok ok ok ok " "$out"
check_eq "... (the broker's 'no such container' is audited)" "2" \
        "$(($(count '"op":"open-shm","object":"PostgreSQL.42","decision":"deny","rule":"-","reason":"no such container"') - n0))"
out=$(imp -- sh -c "$H/shmqcall shm-open /own.frames wronly; $H/shmqcall shm-open /.own.frames rdonly; $H/shmqcall shm-open /own.fr/ames rdonly" | tr '\n' ' ')
check_eq "write-only, and names that are no service, are left to the real call" "ENOENT ENOENT EINVAL " "$out"

# ---- hostile requests ----
wait_until test ! -e "$STATE_DIR/broker/imp"
fds0=$(broker_fds)
for mode in open-noflags open-badflags open-fd; do
        out=$(imp -- $H/rawframe /run/shuttle/broker.sock $mode)
        check_match "a malformed OPEN frame ($mode) drops the connection" "^dropped" "$out"
done
out=$(imp -- $H/rawframe /run/shuttle/broker.sock open-ok)
check_eq "(a well-formed OPEN_SHM of a container that does not exist: ENOENT)" "answered -2" "$out"
out=$(imp -- sh -c "$H/shmqcall loop shm /own.frames 300; $H/shmqcall loop mq /own.jobs 100; $H/shmqcall loop mq /own.missing 3" | tr '\n' ' ')
check_eq "300 shared-memory and 100 queue opens in a row, and failing ones" "ok 300 ok 100 open 0: ENOENT " "$out"
out=$(srun --name nob "${VOL[@]}" -- $H/shmqcall loop shm /own.frames 1 2>&1)
check_eq "(denied ones too)" "open 0: EACCES" "$out"
wait_until test ! -e "$STATE_DIR/broker/imp"
wait_until test ! -e "$STATE_DIR/broker/nob"
check_broker_fds_at_most "the broker holds no more descriptors than before" "$fds0"
out=$(imp -- $H/shmqcall shm-read /own.frames 0)
check_eq "and still serves" "from-owner" "$out"

# ---- charged to the exporter ----
"${SRUN[@]}" --name small --memory 48M "${VOL[@]}" --export fits=shm:16M --export big=shm:64M \
        -- sleep 600 >"$T/small.out" 2>&1 &
smallpid=$!
wait_until test -S "$STATE_DIR/broker/small/broker.sock" || diag "small did not register: $(cat "$T/small.out")"
memdir=$(cgroup_dir_of_pid "$(container_init_pid small)" memory)
mem_usage() { cat "$memdir/memory.usage_in_bytes" 2>/dev/null || cat "$memdir/memory.current"; }
# The usage moves by itself a little (page cache comes and goes): the
# 16M object must show as most of it, and without the charge it would
# not show at all.
u0=$(mem_usage)
out=$(imp -- $H/shmqcall shm-write /small.fits 0 charged)
u1=$(mem_usage)
check_eq "an object opened from another container..." "wrote 16777216" "$out"
if [ $((u1 - u0)) -ge $((12 << 20)) ]; then ok "... is charged to its exporter's memory cgroup"; else
        not_ok "... is charged to its exporter's memory cgroup"; diag "usage before $u0, after $u1"; fi
out=$(imp -- $H/shmqcall shm-read /small.big 0)
check_eq "one beyond the exporter's memory limit cannot be opened" "shm_open: ENOMEM" "$out"
check_eq "... and the exporter's programs are left alone" "alive charged" \
        "$(kill -0 $smallpid 2>/dev/null && echo alive) $(imp -- $H/shmqcall shm-read /small.fits 0)"
kill -TERM $smallpid 2>/dev/null
wait $smallpid 2>/dev/null

# ---- an app group ----
mkdir -p "$T/g"
cat >"$T/g/group.yaml" <<YAML
group: shmg
policy: policy.yaml
containers:
  prod:
    command: ["sh", "-c", "$H/shmqcall mq-create /q 600 && $H/shmqcall shm-write /prod.frames 8 hi-group && touch /tmp/ready && $H/shmqcall mq-recv /q"]
    exports:
      - { name: frames, shm: 64K }
      - { name: q, mq: /q }
    ready: { command: [test, -e, /tmp/ready], timeout: 20s }
    volumes: ["$(cd "$HELPERS" && pwd):$H:ro"]
  cons:
    command: ["sh", "-c", "$H/shmqcall shm-read /prod.frames 8; $H/shmqcall mq-send /prod.q bye"]
    depends_on: [prod]
    volumes: ["$(cd "$HELPERS" && pwd):$H:ro"]
YAML
cat >"$T/g/policy.yaml" <<'YAML'
version: 1
default: deny
rules:
  - { id: cons-frames, from: cons, to: prod, allow: ipc, endpoint: frames, type: shm }
  - { id: cons-q, from: cons, to: prod, allow: ipc, endpoint: q, type: mq }
YAML
run_group_until "$T/g" "^prod +\| bye"
check_eq "group exports 'shm:' and 'mq:' reach the container the group's policy allows" \
        "cons | hi-group cons | sent prod | bye " \
        "$(group_lines '^(cons|prod) +\| (hi-group|sent|bye)$' "$T/g.out")"

# ---- a broker restart ----
stop_broker
start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not restart"; exit 1; }
# (Re-adoption goes on while the control socket already answers.)
wait_until audit_grep '"kind":"container","op":"adopt","object":"own"'
out=$(imp -- $H/shmqcall mq-send /own.jobs after-restart)
out="$out $(oexec $H/shmqcall mq-recv /jobs)"
check_eq "a restarted broker re-adopts the exporter with its queue export" "sent after-restart" "$out"
out=$(imp -- $H/shmqcall shm-write /own.frames 0 new-object)
check_eq "... and its shared-memory export (a new object)" "wrote 1048576 1" "$out $(memfds)"

# ---- the object goes with its exporter ----
check_eq "while the exporter runs the broker keeps its object" "1" "$(memfds)"
kill -TERM $ownpid 2>/dev/null
wait_until test ! -e "$STATE_DIR/broker/own"
wait_for '[ "$(memfds)" = 0 ]'
check_eq "once it stops, the broker's object is gone" "0" "$(memfds)"
out=$(imp -- $H/shmqcall shm-read /own.frames 0)
check_eq "... and the name is no one's" "shm_open: ENOENT" "$out"

"$SHUTTLECTL" audit --file "$AUDIT_LOG" --verify >"$T/verify" 2>&1
check_eq "the audit chain verifies" "0" "$?"
stop_broker
finish
