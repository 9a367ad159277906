#!/bin/bash
# invoke --fd: file arguments handed to the invoked app as open descriptors
# (3, 4, … named /dev/fd/N) instead of mounts under /run/shuttle/xfer, with
# the same checks and the same access as a mounted transfer.
. "$(dirname "$0")/lib.sh"
require_root
plan 30

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
  - id: a-sh
    from: a
    to: b
    allow: invoke
    app: /bin/sh
    transfer: ro
  - id: a-env-rw
    from: a
    to: b
    allow: invoke
    app: /usr/bin/env
    transfer: rw
  - id: a-ls-plain
    from: a
    to: b
    allow: invoke
    app: /bin/ls
YAML

start_broker --policy "$T/policy.yaml" || { echo "Bail out! shuttled did not start"; exit 1; }
SI=/run/shuttle/bin/shuttle-invoke

"${SRUN[@]}" --name b -- sleep 600 >"$T/b.out" 2>&1 &
b_job=$!
wait_until test -S "$STATE_DIR/broker/b/broker.sock" || diag "b did not register: $(cat "$T/b.out")"

out=$(srun --name a -- $SI --help 2>&1)
check_match "shuttle-invoke --help names --fd" "--fd .*descriptors" "$(echo $out)"
out=$(srun --name a -- $SI b /bin/sh -c 'readlink /dev/fd' 2>&1)
check_eq "/dev/fd in a container is /proc/self/fd (what /dev/fd/N names rely on)" "/proc/self/fd" "$out"

# ro: readable, named /dev/fd/3, nothing mounted.
out=$(srun --name a -- sh -c "echo secret-data >/tmp/doc.txt; $SI --fd b /bin/cat /tmp/doc.txt" 2>&1)
check_eq "--fd: /bin/cat in b prints the caller's file" "secret-data" "$out"
check_match "... audited as op open-fd, descriptor 3, rule a-cat" '"kind":"transfer","op":"open-fd","object":"/tmp/doc.txt","decision":"allow","rule":"a-cat".*"fd":3.*"target_path":"/dev/fd/3"' "$(audit_grep '"op":"open-fd"')"
out=$(srun --name a -- sh -c "echo secret-data >/tmp/doc.txt; $SI --fd b /bin/sh -c 'echo \"\$0\"; ls /run/shuttle/xfer 2>/dev/null | wc -l; grep -c \" /run/shuttle/xfer\" /proc/self/mountinfo; ls /proc/self/fd' /tmp/doc.txt" 2>&1 | tr '\n' ' ')
check_match "the app's argument is /dev/fd/3" "^/dev/fd/3 " "$out"
check_match "... nothing under /run/shuttle/xfer in the target, nothing mounted there" "^/dev/fd/3 0 0 " "$out"
check_match "... and the app has 0-2, 3 and nothing else of the broker's (ls' own 4 aside)" "^/dev/fd/3 0 0 0 1 2 3 4 $" "$out"
check_nomatch "... no mount transfer was made for it" '"op":"open","object":"/tmp/doc.txt"' "$(audit_grep '"kind":"transfer"')"

# Several: in argument order, ordinary arguments left alone.
out=$(srun --name a -- sh -c "echo A >/tmp/a.txt; echo B >/tmp/b.txt; $SI --fd b /bin/sh -c 'echo \"\$0 \$1 \$2\"; cat \"\$0\" \"\$2\"' /tmp/a.txt plain /tmp/b.txt" 2>&1 | tr '\n' ' ')
check_eq "two file arguments: fds 3 and 4 in argument order, others unchanged" "/dev/fd/3 plain /dev/fd/4 A B " "$out"

# ro means read-only, also through /proc/self/fd (a reopen for writing).
out=$(srun --name a -- sh -c "echo keep >/tmp/doc.txt; $SI --fd b /bin/sh -c 'echo x >>\"\$0\" && echo wrote; echo y >&3 && echo wrote3' /tmp/doc.txt; echo rc=\$?; cat /tmp/doc.txt" 2>&1)
check_match "ro: reopening /dev/fd/3 for writing fails (Read-only file system)" "Read-only file system" "$out"
check_match "... writing to descriptor 3 itself fails (dash says EBADF so)" "echo: I/O error|Bad file descriptor" "$out"
check_nomatch "... neither write succeeded" "wrote" "$out"
check_match "... and the caller's file is unchanged" "keep$" "$out"

