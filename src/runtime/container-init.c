/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Inside the container: the first process of the new namespaces builds the
 * filesystem, pivots into it, enters the container's sandbox, starts CMD,
 * and stays as pid 1 to reap zombies and forward signals, as shuttle-init
 * (shuttle-init.c) where it can exec it, else as itself.  What pid 1 holds
 * once CMD runs, and why, is in docs/SANDBOX.md ("What of ours lives in a
 * container"). */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/seccomp.h>
#include <termios.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/fileio.h"
#include "common/macro.h"
#include "runtime/container-internal.h"
#include "runtime/oci-hooks.h"
#include "runtime/sandbox.h"

void forwarded_signals(sigset_t *ret) {
        sigemptyset(ret);
        sigaddset(ret, SIGINT);
        sigaddset(ret, SIGTERM);
        sigaddset(ret, SIGHUP);
        sigaddset(ret, SIGQUIT);
        sigaddset(ret, SIGUSR1);
        sigaddset(ret, SIGUSR2);
        sigaddset(ret, SIGWINCH);
}

static void send_msg(int sock, int type, int err, int status, pid_t pid, const char *fmt, ...) {
        InitMessage m = { .type = type, .err = err, .status = status, .pid = pid };
        if (fmt) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(m.text, sizeof(m.text), fmt, ap);
                va_end(ap);
        }
        (void) send(sock, &m, sizeof(m), MSG_NOSIGNAL);
}

/* Reports a setup failure to shuttlectl and ends this process. */
#define fail(a, r, ...)                                                         \
        do {                                                                    \
                send_msg((a)->sock, INIT_MSG_ERROR, -(r), 0, 0, __VA_ARGS__);   \
                _exit(1);                                                       \
        } while (0)

static const char *mount_what(const MountEntry *e) {
        static char buf[PATH_MAX + 64];
        switch (e->kind) {
        case MOUNT_BIND:
                snprintf(buf, sizeof(buf), "binding '%s' at '%s'", e->source, e->target);
                break;
        case MOUNT_FS:
                snprintf(buf, sizeof(buf), "mounting %s at '%s'", e->fstype, e->target);
                break;
        case MOUNT_DIR:
                snprintf(buf, sizeof(buf), "creating directory '%s'", e->target);
                break;
        case MOUNT_SYMLINK:
                snprintf(buf, sizeof(buf), "creating symlink '%s'", e->target);
                break;
        case MOUNT_MASK:
                snprintf(buf, sizeof(buf), "masking '%s'", e->target);
                break;
        case MOUNT_READONLY:
                snprintf(buf, sizeof(buf), "making '%s' read-only", e->target);
                break;
        case MOUNT_CGROUP:
                snprintf(buf, sizeof(buf), "mounting the cgroups at '%s'", e->target);
                break;
        case MOUNT_DEVICE:
                snprintf(buf, sizeof(buf), "creating the device '%s'", e->target);
                break;
        case MOUNT_SYSCTL:
                snprintf(buf, sizeof(buf), "writing '%s' to '%s'", e->options ? e->options : "", e->target);
                break;
        }
        return buf;
}

/* In a user namespace of its own: become its root (the container's uid
 * and gid 0) before anything is mounted or created inside, as runc and
 * crun do; the kernel refuses new filesystem instances to a mounter whose
 * ids the namespace does not map (host root), and what we create is the
 * container's root's.  Host paths that need host root to be reached (the
 * bundle in a 0700 directory, the state) were opened before. */
static void become_userns_root(const InitArgs *a) {
        if (!(a->namespaces & CLONE_NEWUSER) || !a->plan->userns_root_mapped)
                return;
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                fail(a, -errno, "becoming the user namespace's root: %m");
}

