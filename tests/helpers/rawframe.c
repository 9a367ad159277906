/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sends one hostile frame to a broker socket and says what the broker did:
 * "dropped" (it closed the connection, perhaps after a goodbye) or
 * "answered <status>".
 *
 *   rawframe SOCKET oversize|badmagic|badversion|unknown|reply|fds|spoof|truncated|ok
 *   rawframe SOCKET open-noflags|open-badflags|open-fd|open-ok
 *                   OPEN_SHM of "db.kv" with flags 0, with flags outside the
 *                   defined bits, carrying a descriptor, or well-formed
 *
 *   rawframe SOCKET resolve-both|resolve-what|resolve-noname|resolve-nowhat|signal-pid-low|resolve-ok
 *
 * The resolve-* and signal-pid-* frames are built by hand (the encoder
 * refuses to make the broken ones): RESOLVE with both APP and NAME, a
 * WHAT out of range, a service without NAME, no WHAT at all, SIGNAL_PID
 * below SHUTTLE_PID_BASE; resolve-ok is a well-formed RESOLVE of a host.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "shuttle/client/protocol.h"

/* Overwrites the value of a u32 attribute in an encoded frame. */
static void patch_u32(char *frame, size_t len, uint16_t attr, uint32_t v) {
        for (size_t off = SHUTTLE_HEADER_SIZE; off + 4 <= len;) {
                uint16_t t, l;
                memcpy(&t, frame + off, 2);
                memcpy(&l, frame + off + 2, 2);
                if (t == attr && l == 4) {
                        memcpy(frame + off + 4, &v, 4);
                        return;
                }
                off += 4 + ((l + 3u) & ~3u);
        }
}

/* Appends one attribute (header, value, zero padding) to a hand-built frame. */
static void put_attr(char *frame, size_t *len, uint16_t type, const void *value, uint16_t n) {
        memcpy(frame + *len, &type, 2);
        memcpy(frame + *len + 2, &n, 2);
        memcpy(frame + *len + 4, value, n);
        *len += 4 + n;
        while (*len % 4)
                frame[(*len)++] = 0;
}

static void put_u32(char *frame, size_t *len, uint16_t type, uint32_t v) {
        put_attr(frame, len, type, &v, 4);
}

static void put_str(char *frame, size_t *len, uint16_t type, const char *s) {
        put_attr(frame, len, type, s, (uint16_t) (strlen(s) + 1));
}

/* A frame of type with the attributes a mode names. */
static bool hand_built(const char *mode, char *frame, size_t *len) {
        uint32_t magic = SHUTTLE_MAGIC, id = 7, body;
        uint16_t version = SHUTTLE_PROTOCOL_VERSION, type = SHUTTLE_MSG_RESOLVE;

        memset(frame, 0, SHUTTLE_HEADER_SIZE);
        *len = SHUTTLE_HEADER_SIZE;
        if (strcmp(mode, "resolve-both") == 0) {
                put_str(frame, len, SHUTTLE_ATTR_CONTAINER, "db");
                put_u32(frame, len, SHUTTLE_ATTR_WHAT, SHUTTLE_NAME_PID);
                put_str(frame, len, SHUTTLE_ATTR_APP, "/usr/bin/kvd");
                put_str(frame, len, SHUTTLE_ATTR_NAME, "kv");
        } else if (strcmp(mode, "resolve-what") == 0) {
                put_str(frame, len, SHUTTLE_ATTR_CONTAINER, "db");
                put_u32(frame, len, SHUTTLE_ATTR_WHAT, 9);
        } else if (strcmp(mode, "resolve-noname") == 0) {
                put_str(frame, len, SHUTTLE_ATTR_CONTAINER, "db");
                put_u32(frame, len, SHUTTLE_ATTR_WHAT, SHUTTLE_NAME_SERVICE);
        } else if (strcmp(mode, "resolve-nowhat") == 0) {
                put_str(frame, len, SHUTTLE_ATTR_CONTAINER, "db");
                put_str(frame, len, SHUTTLE_ATTR_APP, "/usr/bin/kvd");
        } else if (strcmp(mode, "signal-pid-low") == 0) {
                type = SHUTTLE_MSG_SIGNAL_PID;
                put_u32(frame, len, SHUTTLE_ATTR_PID, 1234);
                put_u32(frame, len, SHUTTLE_ATTR_SIGNAL, SIGTERM);
        } else if (strcmp(mode, "resolve-ok") == 0) {
                put_str(frame, len, SHUTTLE_ATTR_CONTAINER, "db");
                put_u32(frame, len, SHUTTLE_ATTR_WHAT, SHUTTLE_NAME_HOST);
        } else
                return false;
        body = (uint32_t) (*len - SHUTTLE_HEADER_SIZE);
        memcpy(frame, &magic, 4);
        memcpy(frame + 4, &version, 2);
        memcpy(frame + 6, &type, 2);
        memcpy(frame + 8, &id, 4);
        memcpy(frame + 12, &body, 4);
        return true;
}

