/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttlectl ps: the containers under the state directory. */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/verb-options.h"
#include "common/parse.h"
#include "shuttle/host/broker-client.h"

static const char ps_usage[] =
        "Usage: shuttlectl ps [OPTIONS]\n"
        "\n"
        "List running containers: name, app group, state, pid of the init (as the\n"
        "host sees it), uptime, limits (memory, processes, CPUs; - for none) and\n"
        "command.  A container the broker mediates in learn mode (see 'shuttlectl\n"
        "run') is in state LEARNING, in red on a terminal.\n"
        "\n"
        "Options:\n"
        "      --format FORMAT   table (default) or json: an array of objects\n"
        "      --json            the same as --format json\n"
        "  -a, --all             also list stale entries (their shuttlectl died)\n"
        "      --state-dir DIR   runtime state (default /run/shuttle)\n"
        "  -h, --help            show this help\n";

typedef struct Row {
        char uptime[32], memory[32], pids[32], cpus[32], pid[16];
        const char *state;
        bool learn;
        char *command;
} Row;

static const char *state_of(const StateInfo *s) {
        if (!s->alive)
                return "stale";
        return s->init_pid > 0 ? "running" : "starting";
}

static int64_t uptime_of(const StateInfo *s) {
        int64_t now = (int64_t) time(NULL);
        return s->created > 0 && now > s->created ? now - s->created : 0;
}

static void format_uptime(char *buf, size_t size, int64_t sec) {
        if (sec < 60)
                snprintf(buf, size, "%" PRId64 "s", sec);
        else if (sec < 3600)
                snprintf(buf, size, "%" PRId64 "m%02" PRId64 "s", sec / 60, sec % 60);
        else if (sec < 86400)
                snprintf(buf, size, "%" PRId64 "h%02" PRId64 "m", sec / 3600, sec % 3600 / 60);
        else
                snprintf(buf, size, "%" PRId64 "d%02" PRId64 "h", sec / 86400, sec % 86400 / 3600);
}

static double cpus_of(const StateInfo *s) {
        uint64_t period = s->limits.cpu_period_usec ?: CPU_PERIOD_USEC;
        return (double) s->limits.cpu_quota_usec / (double) period;
}

/* "0.5", "2", "1.25". */
static void format_cpus(char *buf, size_t size, const StateInfo *s) {
        char *e;

        if (!s->limits.cpu_quota_usec) {
                snprintf(buf, size, "-");
                return;
        }
        snprintf(buf, size, "%.2f", cpus_of(s));
        e = buf + strlen(buf) - 1;
        while (*e == '0')
                *e-- = '\0';
        if (*e == '.')
                *e = '\0';
}

/* Arguments joined by spaces; one with a space or quote, or an empty one,
 * in single quotes; control characters escaped so a row stays one line. */
