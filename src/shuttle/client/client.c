/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/macro.h"
#include "shuttle/client/client.h"
#include "shuttle/client/client-internal.h"
#include "shuttle/client/protocol.h"

/* Library code that will run inside arbitrary programs (via the shim):
 * libc and src/common only, no logging, no global state. */

struct ShuttleClient {
        pthread_mutex_t lock;
        int fd;
        uint32_t next_id;
        bool broken;
        bool welcomed;
        uint32_t version;
        char name[SHUTTLE_NAME_MAX + 1];
        char last_message[SHUTTLE_MESSAGE_MAX + 1];
};

int shuttle_client_new_from_fd(int fd, ShuttleClient **ret) {
        ShuttleClient *c;

        if (fd < 0 || !ret)
                return -EINVAL;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        if (pthread_mutex_init(&c->lock, NULL) != 0) {
                free(c);
                return -ENOMEM;
        }
        c->fd = fd;
        c->next_id = 1;
        *ret = c;
        return 0;
}

int shuttle_client_open(const char *path, ShuttleClient **ret) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        size_t n;
        int r;

        if (!ret)
                return -EINVAL;
        if (!path) {
                /* secure_getenv: a setuid program inside the container must
                 * not be steered to another socket by its caller. */
                path = secure_getenv(SHUTTLE_BROKER_SOCKET_ENV);
                if (!path || !*path)
                        path = SHUTTLE_BROKER_SOCKET;
        }
        n = strlen(path);
        if (n == 0)
                return -EINVAL;
        if (n >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, n);

        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (const struct sockaddr *) &sa, offsetof(struct sockaddr_un, sun_path) + n + 1) < 0)
                return -errno;

        r = shuttle_client_new_from_fd(fd, ret);
        if (r < 0)
                return r;
        TAKE_FD(fd);
        return 0;
}

ShuttleClient *shuttle_client_free(ShuttleClient *c) {
        if (!c)
                return NULL;
        safe_close(c->fd);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
}

void client_free_keep_fd(ShuttleClient *c) {
        if (!c)
                return;
        pthread_mutex_destroy(&c->lock);
        free(c);
}

/* The stream is out of step with the broker (or gone): refuse everything
 * from now on rather than risk pairing a later request with a stale
 * answer. */
static int client_break(ShuttleClient *c, int r) {
        c->broken = true;
        (void) shutdown(c->fd, SHUT_RDWR);
        return r;
}

static uint32_t client_next_id(ShuttleClient *c) {
        uint32_t id = c->next_id++;

        if (c->next_id == 0) /* 0 is reserved for the broker's farewell */
                c->next_id = 1;
        return id;
}

static void close_all(int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                fds[i] = safe_close(fds[i]);
}

/* Sends req and waits for its answer.  Returns 0 with *ans (whose strings
 * point into buf, SHUTTLE_RECV_BUF_SIZE bytes) being the request's success
 * reply and its descriptors in ret_fds; or the negative status the broker
 * answered; or -EPROTO / -ECONNRESET / a socket error.  Called locked. */
/* The two halves of client_call(), for requests sent back to back. */
static int client_send_request(ShuttleClient *c, ShuttleMsg *req, const int *fds, size_t n_fds) {
        int r;

        if (c->broken)
                return -ENOTCONN;
        c->last_message[0] = '\0';
        req->id = client_next_id(c);
        r = shuttle_msg_send(c->fd, req, fds, n_fds);
        if (r == -EPIPE || r == -ECONNRESET)
                return client_break(c, -ECONNRESET);
        /* < 0 otherwise: an invalid request (e.g. a name too long) was
         * refused before anything was sent: the stream is still in step. */
        return r < 0 ? r : 0;
}

