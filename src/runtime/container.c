/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The parent side of a container: state, cgroup, namespaces, the wait, and
 * a teardown that leaves nothing behind.  container_run() is create, start,
 * wait and destroy; shuttle-oci(8) uses the steps apart. */

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
#include <linux/capability.h>
#include <linux/seccomp.h>

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
                .cancel_fd = -1,
        };
}

void container_config_done(ContainerConfig *c) {
        free(c->start_hooks);
        free(c->start_hook_state);
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
        free((void *) c->limits.devices);
        free((void *) c->limits.path);
        free((void *) c->limits.cpus);
        free((void *) c->limits.mems);
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
        free(c->init_path);
        free(c->invoke_path);
        free(c->name_path);
        free(c->transfer_path);
        free(c->exec_fifo);
        for (size_t i = 0; i < _CONTAINER_NS_MAX; i++)
                free(c->ns_path[i]);
        free(c->uid_map);
        free(c->gid_map);
        for (size_t i = 0; i < c->n_mounts; i++) {
                free(c->mounts[i].source);
                free(c->mounts[i].target);
                free(c->mounts[i].fstype);
                free(c->mounts[i].options);
        }
        free(c->mounts);
        free(c->groups);
        free(c->domainname);
        free(c->staging_dir);
        free(c->cgroup_name);
        seccomp_program_free(c->seccomp);
        free(c->state_dir);
        free(c->cgroup_root);
        free(c->self_cgroup_file);
        *c = (ContainerConfig){};
}

/* CMD's environment: a clean default set (nothing leaks from the host
 * except TERM with --tty), then --env in order, later ones winning, then
 * the shim appended to LD_PRELOAD.  An OCI process.env is taken as it is,
 * with the shim (org.shuttle.shim) appended to LD_PRELOAD. */
static char **build_env(const ContainerConfig *c, const char *hostname) {
        if (c->env_exact)
                return container_env_exact(c->env, c->n_env, c->shim_path ? CONTAINER_SHIM_PATH : NULL);
        return container_env_new(c->has_user && c->uid != 0 ? "/" : "/root", hostname,
                                 c->tty ? getenv("TERM") : NULL, c->env, c->n_env,
                                 c->shim_path ? CONTAINER_SHIM_PATH : NULL);
}

static uint64_t effective_caps(const ContainerConfig *c) {
        if (c->has_caps)
                return c->caps;
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

void container_set_message(ContainerResult *ret, const char *fmt, ...) {
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
                        container_set_message(ret, "--volume %s:%s: %s", c->volumes[i].source,
                                    c->volumes[i].destination, strerror(-r));
                        return r;
                }
        }
        if (c->rootfs) {
                struct stat st;
                if (stat(c->rootfs, &st) < 0 || !S_ISDIR(st.st_mode)) {
                        container_set_message(ret, "%s %s: %s", c->staging_dir ? "root" : "--rootfs", c->rootfs,
                                    errno ? strerror(errno) : "not a directory");
                        return -ENOTDIR;
                }
        }
        return 0;
}

struct Container {
        const ContainerConfig *config;
        ContainerResult result;
        MountPlan plan;
        char **env;
        SeccompProgram *seccomp; /* the default profile, when the config has none */
        uint64_t caps;           /* what CMD keeps: effective_caps(), less CAP_MKNOD where
                                  * the devices cgroup asked for is not enforced */
        CgroupLimits limits;     /* config->limits, with the default devices
                                  * when CMD keeps CAP_MKNOD and has no rules */
        StateEntry state;
        bool has_state;
        Cgroup *cgroup;
        TtyRelay tty;
        int console; /* cmd_is_pid1 with tty: the master, for the caller */
        bool got_listener; /* cmd_is_pid1: the seccomp notify fd came (and went to the hook) */
        int sock;
        int sigfd;
        int pidfd;
        pid_t init_pid;
        sigset_t old_mask;
        bool mask_set;
        bool created; /* cmd_is_pid1: in its sandbox, waiting on the FIFO */
        bool started;
        bool exited;
        bool reaped;
        int cmd_status;
        bool got_error;
        int error;
        bool exec_failed;
        bool root_ready;
        bool hooked;
        bool retired; /* state.json removed: CMD has ended */
};

