#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The OCI lifecycle: `create` + `start` + `delete` of /bin/true through the
# runtime's command line, as conmon and containerd's shim drive it (their
# part played by tests/helpers/subreaper, which runs create and start, then
# reaps the container's process), for shuttle-oci, crun and runc side by
# side in one hyperfine run.
#
# Run by `make bench` (not by `make check`) in the build directory, as root.
# Reports; never asserts: a missed target is printed, not failed.  Exits
# non-zero only when shuttle-oci itself cannot run the bundle (77 = skipped,
# not root).
#
# Environment:
#   SHUTTLE_OCI  the shuttle-oci binary (default: shuttle-oci next to
#                $SHUTTLECTL, or ./shuttle-oci)
#   BENCH_RUNS   timed runs per command (default 100)
#   BENCH_WARMUP warm-up runs per command (default 3)
#   SUBREAPER    tests/helpers/subreaper (default: next to $SHUTTLECTL)
#
# All three run the same bundle: `crun spec`'s default config.json (its
# namespaces, capabilities, masked paths, /dev) with /bin/true of a static
# busybox as the process.  A second bundle adds podman's default seccomp
# profile as podman puts it into config.json (containers-common's
# /usr/share/containers/seccomp.json for this architecture and the
# bundle's capabilities, or, without it, the profile podman 4.3 wrote into
# tests/unit/oci/podman-4.3.json): shuttle-oci with its cache of compiled
# profiles (docs/OCI.md), shuttle-oci with the cache emptied before every
# run (the profile compiled each time, as before the cache), and crun.  Each timed command is one `sh -c`: the
# subreaper running create and start and waiting for /bin/true to exit,
# then delete; the shell's and the subreaper's cost is in every row alike.  crun runs
# through bench/crun-wrap.sh (Debian's crun refuses the hybrid cgroup
# layout); the wrapper alone is timed too and subtracted ("crun net"), as
# bench/start-latency.sh does, and the target is judged against crun net.

set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_DIR/results.sh"

RUNS=${BENCH_RUNS:-100}
WARMUP=${BENCH_WARMUP:-3}
TARGET=1.0

say() { printf '%s\n' "$*"; }
note() { printf 'oci-lifecycle: %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
q() { printf '%q' "$1"; }

case $RUNS in ''|*[!0-9]*|0) note "BENCH_RUNS must be a positive integer, got '$RUNS'"; exit 2 ;; esac
case $WARMUP in ''|*[!0-9]*) note "BENCH_WARMUP must be a non-negative integer, got '$WARMUP'"; exit 2 ;; esac

OCI=${SHUTTLE_OCI:-$(dirname "${SHUTTLECTL:-./shuttlectl}")/shuttle-oci}
if [ ! -x "$OCI" ]; then
    note "shuttle-oci not found at '$OCI' (set SHUTTLE_OCI or run from the build directory)"
    exit 1
fi
OCI=$(cd "$(dirname "$OCI")" && pwd)/$(basename "$OCI")

SUB=${SUBREAPER:-$(dirname "$OCI")/tests/helpers/subreaper}
if [ ! -x "$SUB" ]; then
    note "tests/helpers/subreaper not found at '$SUB' (make tests/helpers/subreaper, or set SUBREAPER)"
    exit 1
fi
SUB=$(cd "$(dirname "$SUB")" && pwd)/$(basename "$SUB")

if [ "$(id -u)" != 0 ]; then
    note "skipped: containers need root (run 'make bench' as root)"
    exit 77
fi
if ! have hyperfine; then
    note "skipped: hyperfine not installed (scripts/install-deps.sh --bench)"
    bench_result oci-lifecycle - "hyperfine not installed"
    exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/shuttle-bench-oci.XXXXXX") || exit 1
