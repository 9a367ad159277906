/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttle-oci: an OCI runtime, runc-compatible on the command line, built
 * on the runtime library that `shuttlectl run` uses.  A thin main: global
 * options, logging, and a command table; the verbs live in oci-*.c. */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/oci.h"

OciGlobals oci_globals = { .root = OCI_DEFAULT_ROOT, .shuttle_state = OCI_DEFAULT_SHUTTLE_STATE };

static const char *log_path;
static bool log_json;
static bool debug;

typedef struct OciVerb {
        const char *name;
        const char *summary;
        int (*run)(int argc, char **argv);
} OciVerb;

static int oci_help(int argc, char **argv);

static const OciVerb verbs[] = {
        { "create", "Create a container from a bundle (its process waits for start)", oci_create },
        { "start", "Start a created container's process", oci_start },
        { "state", "Print a container's state as JSON", oci_state },
        { "kill", "Send a signal to a container's process", oci_kill },
        { "delete", "Delete a stopped or created container", oci_delete },
        { "run", "Create and start a container, and wait for it", oci_run },
        { "list", "List the containers", oci_list },
        { "ps", "List a container's processes", oci_ps },
        { "exec", "Run one more process in a running container", oci_exec },
        { "pause", "Freeze a running container", oci_pause },
        { "resume", "Thaw a paused container", oci_resume },
        { "update", "Change a container's cgroup limits", oci_update },
        { "events", "Print a container's resource usage (JSON lines)", oci_events },
        { "spec", "Write a default config.json", oci_spec },
        { "features", "Print what this build supports (JSON)", oci_features },
        { "help", "Show this help", oci_help },
};

static int oci_help(int argc, char **argv) {
        (void) argc;
        (void) argv;
        printf("Usage: shuttle-oci [GLOBAL OPTIONS] COMMAND [OPTIONS...]\n\n"
               "An OCI runtime (runc-compatible) built on Shuttle's container runtime.\n\n"
               "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-8s %s\n", verbs[i].name, verbs[i].summary);
        printf("\nGlobal options:\n"
               "  --root DIR                state directory (default " OCI_DEFAULT_ROOT ")\n"
               "  --shuttle-state DIR       the node's broker (shuttled) that containers with\n"
               "                            org.shuttle.* annotations register with\n"
               "                            (default " OCI_DEFAULT_SHUTTLE_STATE ")\n"
               "  --log FILE                also write messages to FILE\n"
               "  --log-format text|json    how messages are written to the --log file\n"
               "  --systemd-cgroup          accepted; cgroups are made by Shuttle either way\n"
               "  --debug                   log debugging messages too\n"
               "  -v, --version             print the version and exit\n"
               "  -h, --help                show this help\n\n"
               "See 'shuttle-oci COMMAND --help' and shuttle-oci(8).\n");
        return 0;
}

static void log_line(const char *level, const char *msg) {
        FILE *f;

        if (!log_path)
                return;
        f = fopen(log_path, "ae");
        if (!f)
                return;
        if (log_json) {
                struct timespec ts;
                struct tm tm;
                char t[64];
                size_t n;
                json_t *o;
                char *s;

                clock_gettime(CLOCK_REALTIME, &ts);
                gmtime_r(&ts.tv_sec, &tm);
                n = strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
                snprintf(t + n, sizeof(t) - n, ".%09ldZ", ts.tv_nsec);
                o = json_pack("{s:s, s:s, s:s}", "level", level, "msg", msg, "time", t);
                s = o ? json_dumps(o, JSON_COMPACT) : NULL;
                if (s)
                        fprintf(f, "%s\n", s);
                free(s);
                json_decref(o);
        } else
                fprintf(f, "%s: %s\n", level, msg);
        fclose(f);
}

int oci_error(const char *verb, const char *id, const char *fmt, ...) {
        char msg[2048], line[2600];
        int saved = errno;
        va_list ap;

        va_start(ap, fmt);
        errno = saved;
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (id)
                snprintf(line, sizeof(line), "%s %s: %s", verb, id, msg);
        else
                snprintf(line, sizeof(line), "%s: %s", verb, msg);
        fprintf(stderr, "shuttle-oci: %s\n", line);
        log_line("error", line);
        return EXIT_FAILURE;
}