int main(int argc, char **argv) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        static char frame[SHUTTLE_FRAME_MAX * 2];
        char reply[SHUTTLE_RECV_BUF_SIZE];
        int fds[2] = { -1, -1 }, n_fds = 0, sock;
        size_t len = 0;
        ShuttleMsg m;
        const char *mode;
        ssize_t n;

        if (argc != 3) {
                fprintf(stderr, "usage: rawframe SOCKET MODE\n");
                return 2;
        }
        mode = argv[2];
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
        sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (sock < 0 || connect(sock, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                fprintf(stderr, "connect %s: %s\n", argv[1], strerror(errno));
                return 1;
        }

        shuttle_msg_connect(&m, 7, "db.kv");
        if (shuttle_msg_encode(&m, frame, sizeof(frame), &len, NULL) < 0)
                return 1;

        if (strcmp(mode, "oversize") == 0) {
                memset(frame + len, 'A', SHUTTLE_FRAME_MAX + 100 - len);
                len = SHUTTLE_FRAME_MAX + 100;
        } else if (strcmp(mode, "badmagic") == 0)
                frame[0] ^= 0x55;
        else if (strcmp(mode, "badversion") == 0)
                frame[4] = 99;
        else if (strcmp(mode, "unknown") == 0) {
                frame[6] = 0x77;
                frame[7] = 0x77;
        } else if (strcmp(mode, "reply") == 0) {
                shuttle_msg_reply(&m, 7, 0, NULL);
                if (shuttle_msg_encode(&m, frame, sizeof(frame), &len, NULL) < 0)
                        return 1;
        } else if (strcmp(mode, "fds") == 0) {
                fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
                fds[1] = open("/dev/null", O_RDONLY | O_CLOEXEC);
                n_fds = 2;
        } else if (strcmp(mode, "truncated") == 0)
                len -= 3;
        else if (strcmp(mode, "spoof") == 0) {
                /* A HELLO that names a container: identity never comes from
                 * a message, and HELLO has no such field. */
                shuttle_msg_hello(&m, 7);
                m.name = "db";
                m.present |= SHUTTLE_ATTR_BIT(SHUTTLE_ATTR_NAME);
                if (shuttle_msg_encode(&m, frame, sizeof(frame), &len, NULL) < 0) {
                        /* The encoder refuses it too: build HELLO then append
                         * a NAME attribute by hand. */
                        shuttle_msg_hello(&m, 7);
                        if (shuttle_msg_encode(&m, frame, sizeof(frame), &len, NULL) < 0)
                                return 1;
                        uint16_t t = SHUTTLE_ATTR_NAME, l = 3;
                        uint32_t body;
                        memcpy(frame + len, &t, 2);
                        memcpy(frame + len + 2, &l, 2);
                        memcpy(frame + len + 4, "db\0\0", 4);
                        len += 8;
                        memcpy(&body, frame + 12, 4);
                        body += 8;
                        memcpy(frame + 12, &body, 4);
                }
        } else if (strncmp(mode, "open-", 5) == 0) {
                shuttle_msg_open(&m, SHUTTLE_MSG_OPEN_SHM, 7, "db.kv", SHUTTLE_OPEN_READ);
                if (shuttle_msg_encode(&m, frame, sizeof(frame), &len, NULL) < 0)
                        return 1;
                if (strcmp(mode, "open-noflags") == 0)
                        patch_u32(frame, len, SHUTTLE_ATTR_FLAGS, 0);
                else if (strcmp(mode, "open-badflags") == 0)
                        patch_u32(frame, len, SHUTTLE_ATTR_FLAGS, 0x80000001u);
                else if (strcmp(mode, "open-fd") == 0) {
                        fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
                        n_fds = 1;
                } else if (strcmp(mode, "open-ok") != 0) {
                        fprintf(stderr, "unknown mode %s\n", mode);
                        return 2;
                }
        } else if (strcmp(mode, "ok") != 0 && !hand_built(mode, frame, &len)) {
                fprintf(stderr, "unknown mode %s\n", mode);
                return 2;
        }

        if (fd_send(sock, frame, len, n_fds ? fds : NULL, (size_t) n_fds) < 0) {
                printf("dropped\n");
                return 0;
        }
        {
                struct pollfd p = { .fd = sock, .events = POLLIN };
                if (poll(&p, 1, 5000) <= 0) {
                        printf("no answer\n");
                        return 1;
                }
        }
        n = recv(sock, reply, sizeof(reply), 0);
        if (n <= 0) {
                printf("dropped\n");
                return 0;
        }
        if (shuttle_msg_decode(reply, (size_t) n, 0, SHUTTLE_DECODE_REPLY, &m, NULL) < 0) {
                printf("garbled answer\n");
                return 1;
        }
        if (m.id == 0) {
                /* The broker's goodbye: it dropped us, saying why. */
                printf("dropped (goodbye %d)\n", m.status);
                return 0;
        }
        printf("answered %d\n", m.type == SHUTTLE_MSG_REPLY ? m.status : 0);
        return 0;
}
