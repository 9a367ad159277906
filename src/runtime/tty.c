/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/macro.h"
#include "runtime/tty.h"

void tty_relay_init(TtyRelay *t) {
        *t = (TtyRelay){ .master = -1, .stdin_open = true };
}

int tty_relay_attach(TtyRelay *t, int master) {
        struct termios raw;

        if (fcntl(master, F_SETFL, O_NONBLOCK) < 0) {
                safe_close(master);
                return -errno;
        }
        safe_close(t->master);
        t->master = master;
        tty_relay_resize(t);

        if (!isatty(STDIN_FILENO) || t->have_saved)
                return 0;
        if (tcgetattr(STDIN_FILENO, &t->saved) < 0)
                return -errno;
        t->have_saved = true;
        raw = t->saved;
        cfmakeraw(&raw);
        raw.c_oflag = t->saved.c_oflag; /* keep output processing (\n -> \r\n) */
        if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) < 0)
                return -errno;
        return 0;
}

void tty_relay_resize(TtyRelay *t) {
        struct winsize ws;

        if (t->master >= 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                (void) ioctl(t->master, TIOCSWINSZ, &ws);
}

static int write_all(int fd, const char *buf, size_t len) {
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                struct pollfd p = { .fd = fd, .events = POLLOUT };
                                (void) poll(&p, 1, 1000);
                                continue;
                        }
                        return -errno;
                }
                buf += n;
                len -= (size_t) n;
        }
        return 0;
}

int tty_relay_from_stdin(TtyRelay *t) {
        char buf[4096];
        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

        if (n < 0)
                return errno == EINTR || errno == EAGAIN ? 0 : -errno;
        if (n == 0) {
                /* Our input ended: tell the command the way a terminal would. */
                t->stdin_open = false;
                if (!t->have_saved) {
                        char eot = 4;
                        (void) write_all(t->master, &eot, 1);
                }
                return 0;
        }
        return write_all(t->master, buf, (size_t) n);
}

int tty_relay_from_master(TtyRelay *t) {
        char buf[8192];
        ssize_t n = read(t->master, buf, sizeof(buf));

        if (n < 0)
                return errno == EINTR || errno == EAGAIN ? 0 : -errno;
        if (n == 0)
                return -EIO;
        return write_all(STDOUT_FILENO, buf, (size_t) n);
}

void tty_relay_drain(TtyRelay *t) {
        if (t->master < 0)
                return;
        for (int i = 0; i < 4096; i++)
                if (tty_relay_from_master(t) < 0)
                        break;
                else {
                        struct pollfd p = { .fd = t->master, .events = POLLIN };
                        if (poll(&p, 1, 0) <= 0)
                                break;
                }
}

void tty_relay_close(TtyRelay *t) {
        if (t->have_saved)
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
        t->have_saved = false;
        t->master = safe_close(t->master);
}
