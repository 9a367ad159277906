/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttlectl audit graph: who talked to whom, as a picture (a front end to
 * audit-graph.h).  SVG and PNG come from Graphviz's `dot`, run as a child
 * with the DOT text on its stdin: see shuttlectl(1) for why not libgvc. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/audit-graph.h"
#include "cli/verb-options.h"
#include "cli/verbs.h"
#include "common/log.h"
#include "common/time-util.h"
#include "shuttle/audit/audit.h"

extern char **environ;

typedef enum GraphFormat {
        FORMAT_DOT,
        FORMAT_SVG,
        FORMAT_PNG,
        FORMAT_JSON,
        _FORMAT_MAX,
        _FORMAT_INVALID = -1,
} GraphFormat;

static const char *const format_names[_FORMAT_MAX] = {
        [FORMAT_DOT] = "dot",
        [FORMAT_SVG] = "svg",
        [FORMAT_PNG] = "png",
        [FORMAT_JSON] = "json",
};

static GraphFormat format_from_string(const char *s) {
        for (int i = 0; i < _FORMAT_MAX; i++)
                if (streq(s, format_names[i]))
                        return i;
        return _FORMAT_INVALID;
}

/* From the output file's name: .dot/.gv, .svg, .png, .json. */
static GraphFormat format_from_name(const char *path) {
        const char *dot = strrchr(path, '.');

        if (!dot || strchr(dot, '/'))
                return _FORMAT_INVALID;
        if (streq(dot, ".gv"))
                return FORMAT_DOT;
        return format_from_string(dot + 1);
}

typedef struct GraphArgs {
        const char *file, *state_dir, *output;
        char origin[PATH_MAX + 64];
        bool all;
        GraphFormat format;
        const char **policies;
        size_t n_policies;
        AuditGraph *graph;
} GraphArgs;

static void help(void) {
        printf("Usage: shuttlectl audit graph [OPTIONS...]\n\n"
               "Draw who talked to whom from the audit log: containers clustered by app group,\n"
               "one edge per (from, to, kind) with the requests allowed and denied and the\n"
               "rules that decided them.\n\n"
               "  --file PATH            the log to read (default: as for 'shuttlectl audit')\n"
               "  --state-dir DIR        the log of the broker whose state is in DIR\n"
               "  --all                  also read the rotated files PATH.N ... PATH.1 first\n"
               "  --since TIME           only requests at or after TIME: RFC 3339\n"
               "                         (2024-05-01T12:00:00Z) or an age (30s, 10m, 1h)\n"
               "  --until TIME           only requests before TIME (the same forms)\n"
               "  --from NAME            only requests from NAME (a glob)\n"
               "  --to NAME              only requests to NAME (a glob)\n"
               "  --kind KIND            only this kind (a glob): ipc, invoke, transfer, ...\n"
               "  --policy FILE          overlay what this policy allows (repeat for more\n"
               "                         files): edges it allows that were never used dashed,\n"
               "                         used edges it does not allow marked\n"
               "  --format FORMAT        dot (default), svg, png (both through Graphviz's\n"
               "                         'dot'), or json; default from --output's suffix\n"
               "  -o, --output PATH      write there (replaced only once complete) instead of\n"
               "                         standard output\n"
               "  -h, --help             show this help\n\n"
               "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

static int add_policy(GraphArgs *a, const char *path) {
        const char **p = reallocarray(a->policies, a->n_policies + 1, sizeof(char *));

        if (!p)
                return log_oom();
        p[a->n_policies++] = path;
        a->policies = p;
        return 0;
}

static int parse_time(const char *opt, const char *arg, uint64_t *ret) {
        if (audit_parse_since(arg, clock_usec(CLOCK_REALTIME), ret) < 0) {
                log_error("audit graph: invalid %s '%s' (expected an RFC 3339 time such as "
                          "2024-05-01T12:00:00Z, or an age such as 10m or 1h)",
                          opt, arg);
                return -EINVAL;
        }
        return 0;
}

static int parse_args(int argc, char **argv, GraphArgs *a) {
        enum {
                ARG_FILE = 0x100, ARG_STATE_DIR, ARG_ALL, ARG_SINCE, ARG_UNTIL, ARG_FROM, ARG_TO, ARG_KIND,
                ARG_POLICY, ARG_FORMAT,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "file", required_argument, NULL, ARG_FILE },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "all", no_argument, NULL, ARG_ALL },
                { "since", required_argument, NULL, ARG_SINCE },
                { "until", required_argument, NULL, ARG_UNTIL },
                { "from", required_argument, NULL, ARG_FROM },
                { "to", required_argument, NULL, ARG_TO },
                { "kind", required_argument, NULL, ARG_KIND },
                { "policy", required_argument, NULL, ARG_POLICY },
                { "format", required_argument, NULL, ARG_FORMAT },
                { "output", required_argument, NULL, 'o' },
                {},
        };
        AuditGraph *g = a->graph;
        bool format_given = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:ho:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_FILE:
                        if (!*optarg) {
                                log_error("audit graph: --file needs a path");
                                return -EINVAL;
                        }
                        a->file = optarg;
                        break;
                case ARG_STATE_DIR:
                        if (verb_state_dir("audit graph", optarg, &a->state_dir) != 0)
                                return -EINVAL;
                        break;
                case ARG_ALL:
                        a->all = true;
                        break;
                case ARG_SINCE:
                        if (parse_time("--since", optarg, &g->since_usec) < 0)
                                return -EINVAL;
                        break;
                case ARG_UNTIL:
                        if (parse_time("--until", optarg, &g->until_usec) < 0)
                                return -EINVAL;
                        break;
                case ARG_FROM:
                        g->from_glob = optarg;
                        break;
                case ARG_TO:
                        g->to_glob = optarg;
                        break;
                case ARG_KIND:
                        g->kind_glob = optarg;
                        break;
                case ARG_POLICY:
                        if (!*optarg) {
                                log_error("audit graph: --policy needs a file");
                                return -EINVAL;
                        }
                        if (add_policy(a, optarg) < 0)
                                return -ENOMEM;
                        break;
                case ARG_FORMAT:
                        a->format = format_from_string(optarg);
                        if (a->format < 0) {
                                log_error("audit graph: invalid --format '%s' (expected dot, svg, png or json)",
                                          optarg);
                                return -EINVAL;
                        }
                        format_given = true;
                        break;
                case 'o':
                        if (!*optarg) {
                                log_error("audit graph: --output needs a path");
                                return -EINVAL;
                        }
                        a->output = optarg;
                        break;
                case ':':
                case '?':
                default:
                        verb_option_error("audit graph", c, argv);
                        return -EINVAL;
                }
        if (optind < argc) {
                log_error("audit graph: unexpected argument '%s' (see 'shuttlectl audit graph --help')",
                          argv[optind]);
                return -EINVAL;
        }
        if (a->file && a->state_dir) {
                log_error("audit graph: --file and --state-dir cannot be combined (--file names the log itself)");
                return -EINVAL;
        }
        if (g->since_usec > 0 && g->until_usec > 0 && g->until_usec <= g->since_usec) {
                log_error("audit graph: --until must be later than --since");
                return -EINVAL;
        }
        if (!format_given) {
                GraphFormat f = a->output ? format_from_name(a->output) : _FORMAT_INVALID;
                a->format = f >= 0 ? f : FORMAT_DOT;
        }
        if (a->format == FORMAT_PNG && !a->output && isatty(STDOUT_FILENO)) {
                log_error("audit graph: not writing a PNG to a terminal (use --output FILE.png)");
                return -EINVAL;
        }
        return 1;
}

