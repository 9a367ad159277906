#!/usr/bin/env python3
# Writes podman.json (and, with "long", long.json) of this folder: a config
# shaped like the one podman writes, whose allow list is the names of
# src/runtime/seccomp-table.c.  Usage, from the top of the tree:
#   python3 tests/unit/oci/make-podman-like.py src/runtime/seccomp-table.c > tests/unit/oci/podman.json
#   python3 tests/unit/oci/make-podman-like.py src/runtime/seccomp-table.c long > tests/unit/oci/long.json
import json, re, sys
src = open(sys.argv[1]).read()
names = sorted(set(re.findall(r'"([a-z_][a-z0-9_]*)"', src[src.index('static const SeccompGroup groups'):src.index('static const SeccompDenial')])))
special = {"personality", "socket", "clone", "clone3", "arch_prctl", "modify_ldt", "chroot", "ptrace", "setns", "vmsplice", "io_pgetevents"}
base = {
 "ociVersion": "1.0.2-dev",
 "process": {
  "user": {"uid": 0, "gid": 0, "umask": 18, "additionalGids": [0,1,2,3,4,6,10,11,20,26,27]},
  "args": ["/usr/sbin/nginx", "-g", "daemon off;"],
  "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm",
          "container=podman", "NGINX_VERSION=1.25.3", "NJS_VERSION=0.8.2", "PKG_RELEASE=1~bookworm",
          "HOSTNAME=4d1e0f2a9c3b", "HOME=/root"],
  "cwd": "/",
  "capabilities": {k: ["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_FSETID","CAP_KILL","CAP_NET_BIND_SERVICE","CAP_SETFCAP","CAP_SETGID","CAP_SETPCAP","CAP_SETUID","CAP_SYS_CHROOT"] for k in ("bounding","effective","permitted")},
  "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1048576, "soft": 1048576},
              {"type": "RLIMIT_NPROC", "hard": 4194304, "soft": 4194304}],
  "oomScoreAdj": 0,
 },
 "root": {"path": "/var/lib/containers/storage/overlay/7c1b9a3e5f0d2e4c6b8a1f3d5e7c9b0a2d4f6e8c0a1b3d5f7e9c1a3b5d7f9e0c/merged"},
 "hostname": "4d1e0f2a9c3b",
 "mounts": [],
 "hooks": {
  "createRuntime": [{"path": "/usr/libexec/oci/hooks.d/oci-systemd-hook", "args": ["oci-systemd-hook", "createRuntime"], "env": ["HOOK_DEBUG=0"], "timeout": 5}],
  "poststop": [{"path": "/usr/bin/true"}],
 },
 "annotations": {
  "io.container.manager": "libpod",
  "io.kubernetes.cri-o.Created": "2026-12-06T05:10:11.123456789Z",
  "io.kubernetes.cri-o.TTY": "false",
  "io.podman.annotations.autoremove": "FALSE",
  "io.podman.annotations.init": "FALSE",
  "io.podman.annotations.privileged": "FALSE",
  "io.podman.annotations.publish-all": "FALSE",
  "org.opencontainers.image.stopSignal": "3",
 },
 "linux": {
  "sysctl": {"net.ipv4.ping_group_range": "0 0"},
  "resources": {"devices": [{"allow": False, "access": "rwm"}],
                "memory": {"limit": 268435456, "swap": 536870912},
                "pids": {"limit": 2048}},
  "cgroupsPath": "machine.slice:libpod:4d1e0f2a9c3b5d7f9e1c3a5b7d9f1e3c5a7b9d1f3e5c7a9b1d3f5e7c9a1b3d5f",
  "namespaces": [{"type": "pid"}, {"type": "network", "path": "/run/netns/netns-3f1c2a9d-5b7e-4c0a-8d2f-6e1b3a5c7d9f"},
                 {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}],
  "seccomp": {
   "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
   "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
   "syscalls": [
    {"names": ["bdflush", "io_pgetevents", "kexec_file_load", "kexec_load", "migrate_pages", "move_pages",
               "nfsservctl", "nice", "oldfstat", "oldlstat", "oldolduname", "oldstat", "olduname", "pciconfig_iobase",
               "pciconfig_read", "pciconfig_write", "sgetmask", "ssetmask", "swapcontext", "swapoff", "swapon",
               "sysfs", "uselib", "userfaultfd", "ustat", "vm86", "vm86old", "vmsplice"],
     "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
    {"names": [n for n in names if n not in special], "action": "SCMP_ACT_ALLOW"},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 131072, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 131080, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 4294967295, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
    {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["modify_ldt"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["open_by_handle_at"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
    {"names": ["bpf", "fanotify_init", "lookup_dcookie", "perf_event_open", "quotactl", "setdomainname", "sethostname", "setns"],
     "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
    {"names": ["chroot"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["delete_module", "init_module", "finit_module", "query_module"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
    {"names": ["acct"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
    {"names": ["kcmp", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
    {"names": ["iopl", "ioperm"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
    {"names": ["settimeofday", "stime", "clock_settime", "clock_settime64"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
    {"names": ["vhangup"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
    {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22, "args": [{"index": 0, "value": 16, "valueTwo": 0, "op": "SCMP_CMP_EQ"}, {"index": 2, "value": 9, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
    {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 2, "value": 9, "valueTwo": 0, "op": "SCMP_CMP_NE"}]},
    {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 16, "valueTwo": 0, "op": "SCMP_CMP_NE"}]},
    {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 2, "value": 9, "valueTwo": 0, "op": "SCMP_CMP_NE"}]},
    {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
   ]},
  "maskedPaths": ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                  "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/fs/selinux", "/sys/dev/block"],
  "readonlyPaths": ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
 },
}
m = base["mounts"]
m += [
 {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
 {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
 {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
 {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
 {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
 {"destination": "/etc/hostname", "type": "bind", "source": "/run/containers/storage/overlay-containers/4d1e0f2a9c3b/userdata/hostname", "options": ["bind", "rprivate"]},
 {"destination": "/etc/resolv.conf", "type": "bind", "source": "/run/containers/storage/overlay-containers/4d1e0f2a9c3b/userdata/resolv.conf", "options": ["bind", "rprivate"]},
 {"destination": "/etc/hosts", "type": "bind", "source": "/run/containers/storage/overlay-containers/4d1e0f2a9c3b/userdata/hosts", "options": ["bind", "rprivate"]},
 {"destination": "/dev/shm", "type": "bind", "source": "/var/lib/containers/storage/overlay-containers/4d1e0f2a9c3b/userdata/shm", "options": ["bind", "rprivate", "nosuid", "noexec", "nodev"]},
 {"destination": "/run/.containerenv", "type": "bind", "source": "/run/containers/storage/overlay-containers/4d1e0f2a9c3b/userdata/.containerenv", "options": ["bind", "rprivate"]},
 {"destination": "/run/secrets", "type": "bind", "source": "/run/containers/storage/overlay-containers/4d1e0f2a9c3b/userdata/run/secrets", "options": ["bind", "rprivate"]},
 {"destination": "/srv/data", "type": "bind", "source": "/var/lib/containers/storage/volumes/data/_data", "options": ["nosuid", "nodev", "rbind", "ro"]},
 {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["rprivate", "nosuid", "noexec", "nodev", "relatime", "ro"]},
]
if len(sys.argv) > 2 and sys.argv[2] == "long":
    # A config as a host with many volumes, devices and hooks would give.
    for i in range(200):
        m.append({"destination": "/srv/vol%d" % i, "type": "bind", "source": "/var/lib/containers/storage/volumes/v%d/_data" % i, "options": ["rbind", "nosuid", "nodev", "rprivate"]})
    base["linux"]["devices"] = [{"path": "/dev/loop%d" % i, "type": "b", "major": 7, "minor": i, "fileMode": 0o660, "uid": 0, "gid": 6} for i in range(64)]
    base["linux"]["resources"]["devices"] += [{"allow": True, "type": "b", "major": 7, "minor": i, "access": "rwm"} for i in range(64)]
    for i in range(500):
        base["annotations"]["io.kubernetes.pod.label.l%03d" % i] = "v%d" % i
    base["hooks"]["prestart"] = ( [{"path": "/usr/libexec/oci/hooks.d/h%d" % i, "args": ["h%d" % i, "prestart"], "env": ["A=%d" % i], "timeout": 10} for i in range(50)])
print(json.dumps(base, indent="\t"))