static void setup_root(const InitArgs *a) {
        const ContainerConfig *c = a->config;
        const MountEntry *failed = NULL;
        _cleanup_close_ int staging = -1, root = -1;
        int r;

        /* Nothing we mount may propagate back to the host. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                fail(a, -errno, "making mounts private: %m");

        staging = open(a->staging, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (staging < 0)
                fail(a, -errno, "opening '%s': %m", a->staging);

        if (a->plan->root_is_tmpfs) {
                int fs = fsopen("tmpfs", FSOPEN_CLOEXEC), mnt;
                if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0 ||
                    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                        fail(a, -errno, "creating the root tmpfs: %m");
                mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
                if (mnt < 0 || move_mount(mnt, "", staging, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                        fail(a, -errno, "mounting the root tmpfs: %m");
                close(mnt);
                close(fs);
        } else {
                /* shuttle-oci: no device node of the bundle's root works
                 * (the devices cgroup is not carried yet: docs/OCI.md);
                 * /dev is a mount of its own on top. */
                r = bind_mount_fd(c->rootfs, staging, c->own_mounts ? MNT_NODEV : 0);
                if (r < 0)
                        fail(a, r, "binding rootfs '%s': %m", c->rootfs);
        }

        root = open(a->staging, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                fail(a, -errno, "opening the new root: %m");
        become_userns_root(a);

        r = mount_plan_apply(a->plan, root, &failed);
        if (r < 0)
                fail(a, r, "%s: %m", mount_what(failed));

        if (a->plan->root_read_only) {
                struct mount_attr ma = { .attr_set = MOUNT_ATTR_RDONLY };
                if (mount_setattr(root, "", AT_EMPTY_PATH, &ma, sizeof(ma)) < 0)
                        fail(a, -errno, "making the root read-only: %m");
        }

        /* pivot_root(".", ".") stacks the old root on top of the new one;
         * detaching it leaves the container with no path to the host's. */
        if (fchdir(root) < 0)
                fail(a, -errno, "entering the new root: %m");
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                fail(a, -errno, "pivot_root: %m");
        if (umount2(".", MNT_DETACH) < 0)
                fail(a, -errno, "detaching the old root: %m");
        if (chdir("/") < 0)
                fail(a, -errno, "chdir /: %m");
}

/* --tty: the terminal comes from the container's own devpts, so CMD sees
 * /dev/pts/0 and /dev/console as it would on a machine of its own; the
 * master goes to shuttlectl over the socket. */
static int setup_tty(const InitArgs *a) {
        _cleanup_close_ int master = -1;
        char path[64];
        InitMessage m = { .type = INIT_MSG_TTY };
        int slave, r;

        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                fail(a, -errno, "--tty: opening /dev/ptmx: %m");
        if (unlockpt(master) < 0 || ptsname_r(master, path, sizeof(path)) != 0)
                fail(a, -errno, "--tty: unlocking the terminal: %m");
        slave = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                fail(a, -errno, "--tty: opening %s: %m", path);
        /* Not in a mount namespace joined by path: it is not ours to
         * change. */
        if (!a->config->ns_path[CONTAINER_NS_MOUNT] &&
            (touch_at(AT_FDCWD, "/dev/console", 0600) < 0 || mount(path, "/dev/console", NULL, MS_BIND, NULL) < 0))
                fail(a, -errno, "--tty: binding %s at /dev/console: %m", path);
        r = (int) fd_send(a->sock, &m, sizeof(m), &master, 1);
        if (r < 0)
                fail(a, r, "--tty: passing the terminal: %m");
        return slave;
}

/* ICMP echo ("ping") through datagram sockets for every group, as Podman
 * does: the container has no CAP_NET_RAW.  Only this network namespace's
 * value changes. */
static void allow_ping(void) {
        (void) write_file_at(AT_FDCWD, "/proc/sys/net/ipv4/ping_group_range", "0 2147483647");
}

/* The sandbox of the container, entered by pid 1 itself before CMD
 * exists (invariant 8): the container's bounding set, rlimits, user, working
 * directory, no_new_privs and seccomp program.  CMD is forked from it and
 * inherits all of it, so nothing of ours in the container ever holds more
 * than the container, even for an instant.  Failures end the init with a
 * message to shuttlectl.  Returns the seccomp notify fd of a profile with
 * SCMP_ACT_NOTIFY rules (shuttle-oci), else -1. */
