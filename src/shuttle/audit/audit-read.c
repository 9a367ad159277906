/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading the audit log: line splitting, timestamps, filters, and a reader
 * that can follow the file across rotations (`shuttlectl audit --follow`). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/parse.h"
#include "common/time-util.h"
#include "shuttle/audit/audit-internal.h"

#define READ_CHUNK (64U * 1024U)

void audit_line_reader_reset(AuditLineReader *lr, int fd) {
        lr->fd = fd;
        lr->start = lr->end = 0;
        lr->offset = 0;
        lr->line_no = 0;
        lr->skipping = false;
}

void audit_line_reader_done(AuditLineReader *lr) {
        free(lr->buf);
        lr->buf = NULL;
        lr->cap = 0;
}

size_t audit_line_reader_pending(const AuditLineReader *lr) {
        return lr->skipping ? 0 : lr->end - lr->start;
}

int audit_line_reader_next(AuditLineReader *lr, const char **ret_line, size_t *ret_len, uint64_t *ret_offset,
                           uint64_t *ret_line_no) {
        for (;;) {
                char *nl = lr->end > lr->start ? memchr(lr->buf + lr->start, '\n', lr->end - lr->start) : NULL;
                ssize_t k;

                if (nl) {
                        size_t len = (size_t) (nl - (lr->buf + lr->start));
                        const char *line = lr->buf + lr->start;
                        uint64_t off = lr->offset;

                        *nl = 0;
                        lr->start += len + 1;
                        lr->offset += len + 1;
                        lr->line_no++;
                        if (ret_line_no)
                                *ret_line_no = lr->line_no;
                        if (lr->skipping) {
                                lr->skipping = false;
                                return -E2BIG;
                        }
                        if (ret_line)
                                *ret_line = line;
                        if (ret_len)
                                *ret_len = len;
                        if (ret_offset)
                                *ret_offset = off;
                        return 1;
                }
                if (lr->end - lr->start > AUDIT_LINE_MAX) {
                        /* Bounded memory: drop an overlong line as it comes. */
                        lr->skipping = true;
                        lr->offset += lr->end - lr->start;
                        lr->start = lr->end = 0;
                }
                if (lr->start > 0) {
                        memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
                        lr->end -= lr->start;
                        lr->start = 0;
                }
                if (lr->cap - lr->end < READ_CHUNK) {
                        size_t ncap = MAX(lr->cap * 2, lr->end + READ_CHUNK);
                        ncap = MIN(ncap, (size_t) AUDIT_LINE_MAX + READ_CHUNK + 1);
                        if (ncap > lr->cap) {
                                char *nb = realloc(lr->buf, ncap);
                                if (!nb)
                                        return -ENOMEM;
                                lr->buf = nb;
                                lr->cap = ncap;
                        }
                }
                k = read(lr->fd, lr->buf + lr->end, lr->cap - lr->end);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return 0;
                lr->end += (size_t) k;
        }
}

/* ---- timestamps ---- */

_public_ char *audit_format_timestamp(uint64_t usec, char buf[static AUDIT_TIMESTAMP_MAX]) {
        time_t sec = (time_t) (usec / 1000000U);
        struct tm tm;

        if (!gmtime_r(&sec, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
                snprintf(buf, AUDIT_TIMESTAMP_MAX, "(invalid time)");
                return buf;
        }
        char tmp[128];
        size_t l = (size_t) snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
                                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                                     (unsigned) (usec % 1000000U));
        if (l >= AUDIT_TIMESTAMP_MAX)
                l = 0;
        memcpy(buf, tmp, l);
        buf[l] = 0;
        return buf;
}

static bool digits(const char **p, int n, int *ret) {
        int v = 0;

        for (int i = 0; i < n; i++) {
                if (!isdigit((unsigned char) (*p)[i]))
                        return false;
                v = v * 10 + ((*p)[i] - '0');
        }
        *p += n;
        *ret = v;
        return true;
}

