#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Idle memory per container: N idle containers (busybox `sleep` on the same
# busybox rootfs) started detached by `shuttlectl run --detach` and by
# `crun run --detach`, side by side in one run.
#
# Per container it reports the container's memory cgroup (memory.current on
# cgroup v2, memory.usage_in_bytes on v1; the median over the N, so the
# first container's page cache charge does not count N times), and the
# RSS/PSS of every process outside that cgroup that exists because of the
# container: for Shuttle the detached owner (the state directory's one
# shuttle-monitor, shared by all its detached containers: a process that is
# the owner of k containers counts 1/k for each) and anything else it
# forks, found as the descendants of the state's owner pid that are not in
# the container's cgroup; for crun there
# is none (crun exits once the container runs; conmon, when podman runs
# crun, is podman's).  The ratio is Shuttle (cgroup + RSS outside) / crun
# (cgroup).  Beside it, the same against crun running catatonit as pid 1
# with sleep its child (`podman run --init`; Shuttle's containers always
# have such a pid 1), where a static catatonit is installed (podman's).
#
# Run by `make bench` (not by `make check`) as root.  Reports; never
# asserts.  Exits non-zero only when shuttlectl cannot start the containers
# (77 = skipped: not root, or no busybox).
#
# Environment:
#   SHUTTLECTL   the shuttlectl binary (default: ./shuttlectl)
#   BENCH_IDLE_N containers per side (default 20)
#   BENCH_IDLE_SETTLE seconds to let them settle before measuring (default 1)

set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_DIR/results.sh"

N=${BENCH_IDLE_N:-20}
SETTLE=${BENCH_IDLE_SETTLE:-1}
note() { printf 'idle-memory: %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

case $N in ''|*[!0-9]*|0) note "BENCH_IDLE_N must be a positive integer, got '$N'"; exit 2 ;; esac
SHUTTLECTL=${SHUTTLECTL:-./shuttlectl}
if [ ! -x "$SHUTTLECTL" ]; then
    note "shuttlectl not found at '$SHUTTLECTL' (set SHUTTLECTL or run from the build directory)"
    exit 1
fi
SHUTTLECTL=$(cd "$(dirname "$SHUTTLECTL")" && pwd)/$(basename "$SHUTTLECTL")
if [ "$(id -u)" != 0 ]; then
    note "skipped: containers need root (run 'make bench' as root)"
    exit 77
fi
BB=$(command -v busybox) || { note "skipped: busybox not installed (apt-get install busybox-static)"; exit 77; }
if ! LC_ALL=C file -L "$BB" 2>/dev/null | grep -q 'statically linked' && ldd "$BB" >/dev/null 2>&1; then
    note "skipped: $BB is not statically linked (apt-get install busybox-static)"
    exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/shuttle-idle.XXXXXX") || exit 1