static bool wants_listener(const ContainerConfig *c) {
        return c->seccomp && (seccomp_program_flags(c->seccomp) & SECCOMP_FILTER_FLAG_NEW_LISTENER);
}

/* Returns 1 if a message was handled, 0 if none was waiting. */
static int handle_init_message(Container *ct) {
        InitMessage m;
        int fd = -1, r;
        size_t n_fds = 0;
        ssize_t n = fd_recv_upto(ct->sock, &m, sizeof(m), &fd, 1, &n_fds, MSG_DONTWAIT);

        if (n == -EAGAIN || n == -EINTR)
                return 0;
        if (n < 0)
                return (int) n;
        if (n == 0)
                return -ECONNRESET;
        /* Only the terminal and the seccomp listener messages carry a
         * descriptor. */
        if (n != (ssize_t) sizeof(m) ||
            (n_fds == 1) != (m.type == INIT_MSG_TTY || m.type == INIT_MSG_SECCOMP_LISTENER)) {
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
                if (!ct->config->tty || ct->tty.master >= 0 || ct->console >= 0 || ct->root_ready ||
                    ioctl(fd, TIOCGPTN, &ptn) < 0) {
                        safe_close(fd);
                        return -EBADMSG;
                }
                if (ct->config->cmd_is_pid1)
                        ct->console = fd;
                else
                        (void) tty_relay_attach(&ct->tty, fd);
                break;
        }
        case INIT_MSG_SECCOMP_LISTENER:
                /* Once, between the root and "created", only when the
                 * program was loaded with a listener, and only a seccomp
                 * notify fd (which knows this ioctl; no notification has
                 * id 0 yet). */
                if (!ct->config->cmd_is_pid1 || !ct->root_ready || ct->created || ct->got_listener ||
                    !wants_listener(ct->config) || !seccomp_is_listener(fd)) {
                        safe_close(fd);
                        return -EBADMSG;
                }
                ct->got_listener = true;
                /* Handed on at once: the init's next calls (closing its
                 * copy, saying it is created) may be ones the agent is
                 * to answer. */
                if (!ct->config->hooks.seccomp_listener) {
                        safe_close(fd);
                        break;
                }
                r = ct->config->hooks.seccomp_listener(ct->config, ct->init_pid, fd,
                                                       ct->config->hooks.seccomp_listener_userdata);
                if (r < 0) {
                        ct->got_error = true;
                        ct->error = -r;
                        container_set_message(&ct->result, "container '%s': handing over the seccomp notify fd: %s",
                                    ct->config->name, strerror(-r));
                        return r;
                }
                break;
        case INIT_MSG_ROOT_READY:
                ct->root_ready = true;
                break;
        case INIT_MSG_CREATED:
                if (!ct->config->cmd_is_pid1 || !ct->root_ready ||
                    (wants_listener(ct->config) && !ct->got_listener))
                        return -EBADMSG;
                ct->created = true;
                break;
        case INIT_MSG_STARTED:
                if (ct->config->cmd_is_pid1)
                        return -EBADMSG;
                if (!ct->started) {
                        /* Only now does exec find the container: before,
                         * its pid 1 was not yet in the sandbox (and its root
                         * maybe not yet the container's). */
                        if (ct->has_state)
                                (void) state_entry_write(&ct->state, ct->config, getpid(), ct->init_pid,
                                                         cgroup_paths(ct->cgroup), ct->caps);
                        if (ct->config->hooks.started)
                                ct->config->hooks.started(ct->config, ct->config->hooks.userdata);
                }
                ct->started = true;
                break;
        case INIT_MSG_EXITED:
                ct->exited = true;
                ct->cmd_status = m.status;
                break;
        case INIT_MSG_EXEC_FAILED:
                ct->exec_failed = true;
                ct->error = m.err;
                container_set_message(&ct->result, "failed to execute %s", m.text);
                break;
        case INIT_MSG_ERROR:
        default:
                ct->got_error = true;
                ct->error = m.err > 0 ? m.err : EIO;
                container_set_message(&ct->result, "container '%s': %s", ct->config->name, m.text);
                break;
        }
        return 1;
}

