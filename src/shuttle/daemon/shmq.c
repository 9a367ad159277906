/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exported shared-memory objects, POSIX message queues and FIFOs: OPEN_SHM,
 * OPEN_MQ and OPEN_FIFO of "C.NAME" (see docs/PROTOCOL.md and
 * shuttle-shim(7)).
 *
 * - A shared-memory export (`shm: 16M`) is a memfd the broker makes the
 *   first time the export is opened, sized and sealed (it can neither grow
 *   nor shrink, and no one can add or remove a seal), and keeps until the
 *   exporter unregisters.  Every opener gets a descriptor of its own,
 *   reopened through /proc/self/fd: read-only (a writable shared mapping of
 *   it fails with EACCES) or read-write.  Only containers the policy allows
 *   ever get one: the object is scoped to them.
 * - A message-queue export (`mq: /jobs`) is a queue the exporter creates
 *   itself with mq_open(O_CREAT) in its own IPC namespace.  The broker opens
 *   it there, never creating it, and hands the descriptor over.
 * - A FIFO export (`fifo: /run/logs.fifo`) is a named pipe the exporter
 *   creates itself (mkfifo) at that path.  The broker opens one end of it,
 *   never creating it: the read end or the write end, whichever the
 *   request asks for and the rule's mode grants, never both (O_RDWR).
 *
 * Invariant 4 (work done for a container runs inside a container): all are
 * opened by a short-lived child of the broker that joins the exporter's
 * cgroups first, so the memfd's pages (allocated right there) are charged
 * to the exporter's memory cgroup, not to the broker nor to whoever touches
 * them first; for a queue it also joins the exporter's IPC namespace and
 * takes its user and capabilities, so mq_open()'s permission check is the
 * exporter's, not root's.  A FIFO is opened the same way, as the
 * exporter's user (its mode is checked as for the exporter's own
 * programs), with the path resolved inside the exporter's root (invariant
 * 3: RESOLVE_IN_ROOT, no magic links; a symlink planted there cannot lead
 * out of it), and only if it is a FIFO: a regular file or a device at the
 * path is never opened, not even for a moment (the path is resolved with
 * O_PATH and checked before anything is opened through it).  The open
 * never waits for the other end (O_NONBLOCK): a write end with no reader
 * fails with ENXIO, as open(O_WRONLY | O_NONBLOCK) does, and a stuck
 * FIFO never stalls the broker.  The child passes the descriptor back over
 * a socketpair and exits.
 *
 * Bounds (invariant 5): one memfd per shm export (at most
 * BROKER_EXPORTS_MAX per container), freed with the container; every other
 * descriptor made here is sent and closed at once (by the pipeline);
 * a child gets OPEN_CHILD_TIMEOUT_MSEC before it is killed. */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <mqueue.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/log.h"
#include "common/macro.h"
#include "runtime/exec.h"
#include "runtime/sandbox.h"
#include "runtime/state-info.h"
#include "shuttle/daemon/broker-api.h"
#include "shuttle/daemon/mediator.h"
#include "shuttle/host/nsconnect.h"
#include "shuttle/client/protocol.h"

/* How long a child inside the exporter may take.  The broker waits for it
 * (as for its other short steps inside containers), so this also bounds how
 * long a first open of a large object holds up everyone else. */
#define OPEN_CHILD_TIMEOUT_MSEC 5000

typedef enum OpenKind {
        OPEN_SHM,
        OPEN_MQ,
        OPEN_FIFO,
} OpenKind;

typedef struct OpenJob {
        const StateInfo *info; /* the exporter as its runtime recorded it */
        int pidfd;             /* the exporter's init */
        OpenKind kind;
        const char *label;     /* shm: the memfd's name, "shuttle:C.NAME" */
        uint64_t size;         /* shm */
        const char *queue;     /* mq: "/jobs" */
        int root;              /* fifo: O_PATH of the exporter's root, opened by the broker */
        const char *path;      /* fifo: its path inside */
        int oflag;             /* mq: O_RDONLY | O_WRONLY | O_RDWR [| O_NONBLOCK];
                                * fifo: O_RDONLY | O_WRONLY [| O_NONBLOCK] */
} OpenJob;

