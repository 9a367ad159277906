/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttle-oci state, kill, delete, list and ps. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/oci.h"
#include "runtime/cgroup.h"
#include "runtime/oci-spec.h"


static int read_state(const char *verb, const char *id, OciState *ret) {
        int r;

        if (!oci_id_is_valid(id))
                return oci_error(verb, id, "not a valid container ID");
        r = oci_state_read(id, ret);
        if (r == -ENOENT)
                return oci_error(verb, id, "container does not exist (under %s)", oci_globals.root);
        if (r < 0)
                return oci_error(verb, id, "reading its state: %s", strerror(-r));
        return 0;
}

int oci_state(int argc, char **argv) {
        _cleanup_free_ char *text = NULL;
        OciState st = {};
        int r;

        r = oci_verb_id(argc, argv, "Print the container's state (runtime-spec JSON).");
        if (r != 0)
                return r > 0 ? 0 : EXIT_FAILURE;
        if (read_state("state", argv[1], &st) != 0)
                return EXIT_FAILURE;
        text = oci_state_format(&st, oci_state_status(&st), false);
        oci_state_done(&st);
        if (!text)
                return oci_error("state", argv[1], "out of memory");
        printf("%s\n", text);
        return 0;
}

static const struct {
        const char *name;
        int sig;
} signals[] = {
        { "HUP", SIGHUP },     { "INT", SIGINT },       { "QUIT", SIGQUIT },   { "ILL", SIGILL },
        { "TRAP", SIGTRAP },   { "ABRT", SIGABRT },     { "IOT", SIGIOT },     { "BUS", SIGBUS },
        { "FPE", SIGFPE },     { "KILL", SIGKILL },     { "USR1", SIGUSR1 },   { "SEGV", SIGSEGV },
        { "USR2", SIGUSR2 },   { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },   { "TERM", SIGTERM },
        { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },   { "CONT", SIGCONT },   { "STOP", SIGSTOP },
        { "TSTP", SIGTSTP },   { "TTIN", SIGTTIN },     { "TTOU", SIGTTOU },   { "URG", SIGURG },
        { "XCPU", SIGXCPU },   { "XFSZ", SIGXFSZ },     { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
        { "WINCH", SIGWINCH }, { "IO", SIGIO },         { "POLL", SIGPOLL },   { "PWR", SIGPWR },
        { "SYS", SIGSYS },
};

int oci_parse_signal(const char *s, int *ret) {
        char *end;
        long v;

        if (!s || !*s)
                return -EINVAL;
        errno = 0;
        v = strtol(s, &end, 10);
        if (*end == '\0' && errno == 0) {
                if (v <= 0 || v >= NSIG)
                        return -EINVAL;
                *ret = (int) v;
                return 0;
        }
        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        for (size_t i = 0; i < ELEMENTSOF(signals); i++)
                if (strcasecmp(s, signals[i].name) == 0) {
                        *ret = signals[i].sig;
                        return 0;
                }
        /* RTMIN+N, RTMAX-N */
        if (strncasecmp(s, "RTMIN", 5) == 0 || strncasecmp(s, "RTMAX", 5) == 0) {
                bool min = strncasecmp(s, "RTMIN", 5) == 0;
                long off = 0;
                if (s[5] != '\0') {
                        if (s[5] != (min ? '+' : '-'))
                                return -EINVAL;
                        errno = 0;
                        off = strtol(s + 6, &end, 10);
                        if (*end || errno || end == s + 6 || off < 0)
                                return -EINVAL;
                }
                v = min ? SIGRTMIN + off : SIGRTMAX - off;
                if (v < SIGRTMIN || v > SIGRTMAX)
                        return -EINVAL;
                *ret = (int) v;
                return 0;
        }
        return -EINVAL;
}

int oci_kill(int argc, char **argv) {
        _cleanup_close_ int lock = -1;
        OciState st = {};
        OciStatus status;
        const char *id, *sigs = "TERM";
        bool all = false;
        int sig, i = 1, r;

        if (oci_is_help(argc, argv)) {
                printf("Usage: shuttle-oci kill [--all] ID [SIGNAL]\n\n"
                       "Send SIGNAL (a name, with or without SIG, or a number; default TERM) to the\n"
                       "container's process.\n\n"
                       "Options:\n"
                       "  -a, --all    send it to every process in the container's cgroup\n"
                       "  -h, --help   show this help\n");
                return 0;
        }
        for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
                if (streq(argv[i], "--all") || streq(argv[i], "-a"))
                        all = true;
                else if (streq(argv[i], "--"))  {
                        i++;
                        break;
                } else {
                        fprintf(stderr, "shuttle-oci: kill: unknown option '%s' (see 'shuttle-oci kill --help')\n",
                                argv[i]);
                        return EXIT_FAILURE;
                }
        }
        if (argc - i < 1 || argc - i > 2) {
                fprintf(stderr, "shuttle-oci: kill: expected ID [SIGNAL] (see 'shuttle-oci kill --help')\n");
                return EXIT_FAILURE;
        }
        id = argv[i];
        if (argc - i == 2)
                sigs = argv[i + 1];
        if (oci_parse_signal(sigs, &sig) < 0)
                return oci_error("kill", id, "'%s' is not a signal", sigs);
        if (read_state("kill", id, &st) != 0)
                return EXIT_FAILURE;
        r = oci_state_lock(id, &lock);
        if (r < 0) {
                oci_state_done(&st);
                return oci_error("kill", id, "locking its state: %s", strerror(-r));
        }
        status = oci_state_status(&st);
        if (status == OCI_STATUS_STOPPED && !all) {
                oci_state_done(&st);
                return oci_error("kill", id, "the container is not running");
        }
        r = all ? oci_state_signal_all(&st, sig) : oci_state_signal(&st, sig);
        oci_state_done(&st);
        if (r == -ESRCH)
                return oci_error("kill", id, "the container is not running");
        if (r < 0)
                return oci_error("kill", id, "%s", strerror(-r));
        return 0;
}

