/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The log files of app group containers (<state>/logs/NAME.log): the group
 * supervisor starts every line with the time it read it,
 *
 *     2026-12-06T03:58:01.123456Z hello from db
 *
 * (a stamp of LOGLINE_STAMP_LEN bytes, its space included), and
 * `shuttlectl logs` takes the stamps off again unless asked to keep them,
 * and can leave out the lines older than a time.  A line is stamped when
 * its first byte arrives, so output without a newline for a while is
 * stamped with the time it began.  Lines without a stamp (logs written by
 * an older supervisor) pass unchanged and are never left out.
 *
 * The stamping and the filter are pure functions; logline_open() and
 * logline_append() are the two I/O steps the writers (the group
 * supervisor, a detached `shuttlectl run`) share. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOGLINE_STAMP_LEN 28

/* The stamp for a time (µs since the epoch), with its trailing space. */
void logline_format_stamp(uint64_t usec, char ret[static LOGLINE_STAMP_LEN + 1]);

/* Copies in[0..n) to out[0..out_size), with `stamp` before every line start;
 * *at_line_start carries over from one call to the next (true before the
 * first).  Stops when out is full; *ret_used says how much of in was taken.
 * Returns the bytes written to out. */
size_t logline_stamp(const char *in, size_t n, const char stamp[static LOGLINE_STAMP_LEN], bool *at_line_start,
                     char *out, size_t out_size, size_t *ret_used);

typedef int (*LoglineSink)(const char *data, size_t len, void *userdata);

typedef struct LoglineFilter {
        bool timestamps;      /* keep the stamps */
        uint64_t since_usec;  /* leave out stamped lines before this; 0: none */
        /* where the reading stands */
        char pre[LOGLINE_STAMP_LEN];
        size_t pre_len;
        enum { LOGLINE_AT_START, LOGLINE_SHOW, LOGLINE_SKIP } state;
} LoglineFilter;

/* Feeds bytes of a log; what is to be printed goes to sink.  Returns 0 or
 * the first negative value sink returned. */
int logline_filter(LoglineFilter *f, const char *buf, size_t n, LoglineSink sink, void *userdata);

/* At the end of the input: what is held back (the start of a last line
 * shorter than a stamp) goes to sink. */
int logline_filter_end(LoglineFilter *f, LoglineSink sink, void *userdata);

/* Opens <state_dir>/logs/<name>.log for a new run: the previous run's log
 * becomes <name>.log.1 (replacing the one before), and the new one starts
 * empty.  Returns the fd or a negative errno. */
int logline_open(const char *state_dir, const char *name);

/* Appends output read from a container to its log, each line stamped with
 * the time now.  Returns 0 or a negative errno. */
int logline_append(int fd, const char *buf, size_t n, bool *at_line_start);
