/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* shuttle-oci: the runc-compatible OCI runtime (shuttle-oci(8),
 * docs/OCI.md).  A command table in shuttle-oci.c, the state directory in
 * oci-state.c, create/start/run in oci-create.c, the other verbs in
 * oci-verbs.c. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/macro.h"

/* What the global options chose. */
typedef struct OciGlobals {
        const char *root; /* --root, default /run/shuttle-oci */
        const char *shuttle_state; /* --shuttle-state: the node's shuttled, default /run/shuttle */
        bool systemd_cgroup;
} OciGlobals;

extern OciGlobals oci_globals;

#define OCI_DEFAULT_ROOT "/run/shuttle-oci"
#define OCI_DEFAULT_SHUTTLE_STATE "/run/shuttle"

/* Logs "shuttle-oci: VERB ID: message" on stderr and, with --log, to the
 * log file (text, or one JSON object {"level","msg","time"} per line with
 * --log-format json, whose last line containerd reads).  Returns 1, the
 * exit status of a failed verb. */
int oci_error(const char *verb, const char *id, const char *fmt, ...) _printf_(3, 4);
void oci_debug(const char *fmt, ...) _printf_(1, 2);
/* A warning on stderr and in the log; the verb goes on. */
void oci_warning(const char *fmt, ...) _printf_(1, 2);

/* Whether any argument is -h or --help. */
bool oci_is_help(int argc, char **argv);
/* The arguments of a verb that takes a container ID and no options
 * (argv[0] is the verb): 0, argv[1] is the ID; 1 after --help (its usage,
 * with the line about, on stdout); -EINVAL after "expected one container
 * ID" on stderr. */
int oci_verb_id(int argc, char **argv, const char *about);

/* ---- the state directory: <root>/<id>/ (oci-state.c) ----
 *
 *   state.json   written atomically (rename) under the lock
 *   exec.fifo    exists while the container is created, not yet started
 *   root/        where the container's root is built (empty on the host)
 *
 * The directory itself is flock()-ed by every verb that changes it. */

typedef enum OciStatus {
        OCI_STATUS_CREATING,
        OCI_STATUS_CREATED,
        OCI_STATUS_RUNNING,
        OCI_STATUS_PAUSED,
        OCI_STATUS_STOPPED,
} OciStatus;

const char *oci_status_name(OciStatus s);

typedef struct OciState {
        char *id;
        char *bundle;
        char *rootfs;
        char *created; /* RFC 3339 */
        pid_t pid;
        uint64_t start_time; /* /proc/PID/stat field 22, to tell a reused pid */
        bool no_process;     /* config.json has no process: it cannot be started */
        char **cgroups;      /* NULL-terminated */
        char **annotation_keys, **annotation_values;
        size_t n_annotations;
} OciState;

void oci_state_done(OciState *s);

/* IDs as runc takes them: letters, digits, '_', '+', '-', '.', not
 * starting with '.', at most 1024 bytes. */
bool oci_id_is_valid(const char *id);
/* <root>/<id>, or NULL with errno. */
char *oci_state_dir(const char *id);
/* Opens and locks (flock, exclusive) the container's directory;
 * -ENOENT if there is no such container. */
int oci_state_lock(const char *id, int *ret_fd);
int oci_state_read(const char *id, OciState *ret);
int oci_state_write(const OciState *s);
/* What the container is now: stopped once its process is gone (or a
 * zombie, or its pid reused), created while exec.fifo exists, paused
 * while its cgroup is frozen, else running. */
OciStatus oci_state_status(const OciState *s);
/* The runtime-spec state object (ociVersion, id, status, pid, bundle,
 * annotations, plus rootfs and created as runc prints them). */
char *oci_state_format(const OciState *s, OciStatus st, bool compact);
/* The state for hooks.startContainer (status created), as a JSON object
 * without "pid" and its closing brace: the container's process adds both
 * (ContainerConfig.start_hook_state).  NULL without memory. */
char *oci_state_format_open(const OciState *s);
/* Removes the directory and what is in it. */
int oci_state_remove(const char *id);
/* The start time of a process (field 22 of /proc/PID/stat), and whether it
 * is a zombie. */
int oci_proc_start_time(pid_t pid, uint64_t *ret, bool *ret_zombie);
/* What delete does, with the lock held: kills what is left (thawed
 * first), removes the cgroups, runs the poststop hooks, removes the state.
 * 0, or EXIT_FAILURE after logging why. */
