/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttle-oci create, start and run: the container is made by the runtime
 * library's container_create(), as for `shuttlectl run`, with its command
 * as pid 1 waiting on <root>/<id>/exec.fifo until `start` (docs/OCI.md). */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli/oci-seccomp-cache.h"
#include "cli/oci-seccomp-notify.h"
#include "cli/oci.h"
#include "common/fdpass.h"
#include "common/fileio.h"
#include "common/socket-util.h"
#include "runtime/container.h"
#include "runtime/oci-config.h"
#include "runtime/oci-spec.h"

typedef struct CreateOptions {
        const char *id;
        const char *bundle;
        const char *pid_file;
        const char *console_socket;
        unsigned preserve_fds;
        bool detach; /* run */
} CreateOptions;

static int parse_create(int argc, char **argv, bool run, CreateOptions *o) {
        enum { OPT_PID_FILE = 0x100, OPT_CONSOLE, OPT_NO_PIVOT, OPT_NO_KEYRING, OPT_PRESERVE, OPT_NO_SUBREAPER };
        static const struct option opts[] = {
                { "bundle", required_argument, NULL, 'b' },
                { "pid-file", required_argument, NULL, OPT_PID_FILE },
                { "console-socket", required_argument, NULL, OPT_CONSOLE },
                { "no-pivot", no_argument, NULL, OPT_NO_PIVOT },
                { "no-new-keyring", no_argument, NULL, OPT_NO_KEYRING },
                { "preserve-fds", required_argument, NULL, OPT_PRESERVE },
                { "detach", no_argument, NULL, 'd' },
                { "no-subreaper", no_argument, NULL, OPT_NO_SUBREAPER },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        *o = (CreateOptions){ .bundle = "." };
        optind = 1;
        while ((c = getopt_long(argc, argv, run ? "b:dh" : "b:h", opts, NULL)) >= 0)
                switch (c) {
                case 'b':
                        o->bundle = optarg;
                        break;
                case OPT_PID_FILE:
                        o->pid_file = optarg;
                        break;
                case OPT_CONSOLE:
                        o->console_socket = optarg;
                        break;
                case OPT_NO_PIVOT:
                case OPT_NO_KEYRING:
                case OPT_NO_SUBREAPER:
                        /* Accepted: pivot_root is always used (a rootfs on
                         * a ramfs is refused), no keyring is ever made, and
                         * `run` always waits as the parent. */
                        break;
                case OPT_PRESERVE: {
                        char *end;
                        unsigned long v;
                        errno = 0;
                        v = strtoul(optarg, &end, 10);
                        if (errno || *end || end == optarg || v > 4096) {
                                fprintf(stderr, "shuttle-oci: %s: --preserve-fds '%s': not a number of descriptors\n",
                                        argv[0], optarg);
                                return -EINVAL;
                        }
                        o->preserve_fds = (unsigned) v;
                        break;
                }
                case 'd':
                        if (!run)
                                goto usage;
                        o->detach = true;
                        break;
                case 'h':
                        printf("Usage: shuttle-oci %s [OPTIONS] ID\n\n"
                               "%s\n\n"
                               "Options:\n"
                               "  -b, --bundle DIR        the bundle (config.json and its root; default .)\n"
                               "      --pid-file FILE     write the container's pid there\n"
                               "      --console-socket S  send the terminal's master to the unix socket S\n"
                               "      --preserve-fds N    pass descriptors 3 … 3+N-1 on to the container\n"
                               "      --no-pivot          accepted, no effect (pivot_root is always used)\n"
                               "      --no-new-keyring    accepted, no effect (no session keyring is made)\n"
                               "%s"
                               "  -h, --help              show this help\n",
                               argv[0],
                               run ? "Create and start a container; without --detach wait for it and delete it."
                                   : "Create a container: everything up to its process, which waits for 'start'.",
                               run ? "  -d, --detach            leave it running and exit\n"
                                     "      --no-subreaper      accepted, no effect\n"
                                   : "");
                        return 1;
                default:
                usage:
                        fprintf(stderr, "shuttle-oci: %s: see 'shuttle-oci %s --help'\n", argv[0], argv[0]);
                        return -EINVAL;
                }
        if (optind != argc - 1) {
                fprintf(stderr, "shuttle-oci: %s: expected one container ID (see 'shuttle-oci %s --help')\n", argv[0],
                        argv[0]);
                return -EINVAL;
        }
        o->id = argv[optind];
        return 0;
}

static void rfc3339_now(char buf[static 40]) {
        struct timespec ts;
        struct tm tm;
        size_t n;

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        n = strftime(buf, 40, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + n, 40 - n, ".%09ldZ", ts.tv_nsec);
}

static char *absolute(const char *p) {
        char cwd[PATH_MAX], *s;

        if (p[0] == '/')
                return strdup(p);
        if (!getcwd(cwd, sizeof(cwd)) || asprintf(&s, "%s/%s", cwd, p) < 0)
                return NULL;
        return s;
}

int oci_seccomp_program(const OciSeccomp *s, SeccompProgram **ret, char *err, size_t errlen) {
        static const char *const use_name[] = {
                [OCI_SECCOMP_CACHE_HIT] = "read from the cache",
                [OCI_SECCOMP_CACHE_STORED] = "compiled and cached",
                [OCI_SECCOMP_CACHE_REPLACED] = "compiled; a bad cache entry replaced",
                [OCI_SECCOMP_CACHE_UNUSED] = "compiled, not cached",
        };
        OciSeccompCacheUse use;
        int r, cache_error;

        /* The cache lives under --root, which create makes if need be. */
        if (mkdir(oci_globals.root, 0700) < 0 && errno != EEXIST)
                return oci_seccomp_program_new(s, ret, err, errlen);
        r = oci_seccomp_program_cached(s, oci_globals.root, ret, &use, &cache_error, err, errlen);
        if (r < 0)
                return r;
        if (use == OCI_SECCOMP_CACHE_UNUSED &&
            (cache_error == -EPERM || cache_error == -ELOOP || cache_error == -ENOTDIR))
                /* Someone else could write the programs of our containers
                 * there: compiled each time until an operator looks. */
                oci_warning("%s/%s: not a directory of ours closed to group and others; not used, "
                            "seccomp profiles are compiled at every create",
                            oci_globals.root, OCI_SECCOMP_CACHE_DIR);
        if (use == OCI_SECCOMP_CACHE_UNUSED)
                oci_debug("seccomp profile %s (%s/%s: %s)", use_name[use], oci_globals.root,
                          OCI_SECCOMP_CACHE_DIR, strerror(-cache_error));
        else
                oci_debug("seccomp profile %s", use_name[use]);
        return 0;
}

int oci_seccomp_agent_deliver(const OciSeccomp *s, const OciState *st, OciStatus status, pid_t pid, int fd,
                              char *err, size_t errlen) {
        _cleanup_close_ int listener = fd;
        _cleanup_free_ char *state = NULL, *json = NULL;
        int r;

        if (!s->listener_path) {
                /* oci_seccomp_from_json() refuses a NOTIFY rule without it. */
                snprintf(err, errlen, "linux.seccomp.listenerPath: not set, but the profile notifies");
                return -EINVAL;
        }
        state = oci_state_format(st, status, true);
        json = state ? oci_process_state_format(state, pid, s->listener_metadata) : NULL;
        if (!json) {
                snprintf(err, errlen, "linux.seccomp.listenerPath '%s': out of memory", s->listener_path);
                return -ENOMEM;
        }
        r = oci_seccomp_agent_send(s->listener_path, json, listener);
        if (r < 0) {
                snprintf(err, errlen, "linux.seccomp.listenerPath '%s': sending the seccomp notify fd: %s%s",
                         s->listener_path, strerror(-r),
                         r == -EAGAIN ? " (the agent did not take it in time)" : "");
                return r;
        }
        oci_debug("seccomp notify fd sent to '%s'", s->listener_path);
        return 0;
}

/* The container's state while it is being created, for its seccomp
 * agent. */
typedef struct CreateAgent {
        const OciSeccomp *seccomp;
        OciState st;
        char err[512];
} CreateAgent;

static int agent_listener(const ContainerConfig *c _unused_, pid_t init_pid, int fd, void *userdata) {
        CreateAgent *a = userdata;

        a->st.pid = init_pid;
        return oci_seccomp_agent_deliver(a->seccomp, &a->st, OCI_STATUS_CREATING, init_pid, fd, a->err,
                                         sizeof(a->err));
}

/* The signals that end a create (kill's default, timeout(1)'s, ^C, a
 * closed terminal): blocked from the start of create and read through a
 * signalfd, so that create stops where it waits (for the container's first
 * process, for a hook) and takes down what it made, instead of dying with
 * its state, cgroup and half-made container left behind or, with them
 * blocked as they were, not stopping at all.  runc and crun let a create
 * run on to its end on SIGTERM (a createRuntime hook that sleeps 30 s: they
 * exit 0 after it, with the container created). */
static int cancel_open(void) {
        sigset_t mask;
        int fd;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGQUIT);
        /* Left blocked: create exits after, and `run` forwards them to
         * its container once it runs (container_wait()). */
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        return fd < 0 ? -errno : fd;
}

