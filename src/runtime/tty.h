/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The relays between our stdio and a command inside a container.  Nothing
 * of the caller's (its terminal, its files) is handed into the container:
 * the command gets either a pty of the container's own devpts (--tty: our
 * terminal in raw mode, window size kept in sync) or pipes (exec without
 * --tty), and we copy bytes. */

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <termios.h>

typedef struct TtyRelay {
        int master;
        bool have_saved;
        struct termios saved;
        bool stdin_open;
} TtyRelay;

void tty_relay_init(TtyRelay *t);
/* Takes over the pty master (made inside the container): non-blocking,
 * our window size, our terminal (if stdin is one) in raw mode. */
int tty_relay_attach(TtyRelay *t, int master);
/* Copy our window size to the pty. */
void tty_relay_resize(TtyRelay *t);
/* Called when poll says stdin or the master is ready.  Returns 0, or
 * -EIO once the pty's other side is gone. */
int tty_relay_from_stdin(TtyRelay *t);
int tty_relay_from_master(TtyRelay *t);
/* Drain what the command wrote before it exited. */
void tty_relay_drain(TtyRelay *t);
void tty_relay_close(TtyRelay *t);

/* exec without --tty: three pipes.  child[] are the command's ends (its
 * stdin, stdout, stderr) until it has its copies; in, out and err ours,
 * non-blocking, -1 once closed.  Our stdin is read only when the last chunk
 * went out, so a command that does not read its input leaves it unread. */
typedef struct PipeRelay {
        int child[3];
        int in, out, err;
        bool stdin_open;
        size_t len, off;
        char buf[4096];
} PipeRelay;

#define PIPE_RELAY_NFDS 4

void pipe_relay_init(PipeRelay *p);
int pipe_relay_open(PipeRelay *p);
void pipe_relay_close_child(PipeRelay *p);
/* Fills fds[0…PIPE_RELAY_NFDS) for poll() (negative fds are ignored). */
void pipe_relay_poll_fds(const PipeRelay *p, struct pollfd *fds);
/* After poll(): moves what is ready.  EOF on our stdin closes the command's;
 * a closed stdout of ours closes the command's (it gets SIGPIPE, as if it
 * had written there itself). */
void pipe_relay_handle(PipeRelay *p, const struct pollfd *fds);
/* Copies what the command's output pipes hold now, without waiting for
 * writers that outlive it. */
void pipe_relay_drain(PipeRelay *p);
void pipe_relay_close(PipeRelay *p);