bool oci_is_help(int argc, char **argv) {
        for (int i = 1; i < argc; i++)
                if (streq(argv[i], "-h") || streq(argv[i], "--help"))
                        return true;
        return false;
}

int oci_verb_id(int argc, char **argv, const char *about) {
        const char *verb = argv[0];

        if (oci_is_help(argc, argv)) {
                printf("Usage: shuttle-oci %s ID\n\n%s\n\n"
                       "Options:\n"
                       "  -h, --help   show this help\n",
                       verb, about);
                return 1;
        }
        if (argc != 2 || argv[1][0] == '-') {
                fprintf(stderr, "shuttle-oci: %s: expected one container ID (see 'shuttle-oci %s --help')\n", verb,
                        verb);
                return -EINVAL;
        }
        return 0;
}

void oci_warning(const char *fmt, ...) {
        char msg[2048];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        fprintf(stderr, "shuttle-oci: warning: %s\n", msg);
        log_line("warning", msg);
}

void oci_debug(const char *fmt, ...) {
        char msg[2048];
        va_list ap;

        if (!debug)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        log_line("debug", msg);
        if (!log_path)
                fprintf(stderr, "shuttle-oci: %s\n", msg);
}

/* "--name VALUE" or "--name=VALUE"; also runc's single-dash forms. */
static bool global_value(int argc, char **argv, int *i, const char *name, const char **ret) {
        const char *a = argv[*i];
        size_t n = strlen(name);

        if (a[1] == '-')
                a++;
        if (!strneq(a + 1, name, n))
                return false;
        if (a[1 + n] == '=') {
                *ret = a + 2 + n;
                return true;
        }
        if (a[1 + n] != '\0' || *i + 1 >= argc)
                return false;
        *ret = argv[++*i];
        return true;
}

int main(int argc, char **argv) {
        int i = 1;

        for (; i < argc && argv[i][0] == '-'; i++) {
                const char *v;

                if (global_value(argc, argv, &i, "root", &v))
                        oci_globals.root = v;
                else if (global_value(argc, argv, &i, "shuttle-state", &v))
                        oci_globals.shuttle_state = v;
                else if (global_value(argc, argv, &i, "log", &v))
                        log_path = v;
                else if (global_value(argc, argv, &i, "log-format", &v)) {
                        if (streq(v, "json"))
                                log_json = true;
                        else if (streq(v, "text"))
                                log_json = false;
                        else {
                                fprintf(stderr, "shuttle-oci: --log-format '%s': expected text or json\n", v);
                                return EXIT_FAILURE;
                        }
                } else if (streq(argv[i], "--systemd-cgroup"))
                        oci_globals.systemd_cgroup = true;
                else if (streq(argv[i], "--debug"))
                        debug = true;
                else if (streq(argv[i], "-v") || streq(argv[i], "--version")) {
                        printf("shuttle-oci version %s\ncommit: %s\nspec: 1.0.2\n", PACKAGE_VERSION,
#ifdef SHUTTLE_COMMIT
                               SHUTTLE_COMMIT
#else
                               "unknown"
#endif
                        );
                        return 0;
                } else if (streq(argv[i], "-h") || streq(argv[i], "--help"))
                        return oci_help(0, NULL);
                else {
                        fprintf(stderr, "shuttle-oci: unknown option '%s' (see 'shuttle-oci --help')\n", argv[i]);
                        return EXIT_FAILURE;
                }
        }
        if (oci_globals.root[0] != '/') {
                fprintf(stderr, "shuttle-oci: --root '%s': not an absolute path\n", oci_globals.root);
                return EXIT_FAILURE;
        }
        if (oci_globals.shuttle_state[0] != '/') {
                fprintf(stderr, "shuttle-oci: --shuttle-state '%s': not an absolute path\n", oci_globals.shuttle_state);
                return EXIT_FAILURE;
        }
        if (i >= argc) {
                oci_help(0, NULL);
                return EXIT_FAILURE;
        }
        for (size_t v = 0; v < ELEMENTSOF(verbs); v++)
                if (streq(argv[i], verbs[v].name))
                        return verbs[v].run(argc - i, argv + i);

        fprintf(stderr, "shuttle-oci: unknown command '%s' (see 'shuttle-oci --help')\n", argv[i]);
        return EXIT_FAILURE;
}