/* The signal that came on fd, as "SIGTERM", or NULL if none. */
static const char *cancel_signal(int fd, char buf[static 16]) {
        struct signalfd_siginfo si;
        const char *abbrev;

        if (fd < 0 || read(fd, &si, sizeof(si)) != (ssize_t) sizeof(si))
                return NULL;
        abbrev = sigabbrev_np((int) si.ssi_signo);
        if (abbrev)
                snprintf(buf, 16, "SIG%s", abbrev);
        else
                snprintf(buf, 16, "signal %u", si.ssi_signo);
        return buf;
}

/* Everything of create; on success *ret is the created container (the
 * caller releases it, or starts and waits for it with `run`). */
static int do_create(const char *verb, const CreateOptions *o, ContainerConfig *cfg, Container **ret) {
        _cleanup_free_ char *bundle = NULL, *dir = NULL, *fifo = NULL, *staging = NULL, *pid_file = NULL;
        _cleanup_close_ int lock = -1, console = -1, cancel = -1;
        char signame[16];
        OciSpec *spec = NULL;
        OciState st = {};
        OciBroker broker = {};
        CreateAgent agent = {};
        ContainerResult result = {};
        Container *ct = NULL;
        char err[512] = "", cgname[64], created[40];
        uint64_t start_time = 0;
        bool zombie;
        int r;

        if (!oci_id_is_valid(o->id))
                return oci_error(verb, o->id, "not a valid container ID (letters, digits, '_', '+', '-', '.')");
        bundle = realpath(o->bundle, NULL);
        if (!bundle)
                return oci_error(verb, o->id, "bundle '%s': %m", o->bundle);
        if (o->pid_file && !(pid_file = absolute(o->pid_file)))
                return oci_error(verb, o->id, "--pid-file '%s': %m", o->pid_file);

        r = oci_spec_load(bundle, &spec, err, sizeof(err));
        if (r < 0)
                return oci_error(verb, o->id, "%s", err[0] ? err : strerror(-r));
        container_config_init(cfg);
        r = spec->has_seccomp ? oci_seccomp_program(&spec->seccomp, &cfg->seccomp, err, sizeof(err)) : 0;
        if (r >= 0)
                r = oci_config_from_spec(spec, bundle, o->id, cfg, err, sizeof(err));
        if (r < 0) {
                oci_spec_free(spec);
                return oci_error(verb, o->id, "%s/config.json: %s", bundle, r == -ENOMEM ? "out of memory" : err);
        }
        if (cfg->tty && !o->console_socket) {
                oci_spec_free(spec);
                return oci_error(verb, o->id, "process.terminal is true: --console-socket is needed");
        }
        if (!cfg->tty && o->console_socket) {
                oci_spec_free(spec);
                return oci_error(verb, o->id, "--console-socket given but process.terminal is false");
        }
        if (o->console_socket) {
                r = unix_connect(o->console_socket, SOCK_STREAM, &console);
                if (r < 0) {
                        oci_spec_free(spec);
                        return oci_error(verb, o->id, "--console-socket '%s': %s", o->console_socket,
                                        strerror(-r));
                }
        }

        /* From here on, what create makes is taken down if it is told to
         * stop. */
        cancel = cancel_open();
        if (cancel < 0) {
                oci_spec_free(spec);
                return oci_error(verb, o->id, "blocking the signals that stop create: %s", strerror(-cancel));
        }
        cfg->cancel_fd = cancel;

        /* The directory is the container's name: mkdir is the one atomic
         * step that decides who creates it. */
        if (mkdir(oci_globals.root, 0700) < 0 && errno != EEXIST) {
                oci_spec_free(spec);
                return oci_error(verb, o->id, "--root '%s': %m", oci_globals.root);
        }
        dir = oci_state_dir(o->id);
        if (!dir || asprintf(&fifo, "%s/exec.fifo", dir) < 0 || asprintf(&staging, "%s/root", dir) < 0) {
                oci_spec_free(spec);
                return oci_error(verb, o->id, "out of memory");
        }
        if (mkdir(dir, 0700) < 0) {
                r = -errno;
                oci_spec_free(spec);
                if (r == -EEXIST)
                        return oci_error(verb, o->id, "a container with this ID exists already (under %s)",
                                        oci_globals.root);
                return oci_error(verb, o->id, "creating '%s': %s", dir, strerror(-r));
        }
        r = oci_state_lock(o->id, &lock);
        if (r < 0) {
                oci_error(verb, o->id, "locking '%s': %s", dir, strerror(-r));
                goto fail_dir;
        }
        if (mkdir(staging, 0700) < 0 || mkfifo(fifo, 0600) < 0) {
                oci_error(verb, o->id, "creating '%s': %m", dir);
                goto fail_dir;
        }

        oci_cgroup_name(oci_globals.root, o->id, cgname);
        if (!(cfg->exec_fifo = strdup(fifo)) || !(cfg->staging_dir = strdup(staging)) ||
            !(cfg->cgroup_name = strdup(cgname))) {
                oci_error(verb, o->id, "out of memory");
                goto fail_dir;
        }
        cfg->preserve_fds = o->preserve_fds;
        /* With org.shuttle.* annotations: registered with the node's
         * broker once its init exists (oci-broker.c). */
        r = oci_broker_prepare(spec, o->id, cfg, &broker);
        if (r < 0) {
                oci_error(verb, o->id, "%s/config.json: %s", bundle, broker.message);
                goto fail_dir;
        }

        /* A profile with SCMP_ACT_NOTIFY rules: its agent gets the notify
         * fd as soon as the container's process has loaded the filter,
         * before anything of the command runs (hooks, start); until then
         * its notifying calls wait.  No agent, no container (runtime-spec:
         * the runtime MUST generate an error). */
        rfc3339_now(created);
        agent = (CreateAgent){
                .seccomp = &spec->seccomp,
                .st = {
                        .id = (char *) o->id,
                        .bundle = bundle,
                        .rootfs = cfg->rootfs,
                        .created = created,
                        .annotation_keys = spec->annotation_keys,
                        .annotation_values = spec->annotation_values,
                        .n_annotations = spec->n_annotations,
                },
        };
        if (cfg->n_start_hooks > 0 && !(cfg->start_hook_state = oci_state_format_open(&agent.st))) {
                oci_error(verb, o->id, "out of memory");
                goto fail_dir;
        }
        cfg->hooks.seccomp_listener = agent_listener;
        cfg->hooks.seccomp_listener_userdata = &agent;

        r = container_create(cfg, &ct, &result);
        if (r < 0) {
                if (r == -EINTR && cancel_signal(cancel, signame))
                        oci_error(verb, o->id, "interrupted by %s while the container was being created; "
                                  "nothing of it is left", signame);
                else if (agent.err[0])
                        oci_error(verb, o->id, "%s", agent.err);
                else if (broker.message[0])
                        oci_error(verb, o->id, "%s", broker.message);
                else
                        oci_error(verb, o->id, "%s", result.message[0] ? result.message : strerror(-r));
                goto fail_dir;
        }

        if (console >= 0) {
                _cleanup_close_ int master = container_take_console(ct);
                ssize_t n = master < 0 ? -EBADF : fd_send(console, "/dev/ptmx", 9, &master, 1);
                if (n < 0) {
                        oci_error(verb, o->id, "--console-socket '%s': passing the terminal: %s", o->console_socket,
                                 strerror((int) -n));
                        goto fail_container;
                }
        }

        r = oci_proc_start_time(container_pid(ct), &start_time, &zombie);
        if (r < 0) {
                oci_error(verb, o->id, "reading /proc/%d/stat: %s", (int) container_pid(ct), strerror(-r));
                goto fail_container;
        }
        st = (OciState){
                .id = (char *) o->id,
                .bundle = bundle,
                .rootfs = cfg->rootfs,
                .created = created,
                .pid = container_pid(ct),
                .start_time = start_time,
                .cgroups = (char **) container_cgroup_paths(ct),
                .no_process = !spec->has_process,
                .annotation_keys = spec->annotation_keys,
                .annotation_values = spec->annotation_values,
                .n_annotations = spec->n_annotations,
        };
        r = oci_state_write(&st);
        if (r < 0) {
                oci_error(verb, o->id, "writing '%s/state.json': %s", dir, strerror(-r));
                goto fail_container;
        }
        {
                /* createRuntime in our namespaces, createContainer in the
                 * container's; the container is created by then (its
                 * process waits on the FIFO).  prestart: at start. */
                static const OciHookKind kinds[] = { OCI_HOOK_CREATE_RUNTIME, OCI_HOOK_CREATE_CONTAINER };
                for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                        _cleanup_close_ int nsfd = -1;

                        if (spec->n_hooks[kinds[k]] == 0)
                                continue;
                        if (kinds[k] == OCI_HOOK_CREATE_CONTAINER &&
                            (nsfd = (int) syscall(SYS_pidfd_open, container_pid(ct), 0)) < 0) {
                                oci_error(verb, o->id, "opening the container's process: %m");
                                goto fail_container;
                        }
                        r = oci_hooks_run(spec, kinds[k], &st, OCI_STATUS_CREATED, nsfd, cancel, true, err,
                                          sizeof(err));
                        if (r == -EINTR && cancel_signal(cancel, signame)) {
                                oci_error(verb, o->id, "interrupted by %s: %s; the container is taken down",
                                          signame, err);
                                goto fail_container;
                        }
                        if (r < 0) {
                                oci_error(verb, o->id, "%s", err);
                                goto fail_container;
                        }
                }
        }
        if (pid_file) {
                r = oci_write_pid_file(pid_file, container_pid(ct));
                if (r < 0) {
                        oci_error(verb, o->id, "--pid-file '%s': %s", pid_file, strerror(-r));
                        goto fail_container;
                }
        }
        /* Told to stop in the last steps: not created after all. */
        if (cancel_signal(cancel, signame)) {
                oci_error(verb, o->id, "interrupted by %s while the container was being created; it is taken down",
                          signame);
                goto fail_container;
        }
        oci_debug("created %s: pid %d", o->id, (int) container_pid(ct));
        oci_spec_free(spec);
        oci_broker_done(&broker);
        cfg->cancel_fd = -1; /* closed on return */
        *ret = ct;
        return 0;

