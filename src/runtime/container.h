/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Creating a container and running it: container_create() builds it up to
 * the point where its command would start, container_start() lets it
 * start, container_wait() waits for it, container_destroy() takes it
 * down.  `shuttlectl run` goes through all four (container_run());
 * shuttle-oci(8) creates in one process and starts from another (see
 * docs/OCI.md), with the command as the container's pid 1. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/cgroup.h"
#include "runtime/mounts.h"
#include "runtime/sandbox.h"

/* Namespaces a container may join by path instead of creating them. */
typedef enum ContainerNs {
        CONTAINER_NS_NET,
        CONTAINER_NS_IPC,
        CONTAINER_NS_UTS,
        CONTAINER_NS_PID,
        CONTAINER_NS_CGROUP,
        CONTAINER_NS_MOUNT, /* then no root is built: the namespace's own mounts are the container's */
        _CONTAINER_NS_MAX,
} ContainerNs;

/* One line of a user namespace's uid_map or gid_map: ids inside …
 * inside+count-1 are host ids outside … outside+count-1. */
typedef struct IdMapping {
        uint32_t inside, outside, count;
} IdMapping;
/* The most lines the kernel takes in one uid_map or gid_map. */
#define ID_MAPPINGS_MAX 340

typedef enum NetMode {
        NET_LOOPBACK, /* new netns, lo up (default) */
        NET_NONE,     /* new netns, nothing up */
        NET_BRIDGE,   /* app groups: lo up plus a veth on the group's bridge */
} NetMode;

typedef struct Volume {
        char *source;      /* host path, absolute */
        char *destination; /* container path, absolute */
        bool read_only;
} Volume;

typedef struct ContainerConfig ContainerConfig;

/* Where the shim appears inside: on the container's private /run tmpfs,
 * not under /run/shuttle (a read-only bind of the broker's directory). */
#define CONTAINER_SHIM_DIR "/run/shuttle-shim"
#define CONTAINER_SHIM_PATH CONTAINER_SHIM_DIR "/libshuttle-shim.so"
/* Where the shuttle-invoke helper appears inside (the broker links
 * /run/shuttle/bin/shuttle-invoke to it). */
#define SHUTTLE_INVOKE_PATH "/run/shuttle-bin/shuttle-invoke"
/* And the shuttle-name helper, beside it (linked from
 * /run/shuttle/bin/shuttle-name). */
#define SHUTTLE_NAME_PATH "/run/shuttle-bin/shuttle-name"
/* And the shuttle-transfer helper (linked from
 * /run/shuttle/bin/shuttle-transfer). */
#define SHUTTLE_TRANSFER_PATH "/run/shuttle-bin/shuttle-transfer"

/* Called by container_run() at points where a caller (shuttlectl) connects
 * the container to the rest of the system, e.g. registers it with the
 * broker.  Returning a negative errno from created() aborts the start. */
typedef struct ContainerHooks {
        /* The init exists and is in its cgroup; nothing is mounted yet. */
        int (*created)(const ContainerConfig *c, pid_t init_pid, void *userdata);
        /* The command runs (its exec succeeded). */
        void (*started)(const ContainerConfig *c, void *userdata);
        /* The container has ended (also after a failed start). */
        void (*finished)(const ContainerConfig *c, void *userdata);
        void *userdata;
        /* cmd_is_pid1 with a seccomp program loaded with
         * SECCOMP_FILTER_FLAG_NEW_LISTENER (an OCI profile's SCMP_ACT_NOTIFY
         * rules): the notify fd (the callee's to close) as soon as the
         * init loaded the filter, before it says it is created; until
         * someone answers on the fd, the container's notifying calls wait.
         * A negative errno fails container_create().  NULL: the fd is
         * closed (those calls then fail with ENOSYS). */
        int (*seccomp_listener)(const ContainerConfig *c, pid_t init_pid, int fd, void *userdata);
        void *seccomp_listener_userdata;
} ContainerHooks;

