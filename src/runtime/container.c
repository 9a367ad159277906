/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The parent side of a container: state, cgroup, namespaces, the wait, and
 * a teardown that leaves nothing behind. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/fdpass.h"
#include "common/fileio.h"
#include "common/macro.h"
#include "common/parse.h"
#include "runtime/container-internal.h"
#include "runtime/env.h"
#include "runtime/state.h"
#include "runtime/tty.h"

void container_config_init(ContainerConfig *c) {
        /* A fork bomb in a container stops at its own limit, not the
         * host's (see CONTAINER_DEFAULT_PIDS). */
        *c = (ContainerConfig){
                .net = NET_LOOPBACK,
                .limits = { .pids_max = CONTAINER_DEFAULT_PIDS, .pids_default = true },
        };
}

void container_config_done(ContainerConfig *c) {
        free(c->name);
        free(c->group);
        free(c->rootfs);
        free(c->hostname);
        strv_free(c->argv);
        for (size_t i = 0; i < c->n_env; i++)
                free(c->env[i]);
        free(c->env);
        free(c->workdir);
        free(c->rlimits);
        for (size_t i = 0; i < c->n_volumes; i++) {
                free(c->volumes[i].source);
                free(c->volumes[i].destination);
        }
        free(c->volumes);
        for (size_t i = 0; i < c->n_exports; i++) {
                free(c->exports[i].name);
                free(c->exports[i].socket);
                free(c->exports[i].mq);
                free(c->exports[i].fifo);
        }
        free(c->exports);
        free(c->shuttle_dir);
        free(c->shim_path);
        free(c->invoke_path);
        free(c->name_path);
        free(c->transfer_path);
        free(c->state_dir);
        free(c->cgroup_root);
        free(c->self_cgroup_file);
        *c = (ContainerConfig){};
}

/* CMD's environment: a clean default set (nothing leaks from the host
 * except TERM with --tty), then --env in order, later ones winning, then
 * the shim appended to LD_PRELOAD. */
static char **build_env(const ContainerConfig *c, const char *hostname) {
        return container_env_new(c->has_user && c->uid != 0 ? "/" : "/root", hostname,
                                 c->tty ? getenv("TERM") : NULL, c->env, c->n_env,
                                 c->shim_path ? CONTAINER_SHIM_PATH : NULL);
}

static uint64_t effective_caps(const ContainerConfig *c) {
        return (caps_default_mask() | c->caps_add) & ~c->caps_drop;
}

static void result_from_status(int status, ContainerResult *ret) {
        if (WIFEXITED(status)) {
                ret->exit_status = WEXITSTATUS(status);
                ret->signal = 0;
        } else if (WIFSIGNALED(status)) {
                ret->signal = WTERMSIG(status);
                ret->exit_status = 128 + ret->signal;
        } else
                ret->exit_status = 255;
}

_printf_(2, 3) static void set_message(ContainerResult *ret, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ret->message, sizeof(ret->message), fmt, ap);
        va_end(ap);
}

static const char *cgroup_root_of(const ContainerConfig *c) {
        return c->cgroup_root ?: "/sys/fs/cgroup";
}

static const char *self_cgroup_of(const ContainerConfig *c) {
        return c->self_cgroup_file ?: "/proc/self/cgroup";
}

static const char *state_dir_of(const ContainerConfig *c) {
        return c->state_dir ?: "/run/shuttle";
}

int container_cleanup_stale(const ContainerConfig *c) {
        return state_cleanup_stale(state_dir_of(c), cgroup_root_of(c), self_cgroup_of(c));
}

