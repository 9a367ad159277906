/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttlectl logs: the output a group supervisor saved for a container. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/verb-options.h"
#include "common/fileio.h"
#include "common/parse.h"
#include "common/time-util.h"
#include "shuttle/audit/audit.h"
#include "shuttle/supervisor/logline.h"

static const char logs_usage[] =
        "Usage: shuttlectl logs [OPTIONS] NAME\n"
        "\n"
        "Print the output of the app group container NAME, as its group's\n"
        "supervisor saved it in the group's last run, or of a container that\n"
        "'shuttlectl run' started detached.\n"
        "\n"
        "Options:\n"
        "  -n, --lines N         only the last N lines\n"
        "  -f, --follow          keep printing what is appended, until interrupted or\n"
        "                        until the container is no longer running\n"
        "  -t, --timestamps      start each line with the time it was written (UTC)\n"
        "      --since TIME      only lines written at or after TIME: RFC 3339\n"
        "                        (2024-05-01T12:00:00Z) or an age (30s, 10m, 1h)\n"
        "      --previous        the log of the run before the last\n"
        "      --state-dir DIR   runtime state (default /run/shuttle)\n"
        "  -h, --help            show this help\n";

#define FOLLOW_POLL_NSEC (200 * 1000 * 1000L)

/* Offset where the last `lines` lines of the file start (a final newline
 * does not start another line). */
static int tail_offset(int fd, uint64_t lines, off_t *ret) {
        char buf[8192];
        struct stat st;
        uint64_t seen = 0;
        off_t pos;

        if (fstat(fd, &st) < 0)
                return -errno;
        pos = st.st_size;
        if (lines == 0) {
                *ret = pos;
                return 0;
        }
        while (pos > 0) {
                size_t n = (size_t) MIN((off_t) sizeof(buf), pos);
                ssize_t k;

                pos -= (off_t) n;
                k = pread(fd, buf, n, pos);
                if (k < 0)
                        return -errno;
                if ((size_t) k != n)
                        return -EIO;
                for (size_t i = n; i-- > 0;) {
                        if (buf[i] != '\n' || pos + (off_t) i == st.st_size - 1)
                                continue;
                        if (++seen == lines) {
                                *ret = pos + (off_t) i + 1;
                                return 0;
                        }
                }
        }
        *ret = 0;
        return 0;
}

static int sink_stdout(const char *data, size_t len, void *userdata) {
        (void) userdata;
        return loop_write(STDOUT_FILENO, data, len);
}

/* Copies fd from its offset to the end to stdout, through the filter that
 * takes the stamps off (or keeps them) and leaves out old lines.  Returns
 * the number of bytes read or a negative errno. */
static ssize_t copy_out(int fd, LoglineFilter *f) {
        char buf[65536];
        ssize_t total = 0;

        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                int r;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return total;
                r = logline_filter(f, buf, (size_t) n, sink_stdout, NULL);
                if (r < 0)
                        return r;
                total += n;
        }
}

/* Whether more output can come: the container is running. */
static bool is_running(const char *state_dir, const char *name) {
        StateInfo s = {};
        bool alive = false;

        if (state_info_load(state_dir, name, &s) >= 0)
                alive = s.alive;
        state_info_done(&s);
        return alive;
}

static int follow(int fd, LoglineFilter *f, const char *state_dir, const char *name) {
        for (;;) {
                struct timespec ts = { .tv_nsec = FOLLOW_POLL_NSEC };
                struct stat st;
                bool grow;
                ssize_t n;

                /* Asked before reading, so that nothing written before the
                 * end is missed. */
                grow = is_running(state_dir, name);
                n = copy_out(fd, f);
                if (n < 0)
                        return (int) n;
                if (n > 0)
                        continue;
                if (!grow)
                        return logline_filter_end(f, sink_stdout, NULL);
                /* Truncated under us: start over. */
                if (fstat(fd, &st) == 0 && st.st_size < lseek(fd, 0, SEEK_CUR)) {
                        (void) lseek(fd, 0, SEEK_SET);
                        f->state = LOGLINE_AT_START;
                        f->pre_len = 0;
                }
                (void) nanosleep(&ts, NULL);
        }
}

/* Opens the log of name's last run (or the one before, with previous).
 * The log outlives its container, so that what a container wrote before it
 * ended can be read; but a plain container running under the same name
 * now is not the one that wrote it, and must not be shown as its output. */