/* A service this container offers to others: `--export NAME=/path.sock`,
 * `NAME=tcp:PORT`, `NAME=mq:/QUEUE`, `NAME=shm:SIZE` or
 * `NAME=fifo:/path`.  Exactly one of socket, port, mq, shm_size and fifo
 * is set. */
typedef struct ContainerExport {
        char *name;
        char *socket;      /* absolute path inside the container, or NULL */
        uint16_t port;     /* TCP port on the container's loopback */
        char *mq;          /* POSIX message queue in its IPC namespace ("/jobs"), or NULL */
        uint64_t shm_size; /* a shared-memory object of this many bytes, kept by the broker */
        char *fifo;        /* a FIFO (named pipe) the container creates at this absolute path, or NULL */
} ContainerExport;

/* The largest shared-memory export (its pages are allocated, and charged to
 * the exporter's memory cgroup, when it is first opened). */
#define CONTAINER_EXPORT_SHM_MAX (UINT64_C(64) << 30)

/* A program run inside the container before CMD (shuttle-oci's
 * hooks.startContainer); path is resolved in the container's root. */
typedef struct ContainerStartHook {
        const char *path;
        char *const *args; /* NULL-terminated, or NULL: just path */
        char *const *env;  /* NULL-terminated, or NULL: none */
        int timeout;       /* seconds; 0 = none */
} ContainerStartHook;

struct ContainerConfig {
        char *name;     /* unique among running containers */
        char *group;    /* the app group it belongs to, or NULL */
        char *rootfs;   /* NULL = the built-in "host" rootfs */
        char *hostname; /* NULL = name */
        char **argv;
        char **env;     /* extra K=V, after the defaults */
        size_t n_env;
        char *workdir;  /* NULL = "/" */

        bool has_user;
        uid_t uid;
        gid_t gid;

        uint64_t caps_add;
        uint64_t caps_drop;

        CgroupLimits limits; /* limits.devices, .path, .cpus and .mems are freed
                              * with the configuration */
        RlimitSpec *rlimits;
        size_t n_rlimits;

        NetMode net;
        Volume *volumes;
        size_t n_volumes;

        bool read_only; /* rootfs read-only (tmpfs /tmp, /run etc stay writable) */
        bool tty;
        /* Runs without a terminal (`run --detach`); its output goes to
         * <state>/logs/<name>.log.  Recorded in the state, nothing more. */
        bool detached;
        /* Learn mode: told to the broker when it registers (shuttlectl
         * run --learn, a group's `learn`); the runtime does nothing else
         * with it. */
        bool learn;

        ContainerExport *exports;
        size_t n_exports;

        /* A host directory bound read-only at /run/shuttle inside (the
         * broker's per-container directory: broker.sock, svc/).  Skipped
         * when it does not exist at start: then mediation is off. */
        char *shuttle_dir;
        /* The host path of libshuttle-shim.so, or NULL: bound read-only at
         * CONTAINER_SHIM_PATH and added to LD_PRELOAD (after one given in
         * env), so that the container's programs use the broker's fast
         * path.  See shuttle-shim(7). */
        char *shim_path;
        /* The host path of shuttle-init, or NULL: pid 1 execs it (by a
         * descriptor opened before the container's root is built) once CMD
         * is forked, instead of waiting for CMD as a fork of its caller.
         * Unusable (missing, not executable, refused by seccomp): pid 1
         * stays as it is.  Not used with cmd_is_pid1. */
        char *init_path;
        /* The host path of the shuttle-invoke helper, or NULL: bound
         * read-only at SHUTTLE_INVOKE_PATH. */
        char *invoke_path;
        /* The host path of the shuttle-name helper, or NULL: bound
         * read-only at SHUTTLE_NAME_PATH. */
        char *name_path;
        /* The host path of the shuttle-transfer helper, or NULL: bound
         * read-only at SHUTTLE_TRANSFER_PATH. */
        char *transfer_path;
        ContainerHooks hooks;

