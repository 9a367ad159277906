/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "common/socket-util.h"
#include "shuttle/host/control.h"

int control_socket_path(const char *state_dir, char *ret, size_t size) {
        if ((size_t) snprintf(ret, size, "%s/%s", state_dir, CONTROL_SOCKET) >= MIN(size, sizeof(((struct sockaddr_un *) 0)->sun_path)))
                return -ENAMETOOLONG;
        return 0;
}

int control_container_dir(const char *state_dir, const char *name, char *ret, size_t size) {
        if ((size_t) snprintf(ret, size, "%s/broker/%s", state_dir, name) >= size)
                return -ENAMETOOLONG;
        return 0;
}

int control_dir_open(int dirfd, const char *name, mode_t mode, bool create) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (create && mkdirat(dirfd, name, mode) < 0 && errno != EEXIST)
                return -errno;
        /* Checked on what was opened, not on the name: a directory
         * someone else owns could be emptied and swapped under us. */
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_uid != geteuid())
                return -EPERM;
        /* mkdir() left the umask's mark; an older version left 0755. */
        if ((st.st_mode & 07777) != mode && fchmod(fd, mode) < 0)
                return -errno;
        return TAKE_FD(fd);
}

int control_dir_ensure(int dirfd, const char *name, mode_t mode) {
        int fd = control_dir_open(dirfd, name, mode, true);

        if (fd < 0)
                return fd;
        close(fd);
        return 0;
}

int control_state_dir_create(const char *state_dir) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        r = mkdir_p_at(AT_FDCWD, state_dir, 0700);
        if (r < 0)
                return r;
        fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        /* An existing state directory of ours (an older version made it
         * 0755) is closed too; one that is shared (sticky, like /tmp) or
         * not ours is left as it is: broker/ below is what must be
         * closed, and is. */
        if (st.st_uid == geteuid() && !(st.st_mode & S_ISVTX) && (st.st_mode & 077) &&
            fchmod(fd, st.st_mode & 0700) < 0)
                return -errno;
        return control_dir_ensure(fd, "broker", 0700);
}

int control_container_dir_create(const char *state_dir, const char *name, char *ret, size_t size) {
        _cleanup_close_ int fd = -1;
        char path[PATH_MAX];
        int r;

        r = control_container_dir(state_dir, name, ret, size);
        if (r < 0)
                return r;
        r = control_state_dir_create(state_dir);
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "%s/broker", state_dir);
        fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* 0755: the container's users reach it (through the bind mount
         * only; broker/ above is 0700). */
        return control_dir_ensure(fd, name, 0755);
}

int control_connect(const char *state_dir, int *ret_fd) {
        char path[sizeof(((struct sockaddr_un *) 0)->sun_path)];
        int r;

        r = control_socket_path(state_dir, path, sizeof(path));
        if (r < 0)
                return r;
        return unix_connect(path, SOCK_SEQPACKET, ret_fd);
}

int control_send(int fd, json_t *msg) {
        _cleanup_free_ char *s = json_dumps(msg, JSON_COMPACT);
        size_t n;
        ssize_t k;

        if (!s)
                return -ENOMEM;
        n = strlen(s);
        if (n > CONTROL_MSG_MAX)
                return -EMSGSIZE;
        k = send(fd, s, n, MSG_NOSIGNAL);
        if (k < 0)
                return -errno;
        return (size_t) k == n ? 0 : -EIO;
}

int control_recv(int fd, json_t **ret) {
        _cleanup_free_ char *buf = malloc(CONTROL_MSG_MAX + 1);
        struct iovec iov = { .iov_base = buf, .iov_len = CONTROL_MSG_MAX };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        json_t *o;
        ssize_t n;

        if (!buf)
                return -ENOMEM;
        do
                n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if (n == 0)
                return -ECONNRESET;
        if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
                return -EMSGSIZE;
        o = json_loadb(buf, (size_t) n, JSON_REJECT_DUPLICATES, NULL);
        if (!o || !json_is_object(o)) {
                json_decref(o);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

int control_call(int fd, json_t *request, json_t **ret_reply) {
        json_t *reply = NULL;
        int r;

        r = control_send(fd, request);
        if (r < 0)
                return r;
        r = control_recv(fd, &reply);
        if (r < 0)
                return r;
        *ret_reply = reply;
        if (json_is_true(json_object_get(reply, "ok")))
                return 0;
        r = (int) json_integer_value(json_object_get(reply, "errno"));
        return r > 0 ? -r : -EIO;
}

json_t *control_export_json(const char *name, const char *socket, const char *mq, uint64_t shm_size,
                            const char *fifo, uint16_t port) {
        if (socket)
                return json_pack("{s:s, s:s}", "name", name, "socket", socket);
        if (mq)
                return json_pack("{s:s, s:s}", "name", name, "mq", mq);
        if (shm_size)
                return json_pack("{s:s, s:I}", "name", name, "shm", (json_int_t) shm_size);
        if (fifo)
                return json_pack("{s:s, s:s}", "name", name, "fifo", fifo);
        return json_pack("{s:s, s:i}", "name", name, "port", (int) port);
}

json_t *control_reply_ok(void) {
        return json_pack("{s:b}", "ok", 1);
}

json_t *control_reply_error(int error, const char *fmt, ...) {
        char buf[512];
        va_list ap;

        if (error < 0)
                error = -error;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        return json_pack("{s:b, s:s, s:i}", "ok", 0, "error", buf, "errno", error);
}
