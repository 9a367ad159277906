/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Running one container in the foreground. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/cgroup.h"
#include "runtime/sandbox.h"

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

        CgroupLimits limits;
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

/* Runs the container in the foreground and tears it down.  Returns 0 and
 * fills *ret once the container ran (whatever its exit status), or a negative
 * errno if it could not be started: then nothing is left behind and only
 * ret->message is set, naming what failed. */
int container_run(const ContainerConfig *c, ContainerResult *ret);

/* Removes what a crashed shuttlectl left for containers that are no longer
 * running (mounts are gone with their namespaces; cgroups and state files are
 * not).  Safe to call at every start. */
int container_cleanup_stale(const ContainerConfig *c);