STATE=$TMP/state
CRUN="$BENCH_DIR/crun-wrap.sh crun --root $TMP/crun-root"
cleanup() {
    for i in $(seq 1 "$N"); do
        "$SHUTTLECTL" kill --state-dir "$STATE" "idle$i" KILL >/dev/null 2>&1
    done
    if [ -d "$TMP/crun-root" ]; then
        for i in $(seq 1 "$N"); do $CRUN delete -f "idle-$$-$i" >/dev/null 2>&1; done
    fi
    # Owners clean up after their containers; give them a moment.
    for _ in $(seq 1 50); do
        [ -z "$(ls "$STATE/containers" 2>/dev/null)" ] && break
        sleep 0.1
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One rootfs per side, so each side's first container pays for its own page
# cache of busybox.
for side in shuttle crun crun-init; do
    mkdir -p "$TMP/$side/rootfs/bin" "$TMP/$side/rootfs/proc" "$TMP/$side/rootfs/dev" \
        "$TMP/$side/rootfs/sys" "$TMP/$side/rootfs/tmp" || exit 1
    cp "$BB" "$TMP/$side/rootfs/bin/busybox" && ln -s busybox "$TMP/$side/rootfs/bin/sleep" || exit 1
done
# The second reference: crun with an init as pid 1 and sleep its child, as
# `podman run --init` runs it (catatonit, static; podman's own dependency)
# and as Shuttle always does (its pid 1 forwards signals, reaps and reports
# the exit status).
CATATONIT=
for c in /usr/libexec/podman/catatonit /usr/bin/catatonit; do
    if [ -x "$c" ] && LC_ALL=C file -L "$c" 2>/dev/null | grep -q 'statically linked'; then
        CATATONIT=$c
        break
    fi
done
[ -n "$CATATONIT" ] && cp "$CATATONIT" "$TMP/crun-init/rootfs/bin/catatonit"

# memory_of PID: the bytes its memory cgroup holds, and that cgroup's path
# (for telling its processes from others).
memory_of() {
    local line rel file
    if line=$(grep -m1 -E '^[0-9]+:([^:]*,)?memory(,[^:]*)?:' "/proc/$1/cgroup" 2>/dev/null); then
        rel=${line#*:*:}
        file=$(awk '$3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ { print $2; exit }' /proc/mounts)$rel/memory.usage_in_bytes
    else
        line=$(grep -m1 '^0::' "/proc/$1/cgroup") || return 1
        rel=${line#0::}
        file=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)$rel/memory.current
    fi
    [ -r "$file" ] || return 1
    printf '%s %s\n' "$(cat "$file")" "$line"
}

# outside OWNER CGLINE: "PID RSS PSS" (bytes) of OWNER and each of its
# descendants whose cgroup file has no line CGLINE, one line each.
outside() {
        local todo=("$1") p kids r s
        while [ ${#todo[@]} -gt 0 ]; do
                p=${todo[0]}; todo=("${todo[@]:1}")
                [ -r "/proc/$p/cgroup" ] || continue
                kids=$(cat /proc/"$p"/task/*/children 2>/dev/null)
                for k in $kids; do todo+=("$k"); done
                grep -qxF "$2" "/proc/$p/cgroup" 2>/dev/null && continue
                r=$(awk '/^Rss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
                s=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
                printf '%s %s %s\n' "$p" $((${r:-0} * 1024)) $((${s:-0} * 1024))
        done
}

# shares FILE...: per FILE (one container's outside processes), "RSS PSS
# COUNT" where a process listed for k containers (one shuttle-monitor for
# all the containers of a state directory) counts 1/k in each.
shares() {
        awk 'FNR == 1 { f++ } { n[$1]++; rss[f] += 0; pid[f, FNR] = $1; r[f, FNR] = $2; p[f, FNR] = $3; lines[f] = FNR }
             END { for (i = 1; i <= f; i++) { a = 0; b = 0; c = 0
                     for (j = 1; j <= lines[i]; j++) { k = n[pid[i, j]]; a += r[i, j] / k; b += p[i, j] / k; c += 1 / k }
                     printf "%.0f %.0f %.2f\n", a, b, c } }' "$@"
}

median() { sort -n | awk '{ x[NR] = $1 } END { if (NR == 0) print 0; else print (NR % 2 ? x[(NR + 1) / 2] : int((x[NR / 2] + x[NR / 2 + 1]) / 2)) }'; }
kb() { awk -v x="$1" 'BEGIN { printf "%.0f KB", x / 1024 }'; }

# --- Shuttle ------------------------------------------------------------------
for i in $(seq 1 "$N"); do
    if ! out=$("$SHUTTLECTL" run --detach --state-dir "$STATE" --name "idle$i" \
                 --rootfs "$TMP/shuttle/rootfs" -- /bin/sleep 100000 2>&1); then
        note "shuttlectl run --detach failed: $out"
        exit 1
    fi
done
sleep "$SETTLE"
sh_cg=() sh_rss=() sh_pss=() sh_n=()
json=$("$SHUTTLECTL" ps --state-dir "$STATE" --json) || { note "shuttlectl ps failed"; exit 1; }
for i in $(seq 1 "$N"); do
    pids=$(printf '%s' "$json" | jq -r --arg n "idle$i" '.[] | select(.name == $n) | "\(.pid) \(.owner_pid)"')
    read -r pid owner <<<"$pids"
    [ -n "${pid:-}" ] || { note "container idle$i is not running"; exit 1; }
    read -r cg line < <(memory_of "$pid") || { note "no memory cgroup for idle$i (pid $pid)"; exit 1; }
    outside "$owner" "$line" >"$TMP/outside.$i"
    sh_cg+=("$cg")
done
while read -r r p n; do sh_rss+=("$r"); sh_pss+=("$p"); sh_n+=("$n"); done < <(shares "$TMP"/outside.*)
sh_procs=$(cat "$TMP"/outside.* | awk '{ print $1 }' | sort -u | wc -l)
sh_procs_rss=$(cat "$TMP"/outside.* | sort -u -k1,1 | awk '{ s += $2 } END { print s + 0 }')
for i in $(seq 1 "$N"); do "$SHUTTLECTL" kill --state-dir "$STATE" "idle$i" KILL >/dev/null 2>&1; done

sh_cg_m=$(printf '%s\n' "${sh_cg[@]}" | median)
sh_rss_m=$(printf '%s\n' "${sh_rss[@]}" | median)
sh_pss_m=$(printf '%s\n' "${sh_pss[@]}" | median)
sh_n_m=$(printf '%s\n' "${sh_n[@]}" | sort -n | awk '{ x[NR] = $1 } END { print x[int((NR + 1) / 2)] }')
printf 'idle memory: %d containers per side, medians per container\n' "$N"
printf '  %-8s cgroup %8s  outside: %s process(es) per container, RSS %s, PSS %s (%d process(es) for all %d: RSS %s)\n' \
    shuttle "$(kb "$sh_cg_m")" "$sh_n_m" "$(kb "$sh_rss_m")" "$(kb "$sh_pss_m")" "$sh_procs" "$N" "$(kb "$sh_procs_rss")"

# --- crun ---------------------------------------------------------------------
# crun_side DIR ARGS: N containers of bundle DIR running ARGS (a JSON array)
# by `crun run --detach`; their memory cgroups into cr_cg, or the reason
# they could not be measured into crun_why.
crun_side() {
    local b=$1 args=$2 i pid cg line
    cr_cg=() crun_why=
    if ! have crun; then
        crun_why="crun not installed (apt-get install crun)"; return
    elif ! have jq; then
        crun_why="jq not installed"; return
    fi
    if ! (cd "$b" && crun spec >/dev/null 2>&1) ||
       ! jq --argjson a "$args" '.process.args = $a | .process.terminal = false' "$b/config.json" >"$b/c.json" ||
       ! mv "$b/c.json" "$b/config.json"; then
        crun_why="'crun spec' failed"; return
    fi
    mkdir -p "$TMP/crun-root"
    for i in $(seq 1 "$N"); do
        # Its container keeps crun's stdio: not a pipe we wait on.
        if ! $CRUN run --detach --bundle "$b" "idle-$$-$i" </dev/null >/dev/null 2>"$TMP/crun.err"; then
            crun_why="crun run --detach failed: $(cat "$TMP/crun.err")"
            break
        fi
    done
    if [ -z "$crun_why" ]; then
        sleep "$SETTLE"
        for i in $(seq 1 "$N"); do
            pid=$($CRUN state "idle-$$-$i" | jq -r .pid)
            read -r cg line < <(memory_of "$pid") || { crun_why="no memory cgroup for a crun container"; break; }
            cr_cg+=("$cg")
        done
    fi
    for i in $(seq 1 "$N"); do $CRUN delete -f "idle-$$-$i" >/dev/null 2>&1; done
}

crun_side "$TMP/crun" '["/bin/sleep", "100000"]'
if [ -n "$crun_why" ]; then
    printf '  %-8s %s\n' crun "not measured: $crun_why"
    bench_result idle-memory - "$crun_why"
    exit 0
fi
cr_cg_m=$(printf '%s\n' "${cr_cg[@]}" | median)
printf '  %-8s cgroup %8s  outside: none (crun exits; conmon is podman'"'"'s)\n' crun "$(kb "$cr_cg_m")"
ratio=$(awk -v s=$((sh_cg_m + sh_rss_m)) -v c="$cr_cg_m" 'BEGIN { printf "%.2f", (c > 0 ? s / c : 0) }')

init_note=
if [ -n "$CATATONIT" ]; then
    crun_side "$TMP/crun-init" '["/bin/catatonit", "--", "/bin/sleep", "100000"]'
    if [ -z "$crun_why" ]; then
        ci_cg_m=$(printf '%s\n' "${cr_cg[@]}" | median)
        ratio_init=$(awk -v s=$((sh_cg_m + sh_rss_m)) -v c="$ci_cg_m" 'BEGIN { printf "%.2f", (c > 0 ? s / c : 0) }')
        printf '  %-8s cgroup %8s  (crun with catatonit as pid 1, as podman run --init)\n' crun+init "$(kb "$ci_cg_m")"
        init_note="; against crun with an init as pid 1 (catatonit, podman run --init: $(kb "$ci_cg_m")) ${ratio_init}x"
    else
        printf '  %-8s not measured: %s\n' crun+init "$crun_why"
    fi
else
    printf '  %-8s not measured: no static catatonit (apt-get install catatonit)\n' crun+init
fi
printf '  ratio (shuttle cgroup + RSS outside) / crun cgroup: %s\n' "$ratio"
bench_result idle-memory "$ratio" "shuttle $(kb "$sh_cg_m") cgroup + $(kb "$sh_rss_m") RSS in $sh_n_m process(es) outside (PSS $(kb "$sh_pss_m")), crun $(kb "$cr_cg_m")$init_note, medians of $N"
exit 0