static int enter_sandbox(const InitArgs *a) {
        const ContainerConfig *c = a->config;
        const RlimitSpec *failed_rlimit = NULL;
        /* shuttle-oci's errors name config.json's keys, not shuttlectl's options. */
        const bool oci = c->cmd_is_pid1;
        const SandboxSpec spec = {
                .caps = a->caps,
                .rlimits = c->rlimits,
                .n_rlimits = c->n_rlimits,
                .set_ids = c->has_user,
                .uid = c->uid,
                .gid = c->gid,
                .groups = c->groups,
                .n_groups = c->has_user ? c->n_groups : 0,
                .workdir = c->workdir,
                .seccomp = a->seccomp,
                /* a->sock stays usable: sandbox_enter() only marks the
                 * rest close-on-exec, and pid 1 never execs. */
                .n_pass_fds = c->preserve_fds,
                .ambient = c->caps_ambient,
                .keep_caps = c->cmd_is_pid1,
                .new_privs = c->new_privs,
        };
        SandboxStep step;
        int r, listener = -1;

        r = sandbox_enter(&spec, &step, &failed_rlimit);
        if (r >= 0)
                listener = seccomp_program_flags(a->seccomp) & SECCOMP_FILTER_FLAG_NEW_LISTENER ? r : -1;
        if (r < 0)
                switch (step) {
                case SANDBOX_STEP_RLIMITS:
                        fail(a, r, "%s %s: %m", oci ? "process.rlimits" : "--ulimit",
                             failed_rlimit ? rlimit_name(failed_rlimit->resource) : "?");
                case SANDBOX_STEP_GROUPS:
                        fail(a, r, "%s: setting the supplementary groups: %m",
                             oci ? "process.user.additionalGids" : "--user");
                case SANDBOX_STEP_GID:
                        fail(a, r, "%s: setting gid %u: %m", oci ? "process.user" : "--user", (unsigned) c->gid);
                case SANDBOX_STEP_UID:
                        fail(a, r, "%s: setting uid %u: %m", oci ? "process.user" : "--user", (unsigned) c->uid);
                case SANDBOX_STEP_WORKDIR:
                        fail(a, r, "%s: cannot enter '%s': %m", oci ? "process.cwd" : "--workdir",
                             c->workdir ? c->workdir : "/");
                default:
                        fail(a, r, "%s: %m", sandbox_step_describe(step));
                }

        /* Changing ids resets both: no container process may ptrace us
         * without CAP_SYS_PTRACE, and we still die with shuttlectl.  If it
         * died while the signal was disarmed, the socket says so.  (With
         * cmd_is_pid1 the caller leaves once we said we are created: then
         * we must outlive it, and the socket tells us if it went first.) */
        if (prctl(PR_SET_DUMPABLE, 0) < 0 || prctl(PR_SET_PDEATHSIG, c->cmd_is_pid1 ? 0 : SIGKILL) < 0)
                fail(a, -errno, "prctl: %m");
        {
                struct pollfd p = { .fd = a->sock, .events = POLLIN };
                if (poll(&p, 1, 0) != 0)
                        _exit(1);
        }
        return listener;
}

/* In the forked CMD process, already in the sandbox: its own session, the
 * terminal, exec.  Failures go to the init over `errpipe` as an
 * InitMessage. */
_Noreturn static void exec_command(const InitArgs *a, int errpipe) {
        const ContainerConfig *c = a->config;
        sigset_t all;
        InitMessage m = { .type = INIT_MSG_ERROR };

#define cmd_fail(type_, r_, ...)                                              \
        do {                                                                  \
                m.type = (type_);                                             \
                m.err = -(r_);                                                \
                errno = m.err;                                                \
                snprintf(m.text, sizeof(m.text), __VA_ARGS__);                \
                (void) write(errpipe, &m, sizeof(m));                         \
                _exit(127);                                                   \
        } while (0)

        for (int s = 1; s < NSIG; s++)
                (void) signal(s, SIG_DFL);
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);

        if (setsid() < 0)
                cmd_fail(INIT_MSG_ERROR, -errno, "setsid: %m");
        /* --tty: stdio is the container's terminal already (pid 1 put it
         * there); make it ours. */
        if (c->tty && ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0)
                cmd_fail(INIT_MSG_ERROR, -errno, "acquiring the terminal: %m");

        environ = (char **) a->envp;
        execvp(c->argv[0], c->argv);
        cmd_fail(INIT_MSG_EXEC_FAILED, -errno, "%s: %m", c->argv[0]);
#undef cmd_fail
}

/* Everything pid 1 got from shuttlectl's descriptor table (the state lock,
 * the cgroup directories, the signalfd, whatever the caller of shuttlectl
 * left open) is host state: none of it may be held inside the container.
 * Only stdio, for CMD, and our socket stay. */