static int client_recv_answer(ShuttleClient *c, const ShuttleMsg *req, uint8_t *buf, ShuttleMsg *ans,
                              int ret_fds[static SHUTTLE_FDS_MAX], size_t *ret_n_fds) {
        int got[SHUTTLE_FDS_MAX];
        size_t n_got = 0;
        uint16_t want = shuttle_msg_success_reply(req->type);
        int r;

        r = shuttle_msg_recv(c->fd, buf, SHUTTLE_RECV_BUF_SIZE, ans, got, SHUTTLE_FDS_MAX, &n_got,
                             SHUTTLE_DECODE_REPLY, NULL);
        if (r == 0 || r == -ECONNRESET)
                return client_break(c, -ECONNRESET);
        if (r == -EINTR || r == -EAGAIN)
                /* The answer is still coming; we cannot wait for it and
                 * must not mistake it for the next one's. */
                return client_break(c, r);
        if (r < 0)
                /* Malformed, or wrong fd count for its type: everything
                 * that arrived has been closed already. */
                return client_break(c, -EPROTO);

        if (ans->type == SHUTTLE_MSG_REPLY && ans->message)
                strncpy(c->last_message, ans->message, sizeof(c->last_message) - 1);

        if (ans->id == 0 && ans->type == SHUTTLE_MSG_REPLY) {
                /* The broker's farewell before it drops us. */
                close_all(got, n_got);
                return client_break(c, ans->status < 0 ? ans->status : -EPROTO);
        }
        if (ans->id != req->id) {
                close_all(got, n_got);
                return client_break(c, -EPROTO);
        }
        if (ans->type == SHUTTLE_MSG_REPLY && ans->status < 0)
                return ans->status; /* a refusal; REPLY carries no fds */
        if (ans->type != want) {
                /* E.g. "success" with no descriptor for a CONNECT. */
                close_all(got, n_got);
                return client_break(c, -EPROTO);
        }

        memcpy(ret_fds, got, n_got * sizeof(int));
        *ret_n_fds = n_got;
        return 0;
}

static int client_call(ShuttleClient *c, ShuttleMsg *req, const int *fds, size_t n_fds, uint8_t *buf,
                       ShuttleMsg *ans, int ret_fds[static SHUTTLE_FDS_MAX], size_t *ret_n_fds) {
        int r = client_send_request(c, req, fds, n_fds);

        if (r < 0)
                return r;
        return client_recv_answer(c, req, buf, ans, ret_fds, ret_n_fds);
}

/* The broker's WELCOME: its version and our container's name. */
static int client_welcomed(ShuttleClient *c, const ShuttleMsg *ans) {
        if (ans->version != SHUTTLE_PROTOCOL_VERSION)
                return client_break(c, -EPROTONOSUPPORT);
        c->version = ans->version;
        /* Validated by the decoder: at most SHUTTLE_NAME_MAX bytes. */
        strcpy(c->name, ans->name);
        c->welcomed = true;
        return 0;
}

static int client_hello_locked(ShuttleClient *c) {
        uint8_t buf[SHUTTLE_RECV_BUF_SIZE];
        ShuttleMsg req, ans;
        int fds[SHUTTLE_FDS_MAX];
        size_t n_fds = 0;
        int r;

        if (c->welcomed)
                return 0;
        shuttle_msg_hello(&req, 0);
        r = client_call(c, &req, NULL, 0, buf, &ans, fds, &n_fds);
        if (r < 0)
                return r;
        return client_welcomed(c, &ans);
}

/* A first request on a new connection goes right behind its HELLO, without
 * waiting for the WELCOME: one round trip, not two. */
static int client_hello_and_call(ShuttleClient *c, ShuttleMsg *req, uint8_t *buf, ShuttleMsg *ans,
                                 int ret_fds[static SHUTTLE_FDS_MAX], size_t *ret_n_fds) {
        uint8_t hbuf[SHUTTLE_RECV_BUF_SIZE];
        ShuttleMsg hello, hans;
        int hfds[SHUTTLE_FDS_MAX];
        size_t n_hfds = 0;
        int r, sent;

        shuttle_msg_hello(&hello, 0);
        r = client_send_request(c, &hello, NULL, 0);
        if (r < 0)
                return r;
        sent = client_send_request(c, req, NULL, 0);
        r = client_recv_answer(c, &hello, hbuf, &hans, hfds, &n_hfds);
        if (r >= 0)
                r = client_welcomed(c, &hans);
        if (r < 0)
                /* The answer to req (if sent) would be out of step. */
                return c->broken ? r : client_break(c, r);
        if (sent < 0)
                return sent;
        return client_recv_answer(c, req, buf, ans, ret_fds, ret_n_fds);
}