fail_container:
        container_destroy(ct);
fail_dir:
        cfg->cancel_fd = -1;
        oci_spec_free(spec);
        /* Forgets a registration (its record is in the state directory). */
        (void) oci_state_remove(o->id);
        oci_broker_abandon(&broker);
        return 1;
}

int oci_create(int argc, char **argv) {
        ContainerConfig cfg = {};
        CreateOptions o;
        Container *ct = NULL;
        int r = parse_create(argc, argv, false, &o);

        if (r != 0)
                return r > 0 ? 0 : EXIT_FAILURE;
        r = do_create("create", &o, &cfg, &ct);
        if (r == 0)
                /* The container's process stays, waiting on exec.fifo; we
                 * leave, and whoever is our subreaper becomes its parent. */
                container_release(ct);
        container_config_done(&cfg);
        return r;
}

/* Starts a created container: its process execs the command. */
static int start_locked(const char *verb, const char *id) {
        _cleanup_free_ char *dir = oci_state_dir(id), *fifo = NULL;
        OciSpec *spec = NULL;
        OciState st = {};
        OciStatus status;
        char err[512] = "";
        int r, spec_r;

        if (!dir || asprintf(&fifo, "%s/exec.fifo", dir) < 0)
                return oci_error(verb, id, "out of memory");
        r = oci_state_read(id, &st);
        if (r < 0)
                return oci_error(verb, id, "%s", r == -ENOENT ? "container does not exist" : strerror(-r));
        status = oci_state_status(&st);
        if (status != OCI_STATUS_CREATED) {
                oci_state_done(&st);
                return oci_error(verb, id, "the container is %s, not created", oci_status_name(status));
        }
        if (st.no_process) {
                oci_state_done(&st);
                return oci_error(verb, id, "its config.json has no process: there is nothing to start");
        }
        spec_r = oci_spec_load(st.bundle, &spec, err, sizeof(err));
        if (spec_r >= 0 && spec->n_hooks[OCI_HOOK_PRESTART] > 0) {
                /* prestart: after start was asked, before the command runs
                 * (runtime-spec 1.0); one failing stops the container. */
                r = oci_hooks_run(spec, OCI_HOOK_PRESTART, &st, OCI_STATUS_CREATED, -1, -1, true, err, sizeof(err));
                if (r < 0) {
                        /* The container is stopped and deleted, as the
                         * spec's lifecycle goes on after a failed prestart. */
                        oci_error(verb, id, "%s", err);
                        (void) oci_state_destroy(verb, &st, status);
                        oci_state_done(&st);
                        oci_spec_free(spec);
                        return EXIT_FAILURE;
                }
        }
        r = container_start_fifo(fifo, err, sizeof(err));
        if (r < 0) {
                oci_spec_free(spec);
                oci_state_done(&st);
                /* A startContainer hook failed: the process is gone, the
                 * container stopped (as runc; `delete` removes it). */
                if (r == -ECANCELED) {
                        (void) unlink(fifo);
                        return oci_error(verb, id, "%s", err);
                }
                if (r == -ESRCH)
                        return oci_error(verb, id, "the container's process is gone");
                return oci_error(verb, id, "writing '%s': %s", fifo, strerror(-r));
        }
        (void) unlink(fifo);
        /* poststart: the command runs (container_start_fifo() waited for
         * its exec); failures are warnings, start succeeded. */
        if (spec_r >= 0)
                (void) oci_hooks_run(spec, OCI_HOOK_POSTSTART, &st, OCI_STATUS_RUNNING, -1, -1, false, err, sizeof(err));
        oci_spec_free(spec);
        oci_state_done(&st);
        return 0;
}

