/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `shuttlectl exec`: one more command inside a running container.  The
 * three processes and why they are split so are described in exec.h. */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <linux/magic.h>
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
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/macro.h"
#include "runtime/container.h"
#include "runtime/env.h"
#include "runtime/exec.h"
#include "runtime/sandbox.h"


#define JOIN_NAMESPACES \
        (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWCGROUP)

/* From the joiner and the command to the caller, over a CLOEXEC pipe: each
 * message is written whole (smaller than PIPE_BUF, so atomic). */
typedef enum ExecMessageType {
        EXEC_MSG_PID = 1,     /* the command exists: pid (as the host sees it) */
        EXEC_MSG_ERROR,       /* joining or dropping privileges failed */
        EXEC_MSG_EXEC_FAILED, /* execvp failed: err */
} ExecMessageType;

typedef struct ExecMessage {
        int type;
        int err; /* positive errno */
        pid_t pid;
        char text[400];
} ExecMessage;

typedef struct Exec {
        const StateInfo *info;
        const ExecConfig *config;
        const SeccompProgram *seccomp;
        char **envp;
        const char *workdir;
        uid_t uid;
        gid_t gid;
        bool set_ids;
        int init_pidfd;
        int pipe; /* write end, in the joiner and the command */
        const int *stdio; /* NULL: inherit ours; else the command's 0, 1, 2 */
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

_printf_(4, 5) static void send_msg(int fd, int type, int err, const char *fmt, ...) {
        ExecMessage m = { .type = type, .err = err };
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(m.text, sizeof(m.text), fmt, ap);
        va_end(ap);
        (void) !write(fd, &m, sizeof(m));
}

/* In the joiner and the command: report and end. */
#define fail(x, r, ...)                                                          \
        do {                                                                     \
                errno = -(r);                                                    \
                send_msg((x)->pipe, EXEC_MSG_ERROR, -(r), __VA_ARGS__);          \
                _exit(125);                                                      \
        } while (0)

/* CMD's environment, as `run` builds it: a clean default set, then -e in
 * order, later ones winning. */
/* The environment of the container's own command: the same defaults, and
 * the shim if its command has it. */
static char **build_env(const StateInfo *info, const ExecConfig *c, bool root) {
        return container_env_new(root ? "/root" : "/", info->hostname ?: info->name, NULL, c->env, c->n_env,
                                 info->shim ? CONTAINER_SHIM_PATH : NULL);
}

/* Moves the calling process into each of the container's cgroup
 * directories ("0" is the writer).  Each must be a cgroupfs directory: the
 * paths come from the state file, and we write nothing anywhere else. */
int container_join_cgroups(char *const *paths, const char **ret_failed) {
        for (size_t i = 0; paths && paths[i]; i++) {
                _cleanup_close_ int dfd = -1, fd = -1;
                struct statfs sf;

                *ret_failed = paths[i];
                dfd = open(paths[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0)
                        return -errno;
                if (fstatfs(dfd, &sf) < 0)
                        return -errno;
                if (sf.f_type != CGROUP_SUPER_MAGIC && sf.f_type != CGROUP2_SUPER_MAGIC)
                        return -EMEDIUMTYPE;
                fd = openat(dfd, "cgroup.procs", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0)
                        return -errno;
                if (write(fd, "0", 1) != 1)
                        return -errno;
        }
        return 0;
}

int exec_place_fds(const int *fds, size_t n, int *keep) {
        int lowest = 3 + (int) n, tmp[EXEC_PASS_FDS_MAX];

        if (n > EXEC_PASS_FDS_MAX)
                return -E2BIG;
        /* keep (the report pipe) out of the way first, then copies of all
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

/* The command, in the container's namespaces and cgroups.  The order is the
 * one of sandbox.h, as for the container's own command. */
_Noreturn static void command_main(const Exec *x) {
        Exec self = *x;
        sigset_t none;
        int r;

        x = &self; /* its report pipe may move (exec_place_fds()) */

        for (int s = 1; s < NSIG; s++)
                (void) signal(s, SIG_DFL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);

        /* Our own session: a ^C on the terminal reaches the caller, which
         * forwards it once, rather than both of us. */
        if (setsid() < 0)
                fail(x, -errno, "setsid: %m");

        if (x->stdio) {
                /* Copies above 2 first, so that one of them being 0-2
                 * already cannot be clobbered by another's dup2. */
                int tmp[3];
                for (int i = 0; i < 3; i++) {
                        tmp[i] = fcntl(x->stdio[i], F_DUPFD_CLOEXEC, 3);
                        if (tmp[i] < 0)
                                fail(x, -errno, "duplicating the standard descriptors: %m");
                }
                for (int i = 0; i < 3; i++)
                        if (dup2(tmp[i], i) < 0)
                                fail(x, -errno, "setting up the standard descriptors: %m");
        }

        if (x->config->n_pass_fds > 0) {
                /* After stdio (exec_start() refused passing 0-2). */
                r = exec_place_fds(x->config->pass_fds, x->config->n_pass_fds, &self.pipe);
                if (r < 0)
                        fail(x, r, "placing the passed descriptors: %m");
        }

        if (x->config->nofile_cur > 0) {
                struct rlimit rl;
                if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > x->config->nofile_cur) {
                        rl.rlim_cur = (rlim_t) x->config->nofile_cur;
                        (void) setrlimit(RLIMIT_NOFILE, &rl);
                }
        }

        {
                /* The same sequence as the container's own command; the
                 * working directory is entered as the final user. */
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
                SandboxStep step;

                r = sandbox_enter(&spec, &step, NULL);
                if (r < 0) {
                        if (step == SANDBOX_STEP_WORKDIR)
                                fail(x, r, "cannot enter working directory '%s': %m", x->workdir);
                        fail(x, r, "%s: %m", sandbox_step_describe(step));
                }
        }

        /* After the credentials changed, which clears it.  Our parent is
         * the caller (CLONE_PARENT). */
        if (x->config->die_with_caller && prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                fail(x, -errno, "prctl: %m");

        environ = x->envp;
        execvp(x->config->argv[0], x->config->argv);
        r = errno;
        send_msg(x->pipe, EXEC_MSG_EXEC_FAILED, r, "%s: %s", x->config->argv[0], strerror(r));
        _exit(r == ENOENT ? 127 : 126);
}

/* The joiner: enters the container, creates the command as the caller's
 * child, reports its pid and leaves. */
_Noreturn static void joiner_main(const Exec *x) {
        struct clone_args args = { .flags = CLONE_PARENT };
        const char *failed = NULL;
        ExecMessage m = { .type = EXEC_MSG_PID };
        pid_t pid;
        int r;

        /* Before anything of the container can see us: not dumpable, so no
         * process in it can ptrace us or open our /proc files while we hold
         * the host's privileges.  And if the caller dies, so do we. */
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
        if (setns(x->init_pidfd, JOIN_NAMESPACES) < 0)
                fail(x, -errno, "joining the container's namespaces: %m");

        /* The pid namespace applies to children only.  exit_signal must be 0
         * with CLONE_PARENT: the child gets ours (SIGCHLD) and the caller as
         * its parent, so nothing of ours has to stay to wait for it. */
        pid = (pid_t) syscall(SYS_clone3, &args, sizeof(args));
        if (pid < 0)
                fail(x, -errno, "creating the command's process: %m");
        if (pid == 0)
                command_main(x);
        m.pid = pid;
        (void) !write(x->pipe, &m, sizeof(m));
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

_printf_(2, 3) static void set_message(ExecResult *ret, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ret->message, sizeof(ret->message), fmt, ap);
        va_end(ap);
}

/* Waits for the command, forwarding signals to it. */
static int wait_command(int pidfd, int sigfd, siginfo_t *ret) {
        for (;;) {
                struct pollfd p[2] = {
                        { .fd = pidfd, .events = POLLIN },
                        { .fd = sigfd, .events = POLLIN },
                };

                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (p[1].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        while (read(sigfd, &si, sizeof(si)) == (ssize_t) sizeof(si))
                                if (si.ssi_signo != SIGCHLD)
                                        (void) pidfd_send_signal(pidfd, (int) si.ssi_signo, NULL, 0);
                }
                if (p[0].revents & POLLIN) {
                        *ret = (siginfo_t){};
                        if (waitid(P_PIDFD, (id_t) pidfd, ret, WEXITED) < 0)
                                return -errno;
                        return 0;
                }
        }
}

/* Reads the joiner's and the command's messages until both have closed the
 * pipe (the command's copy closes on exec). */
static int read_messages(int fd, pid_t *ret_pid, ExecMessage *ret_error) {
        for (;;) {
                ExecMessage m;
                ssize_t n = read(fd, &m, sizeof(m));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return 0;
                if (n != (ssize_t) sizeof(m))
                        return -EBADMSG;
                m.text[sizeof(m.text) - 1] = '\0';
                if (m.type == EXEC_MSG_PID)
                        *ret_pid = m.pid;
                else if (ret_error->type == 0)
                        *ret_error = m;
        }
}

/* What container_exec() and container_exec_spawn() share: builds what the
 * children need, forks the joiner, and reads the reports until the command
 * has exec'd (or failed).  On success *ret_pidfd refers to the command,
 * which is our child (CLONE_PARENT): the caller reaps it; *ret_error holds
 * an EXEC_MSG_EXEC_FAILED report if execvp failed (it then exits 127/126).
 * On failure nothing is left running and ret->message says why. */
static int exec_start(const StateInfo *info, const char *state_dir, const ExecConfig *c, const int *stdio,
                      pid_t *ret_pid, int *ret_pidfd, ExecMessage *ret_error, ExecResult *ret) {
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_close_ int init_pidfd = -1, cmd_pidfd = -1;
        SeccompProgram *seccomp = NULL;
        ExecMessage error = {};
        siginfo_t si = {};
        pid_t joiner, cmd = 0;
        int pipefd[2] = { -1, -1 }, r;
        Exec x;

        if (!c->argv || !c->argv[0])
                return -EINVAL;
        if (c->n_pass_fds > EXEC_PASS_FDS_MAX || (c->n_pass_fds > 0 && !c->pass_fds))
                return -EINVAL;
        for (size_t i = 0; i < c->n_pass_fds; i++)
                if (c->pass_fds[i] < 3) /* stdio is placed first */
                        return -EBADF;

        r = state_info_open_init(info, state_dir, &init_pidfd);
        if (r < 0) {
                set_message(ret, "no running container named '%s'", info->name);
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
                .stdio = stdio,
        };
        env = build_env(info, c, !x.set_ids || x.uid == 0);
        if (!env)
                return -ENOMEM;
        x.envp = env;

        /* Compiling the filter allocates: here, not in the children. */
        r = seccomp_program_new_default(&seccomp);
        if (r < 0) {
                set_message(ret, "building the seccomp profile: %s", strerror(-r));
                return r;
        }
        x.seccomp = seccomp;

        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                r = -errno;
                goto out;
        }
        joiner = fork();
        if (joiner < 0) {
                r = -errno;
                goto out;
        }
        if (joiner == 0) {
                close(pipefd[0]);
                x.pipe = pipefd[1];
                joiner_main(&x);
        }
        pipefd[1] = safe_close(pipefd[1]);

        r = read_messages(pipefd[0], &cmd, &error);
        (void) waitid(P_PID, (id_t) joiner, &si, WEXITED);
        if (cmd > 0) {
                /* Our child (CLONE_PARENT), not reaped yet: the pid is its. */
                cmd_pidfd = pidfd_open(cmd, 0);
                if (cmd_pidfd < 0) {
                        r = -errno;
                        (void) kill(cmd, SIGKILL);
                        (void) waitpid(cmd, NULL, 0);
                        goto out;
                }
        }
        if (r >= 0 && cmd_pidfd >= 0 && error.type == EXEC_MSG_ERROR) {
                /* The command failed to drop privileges and is exiting. */
                (void) waitid(P_PIDFD, (id_t) cmd_pidfd, &si, WEXITED);
                r = -(error.err > 0 ? error.err : EIO);
                set_message(ret, "%s", error.text);
                goto out;
        }
        if (r < 0 || cmd_pidfd < 0) {
                if (cmd_pidfd >= 0) {
                        (void) pidfd_send_signal(cmd_pidfd, SIGKILL, NULL, 0);
                        (void) waitid(P_PIDFD, (id_t) cmd_pidfd, &si, WEXITED);
                }
                if (error.type != 0) {
                        r = -(error.err > 0 ? error.err : EIO);
                        set_message(ret, "%s", error.text);
                } else if (r >= 0)
                        r = -ESRCH;
                if (r == -ESRCH && !ret->message[0])
                        set_message(ret, "no running container named '%s'", info->name);
                goto out;
        }
        *ret_pid = cmd;
        *ret_pidfd = TAKE_FD(cmd_pidfd);
        *ret_error = error;
        r = 0;
out:
        safe_close(pipefd[0]);
        safe_close(pipefd[1]);
        seccomp_program_free(seccomp);
        return r;
}

int container_exec(const StateInfo *info, const char *state_dir, const ExecConfig *c, ExecResult *ret) {
        _cleanup_close_ int sigfd = -1, cmd_pidfd = -1;
        ExecResult result = {};
        ExecMessage error = {};
        sigset_t mask, old_mask;
        siginfo_t si = {};
        pid_t cmd = 0;
        int r;

        if (!c->argv || !c->argv[0])
                return -EINVAL;

        /* Blocked before forking, so none is lost before the command's pid
         * is known; the command unblocks them. */
        forwarded(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, &old_mask);
        sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sigfd < 0) {
                r = -errno;
                goto out_mask;
        }

        r = exec_start(info, state_dir, c, NULL, &cmd, &cmd_pidfd, &error, &result);
        if (r < 0)
                goto out_mask;

        r = wait_command(cmd_pidfd, sigfd, &si);
        if (r < 0) {
                (void) pidfd_send_signal(cmd_pidfd, SIGKILL, NULL, 0);
                (void) waitid(P_PIDFD, (id_t) cmd_pidfd, &si, WEXITED);
                goto out_mask;
        }
        result_from_siginfo(&si, &result);
        if (error.type == EXEC_MSG_EXEC_FAILED)
                set_message(&result, "failed to execute %s", error.text);

out_mask:
        sigfd = safe_close(sigfd);
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        *ret = result;
        return r;
}

int container_exec_spawn(const StateInfo *info, const char *state_dir, const ExecConfig *c, const int stdio[3],
                         pid_t *ret_pid, int *ret_pidfd, char *msg, size_t msg_size) {
        ExecResult result = {};
        ExecMessage error = {};
        pid_t cmd = 0;
        int pidfd = -1, r;

        r = exec_start(info, state_dir, c, stdio, &cmd, &pidfd, &error, &result);
        if (msg && msg_size > 0) {
                if (r >= 0 && error.type == EXEC_MSG_EXEC_FAILED)
                        snprintf(msg, msg_size, "failed to execute %s", error.text);
                else
                        snprintf(msg, msg_size, "%s", result.message);
        }
        if (r < 0)
                return r;
        *ret_pid = cmd;
        *ret_pidfd = pidfd;
        return 0;
}