/* In the child, in the exporter's cgroups: the object, sized and sealed.
 * fallocate() allocates every page now, so they are charged here. */
static int make_memfd(const OpenJob *j, int *ret_fd) {
        _cleanup_close_ int fd = -1;

        fd = memfd_create(j->label, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        if (ftruncate(fd, (off_t) j->size) < 0 || fallocate(fd, 0, 0, (off_t) j->size) < 0)
                return -errno;
        /* Sealed before anyone else sees it: a holder cannot shrink it under
         * another's mapping (SIGBUS), grow it beyond what was charged, or
         * seal it against writing. */
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* In the child: the same ids and capabilities as the exporter's own
 * programs (sandbox.h's order; the bounding set, no_new_privs and seccomp
 * only matter across an execve, which this child never does). */
static int become_exporter(const OpenJob *j) {
        if (setgroups(0, NULL) < 0)
                return -errno;
        if (j->info->has_user &&
            (setresgid(j->info->gid, j->info->gid, j->info->gid) < 0 ||
             setresuid(j->info->uid, j->info->uid, j->info->uid) < 0))
                return -errno;
        return caps_apply(j->info->caps);
}

/* In the child: the queue, in the exporter's IPC namespace, as its user. */
static int open_queue(const OpenJob *j, int *ret_fd) {
        mqd_t q;
        int r;

        if (setns(j->pidfd, CLONE_NEWIPC) < 0)
                return -errno;
        r = become_exporter(j);
        if (r < 0)
                return r;
        /* Never O_CREAT: the exporter creates its queue, with its mode. */
        q = mq_open(j->queue, j->oflag);
        if (q == (mqd_t) -1)
                return -errno;
        *ret_fd = (int) q;
        return 0;
}

/* In the child, as the exporter's user: one end of the FIFO at j->path in
 * its root. */
static int open_fifo_end(const OpenJob *j, int *ret_fd) {
        /* Invariant 3: resolved inside the exporter's root; symlinks and
         * ".." stay in it, /proc's magic links are refused.  O_PATH opens
         * nothing: whatever the path names, nothing of it runs yet (a
         * device's open, a FIFO's wait for its other end). */
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        _cleanup_close_ int path_fd = -1, fd = -1;
        char proc[64];
        struct stat st;
        int r;

        r = become_exporter(j);
        if (r < 0)
                return r;
        path_fd = (int) syscall(SYS_openat2, j->root, j->path, &how, sizeof(how));
        if (path_fd < 0)
                return -errno;
        if (fstat(path_fd, &st) < 0)
                return -errno;
        /* A FIFO export opens FIFOs: never a regular file, a device or a
         * socket the exporter put there instead. */
        if (!S_ISFIFO(st.st_mode))
                return -ENODEV;
        /* The very inode checked above, reopened with the one access mode
         * asked for (never O_RDWR), its permission checked as the
         * exporter's user.  O_NONBLOCK: the open does not wait for the
         * other end (a write end with no reader is ENXIO). */
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", path_fd);
        fd = open(proc, (j->oflag & O_ACCMODE) | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* The description is new and the opener's alone: it gets the
         * blocking behaviour it asked for. */
        if (!(j->oflag & O_NONBLOCK) && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int write_oom_score_adj(void) {
        _cleanup_close_ int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        return write(fd, "1000", 4) == 4 ? 0 : -errno;
}

_noreturn_ static void child_main(const OpenJob *j, int sock) {
        const char *failed = NULL;
        int32_t status;
        int fd = -1, r;

        /* Before anything of the container can see us: not dumpable, so
         * nothing in it can ptrace us or open our /proc files while we hold
         * the host's privileges.  And if the broker dies, so do we. */
        if (prctl(PR_SET_DUMPABLE, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                r = -errno;
        else {
                /* An object that does not fit in the exporter's memory
                 * limit makes its OOM killer pick a victim: let that be us,
                 * never one of the exporter's own programs. */
                (void) write_oom_score_adj();
                r = container_join_cgroups(j->info->cgroups, &failed);
        }
        if (r >= 0)
                r = j->kind == OPEN_SHM ? make_memfd(j, &fd) : j->kind == OPEN_MQ ? open_queue(j, &fd)
                                                                                 : open_fifo_end(j, &fd);
        status = r < 0 ? r : 0;
        (void) fd_send(sock, &status, sizeof(status), fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0);
        _exit(0);
}

/* Runs the job in a child inside the exporter; the descriptor it made. */
static int run_in_exporter(const OpenJob *j, int *ret_fd) {
        _cleanup_close_ int mine = -1, theirs = -1;
        int pair[2], fds[1] = { -1 }, wstatus = 0, r;
        size_t n_fds = 0;
        int32_t status = -EIO;
        struct pollfd p;
        ssize_t n = -1;
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return -errno;
        mine = pair[0];
        theirs = pair[1];
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                mine = safe_close(mine);
                child_main(j, theirs);
        }
        theirs = safe_close(theirs);

        p = (struct pollfd){ .fd = mine, .events = POLLIN };
        r = poll(&p, 1, OPEN_CHILD_TIMEOUT_MSEC);
        if (r <= 0) {
                /* Stuck (a frozen cgroup, a huge allocation): the broker
                 * does not wait for it any longer. */
                (void) kill(pid, SIGKILL);
                r = r < 0 ? -errno : -ETIMEDOUT;
        } else {
                n = fd_recv_upto(mine, &status, sizeof(status), fds, 1, &n_fds, 0);
                if (n != (ssize_t) sizeof(status) || (status == 0) != (n_fds == 1) || status > 0 ||
                    status < -SHUTTLE_ERRNO_MAX)
                        r = n < 0 ? (int) n : -EIO;
                else
                        r = status;
        }
        while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
                ;
        /* Killed without a word, and not by us: the exporter's OOM killer
         * (see child_main()). */
        if (n == 0 && WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL)
                r = -ENOMEM;
        if (r < 0) {
                for (size_t i = 0; i < n_fds; i++)
                        safe_close(fds[i]);
                return r;
        }
        *ret_fd = fds[0];
        return 0;
}

static int load_exporter(Broker *b, const Container *owner, StateInfo *ret) {
        int r;

        /* Its cgroups, user and capabilities, as its runtime recorded them;
         * and still the same container as the one registered. */
        r = state_info_load_running(b->state_dir, owner->name, 0, ret);
        if (r >= 0 && ret->init_pid != owner->pid) {
                state_info_done(ret);
                r = -ESRCH;
        }
        return r;
}

static int open_shm(Broker *b, Container *owner, Export *e, uint32_t flags, int *ret_fd) {
        char path[64];
        int fd;

        if (!(flags & SHUTTLE_OPEN_READ))
                return -EINVAL; /* like shm_open(): read-only or read-write */
        if (e->shm_fd < 0) {
                _cleanup_(state_info_done) StateInfo info = {};
                char label[16 + 2 * SHUTTLE_NAME_MAX];
                OpenJob j;
                int r;

                r = load_exporter(b, owner, &info);
                if (r < 0)
                        return r;
                snprintf(label, sizeof(label), "shuttle:%s.%s", owner->name, e->name);
                j = (OpenJob){ .info = &info, .pidfd = owner->pidfd.fd, .kind = OPEN_SHM, .label = label,
                               .size = e->shm_size };
                r = run_in_exporter(&j, &e->shm_fd);
                if (r < 0)
                        return r;
        }
        /* A description of its own for every opener, never the broker's: the
         * file offset and status flags are not shared across containers, and
         * a read-only one cannot be mapped writable (or written, or
         * truncated) whatever the holder does with it. */
        snprintf(path, sizeof(path), "/proc/self/fd/%d", e->shm_fd);
        fd = open(path, ((flags & SHUTTLE_OPEN_WRITE) ? O_RDWR : O_RDONLY) | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

static int open_mq(Broker *b, Container *owner, const Export *e, uint32_t flags, int *ret_fd) {
        _cleanup_(state_info_done) StateInfo info = {};
        int oflag, r;

        switch (flags & (SHUTTLE_OPEN_READ | SHUTTLE_OPEN_WRITE)) {
        case SHUTTLE_OPEN_READ:
                oflag = O_RDONLY;
                break;
        case SHUTTLE_OPEN_WRITE:
                oflag = O_WRONLY;
                break;
        default:
                oflag = O_RDWR;
                break;
        }
        if (flags & SHUTTLE_OPEN_NONBLOCK)
                oflag |= O_NONBLOCK;
        r = load_exporter(b, owner, &info);
        if (r < 0)
                return r;
        return run_in_exporter(&(OpenJob){ .info = &info, .pidfd = owner->pidfd.fd, .kind = OPEN_MQ, .queue = e->mq,
                                           .oflag = oflag },
                               ret_fd);
}

static int open_fifo(Broker *b, Container *owner, const Export *e, uint32_t flags, int *ret_fd) {
        _cleanup_(state_info_done) StateInfo info = {};
        _cleanup_close_ int root = -1;
        int oflag, r;

        oflag = (flags & SHUTTLE_OPEN_WRITE) ? O_WRONLY : O_RDONLY;
        if (flags & SHUTTLE_OPEN_NONBLOCK)
                oflag |= O_NONBLOCK;
        r = load_exporter(b, owner, &info);
        if (r < 0)
                return r;
        /* Its root, opened here (the child, once it is the exporter's
         * user, may not look into /proc/PID of the exporter's init), and
         * only once the container has its own root. */
        root = ns_open_root(owner->pid, owner->pidfd.fd, true);
        if (root < 0)
                return root == -EAGAIN ? -ENOENT : root;
        return run_in_exporter(&(OpenJob){ .info = &info, .pidfd = owner->pidfd.fd, .kind = OPEN_FIFO, .root = root,
                                           .path = e->fifo, .oflag = oflag },
                               ret_fd);
}

static Export *find_export(Container *c, const char *name) {
        for (size_t i = 0; i < c->n_exports; i++)
                if (streq(c->exports[i].name, name))
                        return &c->exports[i];
        return NULL;
}

/* What each request opens, and how it is named in the audit log and in
 * replies. */
static const struct {
        const char *op;
        PolicyIpcType ipc_type;
        const char *missing;
} open_kinds[] = {
        [OPEN_SHM] = { "open-shm", POLICY_IPC_SHM, "no such shared-memory export" },
        [OPEN_MQ] = { "open-mq", POLICY_IPC_MQ, "no such message-queue export" },
        [OPEN_FIFO] = { "open-fifo", POLICY_IPC_FIFO, "no such FIFO export" },
};

static bool export_is_kind(const Export *e, OpenKind k) {
        switch (k) {
        case OPEN_SHM:
                return e->shm_size > 0;
        case OPEN_MQ:
                return e->mq;
        case OPEN_FIFO:
                return e->fifo;
        }
        return false;
}

typedef struct OpenState {
        OpenKind kind;
        char cname[SHUTTLE_NAME_MAX + 1], ename[SHUTTLE_NAME_MAX + 1];
        Container *owner;
} OpenState;

static int open_build(Request *r) {
        OpenState *s = REQUEST_STATE(r, OpenState);
        const ShuttleMsg *m = r->msg;
        PolicyMode mode = POLICY_MODE_NONE;

        s->kind = m->type == SHUTTLE_MSG_OPEN_SHM ? OPEN_SHM : m->type == SHUTTLE_MSG_OPEN_MQ ? OPEN_MQ : OPEN_FIFO;
        s->owner = NULL;
        snprintf(r->object, sizeof(r->object), "%s", m->service);
        /* The decoder checked SERVICE already. */
        if (shuttle_service_split(m->service, s->cname, s->ename) < 0) {
                snprintf(r->why, sizeof(r->why), "invalid service name");
                return -EINVAL;
        }
        r->to = s->cname;
        if (s->kind == OPEN_FIFO) {
                /* One end or the other: a descriptor with both would let
                 * the holder read back what it writes, and more than any
                 * rule's mode grants. */
                switch (m->flags & (SHUTTLE_OPEN_READ | SHUTTLE_OPEN_WRITE)) {
                case SHUTTLE_OPEN_READ:
                        mode = POLICY_MODE_RO;
                        break;
                case SHUTTLE_OPEN_WRITE:
                        mode = POLICY_MODE_WO;
                        break;
                default:
                        snprintf(r->why, sizeof(r->why), "a FIFO is opened for reading or for writing, not both");
                        return -EINVAL;
                }
                /* Which end of a FIFO was asked for. */
                if (request_extra(r))
                        json_object_set_new(r->extra, "mode", json_string(policy_mode_to_string(mode)));
        }
        s->owner = container_find(r->broker, s->cname);
        if (!s->owner) {
                /* Before any decision: a program whose own objects are named
                 * like "PostgreSQL.1234" gets ENOENT, and the shim then
                 * leaves the name to the real call, instead of EACCES from
                 * a default-deny policy for a container that does not exist. */
                snprintf(r->why, sizeof(r->why), "no such container");
                return -ENOENT;
        }
        r->to = s->owner->name;
        if (s->owner == r->from) {
                /* Its own export: the owner reaches the object (for shm, the
                 * only way to) with no rule needed. */
                r->preset = true;
                r->d = (PolicyDecision){ .verdict = POLICY_ALLOW, .rule_id = "-",
                                         .reason = "a container's own export", .audited = true };
                return 0;
        }
        /* Decided before looking at the export, as CONNECT is: a denied
         * container learns nothing about what exists.  max_open cannot
         * apply: a descriptor handed out is never seen again, so it cannot
         * be counted (shuttle-policy(5)). */
        snprintf(r->object, sizeof(r->object), "%s.%s", s->owner->name, s->ename);
        r->policy.to = s->owner->qname;
        r->policy.kind = POLICY_KIND_IPC;
        r->policy.object = s->ename;
        r->policy.ipc_type = open_kinds[s->kind].ipc_type;
        r->policy.mode = mode;
        return 0;
}

static int open_carry_out(Request *r) {
        OpenState *s = REQUEST_STATE(r, OpenState);
        const ShuttleMsg *m = r->msg;
        Export *e;
        int fd = -1, k;

        e = find_export(s->owner, s->ename);
        if (!e || !export_is_kind(e, s->kind)) {
                /* No such export, or one of another kind: shared memory,
                 * queues and FIFOs are separate name spaces, as in POSIX. */
                snprintf(r->why, sizeof(r->why), "%s", open_kinds[s->kind].missing);
                return -ENOENT;
        }
        k = s->kind == OPEN_SHM ? open_shm(r->broker, s->owner, e, m->flags, &fd)
          : s->kind == OPEN_MQ  ? open_mq(r->broker, s->owner, e, m->flags, &fd)
                                : open_fifo(r->broker, s->owner, e, m->flags, &fd);
        if (k < 0) {
                if (s->kind == OPEN_FIFO && k == -ENXIO)
                        snprintf(r->why, sizeof(r->why), "no one has the FIFO open for reading");
                else if (s->kind == OPEN_FIFO && k == -ENODEV)
                        /* The exporter put something else at its FIFO's
                         * path (or a symlink to it): refused, and on record. */
                        snprintf(r->why, sizeof(r->why), "the export's path is not a FIFO");
                else if (k != -ENOENT && k != -EACCES)
                        log_warning_errno(k, "Cannot open %s for '%s': %m", m->service, r->from->qname);
                return k;
        }
        /* Invariant 7: after the yes, the broker steps aside. */
        shuttle_msg_opened(&r->reply, m->id);
        r->reply_fd = fd;
        return 0;
}

const MediatorOps open_shm_ops = {
        .type = SHUTTLE_MSG_OPEN_SHM,
        .kind = "ipc",
        .op = "open-shm",
        .denied_errno = EACCES,
        .build = open_build,
        .carry_out = open_carry_out,
};

const MediatorOps open_mq_ops = {
        .type = SHUTTLE_MSG_OPEN_MQ,
        .kind = "ipc",
        .op = "open-mq",
        .denied_errno = EACCES,
        .build = open_build,
        .carry_out = open_carry_out,
};

const MediatorOps open_fifo_ops = {
        .type = SHUTTLE_MSG_OPEN_FIFO,
        .kind = "ipc",
        .op = "open-fifo",
        .denied_errno = EACCES,
        .build = open_build,
        .carry_out = open_carry_out,
};