int oci_state_destroy(const char *verb, const OciState *st, OciStatus status);
/* Sends sig to the container's process if it is still the one recorded. */
int oci_state_signal(const OciState *s, int sig);
/* Sends sig to every process in the container's cgroup. */
int oci_state_signal_all(const OciState *s, int sig);
/* The processes in the container's cgroup (host pids), malloc'ed. */
int oci_state_pids(const OciState *s, pid_t **ret, size_t *ret_n);
/* Writes pid to path whole or not at all (a temporary file renamed). */
int oci_write_pid_file(const char *path, pid_t pid);
/* The cgroup name for a container id under --root: the id's safe
 * characters and a hash of both. */
void oci_cgroup_name(const char *root, const char *id, char ret[static 64]);

/* Runs config.json's hooks of one kind with the state (as `state` prints
 * it, with status) on their stdin, in order, each within its timeout; with
 * ns_pidfd >= 0 in the namespaces of that process (createContainer);
 * with cancel_fd >= 0 a hook still running when it becomes readable is
 * killed and -EINTR returned (create's signalfd).
 * stop_at_failure: the first failure ends it (-errno, err names the hook);
 * else failures are warnings (poststart, poststop) and 0 is returned. */
#include "runtime/oci-spec.h"
int oci_hooks_run(const OciSpec *spec, OciHookKind kind, const OciState *st, OciStatus status, int ns_pidfd,
                  int cancel_fd, bool stop_at_failure, char *err, size_t errlen);
/* The poststop hooks of the container's bundle (warnings only). */
void oci_hooks_poststop(const OciState *st);

/* A bundle's seccomp profile compiled, or read from the cache of compiled
 * ones under --root (oci-seccomp-cache.h; oci-create.c): for create, run
 * and exec.  Fails only as compiling does (err names the key); what the
 * cache did is a --debug line, an unsafe cache directory a warning. */
int oci_seccomp_program(const OciSeccomp *s, SeccompProgram **ret, char *err, size_t errlen);
/* Sends the seccomp notify fd (taken: closed in any case) with the
 * container process state (the container's state with status, pid) to
 * s->listenerPath (oci-seccomp-notify.h); err names listenerPath. */
int oci_seccomp_agent_deliver(const OciSeccomp *s, const OciState *st, OciStatus status, pid_t pid, int fd,
                              char *err, size_t errlen);

/* Verbs (argv[0] is the verb). */
int oci_create(int argc, char **argv);
int oci_start(int argc, char **argv);
int oci_run(int argc, char **argv);
int oci_state(int argc, char **argv);
int oci_kill(int argc, char **argv);
int oci_delete(int argc, char **argv);
int oci_list(int argc, char **argv);
int oci_ps(int argc, char **argv);
int oci_exec(int argc, char **argv);
int oci_pause(int argc, char **argv);
int oci_resume(int argc, char **argv);
int oci_update(int argc, char **argv);
int oci_events(int argc, char **argv);
int oci_spec(int argc, char **argv);
int oci_features(int argc, char **argv);
/* Signal names as kill takes them: "TERM", "SIGTERM", "15". */
int oci_parse_signal(const char *s, int *ret);

/* ---- the node's broker (oci-broker.c) ----
 *
 * A container with org.shuttle.* annotations registers with the shuttled
 * on --shuttle-state at create, from the runtime's created hook; once the
 * broker took it, <root>/<id>/shuttle.json records where and as what. */

typedef struct ContainerConfig ContainerConfig;
typedef struct OciSpec OciSpec;

typedef struct OciBroker {
        const char *id;
        const char *state_dir;
        const char *annotation; /* the one an error names */
        char *name;             /* the Shuttle name; NULL: no annotations */
        const char *shuttle_dir; /* cfg->shuttle_dir, made here */
        bool registered;
        char message[512];      /* why it failed */
} OciBroker;

/* Reads the annotations; with any, fills cfg's group, exports, shim and
 * helpers, creates the directory bound at /run/shuttle, and sets cfg's
 * created hook to register (b is its userdata and must outlive the
 * create).  Negative errno and b->message on failure. */
int oci_broker_prepare(const OciSpec *spec, const char *id, ContainerConfig *cfg, OciBroker *b);
/* After a failed create: removes what prepare made, unless registered. */
void oci_broker_abandon(OciBroker *b);
void oci_broker_done(OciBroker *b);
/* Undoes the registration recorded in <root>/<id>/shuttle.json, if any:
 * unregisters it, removes its /run/shuttle directory.  Called by
 * oci_state_remove(). */
void oci_broker_forget(const char *id);