ID=shuttle-bench-oci-$$
cleanup() {
    "$OCI" --root "$TMP/shuttle-root" delete --force "$ID" >/dev/null 2>&1
    have runc && runc --root "$TMP/runc-root" delete --force "$ID" >/dev/null 2>&1
    have crun && "$BENCH_DIR/crun-wrap.sh" crun --root "$TMP/crun-root" delete --force "$ID" >/dev/null 2>&1
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the bundle ----------------------------------------------------------------

B=$TMP/bundle
bb=$(command -v busybox) || { note "busybox not installed (apt-get install busybox-static)"; exit 1; }
if ldd "$bb" >/dev/null 2>&1; then
    note "$bb is not statically linked (apt-get install busybox-static)"
    exit 1
fi
mkdir -p "$B/rootfs/bin" "$B/rootfs/proc" "$B/rootfs/dev" "$B/rootfs/sys" "$B/rootfs/tmp" &&
    cp "$bb" "$B/rootfs/bin/busybox" && ln -s busybox "$B/rootfs/bin/true" || exit 1
if have crun; then
    (cd "$B" && crun spec) >/dev/null 2>&1
else
    (cd "$B" && "$OCI" spec) >/dev/null 2>&1
fi
[ -s "$B/config.json" ] || { note "no default config.json (crun spec / shuttle-oci spec failed)"; exit 1; }
python3 - "$B/config.json" <<'EOF' || { note "could not edit config.json"; exit 1; }
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["/bin/true"]
c["process"]["terminal"] = False
json.dump(c, open(sys.argv[1], "w"), indent=1)
EOF

# The second bundle: the same root and process, podman's seccomp profile.
BS=$TMP/bundle-seccomp
PROFILE_SRC=/usr/share/containers/seccomp.json
[ -r "$PROFILE_SRC" ] || PROFILE_SRC=$BENCH_DIR/../tests/unit/oci/podman-4.3.json
mkdir -p "$BS" &&
python3 - "$B/config.json" "$PROFILE_SRC" "$BS/config.json" "$B/rootfs" <<'EOF' || { note "could not make the seccomp bundle from $PROFILE_SRC"; exit 1; }
import json, os, platform, sys
c = json.load(open(sys.argv[1]))
src = json.load(open(sys.argv[2]))
if "linux" in src:  # a bundle's config.json: its profile as podman wrote it
    prof = src["linux"]["seccomp"]
else:  # containers-common's form, resolved as podman does it (seccomp_linux.go)
    arch = {"x86_64": "SCMP_ARCH_X86_64", "aarch64": "SCMP_ARCH_AARCH64", "ppc64le": "SCMP_ARCH_PPC64LE",
            "s390x": "SCMP_ARCH_S390X", "riscv64": "SCMP_ARCH_RISCV64"}[platform.machine()]
    goarch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    caps = set(c["process"].get("capabilities", {}).get("bounding", []))
    kernel = tuple(int(x) for x in platform.release().split("-")[0].split(".")[:2])
    def kver(v): return tuple(int(x) for x in v.split(".")[:2])
    prof = {"defaultAction": src["defaultAction"]}
    if "defaultErrnoRet" in src: prof["defaultErrnoRet"] = src["defaultErrnoRet"]
    archs = []
    for m in src.get("archMap", []):
        if m["architecture"] == arch: archs = [arch] + m.get("subArchitectures", [])
    prof["architectures"] = archs
    calls = []
    for call in src["syscalls"]:
        inc, exc = call.get("includes", {}), call.get("excludes", {})
        if goarch in exc.get("arches", []) or any(x in caps for x in exc.get("caps", [])): continue
        if "minKernel" in exc and kernel >= kver(exc["minKernel"]): continue
        if inc.get("arches") and goarch not in inc["arches"]: continue
        if any(x not in caps for x in inc.get("caps", [])): continue
        if "minKernel" in inc and kernel < kver(inc["minKernel"]): continue
        r = {"names": call["names"], "action": call["action"]}
        if call.get("errnoRet") is not None: r["errnoRet"] = call["errnoRet"]
        if call.get("args"): r["args"] = [{k: a[k] for k in ("index", "value", "valueTwo", "op") if k in a} for a in call["args"]]
        calls.append(r)
    prof["syscalls"] = calls
c["root"]["path"] = sys.argv[4]
c.setdefault("linux", {})["seccomp"] = prof
json.dump(c, open(sys.argv[3], "w"), indent=1)
EOF

# --- the commands --------------------------------------------------------------

names=() cmds=() skipped=()
add() { names+=("$1"); cmds+=("$2"); }

# lifecycle RUNTIME-WORDS ROOT [BUNDLE [FIRST]]: the one shell command of
# the three verbs (FIRST: a command before them); the subreaper prints how
# the process ended ("exited 0"), which must be all it prints.
lifecycle() {
    local rt="$1 --root $(q "$2")"
    printf 'sh -c %q' "${4:+$4 && }test \"\$($(q "$SUB") $rt create --bundle $(q "${3:-$B}") $ID \; $rt start $ID)\" = 'exited 0' && $rt delete $ID"
}
try() {   # try NAME CMD: adds it if it runs here, else says why not
    local out rc
    out=$(eval "$2" 2>&1); rc=$?
    if [ "$rc" = 0 ]; then add "$1" "$2"; return 0; fi
    skipped+=("$1: exit status $rc${out:+: $(head -c 300 <<<"$out")}")
    return 1
}

if ! try shuttle-oci "$(lifecycle "$(q "$OCI")" "$TMP/shuttle-root")"; then
    note "shuttle-oci cannot run the bundle: ${skipped[0]}"
    exit 1
fi
crun_ok=
if have crun; then
    W=$(q "$BENCH_DIR/crun-wrap.sh")
    if try crun "$W $(lifecycle crun "$TMP/crun-root")"; then
        add crun-wrapper "$W sh -c true"
        crun_ok=1
    fi
else
    skipped+=("crun: not installed (apt-get install crun)")
fi
if have runc; then
    try runc "$(lifecycle runc "$TMP/runc-root")"
else
    skipped+=("runc: not installed (apt-get install runc)")
fi

# With podman's seccomp profile: from shuttle-oci's cache (the warm-up
# fills it), compiled every time (the cache emptied first), crun.
try shuttle-oci+sc "$(lifecycle "$(q "$OCI")" "$TMP/shuttle-root" "$BS")"
try shuttle-oci+sc-nocache "$(lifecycle "$(q "$OCI")" "$TMP/shuttle-root" "$BS" "rm -rf $(q "$TMP/shuttle-root/.seccomp-cache")")"
[ -n "$crun_ok" ] && try crun+sc "$W $(lifecycle crun "$TMP/crun-root" "$BS")"

# --- timing ----------------------------------------------------------------------

say "OCI lifecycle (create + start + delete of /bin/true): $RUNS runs, $WARMUP warm-up, $(nproc) CPUs, kernel $(uname -r)"
for s in "${skipped[@]}"; do say "skipped $s"; done

args=(--warmup "$WARMUP" --runs "$RUNS" -N --style basic --export-json "$TMP/hf.json")
for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
if ! hyperfine "${args[@]}" >"$TMP/hf.out" 2>&1; then
    cat "$TMP/hf.out" >&2
    note "hyperfine failed"
    exit 1
fi
means=() stddevs=() medians=()
while read -r k v; do
    case $k in
    mean) means+=("$v") ;;
    stddev) stddevs+=("${v/null/0}") ;;
    median) medians+=("$v") ;;
    esac
