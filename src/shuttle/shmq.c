/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exported shared-memory objects and POSIX message queues: OPEN_SHM and
 * OPEN_MQ of "C.NAME" (see docs/PROTOCOL.md and shuttle-shim(7)).
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
 *
 * Invariant 4 (work done for a container runs inside a container): both are
 * opened by a short-lived child of the broker that joins the exporter's
 * cgroups first, so the memfd's pages (allocated right there) are charged
 * to the exporter's memory cgroup, not to the broker nor to whoever touches
 * them first; for a queue it also joins the exporter's IPC namespace and
 * takes its user and capabilities, so mq_open()'s permission check is the
 * exporter's, not root's.  The child passes the descriptor back over a
 * socketpair and exits.
 *
 * Bounds (invariant 5): one memfd per shm export (at most
 * BROKER_EXPORTS_MAX per container), freed with the container; every other
 * descriptor made here is sent and closed at once (broker_client_send());
 * a child gets OPEN_CHILD_TIMEOUT_MSEC before it is killed. */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <mqueue.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/log.h"
#include "common/macro.h"
#include "runtime/exec.h"
#include "runtime/sandbox.h"
#include "runtime/state-info.h"
#include "shuttle/broker-internal.h"
#include "shuttle/protocol.h"

/* How long a child inside the exporter may take.  The broker waits for it
 * (as for its other short steps inside containers), so this also bounds how
 * long a first open of a large object holds up everyone else. */
#define OPEN_CHILD_TIMEOUT_MSEC 5000

typedef struct OpenJob {
        const StateInfo *info; /* the exporter as its runtime recorded it */
        int pidfd;             /* the exporter's init */
        bool shm;
        const char *label;     /* shm: the memfd's name, "shuttle:C.NAME" */
        uint64_t size;         /* shm */
        const char *queue;     /* mq: "/jobs" */
        int oflag;             /* mq: O_RDONLY | O_WRONLY | O_RDWR [| O_NONBLOCK] */
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

/* In the child: the queue, in the exporter's IPC namespace, as its user. */
static int open_queue(const OpenJob *j, int *ret_fd) {
        mqd_t q;
        int r;

        if (setns(j->pidfd, CLONE_NEWIPC) < 0)
                return -errno;
        /* The same ids and capabilities as the exporter's own programs
         * (sandbox.h's order; the bounding set, no_new_privs and seccomp
         * only matter across an execve, which this child never does). */
        if (setgroups(0, NULL) < 0)
                return -errno;
        if (j->info->has_user &&
            (setresgid(j->info->gid, j->info->gid, j->info->gid) < 0 ||
             setresuid(j->info->uid, j->info->uid, j->info->uid) < 0))
                return -errno;
        r = caps_apply(j->info->caps);
        if (r < 0)
                return r;
        /* Never O_CREAT: the exporter creates its queue, with its mode. */
        q = mq_open(j->queue, j->oflag);
        if (q == (mqd_t) -1)
                return -errno;
        *ret_fd = (int) q;
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
                r = j->shm ? make_memfd(j, &fd) : open_queue(j, &fd);
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
                j = (OpenJob){ .info = &info, .pidfd = owner->pidfd.fd, .shm = true, .label = label,
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
        return run_in_exporter(&(OpenJob){ .info = &info, .pidfd = owner->pidfd.fd, .queue = e->mq, .oflag = oflag },
                               ret_fd);
}

static Export *find_export(Container *c, const char *name) {
        for (size_t i = 0; i < c->n_exports; i++)
                if (streq(c->exports[i].name, name))
                        return &c->exports[i];
        return NULL;
}

static void audit_open(Broker *b, const Container *from, const char *to, const char *op, const char *object,
                       bool allow, const char *reason) {
        broker_audit(b, &(AuditEvent){ .from = from, .to = to, .kind = "ipc", .op = op, .object = object,
                                       .allow = allow, .rule = "-", .reason = reason });
}

void broker_open_request(Broker *b, Client *cl, const ShuttleMsg *m) {
        bool shm = m->type == SHUTTLE_MSG_OPEN_SHM;
        const char *op = shm ? "open-shm" : "open-mq";
        char cname[SHUTTLE_NAME_MAX + 1], ename[SHUTTLE_NAME_MAX + 1];
        IpcGrant grant = {};
        ShuttleMsg reply;
        Container *owner;
        Export *e;
        int fd = -1, r;

        /* The decoder checked SERVICE already. */
        if (shuttle_service_split(m->service, cname, ename) < 0) {
                (void) broker_client_reply(b, cl, m->id, -EINVAL, NULL);
                return;
        }
        owner = container_find(b, cname);
        if (!owner) {
                /* Before any decision: a program whose own objects are named
                 * like "PostgreSQL.1234" gets ENOENT, and the shim then
                 * leaves the name to the real call, instead of EACCES from
                 * a default-deny policy for a container that does not exist. */
                audit_open(b, cl->container, cname, op, m->service, false, "no such container");
                (void) broker_client_reply(b, cl, m->id, -ENOENT, "no such container");
                return;
        }
        if (owner == cl->container)
                /* Its own export: the owner reaches the object (for shm, the
                 * only way to) with no rule needed. */
                audit_open(b, cl->container, owner->name, op, m->service, true, "a container's own export");
        else if (!broker_decide_ipc_type(b, cl->container, owner, ename, op, shm ? POLICY_IPC_SHM : POLICY_IPC_MQ,
                                         &grant)) {
                /* Decided before looking at the export, as CONNECT is: a
                 * denied container learns nothing about what exists. */
                (void) broker_client_reply(b, cl, m->id, -EACCES, "denied by policy");
                return;
        }
        /* max_open (grant.limit) cannot apply: a descriptor handed out is
         * never seen again, so it cannot be counted (shuttle-policy(5)). */

        e = find_export(owner, ename);
        if (!e || (shm ? e->shm_size == 0 : !e->mq)) {
                /* No such export, or one of the other kind: shared memory
                 * and queues are separate name spaces, as in POSIX. */
                (void) broker_client_reply(b, cl, m->id, -ENOENT,
                                           shm ? "no such shared-memory export" : "no such message-queue export");
                return;
        }
        r = shm ? open_shm(b, owner, e, m->flags, &fd) : open_mq(b, owner, e, m->flags, &fd);
        if (r < 0) {
                if (r != -ENOENT && r != -EACCES)
                        log_warning_errno(r, "Cannot open %s for '%s': %m", m->service, cl->container->qname);
                (void) broker_client_reply(b, cl, m->id, r, NULL);
                return;
        }
        /* Invariant 7: after the yes, the broker steps aside. */
        shuttle_msg_opened(&reply, m->id);
        (void) broker_client_send(b, cl, &reply, fd);
}