_public_ int audit_parse_timestamp(const char *s, uint64_t *ret) {
        int year, mon, day, hour, min, sec, frac = 0, tzh = 0, tzm = 0, sign = 0;
        const char *p = s;
        struct tm tm = {};
        time_t t;

        if (!s)
                return -EINVAL;
        if (!digits(&p, 4, &year) || *p++ != '-' || !digits(&p, 2, &mon) || *p++ != '-' ||
            !digits(&p, 2, &day) || (*p != 'T' && *p != 't' && *p != ' '))
                return -EINVAL;
        p++;
        if (!digits(&p, 2, &hour) || *p++ != ':' || !digits(&p, 2, &min) || *p++ != ':' ||
            !digits(&p, 2, &sec))
                return -EINVAL;
        if (*p == '.') {
                int n = 0;
                p++;
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                for (; isdigit((unsigned char) *p); p++, n++)
                        if (n < 6)
                                frac = frac * 10 + (*p - '0');
                for (; n < 6; n++)
                        frac *= 10;
        }
        if (*p == 'Z' || *p == 'z')
                p++;
        else if (*p == '+' || *p == '-') {
                sign = *p++ == '+' ? 1 : -1;
                if (!digits(&p, 2, &tzh) || *p++ != ':' || !digits(&p, 2, &tzm) || tzh > 23 || tzm > 59)
                        return -EINVAL;
        }
        if (*p)
                return -EINVAL;
        if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60 || year < 1970)
                return -EINVAL;
        tm.tm_year = year - 1900;
        tm.tm_mon = mon - 1;
        tm.tm_mday = day;
        tm.tm_hour = hour;
        tm.tm_min = min;
        tm.tm_sec = sec;
        t = timegm(&tm);
        if (t == (time_t) -1)
                return -EINVAL;
        t -= sign * (tzh * 3600 + tzm * 60);
        if (t < 0)
                return -ERANGE;
        *ret = (uint64_t) t * 1000000U + (uint64_t) frac;
        return 0;
}

_public_ int audit_parse_since(const char *s, uint64_t now_usec, uint64_t *ret_usec) {
        uint64_t usec;

        if (audit_parse_timestamp(s, &usec) == 0) {
                *ret_usec = usec;
                return 0;
        }
        if (parse_duration(s, &usec) < 0)
                return -EINVAL;
        /* 1, not 0: 0 means "no bound" to the filters. */
        *ret_usec = usec >= now_usec ? 1 : now_usec - usec;
        return 0;
}

/* ---- filters ---- */

static bool glob_field(json_t *rec, const char *key, const char *pattern) {
        const char *v;

        if (!pattern)
                return true;
        v = json_string_value(json_object_get(rec, key));
        return v && fnmatch(pattern, v, 0) == 0;
}

_public_ bool audit_filter_match(const AuditFilter *f, json_t *rec) {
        const char *d;

        if (!json_is_object(rec))
                return false;
        if (!f)
                return true;
        if (!glob_field(rec, "from", f->from) || !glob_field(rec, "to", f->to) || !glob_field(rec, "kind", f->kind))
                return false;
        if (f->decision) {
                d = json_string_value(json_object_get(rec, "decision"));
                if (!d || !streq(d, f->decision))
                        return false;
        }
        if (f->since_usec > 0) {
                uint64_t ts;
                if (audit_parse_timestamp(json_string_value(json_object_get(rec, "ts")), &ts) < 0 ||
                    ts < f->since_usec)
                        return false;
        }
        return true;
}

/* ---- the reader ---- */

struct AuditReader {
        char *path;
        char **files; /* PATH.N ... PATH.1 PATH */
        size_t n_files, i_file;
        int fd;
        dev_t dev;
        ino_t ino;
        AuditLineReader lr;
        uint64_t line_no;
        const char *file;
        int inotify_fd;
        bool switch_pending;
};

_public_ void audit_reader_free(AuditReader *r) {
        if (!r)
                return;
        safe_close(r->fd);
        safe_close(r->inotify_fd);
        audit_line_reader_done(&r->lr);
        for (size_t i = 0; i < r->n_files; i++)
                free(r->files[i]);
        free(r->files);
        free(r->path);
        free(r);
}

_public_ void audit_reader_freep(AuditReader **r) {
        audit_reader_free(*r);
}

static int open_file(AuditReader *r, const char *path) {
        struct stat st;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0) {
                safe_close(fd);
                return -errno;
        }
        safe_close(r->fd);
        r->fd = fd;
        r->dev = st.st_dev;
        r->ino = st.st_ino;
        r->file = path;
        audit_line_reader_reset(&r->lr, fd);
        return 0;
}

_public_ int audit_reader_open(const char *path, bool rotated, AuditReader **ret) {
        _cleanup_(audit_reader_freep) AuditReader *r = NULL;
        unsigned n = 0;
        int k;

        if (!path || !ret)
                return -EINVAL;
        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->fd = r->inotify_fd = -1;
        r->path = strdup(path);
        if (!r->path)
                return -ENOMEM;
        if (rotated)
                for (;; n++) {
                        _cleanup_free_ char *p = NULL;
                        if (n >= AUDIT_KEEP_MAX || audit_rotated_path(path, n + 1, &p) < 0 ||
                            access(p, F_OK) < 0)
                                break;
                }
        r->files = calloc(n + 1, sizeof(char *));
        if (!r->files)
                return -ENOMEM;
        for (unsigned i = 0; i < n; i++) {
                k = audit_rotated_path(path, n - i, &r->files[i]);
                if (k < 0)
                        return k;
                r->n_files++;
        }
        r->files[n] = strdup(path);
        if (!r->files[n])
                return -ENOMEM;
        r->n_files++;
        k = open_file(r, r->files[0]);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(r);
        return 0;
}

