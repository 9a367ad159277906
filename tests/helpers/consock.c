/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* consock PATH OUT
 *
 * The other end of `shuttle-oci create --console-socket PATH`, as conmon
 * and containerd's shim are: listens on PATH, takes the one descriptor
 * sent over SCM_RIGHTS, checks that it is a pty master ("pty N" into OUT),
 * then copies what the container writes on its terminal into OUT until it
 * is closed.  Gives up after 20 s. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fdpass.h"

int main(int argc, char **argv) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char buf[4096];
        int l, c, master = -1, out, ptn;
        ssize_t n;

        if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path))
                return 2;
        alarm(20);
        strcpy(sa.sun_path, argv[1]);
        l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (l < 0 || bind(l, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(l, 1) < 0)
                return 1;
        out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (out < 0)
                return 1;
        c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
                return 1;
        n = fd_recv(c, buf, sizeof(buf), &master, 1, 0);
        if (n < 0 || ioctl(master, TIOCGPTN, &ptn) < 0) {
                dprintf(out, "no pty\n");
                return 1;
        }
        dprintf(out, "pty %d\n", ptn);
        close(c);
        while ((n = read(master, buf, sizeof(buf))) > 0)
                if (write(out, buf, (size_t) n) != n)
                        return 1;
        return 0;
}
