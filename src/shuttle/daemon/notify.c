/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Readiness for the service manager, by its documented protocol (see
 * sd_notify(3), "NOTES", and systemd's docs/NOTIFY.md): a datagram on an
 * AF_UNIX socket.  It is a dozen lines; linking libsystemd for it would
 * put that library and what it loads (compression libraries, libgcrypt)
 * into a root daemon that enters every container's namespaces, for one
 * sendmsg().  The kernel attaches our credentials, by which the service
 * manager checks that the message comes from the service's main
 * process. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/macro.h"
#include "shuttle/daemon/notify.h"

char *notify_socket_take(void) {
        const char *e = getenv("NOTIFY_SOCKET");
        char *s = e && *e ? strdup(e) : NULL;

        (void) unsetenv("NOTIFY_SOCKET");
        return s;
}

int notify_send(const char *socket_name, const char *text) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        socklen_t len;
        size_t n;
        ssize_t k;

        if (!socket_name || !*socket_name)
                return 0;
        if (!text)
                return -EINVAL;
        if (socket_name[0] != '/' && socket_name[0] != '@')
                return -EAFNOSUPPORT;
        n = strlen(socket_name);
        if (n >= sizeof(sa.sun_path))
                return -EINVAL;
        memcpy(sa.sun_path, socket_name, n);
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = '\0'; /* abstract: the length ends the name */
        len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + (socket_name[0] == '/'));

        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* MSG_DONTWAIT: a service manager that does not read its socket
         * must not stall the broker's loop (invariant 12); the message is
         * then lost, and the caller says so. */
        k = sendto(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *) &sa, len);
        if (k < 0)
                return -errno;
        return (size_t) k == strlen(text) ? 1 : -EMSGSIZE;
}
