/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Time stamps on the lines of group container logs (logline.h). */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "common/time-util.h"
#include "shuttle/audit/audit.h"
#include "shuttle/supervisor/logline.h"

_public_ void logline_format_stamp(uint64_t usec, char ret[static LOGLINE_STAMP_LEN + 1]) {
        char ts[AUDIT_TIMESTAMP_MAX];

        audit_format_timestamp(usec, ts);
        /* Years past 9999 have no RFC 3339 form: every stamp must have the
         * same length, or the reader would not know where the line starts. */
        if (strlen(ts) != LOGLINE_STAMP_LEN - 1)
                strcpy(ts, "1970-01-01T00:00:00.000000Z");
        memcpy(ret, ts, LOGLINE_STAMP_LEN - 1);
        ret[LOGLINE_STAMP_LEN - 1] = ' ';
        ret[LOGLINE_STAMP_LEN] = 0;
}

_public_ size_t logline_stamp(const char *in, size_t n, const char stamp[static LOGLINE_STAMP_LEN],
                              bool *at_line_start, char *out, size_t out_size, size_t *ret_used) {
        size_t i = 0, o = 0;

        while (i < n) {
                const char *nl;
                size_t len;

                if (*at_line_start) {
                        if (out_size - o < LOGLINE_STAMP_LEN + 1)
                                break;
                        memcpy(out + o, stamp, LOGLINE_STAMP_LEN);
                        o += LOGLINE_STAMP_LEN;
                        *at_line_start = false;
                }
                nl = memchr(in + i, '\n', n - i);
                len = nl ? (size_t) (nl - (in + i)) + 1 : n - i;
                if (len > out_size - o)
                        len = out_size - o;
                if (len == 0)
                        break;
                memcpy(out + o, in + i, len);
                o += len;
                i += len;
                if (in[i - 1] == '\n')
                        *at_line_start = true;
        }
        *ret_used = i;
        return o;
}

/* The held-back start of a line is a stamp: decide the line's fate. */
static int filter_decide(LoglineFilter *f, LoglineSink sink, void *userdata) {
        char ts[LOGLINE_STAMP_LEN];
        uint64_t usec;
        bool stamped;

        memcpy(ts, f->pre, LOGLINE_STAMP_LEN - 1);
        ts[LOGLINE_STAMP_LEN - 1] = 0;
        stamped = f->pre[LOGLINE_STAMP_LEN - 1] == ' ' && audit_parse_timestamp(ts, &usec) == 0;
        f->pre_len = 0;
        if (stamped && f->since_usec > 0 && usec < f->since_usec) {
                f->state = LOGLINE_SKIP;
                return 0;
        }
        f->state = LOGLINE_SHOW;
        if (stamped && !f->timestamps)
                return 0;
        return sink(f->pre, LOGLINE_STAMP_LEN, userdata);
}

_public_ int logline_filter(LoglineFilter *f, const char *buf, size_t n, LoglineSink sink, void *userdata) {
        size_t i = 0;
        int r;

        while (i < n) {
                const char *nl;
                size_t len;

                if (f->state == LOGLINE_AT_START) {
                        /* Collect up to a stamp's length; a line that ends
                         * first has no stamp and is shown as it is. */
                        while (i < n && f->pre_len < LOGLINE_STAMP_LEN && buf[i] != '\n')
                                f->pre[f->pre_len++] = buf[i++];
                        if (f->pre_len == LOGLINE_STAMP_LEN) {
                                r = filter_decide(f, sink, userdata);
                                if (r < 0)
                                        return r;
                        } else if (i < n) {
                                /* buf[i] is the newline of a short line. */
                                r = sink(f->pre, f->pre_len, userdata);
                                if (r >= 0)
                                        r = sink("\n", 1, userdata);
                                if (r < 0)
                                        return r;
                                f->pre_len = 0;
                                i++;
                        }
                        continue;
                }
                nl = memchr(buf + i, '\n', n - i);
                len = nl ? (size_t) (nl - (buf + i)) + 1 : n - i;
                if (f->state == LOGLINE_SHOW) {
                        r = sink(buf + i, len, userdata);
                        if (r < 0)
                                return r;
                }
                i += len;
                if (nl)
                        f->state = LOGLINE_AT_START;
        }
        return 0;
}

_public_ int logline_filter_end(LoglineFilter *f, LoglineSink sink, void *userdata) {
        int r = 0;

        if (f->state == LOGLINE_AT_START && f->pre_len > 0)
                r = sink(f->pre, f->pre_len, userdata);
        f->pre_len = 0;
        return r;
}

_public_ int logline_open(const char *state_dir, const char *name) {
        char path[PATH_MAX], old[PATH_MAX];
        int fd, r;

        if ((size_t) snprintf(path, sizeof(path), "%s/logs", state_dir) >= sizeof(path))
                return -ENAMETOOLONG;
        r = mkdir_p_at(AT_FDCWD, path, 0750);
        if (r < 0)
                return r;
        if ((size_t) snprintf(path, sizeof(path), "%s/logs/%s.log", state_dir, name) >= sizeof(path) ||
            (size_t) snprintf(old, sizeof(old), "%s.1", path) >= sizeof(old))
                return -ENAMETOOLONG;
        if (rename(path, old) < 0 && errno != ENOENT)
                return -errno;
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0640);
        return fd < 0 ? -errno : fd;
}

_public_ int logline_append(int fd, const char *buf, size_t n, bool *at_line_start) {
        char out[16384], stamp[LOGLINE_STAMP_LEN + 1];
        logline_format_stamp(clock_usec(CLOCK_REALTIME), stamp);
        while (n > 0) {
                size_t used, o = logline_stamp(buf, n, stamp, at_line_start, out, sizeof(out), &used);
                int r = loop_write(fd, out, o);

                if (r < 0)
                        return r;
                buf += used;
                n -= used;
        }
        return 0;
}