/* Waits (up to about 2 s) until the process recorded is gone or a zombie. */
static void wait_stopped(const OciState *st) {
        for (int i = 0; i < 200 && oci_state_status(st) != OCI_STATUS_STOPPED; i++) {
                struct timespec ts = { 0, 10 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
}

int oci_delete(int argc, char **argv) {
        _cleanup_close_ int lock = -1;
        OciState st = {};
        OciStatus status;
        bool force = false;
        const char *id = NULL;
        int r;

        if (oci_is_help(argc, argv)) {
                printf("Usage: shuttle-oci delete [--force] ID\n\n"
                       "Delete a stopped or created container: its cgroup and state.\n\n"
                       "Options:\n"
                       "  -f, --force  kill it first if it is running\n"
                       "  -h, --help   show this help\n");
                return 0;
        }
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--force") || streq(argv[i], "-f"))
                        force = true;
                else if (argv[i][0] == '-' || id) {
                        fprintf(stderr, "shuttle-oci: delete: unexpected '%s' (see 'shuttle-oci delete --help')\n",
                                argv[i]);
                        return EXIT_FAILURE;
                } else
                        id = argv[i];
        }
        if (!id) {
                fprintf(stderr, "shuttle-oci: delete: expected one container ID (see 'shuttle-oci delete --help')\n");
                return EXIT_FAILURE;
        }
        if (!oci_id_is_valid(id))
                return oci_error("delete", id, "not a valid container ID");
        r = oci_state_lock(id, &lock);
        if (r == -ENOENT)
                return force ? 0 : oci_error("delete", id, "container does not exist (under %s)", oci_globals.root);
        if (r < 0)
                return oci_error("delete", id, "locking its state: %s", strerror(-r));
        r = oci_state_read(id, &st);
        if (r < 0) {
                /* A create that died half-way: nothing runs; clean up. */
                (void) oci_state_remove(id);
                return 0;
        }
        status = oci_state_status(&st);
        if ((status == OCI_STATUS_RUNNING || status == OCI_STATUS_PAUSED) && !force) {
                oci_state_done(&st);
                return oci_error("delete", id, "the container is %s: stop it first, or use --force",
                                oci_status_name(status));
        }
        r = oci_state_destroy("delete", &st, status);
        oci_state_done(&st);
        return r;
}

int oci_state_destroy(const char *verb, const OciState *st, OciStatus status) {
        int r, failed = 0;

        if (status == OCI_STATUS_PAUSED)
                /* A frozen process takes no signal, not even KILL. */
                (void) cgroup_freeze_path((const char *const *) st->cgroups, false);
        if (status != OCI_STATUS_STOPPED) {
                (void) oci_state_signal(st, SIGKILL);
                wait_stopped(st);
        }
        /* Whatever is left in its cgroups is killed with them. */
        for (char **p = st->cgroups; p && *p; p++) {
                r = cgroup_remove_path(*p);
                if (r < 0 && r != -ENOENT) {
                        oci_error(verb, st->id, "removing the cgroup '%s': %s", *p, strerror(-r));
                        failed = 1;
                }
        }
        if (failed)
                return EXIT_FAILURE;
        oci_hooks_poststop(st);
        r = oci_state_remove(st->id);
        if (r < 0)
                return oci_error(verb, st->id, "removing its state: %s", strerror(-r));
        return 0;
}

static int parse_format(const char *verb, int argc, char **argv, int *i, bool *ret_json, bool quiet_ok) {
        *ret_json = false;
        for (; *i < argc && argv[*i][0] == '-'; (*i)++) {
                const char *v = NULL;
                if (streq(argv[*i], "--format") || streq(argv[*i], "-f")) {
                        if (*i + 1 >= argc)
                                goto bad;
                        v = argv[++*i];
                } else if (strneq(argv[*i], "--format=", 9))
                        v = argv[*i] + 9;
                else if (quiet_ok && (streq(argv[*i], "-q") || streq(argv[*i], "--quiet")))
                        continue;
                else
                        goto bad;
                if (streq(v, "json"))
                        *ret_json = true;
                else if (!streq(v, "table"))
                        goto bad;
        }
        return 0;
bad:
        fprintf(stderr, "shuttle-oci: %s: unexpected '%s' (see 'shuttle-oci %s --help')\n", verb, argv[*i], verb);
        return -EINVAL;
}

int oci_list(int argc, char **argv) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        json_t *all = json_array();
        bool json;
        int i = 1;

        if (oci_is_help(argc, argv)) {
                printf("Usage: shuttle-oci list [OPTIONS]\n\nList the containers under --root.\n\n"
                       "Options:\n"
                       "  -f, --format table|json   how to print them (default table)\n"
                       "  -q, --quiet               accepted, no effect\n"
                       "  -h, --help                show this help\n");
                json_decref(all);
                return 0;
        }
        if (parse_format("list", argc, argv, &i, &json, true) < 0 || i != argc) {
                json_decref(all);
                return EXIT_FAILURE;
        }
        d = opendir(oci_globals.root);
        if (!d && errno != ENOENT) {
                json_decref(all);
                return oci_error("list", NULL, "--root '%s': %m", oci_globals.root);
        }
        if (!json)
                printf("%-20s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
        while (d && (de = readdir(d))) {
                OciState st = {};
                OciStatus status;
                _cleanup_free_ char *text = NULL;

                if (!oci_id_is_valid(de->d_name) || oci_state_read(de->d_name, &st) < 0)
                        continue;
                status = oci_state_status(&st);
                if (json) {
                        text = oci_state_format(&st, status, true);
                        if (text)
                                json_array_append_new(all, json_loads(text, 0, NULL));
                } else
                        printf("%-20s %-8d %-10s %-40s %s\n", st.id, status == OCI_STATUS_STOPPED ? 0 : (int) st.pid,
                               oci_status_name(status), st.bundle, st.created ? st.created : "");
                oci_state_done(&st);
        }
        if (json) {
                char *s = json_dumps(all, JSON_COMPACT);
                printf("%s\n", s ? s : "[]");
                free(s);
        }
        json_decref(all);
        return 0;
}

int oci_ps(int argc, char **argv) {
        _cleanup_free_ pid_t *pids = NULL;
        OciState st = {};
        size_t n = 0;
        bool json;
        int i = 1, r;

        if (oci_is_help(argc, argv)) {
                printf("Usage: shuttle-oci ps [OPTIONS] ID\n\n"
                       "List the processes of the container (their pids on the host).\n\n"
                       "Options:\n"
                       "  -f, --format table|json   how to print them (default table)\n"
                       "  -h, --help                show this help\n");
                return 0;
        }
        if (parse_format("ps", argc, argv, &i, &json, false) < 0 || i != argc - 1) {
                fprintf(stderr, "shuttle-oci: ps: expected [--format table|json] ID\n");
                return EXIT_FAILURE;
        }
        if (read_state("ps", argv[i], &st) != 0)
                return EXIT_FAILURE;
        r = oci_state_pids(&st, &pids, &n);
        oci_state_done(&st);
        if (r < 0)
                return oci_error("ps", argv[i], "reading its cgroup: %s", strerror(-r));
        if (json) {
                printf("[");
                for (size_t k = 0; k < n; k++)
                        printf("%s%d", k ? "," : "", (int) pids[k]);
                printf("]\n");
        } else {
                printf("PID\n");
                for (size_t k = 0; k < n; k++)
                        printf("%d\n", (int) pids[k]);
        }
        return 0;
}

static int pause_resume(int argc, char **argv, bool freeze) {
        const char *verb = argv[0];
        _cleanup_close_ int lock = -1;
        OciState st = {};
        OciStatus status;
        int r;

        r = oci_verb_id(argc, argv,
                        freeze ? "Freeze every process of a running container (its cgroup's freezer)."
                               : "Thaw a paused container.");
        if (r != 0)
                return r > 0 ? 0 : EXIT_FAILURE;
        if (read_state(verb, argv[1], &st) != 0)
                return EXIT_FAILURE;
        r = oci_state_lock(argv[1], &lock);
        if (r < 0) {
                oci_state_done(&st);
                return oci_error(verb, argv[1], "locking its state: %s", strerror(-r));
        }
        status = oci_state_status(&st);
        if (status != (freeze ? OCI_STATUS_RUNNING : OCI_STATUS_PAUSED)) {
                oci_state_done(&st);
                return oci_error(verb, argv[1], "the container is %s, not %s", oci_status_name(status),
                                 freeze ? "running" : "paused");
        }
        r = cgroup_freeze_path((const char *const *) st.cgroups, freeze);
        oci_state_done(&st);
        if (r == -EOPNOTSUPP)
                return oci_error(verb, argv[1], "its cgroup has no freezer");
        if (r < 0)
                return oci_error(verb, argv[1], "writing its cgroup's freezer: %s", strerror(-r));
        return 0;
}

int oci_pause(int argc, char **argv) {
        return pause_resume(argc, argv, true);
}

int oci_resume(int argc, char **argv) {
        return pause_resume(argc, argv, false);
}

int oci_spec(int argc, char **argv) {
        _cleanup_free_ char *text = NULL, *path = NULL;
        const char *bundle = ".";
        bool rootless = false;
        int fd, r;

        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "-h") || streq(argv[i], "--help")) {
                        printf("Usage: shuttle-oci spec [OPTIONS]\n\n"
                               "Write a default config.json into the bundle directory.\n\n"
                               "Options:\n"
                               "  -b, --bundle DIR   where (default .)\n"
                               "      --rootless     one for a user without root: a user namespace\n"
                               "  -h, --help         show this help\n");
                        return 0;
                }
                if ((streq(argv[i], "--bundle") || streq(argv[i], "-b")) && i + 1 < argc)
                        bundle = argv[++i];
                else if (strneq(argv[i], "--bundle=", 9))
                        bundle = argv[i] + 9;
                else if (streq(argv[i], "--rootless"))
                        rootless = true;
                else {
                        fprintf(stderr, "shuttle-oci: spec: unexpected '%s' (see 'shuttle-oci spec --help')\n", argv[i]);
                        return EXIT_FAILURE;
                }
        }
        r = oci_spec_default_json(rootless, getuid(), getgid(), &text);
        if (r < 0)
                return oci_error("spec", NULL, "%s", strerror(-r));
        if (asprintf(&path, "%s/config.json", bundle) < 0)
                return oci_error("spec", NULL, "out of memory");
        /* As runc: an existing config.json is never overwritten. */
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return oci_error("spec", NULL, "'%s': %m", path);
        if (write(fd, text, strlen(text)) != (ssize_t) strlen(text) || write(fd, "\n", 1) != 1) {
                r = -errno;
                close(fd);
                (void) unlink(path);
                return oci_error("spec", NULL, "writing '%s': %s", path, strerror(-r));
        }
        close(fd);
        return 0;
}

int oci_features(int argc, char **argv) {
        _cleanup_free_ char *text = NULL;
        int r;

        if (argc > 1 && (streq(argv[1], "-h") || streq(argv[1], "--help"))) {
                printf("Usage: shuttle-oci features\n\n"
                       "Print what this build supports (the runtime-spec features document).\n\n"
                       "Options:\n"
                       "  -h, --help   show this help\n");
                return 0;
        }
        if (argc > 1) {
                fprintf(stderr, "shuttle-oci: features: unexpected '%s'\n", argv[1]);
                return EXIT_FAILURE;
        }
        r = oci_features_json(&text);
        if (r < 0)
                return oci_error("features", NULL, "%s", strerror(-r));
        printf("%s\n", text);
        return 0;
}