done < <(awk '/"mean":/ { v = $2; sub(/,$/, "", v); print "mean", v }
              /"stddev":/ { v = $2; sub(/,$/, "", v); print "stddev", v }
              /"median":/ { v = $2; sub(/,$/, "", v); print "median", v }' "$TMP/hf.json")
if [ "${#means[@]}" != "${#cmds[@]}" ]; then
    note "could not read the timings (${#means[@]} means for ${#cmds[@]} commands)"
    exit 1
fi

# --- report ----------------------------------------------------------------------

idx() { local i; for i in "${!names[@]}"; do [ "${names[$i]}" = "$1" ] && { echo "$i"; return; }; done; }
i_crun=$(idx crun); i_wrap=$(idx crun-wrapper); i_runc=$(idx runc)
crun_net= runc_mean=${i_runc:+${means[$i_runc]}}
[ -n "$crun_ok" ] && crun_net=$(awk -v a="${means[$i_crun]}" -v b="${means[$i_wrap]}" 'BEGIN { d = a - b; printf "%.9f", (d > 0 ? d : a) }')
ratio() { [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }' || echo "-"; }
ms() { awk -v x="$1" 'BEGIN { printf "%.1f", x * 1000 }'; }

say ""
say "timer: hyperfine $(hyperfine --version | awk '{ print $2 }')"
printf '%-13s %9s %11s %11s %10s %9s\n' runtime "mean ms" "stddev ms" "median ms" "/crun net" "/runc"
for i in "${!names[@]}"; do
    printf '%-13s %9.2f %11.2f %11.2f %10s %9s\n' "${names[$i]}" \
        "$(ms "${means[$i]}")" "$(ms "${stddevs[$i]}")" "$(ms "${medians[$i]}")" \
        "$(ratio "${means[$i]}" "$crun_net")" "$(ratio "${means[$i]}" "$runc_mean")"
done
say ""
say "+sc: with podman's default seccomp profile (from $PROFILE_SRC); +sc-nocache: shuttle-oci's cache of compiled profiles emptied before each run"
i_sc=$(idx shuttle-oci+sc); i_scn=$(idx shuttle-oci+sc-nocache)
if [ -n "$i_sc" ] && [ -n "$i_scn" ]; then
    say "seccomp profile: compiled at every create $(ms "${means[$i_scn]}") ms, from the cache $(ms "${means[$i_sc]}") ms, without one $(ms "${means[0]}") ms"
fi
[ -n "$crun_ok" ] && say "crun net = crun - crun-wrapper (bench/crun-wrap.sh, needed only for crun on a hybrid cgroup layout)"
say "target: shuttle-oci <= ${TARGET}x crun"
if [ -n "$crun_ok" ]; then
    r=$(awk -v a="${means[0]}" -v b="$crun_net" 'BEGIN { printf "%.2f", a / b }')
    bench_result oci-lifecycle "$r" "crun net $(ms "$crun_net") ms, shuttle-oci $(ms "${means[0]}") ms${runc_mean:+, runc $(ms "$runc_mean") ms}, means of $RUNS"
    if awk -v r="$r" -v t="$TARGET" 'BEGIN { exit !(r <= t) }'; then
        say "target met: shuttle-oci = ${r}x crun net"
    else
        say "target MISSED: shuttle-oci = ${r}x crun net"
    fi
else
    say "target not judged: crun did not run (see 'skipped' above)"
    bench_result oci-lifecycle - "crun did not run"
fi
exit 0