static int read_log(GraphArgs *a) {
        _cleanup_(audit_reader_freep) AuditReader *r = NULL;
        uint64_t bad = 0, first_bad = 0;
        int k;

        k = audit_reader_open(a->file, a->all, &r);
        if (k < 0)
                return log_error_errno(k, "Failed to open audit log '%s'%s: %m", a->file, a->origin);
        for (;;) {
                json_t *rec = NULL;

                k = audit_reader_next(r, &rec, NULL, NULL);
                if (k == -EBADMSG) {
                        if (bad++ == 0)
                                first_bad = audit_reader_get_line_number(r);
                        continue;
                }
                if (k < 0)
                        return log_error_errno(k, "Failed to read '%s': %m", audit_reader_get_file(r));
                if (k == 0)
                        break;
                k = audit_graph_add_record(a->graph, rec);
                json_decref(rec);
                if (k < 0)
                        return log_oom();
        }
        if (bad > 0)
                log_warning("%s: %" PRIu64 " line%s not JSON records, skipped (the first: line %" PRIu64 ")",
                            a->file, bad, bad == 1 ? "" : "s", first_bad);
        return 0;
}

static int overlay(GraphArgs *a) {
        _cleanup_(policy_unrefp) Policy *p = NULL;
        PolicyDiagnostics diags = {};
        int r;

        r = policy_load(a->policies, a->n_policies, &p, &diags);
        policy_diagnostics_print(&diags, stderr);
        policy_diagnostics_clear(&diags);
        if (r == -EINVAL)
                return log_error_errno(r, "audit graph: the policy was refused (errors above)");
        if (r < 0)
                return log_error_errno(r, "Failed to load the policy: %m");
        r = audit_graph_add_policy(a->graph, p, time(NULL));
        if (r < 0)
                return log_error_errno(r, "Failed to overlay the policy: %m");
        return 0;
}

/* Graphviz's dot in PATH, as posix_spawnp() would find it. */
static bool have_dot(void) {
        const char *path = getenv("PATH") ?: "/usr/local/bin:/usr/bin:/bin";
        _cleanup_free_ char *copy = strdup(path);
        char *save = NULL;

        if (!copy)
                return false;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/dot", *d ? d : ".") >= 0 && access(p, X_OK) == 0)
                        return true;
        }
        return false;
}

/* Runs dot -T<format> with the graph on its stdin and its stdout on
 * out_fd. */