static char *format_command(char *const *argv) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        for (size_t i = 0; argv && argv[i]; i++) {
                if (i > 0)
                        fputc(' ', f);
                bool quote = !argv[i][0] || strpbrk(argv[i], " \t\n'\"\\$");
                if (quote)
                        fputc('\'', f);
                /* One line per container: control characters as \n, \t, \xNN. */
                for (const unsigned char *c = (const unsigned char *) argv[i]; *c; c++)
                        if (*c == '\n')
                                fputs("\\n", f);
                        else if (*c == '\t')
                                fputs("\\t", f);
                        else if (*c < 0x20 || *c == 0x7f)
                                fprintf(f, "\\x%02x", *c);
                        else
                                fputc(*c, f);
                if (quote)
                        fputc('\'', f);
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

/* Running, and the broker lets it do what the policy would deny. */
static bool learning(const char *state_dir, const StateInfo *s) {
        return s->alive && s->init_pid > 0 && broker_container_learns(state_dir, s->name);
}

static int print_table(const char *state_dir, const StateInfo *a, size_t n) {
        bool color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
        static const char *const head[] = { "NAME", "GROUP", "STATE", "PID", "UPTIME", "MEMORY", "PIDS", "CPUS" };
        size_t w[ELEMENTSOF(head)];
        Row *rows = calloc(n ? n : 1, sizeof(Row));

        if (!rows)
                return log_oom();
        for (size_t c = 0; c < ELEMENTSOF(head); c++)
                w[c] = strlen(head[c]);
        for (size_t i = 0; i < n; i++) {
                const StateInfo *s = &a[i];
                Row *r = &rows[i];
                const char *cells[ELEMENTSOF(head)];

                r->state = state_of(s);
                r->learn = learning(state_dir, s);
                if (r->learn)
                        r->state = "LEARNING";
                if (s->init_pid > 0)
                        snprintf(r->pid, sizeof(r->pid), "%d", (int) s->init_pid);
                else
                        snprintf(r->pid, sizeof(r->pid), "-");
                format_uptime(r->uptime, sizeof(r->uptime), uptime_of(s));
                if (s->limits.memory_bytes)
                        format_size(r->memory, sizeof(r->memory), s->limits.memory_bytes);
                else
                        snprintf(r->memory, sizeof(r->memory), "-");
                if (s->limits.pids_max)
                        snprintf(r->pids, sizeof(r->pids), "%" PRIu64, s->limits.pids_max);
                else
                        snprintf(r->pids, sizeof(r->pids), "-");
                format_cpus(r->cpus, sizeof(r->cpus), s);
                r->command = format_command(s->command);

                cells[0] = s->name;
                cells[1] = s->group ?: "-";
                cells[2] = r->state;
                cells[3] = r->pid;
                cells[4] = r->uptime;
                cells[5] = r->memory;
                cells[6] = r->pids;
                cells[7] = r->cpus;
                for (size_t c = 0; c < ELEMENTSOF(head); c++)
                        w[c] = MAX(w[c], strlen(cells[c]));
        }

        for (size_t c = 0; c < ELEMENTSOF(head); c++)
                printf("%-*s  ", (int) w[c], head[c]);
        printf("COMMAND\n");
        for (size_t i = 0; i < n; i++) {
                const Row *r = &rows[i];
                printf("%-*s  %-*s  %s%-*s%s  %-*s  %-*s  %-*s  %-*s  %-*s  %s\n", (int) w[0], a[i].name, (int) w[1],
                       a[i].group ?: "-", r->learn && color ? "\033[1;31m" : "", (int) w[2], r->state,
                       r->learn && color ? "\033[0m" : "", (int) w[3], r->pid, (int) w[4], r->uptime,
                       (int) w[5], r->memory, (int) w[6], r->pids, (int) w[7], r->cpus, r->command ?: "");
        }
        for (size_t i = 0; i < n; i++)
                free(rows[i].command);
        free(rows);
        return 0;
}

static json_t *strv_json(char *const *v) {
        json_t *a = json_array();
        for (size_t i = 0; a && v && v[i]; i++)
                json_array_append_new(a, json_string(v[i]));
        return a;
}

#define NULL_OR_INT(cond, v) ((cond) ? json_integer((json_int_t) (v)) : json_null())

static int print_json(const char *state_dir, const StateInfo *a, size_t n) {
        json_t *arr = json_array();
        char *text;

        if (!arr)
                return log_oom();
        for (size_t i = 0; i < n; i++) {
                const StateInfo *s = &a[i];
                json_t *o = json_pack(
                        "{s:s, s:s?, s:s, s:o, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:s?, s:s?, s:s?, s:b, s:b}", "name",
                        s->name, "group", s->group, "state", state_of(s), "pid",
                        NULL_OR_INT(s->init_pid > 0, s->init_pid), "owner_pid",
                        NULL_OR_INT(s->owner_pid > 0, s->owner_pid), "created", (json_int_t) s->created,
                        "uptime", (json_int_t) uptime_of(s), "memory",
                        NULL_OR_INT(s->limits.memory_bytes, s->limits.memory_bytes), "pids",
                        NULL_OR_INT(s->limits.pids_max, s->limits.pids_max), "cpus",
                        s->limits.cpu_quota_usec ? json_real(cpus_of(s)) : json_null(), "command",
                        strv_json(s->command), "hostname", s->hostname ?: s->name, "net", s->net, "workdir",
                        s->workdir, "detached", s->detached, "learn", learning(state_dir, s));
                if (!o || json_array_append_new(arr, o) < 0) {
                        json_decref(arr);
                        return log_oom();
                }
        }
        text = json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(arr);
        if (!text)
                return log_oom();
        printf("%s\n", text);
        free(text);
        return 0;
}

int verb_ps(int argc, char **argv) {
        enum { ARG_FORMAT = 0x100, ARG_JSON, ARG_STATE_DIR };
        static const struct option options[] = {
                { "format", required_argument, NULL, ARG_FORMAT },
                { "json", no_argument, NULL, ARG_JSON },
                { "all", no_argument, NULL, 'a' },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *state_dir = STATE_DIR_DEFAULT;
        StateInfo *a = NULL;
        size_t n = 0, kept = 0;
        bool json = false, all = false;
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:ah", options, NULL)) >= 0)
                switch (c) {
                case ARG_FORMAT:
                        if (streq(optarg, "json"))
                                json = true;
                        else if (streq(optarg, "table"))
                                json = false;
                        else {
                                log_error("ps: --format: '%s': expected 'table' or 'json'", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_JSON:
                        json = true;
                        break;
                case 'a':
                        all = true;
                        break;
                case ARG_STATE_DIR:
                        if (verb_state_dir("ps", optarg, &state_dir) != 0)
                                return EXIT_USAGE;
                        break;
                case 'h':
                        fputs(ps_usage, stdout);
                        return 0;
                default:
                        return verb_option_error("ps", c, argv);
                }
        if (optind < argc) {
                log_error("ps: unexpected argument '%s' (see 'shuttlectl ps --help')", argv[optind]);
                return EXIT_USAGE;
        }

        r = state_info_list(state_dir, &a, &n);
        if (r < 0) {
                log_error_errno(r, "ps: cannot read '%s': %m", state_dir);
                return 1;
        }
        /* Stale entries are not running: only with --all. */
        for (size_t i = 0; i < n; i++) {
                if (!all && !a[i].alive) {
                        state_info_done(&a[i]);
                        continue;
                }
                if (kept != i) {
                        a[kept] = a[i];
                        a[i] = (StateInfo){};
                }
                kept++;
        }
        r = json ? print_json(state_dir, a, kept) : print_table(state_dir, a, kept);
        state_info_free_array(a, n);
        return r < 0 ? 1 : 0;
}
