/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* seccomp-agent SOCKET OUT [PATH:errno:N | PATH:value:N]...
 *
 * The agent at a bundle's linux.seccomp.listenerPath
 * (tests/integration/oci-seccomp-notify.sh): listens on SOCKET, takes one
 * connection, reads the container process state and the fd sent with it,
 * and writes into OUT what it got, one "key=value" line each (ociVersion,
 * fds, pid, metadata, state.id, state.status, state.pid, state.bundle,
 * fd=seccomp when the fd is a seccomp notify fd).  Then it answers the
 * notifications: mkdir/mkdirat of a PATH listed gets -N (errno) or N
 * (value, no error), anything else goes on in the kernel (CONTINUE); each
 * is logged as "notify SYSCALL PATH pid=PID".  Ends when the container
 * has no process left under the filter ("done"), or after 30 s. */

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fdpass.h"

#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif

static FILE *out;

static void field(json_t *o, const char *prefix, const char *key) {
        json_t *v = json_object_get(o, key);

        if (json_is_string(v))
                fprintf(out, "%s%s=%s\n", prefix, key, json_string_value(v));
        else if (json_is_integer(v))
                fprintf(out, "%s%s=%lld\n", prefix, key, (long long) json_integer_value(v));
        else if (json_is_array(v) && json_array_size(v) == 1 && json_is_string(json_array_get(v, 0)))
                fprintf(out, "%s%s=%s\n", prefix, key, json_string_value(json_array_get(v, 0)));
        else if (v)
                fprintf(out, "%s%s=?\n", prefix, key);
}

/* The path the call names, read from the caller's memory; checked valid
 * after the read (the caller may have died and its pid been reused). */
static int read_path(int listener, const struct seccomp_notif *req, unsigned long addr, char *buf, size_t size) {
        char mem[64];
        ssize_t n;
        int fd;

        snprintf(mem, sizeof(mem), "/proc/%d/mem", (int) req->pid);
        fd = open(mem, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        n = pread(fd, buf, size - 1, (off_t) addr);
        close(fd);
        if (n <= 0)
                return -1;
        buf[n] = '\0';
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
                return -1;
        return 0;
}

static void answer(int listener, char **rules, int n_rules) {
        struct seccomp_notif_sizes sizes;
        struct seccomp_notif *req;
        struct seccomp_notif_resp *resp;

        if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
                exit(1);
        req = calloc(1, sizes.seccomp_notif > sizeof(*req) ? sizes.seccomp_notif : sizeof(*req));
        resp = calloc(1, sizes.seccomp_notif_resp > sizeof(*resp) ? sizes.seccomp_notif_resp : sizeof(*resp));
        if (!req || !resp)
                exit(1);
        for (;;) {
                struct pollfd p = { .fd = listener, .events = POLLIN };
                char path[4096] = "";
                const char *name = "other";
                unsigned long addr = 0;

                if (poll(&p, 1, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        exit(1);
                }
                if (!(p.revents & POLLIN)) {
                        /* POLLHUP: no task is left under the filter. */
                        fprintf(out, "done\n");
                        fflush(out);
                        return;
                }
                memset(req, 0, sizes.seccomp_notif);
                if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
                        if (errno == EINTR || errno == ENOENT)
                                continue;
                        exit(1);
                }
                memset(resp, 0, sizes.seccomp_notif_resp);
                resp->id = req->id;
                resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
#ifdef SYS_mkdir
                if (req->data.nr == SYS_mkdir) {
                        name = "mkdir";
                        addr = (unsigned long) req->data.args[0];
                }
#endif
                if (req->data.nr == SYS_mkdirat) {
                        name = "mkdirat";
                        addr = (unsigned long) req->data.args[1];
                }
                if (addr && read_path(listener, req, addr, path, sizeof(path)) == 0) {
                        for (int i = 0; i < n_rules; i++) {
                                size_t len = strcspn(rules[i], ":");
                                const char *how = rules[i] + len;
                                long v;

                                if (strlen(path) != len || strncmp(path, rules[i], len) != 0)
                                        continue;
                                v = strtol(strrchr(how, ':') + 1, NULL, 10);
                                resp->flags = 0;
                                if (strncmp(how, ":errno:", 7) == 0)
                                        resp->error = (int32_t) -v;
                                else
                                        resp->val = v;
                        }
                }
                fprintf(out, "notify %s %s pid=%d%s\n", name, path, (int) req->pid,
                        resp->flags ? " continue" : "");
                fflush(out);
                /* ENOENT: the caller is gone (killed meanwhile). */
                if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno != ENOENT)
                        exit(1);
        }
}

int main(int argc, char **argv) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        static char buf[1 << 16];
        size_t len = 0;
        json_t *o;
        int l, c, listener = -1;
        uint64_t id = 0;
        ssize_t n;

        if (argc < 3 || strlen(argv[1]) >= sizeof(sa.sun_path))
                return 2;
        alarm(30);
        out = fopen(argv[2], "we");
        if (!out)
                return 1;
        strcpy(sa.sun_path, argv[1]);
        l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (l < 0 || bind(l, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(l, 1) < 0)
                return 1;
        fprintf(out, "listening\n");
        fflush(out);
        c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
                return 1;
        close(l);
        n = fd_recv(c, buf, sizeof(buf) - 1, &listener, 1, 0);
        if (n <= 0) {
                fprintf(out, "no fd (%s)\n", n < 0 ? strerror((int) -n) : "closed");
                return 1;
        }
        /* The rest of the state, until the runtime closes the connection. */
        for (len = (size_t) n; len < sizeof(buf) - 1; len += (size_t) n) {
                n = read(c, buf + len, sizeof(buf) - 1 - len);
                if (n <= 0)
                        break;
        }
        close(c);
        buf[len] = '\0';
        o = json_loads(buf, 0, NULL);
        if (!json_is_object(o)) {
                fprintf(out, "bad json: %s\n", buf);
                return 1;
        }
        field(o, "", "ociVersion");
        field(o, "", "fds");
        field(o, "", "pid");
        field(o, "", "metadata");
        field(json_object_get(o, "state"), "state.", "id");
        field(json_object_get(o, "state"), "state.", "status");
        field(json_object_get(o, "state"), "state.", "pid");
        field(json_object_get(o, "state"), "state.", "bundle");
        json_decref(o);
        /* No notification has id 0 yet: ENOENT from a seccomp notify fd. */
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0 && errno == ENOENT)
                fprintf(out, "fd=seccomp\n");
        fflush(out);
        answer(listener, argv + 3, argc - 3);
        return 0;
}
