/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A command in a running container through its zygote (zygote.h): the
 * zygote started through exec's join path (exec.c), requests to it, and
 * its reports checked as exec's are. */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/macro.h"
#include "runtime/exec.h"
#include "runtime/exec-internal.h"
#include "runtime/zygote.h"

/* How long a zygote and its child may take to answer a request (they are
 * in the container: one that does not answer must not hold the caller). */
#define ZYGOTE_REPLY_TIMEOUT_SEC 2

/* The pid, as we see it, of the process a pidfd refers to. */
static int pidfd_pid(int pidfd, pid_t *ret) {
        _cleanup_close_ int fd = -1;
        char path[64], buf[1024];
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        for (const char *p = buf; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strneq(p, "Pid:", 4)) {
                        long v = strtol(p + 4, NULL, 10);
                        if (v <= 0) /* gone (-1), or not in our pid namespace (0) */
                                return -ESRCH;
                        *ret = (pid_t) v;
                        return 0;
                }
        return -EBADMSG;
}

static int send_request(int sock, const void *buf, size_t len, const int *fds, size_t n_fds) {
        char control[CMSG_SPACE(ZYGOTE_FDS_MAX * sizeof(int))] = {};
        struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                             .msg_controllen = CMSG_SPACE(n_fds * sizeof(int)) };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        ssize_t n;

        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(n_fds * sizeof(int));
        memcpy(CMSG_DATA(cm), fds, n_fds * sizeof(int));
        do
                n = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        return (size_t) n == len ? 0 : -EIO;
}

/* The request to z: *ret_sock is the report socket of the process it
 * forks.  -EINVAL, -E2BIG, -ENOMEM: not sent; another negative errno:
 * the zygote does not take it (*ret_broken, msg). */
