/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `shuttlectl exec`: one more command inside a running container.  The
 * three processes and why they are split so are described in exec.h. */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/macro.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/env.h"
#include "runtime/exec.h"
#include "runtime/exec-internal.h"
#include "runtime/sandbox.h"
#include "runtime/tty.h"
#include "runtime/zygote.h"


#define JOIN_NAMESPACES \
        (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWCGROUP)

/* The reports (ExecMessage) are in zygote.h. */

typedef struct Exec {
        const StateInfo *info;
        const ExecConfig *config;
        const SeccompProgram *seccomp;
        char **envp;
        const char *workdir;
        uid_t uid;
        gid_t gid;
        bool set_ids;
        bool join_user; /* the container has a user namespace of its own */
        bool join_time; /* ... and a time namespace */
        int init_pidfd;
        int report; /* our end of the report pair, in the joiner and the command */
        int exec_fd; /* ExecConfig.exec_fd, moved like report (-1: none) */
        const int *stdio; /* the command's 0, 1, 2 (NULL with tty) */
        bool tty; /* a terminal of the container's devpts instead */
        struct winsize winsize; /* with tty: the caller's, if it has one (else 0x0) */
        uint64_t set_signals; /* bit s-1: signal s is not SIG_DFL in the caller */
} Exec;

static void forwarded(sigset_t *ret) {
        sigemptyset(ret);
        sigaddset(ret, SIGINT);
        sigaddset(ret, SIGTERM);
        sigaddset(ret, SIGHUP);
        sigaddset(ret, SIGQUIT);
        sigaddset(ret, SIGUSR1);
        sigaddset(ret, SIGUSR2);
}

/* The signals whose disposition is not SIG_DFL in this process (ignored
 * or caught: SigIgn and SigCgt of /proc/self/status, bit s-1 for signal
 * s), which the command inherits and puts back: one read here instead of
 * a sigaction() for each of the 64 in the command.  Everything if they
 * cannot be read. */
static uint64_t set_signals(void) {
        _cleanup_close_ int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        uint64_t mask = 0;
        unsigned found = 0;
        char buf[4096];
        ssize_t n;

        if (fd < 0)
                return UINT64_MAX;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return UINT64_MAX;
        buf[n] = '\0';
        for (const char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
                if (strneq(p, "SigIgn:", 7) || strneq(p, "SigCgt:", 7)) {
                        char *end;
                        errno = 0;
                        unsigned long long v = strtoull(p + 7, &end, 16);
                        if (errno != 0 || end == p + 7)
                                return UINT64_MAX;
                        mask |= (uint64_t) v;
                        found++;
                }
        }
        return found == 2 ? mask : UINT64_MAX;
}

_printf_(4, 5) static void send_msg(int fd, int type, int err, const char *fmt, ...) {
        ExecMessage m = { .type = type, .err = err };
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(m.text, sizeof(m.text), fmt, ap);
        va_end(ap);
        (void) send(fd, &m, sizeof(m), MSG_NOSIGNAL);
}

/* In the joiner and the command: report and end. */
#define fail(x, r, ...)                                                          \
        do {                                                                     \
                errno = -(r);                                                    \
                send_msg((x)->report, EXEC_MSG_ERROR, -(r), __VA_ARGS__);        \
                _exit(125);                                                      \
        } while (0)

/* CMD's environment, as `run` builds it: a clean default set, then -e in
 * order, later ones winning. */
/* The environment of the container's own command: the same defaults, and
 * the shim if its command has it. */
char **exec_build_env(const StateInfo *info, const ExecConfig *c, bool root) {
        if (c->env_exact) {
                char **v = calloc(c->n_env + 1, sizeof(char *));
                for (size_t i = 0; v && i < c->n_env; i++)
                        if (!(v[i] = strdup(c->env[i]))) {
                                strv_free(v);
                                return NULL;
                        }
                return v;
        }
        return container_env_new(root ? "/root" : "/", info->hostname ?: info->name,
                                 c->tty ? getenv("TERM") : NULL, c->env, c->n_env,
                                 info->shim ? CONTAINER_SHIM_PATH : NULL);
}

/* Moves the calling process (one thread: a forked child) into each of the
 * container's cgroup directories ("0" is the writer; on v1 through "tasks",
 * which spares the wait for an RCU grace period that cgroup.procs takes:
 * cgroup_dir_attach_self()).  Each must be a cgroupfs directory: the paths
 * come from the state file, and we write nothing anywhere else. */