# The access mode in the app's fdinfo: the last octal digit of flags (the
# path is relative: an absolute one that exists in the caller would be a
# file argument itself).
acc() { awk '/^flags/ { print substr($2, length($2)) }'; }
out=$(srun --name a -- sh -c "echo d >/tmp/doc.txt; $SI --fd b /bin/sh -c 'cd /proc/\$\$/fdinfo && cat 3' /tmp/doc.txt" 2>&1 | acc)
check_eq "ro: descriptor 3 is O_RDONLY" "0" "$out"
out=$(srun --name a -- sh -c "echo z >/tmp/w.txt; $SI --fd b /usr/bin/env sh -c 'cd /proc/\$\$/fdinfo && cat 3' /tmp/w.txt" 2>&1 | acc)
check_eq "rw: descriptor 3 is O_RDWR" "2" "$out"

# A directory: read-only, and ".." does not lead out of it.
out=$(srun --name a -- sh -c "mkdir -p /tmp/dir/sub; echo f >/tmp/dir/file; echo out >/tmp/outside; $SI --fd b /bin/sh -c 'ls \"\$0\"; echo +; ls \"\$0/..\"; echo +; echo x >\"\$0/new\" && echo created' /tmp/dir" 2>&1 | tr '\n' ' ')
check_match "a directory: listed through /dev/fd/3" "^file sub \+ " "$out"
check_match "... '..' from it stays in it (the caller's /tmp is not reached)" "^file sub \+ file sub \+ " "$out"
check_match "... and nothing can be created in it (ro)" "Read-only file system" "$out"
check_nomatch "... (nothing was)" "created" "$out"

# rw: the app writes, the caller sees it.
out=$(srun --name a -- sh -c "echo one >/tmp/log.txt; $SI --fd b /usr/bin/env sh -c 'cat <&3 >/dev/null; echo two >&3; echo three >>\"\$0\"' /tmp/log.txt; echo rc=\$?; cat /tmp/log.txt" 2>&1 | tr '\n' ' ')
check_eq "rw: the app writes through descriptor 3 and /dev/fd/3, the caller sees both" "rc=0 one two three " "$out"
check_match "... audited with mode rw" '"op":"open-fd","object":"/tmp/log.txt".*"rule":"a-env-rw".*"mode":"rw"' "$(audit_grep '"op":"open-fd"')"

# Refusals as for mounted transfers.
out=$(srun --name a -- sh -c "echo s >/tmp/real.txt; ln -sf /tmp/real.txt /tmp/link.txt; $SI --fd b /bin/cat /tmp/link.txt; echo rc=\$?" 2>&1 | tr '\n' ' ')
check_match "a symlink argument is refused (exit 125)" "symbolic links.*rc=125" "$out"
check_match "... audited as a deny of the invocation" '"kind":"invoke","op":"exec","object":"/bin/cat /tmp/link.txt","decision":"deny","rule":"a-cat","reason":"file argument .*/tmp/link.txt.*: a symlink or magic link in the path"' "$(audit_grep 'link.txt')"
out=$(srun --name a -- sh -c "echo h >/tmp/h1; ln -f /tmp/h1 /tmp/h2; $SI --fd b /bin/cat /tmp/h1; echo rc=\$?" 2>&1 | tr '\n' ' ')
check_match "a file with two hard links is refused" "Too many links.*rc=125" "$out"

# Bounded: 64 descriptors per invocation.
out=$(srun --name a -- sh -c "mkdir /tmp/many; for i in \$(seq 65); do echo \$i >/tmp/many/\$i; done
        $SI --fd b /bin/cat \$(seq -f /tmp/many/%g 64) | wc -l; $SI --fd b /bin/cat \$(seq -f /tmp/many/%g 65); echo rc=\$?" 2>&1 | tr '\n' ' ')
check_match "64 file arguments as descriptors pass" "^64 " "$out"
check_match "... 65 are refused (E2BIG)" "Argument list too long.*rc=125" "$out"
check_match "... and audited" '"decision":"deny","rule":"a-cat","reason":"more than 64 file arguments to pass as descriptors"' "$(audit_grep 'more than 64')"

# transfer: none: the flag changes nothing.
out=$(srun --name a -- sh -c "echo x >/tmp/only-in-a; $SI --fd b /bin/ls /tmp/only-in-a; echo rc=\$?" 2>&1 | tr '\n' ' ')
check_match "without transfer, --fd passes the path as is (and b has no such file)" "only-in-a.*No such file.*rc=2" "$out"

# The apps/ entry form takes no options: --fd there is the app's argument.
out=$(srun --name a -- sh -c "/run/shuttle/apps/b/bin/cat --fd 2>&1; echo rc=\$?" 2>&1 | tr '\n' ' ')
check_match "an apps/ entry passes --fd on to the app (cat: unrecognized option)" "cat: .*--fd.*rc=1" "$out"

"$SHUTTLECTL" audit --file "$AUDIT_LOG" --verify >"$T/verify" 2>&1
check_eq "the audit chain verifies" "0" "$?"

kill -TERM $b_job 2>/dev/null; wait $b_job 2>/dev/null
stop_broker
finish
