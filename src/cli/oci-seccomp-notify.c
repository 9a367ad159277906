/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container process state for a seccomp agent, and its delivery
 * (oci-seccomp-notify.h).  shuttle-oci create and exec call it in the
 * host's namespaces: listenerPath is a path of the runtime's mount
 * namespace, never the container's. */

#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "cli/oci-seccomp-notify.h"
#include "common/fdpass.h"
#include "common/macro.h"
#include "runtime/oci-spec.h"

char *oci_process_state_format(const char *state_json, pid_t pid, const char *metadata) {
        json_t *state, *o;
        char *text;

        state = json_loads(state_json, JSON_REJECT_DUPLICATES, NULL);
        if (!state || !json_is_object(state)) {
                json_decref(state);
                errno = EINVAL;
                return NULL;
        }
        /* The names of the fds, in SCM_RIGHTS order (runtime-spec's
         * SeccompFdName). */
        o = json_pack("{s:s, s:[s], s:I, s:o}", "ociVersion", OCI_SPEC_VERSION, "fds", "seccompFd", "pid",
                      (json_int_t) pid, "state", state);
        if (!o) {
                errno = ENOMEM;
                return NULL;
        }
        if (metadata && json_object_set_new(o, "metadata", json_string(metadata)) < 0) {
                json_decref(o);
                errno = ENOMEM;
                return NULL;
        }
        text = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (!text)
                errno = ENOMEM;
        return text;
}

int oci_seccomp_agent_send(const char *path, const char *json, int fd) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        const struct timeval tv = {
                .tv_sec = OCI_SECCOMP_AGENT_TIMEOUT_MS / 1000,
                .tv_usec = (OCI_SECCOMP_AGENT_TIMEOUT_MS % 1000) * 1000,
        };
        _cleanup_close_ int sock = -1;
        size_t len = strlen(json), done;
        ssize_t n;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (sock < 0)
                return -errno;
        /* The send timeout bounds connect() too on AF_UNIX (an agent whose
         * backlog is full) and every send after it. */
        if (setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
                return -errno;
        if (connect(sock, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return errno == EINPROGRESS ? -EAGAIN : -errno;

        /* The fd rides with the first bytes; the rest follows on the
         * stream if the socket took less at once. */
        n = fd_send(sock, json, len, &fd, 1);
        if (n < 0)
                return n == -EWOULDBLOCK ? -EAGAIN : (int) n;
        for (done = (size_t) n; done < len; done += (size_t) n) {
                do
                        n = send(sock, json + done, len - done, MSG_NOSIGNAL);
                while (n < 0 && errno == EINTR);
                if (n < 0)
                        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
        }
        /* One state per connection (runtime-spec): closed now. */
        return 0;
}