static int zygote_send(const StateInfo *info, const ContainerZygote *z, const ExecConfig *c, const int stdio[3],
                       const int *cgroup_fds, size_t n_cgroup_fds, uint32_t flags, int *ret_sock,
                       bool *ret_broken, ExecResult *result) {
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *buf = NULL;
        int pair[2] = { -1, -1 }, fds[ZYGOTE_FDS_MAX], r;
        ZygoteRequest h = { .magic = ZYGOTE_MAGIC, .flags = flags };
        size_t len = sizeof(h), n_fds = 0;
        struct timeval tv = { .tv_sec = ZYGOTE_REPLY_TIMEOUT_SEC };

        *ret_broken = false;
        /* What the zygote took on once is what every request gets. */
        if (!c->argv || !c->argv[0] || !stdio || c->tty || c->has_user || c->workdir || c->env_exact ||
            c->seccomp || c->has_exec_fd || c->cgroups)
                return -EINVAL;
        if (4 + n_cgroup_fds + c->n_pass_fds > ZYGOTE_FDS_MAX || (c->n_pass_fds > 0 && !c->pass_fds))
                return -E2BIG;
        env = exec_build_env(info, c, !info->has_user || info->uid == 0);
        if (!env)
                return -ENOMEM;

        /* The request: header, argv, env. */
        for (char **v = c->argv; *v; v++, h.n_argv++)
                len += strlen(*v) + 1;
        for (char **v = env; *v; v++, h.n_env++)
                len += strlen(*v) + 1;
        if (len > ZYGOTE_REQUEST_MAX || h.n_argv > ZYGOTE_ARGS_MAX || h.n_env > ZYGOTE_ARGS_MAX)
                return -E2BIG;
        buf = malloc(len);
        if (!buf)
                return -ENOMEM;
        h.n_cgroup_fds = (uint32_t) n_cgroup_fds;
        h.n_pass_fds = (uint32_t) c->n_pass_fds;
        h.strings_len = (uint32_t) (len - sizeof(h));
        memcpy(buf, &h, sizeof(h));
        {
                size_t off = sizeof(h);
                for (char **v = c->argv; *v; v++)
                        off += (size_t) stpcpy(buf + off, *v) - (size_t) (buf + off) + 1;
                for (char **v = env; *v; v++)
                        off += (size_t) stpcpy(buf + off, *v) - (size_t) (buf + off) + 1;
        }

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return -errno;
        (void) setsockopt(pair[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        fds[n_fds++] = pair[1];
        for (int i = 0; i < 3; i++)
                fds[n_fds++] = stdio[i];
        for (size_t i = 0; i < n_cgroup_fds; i++)
                fds[n_fds++] = cgroup_fds[i];
        for (size_t i = 0; i < c->n_pass_fds; i++)
                fds[n_fds++] = c->pass_fds[i];
        r = send_request(z->sock, buf, len, fds, n_fds);
        safe_close(pair[1]);
        if (r < 0) {
                /* -EPIPE, -ECONNRESET: the zygote is gone; -EAGAIN: it
                 * does not read.  Either way the caller starts another. */
                *ret_broken = true;
                exec_set_message(result, "the container's zygote does not take requests: %s", strerror(-r));
                safe_close(pair[0]);
                return r;
        }
        *ret_sock = pair[0];
        return 0;
}

/* The zygote's claim (pidfd, as it sees the pid) checked: our child
 * (CLONE_PARENT), in the container's pid namespace, and not the zygote
 * itself; *ret_pidfd is ours for it. */
static int check_claim(const StateInfo *info, const ContainerZygote *z, int pidfd, pid_t *ret_pid, int *ret_pidfd) {
        pid_t pid = 0;
        int k = pidfd_pid(pidfd, &pid);

        if (k >= 0 && pid == z->pid)
                k = -EBADMSG;
        if (k >= 0)
                k = exec_check_command(pid, info->init_pid, ret_pidfd);
        if (k >= 0)
                *ret_pid = pid;
        return k;
}

/* A failure after the request was taken: the zygote's own report that it
 * could not fork is an answer; anything else (no answer, a bad one, a
 * claim that does not check out) is a zygote not to be used again. */
static void answer_failed(int r, const ExecMessage *error, int pidfd, bool *ret_broken, ExecResult *result) {
        *ret_broken = !(error->type == EXEC_MSG_ERROR && pidfd < 0);
        if (error->type != 0 && error->type != EXEC_MSG_EXEC_FAILED)
                exec_set_message(result, "%s", error->text);
        else
                exec_set_message(result, "the container's zygote did not start the command: %s",
                                 r == -EAGAIN ? "no answer in time" : strerror(-r));
}

static void kill_reap(int pidfd) {
        if (pidfd < 0)
                return;
        (void) pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
        (void) waitid(P_PIDFD, (id_t) pidfd, &(siginfo_t){}, WEXITED);
}

/* What the zygote's report comes to (r: reading it; pidfd: the claim, if
 * any; error: a message that came with it): 0 with *ret_pid and
 * *ret_pidfd, ours for the command, once the claim checks out; else a
 * negative errno, the command (if any) gone and the reason in result. */
static int settle_claim(const StateInfo *info, const ContainerZygote *z, int r, int pidfd, const ExecMessage *error,
                        pid_t *ret_pid, int *ret_pidfd, bool *ret_broken, ExecResult *result) {
        _cleanup_close_ int cmd_pidfd = -1;
        pid_t pid = 0;

        if (pidfd >= 0) {
                int k = check_claim(info, z, pidfd, &pid, &cmd_pidfd);
                if (k < 0 && r >= 0)
                        r = k;
        }
        if (r >= 0 && error->type == EXEC_MSG_ERROR) {
                /* It failed before its exec and is exiting. */
                (void) waitid(P_PIDFD, (id_t) cmd_pidfd, &(siginfo_t){}, WEXITED);
                exec_set_message(result, "%s", error->text);
                return exec_message_errno(error, EIO);
        }
        if (r < 0) {
                kill_reap(cmd_pidfd);
                answer_failed(r, error, pidfd, ret_broken, result);
                return r;
        }
        *ret_pid = pid;
        *ret_pidfd = TAKE_FD(cmd_pidfd);
        return 0;
}

int container_zygote_spawn(const StateInfo *info, const ContainerZygote *z, const ExecConfig *c, const int stdio[3],
                           const int *cgroup_fds, size_t n_cgroup_fds, pid_t *ret_pid, int *ret_pidfd,
                           bool *ret_broken, char *msg, size_t msg_size) {
        _cleanup_close_ int pidfd = -1, cmd_pidfd = -1, sock = -1;
        pid_t pids[2] = { 0, 0 }, pid = 0;
        ExecMessage error = {};
        ExecResult result = {};
        int tty = -1, r;

        if (msg && msg_size > 0)
                msg[0] = '\0';
        r = zygote_send(info, z, c, stdio, cgroup_fds, n_cgroup_fds, 0, &sock, ret_broken, &result);
        if (r < 0)
                goto out;

        r = exec_read_messages(sock, false, pids, &tty, &pidfd, &error);
        safe_close(tty);
        if (r >= 0 && pidfd < 0)
                r = error.type != 0 ? exec_message_errno(&error, EIO) : -EBADMSG;
        r = settle_claim(info, z, r, pidfd, &error, &pid, &cmd_pidfd, ret_broken, &result);
        if (r < 0)
                goto out;
        if (error.type == EXEC_MSG_EXEC_FAILED)
                exec_set_message(&result, "failed to execute %s", error.text);
        *ret_pid = pid;
        *ret_pidfd = TAKE_FD(cmd_pidfd);
        r = 0;
out:
        if (msg && msg_size > 0)
                snprintf(msg, msg_size, "%s", result.message);
        return r;
}

int container_zygote_prepare(const StateInfo *info, const ContainerZygote *z, const ExecConfig *c,
                             const int stdio[3], const int *cgroup_fds, size_t n_cgroup_fds, ZygoteChild *ret,
                             bool *ret_broken, char *msg, size_t msg_size) {
        _cleanup_close_ int pidfd = -1, cmd_pidfd = -1, sock = -1;
        ExecMessage error = {};
        ExecResult result = {};
        pid_t pid = 0;
        int r;

        if (msg && msg_size > 0)
                msg[0] = '\0';
        r = zygote_send(info, z, c, stdio, cgroup_fds, n_cgroup_fds, ZYGOTE_WAIT_GO, &sock, ret_broken, &result);
        if (r < 0)
                goto out;

        /* The zygote's report (its child's, that it could not set itself
         * up, may come first): up to the pidfd, not to the end, which is
         * the exec that waits for us. */
        for (;;) {
                ExecMessage m;
                size_t n_fds = 0;
                int fd = -1;
                ssize_t n = fd_recv_upto(sock, &m, sizeof(m), &fd, 1, &n_fds, 0);

                if (n == -EINTR)
                        continue;
                if (n <= 0) {
                        r = n < 0 ? (int) n : error.type != 0 ? exec_message_errno(&error, EIO) : -EBADMSG;
                        break;
                }
                if (n != (ssize_t) sizeof(m) || (n_fds == 1) != (m.type == EXEC_MSG_PIDFD) ||
                    (m.type != EXEC_MSG_PIDFD && m.type != EXEC_MSG_ERROR)) {
                        safe_close(fd);
                        r = -EBADMSG;
                        break;
                }
                m.text[sizeof(m.text) - 1] = '\0';
                if (m.type == EXEC_MSG_PIDFD) {
                        pidfd = fd;
                        break;
                }
                if (error.type == 0)
                        error = m;
        }
        r = settle_claim(info, z, r, pidfd, &error, &pid, &cmd_pidfd, ret_broken, &result);
        if (r < 0)
                goto out;
        *ret = (ZygoteChild){ .pid = pid, .pidfd = TAKE_FD(cmd_pidfd), .sock = TAKE_FD(sock) };
        r = 0;
out:
        if (msg && msg_size > 0)
                snprintf(msg, msg_size, "%s", result.message);
        return r;
}

int container_zygote_go(ZygoteChild *p, pid_t *ret_pid, int *ret_pidfd, char *msg, size_t msg_size) {
        _cleanup_close_ int cmd_pidfd = TAKE_FD(p->pidfd), sock = TAKE_FD(p->sock);
        pid_t pids[2] = { 0, 0 }, pid = p->pid;
        ExecMessage error = {};
        ExecResult result = {};
        int tty = -1, r;
        bool sent;

        if (msg && msg_size > 0)
                msg[0] = '\0';
        *p = ZYGOTE_CHILD_NULL;
        if (cmd_pidfd < 0 || sock < 0)
                return -EBADF;
        /* Refused only by a child that is gone (killed meanwhile, or
         * failed to set itself up: then its report is there to read). */
        sent = send(sock, "g", 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1;
        r = exec_read_messages(sock, false, pids, &tty, NULL, &error);
        safe_close(tty);
        if (r >= 0 && error.type == EXEC_MSG_ERROR) {
                r = exec_message_errno(&error, EIO);
                exec_set_message(&result, "%s", error.text);
        } else if (r >= 0 && !sent) {
                r = -ESRCH;
                exec_set_message(&result, "the command's process ended before it was let start");
        } else if (r < 0)
                exec_set_message(&result, "the command's process did not start: %s",
                                 r == -EAGAIN ? "no answer in time" : strerror(-r));
        if (r < 0) {
                kill_reap(cmd_pidfd);
                goto out;
        }
        if (error.type == EXEC_MSG_EXEC_FAILED)
                exec_set_message(&result, "failed to execute %s", error.text);
        *ret_pid = pid;
        *ret_pidfd = TAKE_FD(cmd_pidfd);
        r = 0;
out:
        if (msg && msg_size > 0)
                snprintf(msg, msg_size, "%s", result.message);
        return r;
}

void container_zygote_discard(ZygoteChild *p) {
        /* SIGKILL first: it must not see its socket close and run on. */
        kill_reap(p->pidfd);
        safe_close(p->pidfd);
        safe_close(p->sock);
        *p = ZYGOTE_CHILD_NULL;
}

int container_zygote_start(const StateInfo *info, const char *state_dir, int program_fd, uint64_t nofile_cur,
                           ContainerZygote *ret, char *msg, size_t msg_size) {
        char *argv[] = { (char *) "shuttle-zygote", NULL };
        _cleanup_close_ int null = -1, pidfd = -1;
        int pair[2] = { -1, -1 }, stdio[3], r;
        ExecConfig cfg;
        ExecMessage error = {};
        ExecResult result = {};
        siginfo_t si = {};
        pid_t pid = 0;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return -errno;
        null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0) {
                r = -errno;
                goto out;
        }
        stdio[0] = stdio[1] = stdio[2] = null;
        cfg = (ExecConfig){ .argv = argv, .die_with_caller = true, .nofile_cur = nofile_cur,
                            .pass_fds = &pair[1], .n_pass_fds = 1, .has_exec_fd = true,
                            .exec_fd = program_fd };
        r = exec_start(info, state_dir, &cfg, stdio, &pid, &pidfd, NULL, &error, &result);
        if (r >= 0 && error.type == EXEC_MSG_EXEC_FAILED) {
                (void) pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
                (void) waitid(P_PIDFD, (id_t) pidfd, &si, WEXITED);
                r = exec_message_errno(&error, ENOEXEC);
                exec_set_message(&result, "failed to execute shuttle-zygote: %s", error.text);
        }
        if (msg && msg_size > 0)
                snprintf(msg, msg_size, "%s", result.message);
        if (r < 0)
                goto out;
        /* It only reads: what it might write is never looked at. */
        (void) shutdown(pair[0], SHUT_RD);
        *ret = (ContainerZygote){ .pid = pid, .pidfd = TAKE_FD(pidfd), .sock = TAKE_FD(pair[0]) };
        r = 0;
out:
        safe_close(pair[0]);
        safe_close(pair[1]);
        return r;
}

void container_zygote_kill(ContainerZygote *z) {
        z->sock = safe_close(z->sock);
        if (z->pidfd >= 0)
                (void) pidfd_send_signal(z->pidfd, SIGKILL, NULL, 0);
}

int container_zygote_reap(const ContainerZygote *z) {
        siginfo_t si = {};

        if (z->pidfd < 0)
                return 1;
        if (waitid(P_PIDFD, (id_t) z->pidfd, &si, WEXITED | WNOHANG) < 0)
                return -errno;
        return si.si_pid != 0;
}