int shuttle_client_hello(ShuttleClient *c, uint32_t *ret_version, char *ret_name) {
        int r;

        if (!c)
                return -EINVAL;
        pthread_mutex_lock(&c->lock);
        r = client_hello_locked(c);
        if (r >= 0) {
                if (ret_version)
                        *ret_version = c->version;
                if (ret_name)
                        strcpy(ret_name, c->name);
        }
        pthread_mutex_unlock(&c->lock);
        return r;
}

/* One request and its answer, with the lock held and hello said first:
 * for every request that gets one answer.  ans's strings point into buf. */
static int client_roundtrip(ShuttleClient *c, ShuttleMsg *req, uint8_t *buf, ShuttleMsg *ans,
                            int fds[static SHUTTLE_FDS_MAX], size_t *n_fds) {
        int r;

        pthread_mutex_lock(&c->lock);
        if (!c->welcomed)
                r = client_hello_and_call(c, req, buf, ans, fds, n_fds);
        else
                r = client_call(c, req, NULL, 0, buf, ans, fds, n_fds);
        pthread_mutex_unlock(&c->lock);
        return r;
}

/* A request answered by a message carrying one descriptor. */
static int client_fd_request(ShuttleClient *c, ShuttleMsg *req, int *ret_fd) {
        uint8_t buf[SHUTTLE_RECV_BUF_SIZE];
        ShuttleMsg ans;
        int fds[SHUTTLE_FDS_MAX];
        size_t n_fds = 0;
        int r;

        r = client_roundtrip(c, req, buf, &ans, fds, &n_fds);
        if (r < 0)
                return r;
        /* The decoder saw to it that the answer carries exactly one. */
        *ret_fd = fds[0];
        return 0;
}

/* A request answered by REPLY 0 alone. */
static int client_simple_request(ShuttleClient *c, ShuttleMsg *req) {
        uint8_t buf[SHUTTLE_RECV_BUF_SIZE];
        ShuttleMsg ans;
        int fds[SHUTTLE_FDS_MAX];
        size_t n_fds = 0;

        return client_roundtrip(c, req, buf, &ans, fds, &n_fds);
}

int shuttle_connect_service(ShuttleClient *c, const char *service, int *ret_fd) {
        ShuttleMsg req;

        if (!c || !service || !ret_fd)
                return -EINVAL;
        shuttle_msg_connect(&req, 0, service);
        return client_fd_request(c, &req, ret_fd);
}

int shuttle_send_signal(ShuttleClient *c, const char *container, const char *app, int signo) {
        ShuttleMsg req;

        if (!c || !container || !app)
                return -EINVAL;
        shuttle_msg_signal(&req, 0, container, app, signo);
        return client_simple_request(c, &req);
}

int shuttle_signal_pid(ShuttleClient *c, pid_t pid, int signo) {
        ShuttleMsg req;

        if (!c || pid < SHUTTLE_PID_BASE || signo < 0 || signo > SHUTTLE_SIGNAL_MAX)
                return -EINVAL;
        shuttle_msg_signal_pid(&req, 0, (int32_t) pid, signo, false, 0);
        return client_simple_request(c, &req);
}

int shuttle_sigqueue_pid(ShuttleClient *c, pid_t pid, int signo, int value) {
        ShuttleMsg req;

        if (!c || pid < SHUTTLE_PID_BASE || signo < 0 || signo > SHUTTLE_SIGNAL_MAX)
                return -EINVAL;
        shuttle_msg_signal_pid(&req, 0, (int32_t) pid, signo, true, value);
        return client_simple_request(c, &req);
}

static int client_resolve(ShuttleClient *c, const char *container, ShuttleNameKind what, const char *arg,
                          uint8_t *buf, ShuttleMsg *ans) {
        ShuttleMsg req;
        int fds[SHUTTLE_FDS_MAX];
        size_t n_fds = 0;

        shuttle_msg_resolve(&req, 0, container, what, arg);
        return client_roundtrip(c, &req, buf, ans, fds, &n_fds);
}

int shuttle_resolve_pid(ShuttleClient *c, const char *container, const char *app, pid_t *ret_pid) {
        uint8_t buf[SHUTTLE_RECV_BUF_SIZE];
        ShuttleMsg ans;
        int r;

        if (!c || !container || !app || !ret_pid)
                return -EINVAL;
        r = client_resolve(c, container, SHUTTLE_NAME_PID, app, buf, &ans);
        if (r < 0)
                return r;
        if (!shuttle_msg_has(&ans, SHUTTLE_ATTR_PID))
                return -EPROTO;
        *ret_pid = (pid_t) ans.pid;
        return 0;
}

