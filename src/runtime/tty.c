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

/* Relays: the --tty pty (TtyRelay) and exec's pipes (PipeRelay). */

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

void pipe_relay_init(PipeRelay *p) {
        *p = (PipeRelay){ .child = { -1, -1, -1 }, .in = -1, .out = -1, .err = -1, .stdin_open = true };
}

int pipe_relay_open(PipeRelay *p) {
        int in[2], out[2], err[2];

        if (pipe2(in, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(out, O_CLOEXEC) < 0) {
                int r = -errno;
                close(in[0]), close(in[1]);
                return r;
        }
        if (pipe2(err, O_CLOEXEC) < 0) {
                int r = -errno;
                close(in[0]), close(in[1]), close(out[0]), close(out[1]);
                return r;
        }
        *p = (PipeRelay){ .child = { in[0], out[1], err[1] }, .in = in[1], .out = out[0], .err = err[0],
                          .stdin_open = true };
        /* Ours only: the command's ends stay as a program expects them. */
        if (fcntl(p->in, F_SETFL, O_NONBLOCK) < 0 || fcntl(p->out, F_SETFL, O_NONBLOCK) < 0 ||
            fcntl(p->err, F_SETFL, O_NONBLOCK) < 0) {
                int r = -errno;
                pipe_relay_close_child(p);
                pipe_relay_close(p);
                return r;
        }
        return 0;
}

void pipe_relay_close_child(PipeRelay *p) {
        for (int i = 0; i < 3; i++)
                p->child[i] = safe_close(p->child[i]);
}

void pipe_relay_poll_fds(const PipeRelay *p, struct pollfd *fds) {
        fds[0] = (struct pollfd){ .fd = p->stdin_open && p->in >= 0 && p->len == 0 ? STDIN_FILENO : -1,
                                  .events = POLLIN };
        fds[1] = (struct pollfd){ .fd = p->len > 0 ? p->in : -1, .events = POLLOUT };
        fds[2] = (struct pollfd){ .fd = p->out, .events = POLLIN };
        fds[3] = (struct pollfd){ .fd = p->err, .events = POLLIN };
}

static void stdin_ended(PipeRelay *p) {
        p->stdin_open = false;
        if (p->len == 0)
                p->in = safe_close(p->in);
}

static void flush_in(PipeRelay *p) {
        while (p->off < p->len) {
                ssize_t n = write(p->in, p->buf + p->off, p->len - p->off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n < 0) {
                        /* The command closed its stdin: the rest of ours is
                         * not for it. */
                        p->len = p->off = 0;
                        p->stdin_open = false;
                        p->in = safe_close(p->in);
                        return;
                }
                p->off += (size_t) n;
        }
        p->len = p->off = 0;
        if (!p->stdin_open)
                p->in = safe_close(p->in);
}

/* One read from the command's output into ours.  Returns > 0 if it moved
 * something. */
static ssize_t copy_out(int *from, int to) {
        char buf[16384];
        ssize_t n = read(*from, buf, sizeof(buf));

        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (n <= 0 || write_all(to, buf, (size_t) n) < 0) {
                *from = safe_close(*from);
                return 0;
        }
        return n;
}

void pipe_relay_handle(PipeRelay *p, const struct pollfd *fds) {
        if (fds[0].fd >= 0 && fds[0].revents) {
                ssize_t n = fds[0].revents & POLLNVAL ? 0 : read(STDIN_FILENO, p->buf, sizeof(p->buf));
                if (n > 0) {
                        p->len = (size_t) n;
                        p->off = 0;
                        flush_in(p);
                } else if (n == 0 || (errno != EINTR && errno != EAGAIN))
                        stdin_ended(p);
        }
        if (fds[1].fd >= 0 && fds[1].revents)
                flush_in(p);
        if (fds[2].fd >= 0 && fds[2].revents)
                (void) copy_out(&p->out, STDOUT_FILENO);
        if (fds[3].fd >= 0 && fds[3].revents)
                (void) copy_out(&p->err, STDERR_FILENO);
}

void pipe_relay_drain(PipeRelay *p) {
        for (int i = 0; i < 4096 && p->out >= 0 && copy_out(&p->out, STDOUT_FILENO) > 0; i++)
                ;
        for (int i = 0; i < 4096 && p->err >= 0 && copy_out(&p->err, STDERR_FILENO) > 0; i++)
                ;
}

void pipe_relay_close(PipeRelay *p) {
        p->in = safe_close(p->in);
        p->out = safe_close(p->out);
        p->err = safe_close(p->err);
}