/* Reads the init's messages until done(ct) holds, it reported an error or
 * its socket closed, or the config's cancel fd became readable (then an
 * error, EINTR). */
static void wait_for(Container *ct, bool (*done)(const Container *ct)) {
        while (!done(ct) && !ct->got_error && ct->sock >= 0) {
                struct pollfd p[2] = {
                        { .fd = ct->sock, .events = POLLIN },
                        { .fd = ct->config->cancel_fd, .events = POLLIN }, /* ignored when negative */
                };
                int k;

                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        break;
                if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
                        ct->got_error = true;
                        ct->error = EINTR;
                        container_set_message(&ct->result, "container '%s': interrupted while it was being created",
                                              ct->config->name);
                        break;
                }
                k = handle_init_message(ct);
                if (k == -ECONNRESET)
                        ct->sock = safe_close(ct->sock);
                else if (k < 0)
                        break;
        }
}

static bool is_root_ready(const Container *ct) {
        return ct->root_ready;
}

static bool is_started(const Container *ct) {
        return ct->started || ct->exited || ct->exec_failed;
}

int container_wait_started(Container *ct) {
        wait_for(ct, is_started);
        return ct->started && !ct->got_error;
}

static int fd_inheritable(int fd) {
        int flags = fcntl(fd, F_GETFD);
        if (flags < 0 || fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
                return -errno;
        return 0;
}

int container_hand_over(Container *ct, int *ret_sock, int *ret_pidfd, int *ret_lock) {
        int r;

        if (!ct->started || ct->sock < 0 || !ct->has_state || ct->state.lock_fd < 0 || ct->tty.master >= 0)
                return -EINVAL;
        if ((r = fd_inheritable(ct->sock)) < 0 || (r = fd_inheritable(ct->pidfd)) < 0 ||
            (r = fd_inheritable(ct->state.lock_fd)) < 0)
                return r;
        /* The monitor handles the signals itself: blocked ones would stay
         * blocked across execve(). */
        if (ct->mask_set && sigprocmask(SIG_SETMASK, &ct->old_mask, NULL) < 0)
                return -errno;
        ct->mask_set = false;
        *ret_sock = ct->sock;
        *ret_pidfd = ct->pidfd;
        *ret_lock = ct->state.lock_fd;
        return 0;
}

int container_set_owner(Container *ct, pid_t owner) {
        if (!ct->started || !ct->has_state || ct->state.lock_fd < 0)
                return -EINVAL;
        return state_entry_write(&ct->state, ct->config, owner, ct->init_pid, cgroup_paths(ct->cgroup), ct->caps);
}

static bool is_created(const Container *ct) {
        return ct->created;
}

static void kill_init(Container *ct) {
        siginfo_t si = {};

        if (ct->pidfd < 0 || ct->reaped)
                return;
        (void) pidfd_send_signal(ct->pidfd, SIGKILL, NULL, 0);
        (void) waitid(P_PIDFD, (id_t) ct->pidfd, &si, WEXITED);
        ct->reaped = true;
}

static void forward_signal(Container *ct, int sig) {
        if (sig == SIGWINCH && ct->tty.master >= 0) {
                tty_relay_resize(&ct->tty);
                return;
        }
        (void) pidfd_send_signal(ct->pidfd, sig, NULL, 0);
}

/* Waits for the container's init to end, relaying the terminal and
 * forwarding signals meanwhile. */
static int wait_loop(Container *ct) {
        enum { P_PIDFD, P_SOCK, P_SIG, P_MASTER, P_STDIN, P_MAX };

        for (;;) {
                struct pollfd p[P_MAX] = {
                        [P_PIDFD] = { .fd = ct->pidfd, .events = POLLIN },
                        [P_SOCK] = { .fd = ct->sock, .events = POLLIN },
                        [P_SIG] = { .fd = ct->sigfd, .events = POLLIN },
                        /* poll() ignores negative fds */
                        [P_MASTER] = { .fd = ct->tty.master, .events = POLLIN },
                        [P_STDIN] = { .fd = ct->tty.master >= 0 && ct->tty.stdin_open ? STDIN_FILENO : -1,
                                      .events = POLLIN },
                };

                if (poll(p, P_MAX, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (p[P_SIG].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        while (read(ct->sigfd, &si, sizeof(si)) == (ssize_t) sizeof(si))
                                if (si.ssi_signo != SIGCHLD)
                                        forward_signal(ct, (int) si.ssi_signo);
                }
                if (p[P_SOCK].revents & (POLLIN | POLLHUP)) {
                        int r = handle_init_message(ct);
                        if (r < 0 && r != -ECONNRESET)
                                return r;
                        if (r == -ECONNRESET)
                                ct->sock = safe_close(ct->sock);
                        /* CMD has ended and the init is ending (tearing
                         * down its namespaces, which takes a while): its
                         * state goes meanwhile, the entry itself (the name)
                         * only once the cgroup is gone. */
                        if ((ct->exited || ct->exec_failed) && ct->has_state && !ct->retired) {
                                state_entry_retire(&ct->state);
                                ct->retired = true;
                        }
                }
                if (p[P_MASTER].revents & (POLLIN | POLLHUP | POLLERR))
                        if (tty_relay_from_master(&ct->tty) < 0)
                                /* Every holder of the terminal closed it. */
                                ct->tty.master = safe_close(ct->tty.master);
                if (p[P_STDIN].revents & (POLLIN | POLLHUP | POLLERR))
                        (void) tty_relay_from_stdin(&ct->tty);
                if (p[P_PIDFD].revents & POLLIN)
                        return 0;
        }
}

static void container_free(Container *ct) {
        tty_relay_close(&ct->tty);
        if (ct->cgroup)
                ct->cgroup = cgroup_free(ct->cgroup);
        ct->console = safe_close(ct->console);
        ct->sock = safe_close(ct->sock);
        ct->sigfd = safe_close(ct->sigfd);
        ct->pidfd = safe_close(ct->pidfd);
        if (ct->mask_set)
                sigprocmask(SIG_SETMASK, &ct->old_mask, NULL);
        seccomp_program_free(ct->seccomp);
        mount_plan_done(&ct->plan);
        strv_free(ct->env);
        free(ct);
}

Container *container_destroy(Container *ct) {
        if (!ct)
                return NULL;
        if (ct->hooked && ct->config->hooks.finished)
                ct->config->hooks.finished(ct->config, ct->config->hooks.userdata);
        ct->hooked = false;
        kill_init(ct);
        tty_relay_close(&ct->tty);
        if (ct->cgroup)
                (void) cgroup_destroy(ct->cgroup);
        if (ct->has_state)
                state_entry_remove(&ct->state);
        container_free(ct);
        return NULL;
}

Container *container_release(Container *ct) {
        if (ct)
                container_free(ct);
        return NULL;
}

pid_t container_pid(const Container *ct) {
        return ct->init_pid;
}

const char *const *container_cgroup_paths(const Container *ct) {
        return cgroup_paths(ct->cgroup);
}

int container_take_console(Container *ct) {
        return TAKE_FD(ct->console);
}

static bool has_cgroup_mount(const MountPlan *p) {
        for (size_t i = 0; i < p->n; i++)
                if (p->entries[i].kind == MOUNT_CGROUP)
                        return true;
        return false;
}

int container_create(const ContainerConfig *c, Container **ret, ContainerResult *result) {
        Container *ct = NULL;
        const RlimitSpec *bad_rlimit = NULL;
        const char *controller = NULL;
        rlim_t max_rlimit = 0;
        char cgname[64];
        const char *hostname = c->hostname ?: (c->hostname_exact ? NULL : c->name);
        const char *staging;
        InitArgs args;
        sigset_t mask;
        int pair[2] = { -1, -1 }, ns_fds[_CONTAINER_NS_MAX], saved_ns[_CONTAINER_NS_MAX], saved_cwd = -1, saved_time = -1, r;
        _cleanup_close_ int fifo = -1, init_program = -1;
        uint64_t ns_new = container_ns_new(c);
        pid_t pid;

        for (size_t i = 0; i < _CONTAINER_NS_MAX; i++)
                ns_fds[i] = saved_ns[i] = -1;
        *result = (ContainerResult){};
        if (!c->name || !c->argv || !c->argv[0] || (c->cmd_is_pid1 && !c->exec_fifo) ||
            (c->own_mounts && !c->rootfs) ||
            ((ns_new & CLONE_NEWUSER) && (c->n_uid_map == 0 || c->n_gid_map == 0)))
                return -EINVAL;

        ct = calloc(1, sizeof(*ct));
        if (!ct)
                return -ENOMEM;
        ct->config = c;
        ct->sock = ct->sigfd = ct->pidfd = ct->console = -1;
        ct->tty.master = -1;
        ct->state.lock_fd = -1;

        /* Everything that can be checked without creating anything first. */
        r = check_volumes(c, &ct->result);
        if (r < 0)
                goto fail;
        r = mount_plan_build(c, "/", &ct->plan);
        if (r < 0) {
                container_set_message(&ct->result, "building the mount plan: %s", strerror(-r));
                goto fail;
        }
        r = rlimits_check(c->rlimits, c->n_rlimits, &bad_rlimit, &max_rlimit);
        if (r == -EPERM && bad_rlimit) {
                container_set_message(&ct->result,
                            "%s %s: cannot raise the hard limit above %llu without CAP_SYS_RESOURCE",
                            c->staging_dir ? "rlimit" : "--ulimit", rlimit_name(bad_rlimit->resource),
                            (unsigned long long) max_rlimit);
                goto fail;
        }
        if (r < 0) {
                container_set_message(&ct->result, "%s: %s", c->staging_dir ? "rlimits" : "--ulimit", strerror(-r));
                goto fail;
        }
        ct->limits = c->limits;
        if (!ct->limits.has_devices && (effective_caps(c) & CAP_MASK(CAP_MKNOD))) {
                /* A container that may mknod gets the devices cgroup
                 * (shuttle-oci brings its own rules): the nodes it makes
                 * stay shut unless they are the usual ones. */
                ct->limits.devices = cgroup_default_devices;
                ct->limits.n_devices = cgroup_n_default_devices;
                ct->limits.has_devices = true;
        }
        r = cgroup_check_limits(cgroup_root_of(c), self_cgroup_of(c), &ct->limits, &controller);
        if (r < 0) {
                if (controller)
                        container_set_message(&ct->result, "cgroup controller '%s' is not available under %s",
                                    controller, cgroup_root_of(c));
                else
                        container_set_message(&ct->result, "no usable cgroup hierarchy under %s: %s",
                                    cgroup_root_of(c), strerror(-r));
                goto fail;
        }
        ct->env = build_env(c, hostname ?: c->name);
        if (!ct->env) {
                r = -ENOMEM;
                goto fail;
        }
        tty_relay_init(&ct->tty);

        if (c->staging_dir)
                staging = c->staging_dir;
        else {
                (void) container_cleanup_stale(c);

                r = state_entry_create(state_dir_of(c), c->name, &ct->state);
                if (r == -EEXIST) {
                        container_set_message(&ct->result, "a container named '%s' is already running", c->name);
                        goto fail;
                }
                if (r < 0) {
                        container_set_message(&ct->result, "creating state under '%s': %s", state_dir_of(c), strerror(-r));
                        goto fail;
                }
                ct->has_state = true;
                staging = ct->state.dir;
        }

        if (c->cgroup_name)
                snprintf(cgname, sizeof(cgname), "%s", c->cgroup_name);
        else
                state_cgroup_name(state_dir_of(c), c->name, cgname);
        r = cgroup_create(cgroup_root_of(c), self_cgroup_of(c), cgname, &ct->limits, &ct->cgroup);
        if (r < 0) {
                container_set_message(&ct->result, "creating the cgroup for '%s' under %s: %s", c->name,
                            cgroup_root_of(c), strerror(-r));
                goto fail;
        }
        ct->caps = effective_caps(c);
        if (ct->limits.has_devices && !cgroup_enforces_devices(ct->cgroup))
                /* Nothing else would stop a process that may mknod from
                 * opening the host's disks (v1 without a devices hierarchy;
                 * v2 where the kernel would not load the BPF program). */
                ct->caps &= ~CAP_MASK(CAP_MKNOD);
        if (has_cgroup_mount(&ct->plan)) {
                r = mount_plan_expand_cgroup(&ct->plan, cgroup_version(ct->cgroup) == CGROUP_V2,
                                             cgroup_root_of(c), cgroup_paths(ct->cgroup));
                if (r < 0) {
                        container_set_message(&ct->result, "mounting the cgroups: %s", strerror(-r));
                        goto fail;
                }
        }

        if (!c->seccomp) {
                r = seccomp_program_new(ct->caps, &ct->seccomp);
                if (r < 0) {
                        container_set_message(&ct->result, "building the seccomp profile: %s", strerror(-r));
                        goto fail;
                }
        }

        if (c->exec_fifo) {
                /* Read and write: opening does not wait for a writer, and
                 * the init's read waits for container_start_fifo()'s byte
                 * (docs/OCI.md). */
                fifo = open(c->exec_fifo, O_RDWR | O_CLOEXEC);
                if (fifo < 0) {
                        r = -errno;
                        container_set_message(&ct->result, "opening '%s': %s", c->exec_fifo, strerror(-r));
                        goto fail;
                }
        }
        r = container_ns_open_paths(c, ns_fds, &ct->result);
        if (r < 0)
                goto fail;
        if (ns_fds[CONTAINER_NS_PID] >= 0 && setns(ns_fds[CONTAINER_NS_PID], CLONE_NEWPID) < 0) {
                /* Only our children enter it: the init, cloned below. */
                r = -errno;
                container_set_message(&ct->result, "joining the pid namespace '%s': %s", c->ns_path[CONTAINER_NS_PID],
                            strerror(-r));
                goto fail_ns;
        }

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
                r = -errno;
                container_set_message(&ct->result, "socketpair: %s", strerror(-r));
                goto fail_ns;
        }

        /* Block the signals we forward (and SIGCHLD) before cloning: the
         * init inherits the mask and takes them with sigwaitinfo. */
        forwarded_signals(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, &ct->old_mask);
        ct->mask_set = true;
        ct->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (ct->sigfd < 0) {
                r = -errno;
                container_set_message(&ct->result, "signalfd: %s", strerror(-r));
                goto fail_ns;
        }

        /* Opened here, in the host's mount namespace: the container's
         * root has nothing of ours.  Not there: the init stays itself. */
        if (c->init_path && !c->cmd_is_pid1)
                init_program = open(c->init_path, O_PATH | O_CLOEXEC);

        args = (InitArgs){
                .config = c,
                .plan = &ct->plan,
                .hostname = hostname,
                .staging = staging,
                .seccomp = c->seccomp ?: ct->seccomp,
                .sock = pair[1],
                .exec_fifo = fifo,
                .init_program = init_program,
                .namespaces = ns_new,
                .parent = getpid(),
                .envp = ct->env,
                .caps = ct->caps,
                .cgroup = ct->cgroup,
        };
        ct->plan.in_userns = ns_new & CLONE_NEWUSER;
        ct->plan.userns_root_mapped = ct->plan.in_userns && container_ns_id_mapped(c->uid_map, c->n_uid_map, 0) &&
                                      container_ns_id_mapped(c->gid_map, c->n_gid_map, 0);
        if (ns_new & CLONE_NEWUSER) {
                r = container_ns_enter_paths(c, ns_fds, saved_ns, &saved_cwd, &ct->result);
                if (r < 0) {
                        container_ns_restore_own(saved_ns, &saved_cwd);
                        goto fail_ns;
                }
        }
        if (ns_new & CLONE_NEWTIME) {
                r = container_ns_time_enter(c, &saved_time, &ct->result);
                if (r < 0) {
                        container_ns_restore_own(saved_ns, &saved_cwd);
                        goto fail_ns;
                }
        }
        memcpy(args.ns_fds, ns_fds, sizeof(ns_fds));
        pid = container_ns_clone(ns_new, &ct->pidfd);
        if (pid == 0) {
                pair[0] = safe_close(pair[0]);
                container_init_main(&args);
        }
        r = pid < 0 ? -errno : 0;
        container_ns_time_leave(&saved_time);
        container_ns_restore_own(saved_ns, &saved_cwd);
        if (pid < 0) {
                container_set_message(&ct->result, "creating namespaces: %s", strerror(-r));
                goto fail_ns;
        }
        for (size_t i = 0; i < _CONTAINER_NS_MAX; i++)
                ns_fds[i] = safe_close(ns_fds[i]);
        fifo = safe_close(fifo);
        init_program = safe_close(init_program);
        pair[1] = safe_close(pair[1]);
        ct->sock = TAKE_FD(pair[0]);
        ct->init_pid = pid;

        if (ns_new & CLONE_NEWUSER) {
                /* The init waits for this byte before it sets anything up
                 * (container_init_main()).  No "deny" in setgroups: host
                 * root may map freely, and the container may set groups. */
                const char *which = "uid_map";

                r = container_ns_write_id_map(pid, which, c->uid_map, c->n_uid_map);
                if (r >= 0) {
                        which = "gid_map";
                        r = container_ns_write_id_map(pid, which, c->gid_map, c->n_gid_map);
                }
                if (r >= 0 && send(ct->sock, "u", 1, MSG_NOSIGNAL) != 1)
                        r = -errno;
                if (r < 0) {
                        /* If it ended first (its cgroup refused it), it
                         * said why: that is the message. */
                        while (ct->sock >= 0 && handle_init_message(ct) > 0)
                                ;
                        if (ct->got_error)
                                r = -ct->error;
                        else
                                container_set_message(&ct->result, "writing the user namespace's %s: %s", which, strerror(-r));
                        goto fail;
                }
        }

        /* The init moves itself into the cgroup first thing (and says so
         * if it cannot): see container_init_main(). */

        /* The entry's state ("starting": no init pid yet), written while
         * the init builds the container's root, on the other CPU if there
         * is one; in place before anyone learns of the container (the
         * hook below registers it). */
        if (ct->has_state) {
                r = state_entry_write(&ct->state, c, getpid(), 0, cgroup_paths(ct->cgroup), ct->caps);
                if (r < 0) {
                        container_set_message(&ct->result, "writing state: %s", strerror(-r));
                        goto fail;
                }
        }

        /* The hook (registration with the broker) waits until the container
         * is in its own root: before that, /proc/PID/root is the host's, and
         * nothing may be resolved there on the container's behalf. */
        wait_for(ct, is_root_ready);
        if (!ct->root_ready) {
                r = ct->got_error ? -ct->error : -EIO;
                if (!ct->result.message[0])
                        container_set_message(&ct->result, "container '%s': its init ended during setup", c->name);
                goto fail;
        }

        if (c->hooks.created) {
                r = c->hooks.created(c, pid, c->hooks.userdata);
                if (r < 0) {
                        if (!ct->result.message[0])
                                container_set_message(&ct->result, "container '%s': %s", c->name, strerror(-r));
                        goto fail;
                }
                ct->hooked = true;
        }

        if (c->cmd_is_pid1) {
                /* The init enters the sandbox now and says when it waits
                 * on the FIFO: then the container is "created". */
                r = container_start(ct, &ct->result);
                if (r < 0)
                        goto fail;
                wait_for(ct, is_created);
                if (!ct->created) {
                        r = ct->got_error ? -ct->error : -EIO;
                        if (!ct->result.message[0])
                                container_set_message(&ct->result, "container '%s': its init ended during setup", c->name);
                        goto fail;
                }
        }

        *ret = ct;
        return 0;

fail_ns:
        for (size_t i = 0; i < _CONTAINER_NS_MAX; i++)
                ns_fds[i] = safe_close(ns_fds[i]);
        safe_close(pair[0]);
        safe_close(pair[1]);
fail:
        *result = ct->result;
        container_destroy(ct);
        return r < 0 ? r : -EIO;
}

int container_start(Container *ct, ContainerResult *result) {
        if (send(ct->sock, "g", 1, MSG_NOSIGNAL) != 1) {
                int r = -errno;
                /* The init gave up during its setup: it said why. */
                while (ct->sock >= 0 && handle_init_message(ct) > 0)
                        ;
                if (!ct->got_error)
                        container_set_message(&ct->result, "starting the container: %s", strerror(-r));
                else
                        r = -ct->error;
                if (result != &ct->result)
                        *result = ct->result;
                return r;
        }
        return 0;
}

int container_start_fifo(const char *exec_fifo, char *err, size_t errlen) {
        _cleanup_close_ int fd = -1, rd = -1;
        char buf[1024];
        ssize_t n;
        bool gone = false;

        /* Without a reader (the init waiting on it), opening for writing
         * without blocking fails with ENXIO: nobody to start. */
        fd = open(exec_fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return errno == ENXIO || errno == ENOENT ? -ESRCH : -errno;
        if (write(fd, "0", 1) != 1)
                return errno == EPIPE ? -ESRCH : -errno;
        /* The process holds the FIFO until its execve() closes it (or it
         * exits): then the write end reports POLLERR, no reader left.
         * Returning only then lets a caller run what must come after the
         * command started (poststart hooks). */
        for (int i = 0; i < 100; i++) {
                struct pollfd p = { .fd = fd, .events = 0 };
                if (poll(&p, 1, 100) > 0 && (p.revents & (POLLERR | POLLHUP))) {
                        gone = true;
                        break;
                }
        }
        /* A start hook that failed left 'E' and why in the FIFO (kept while
         * our write end is open).  Read only once no reader is left: else
         * we could take the byte meant for the process. */
        if (!gone)
                return 0;
        rd = open(exec_fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (rd < 0)
                return 0;
        n = read(rd, buf, sizeof(buf) - 1);
        if (n < 1 || buf[0] != 'E')
                return 0;
        buf[n] = '\0';
        if (err && errlen > 0)
                snprintf(err, errlen, "%s", buf + 1);
        return -ECANCELED;
}

int container_wait(Container *ct, ContainerResult *ret) {
        const ContainerConfig *c = ct->config;
        siginfo_t si = {};
        uint64_t ooms = 0;
        int r;

        r = wait_loop(ct);
        if (r < 0)
                (void) pidfd_send_signal(ct->pidfd, SIGKILL, NULL, 0);
        if (waitid(P_PIDFD, (id_t) ct->pidfd, &si, WEXITED) < 0)
                si = (siginfo_t){};
        ct->reaped = true;
        /* Messages sent just before the init exited. */
        while (ct->sock >= 0 && handle_init_message(ct) > 0)
                ;
        tty_relay_drain(&ct->tty);

        if (ct->got_error) {
                *ret = ct->result;
                return -ct->error;
        }

        if (ct->exec_failed)
                ct->result.exit_status = ct->error == ENOENT ? 127 : 126;
        else if (ct->exited)
                result_from_status(ct->cmd_status, &ct->result);
        else {
                /* The init itself died (killed from outside, or by the OOM
                 * killer), or it was CMD (cmd_is_pid1): report how. */
                if (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED) {
                        ct->result.signal = si.si_status;
                        ct->result.exit_status = 128 + si.si_status;
                } else if (si.si_code == CLD_EXITED && c->cmd_is_pid1)
                        ct->result.exit_status = si.si_status;
                else
                        ct->result.exit_status = 255;
        }
        /* Only a SIGKILL can be the OOM killer's. */
        if (ct->result.signal == SIGKILL)
                (void) cgroup_oom_kill_count(ct->cgroup, &ooms);
        if (ooms > 0) {
                char sz[32];
                ct->result.oom_killed = true;
                if (c->limits.memory_bytes)
                        container_set_message(&ct->result, "container '%s' was killed: out of memory (limit %s)",
                                    c->name, format_size(sz, sizeof(sz), c->limits.memory_bytes));
                else
                        container_set_message(&ct->result, "container '%s' was killed: out of memory", c->name);
        }
        *ret = ct->result;
        return 0;
}

int container_run(const ContainerConfig *c, ContainerResult *ret) {
        Container *ct = NULL;
        int r;

        if (c->cmd_is_pid1)
                return -EINVAL;
        r = container_create(c, &ct, ret);
        if (r < 0)
                return r;
        r = container_start(ct, ret);
        if (r >= 0)
                r = container_wait(ct, ret);
        container_destroy(ct);
        return r;
}
