/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* App group files (see shuttle-group(5)): several containers, the order
 * they start in, how each is known to be ready, how it is restarted, and
 * the policy that governs how they interact.
 *
 * group_load() reads a group file with the policy library's strict YAML
 * reader (same limits: 1 MiB, nesting depth, no anchors, aliases, tags or
 * multiple documents) and checks it as a whole: every key of every
 * container, then the graph (unknown containers in depends_on, cycles) and
 * the policy.  Every problem is reported, as "file:line:col: message" data
 * in a PolicyDiagnostics, and a file with any error is refused.
 *
 * Decisions (also in shuttle-group(5)):
 *  - 'command' is a non-empty list of strings (argv, no shell), or one
 *    string, run as ["/bin/sh", "-c", STRING].  'ready: {command: ...}'
 *    takes the same two forms.
 *  - Relative paths ('policy', 'rootfs', volume sources) are relative to the
 *    directory of the group file and are made absolute; "." and ".." are
 *    resolved lexically (like docker compose), the group file's own
 *    directory with realpath(3).
 *  - 'policy' is either a path (loaded with policy_load(), so its errors name
 *    that file) or a mapping holding a whole policy document inline
 *    (version, default, audit, include, rules; errors at the group file's
 *    own positions).  Without 'policy', the group's containers fall under
 *    the policy shuttled was started with.
 *  - 'restart: no' is accepted as written (YAML 1.1 would read a bare "no"
 *    as a boolean; for this one key it means the word).
 *  - Warnings (group still loads): a container depends on another that
 *    exports services the group's policy never lets it reach. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "policy/policy.h"
#include "runtime/container.h"

#define GROUP_FILE_SIZE_MAX POLICY_FILE_SIZE_MAX
#define GROUP_CONTAINERS_MAX 1024u
#define GROUP_ITEMS_MAX 1024u   /* entries of one list or mapping (env, volumes...) */

#define GROUP_READY_TIMEOUT_DEFAULT_USEC (UINT64_C(10) * 1000000)
#define GROUP_READY_TIMEOUT_MAX_USEC (UINT64_C(600) * 1000000)
#define GROUP_RESTART_BACKOFF_DEFAULT_USEC UINT64_C(1000000)
/* The delay doubles after each restart and stops growing here; an initial
 * 'backoff' above it is an error. */
#define GROUP_RESTART_BACKOFF_MAX_USEC (UINT64_C(30) * 1000000)

typedef enum GroupReadyKind {
        GROUP_READY_NONE,     /* ready as soon as it is started */
        GROUP_READY_SOCKET,   /* the unix socket exists and accepts a connection */
        GROUP_READY_TCP,      /* the TCP port on its loopback accepts */
        GROUP_READY_COMMAND,  /* the command, run inside, exits 0 */
} GroupReadyKind;

typedef struct GroupReady {
        GroupReadyKind kind;
        char *socket;           /* SOCKET: absolute path inside the container */
        uint16_t port;          /* TCP */
        char **command;         /* COMMAND: NULL-terminated argv */
        uint64_t timeout_usec;  /* default 10s, at most 10m */
} GroupReady;

typedef enum GroupRestart {
        GROUP_RESTART_NO,
        GROUP_RESTART_ON_FAILURE,
        GROUP_RESTART_ALWAYS,
} GroupRestart;

/* Export types the syntax knows, all carried in ContainerConfig.exports. */
typedef enum GroupExportType {
        GROUP_EXPORT_SOCKET,
        GROUP_EXPORT_TCP,
        GROUP_EXPORT_FIFO,
        GROUP_EXPORT_MQ,
        GROUP_EXPORT_SHM,
} GroupExportType;

typedef struct GroupContainer {
        char *name;
        unsigned line, column;          /* of its key in the group file */

        /* name, group, argv, rootfs, hostname, env ("K=V"), workdir, user,
         * limits, volumes, net, exports are filled; the rest is left as
         * container_config_init() made it. */
        ContainerConfig config;

        char **depends_on;              /* names of containers of this group */
        size_t n_depends_on;
        size_t *depends_on_index;       /* the same, as indices into Group.containers */

        GroupReady ready;

        GroupRestart restart;
        uint64_t restart_backoff_usec;  /* first delay; default 1s, doubling, capped at 30s */
        unsigned restart_max;           /* restarts in a row; 0 = unlimited */

        bool no_shim;                   /* 'shim: false': libshuttle-shim.so is not preloaded */
        bool learn_set;                 /* it has a 'learn' key (config.learn is its value;
                                         * without one, config.learn is the group's 'learn') */
} GroupContainer;

typedef struct Group {
        char *file;                     /* as given to group_load() */
        char *file_abs;                 /* the same, absolute: its directory
                                         * resolved with realpath(3), its own
                                         * name kept (a symlink swapped for
                                         * a new version is followed when
                                         * the file is read again) */
        char *name;
        Policy *policy;                 /* NULL if the group names none: its
                                         * containers fall under shuttled --policy */
        char *policy_file;              /* the path form, absolute; NULL for inline or none */
        GroupContainer *containers;     /* in file order */
        size_t n_containers;
        size_t *start_order;            /* n_containers indices, dependencies first
                                         * (topological, ties in file order) */
        bool learn;                     /* top-level 'learn' */
        bool learn_keys;                /* some 'learn' key, at the top or in a container */
        unsigned learn_line, learn_column; /* the first 'learn: true', 0 if none */
} Group;

/* Reads and checks the group file at 'path'.  Returns 0 and a Group in
 * *ret (warnings, if any, in diags->warnings); or -EINVAL with every error
 * found in diags->errors (also "cannot open" and the like, as "path:
 * message"), *ret untouched; or -ENOMEM.  diags may be NULL. */
int group_load(const char *path, Group **ret, PolicyDiagnostics *diags);
Group *group_free(Group *g);
static inline void group_freep(Group **g) {
        if (*g)
                group_free(*g);
}

/* Index of the container called 'name', or -1. */
ssize_t group_find_container(const Group *g, const char *name);

/* For debugging: the group, its policy, and its containers in start order
 * with what each depends on, one per line. */
void group_print_summary(const Group *g, FILE *f);

const char *group_restart_to_string(GroupRestart r);
const char *group_ready_kind_to_string(GroupReadyKind k);