        /* ---- beyond shuttlectl's options: for shuttle-oci (docs/OCI.md) ---- */

        /* CMD is the container's pid 1: no init of ours stays.  The first
         * process builds the container, enters the sandbox, says so to
         * container_create(), then waits until container_start_fifo() is
         * called on exec_fifo (from any process) and execs CMD.  The
         * caller of container_create() then leaves with
         * container_release(): whoever reaps CMD is its subreaper. */
        bool cmd_is_pid1;
        char *exec_fifo;       /* host path of a FIFO (mkfifo'ed by the caller); with cmd_is_pid1 */
        unsigned preserve_fds; /* descriptors 3 … 3+n-1 are passed on to CMD */
        /* hooks.startContainer (cmd_is_pid1): run in order by the
         * container's process once the FIFO was read, before CMD: in its
         * namespaces, root and sandbox, each with the state on stdin
         * (start_hook_state, a JSON object without its closing brace, to
         * which the process adds ,"pid":N}).  The first that fails ends
         * the process; container_start_fifo() reports why. */
        ContainerStartHook *start_hooks; /* the array is ours; its strings the caller's */
        size_t n_start_hooks;
        char *start_hook_state;
        /* >= 0 (container_config_init() sets -1): once readable, the
         * creation stops where it waits for the container's first process
         * (a signalfd of the signals that end shuttle-oci create):
         * container_create() takes down what it made and returns -EINTR.
         * It is not read: the caller says what came. */
        int cancel_fd;
        /* Which namespaces are new (CLONE_NEW* flags) when has_namespaces;
         * else mount, pid, uts, ipc, net and cgroup.  A mount namespace is
         * new unless one is joined.  Those in ns_path are joined instead
         * (setns). */
        bool has_namespaces;
        uint64_t namespaces;
        char *ns_path[_CONTAINER_NS_MAX];
        /* With CLONE_NEWTIME in namespaces: the offsets of CLOCK_MONOTONIC
         * ([0]) and CLOCK_BOOTTIME ([1]) in the new time namespace, written
         * by the creating process before the init is cloned into it (a time
         * namespace applies to children only, and its offsets only before
         * a process is in it).  A time namespace cannot be joined by path. */
        int64_t time_offset_secs[2];
        uint32_t time_offset_nsecs[2];
        /* With CLONE_NEWUSER in namespaces: written to the init's uid_map
         * and gid_map by the creating process (host root) before the init
         * sets anything up.  The user namespace is made first, so every
         * other new namespace is owned by it. */
        IdMapping *uid_map, *gid_map;
        size_t n_uid_map, n_gid_map;
        /* The mounts after the root, replacing the default /proc, /sys,
         * /dev, /tmp and /run (MOUNT_CGROUP entries become the container's
         * own cgroup directories, read-only unless asked otherwise). */
        bool own_mounts;
        MountEntry *mounts;
        size_t n_mounts;
        /* env is CMD's whole environment: no defaults, no TERM. */
        bool env_exact;
        /* The capabilities CMD keeps, instead of the default set with
         * caps_add and caps_drop. */
        bool has_caps;
        uint64_t caps;
        uint64_t caps_ambient; /* raised for CMD (within caps); kept across its uid change */
        /* No no_new_privs (config.json's noNewPrivileges false): setuid
         * programs work; the filter is loaded before the ids change. */
        bool new_privs;
        gid_t *groups; /* supplementary groups (with has_user) */
        size_t n_groups;
        bool has_umask;
        mode_t umask;
        bool has_oom_score_adj;
        int oom_score_adj;
        /* The host name is set only if hostname is given (no default to
         * the name). */
        bool hostname_exact;
        char *domainname; /* NIS domain name (with a UTS namespace of its own), or NULL */
        unsigned console_rows, console_cols; /* the terminal's size, 0 = leave */
        /* Where the root is built (an empty host directory).  When set, no
         * entry under state_dir is made: the caller keeps its own state. */
        char *staging_dir;
        char *cgroup_name; /* NULL = derived from the name and state_dir */
        /* The seccomp program instead of the default profile (shuttle-oci:
         * config.json's); freed with the configuration. */
        SeccompProgram *seccomp;