int container_join_cgroups(char *const *paths, const char **ret_failed) {
        for (size_t i = 0; paths && paths[i]; i++) {
                _cleanup_close_ int dfd = -1;
                int r;

                *ret_failed = paths[i];
                dfd = open(paths[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0)
                        return -errno;
                r = cgroup_dir_attach_self(dfd);
                if (r < 0)
                        return r;
        }
        return 0;
}

int exec_place_fds(const int *fds, size_t n, int *keep) {
        int lowest = 3 + (int) n, tmp[EXEC_PASS_FDS_MAX];

        if (n > EXEC_PASS_FDS_MAX)
                return -E2BIG;
        /* keep (the report socket) out of the way first, then copies of all
         * the descriptors above the range, so that none of them sitting at
         * 3…3+n-1 already is clobbered by another's dup2. */
        if (keep && *keep >= 0 && *keep < lowest) {
                int k = fcntl(*keep, F_DUPFD_CLOEXEC, lowest);
                if (k < 0)
                        return -errno;
                *keep = k;
        }
        for (size_t i = 0; i < n; i++) {
                tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, lowest);
                if (tmp[i] < 0)
                        return -errno;
        }
        for (size_t i = 0; i < n; i++) {
                /* dup2() clears close-on-exec on the copy: it is passed on. */
                if (dup2(tmp[i], 3 + (int) i) < 0)
                        return -errno;
                close(tmp[i]);
        }
        return 0;
}

/* In the joiner, in the container's namespaces: the command's stdio and
 * passed descriptors at 0…2+n, the report socket above them, and nothing
 * else.  Whatever the caller had open (for the broker: every container's
 * socket, the audit log, cgroup directories) is closed here, not merely
 * marked close-on-exec: the command lives in the container before it
 * execs. */
static int place_fds(Exec *x) {
        int lowest = 3 + (int) x->config->n_pass_fds, k;

        k = fcntl(x->report, F_DUPFD_CLOEXEC, lowest);
        if (k < 0)
                return -errno;
        x->report = k;
        if (x->stdio) {
                /* Copies above 2 first, so that one of them being 0-2
                 * already cannot be clobbered by another's dup2. */
                int tmp[3];
                for (int i = 0; i < 3; i++) {
                        tmp[i] = fcntl(x->stdio[i], F_DUPFD_CLOEXEC, 3);
                        if (tmp[i] < 0)
                                return -errno;
                }
                for (int i = 0; i < 3; i++)
                        if (dup2(tmp[i], i) < 0)
                                return -errno;
        }
        if (x->config->n_pass_fds > 0) {
                int r = exec_place_fds(x->config->pass_fds, x->config->n_pass_fds, &x->report);
                if (r < 0)
                        return r;
        }
        if (x->exec_fd >= 0) {
                /* Above the range like the report socket, and kept. */
                k = fcntl(x->exec_fd, F_DUPFD_CLOEXEC, lowest);
                if (k < 0)
                        return -errno;
                x->exec_fd = k;
        }
        {
                int keep[2] = { x->report, x->exec_fd }, from = lowest;
                if (keep[1] >= 0 && keep[1] < keep[0]) {
                        keep[1] = keep[0];
                        keep[0] = x->exec_fd;
                }
                for (size_t i = 0; i < 2; i++) {
                        if (keep[i] < 0)
                                continue;
                        if (keep[i] > from)
                                (void) close_range((unsigned) from, (unsigned) keep[i] - 1, 0);
                        from = keep[i] + 1;
                }
                (void) close_range((unsigned) from, ~0U, 0);
        }
        return 0;
}

/* --tty, in the joiner once it is in the sandbox: a terminal of the
 * container's own devpts (what the container's /dev/ptmx leads to, opened
 * with no more privilege than the container has), its slave as stdio, its
 * master to the caller. */
static int open_tty(const Exec *x) {
        _cleanup_close_ int master = -1, slave = -1;
        ExecMessage m = { .type = EXEC_MSG_TTY };
        char path[64];
        ssize_t k;

        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return -errno;
        if (unlockpt(master) < 0 || ptsname_r(master, path, sizeof(path)) != 0)
                return -errno;
        slave = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return -errno;
        if ((x->winsize.ws_row > 0 || x->winsize.ws_col > 0) && ioctl(master, TIOCSWINSZ, &x->winsize) < 0)
                return -errno;
        for (int fd = 0; fd < 3; fd++)
                if (dup2(slave, fd) < 0)
                        return -errno;
        k = fd_send(x->report, &m, sizeof(m), &master, 1);
        return k < 0 ? (int) k : 0;
}

