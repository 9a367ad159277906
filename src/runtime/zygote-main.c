/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttle-zygote: the pre-forked helper inside a container that makes an
 * invocation one fork (zygote.h).  The broker starts it through exec's
 * join path, so it is in the container's namespaces, cgroup and sandbox
 * from its first instruction, and executes it from a descriptor of the
 * host's file: nothing needs to be in the container's file system.  It
 * holds its end of the socket pair (descriptor 3) and nothing else; it
 * reads requests from it and never writes to it.
 *
 * Built from this file alone and linked statically (libc only): it runs
 * whatever the container's root file system is. */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/sched.h>

#include "runtime/zygote.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

typedef struct Request {
        ZygoteRequest h;
        char *argv[ZYGOTE_ARGS_MAX + 1];
        char *env[ZYGOTE_ARGS_MAX + 1];
        int fds[ZYGOTE_FDS_MAX];
        size_t n_fds;
} Request;

static char buf[ZYGOTE_REQUEST_MAX];
static Request req;

static void report(int fd, int type, int err, pid_t pid, int pidfd, const char *fmt, ...) {
        ExecMessage m = { .type = type, .err = err, .pid = pid };
        char control[CMSG_SPACE(sizeof(int))] = {};
        struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        va_list ap;

        if (fmt) {
                va_start(ap, fmt);
                vsnprintf(m.text, sizeof(m.text), fmt, ap);
                va_end(ap);
        }
        if (pidfd >= 0) {
                struct cmsghdr *c;
                mh.msg_control = control;
                mh.msg_controllen = sizeof(control);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &pidfd, sizeof(int));
        }
        (void) sendmsg(fd, &mh, MSG_NOSIGNAL);
}

static void close_fds(Request *r) {
        for (size_t i = 0; i < r->n_fds; i++)
                close(r->fds[i]);
        r->n_fds = 0;
}

/* One packet: the header, the strings, the descriptors; 1 if it is
 * well-formed, 0 if not (its descriptors are closed), -1 at the end. */
static int read_request(Request *r) {
        char control[CMSG_SPACE(ZYGOTE_FDS_MAX * sizeof(int))];
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                             .msg_controllen = sizeof(control) };
        size_t off, want;
        ssize_t n;

        r->n_fds = 0;
        do
                n = recvmsg(ZYGOTE_SOCKET_FD, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
                return -1;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                        for (size_t i = 0; i < k; i++) {
                                int fd;
                                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                                if (r->n_fds < ZYGOTE_FDS_MAX)
                                        r->fds[r->n_fds++] = fd;
                                else
                                        close(fd);
                        }
                }
        if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t) n < sizeof(ZygoteRequest))
                goto bad;
        memcpy(&r->h, buf, sizeof(r->h));
        if (r->h.magic != ZYGOTE_MAGIC || r->h.n_argv == 0 || r->h.n_argv > ZYGOTE_ARGS_MAX ||
            r->h.n_env > ZYGOTE_ARGS_MAX || (r->h.flags & ~ZYGOTE_WAIT_GO) || r->h.strings_len != (size_t) n - sizeof(ZygoteRequest) ||
            (size_t) r->h.n_cgroup_fds + r->h.n_pass_fds + 4 != r->n_fds)
                goto bad;
        /* Every string NUL-terminated inside the packet. */
        off = sizeof(ZygoteRequest);
        want = (size_t) r->h.n_argv + r->h.n_env;
        for (size_t i = 0; i < want; i++) {
                char *s = buf + off, *end = memchr(s, '\0', (size_t) n - off);
                if (!end)
                        goto bad;
                if (i < r->h.n_argv)
                        r->argv[i] = s;
                else
                        r->env[i - r->h.n_argv] = s;
                off = (size_t) (end - buf) + 1;
        }
        if (off != (size_t) n)
                goto bad;
        r->argv[r->h.n_argv] = NULL;
        r->env[r->h.n_env] = NULL;
        return 1;
bad:
        close_fds(r);
        return 0;
}