_public_ uint64_t audit_reader_get_line_number(const AuditReader *r) {
        return r->line_no;
}

_public_ const char *audit_reader_get_file(const AuditReader *r) {
        return r->file;
}

_public_ int audit_reader_next(AuditReader *r, json_t **ret_record, const char **ret_line, size_t *ret_len) {
        for (;;) {
                const char *line;
                size_t len;
                json_t *j;
                int k;

                k = audit_line_reader_next(&r->lr, &line, &len, NULL, &r->line_no);
                if (k == -E2BIG) {
                        if (ret_line)
                                *ret_line = "";
                        if (ret_len)
                                *ret_len = 0;
                        return -EBADMSG;
                }
                if (k < 0)
                        return k;
                if (k == 0) {
                        /* End of this file: move on to the next one (the
                         * rotated files are complete), or to the new file
                         * after a rotation while following. */
                        if (r->i_file + 1 < r->n_files) {
                                r->i_file++;
                                k = open_file(r, r->files[r->i_file]);
                                if (k < 0)
                                        return k;
                                continue;
                        }
                        if (r->switch_pending) {
                                k = open_file(r, r->path);
                                if (k == -ENOENT)
                                        return 0;
                                if (k < 0)
                                        return k;
                                r->switch_pending = false;
                                continue;
                        }
                        return 0;
                }
                if (ret_line)
                        *ret_line = line;
                if (ret_len)
                        *ret_len = len;
                j = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
                if (!json_is_object(j)) {
                        json_decref(j);
                        return -EBADMSG;
                }
                if (ret_record)
                        *ret_record = j;
                else
                        json_decref(j);
                return 1;
        }
}

/* Has path been replaced (rotated) since we opened it? */
static bool replaced(AuditReader *r) {
        struct stat st;

        if (stat(r->path, &st) < 0)
                return false; /* gone for now: keep reading the old one */
        return st.st_dev != r->dev || st.st_ino != r->ino;
}

static bool grown(AuditReader *r) {
        struct stat st;

        return fstat(r->fd, &st) == 0 && (uint64_t) st.st_size > r->lr.offset + (r->lr.end - r->lr.start);
}

_public_ int audit_reader_wait(AuditReader *r, uint64_t timeout_usec) {
        uint64_t start, now;

        /* (After a rotation was seen, replaced() below keeps returning true
         * once the new file exists; while it does not, we wait, not spin.) */
        if (r->i_file + 1 < r->n_files)
                return 1;
        if (r->inotify_fd < 0) {
                _cleanup_free_ char *dir = NULL;
                const char *slash = strrchr(r->path, '/');

                dir = slash ? strndup(r->path, slash == r->path ? 1 : (size_t) (slash - r->path)) : strdup(".");
                if (!dir)
                        return -ENOMEM;
                /* Best effort: without inotify we poll once a second. */
                r->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
                if (r->inotify_fd >= 0 &&
                    inotify_add_watch(r->inotify_fd, dir,
                                      IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE) < 0)
                        r->inotify_fd = safe_close(r->inotify_fd);
        }
        start = clock_usec(CLOCK_MONOTONIC);
        for (;;) {
                struct pollfd pfd = { .fd = r->inotify_fd, .events = POLLIN };
                uint64_t left;
                int ms;

                if (grown(r))
                        return 1;
                if (replaced(r)) {
                        r->switch_pending = true;
                        return 1;
                }
                now = clock_usec(CLOCK_MONOTONIC);
                if (timeout_usec != UINT64_MAX && now - start >= timeout_usec)
                        return 0;
                left = timeout_usec == UINT64_MAX ? UINT64_MAX : timeout_usec - (now - start);
                ms = (int) MIN(left / 1000 + 1, (uint64_t) (r->inotify_fd >= 0 ? 1000 : 100));
                if (poll(&pfd, r->inotify_fd >= 0 ? 1 : 0, ms) < 0 && errno != EINTR)
                        return -errno;
                if (r->inotify_fd >= 0) {
                        char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
                        while (read(r->inotify_fd, ev, sizeof(ev)) > 0)
                                ;
                }
        }
}