/* The command: forked by the joiner already inside the sandbox, so from its
 * first instruction in the container's pid namespace it holds no more than
 * the container (invariant 8).  Only what needs its own process is left. */
_Noreturn static void command_main(const Exec *x) {
        sigset_t none;
        int r;

        /* Only those the caller had set (a handler does not survive the
         * execve, but could run before it; ignoring does). */
        for (int s = 1; s < NSIG && s <= 64; s++)
                if (x->set_signals & (UINT64_C(1) << (s - 1)))
                        (void) signal(s, SIG_DFL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);

        /* Our own session: a ^C on the terminal reaches the caller, which
         * forwards it once, rather than both of us.  With --tty, the
         * container's terminal becomes the session's. */
        if (setsid() < 0)
                fail(x, -errno, "setsid: %m");
        if (x->tty && ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0)
                fail(x, -errno, "acquiring the terminal: %m");

        /* Our parent is the caller (CLONE_PARENT); a fork clears it. */
        if (x->config->die_with_caller && prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                fail(x, -errno, "prctl: %m");

        /* A notifying profile: nothing of the command runs before its
         * agent has the notify fd; the caller says so with one byte (and
         * kills us if it could not hand it over). */
        if (seccomp_program_flags(x->seccomp) & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
                char go;
                ssize_t n;

                do
                        n = recv(x->report, &go, 1, 0);
                while (n < 0 && errno == EINTR);
                if (n != 1)
                        _exit(125);
        }

        environ = x->envp;
        if (x->exec_fd >= 0)
                execveat(x->exec_fd, "", x->config->argv, x->envp, AT_EMPTY_PATH);
        else
                execvp(x->config->argv[0], x->config->argv);
        r = errno;
        send_msg(x->report, EXEC_MSG_EXEC_FAILED, r, "%s: %s", x->config->argv[0], strerror(r));
        _exit(r == ENOENT ? 127 : 126);
}

/* The joiner: enters the container, takes on its sandbox, creates the
 * command as the caller's child, reports its pid and leaves.  It is never
 * in the container's pid namespace itself (setns() on a pid namespace
 * applies to children only), so no process of the container can see it,
 * let alone ptrace it, while it holds the host's privileges. */
_Noreturn static void joiner_main(const Exec *x) {
        Exec self = *x;
        const char *failed = NULL;
        ExecMessage m = { .type = EXEC_MSG_PID };
        SandboxStep step;
        pid_t pid;
        int r;

        x = &self; /* the report socket moves (place_fds()) */

        /* Not dumpable (nothing that shares our mount namespace can open
         * our /proc files), and if the caller dies, so do we. */
        if (prctl(PR_SET_DUMPABLE, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                fail(x, -errno, "prctl: %m");

        /* Cgroups first: the command must be born inside them so every limit
         * counts it from its first instruction. */
        r = container_join_cgroups(x->config->cgroups ?: x->info->cgroups, &failed);
        if (r < 0)
                fail(x, r, "joining cgroup '%s': %s", failed,
                     r == -EMEDIUMTYPE ? "not a cgroup file system" : strerror(-r));

        /* All namespaces at once, through the init's pidfd (kernel >= 5.8):
         * atomic, and no /proc path that could be swapped under us. */
        if (setns(x->init_pidfd, JOIN_NAMESPACES | (x->join_user ? CLONE_NEWUSER : 0) | (x->join_time ? CLONE_NEWTIME : 0)) < 0)
                fail(x, -errno, "joining the container's namespaces: %m");

        r = place_fds(&self);
        if (r < 0)
                fail(x, r, "setting up the command's descriptors: %m");

        if (x->config->nofile_cur > 0) {
                struct rlimit rl;
                if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > x->config->nofile_cur) {
                        rl.rlim_cur = (rlim_t) x->config->nofile_cur;
                        (void) setrlimit(RLIMIT_NOFILE, &rl);
                }
        }

        {
                /* The container's own sequence (sandbox.h), here, before
                 * the command exists: an execve forced on the command by a
                 * container process with CAP_SYS_PTRACE gains nothing. */
                const SandboxSpec spec = {
                        .caps = x->info->caps,
                        .rlimits = x->info->rlimits,
                        .n_rlimits = x->info->n_rlimits,
                        .set_ids = x->set_ids,
                        .uid = x->uid,
                        .gid = x->gid,
                        .workdir = x->workdir,
                        .seccomp = x->seccomp,
                        .n_pass_fds = (unsigned) x->config->n_pass_fds,
                };

                r = sandbox_enter(&spec, &step, NULL);
                if (r < 0) {
                        if (step == SANDBOX_STEP_WORKDIR)
                                fail(x, r, "cannot enter working directory '%s': %m", x->workdir);
                        fail(x, r, "%s: %m", sandbox_step_describe(step));
                }
                if (seccomp_program_flags(x->seccomp) & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
                        /* The notify fd goes to the caller before the
                         * command exists, and is not the command's: a
                         * process holding it could answer its own
                         * notifications. */
                        ExecMessage lm = { .type = EXEC_MSG_SECCOMP_LISTENER };
                        ssize_t k = fd_send(x->report, &lm, sizeof(lm), &r, 1);

                        (void) close(r);
                        if (k < 0)
                                fail(x, (int) k, "passing the seccomp notify fd: %m");
                }
        }
        /* Changing ids resets both. */
        if (prctl(PR_SET_DUMPABLE, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                fail(x, -errno, "prctl: %m");

        if (x->tty) {
                r = open_tty(x);
                if (r < 0)
                        fail(x, r, "--tty: opening a terminal in the container: %m");
        }

        /* The pid namespace applies to children only.  clone(), not clone3():
         * the container's seccomp profile answers clone3 with ENOSYS.  With
         * CLONE_PARENT the command is the caller's child and gets our exit
         * signal (SIGCHLD), so nothing of ours has to stay to wait for it. */
#if defined(__s390__) || defined(__CRIS__)
        pid = (pid_t) syscall(SYS_clone, NULL, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL);
#else
        pid = (pid_t) syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
#endif
        if (pid < 0)
                fail(x, -errno, "creating the command's process: %m");
        if (pid == 0)
                command_main(x);
        m.pid = pid;
        (void) send(x->report, &m, sizeof(m), MSG_NOSIGNAL);
        _exit(0);
}

static void result_from_siginfo(const siginfo_t *si, ExecResult *ret) {
        if (si->si_code == CLD_EXITED) {
                ret->exit_status = si->si_status;
                ret->signal = 0;
        } else if (si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED) {
                ret->signal = si->si_status;
                ret->exit_status = 128 + si->si_status;
        } else
                ret->exit_status = 255;
}

void exec_set_message(ExecResult *ret, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ret->message, sizeof(ret->message), fmt, ap);
        va_end(ap);
}

/* Our side of the command's stdio: pipes, or the pty with --tty. */
typedef struct Relay {
        bool tty;
        PipeRelay pipes;
        TtyRelay term;
} Relay;

/* Waits for the command, relaying its stdio and forwarding signals to it;
 * then copies what it wrote before it ended. */
static int wait_command(int pidfd, int sigfd, Relay *io, siginfo_t *ret) {
        enum { W_PIDFD, W_SIG, W_IO, W_MAX = W_IO + PIPE_RELAY_NFDS };

        for (;;) {
                struct pollfd p[W_MAX] = {
                        [W_PIDFD] = { .fd = pidfd, .events = POLLIN },
                        [W_SIG] = { .fd = sigfd, .events = POLLIN },
                };

                if (io->tty) {
                        p[W_IO] = (struct pollfd){ .fd = io->term.master, .events = POLLIN };
                        p[W_IO + 1] = (struct pollfd){
                                .fd = io->term.master >= 0 && io->term.stdin_open ? STDIN_FILENO : -1,
                                .events = POLLIN };
                        p[W_IO + 2].fd = p[W_IO + 3].fd = -1;
                } else
                        pipe_relay_poll_fds(&io->pipes, p + W_IO);

                if (poll(p, W_MAX, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (p[W_SIG].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        while (read(sigfd, &si, sizeof(si)) == (ssize_t) sizeof(si))
                                if (si.ssi_signo == SIGWINCH)
                                        tty_relay_resize(&io->term);
                                else if (si.ssi_signo != SIGCHLD && si.ssi_signo != SIGPIPE)
                                        (void) pidfd_send_signal(pidfd, (int) si.ssi_signo, NULL, 0);
                }
                if (!io->tty)
                        pipe_relay_handle(&io->pipes, p + W_IO);
                else {
                        if (p[W_IO].fd >= 0 && p[W_IO].revents && tty_relay_from_master(&io->term) < 0)
                                /* Every holder of the terminal closed it. */
                                io->term.master = safe_close(io->term.master);
                        if (p[W_IO + 1].fd >= 0 && p[W_IO + 1].revents)
                                (void) tty_relay_from_stdin(&io->term);
                }
                if (p[W_PIDFD].revents & POLLIN) {
                        *ret = (siginfo_t){};
                        if (waitid(P_PIDFD, (id_t) pidfd, ret, WEXITED) < 0)
                                return -errno;
                        if (io->tty)
                                tty_relay_drain(&io->term);
                        else
                                pipe_relay_drain(&io->pipes);
                        return 0;
                }
        }
}

/* Reads the joiner's and the command's messages until both have closed
 * their ends (the command's closes on exec).  The first pid counts (a
 * second, different one is an error); a terminal only if one was asked
 * for, once, and only a pty master; a zygote's child's pidfd only where
 * ret_pidfd asks for one.  With a program loaded with NEW_LISTENER
 * (want_listener), its notify fd (once, before the pid, and only a seccomp
 * notify fd) goes to c->seccomp_listener with the command's pid as soon as
 * both are here: before the command's exec, whose calls on the way may be
 * ones the agent answers. */
static int read_messages(int fd, bool want_tty, const ExecConfig *c, bool want_listener, pid_t ret_pids[2],
                         int *ret_tty, int *ret_pidfd, ExecMessage *ret_error) {
        _cleanup_close_ int listener = -1;

        for (;;) {
                ExecMessage m;
                size_t n_fds = 0;
                int tty = -1, ptn, r;
                ssize_t n = fd_recv_upto(fd, &m, sizeof(m), &tty, 1, &n_fds, 0);
                bool with_fd;

                if (n == -EINTR)
                        continue;
                if (n < 0)
                        return (int) n;
                if (n == 0)
                        return 0;
                with_fd = n == (ssize_t) sizeof(m) && (m.type == EXEC_MSG_TTY || m.type == EXEC_MSG_PIDFD ||
                                                       m.type == EXEC_MSG_SECCOMP_LISTENER);
                if (n != (ssize_t) sizeof(m) || (n_fds == 1) != with_fd) {
                        safe_close(tty);
                        return -EBADMSG;
                }
                m.text[sizeof(m.text) - 1] = '\0';
                switch (m.type) {
                case EXEC_MSG_PIDFD:
                        /* A zygote's: one, and only where one was asked for. */
                        if (!ret_pidfd || *ret_pidfd >= 0) {
                                safe_close(tty);
                                return -EBADMSG;
                        }
                        *ret_pidfd = tty;
                        break;
                case EXEC_MSG_PID:
                        if (m.pid <= 0)
                                return -EBADMSG;
                        if (ret_pids[0] > 0 && ret_pids[0] != m.pid) {
                                ret_pids[1] = m.pid;
                                return -EBADMSG;
                        }
                        if (ret_pids[0] > 0)
                                break;
                        ret_pids[0] = m.pid;
                        if (!want_listener)
                                break;
                        if (listener < 0)
                                return -EBADMSG;
                        want_listener = false;
                        r = c && c->seccomp_listener ? c->seccomp_listener(TAKE_FD(listener), m.pid,
                                                                           c->seccomp_listener_userdata)
                                                     : 0;
                        if (r < 0)
                                return r;
                        /* The command waits for this before its exec. */
                        if (send(fd, "g", 1, MSG_NOSIGNAL) != 1)
                                return -errno;
                        break;
                case EXEC_MSG_SECCOMP_LISTENER:
                        if (!want_listener || listener >= 0 || ret_pids[0] > 0 || !seccomp_is_listener(tty)) {
                                safe_close(tty);
                                return -EBADMSG;
                        }
                        listener = tty;
                        break;
                case EXEC_MSG_TTY:
                        if (!want_tty || *ret_tty >= 0 || ioctl(tty, TIOCGPTN, &ptn) < 0) {
                                safe_close(tty);
                                return -EBADMSG;
                        }
                        *ret_tty = tty;
                        break;
                default:
                        if (ret_error->type == 0)
                                *ret_error = m;
                }
        }
}

int exec_read_messages(int fd, bool want_tty, pid_t ret_pids[2], int *ret_tty, int *ret_pidfd,
                       ExecMessage *ret_error) {
        return read_messages(fd, want_tty, NULL, false, ret_pids, ret_tty, ret_pidfd, ret_error);
}


/* The pid in a report is only a claim: the command could have been made to
 * send another before it exec'd.  It must be our child (which also pins the
 * pid: nobody else can reap it) and live in the container's pid namespace,
 * so at worst it names another process of the same container. */
int exec_check_command(pid_t pid, pid_t init_pid, int *ret_pidfd) {
        _cleanup_close_ int pidfd = -1;
        char path[64];
        struct stat ours, theirs;
        siginfo_t si = {};

        pidfd = pidfd_open(pid, 0);
        if (pidfd < 0)
                return -errno;
        if (waitid(P_PIDFD, (id_t) pidfd, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
                return -errno; /* ECHILD: not ours */
        snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int) pid);
        if (stat(path, &theirs) < 0)
                return -errno;
        snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int) init_pid);
        if (stat(path, &ours) < 0)
                return -errno;
        if (ours.st_dev != theirs.st_dev || ours.st_ino != theirs.st_ino)
                return -EBADMSG;
        *ret_pidfd = TAKE_FD(pidfd);
        return 0;
}

/* What container_exec() and container_exec_spawn() share: builds what the
 * children need, forks the joiner, and reads the reports until the command
 * has exec'd (or failed).  On success *ret_pidfd refers to the command,
 * which is our child (CLONE_PARENT): the caller reaps it; *ret_tty is the
 * pty master with c->tty; *ret_error holds an EXEC_MSG_EXEC_FAILED report if
 * execvp failed (it then exits 127/126).  On failure nothing is left running
 * and ret->message says why. */
int exec_start(const StateInfo *info, const char *state_dir, const ExecConfig *c, const int *stdio,
               pid_t *ret_pid, int *ret_pidfd, int *ret_tty, ExecMessage *ret_error, ExecResult *ret) {
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_close_ int init_pidfd = -1, cmd_pidfd = -1, tty = -1;
        SeccompProgram *seccomp = NULL;
        ExecMessage error = {};
        siginfo_t si = {};
        pid_t joiner, cmd = 0, pids[2] = { 0, 0 };
        int pair[2] = { -1, -1 }, r;
        Exec x;

        if (!c->argv || !c->argv[0] || (!stdio && !c->tty))
                return -EINVAL;
        if (c->n_pass_fds > EXEC_PASS_FDS_MAX || (c->n_pass_fds > 0 && !c->pass_fds))
                return -EINVAL;
        for (size_t i = 0; i < c->n_pass_fds; i++)
                if (c->pass_fds[i] < 3) /* stdio is placed first */
                        return -EBADF;

        if (c->has_init_pidfd) {
                init_pidfd = fcntl(c->init_pidfd, F_DUPFD_CLOEXEC, 3);
                r = init_pidfd < 0 ? -errno : 0;
        } else
                r = state_info_open_init(info, state_dir, &init_pidfd);
        if (r < 0) {
                exec_set_message(ret, "no running container named '%s'", info->name);
                return r;
        }
        x = (Exec){
                .info = info,
                .config = c,
                .workdir = c->workdir ?: info->workdir ?: "/",
                .set_ids = c->has_user || info->has_user,
                .uid = c->has_user ? c->uid : info->uid,
                .gid = c->has_user ? c->gid : info->gid,
                .init_pidfd = init_pidfd,
                .exec_fd = c->has_exec_fd ? c->exec_fd : -1,
                .stdio = c->tty ? NULL : stdio,
                .tty = c->tty,
                .set_signals = set_signals(),
        };
        {
                /* A container with a user namespace of its own (shuttle-oci):
                 * the command joins it too, or it would be host root in the
                 * container's other namespaces.  Its ids are then the
                 * namespace's (root, unless the process says otherwise). */
                struct stat ours, theirs;
                char path[64];

                snprintf(path, sizeof(path), "/proc/%d/ns/user", (int) info->init_pid);
                if (stat(path, &theirs) < 0 || stat("/proc/self/ns/user", &ours) < 0) {
                        r = -errno;
                        exec_set_message(ret, "no running container named '%s'", info->name);
                        return r;
                }
                x.join_user = ours.st_ino != theirs.st_ino || ours.st_dev != theirs.st_dev;
                /* A time namespace of its own (shuttle-oci's linux.namespaces
                 * type time): joined too (none on this kernel: nothing to join). */
                snprintf(path, sizeof(path), "/proc/%d/ns/time", (int) info->init_pid);
                x.join_time = stat(path, &theirs) == 0 && stat("/proc/self/ns/time", &ours) == 0 &&
                              (ours.st_ino != theirs.st_ino || ours.st_dev != theirs.st_dev);
                if (x.join_user && !x.set_ids) {
                        x.set_ids = true;
                        x.uid = 0;
                        x.gid = 0;
                }
        }
        /* The terminal's size is set before the command exists: a command
         * that asks at once (stty size, a full-screen program) must not see
         * 0x0.  Later changes follow through the relay (SIGWINCH). */
        if (c->tty && c->winsize)
                x.winsize = *c->winsize;
        else if (c->tty && ioctl(STDIN_FILENO, TIOCGWINSZ, &x.winsize) < 0)
                x.winsize = (struct winsize){};
        env = exec_build_env(info, c, !x.set_ids || x.uid == 0);
        if (!env)
                return -ENOMEM;
        x.envp = env;

        /* Compiling the filter allocates: here, not in the children. */
        if (c->seccomp)
                x.seccomp = c->seccomp;
        else {
                r = seccomp_program_new(info->caps, &seccomp);
                if (r < 0) {
                        exec_set_message(ret, "building the seccomp profile: %s", strerror(-r));
                        return r;
                }
                x.seccomp = seccomp;
        }

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
                r = -errno;
                goto out;
        }
        joiner = fork();
        if (joiner < 0) {
                r = -errno;
                goto out;
        }
        if (joiner == 0) {
                close(pair[0]);
                x.report = pair[1];
                joiner_main(&x);
        }
        pair[1] = safe_close(pair[1]);

        r = read_messages(pair[0], c->tty, c, seccomp_program_flags(x.seccomp) & SECCOMP_FILTER_FLAG_NEW_LISTENER,
                          pids, &tty, NULL, &error);
        (void) waitid(P_PID, (id_t) joiner, &si, WEXITED);
        if (pids[1] > 0) {
                /* Two claims, one forged: end whichever of them is our
                 * child in the container, and give up. */
                for (int i = 0; i < 2; i++) {
                        _cleanup_close_ int fd = -1;
                        if (exec_check_command(pids[i], info->init_pid, &fd) < 0)
                                continue;
                        (void) pidfd_send_signal(fd, SIGKILL, NULL, 0);
                        (void) waitid(P_PIDFD, (id_t) fd, &si, WEXITED);
                }
        } else if (pids[0] > 0) {
                int k = exec_check_command(pids[0], info->init_pid, &cmd_pidfd);
                if (k < 0 && r >= 0)
                        r = k;
                cmd = pids[0];
        }
        if (r >= 0 && cmd_pidfd >= 0 && error.type == EXEC_MSG_ERROR) {
                /* The command failed before its exec and is exiting. */
                (void) waitid(P_PIDFD, (id_t) cmd_pidfd, &si, WEXITED);
                r = exec_message_errno(&error, EIO);
                exec_set_message(ret, "%s", error.text);
                goto out;
        }
        if (r >= 0 && c->tty && tty < 0)
                r = -EBADMSG;
        if (r < 0 || cmd_pidfd < 0) {
                if (cmd_pidfd >= 0) {
                        (void) pidfd_send_signal(cmd_pidfd, SIGKILL, NULL, 0);
                        (void) waitid(P_PIDFD, (id_t) cmd_pidfd, &si, WEXITED);
                }
                if (error.type != 0) {
                        r = exec_message_errno(&error, EIO);
                        exec_set_message(ret, "%s", error.text);
                } else if (r >= 0)
                        r = -ESRCH;
                if (r == -ESRCH && !ret->message[0])
                        exec_set_message(ret, "no running container named '%s'", info->name);
                goto out;
        }
        *ret_pid = cmd;
        *ret_pidfd = TAKE_FD(cmd_pidfd);
        if (ret_tty)
                *ret_tty = TAKE_FD(tty);
        *ret_error = error;
        r = 0;
out:
        safe_close(pair[0]);
        safe_close(pair[1]);
        seccomp_program_free(seccomp);
        return r;
}

int container_exec(const StateInfo *info, const char *state_dir, const ExecConfig *c, ExecResult *ret) {
        _cleanup_close_ int sigfd = -1, cmd_pidfd = -1, master = -1;
        ExecResult result = {};
        ExecMessage error = {};
        sigset_t mask, old_mask;
        siginfo_t si = {};
        Relay io = { .tty = c->tty };
        pid_t cmd = 0;
        int r;

        if (!c->argv || !c->argv[0])
                return -EINVAL;
        pipe_relay_init(&io.pipes);
        tty_relay_init(&io.term);

        /* Blocked before forking, so none is lost before the command's pid
         * is known; the command unblocks them.  SIGPIPE too: a closed
         * stdout of ours is the relay's to handle, not a reason to die. */
        forwarded(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGPIPE);
        if (c->tty)
                sigaddset(&mask, SIGWINCH);
        sigprocmask(SIG_BLOCK, &mask, &old_mask);
        sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sigfd < 0) {
                r = -errno;
                goto out_mask;
        }

        /* The command never gets our own descriptors: a process of the
         * container could copy them (pidfd_getfd) and keep our terminal
         * after we returned.  It gets pipes, or a terminal of its own. */
        if (!c->tty) {
                r = pipe_relay_open(&io.pipes);
                if (r < 0) {
                        exec_set_message(&result, "creating pipes for the command: %s", strerror(-r));
                        goto out_mask;
                }
        }
        r = exec_start(info, state_dir, c, c->tty ? NULL : io.pipes.child, &cmd, &cmd_pidfd, &master, &error,
                       &result);
        pipe_relay_close_child(&io.pipes);
        if (r < 0)
                goto out_mask;
        if (c->tty)
                (void) tty_relay_attach(&io.term, TAKE_FD(master));

        r = wait_command(cmd_pidfd, sigfd, &io, &si);
        if (r < 0) {
                (void) pidfd_send_signal(cmd_pidfd, SIGKILL, NULL, 0);
                (void) waitid(P_PIDFD, (id_t) cmd_pidfd, &si, WEXITED);
                goto out_mask;
        }
        result_from_siginfo(&si, &result);
        if (error.type == EXEC_MSG_EXEC_FAILED)
                exec_set_message(&result, "failed to execute %s", error.text);

out_mask:
        pipe_relay_close(&io.pipes);
        tty_relay_close(&io.term);
        /* What is still pending (SIGPIPE from the relay, SIGCHLD) is
         * ours: taken here rather than delivered once unblocked. */
        if (sigfd >= 0) {
                struct signalfd_siginfo ssi;
                while (read(sigfd, &ssi, sizeof(ssi)) == (ssize_t) sizeof(ssi))
                        ;
        }
        sigfd = safe_close(sigfd);
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        *ret = result;
        return r;
}

/* What a spawn says went wrong: the command's exec failure, else the
 * join's message. */
static void spawn_message(int r, const ExecMessage *error, const ExecResult *result, char *msg, size_t msg_size) {
        if (!msg || msg_size == 0)
                return;
        if (r >= 0 && error->type == EXEC_MSG_EXEC_FAILED)
                snprintf(msg, msg_size, "failed to execute %s", error->text);
        else
                snprintf(msg, msg_size, "%s", result->message);
}

int container_exec_spawn(const StateInfo *info, const char *state_dir, const ExecConfig *c, const int stdio[3],
                         pid_t *ret_pid, int *ret_pidfd, char *msg, size_t msg_size) {
        ExecResult result = {};
        ExecMessage error = {};
        pid_t cmd = 0;
        int pidfd = -1, r;

        _cleanup_close_ int null = -1;
        int null3[3];

        if (c->tty)
                return -EINVAL;
        if (!stdio) {
                /* Nothing of ours goes in, not even our stdio. */
                null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null < 0)
                        return -errno;
                null3[0] = null3[1] = null3[2] = null;
                stdio = null3;
        }
        r = exec_start(info, state_dir, c, stdio, &cmd, &pidfd, NULL, &error, &result);
        spawn_message(r, &error, &result, msg, msg_size);
        if (r < 0)
                return r;
        *ret_pid = cmd;
        *ret_pidfd = pidfd;
        return 0;
}

int container_exec_spawn_tty(const StateInfo *info, const char *state_dir, const ExecConfig *c, pid_t *ret_pid,
                             int *ret_pidfd, int *ret_master, char *msg, size_t msg_size) {
        ExecResult result = {};
        ExecMessage error = {};
        pid_t cmd = 0;
        int pidfd = -1, master = -1, r;

        if (!c->tty)
                return -EINVAL;
        r = exec_start(info, state_dir, c, NULL, &cmd, &pidfd, &master, &error, &result);
        spawn_message(r, &error, &result, msg, msg_size);
        if (r < 0)
                return r;
        *ret_pid = cmd;
        *ret_pidfd = pidfd;
        *ret_master = master;
        return 0;
}
