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
#include "common/parse.h"

static const char logs_usage[] =
        "Usage: shuttlectl logs [OPTIONS] NAME\n"
        "\n"
        "Print the output of the app group container NAME, as its group's\n"
        "supervisor saved it.\n"
        "\n"
        "Options:\n"
        "  -n, --lines N         only the last N lines\n"
        "  -f, --follow          keep printing what is appended, until interrupted or\n"
        "                        until the container is no longer running\n"
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

/* Copies fd from its offset to the end to stdout.  Returns the number of
 * bytes copied or a negative errno. */
static ssize_t copy_out(int fd) {
        char buf[65536];
        ssize_t total = 0;

        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return total;
                for (ssize_t off = 0; off < n;) {
                        ssize_t w = write(STDOUT_FILENO, buf + off, (size_t) (n - off));
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0)
                                return -errno;
                        off += w;
                }
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

static int follow(int fd, const char *state_dir, const char *name) {
        for (;;) {
                struct timespec ts = { .tv_nsec = FOLLOW_POLL_NSEC };
                struct stat st;
                bool grow;
                ssize_t n;

                /* Asked before reading, so that nothing written before the
                 * end is missed. */
                grow = is_running(state_dir, name);
                n = copy_out(fd);
                if (n < 0)
                        return (int) n;
                if (n > 0)
                        continue;
                if (!grow)
                        return 0;
                /* Truncated under us: start over. */
                if (fstat(fd, &st) == 0 && st.st_size < lseek(fd, 0, SEEK_CUR))
                        (void) lseek(fd, 0, SEEK_SET);
                (void) nanosleep(&ts, NULL);
        }
}

int verb_logs(int argc, char **argv) {
        enum { ARG_STATE_DIR = 0x100 };
        static const struct option options[] = {
                { "lines", required_argument, NULL, 'n' },
                { "follow", no_argument, NULL, 'f' },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *state_dir = STATE_DIR_DEFAULT, *name;
        _cleanup_close_ int fd = -1;
        bool do_follow = false, have_lines = false;
        uint64_t lines = 0;
        char path[PATH_MAX];
        off_t start = 0;
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:n:fh", options, NULL)) >= 0)
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

        if (!container_name_is_valid(name) ||
            (size_t) snprintf(path, sizeof(path), "%s/logs/%s.log", state_dir, name) >= sizeof(path))
                fd = -ENOENT;
        else
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0) {
                r = fd == -ENOENT || errno == ENOENT ? -ENOENT : -errno;
                fd = -1;
                if (r == -ENOENT) {
                        log_error("container '%s' has no log: only containers of app groups are logged; a plain "
                                  "`shuttlectl run` writes to its terminal",
                                  name);
                        return 1;
                }
                log_error_errno(r, "logs: cannot open '%s': %m", path);
                return 1;
        }

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
                r = follow(fd, state_dir, name);
        else {
                ssize_t n = copy_out(fd);
                r = n < 0 ? (int) n : 0;
        }
        if (r < 0) {
                log_error_errno(r, "logs: reading '%s': %m", path);
                return 1;
        }
        return 0;
}