int shuttle_resolve_service(ShuttleClient *c, const char *container, const char *service, char *ret_path) {
        uint8_t buf[SHUTTLE_RECV_BUF_SIZE];
        ShuttleMsg ans;
        int r;

        if (!c || !container || !service || !ret_path)
                return -EINVAL;
        r = client_resolve(c, container, SHUTTLE_NAME_SERVICE, service, buf, &ans);
        if (r < 0)
                return r;
        if (!shuttle_msg_has(&ans, SHUTTLE_ATTR_PATH))
                return -EPROTO;
        /* Validated by the decoder: at most SHUTTLE_PATH_MAX bytes. */
        strcpy(ret_path, ans.path);
        return 0;
}

int shuttle_resolve_host(ShuttleClient *c, const char *container, char *ret_address) {
        uint8_t buf[SHUTTLE_RECV_BUF_SIZE];
        ShuttleMsg ans;
        int r;

        if (!c || !container || !ret_address)
                return -EINVAL;
        r = client_resolve(c, container, SHUTTLE_NAME_HOST, NULL, buf, &ans);
        if (r < 0)
                return r;
        if (!shuttle_msg_has(&ans, SHUTTLE_ATTR_ADDRESS))
                return -EPROTO;
        /* Validated by the decoder: at most SHUTTLE_ADDRESS_MAX bytes. */
        strcpy(ret_address, ans.address);
        return 0;
}

int shuttle_open_shm(ShuttleClient *c, const char *service, unsigned flags, int *ret_fd) {
        ShuttleMsg req;

        if (!c || !service || !ret_fd)
                return -EINVAL;
        shuttle_msg_open(&req, SHUTTLE_MSG_OPEN_SHM, 0, service, flags);
        return client_fd_request(c, &req, ret_fd);
}

int shuttle_open_mq(ShuttleClient *c, const char *service, unsigned flags, int *ret_fd) {
        ShuttleMsg req;

        if (!c || !service || !ret_fd)
                return -EINVAL;
        shuttle_msg_open(&req, SHUTTLE_MSG_OPEN_MQ, 0, service, flags);
        return client_fd_request(c, &req, ret_fd);
}

int shuttle_open_fifo(ShuttleClient *c, const char *service, unsigned flags, int *ret_fd) {
        ShuttleMsg req;

        if (!c || !service || !ret_fd)
                return -EINVAL;
        shuttle_msg_open(&req, SHUTTLE_MSG_OPEN_FIFO, 0, service, flags);
        return client_fd_request(c, &req, ret_fd);
}

/* After INVOKE was accepted: waits for its EXIT event, forwarding the
 * signals read from interrupt_fd as KILL_INVOKED requests (each answered by
 * a REPLY, in any order relative to the EXIT).  Called locked. */