static int check_volumes(const ContainerConfig *c, ContainerResult *ret) {
        for (size_t i = 0; i < c->n_volumes; i++) {
                struct stat st;
                if (stat(c->volumes[i].source, &st) < 0) {
                        int r = -errno;
                        set_message(ret, "--volume %s:%s: %s", c->volumes[i].source,
                                    c->volumes[i].destination, strerror(-r));
                        return r;
                }
        }
        if (c->rootfs) {
                struct stat st;
                if (stat(c->rootfs, &st) < 0 || !S_ISDIR(st.st_mode)) {
                        set_message(ret, "--rootfs %s: %s", c->rootfs,
                                    errno ? strerror(errno) : "not a directory");
                        return -ENOTDIR;
                }
        }
        return 0;
}

typedef struct Run {
        const ContainerConfig *config;
        ContainerResult *result;
        StateEntry state;
        Cgroup *cgroup;
        TtyRelay tty;
        int sock;
        int sigfd;
        int pidfd;
        pid_t init_pid;
        sigset_t old_mask;
        bool mask_set;
        bool started;
        bool exited;
        int cmd_status;
        bool got_error;
        int error;
        bool exec_failed;
        bool root_ready;
        bool hooked;
} Run;

static pid_t clone_container(int *ret_pidfd) {
        struct clone_args args = {
                .flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC |
                         CLONE_NEWNET | CLONE_PIDFD,
                .pidfd = (uint64_t) (uintptr_t) ret_pidfd,
                .exit_signal = SIGCHLD,
        };
        /* clone3 without a stack behaves like fork(): the child continues
         * here on a copy of our stack, in the new namespaces. */
        return (pid_t) syscall(SYS_clone3, &args, sizeof(args));
}

/* Returns 1 if a message was handled, 0 if none was waiting. */
static int handle_init_message(Run *run) {
        InitMessage m;
        int fd = -1;
        size_t n_fds = 0;
        ssize_t n = fd_recv_upto(run->sock, &m, sizeof(m), &fd, 1, &n_fds, MSG_DONTWAIT);

        if (n == -EAGAIN || n == -EINTR)
                return 0;
        if (n < 0)
                return (int) n;
        if (n == 0)
                return -ECONNRESET;
        /* Only the terminal message carries a descriptor. */
        if (n != (ssize_t) sizeof(m) || (n_fds == 1) != (m.type == INIT_MSG_TTY)) {
                safe_close(fd);
                return -EBADMSG;
        }
        /* The init is inside the container: once CMD runs, a process there
         * with CAP_SYS_PTRACE can make it say anything.  Nothing here may
         * trust more than a setup step's order: the terminal only once, only
         * with --tty, only during setup, and only a pty master. */
        m.text[sizeof(m.text) - 1] = '\0';
        if (m.err < 0 || m.err > 4095)
                m.err = EIO;
        switch (m.type) {
        case INIT_MSG_TTY: {
                int ptn;
                if (!run->config->tty || run->tty.master >= 0 || run->root_ready ||
                    ioctl(fd, TIOCGPTN, &ptn) < 0) {
                        safe_close(fd);
                        return -EBADMSG;
                }
                (void) tty_relay_attach(&run->tty, fd);
                break;
        }
        case INIT_MSG_ROOT_READY:
                run->root_ready = true;
                break;
        case INIT_MSG_STARTED:
                if (!run->started) {
                        /* Only now does exec find the container: before,
                         * its pid 1 was not yet in the sandbox (and its root
                         * maybe not yet the container's). */
                        (void) state_entry_write(&run->state, run->config, getpid(), run->init_pid,
                                                 cgroup_paths(run->cgroup), effective_caps(run->config));
                        if (run->config->hooks.started)
                                run->config->hooks.started(run->config, run->config->hooks.userdata);
                }
                run->started = true;
                break;
        case INIT_MSG_EXITED:
                run->exited = true;
                run->cmd_status = m.status;
                break;
        case INIT_MSG_EXEC_FAILED:
                run->exec_failed = true;
                run->error = m.err;
                set_message(run->result, "failed to execute %s", m.text);
                break;
        case INIT_MSG_ERROR:
        default:
                run->got_error = true;
                run->error = m.err > 0 ? m.err : EIO;
                set_message(run->result, "container '%s': %s", run->config->name, m.text);
                break;
        }
        return 1;
}