int oci_start(int argc, char **argv) {
        _cleanup_close_ int lock = -1;
        int r;

        r = oci_verb_id(argc, argv, "Start a created container's process.");
        if (r != 0)
                return r > 0 ? 0 : EXIT_FAILURE;
        r = oci_state_lock(argv[1], &lock);
        if (r < 0)
                return oci_error("start", argv[1], "%s", r == -ENOENT ? "container does not exist" : strerror(-r));
        return start_locked("start", argv[1]);
}

int oci_run(int argc, char **argv) {
        ContainerConfig cfg = {};
        ContainerResult res = {};
        CreateOptions o;
        Container *ct = NULL;
        int r = parse_create(argc, argv, true, &o);

        if (r != 0)
                return r > 0 ? 0 : EXIT_FAILURE;
        r = do_create("run", &o, &cfg, &ct);
        if (r != 0) {
                container_config_done(&cfg);
                return r;
        }
        r = start_locked("run", o.id);
        if (r != 0) {
                container_destroy(ct);
                (void) oci_state_remove(o.id);
                container_config_done(&cfg);
                return r;
        }
        if (o.detach) {
                container_release(ct);
                container_config_done(&cfg);
                return 0;
        }
        /* In the foreground: we are its parent; signals are forwarded to
         * it; its end is ours, and so is the deletion. */
        r = container_wait(ct, &res);
        container_destroy(ct);
        {
                OciState st = {};
                if (oci_state_read(o.id, &st) >= 0) {
                        oci_hooks_poststop(&st);
                        oci_state_done(&st);
                }
        }
        (void) oci_state_remove(o.id);
        container_config_done(&cfg);
        if (r < 0)
                return oci_error("run", o.id, "%s", res.message[0] ? res.message : strerror(-r));
        return res.exit_status;
}