static int render(const AuditGraph *g, GraphFormat format, int out_fd) {
        char tflag[8];
        char *args[] = { (char *) "dot", tflag, NULL };
        posix_spawn_file_actions_t fa;
        int pipefd[2], status, r;
        struct sigaction old, ign = { .sa_handler = SIG_IGN };
        pid_t pid;
        FILE *f;

        snprintf(tflag, sizeof(tflag), "-T%s", format_names[format]);
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return log_error_errno(-errno, "Failed to create a pipe: %m");
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, pipefd[0], STDIN_FILENO);
        if (out_fd != STDOUT_FILENO)
                posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
        r = posix_spawnp(&pid, "dot", &fa, NULL, args, environ);
        posix_spawn_file_actions_destroy(&fa);
        safe_close(pipefd[0]);
        if (r != 0) {
                safe_close(pipefd[1]);
                return log_error_errno(-r, "Failed to run Graphviz's dot: %m");
        }

        /* A dot that dies early must not kill us with SIGPIPE: its exit
         * status says what happened. */
        sigaction(SIGPIPE, &ign, &old);
        f = fdopen(pipefd[1], "w");
        if (!f)
                safe_close(pipefd[1]);
        else {
                audit_graph_write_dot(g, f);
                fclose(f);
        }
        while ((r = waitpid(pid, &status, 0) < 0 ? -errno : 0) == -EINTR)
                ;
        sigaction(SIGPIPE, &old, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to wait for dot: %m");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                if (WIFSIGNALED(status))
                        log_error("audit graph: dot was killed by signal %d", WTERMSIG(status));
                else
                        log_error("audit graph: dot failed (exit status %d)", WEXITSTATUS(status));
                return -EIO;
        }
        return 0;
}

static int write_out(const GraphArgs *a, int fd) {
        _cleanup_(fclosep) FILE *f = NULL;
        int r;

        if (a->format == FORMAT_SVG || a->format == FORMAT_PNG)
                return render(a->graph, a->format, fd);

        f = fdopen(dup(fd), "w");
        if (!f)
                return log_error_errno(-errno, "Failed to write output: %m");
        if (a->format == FORMAT_JSON) {
                json_t *j = audit_graph_to_json(a->graph);
                if (!j)
                        return log_oom();
                r = json_dumpf(j, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0 ? -EIO : 0;
                json_decref(j);
                if (r >= 0)
                        fputc('\n', f);
        } else
                r = audit_graph_write_dot(a->graph, f);
        if (r >= 0 && fflush(f) != 0)
                r = -errno;
        if (r < 0)
                return log_error_errno(r, "Failed to write output%s%s: %m", a->output ? " to " : "",
                                       a->output ?: "");
        return 0;
}

/* Into a temporary file beside the output, renamed over it once complete:
 * a failed run leaves whatever was there before. */
static int write_file(const GraphArgs *a) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        mode_t mask;
        int r;

        if (asprintf(&tmp, "%s.XXXXXX", a->output) < 0)
                return log_oom();
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(-errno, "Failed to create a file beside '%s': %m", a->output);
        mask = umask(0);
        umask(mask);
        r = write_out(a, fd);
        if (r >= 0 && fchmod(fd, 0666 & ~mask) < 0)
                r = log_error_errno(-errno, "Failed to set the mode of '%s': %m", tmp);
        if (r >= 0 && fsync(fd) < 0)
                r = log_error_errno(-errno, "Failed to write '%s': %m", tmp);
        if (r >= 0 && rename(tmp, a->output) < 0)
                r = log_error_errno(-errno, "Failed to rename '%s' to '%s': %m", tmp, a->output);
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

int verb_audit_graph(int argc, char **argv) {
        _cleanup_free_ char *resolved = NULL;
        AuditGraph graph;
        GraphArgs a = { .graph = &graph };
        int r;

        audit_graph_init(&graph);
        r = parse_args(argc, argv, &a);
        if (r <= 0) {
                free(a.policies);
                return r < 0 ? EXIT_USAGE : 0;
        }
        if ((a.format == FORMAT_SVG || a.format == FORMAT_PNG) && !have_dot()) {
                log_error("audit graph: --format %s needs Graphviz's 'dot' in PATH (Debian: apt install graphviz); "
                          "--format dot writes the graph for it",
                          format_names[a.format]);
                free(a.policies);
                return 1;
        }
        if (!a.file) {
                r = audit_resolve_log(a.state_dir ?: STATE_DIR_DEFAULT, &resolved, a.origin, sizeof(a.origin));
                if (r < 0)
                        goto finish;
                a.file = resolved;
        }
        r = read_log(&a);
        if (r >= 0 && a.n_policies > 0)
                r = overlay(&a);
        if (r < 0)
                goto finish;
        audit_graph_sort(&graph);
        r = a.output ? write_file(&a) : write_out(&a, STDOUT_FILENO);
finish:
        audit_graph_done(&graph);
        free(a.policies);
        return r < 0 ? 1 : 0;
}