/* The child: the invocation's cgroups, its descriptors, exec. */
_Noreturn static void child(Request *r) {
        int rep = r->fds[0], *stdio = r->fds + 1, *cg = r->fds + 4, *pass = cg + r->h.n_cgroup_fds;
        int lowest = 3 + (int) r->h.n_pass_fds, tmp[ZYGOTE_FDS_MAX];
        unsigned n_pass = r->h.n_pass_fds;
        sigset_t none;

        close(ZYGOTE_SOCKET_FD);
        /* Born in the zygote's cgroup (the container's); into the
         * invocation's before anything else runs. */
        for (unsigned i = 0; i < r->h.n_cgroup_fds; i++)
                if (write(cg[i], "0", 1) != 1) {
                        report(rep, EXEC_MSG_ERROR, errno, 0, -1, "joining the invocation's cgroup: %s",
                               strerror(errno));
                        _exit(125);
                }
        /* The report socket above the range, copies of everything else
         * above it too, then each into place (dup2 clears close-on-exec). */
        if (rep < lowest && (rep = fcntl(rep, F_DUPFD_CLOEXEC, lowest)) < 0)
                _exit(125);
        for (unsigned i = 0; i < 3 + n_pass; i++) {
                tmp[i] = fcntl(i < 3 ? stdio[i] : pass[i - 3], F_DUPFD_CLOEXEC, lowest);
                if (tmp[i] < 0) {
                        report(rep, EXEC_MSG_ERROR, errno, 0, -1, "setting up the command's descriptors: %s",
                               strerror(errno));
                        _exit(125);
                }
        }
        for (unsigned i = 0; i < 3 + n_pass; i++)
                if (dup2(tmp[i], (int) i) < 0) {
                        report(rep, EXEC_MSG_ERROR, errno, 0, -1, "setting up the command's descriptors: %s",
                               strerror(errno));
                        _exit(125);
                }
        /* Nothing else: not the cgroup files, not the copies. */
        if (rep > lowest)
                (void) syscall(SYS_close_range, (unsigned) lowest, (unsigned) rep - 1, 0);
        (void) syscall(SYS_close_range, (unsigned) rep + 1, ~0U, 0);

        /* The zygote sets no signal disposition; the mask it was born
         * with (none blocked) is put back anyway. */
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        (void) setsid();
        /* Our parent is the broker (CLONE_PARENT): if it dies, so do we. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1)
                _exit(125);
        /* Prepared: nothing of the command happens before the caller says
         * so (its decision's record is on disk). */
        if (r->h.flags & ZYGOTE_WAIT_GO) {
                char go = 0;
                ssize_t k;

                do
                        k = read(rep, &go, 1);
                while (k < 0 && errno == EINTR);
                if (k != 1 || go != 'g')
                        _exit(125);
        }

        environ = r->env;
        execvp(r->argv[0], r->argv);
        int e = errno;
        report(rep, EXEC_MSG_EXEC_FAILED, e, 0, -1, "%s: %s", r->argv[0], strerror(e));
        _exit(e == ENOENT ? 127 : 126);
}

int main(void) {
        /* Not dumpable: a process of the container needs CAP_SYS_PTRACE to
         * attach to us or our children before they execute (as for exec's
         * command). */
        if (prctl(PR_SET_DUMPABLE, 0) < 0)
                return 125;
        /* Signals that would stop us are the container's to send; SIGCHLD
         * never comes (our children are the broker's). */
        for (;;) {
                int pidfd = -1, k = read_request(&req);
                long pid;

                if (k < 0)
                        return 0; /* the broker closed its end: it is done with us */
                if (k == 0)
                        continue;
                /* CLONE_PARENT: the command is the broker's child.  Not
                 * clone3(): the container's seccomp profile answers ENOSYS. */
#if defined(__s390__) || defined(__CRIS__)
                pid = syscall(SYS_clone, NULL, CLONE_PARENT | CLONE_PIDFD | SIGCHLD, &pidfd, NULL, NULL);
#else
                pid = syscall(SYS_clone, CLONE_PARENT | CLONE_PIDFD | SIGCHLD, NULL, &pidfd, NULL, NULL);
#endif
                if (pid == 0)
                        child(&req);
                if (pid < 0)
                        report(req.fds[0], EXEC_MSG_ERROR, errno, 0, -1, "creating the command's process: %s",
                               strerror(errno));
                else {
                        report(req.fds[0], EXEC_MSG_PIDFD, 0, (pid_t) pid, pidfd, NULL);
                        close(pidfd);
                }
                close_fds(&req);
        }
}