static int open_log(const char *state_dir, const char *name, bool previous, char path[static PATH_MAX]) {
        StateInfo info = {};
        bool plain_running;
        int fd;

        if (!container_name_is_valid(name) ||
            (size_t) snprintf(path, PATH_MAX, "%s/logs/%s.log%s", state_dir, name, previous ? ".1" : "") >= PATH_MAX) {
                log_error("logs: no container named '%s'", name);
                return -1;
        }
        plain_running = state_info_load(state_dir, name, &info) >= 0 && info.alive && !info.group && !info.detached;
        state_info_done(&info);
        if (plain_running) {
                log_error("container '%s' has no log: it is not of an app group nor detached, and a plain "
                          "`shuttlectl run` writes to its terminal",
                          name);
                return -1;
        }
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT) {
                if (previous)
                        log_error("container '%s' has no log of an earlier run", name);
                else
                        log_error("container '%s' has no log: only containers of app groups and detached ones are "
                                  "logged; a plain `shuttlectl run` writes to its terminal",
                                  name);
                return -1;
        }
        if (fd < 0) {
                log_error_errno(-errno, "logs: cannot open '%s': %m", path);
                return -1;
        }
        return fd;
}

int verb_logs(int argc, char **argv) {
        enum { ARG_STATE_DIR = 0x100, ARG_SINCE, ARG_PREVIOUS };
        static const struct option options[] = {
                { "lines", required_argument, NULL, 'n' },
                { "follow", no_argument, NULL, 'f' },
                { "timestamps", no_argument, NULL, 't' },
                { "since", required_argument, NULL, ARG_SINCE },
                { "previous", no_argument, NULL, ARG_PREVIOUS },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *state_dir = STATE_DIR_DEFAULT, *name;
        _cleanup_close_ int fd = -1;
        bool do_follow = false, have_lines = false, previous = false;
        LoglineFilter filter = {};
        uint64_t lines = 0;
        char path[PATH_MAX];
        off_t start = 0;
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:n:fth", options, NULL)) >= 0)
                switch (c) {
                case 'n':
                        if (parse_uint64(optarg, &lines) < 0) {
                                log_error("logs: --lines: '%s': expected a number of lines", optarg);
                                return EXIT_USAGE;
                        }
                        have_lines = true;
                        break;
                case 'f':
                        do_follow = true;
                        break;
                case 't':
                        filter.timestamps = true;
                        break;
                case ARG_SINCE:
                        if (audit_parse_since(optarg, clock_usec(CLOCK_REALTIME), &filter.since_usec) < 0) {
                                log_error("logs: --since: '%s': expected an RFC 3339 time such as "
                                          "2024-05-01T12:00:00Z or an age such as 10m",
                                          optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_PREVIOUS:
                        previous = true;
                        break;
                case ARG_STATE_DIR:
                        if (verb_state_dir("logs", optarg, &state_dir) != 0)
                                return EXIT_USAGE;
                        break;
                case 'h':
                        fputs(logs_usage, stdout);
                        return 0;
                default:
                        return verb_option_error("logs", c, argv);
                }
        if (optind >= argc) {
                log_error("logs: missing container name (usage: shuttlectl logs [OPTIONS] NAME)");
                return EXIT_USAGE;
        }
        if (argc - optind > 1) {
                log_error("logs: unexpected argument '%s' (see 'shuttlectl logs --help')", argv[optind + 1]);
                return EXIT_USAGE;
        }
        name = argv[optind];
        if (previous && do_follow) {
                log_error("logs: --previous and --follow do not go together: an earlier run's log is complete");
                return EXIT_USAGE;
        }

        fd = open_log(state_dir, name, previous, path);
        if (fd < 0)
                return 1;

        if (have_lines) {
                r = tail_offset(fd, lines, &start);
                if (r < 0) {
                        log_error_errno(r, "logs: reading '%s': %m", path);
                        return 1;
                }
                if (lseek(fd, start, SEEK_SET) < 0) {
                        log_error_errno(-errno, "logs: reading '%s': %m", path);
                        return 1;
                }
        }
        if (do_follow)
                r = follow(fd, &filter, state_dir, name);
        else {
                ssize_t n = copy_out(fd, &filter);
                r = n < 0 ? (int) n : logline_filter_end(&filter, sink_stdout, NULL);
        }
        if (r < 0) {
                log_error_errno(r, "logs: reading '%s': %m", path);
                return 1;
        }
        return 0;
}
