/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The --tty relay: a pty for the container's command, our terminal in raw
 * mode, window size kept in sync. */

#include <stdbool.h>
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