        char *state_dir; /* default /run/shuttle */
        char *cgroup_root;       /* default /sys/fs/cgroup */
        char *self_cgroup_file;  /* default /proc/self/cgroup */
};

void container_config_init(ContainerConfig *c);
void container_config_done(ContainerConfig *c);

/* How a container ended. */
typedef struct ContainerResult {
        int exit_status; /* what shuttlectl exits with: status, or 128+signal */
        int signal;      /* > 0 if the command was killed by a signal */
        bool oom_killed;
        /* Why it could not start, or how it ended when that needs saying
         * (out of memory, command not found).  Empty otherwise. */
        char message[512];
} ContainerResult;

typedef struct Container Container;

/* Creates the container: checks, state entry, cgroup, namespaces, root,
 * and (with cmd_is_pid1) the sandbox, up to CMD's start; calls
 * hooks.created.  Returns 0 and *ret, or a negative errno with
 * result->message naming what failed: then nothing is left behind.  Needs
 * the signals forwarded to CMD blocked in the caller's other threads. */
int container_create(const ContainerConfig *c, Container **ret, ContainerResult *result);
/* The container's first process, in the caller's pid namespace. */
pid_t container_pid(const Container *ct);
/* Its cgroup directories, NULL-terminated. */
const char *const *container_cgroup_paths(const Container *ct);
/* With tty and cmd_is_pid1: the terminal's master, now the caller's (-1 if
 * none). */
int container_take_console(Container *ct);
/* Lets the init start CMD (not with cmd_is_pid1). */
int container_start(Container *ct, ContainerResult *result);
/* Waits until the container ended, relaying the terminal and forwarding
 * signals; fills *ret as container_run() does. */
int container_wait(Container *ct, ContainerResult *ret);
/* Waits until CMD runs: 1.  0 if the init ended or failed before (then
 * container_wait() says how). */
int container_wait_started(Container *ct);
/* For a monitor that takes the running container over (monitor-client.c
 * passes them to shuttle-monitor): the init's socket and pidfd and the
 * state entry's lock, made to survive execve(), the signal mask restored.
 * Only after container_wait_started() said 1.  If the hand-over fails,
 * container_destroy() still tears all down. */
int container_hand_over(Container *ct, int *ret_sock, int *ret_pidfd, int *ret_lock);
/* The state entry says OWNER runs it from now on (a detached container's
 * shuttle-monitor); its init is then known by its start time. */
int container_set_owner(Container *ct, pid_t owner);
/* Kills what is left of it, removes its cgroup and state entry, frees.
 * Accepts NULL; returns NULL. */
Container *container_destroy(Container *ct);
/* Leaves the container as it is (created, waiting on exec_fifo) and frees
 * only our side of it.  Accepts NULL; returns NULL. */
Container *container_release(Container *ct);

/* Releases a cmd_is_pid1 container waiting on exec_fifo: CMD is exec'ed;
 * returns once it was (or it failed to), within about 10 s.  -ESRCH if
 * nothing waits there (not created, or started already); -ECANCELED with
 * err set if a start hook failed (the process is gone). */
int container_start_fifo(const char *exec_fifo, char *err, size_t errlen);

/* create + start + wait + destroy: runs the container in the foreground
 * and tears it down.  Returns 0 and fills *ret once the container ran
 * (whatever its exit status), or a negative errno if it could not be
 * started: then nothing is left behind and only ret->message is set,
 * naming what failed. */
int container_run(const ContainerConfig *c, ContainerResult *ret);

/* Removes what a crashed shuttlectl left for containers that are no longer
 * running (mounts are gone with their namespaces; cgroups and state files are
 * not).  Safe to call at every start. */
int container_cleanup_stale(const ContainerConfig *c);