static void forward_signal(Run *run, int sig) {
        if (sig == SIGWINCH && run->tty.master >= 0) {
                tty_relay_resize(&run->tty);
                return;
        }
        (void) pidfd_send_signal(run->pidfd, sig, NULL, 0);
}

/* Waits for the container's init to end, relaying the terminal and
 * forwarding signals meanwhile. */
static int wait_loop(Run *run) {
        enum { P_PIDFD, P_SOCK, P_SIG, P_MASTER, P_STDIN, P_MAX };

        for (;;) {
                struct pollfd p[P_MAX] = {
                        [P_PIDFD] = { .fd = run->pidfd, .events = POLLIN },
                        [P_SOCK] = { .fd = run->sock, .events = POLLIN },
                        [P_SIG] = { .fd = run->sigfd, .events = POLLIN },
                        /* poll() ignores negative fds */
                        [P_MASTER] = { .fd = run->tty.master, .events = POLLIN },
                        [P_STDIN] = { .fd = run->tty.master >= 0 && run->tty.stdin_open ? STDIN_FILENO : -1,
                                      .events = POLLIN },
                };

                if (poll(p, P_MAX, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (p[P_SIG].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        while (read(run->sigfd, &si, sizeof(si)) == (ssize_t) sizeof(si))
                                if (si.ssi_signo != SIGCHLD)
                                        forward_signal(run, (int) si.ssi_signo);
                }
                if (p[P_SOCK].revents & (POLLIN | POLLHUP)) {
                        int r = handle_init_message(run);
                        if (r < 0 && r != -ECONNRESET)
                                return r;
                        if (r == -ECONNRESET)
                                run->sock = safe_close(run->sock);
                }
                if (p[P_MASTER].revents & (POLLIN | POLLHUP | POLLERR))
                        if (tty_relay_from_master(&run->tty) < 0)
                                /* Every holder of the terminal closed it. */
                                run->tty.master = safe_close(run->tty.master);
                if (p[P_STDIN].revents & (POLLIN | POLLHUP | POLLERR))
                        (void) tty_relay_from_stdin(&run->tty);
                if (p[P_PIDFD].revents & POLLIN)
                        return 0;
        }
}

static void teardown(Run *run) {
        if (run->hooked && run->config->hooks.finished)
                run->config->hooks.finished(run->config, run->config->hooks.userdata);
        run->hooked = false;
        tty_relay_close(&run->tty);
        if (run->cgroup) {
                (void) cgroup_destroy(run->cgroup);
                run->cgroup = cgroup_free(run->cgroup);
        }
        state_entry_remove(&run->state);
        run->sock = safe_close(run->sock);
        run->sigfd = safe_close(run->sigfd);
        run->pidfd = safe_close(run->pidfd);
        if (run->mask_set)
                sigprocmask(SIG_SETMASK, &run->old_mask, NULL);
}

int container_run(const ContainerConfig *c, ContainerResult *ret) {
        _cleanup_(mount_plan_done) MountPlan plan = {};
        _cleanup_strv_free_ char **env = NULL;
        ContainerResult result = {};
        Run run = { .config = c, .result = &result, .sock = -1, .sigfd = -1, .pidfd = -1,
                    .tty = { .master = -1 } };
        SeccompProgram *seccomp = NULL;
        const RlimitSpec *bad_rlimit = NULL;
        const char *controller = NULL;
        rlim_t max_rlimit = 0;
        char cgname[64];
        const char *hostname = c->hostname ?: c->name;
        InitArgs args;
        sigset_t mask;
        int pair[2], r;
        siginfo_t si = {};
        uint64_t ooms = 0;
        pid_t pid;

        if (!c->name || !c->argv || !c->argv[0])
                return -EINVAL;

        /* Everything that can be checked without creating anything first. */
        r = check_volumes(c, &result);
        if (r < 0)
                goto out_msg;
        r = mount_plan_build(c, "/", &plan);
        if (r < 0) {
                set_message(&result, "building the mount plan: %s", strerror(-r));
                goto out_msg;
        }
        r = rlimits_check(c->rlimits, c->n_rlimits, &bad_rlimit, &max_rlimit);
        if (r == -EPERM && bad_rlimit) {
                set_message(&result,
                            "--ulimit %s: cannot raise the hard limit above %llu without CAP_SYS_RESOURCE",
                            rlimit_name(bad_rlimit->resource), (unsigned long long) max_rlimit);
                goto out_msg;
        }
        if (r < 0) {
                set_message(&result, "--ulimit: %s", strerror(-r));
                goto out_msg;
        }
        r = cgroup_check_limits(cgroup_root_of(c), self_cgroup_of(c), &c->limits, &controller);
        if (r < 0) {
                if (controller)
                        set_message(&result, "cgroup controller '%s' is not available under %s",
                                    controller, cgroup_root_of(c));
                else
                        set_message(&result, "no usable cgroup hierarchy under %s: %s",
                                    cgroup_root_of(c), strerror(-r));
                goto out_msg;
        }
        env = build_env(c, hostname);
        if (!env)
                return -ENOMEM;
        tty_relay_init(&run.tty);

        (void) container_cleanup_stale(c);

        r = state_entry_create(state_dir_of(c), c->name, &run.state);
        if (r == -EEXIST) {
                set_message(&result, "a container named '%s' is already running", c->name);
                goto out_msg;
        }
        if (r < 0) {
                set_message(&result, "creating state under '%s': %s", state_dir_of(c), strerror(-r));
                goto out_msg;
        }

        state_cgroup_name(state_dir_of(c), c->name, cgname);
        r = cgroup_create(cgroup_root_of(c), self_cgroup_of(c), cgname, &c->limits, &run.cgroup);
        if (r < 0) {
                set_message(&result, "creating the cgroup for '%s' under %s: %s", c->name,
                            cgroup_root_of(c), strerror(-r));
                goto fail;
        }
        r = state_entry_write(&run.state, c, getpid(), 0, cgroup_paths(run.cgroup), effective_caps(c));
        if (r < 0) {
                set_message(&result, "writing state: %s", strerror(-r));
                goto fail;
        }

        r = seccomp_program_new(effective_caps(c), &seccomp);
        if (r < 0) {
                set_message(&result, "building the seccomp profile: %s", strerror(-r));
                goto fail;
        }

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
                r = -errno;
                set_message(&result, "socketpair: %s", strerror(-r));
                goto fail;
        }

        /* Block the signals we forward (and SIGCHLD) before cloning: the
         * init inherits the mask and takes them with sigwaitinfo. */
        forwarded_signals(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, &run.old_mask);
        run.mask_set = true;
        run.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (run.sigfd < 0) {
                r = -errno;
                close(pair[0]);
                close(pair[1]);
                set_message(&result, "signalfd: %s", strerror(-r));
                goto fail;
        }

        args = (InitArgs){
                .config = c,
                .plan = &plan,
                .hostname = hostname,
                .staging = run.state.root_dir,
                .seccomp = seccomp,
                .sock = pair[1],
                .parent = getpid(),
                .envp = env,
                .caps = effective_caps(c),
                .cgroup = run.cgroup,
        };
        pid = clone_container(&run.pidfd);
        if (pid < 0) {
                r = -errno;
                close(pair[0]);
                close(pair[1]);
                set_message(&result, "creating namespaces: %s", strerror(-r));
                goto fail;
        }
        if (pid == 0) {
                close(pair[0]);
                container_init_main(&args);
        }
        close(pair[1]);
        run.sock = pair[0];
        run.init_pid = pid;

        /* The init moves itself into the cgroup first thing (and says so
         * if it cannot): see container_init_main(). */

        /* The hook (registration with the broker) waits until the container
         * is in its own root: before that, /proc/PID/root is the host's, and
         * nothing may be resolved there on the container's behalf. */
        while (c->hooks.created && !run.root_ready && !run.got_error && run.sock >= 0) {
                struct pollfd p = { .fd = run.sock, .events = POLLIN };
                int k;

                if (poll(&p, 1, -1) < 0 && errno != EINTR)
                        break;
                k = handle_init_message(&run);
                if (k == -ECONNRESET)
                        run.sock = safe_close(run.sock);
                else if (k < 0)
                        break;
        }
        if (c->hooks.created && !run.root_ready) {
                r = run.got_error ? -run.error : -EIO;
                if (!result.message[0])
                        set_message(&result, "container '%s': its init ended during setup", c->name);
                (void) pidfd_send_signal(run.pidfd, SIGKILL, NULL, 0);
                (void) waitid(P_PIDFD, (id_t) run.pidfd, &si, WEXITED);
                goto fail;
        }

        if (c->hooks.created) {
                r = c->hooks.created(c, pid, c->hooks.userdata);
                if (r < 0) {
                        if (!result.message[0])
                                set_message(&result, "container '%s': %s", c->name, strerror(-r));
                        (void) pidfd_send_signal(run.pidfd, SIGKILL, NULL, 0);
                        (void) waitid(P_PIDFD, (id_t) run.pidfd, &si, WEXITED);
                        goto fail;
                }
                run.hooked = true;
        }

        if (send(run.sock, "g", 1, MSG_NOSIGNAL) != 1) {
                r = -errno;
                /* The init gave up during its setup: it said why. */
                while (run.sock >= 0 && handle_init_message(&run) > 0)
                        ;
                if (!run.got_error)
                        set_message(&result, "starting the container: %s", strerror(-r));
                else
                        r = -run.error;
                (void) pidfd_send_signal(run.pidfd, SIGKILL, NULL, 0);
                (void) waitid(P_PIDFD, (id_t) run.pidfd, &si, WEXITED);
                goto fail;
        }

        r = wait_loop(&run);
        if (r < 0)
                (void) pidfd_send_signal(run.pidfd, SIGKILL, NULL, 0);
        if (waitid(P_PIDFD, (id_t) run.pidfd, &si, WEXITED) < 0)
                si = (siginfo_t){};
        /* Messages sent just before the init exited. */
        while (run.sock >= 0 && handle_init_message(&run) > 0)
                ;
        tty_relay_drain(&run.tty);

        if (run.got_error) {
                r = -run.error;
                goto fail;
        }
        (void) cgroup_oom_kill_count(run.cgroup, &ooms);

        if (run.exec_failed)
                result.exit_status = run.error == ENOENT ? 127 : 126;
        else if (run.exited)
                result_from_status(run.cmd_status, &result);
        else {
                /* The init itself died (killed from outside, or by the OOM
                 * killer): report how. */
                if (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED) {
                        result.signal = si.si_status;
                        result.exit_status = 128 + si.si_status;
                } else
                        result.exit_status = 255;
        }
        if (ooms > 0 && result.signal == SIGKILL) {
                char sz[32];
                result.oom_killed = true;
                if (c->limits.memory_bytes)
                        set_message(&result, "container '%s' was killed: out of memory (limit %s)",
                                    c->name, format_size(sz, sizeof(sz), c->limits.memory_bytes));
                else
                        set_message(&result, "container '%s' was killed: out of memory", c->name);
        }

        teardown(&run);
        seccomp_program_free(seccomp);
        *ret = result;
        return 0;

fail:
        teardown(&run);
        seccomp_program_free(seccomp);
out_msg:
        *ret = result;
        return r < 0 ? r : -EIO;
}
