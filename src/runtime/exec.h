/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Running one more command inside a running container (`shuttlectl exec`).
 *
 * The command gets everything the container's own command has: all its
 * namespaces (mount, uts, ipc, net, pid, cgroup), its cgroups (so its
 * limits count it), its capability set, no_new_privs and the default
 * seccomp profile, and a clean environment.  How, in three processes:
 *
 *   caller     builds the seccomp program and the environment, blocks the
 *              forwarded signals, forks the joiner; later waits for the
 *              command, relays its stdio (container_exec()) and forwards
 *              signals to it; stays on the host.
 *   joiner     sets itself non-dumpable, writes itself into the container's
 *              cgroups, setns()-es into every namespace through a pidfd of
 *              the container's init, places the command's stdio and passed
 *              descriptors and closes every other one, enters the sandbox
 *              (bounding set, rlimits, ids, capabilities, working directory,
 *              no_new_privs, seccomp; with --tty then opens a pty of the
 *              container's devpts), and only then clone()s the command with
 *              CLONE_PARENT (the pid namespace applies to children only, and
 *              CLONE_PARENT makes the command the caller's child); reports
 *              the command's pid and exits.
 *   command    in the container's pid namespace; setsid, execvp.
 *
 * Invariant 8: the joiner, which holds the host's privileges, is never in
 * the container's pid namespace, so no process of the container can see,
 * signal or ptrace it.  The command is born inside the sandbox: a process of
 * the container with CAP_SYS_PTRACE that takes it over before its execve
 * finds the container's privileges, its stdio and passed descriptors, and a
 * copy of the caller's memory (see docs/SANDBOX.md), nothing more.  Its
 * reports are checked accordingly: the pid must be our child in the
 * container's pid namespace, a terminal must be a pty master.
 *
 * container_exec() never passes the caller's own descriptors in: a process
 * of the container could copy them (pidfd_getfd) and keep the operator's
 * terminal after the exec returned.  The command gets pipes, or with
 * ExecConfig.tty a terminal of the container's own devpts, and the caller
 * copies bytes. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "runtime/state-info.h"

typedef struct ExecConfig {
        char **argv;            /* NULL-terminated; argv[0] looked up in PATH */
        char **env;             /* extra K=V, after the defaults, later winning */
        size_t n_env;
        bool has_user;          /* run as uid:gid instead of the container's user */
        uid_t uid;
        gid_t gid;
        const char *workdir;    /* NULL = the container's working directory */
        bool tty;               /* container_exec(): a terminal of the
                                 * container's devpts for stdio (else pipes) */
        bool die_with_caller;   /* SIGKILL when the calling thread dies (the
                                 * broker, for an invoked app) */
        uint64_t nofile_cur;    /* > 0: the command's soft RLIMIT_NOFILE, when
                                 * the caller raised its own (the broker); the
                                 * container's --ulimit still wins */
        const int *pass_fds;    /* become the command's descriptors 3, 4, …,
                                 * in this order (the caller keeps and closes
                                 * its own); at most EXEC_PASS_FDS_MAX */
        size_t n_pass_fds;
        char *const *cgroups;   /* NULL-terminated cgroup directories to join
                                 * instead of the container's own (an
                                 * invocation's, each below one of them);
                                 * NULL: StateInfo.cgroups */
        /* shuttle-oci exec: its containers have no owner holding a lock
         * under a state directory. */
        bool has_init_pidfd;    /* init_pidfd is a pidfd of the container's
                                 * pid 1, checked by the caller (else it is
                                 * found through the state directory) */
        int init_pidfd;
        bool env_exact;         /* env is the whole environment (no defaults) */
        const SeccompProgram *seccomp; /* instead of the default profile
                                 * for StateInfo.caps (the caller's) */
        /* With a seccomp program loaded with SECCOMP_FILTER_FLAG_NEW_LISTENER
         * (an OCI profile with SCMP_ACT_NOTIFY rules): called with its
         * notify fd (the callee's to close) and the command's pid (as the
         * host sees it) once the command exists; the command waits before
         * its exec until this returned 0.  A negative errno fails the exec
         * and the command is killed without having run anything of its
         * own.  NULL: the fd is closed (its notifying calls then fail with
         * ENOSYS). */
        int (*seccomp_listener)(int fd, pid_t pid, void *userdata);
        void *seccomp_listener_userdata;
        const struct winsize *winsize; /* with tty: the terminal's size
                                 * (else our stdin's, if it is one) */
        bool has_exec_fd;       /* execute the file exec_fd refers to (an
                                 * O_PATH or read-only descriptor of the
                                 * caller's, execveat() AT_EMPTY_PATH)
                                 * instead of looking argv[0] up in PATH:
                                 * a program of the host's (shuttle-zygote) */
        int exec_fd;
} ExecConfig;

#define EXEC_PASS_FDS_MAX 256

typedef struct ExecResult {
        int exit_status;        /* the command's status, 128+N for signal N,
                                 * 127 not found, 126 not executable */
        int signal;
        char message[512];      /* why it could not start; empty otherwise */
} ExecResult;

/* Runs the command in the container described by info (from
 * state_info_load_running()) and waits for it, relaying our stdin, stdout
 * and stderr to and from it (pipes, or the pty with c->tty: our terminal in
 * raw mode, SIGWINCH resizes) and forwarding SIGINT, SIGTERM, SIGHUP,
 * SIGQUIT, SIGUSR1 and SIGUSR2 to it.  Returns 0 once it ran or its
 * exec failed (see exit_status), or a negative errno with ret->message set if
 * it could not be started inside the container: -ESRCH when the container is
 * gone. */
int container_exec(const StateInfo *info, const char *state_dir, const ExecConfig *c, ExecResult *ret);

/* Starts the command in the container like container_exec(), without
 * waiting and without touching signals: for a single-threaded event loop
 * (the broker's invoke).  stdio: the descriptors the command gets as its
 * stdin, stdout and stderr (NULL: /dev/null); c->tty is refused.
 * On success *ret_pid is the
 * command (our child, which the caller must reap: waitid(P_PIDFD) on
 * *ret_pidfd, readable once it has exited).  If execvp itself failed, the
 * command exits 127 (not found) or 126 and msg says why; that is still a
 * success here.  A negative errno with msg set if it could not be started
 * inside the container. */
int container_exec_spawn(const StateInfo *info, const char *state_dir, const ExecConfig *c, const int stdio[3],
                         pid_t *ret_pid, int *ret_pidfd, char *msg, size_t msg_size);

/* container_exec_spawn() with c->tty: the command's stdin, stdout and
 * stderr are a terminal of the container's devpts (its controlling one),
 * whose master (checked to be a pty master) is returned in *ret_master,
 * for shuttle-oci exec --console-socket to hand on. */
int container_exec_spawn_tty(const StateInfo *info, const char *state_dir, const ExecConfig *c, pid_t *ret_pid,
                             int *ret_pidfd, int *ret_master, char *msg, size_t msg_size);

/* In the command, after stdio: makes fds[0…n-1] (none of them 0-2)
 * descriptors 3…3+n-1, without close-on-exec, whatever numbers they have
 * (also if some already sit in that range).  *keep (may be NULL), a
 * descriptor still needed until exec, is moved above the range if it is in
 * it.  The copies made on the way are close-on-exec.  Exposed for tests. */
int exec_place_fds(const int *fds, size_t n, int *keep);

/* Moves the calling process into each of the container's cgroup
 * directories (StateInfo.cgroups, from the state file), so that what it
 * allocates counts against the container's limits.  Each must be a cgroupfs
 * directory (-EMEDIUMTYPE otherwise); *ret_failed names the one that
 * failed. */
int container_join_cgroups(char *const *paths, const char **ret_failed);

/* ---- a zygote: one fork per command (zygote.h) ---- */

typedef struct ContainerZygote {
        pid_t pid;   /* as we see it */
        int pidfd;   /* of our child */
        int sock;    /* our end of its socket pair */
} ContainerZygote;

/* Starts shuttle-zygote (program_fd: the host's file, see
 * ExecConfig.exec_fd) in the container through the join path above: the
 * container's namespaces, cgroup, user and sandbox, nofile_cur as for
 * invoked apps, /dev/null as stdio, its socket at descriptor 3, and our
 * child, killed when we die.  0 and *ret, or a negative errno and msg. */
int container_zygote_start(const StateInfo *info, const char *state_dir, int program_fd, uint64_t nofile_cur,
                           ContainerZygote *ret, char *msg, size_t msg_size);
/* Closes its socket and SIGKILLs it (its pidfd stays the caller's, to
 * reap it with container_zygote_reap() once it is readable). */
void container_zygote_kill(ContainerZygote *z);
/* Reaps it if it has ended, without waiting: 1 if it was, 0 if it runs,
 * or a negative errno.  Closes nothing. */
int container_zygote_reap(const ContainerZygote *z);

/* Starts a command like container_exec_spawn() but through z: one fork
 * of a process that is in the container already.  c may set argv, env,
 * pass_fds only (the rest is what the zygote took on, and -EINVAL);
 * cgroup_fds are files the command writes "0" to before anything else
 * (cgroup_attach_files(): an invocation's own cgroups).  On failure
 * *ret_broken says whether the zygote failed us (it does not answer, in
 * time or well-formed: stop it, and start the command another way), or
 * the command could not start (msg says why, as container_exec_spawn()).
 * The command is our child, its pid checked as exec's is (exec.h);
 * that an execvp failed is a success with msg set. */
int container_zygote_spawn(const StateInfo *info, const ContainerZygote *z, const ExecConfig *c,
                           const int stdio[3], const int *cgroup_fds, size_t n_cgroup_fds, pid_t *ret_pid,
                           int *ret_pidfd, bool *ret_broken, char *msg, size_t msg_size);

/* container_zygote_spawn() in two steps: a command whose process exists
 * and is ready (its cgroups joined, its descriptors in place) but waits
 * before its exec until container_zygote_go() (ZYGOTE_WAIT_GO), so that
 * the fork and the set-up can happen while something else must finish
 * first (the record of its decision being synced).  Nothing of the
 * command happens before "go": no exec, nothing opened, nothing signalled.
 * The process is our child; it ends (without its exec) when sock closes. */
typedef struct ZygoteChild {
        pid_t pid;
        int pidfd;      /* checked as exec's is (exec.h) */
        int sock;       /* its report socket: "go", then its reports */
} ZygoteChild;

#define ZYGOTE_CHILD_NULL ((ZygoteChild){ .pid = 0, .pidfd = -1, .sock = -1 })

/* As container_zygote_spawn(), but returns once the process exists:
 * *ret, or a negative errno, *ret_broken and msg as there. */
int container_zygote_prepare(const StateInfo *info, const ContainerZygote *z, const ExecConfig *c,
                             const int stdio[3], const int *cgroup_fds, size_t n_cgroup_fds, ZygoteChild *ret,
                             bool *ret_broken, char *msg, size_t msg_size);
/* Lets it execute the command and waits (bounded) until it has: as
 * container_zygote_spawn() from there (*ret_pid, *ret_pidfd, or a negative
 * errno and msg: then it has not run and is reaped).  p is emptied either
 * way. */
int container_zygote_go(ZygoteChild *p, pid_t *ret_pid, int *ret_pidfd, char *msg, size_t msg_size);
/* Ends it before its exec (SIGKILL, reaped) and closes what p holds. */
void container_zygote_discard(ZygoteChild *p);
