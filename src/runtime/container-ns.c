/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The parent side of a container's namespaces: which are new (clone3), which
 * are joined by path (opened here, entered by the init, or with a new user
 * namespace by the creating process around clone3()), and the user
 * namespace's id maps written from outside.  Used by container_create(). */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/macro.h"
#include "runtime/container-internal.h"

uint64_t container_ns_new(const ContainerConfig *c) {
        uint64_t f = c->has_namespaces ? c->namespaces
                                       : (uint64_t) (CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP);
        /* The root is built in a mount namespace of its own, unless one
         * is joined (then its mounts are the container's); one joined is
         * not also created. */
        f |= CLONE_NEWNS;
        if (c->ns_path[CONTAINER_NS_MOUNT])
                f &= ~(uint64_t) CLONE_NEWNS;
        if (c->ns_path[CONTAINER_NS_NET])
                f &= ~(uint64_t) CLONE_NEWNET;
        if (c->ns_path[CONTAINER_NS_IPC])
                f &= ~(uint64_t) CLONE_NEWIPC;
        if (c->ns_path[CONTAINER_NS_UTS])
                f &= ~(uint64_t) CLONE_NEWUTS;
        if (c->ns_path[CONTAINER_NS_PID])
                f &= ~(uint64_t) CLONE_NEWPID;
        if (c->ns_path[CONTAINER_NS_CGROUP])
                f &= ~(uint64_t) CLONE_NEWCGROUP;
        return f;
}

pid_t container_ns_clone(uint64_t flags, int *ret_pidfd) {
        struct clone_args args = {
                /* The cgroup namespace is made by the init, once it is in
                 * its cgroup; the time namespace by container_ns_time_enter(). */
                .flags = (flags & ~(uint64_t) (CLONE_NEWCGROUP | CLONE_NEWTIME)) | CLONE_PIDFD,
                .pidfd = (uint64_t) (uintptr_t) ret_pidfd,
                .exit_signal = SIGCHLD,
        };
        /* clone3 without a stack behaves like fork(): the child continues
         * here on a copy of our stack, in the new namespaces. */
        return (pid_t) syscall(SYS_clone3, &args, sizeof(args));
}

/* Namespaces to join, opened here (the paths are the host's); the init
 * enters them before it closes what it inherited. */
int container_ns_open_paths(const ContainerConfig *c, int fds[static _CONTAINER_NS_MAX], ContainerResult *result) {
        for (size_t i = 0; i < _CONTAINER_NS_MAX; i++) {
                fds[i] = -1;
                if (!c->ns_path[i])
                        continue;
                fds[i] = open(c->ns_path[i], O_RDONLY | O_CLOEXEC);
                if (fds[i] < 0) {
                        int r = -errno;
                        container_set_message(result, "namespace '%s': %s", c->ns_path[i], strerror(-r));
                        for (size_t k = 0; k < i; k++)
                                fds[k] = safe_close(fds[k]);
                        return r;
                }
        }
        return 0;
}

/* "inside outside count" lines, as /proc/PID/uid_map takes them in one
 * write. */
int container_ns_write_id_map(pid_t pid, const char *file, const IdMapping *m, size_t n) {
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = -1;
        char path[64];
        size_t len = 0;

        text = malloc(n * 33 + 1);
        if (!text)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                len += (size_t) sprintf(text + len, "%" PRIu32 " %" PRIu32 " %" PRIu32 "\n", m[i].inside,
                                        m[i].outside, m[i].count);
        snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, file);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, text, len) != (ssize_t) len)
                return errno ? -errno : -EIO;
        return 0;
}

bool container_ns_id_mapped(const IdMapping *m, size_t n, uint32_t id) {
        for (size_t i = 0; i < n; i++)
                if (id >= m[i].inside && id - m[i].inside < m[i].count)
                        return true;
        return false;
}

/* With a new user namespace, namespaces given by path are entered by
 * the creating process around clone3(): entered from inside the new user
 * namespace, the init would lack the privilege over namespaces the host
 * owns (runc's nsexec joins them before it unshares the user namespace
 * too).  The caller's own are kept in saved[] and its working directory
 * in *saved_cwd, to come back with container_ns_restore_own(). */