static int invoke_wait(ShuttleClient *c, uint32_t invoke_id, int interrupt_fd, int *ret_status) {
        uint8_t buf[SHUTTLE_RECV_BUF_SIZE];
        unsigned pending_kills = 0;
        bool done = false;
        int status = 0;

        while (!done || pending_kills > 0) {
                struct pollfd p[2] = {
                        { .fd = c->fd, .events = POLLIN },
                        { .fd = done ? -1 : interrupt_fd, .events = POLLIN },
                };
                int fds[SHUTTLE_FDS_MAX];
                size_t n_fds = 0;
                ShuttleMsg ans;
                int r;

                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return client_break(c, -errno);
                }
                if (p[1].revents & POLLIN) {
                        uint8_t sigs[16];
                        ssize_t n = read(interrupt_fd, sigs, sizeof(sigs));
                        for (ssize_t i = 0; i < n; i++) {
                                ShuttleMsg k;
                                if (sigs[i] < 1 || sigs[i] > SHUTTLE_SIGNAL_MAX)
                                        continue;
                                shuttle_msg_kill_invoked(&k, client_next_id(c), sigs[i]);
                                r = shuttle_msg_send(c->fd, &k, NULL, 0);
                                if (r < 0)
                                        return client_break(c, r == -EPIPE ? -ECONNRESET : r);
                                pending_kills++;
                        }
                } else if (p[1].revents & (POLLHUP | POLLERR | POLLNVAL))
                        interrupt_fd = -1;
                if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
                        continue;

                r = shuttle_msg_recv(c->fd, buf, sizeof(buf), &ans, fds, SHUTTLE_FDS_MAX, &n_fds,
                                     SHUTTLE_DECODE_REPLY, NULL);
                if (r == 0 || r == -ECONNRESET)
                        return client_break(c, -ECONNRESET);
                if (r == -EINTR || r == -EAGAIN)
                        continue; /* nothing was consumed */
                if (r < 0)
                        return client_break(c, -EPROTO);
                if (ans.type == SHUTTLE_MSG_EXIT && ans.id == invoke_id && !done) {
                        status = shuttle_msg_has(&ans, SHUTTLE_ATTR_EXIT_CODE) ? ans.exit_code
                                                                                : 128 + ans.signal;
                        done = true;
                } else if (ans.type == SHUTTLE_MSG_REPLY && ans.id != 0 && pending_kills > 0)
                        /* A kill that came too late (-ESRCH) is fine. */
                        pending_kills--;
                else if (ans.type == SHUTTLE_MSG_REPLY && ans.id == 0)
                        return client_break(c, ans.status < 0 ? ans.status : -EPROTO);
                else {
                        close_all(fds, n_fds);
                        return client_break(c, -EPROTO);
                }
        }
        *ret_status = status;
        return 0;
}

int shuttle_invoke(ShuttleClient *c, const char *container, const char *app, const char *const *args,
                   const char *const *env, const int fds[3], int interrupt_fd, int *ret_status) {
        return shuttle_invoke_ex(c, container, app, args, env, fds, interrupt_fd, 0, ret_status);
}

int shuttle_invoke_ex(ShuttleClient *c, const char *container, const char *app, const char *const *args,
                      const char *const *env, const int fds[3], int interrupt_fd, unsigned flags,
                      int *ret_status) {
        uint8_t buf[SHUTTLE_RECV_BUF_SIZE];
        ShuttleMsg req, ans;
        int got[SHUTTLE_FDS_MAX];
        size_t n_got = 0;
        int r;

        if (!c || !container || !app || !fds || !ret_status)
                return -EINVAL;
        pthread_mutex_lock(&c->lock);
        r = client_hello_locked(c);
        if (r >= 0)
                r = shuttle_msg_invoke(&req, 0, container, app, args, env);
        if (r >= 0)
                /* Flags this protocol does not know fail in the encoder,
                 * before anything is sent (-ERANGE). */
                shuttle_msg_invoke_set_flags(&req, flags);
        if (r >= 0)
                r = client_call(c, &req, fds, 3, buf, &ans, got, &n_got);
        if (r >= 0)
                r = invoke_wait(c, req.id, interrupt_fd, ret_status);
        pthread_mutex_unlock(&c->lock);
        return r;
}

int shuttle_transfer(ShuttleClient *c, const char *path, ShuttleTransferMode mode, const char *container,
                     char *ret_path, uint64_t *ret_id) {
        uint8_t buf[SHUTTLE_RECV_BUF_SIZE];
        ShuttleMsg req, ans;
        int fds[SHUTTLE_FDS_MAX];
        size_t n_fds = 0;
        int r;

        if (!c || !path || !container)
                return -EINVAL;
        shuttle_msg_transfer(&req, 0, path, mode, container);
        r = client_roundtrip(c, &req, buf, &ans, fds, &n_fds);
        if (r < 0)
                return r;
        /* Validated by the decoder: at most SHUTTLE_PATH_MAX bytes. */
        if (ret_path)
                strcpy(ret_path, ans.path);
        if (ret_id)
                *ret_id = ans.xfer_id;
        return 0;
}

void shuttle_client_last_message(ShuttleClient *c, char *buf, size_t size) {
        if (!c || !buf || size == 0)
                return;
        pthread_mutex_lock(&c->lock);
        strncpy(buf, c->last_message, size - 1);
        buf[size - 1] = '\0';
        pthread_mutex_unlock(&c->lock);
}