static void close_inherited(const InitArgs *a) {
        /* Kept: the socket, the exec FIFO, shuttle-init's file, and what
         * the caller passes on on purpose (3 … 3+preserve_fds-1). */
        int keep[3] = { a->sock, a->exec_fifo, a->init_program }, lo = 3 + (int) a->config->preserve_fds;

        for (size_t i = 1; i < ELEMENTSOF(keep); i++)
                for (size_t j = i; j > 0 && keep[j] < keep[j - 1]; j--) {
                        int t = keep[j];
                        keep[j] = keep[j - 1];
                        keep[j - 1] = t;
                }
        for (size_t i = 0; i < ELEMENTSOF(keep); i++) {
                if (keep[i] < 0 || keep[i] < lo)
                        continue;
                if (keep[i] > lo)
                        (void) close_range((unsigned) lo, (unsigned) keep[i] - 1, 0);
                lo = keep[i] + 1;
        }
        (void) close_range((unsigned) lo, ~0U, 0);
}

/* Namespaces given by path, entered before anything is set up in them
 * (the pid namespace was entered by the parent, for us; the cgroup one
 * waits until we are in our cgroup). */
static void join_namespaces(const InitArgs *a) {
        static const int types[_CONTAINER_NS_MAX] = {
                [CONTAINER_NS_NET] = CLONE_NEWNET,
                [CONTAINER_NS_IPC] = CLONE_NEWIPC,
                [CONTAINER_NS_UTS] = CLONE_NEWUTS,
                [CONTAINER_NS_MOUNT] = CLONE_NEWNS,
        };

        for (size_t i = 0; i < _CONTAINER_NS_MAX; i++) {
                if (a->ns_fds[i] < 0 || types[i] == 0)
                        continue;
                if (setns(a->ns_fds[i], types[i]) < 0)
                        fail(a, -errno, "joining the namespace '%s': %m", a->config->ns_path[i]);
        }
}

/* Our pid in the host's pid namespace (for the start hooks' state), read
 * while /proc is still the host's. */
static pid_t host_pid;

static pid_t read_host_pid(void) {
        char b[32];
        ssize_t n = readlink("/proc/self", b, sizeof(b) - 1);

        if (n <= 0)
                return 0;
        b[n] = '\0';
        return (pid_t) strtol(b, NULL, 10);
}

/* hooks.startContainer, in order; the first failing one ends us: why goes
 * to our stderr and, after an 'E', into the FIFO, where
 * container_start_fifo() finds it once we are gone. */
static void run_start_hooks(const InitArgs *a) {
        const ContainerConfig *c = a->config;
        _cleanup_free_ char *state = NULL;
        int len;

        if (c->n_start_hooks == 0)
                return;
        len = asprintf(&state, "%s,\"pid\":%d}", c->start_hook_state ? c->start_hook_state : "{\"ociVersion\":\"1.0.2\"",
                       (int) host_pid);
        if (len < 0)
                _exit(1);
        for (size_t i = 0; i < c->n_start_hooks; i++) {
                char msg[512] = "", out[600];
                int k;

                const ContainerStartHook *h = &c->start_hooks[i];

                /* As pid 1 of the container, in its sandbox. */
                if (oci_hook_run(&(OciHookRun){ .path = h->path, .args = h->args, .env = h->env,
                                                .timeout = h->timeout, .ns_pidfd = -1, .cancel_fd = -1,
                                                .exec_error_prefix = "shuttle-oci" },
                                 state, (size_t) len, msg, sizeof(msg)) == 0)
                        continue;
                k = snprintf(out, sizeof(out), "Ehooks.startContainer[%zu]: %s", i, msg);
                dprintf(STDERR_FILENO, "shuttle-oci: %s\n", out + 1);
                if (k > 0)
                        (void) !write(a->exec_fifo, out, MIN((size_t) k, sizeof(out) - 1));
                _exit(1);
        }
}

/* cmd_is_pid1 (shuttle-oci): in the sandbox already, we say we are
 * created, wait for container_start_fifo()'s byte on the FIFO, and become
 * CMD.  Nothing else of ours is in the container, ever. */
