#!/bin/bash
# --volume, --env, --workdir, --user.
. "$(dirname "$0")/lib.sh"
require_root
plan 14

mkdir -p "$T/data"
echo content >"$T/data/file"
out=$(srun -v "$T/data:/data:ro" -- cat /data/file 2>&1)
check_eq "a read-only volume is readable" "content" "$out"
out=$(srun -v "$T/data:/data:ro" -- sh -c '(echo x > /data/new) 2>/dev/null && echo writable || echo refused' 2>&1)
check_eq "a read-only volume is not writable" "refused" "$out"
out=$(srun -v "$T/data:/data" -- sh -c 'echo written > /data/new && echo ok' 2>&1)
check_eq "a read-write volume is writable" "ok" "$out"
check_eq "... and the write reaches the host" "written" "$(cat "$T/data/new")"
out=$(srun -v "$T/data/file:/tmp/in/file.txt:ro" -- cat /tmp/in/file.txt 2>&1)
check_eq "a single file can be a volume, below /tmp" "content" "$out"
# Onto what the root has already (a bind of the host's /etc), and into
# directories that do not exist yet.
out=$(srun -v "$T/data/file:/etc/passwd:ro" -- sh -c 'cat /etc/passwd; grep -c " /etc/passwd " /proc/self/mountinfo' 2>&1 | tr '\n' ' ')
check_eq "a volume over a file the root binds from the host shadows it" "content 2 " "$out"
out=$(srun -v "$T/data:/srv/a/b/c:ro" -- sh -c 'cat /srv/a/b/c/file; stat -c %F /srv/a /srv/a/b' 2>&1 | tr '\n' ' ')
check_eq "a volume's missing parent directories are made" "content directory directory " "$out"
out=$(srun -v "$T/data:/tmp/" -- cat /tmp/file 2>&1)
check_eq "a destination may end in a slash" "content" "$out"
check_status "a missing volume source is an error" 125 srun -v "$T/nope:/x" -- true
check_match "... naming the volume" "--volume $T/nope:/x: No such file or directory" "$(cat "$T/err")"

# (A sanitizer build adds ASAN_OPTIONS in containers: see env.c.)
out=$(srun --name envt -e FOO=bar -e PATH=/bin -e FOO=baz -- /usr/bin/env 2>&1 | grep -v '^ASAN_OPTIONS=' | sort | tr '\n' ' ')
check_eq "the environment is clean, --env applied, later wins" "FOO=baz HOME=/root HOSTNAME=envt PATH=/bin container=shuttle " "$out"
out=$(srun -w /tmp -- pwd 2>&1)
check_eq "--workdir sets the working directory" "/tmp" "$out"
check_status "a missing --workdir is an error" 125 srun -w /nonexistent -- true
check_match "... naming it" "--workdir: cannot enter '/nonexistent'" "$(cat "$T/err")"
finish