static const int join_types[_CONTAINER_NS_MAX] = {
        [CONTAINER_NS_NET] = CLONE_NEWNET,
        [CONTAINER_NS_IPC] = CLONE_NEWIPC,
        [CONTAINER_NS_UTS] = CLONE_NEWUTS,
        [CONTAINER_NS_MOUNT] = CLONE_NEWNS,
};
static const char *const join_files[_CONTAINER_NS_MAX] = {
        [CONTAINER_NS_NET] = "net",
        [CONTAINER_NS_IPC] = "ipc",
        [CONTAINER_NS_UTS] = "uts",
        [CONTAINER_NS_MOUNT] = "mnt",
};

void container_ns_restore_own(int saved[static _CONTAINER_NS_MAX], int *saved_cwd) {
        for (size_t i = 0; i < _CONTAINER_NS_MAX; i++)
                if (saved[i] >= 0) {
                        /* Our own namespaces, which we were in a moment ago. */
                        (void) setns(saved[i], join_types[i]);
                        saved[i] = safe_close(saved[i]);
                }
        if (*saved_cwd >= 0) {
                (void) fchdir(*saved_cwd);
                *saved_cwd = safe_close(*saved_cwd);
        }
}

int container_ns_enter_paths(const ContainerConfig *c, int ns_fds[static _CONTAINER_NS_MAX],
                          int saved[static _CONTAINER_NS_MAX], int *saved_cwd, ContainerResult *result) {
        for (size_t i = 0; i < _CONTAINER_NS_MAX; i++) {
                char path[64];
                int r;

                if (ns_fds[i] < 0 || join_types[i] == 0)
                        continue;
                if (i == CONTAINER_NS_MOUNT && *saved_cwd < 0) {
                        *saved_cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (*saved_cwd < 0) {
                                r = -errno;
                                container_set_message(result, "opening the working directory: %s", strerror(-r));
                                return r;
                        }
                }
                snprintf(path, sizeof(path), "/proc/self/ns/%s", join_files[i]);
                saved[i] = open(path, O_RDONLY | O_CLOEXEC);
                if (saved[i] < 0 || setns(ns_fds[i], join_types[i]) < 0) {
                        r = -errno;
                        saved[i] = safe_close(saved[i]);
                        container_set_message(result, "joining the namespace '%s': %s", c->ns_path[i], strerror(-r));
                        return r;
                }
                /* Entered: the init inherits it. */
                ns_fds[i] = safe_close(ns_fds[i]);
        }
        return 0;
}

/* A time namespace applies to the children of whoever made it, and takes
 * offsets only while no process is in it: made here with unshare() and its
 * offsets written, so the init is cloned into it; our own is saved in
 * *saved for container_ns_time_leave(). */
int container_ns_time_enter(const ContainerConfig *c, int *saved, ContainerResult *result) {
        _cleanup_close_ int fd = -1;
        char text[160];
        int r, n;

        *saved = open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC);
        if (*saved < 0) {
                r = -errno;
                container_set_message(result, "time namespace: /proc/self/ns/time: %s (a kernel without time namespaces?)",
                                      strerror(-r));
                return r;
        }
        if (unshare(CLONE_NEWTIME) < 0) {
                r = -errno;
                *saved = safe_close(*saved);
                container_set_message(result, "creating the time namespace: %s", strerror(-r));
                return r;
        }
        n = snprintf(text, sizeof(text), "monotonic %" PRId64 " %" PRIu32 "\nboottime %" PRId64 " %" PRIu32 "\n",
                     c->time_offset_secs[0], c->time_offset_nsecs[0], c->time_offset_secs[1], c->time_offset_nsecs[1]);
        fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, text, (size_t) n) != n) {
                r = -errno;
                container_ns_time_leave(saved);
                container_set_message(result, "the time namespace's offsets (monotonic %" PRId64 ".%09" PRIu32
                                      " s, boottime %" PRId64 ".%09" PRIu32 " s): %s",
                                      c->time_offset_secs[0], c->time_offset_nsecs[0], c->time_offset_secs[1],
                                      c->time_offset_nsecs[1], strerror(-r));
                return r;
        }
        return 0;
}

void container_ns_time_leave(int *saved) {
        if (*saved < 0)
                return;
        /* Back to our own, for us and our later children. */
        (void) setns(*saved, CLONE_NEWTIME);
        *saved = safe_close(*saved);
}