_Noreturn static void become_command(const InitArgs *a, int listener) {
        const ContainerConfig *c = a->config;
        sigset_t none;
        char b;
        ssize_t n;

        if (listener >= 0) {
                /* The seccomp notify fd goes to shuttle-oci, which hands it
                 * to linux.seccomp.listenerPath's agent.  Not ours to keep:
                 * a container process that held it could answer its own
                 * notifications. */
                InitMessage m = { .type = INIT_MSG_SECCOMP_LISTENER };

                n = fd_send(a->sock, &m, sizeof(m), &listener, 1);
                (void) close(listener);
                if (n < 0)
                        _exit(1);
        }
        send_msg(a->sock, INIT_MSG_CREATED, 0, 0, 0, NULL);
        /* The caller leaves now; nobody hears us any more but stderr. */
        (void) close(a->sock);

        do
                n = read(a->exec_fifo, &b, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1)
                _exit(1);
        /* The FIFO stays open until execve() closes it (close-on-exec):
         * container_start_fifo() waits for that. */

        for (int s = 1; s < NSIG; s++)
                (void) signal(s, SIG_DFL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        run_start_hooks(a);
        if (c->tty && (setsid() < 0 || ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0)) {
                dprintf(STDERR_FILENO, "shuttle-oci: acquiring the terminal: %m\n");
                _exit(127);
        }
        environ = (char **) a->envp;
        execvp(c->argv[0], c->argv);
        dprintf(STDERR_FILENO, "shuttle-oci: exec '%s': %m\n", c->argv[0]);
        _exit(errno == ENOENT ? 127 : 126);
}

/* pid 1 is a fork of shuttlectl: /proc/1/cmdline (world-readable in the
 * container) would show the host's path of shuttlectl and the operator's
 * command line, and /proc/1/environ (to a container process with
 * CAP_SYS_PTRACE) the operator's environment.  Both are overwritten in
 * place once CMD is forked: until then the configuration (CMD's argv, --env
 * values) may point into them; after, pid 1 only waits and forwards
 * signals.  (PR_SET_MM would need CAP_SYS_RESOURCE, which not every root
 * has.)  The areas are found in /proc/self/stat (fields 48 to 51) while
 * /proc is still the host's. */
typedef struct ProcAreas {
        unsigned long arg_start, arg_end, env_start, env_end;
} ProcAreas;

static void find_proc_areas(ProcAreas *ret) {
        _cleanup_free_ char *stat = NULL;
        ProcAreas v;
        const char *p;
        size_t size;

        *ret = (ProcAreas){};
        if (read_file_at(AT_FDCWD, "/proc/self/stat", 4096, &stat, &size) < 0 || !(p = strrchr(stat, ')')))
                return;
        /* p is at the comm's ')': each space found moves to the next field,
         * the first to field 3 (state); 46 of them, to field 48. */
        for (int field = 2; field < 48 && p; field++)
                p = strchr(p + 1, ' ');
        if (!p || sscanf(p, " %lu %lu %lu %lu", &v.arg_start, &v.arg_end, &v.env_start, &v.env_end) != 4)
                return;
        /* The kernel lays out the argument strings and right after them the
         * environment's: anything else, and nothing is touched. */
        if (v.arg_start == 0 || v.arg_end < v.arg_start + sizeof("shuttle-init") + 1 || v.env_start < v.arg_end ||
            v.env_end < v.env_start || v.env_end - v.arg_start > (UINT64_C(1) << 24))
                return;
        *ret = v;
}

static void hide_host_cmdline(const ProcAreas *v) {
        if (v->arg_start == 0)
                return;
        memset((void *) v->env_start, 0, v->env_end - v->env_start);
        memset((void *) v->arg_start, 0, v->arg_end - v->arg_start);
        strcpy((char *) v->arg_start, "shuttle-init");
        /* Not NUL: the kernel then reads the command line only up to the
         * first NUL, as after setproctitle(). */
        ((char *) v->arg_end)[-1] = ' ';
}

/* pid 1 becomes shuttle-init (shuttle-init.c), which lets CMD go and does
 * the rest of the loop below: the exec replaces all of our memory (a fork
 * of shuttlectl, with the host's command line in it) by a few pages, before
 * anything of CMD runs.  It holds only the socket and the two pipes (not
 * stdio: CMD's alone).  Returns if the exec failed (no file, a seccomp
 * profile refusing execveat): then the init stays itself. */
static void exec_tiny_init(const InitArgs *a, int errfd, int gofd, pid_t cmd) {
        char s_sock[16], s_err[16], s_go[16], s_cmd[16], s_kill[2];
        /* DETACHED: handed to shuttle-monitor once it runs (see
         * shuttle-init.c). */
        char *const argv[] = { (char *) "shuttle-init", s_sock, s_err, s_go, s_cmd, s_kill,
                               (char *) (a->config->detached ? "1" : NULL), NULL };
        char *const envp[] = { NULL };

        if (a->init_program < 0)
                return;
        snprintf(s_sock, sizeof(s_sock), "%d", a->sock);
        snprintf(s_err, sizeof(s_err), "%d", errfd);
        snprintf(s_go, sizeof(s_go), "%d", gofd);
        snprintf(s_cmd, sizeof(s_cmd), "%d", (int) cmd);
        snprintf(s_kill, sizeof(s_kill), "%d", (a->caps & CAP_MASK(CAP_KILL)) ? 1 : 0);
        /* Whatever else we hold stays out of shuttle-init: all of it is
         * close-on-exec but the three it is given. */
        (void) close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
        if (fcntl(a->sock, F_SETFD, 0) < 0 || fcntl(errfd, F_SETFD, 0) < 0 || fcntl(gofd, F_SETFD, 0) < 0)
                return;
        (void) syscall(SYS_execveat, a->init_program, "", argv, envp, AT_EMPTY_PATH);
}

typedef struct CmdChild {
        const InitArgs *a;
        int errpipe[2];
        int gopipe[2];
} CmdChild;

/* CMD's process until its exec: waits for pid 1's word, then execs. */
static int cmd_child(void *userdata) {
        CmdChild *k = userdata;
        ssize_t n;
        char byte;

        close(k->errpipe[0]);
        close(k->gopipe[1]);
        close(k->a->sock);
        if (k->a->init_program >= 0)
                close(k->a->init_program);
        /* Nothing of CMD runs before pid 1 has dropped its capabilities
         * and replaced (exec of shuttle-init) or hidden the host's command
         * line: until then they would be there for CMD to read in
         * /proc/1. */
        do
                n = read(k->gopipe[0], &byte, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1)
                _exit(127);
        close(k->gopipe[0]);
        exec_command(k->a, k->errpipe[1]);
}

#define CMD_STACK_SIZE (1024u * 1024u)

/* CMD's process.  Where pid 1 is about to become shuttle-init, it shares
 * our memory (CLONE_VM, on a stack of its own) instead of getting a copy
 * of it: no page tables copied, no copy-on-write faults, one address space
 * torn down at its exec instead of two.  That is safe because until pid 1's
 * word CMD only closes its copies of the descriptors and waits, and pid 1
 * says the word only once it is shuttle-init (then this memory is CMD's
 * alone) or, failing that exec, while it does nothing but wait on the error
 * pipe until CMD has exec'd or ended. */
static pid_t spawn_cmd(CmdChild *k, void **ret_stack) {
        void *stack = MAP_FAILED;
        pid_t pid;

        *ret_stack = NULL;
#ifndef __SANITIZE_ADDRESS__
        /* (Not under AddressSanitizer: its per-thread state, which both
         * would use, is not made for two processes.) */
        if (k->a->init_program >= 0)
                stack = mmap(NULL, CMD_STACK_SIZE, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
#endif
        if (stack != MAP_FAILED) {
                pid = clone(cmd_child, (char *) stack + CMD_STACK_SIZE, CLONE_VM | SIGCHLD, k);
                if (pid >= 0) {
                        *ret_stack = stack;
                        return pid;
                }
                (void) munmap(stack, CMD_STACK_SIZE);
        }
        pid = fork();
        if (pid == 0)
                _exit(cmd_child(k));
        return pid;
}

_Noreturn void container_init_main(const InitArgs *a) {
        ProcAreas areas;
        CmdChild child;
        void *cmd_stack;
        sigset_t fwd;
        int errpipe[2], gopipe[2], r;
        InitMessage m;
        pid_t cmd;
        char go;
        ssize_t n;

        /* If shuttlectl dies, so does the container (pid 1 takes the whole
         * namespace with it); what it leaves on disk is cleaned at the next
         * start.  (getppid() is 0 in the new pid namespace: if shuttlectl
         * died before the prctl, the read below sees the socket closed.)
         * Not dumpable from the start: only CAP_SYS_PTRACE reaches us. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || prctl(PR_SET_DUMPABLE, 0) < 0)
                _exit(1);
        (void) prctl(PR_SET_NAME, "shuttle-init");

        /* Into the container's cgroup before anything else, so that every
         * limit applies to every process of the container.  We move
         * ourselves (shuttlectl writing our pid would wait for an RCU grace
         * period on cgroup v1: see cgroup_attach_self()); the directories'
         * fds come from shuttlectl. */
        r = cgroup_attach_self(a->cgroup);
        if (r < 0) {
                errno = -r;
                fail(a, r, "adding the container to its cgroup: %m");
        }

        if (a->namespaces & CLONE_NEWUSER) {
                /* Nothing is set up until our uid_map and gid_map are
                 * written (container_create()): until then every id is
                 * the overflow id here.  Our kernel ids stay the host's
                 * root's until become_userns_root(), so host paths (the
                 * bundle, the state) resolve as before; the capabilities
                 * are the new namespace's, over what it owns. */
                do
                        n = read(a->sock, &go, 1);
                while (n < 0 && errno == EINTR);
                if (n != 1)
                        _exit(1);
        }

        find_proc_areas(&areas);
        host_pid = read_host_pid();
        join_namespaces(a);
        close_inherited(a);

        /* The filesystem, host name and network are set up while shuttlectl
         * puts us into the container's cgroup (on cgroup v1 the migration
         * can take milliseconds); nothing of CMD runs before that is done. */
        umask(022);
        /* Only in a network namespace of our own: in a joined one (or the
         * host's) the value is someone else's. */
        if (a->namespaces & CLONE_NEWNET)
                allow_ping();
        if (a->config->ns_path[CONTAINER_NS_MOUNT]) {
                /* A mount namespace joined: its mounts are the
                 * container's, as they are (runc does the same); setns()
                 * put us at its root. */
                if (chdir("/") < 0)
                        fail(a, -errno, "chdir /: %m");
                become_userns_root(a);
        } else
                setup_root(a);

        /* A UTS namespace of the container's own: new, or one it was
         * given by path (never ours, the host's). */
        bool own_uts = (a->namespaces & CLONE_NEWUTS) || a->config->ns_path[CONTAINER_NS_UTS];
        if (a->hostname && own_uts && sethostname(a->hostname, strlen(a->hostname)) < 0)
                fail(a, -errno, "setting the host name: %m");
        if (a->hostname && !own_uts && a->config->hostname)
                fail(a, -EINVAL, "a host name needs a UTS namespace of the container's own");
        if (a->config->domainname && own_uts &&
            setdomainname(a->config->domainname, strlen(a->config->domainname)) < 0)
                fail(a, -errno, "setting the domain name: %m");

        if ((a->namespaces & CLONE_NEWNET) && (a->config->net == NET_LOOPBACK || a->config->net == NET_BRIDGE)) {
                r = netlink_loopback_up();
                if (r < 0)
                        fail(a, r, "bringing up the loopback interface: %m");
        }
        if (a->config->tty) {
                /* The caller's stdio (the operator's terminal) is not CMD's
                 * with --tty: from now on pid 1 holds only the container's
                 * own terminal, which CMD inherits. */
                int tty_slave = setup_tty(a);
                if (a->config->console_rows > 0 && a->config->console_cols > 0) {
                        struct winsize ws = { .ws_row = (unsigned short) a->config->console_rows,
                                              .ws_col = (unsigned short) a->config->console_cols };
                        (void) ioctl(tty_slave, TIOCSWINSZ, &ws);
                }
                for (int fd = 0; fd < 3; fd++)
                        if (dup2(tty_slave, fd) < 0)
                                fail(a, -errno, "--tty: dup2: %m");
                if (tty_slave > 2)
                        safe_close(tty_slave);
        }

        /* From now on whatever looks at us from outside (the broker
         * resolving paths in /proc/PID/root) sees the container's root. */
        send_msg(a->sock, INIT_MSG_ROOT_READY, 0, 0, 0, NULL);

        /* Wait until shuttlectl has put us into the container's cgroup and
         * registered us with the broker. */
        n = read(a->sock, &go, 1);
        if (n != 1)
                _exit(1);

        /* Now the cgroup namespace's root is the container's cgroup. */
        if (a->ns_fds[CONTAINER_NS_CGROUP] >= 0) {
                if (setns(a->ns_fds[CONTAINER_NS_CGROUP], CLONE_NEWCGROUP) < 0)
                        fail(a, -errno, "joining the namespace '%s': %m", a->config->ns_path[CONTAINER_NS_CGROUP]);
        } else if ((a->namespaces & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
                fail(a, -errno, "creating the cgroup namespace: %m");

        if (a->config->has_oom_score_adj) {
                char v[16];
                snprintf(v, sizeof(v), "%d", a->config->oom_score_adj);
                r = write_file_at(AT_FDCWD, "/proc/self/oom_score_adj", v);
                if (r < 0)
                        fail(a, r, "process.oomScoreAdj %d: %m", a->config->oom_score_adj);
        }
        if (a->config->has_umask)
                umask(a->config->umask);

        if (a->config->cmd_is_pid1)
                become_command(a, enter_sandbox(a));

        if (pipe2(errpipe, O_CLOEXEC) < 0 || pipe2(gopipe, O_CLOEXEC) < 0)
                fail(a, -errno, "pipe: %m");

        /* pid 1 enters the container's sandbox before CMD exists: an execve
         * forced on it (ptrace, with --cap-add SYS_PTRACE) can never gain
         * more than the bounding set, no_new_privs and seccomp allow. */
        safe_close(enter_sandbox(a));

        child = (CmdChild){ .a = a, .errpipe = { errpipe[0], errpipe[1] }, .gopipe = { gopipe[0], gopipe[1] } };
        cmd = spawn_cmd(&child, &cmd_stack);
        if (cmd < 0)
                fail(a, -errno, "fork: %m");
        close(errpipe[1]);
        close(gopipe[0]);

        /* From here on pid 1 only waits and forwards signals.  It keeps
         * CAP_KILL if the container has it (CMD may switch to another user
         * and must still get the signals shuttlectl forwards), nothing else;
         * and not the caller's stdio, which is CMD's alone. */
        r = caps_apply(a->caps & CAP_MASK(CAP_KILL));
        if (r < 0) {
                (void) kill(cmd, SIGKILL);
                fail(a, r, "dropping the init's capabilities: %m");
        }
        (void) close_range(0, 2, 0);
        exec_tiny_init(a, errpipe[0], gopipe[1], cmd);

        /* Still ourselves: the host's command line goes before CMD runs. */
        hide_host_cmdline(&areas);
        if (a->init_program >= 0)
                (void) close(a->init_program);
        if (write(gopipe[1], "x", 1) != 1) {
                r = -errno;
                (void) kill(cmd, SIGKILL);
                fail(a, r, "starting the command: %m");
        }
        close(gopipe[1]);

        /* The pipe closes on a successful exec, or carries why it failed. */
        do
                n = read(errpipe[0], &m, sizeof(m));
        while (n < 0 && errno == EINTR);
        close(errpipe[0]);
        if (n == (ssize_t) sizeof(m)) {
                (void) waitpid(cmd, NULL, 0);
                send_msg(a->sock, m.type, m.err, 0, 0, "%s", m.text);
                _exit(1);
        }
        /* CMD has exec'd: its stack here is no one's. */
        if (cmd_stack)
                (void) munmap(cmd_stack, CMD_STACK_SIZE);
        send_msg(a->sock, INIT_MSG_STARTED, 0, 0, cmd, NULL);

        /* pid 1's loop: the forwarded signals and SIGCHLD stay blocked (they
         * were blocked before clone) and are taken with sigwaitinfo. */
        forwarded_signals(&fwd);
        sigaddset(&fwd, SIGCHLD);
        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&fwd, &si);

                if (sig < 0)
                        continue;
                if (sig != SIGCHLD) {
                        (void) kill(cmd, sig);
                        continue;
                }
                for (;;) {
                        int status;
                        pid_t p = waitpid(-1, &status, WNOHANG);
                        if (p <= 0)
                                break;
                        if (p == cmd) {
                                send_msg(a->sock, INIT_MSG_EXITED, 0, status, cmd, NULL);
                                /* Our exit kills whatever CMD left behind. */
                                _exit(0);
                        }
                }
        }
}
