/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttlectl run */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/run-options.h"
#include "cli/verbs.h"
#include "common/log.h"
#include "common/parse.h"
#include "shuttle/host/broker-client.h"
#include "shuttle/host/control.h"
#include "shuttle/supervisor/group-run.h"
#include "shuttle/host/locate.h"
#include "shuttle/supervisor/logline.h"
#include "runtime/cgroup.h"
#include "runtime/group.h"
#include "runtime/image.h"
#include "runtime/monitor-client.h"
#include "runtime/state-info.h"
#include "runtime/state.h"

/* run --detach: what the container writes (the read end of its
 * stdout/stderr pipe) goes into its log, opened once the name is ours;
 * once the command runs the owner hands all of it to the state directory's
 * shuttle-monitor and leaves (see monitor_adopt()). */
typedef struct Detached {
        int out_fd;
        int log_fd;
        int image_lock_fd;   /* -1: none */
        const char *monitor; /* shuttle-monitor's path */
} Detached;

typedef struct Registration {
        const char *state_dir;
        bool registered;
        int ready_fd;   /* run --detach: told 'R' once the command runs */
        Detached *detached;
} Registration;

/* Every container registers with the running broker, which fills its
 * broker.sock and svc/ while the container sets up.  Without a broker the
 * container still runs, isolated, with mediation off. */
static int register_container(const ContainerConfig *c, pid_t init_pid, void *userdata) {
        Registration *reg = userdata;
        _cleanup_free_ char *error = NULL;
        int r;

        r = broker_register_container(reg->state_dir, c, init_pid, 0, &error);
        if ((r == -ENOENT || r == -ECONNREFUSED) && c->learn)
                return log_error_errno(r, "--learn: no broker (shuttled) is running on '%s' to learn for container '%s'",
                                       reg->state_dir, c->name);
        if (r == -ENOENT || r == -ECONNREFUSED) {
                log_notice("no broker (shuttled) is running: container '%s' runs isolated, mediation is off",
                           c->name);
                return 0;
        }
        if (r < 0) {
                if (error)
                        log_error("The broker refused container '%s': %s", c->name, error);
                else
                        log_error_errno(r, "Registering container '%s' with the broker failed: %m", c->name);
                return r;
        }
        reg->registered = true;
        return 0;
}

static int container_created(const ContainerConfig *c, pid_t init_pid, void *userdata) {
        Registration *reg = userdata;

        /* The name is ours now: a detached container's log may be started
         * (rotating the one of the previous container of that name, which
         * a start refused for a name in use must not do).  Without it, what
         * the container writes is dropped. */
        if (reg->detached && reg->detached->log_fd < 0)
                reg->detached->log_fd = logline_open(c->state_dir ?: "/run/shuttle", c->name);
        return reg->state_dir ? register_container(c, init_pid, userdata) : 0;
}

static void container_started(const ContainerConfig *c, void *userdata) {
        Registration *reg = userdata;
        (void) c;

        /* Detached: once its monitor has it (run_container()), so that
         * what the front end says is the whole story. */
        if (reg->ready_fd >= 0 && !reg->detached) {
                (void) !write(reg->ready_fd, "R", 1);
                reg->ready_fd = safe_close(reg->ready_fd);
        }
}

static void unregister_container(const ContainerConfig *c, void *userdata) {
        Registration *reg = userdata;

        /* The broker also notices the init's exit through its pidfd; this
         * just makes it immediate. */
        if (reg->registered && broker_unregister_container(reg->state_dir, c->name) >= 0)
                reg->registered = false;
}

/* Whether anything is at <state>/control.sock: when nothing is, no broker
 * runs there (a stale socket is told by connect(), later). */
static bool broker_socket_exists(const char *state) {
        char path[PATH_MAX];

        if (control_socket_path(state, path, sizeof(path)) < 0)
                return true;
        return faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW) >= 0 || errno != ENOENT;
}

static void remove_shuttle_dir(const char *dir) {
        char svc[PATH_MAX + 8];

        /* Empty unless a broker still holds it; then rmdir fails, rightly. */
        snprintf(svc, sizeof(svc), "%s/svc", dir);
        (void) rmdir(svc);
        (void) rmdir(dir);
}

/* Learn mode is never started by a file alone: the operator names it on
 * the command line.  With --learn, the containers the file marks learn;
 * if it marks none (no 'learn' key anywhere), all of them do. */
static int group_learn_check(Group *g, bool learn) {
        size_t n = 0;

        if (g->learn_line && !learn) {
                log_error("%s:%u:%u: 'learn: true' puts containers in learn mode, which must be named on the "
                          "command line too: shuttlectl run --learn %s",
                          g->file, g->learn_line, g->learn_column, g->file);
                return -EPERM;
        }
        if (!learn)
                return 0;
        if (!g->learn_keys)
                for (size_t i = 0; i < g->n_containers; i++)
                        g->containers[i].config.learn = true;
        for (size_t i = 0; i < g->n_containers; i++)
                if (g->containers[i].config.learn) {
                        log_warning("container '%s' of group '%s' runs in LEARN MODE: what the policy denies by "
                                    "default is allowed and recorded as 'learn'",
                                    g->containers[i].name, g->name);
                        n++;
                }
        if (n == 0) {
                log_error("run: --learn: '%s' sets 'learn: false' for every container", g->file);
                return -EINVAL;
        }
        return 0;
}

/* The images and bundles the group's containers run on: unpacked (or
 * found in the cache) and applied to their configuration before anything
 * of the group starts; imgs keeps the cache entries locked while the
 * group runs. */
static int group_prepare_rootfs(Group *g, const char *state, ImageRootfs *imgs) {
        char err[IMAGE_ERROR_MAX];
        int r;

        for (size_t i = 0; i < g->n_containers; i++) {
                ContainerConfig *c = &g->containers[i].config;
                _cleanup_free_ char *arg = NULL;

                if (!c->rootfs)
                        continue;
                arg = strdup(c->rootfs);
                if (!arg)
                        return log_oom();
                err[0] = '\0';
                r = image_rootfs_prepare(arg, state, !!c->argv, &imgs[i], err, sizeof(err));
                if (r >= 0) {
                        if (imgs[i].unpacked)
                                log_notice("unpacked image %s (%s) into %s", arg, imgs[i].digest, imgs[i].rootfs);
                        r = image_rootfs_apply(&imgs[i], arg, c, err, sizeof(err));
                }
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0) {
                        log_error("run: %s: container '%s': rootfs: %s", g->file, g->containers[i].name,
                                  err[0] ? err : strerror(-r));
                        return r;
                }
        }
        return 0;
}

typedef struct ImageSet {
        ImageRootfs *v;
        size_t n;
} ImageSet;

static void image_set_done(ImageSet *s) {
        for (size_t i = 0; i < s->n; i++)
                image_rootfs_done(&s->v[i]);
        free(s->v);
}

/* shuttlectl run GROUP.yaml */
static int run_group(RunOptions *o) {
        _cleanup_(policy_diagnostics_clear) PolicyDiagnostics diags = {};
        _cleanup_(group_freep) Group *g = NULL;
        _cleanup_(image_set_done) ImageSet imgs = {};
        _cleanup_free_ char *error = NULL;
        const char *state = o->config.state_dir ?: "/run/shuttle";
        GroupRunOptions gro = { .state_dir = state, .notify_fd = -1, .no_shim = o->no_shim };
        bool started = false;
        int r, pipefd[2];
        pid_t pid;
        char c;

        r = group_load(o->group_file, &g, &diags);
        policy_diagnostics_print(&diags, stderr);
        if (r < 0) {
                if (diags.n_errors == 0)
                        log_error_errno(r, "run: cannot load '%s': %m", o->group_file);
                return 1;
        }
        if (group_learn_check(g, o->learn) < 0)
                return 1;
        if (geteuid() != 0) {
                log_error("run: starting an app group needs root");
                return 1;
        }
        imgs.v = calloc(g->n_containers ?: 1, sizeof(ImageRootfs));
        if (!imgs.v)
                return log_oom(), 1;
        imgs.n = g->n_containers;
        for (size_t i = 0; i < imgs.n; i++)
                image_rootfs_init(&imgs.v[i]);
        if (group_prepare_rootfs(g, state, imgs.v) < 0)
                return 1;

        /* A group's interactions need the broker: start one if none runs. */
        r = broker_ensure_running(state, &started, &error);
        if (r < 0) {
                log_error("run: no broker is running and none could be started: %s", error ?: strerror(-r));
                return 1;
        }
        if (started) {
                _cleanup_free_ char *audit = broker_default_audit_log(state);
                log_notice("started shuttled (state in %s, audit log %s)", state, audit ?: "?");
        }

        if (!o->detach)
                return group_run(g, &gro);

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return log_error_errno(-errno, "run: pipe: %m"), 1;
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0)
                return log_error_errno(-errno, "run: fork: %m"), 1;
        if (pid == 0) {
                /* The supervisor: its own session, no terminal; it reports
                 * readiness (or dies with its errors on our stderr). */
                close(pipefd[0]);
                (void) setsid();
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (null >= 0)
                        dup2(null, STDIN_FILENO);
                gro.notify_fd = pipefd[1];
                _exit(group_run(g, &gro));
        }
        close(pipefd[1]);
        r = (int) read(pipefd[0], &c, 1);
        close(pipefd[0]);
        if (r != 1 || c != 'R') {
                log_error("run: group '%s' did not start", g->name);
                return 1;
        }
        printf("group '%s' is up (supervisor pid %d); see 'shuttlectl ps', 'shuttlectl logs NAME', "
               "'shuttlectl stop %s'\n",
               g->name, (int) pid, g->name);
        return 0;
}

/* run --detach, once the command runs: the container goes to the state
 * directory's one shuttle-monitor (started if none runs), a small static
 * program that watches all of that directory's detached containers,
 * instead of this process staying as a whole shuttlectl.  When the init
 * has ended, the monitor runs this shuttlectl again (by an fd of its
 * binary) as `__monitor-exit` for the teardown, with the state entry's
 * lock (fd 3) and the log (fd 4).  0: the monitor has it all, and this
 * process just leaves; else a negative errno. */
static int monitor_adopt(RunOptions *o, Registration *reg, Container *ct) {
        const char *state = o->config.state_dir ?: "/run/shuttle";
        Detached *d = reg->detached;
        MonitorHandover h = { .monitor_path = d->monitor, .out_fd = d->out_fd, .log_index = -1 };
        char reg_s[2], iso_s[2];
        _cleanup_close_ int exe = -1;
        pid_t pid;

        exe = open("/proc/self/exe", O_PATH | O_CLOEXEC);
        if (exe < 0)
                return -errno;
        h.exe_fd = exe;
        /* held[0] is the lock (fd 3), then the log (fd 4), then the image
         * lock, which only has to be held until the end. */
        if (d->log_fd >= 0) {
                h.held[h.n_held++] = d->log_fd;
                h.log_index = 1;
        }
        if (d->image_lock_fd >= 0)
                h.held[h.n_held++] = d->image_lock_fd;
        snprintf(reg_s, sizeof(reg_s), "%d", reg->registered ? 1 : 0);
        snprintf(iso_s, sizeof(iso_s), "%d", o->isolated ? 1 : 0);
        char *const argv[] = { (char *) "shuttlectl", (char *) "__monitor-exit", (char *) state, o->config.name,
                               (char *) "3", (char *) (d->log_fd >= 0 ? "4" : "-1"), reg_s, iso_s,
                               (char *) (o->config.cgroup_root ?: "/sys/fs/cgroup"), NULL };
        h.exit_argv = argv;
        return monitor_hand_over(ct, state, &h, &pid);
}

/* Runs a single container to its end; returns what shuttlectl exits with.
 * ready_fd (-1: none) is told 'R' once the command runs, or gets the reason
 * it could not start.  detached (NULL: in the foreground): its log is
 * opened once the container's name is ours, and once the command runs, it
 * goes to the state directory's shuttle-monitor, ready_fd is told 'R' and
 * this process ends. */
static int run_container(RunOptions *o, int ready_fd, Detached *detached) {
        ContainerResult result = {};
        Registration reg = { .ready_fd = ready_fd, .detached = detached };
        Container *ct = NULL;
        int r;

        /* No broker (no control.sock at all): the container runs as with
         * --isolated, without what only a broker serves (its directory at
         * /run/shuttle, the shim, the helpers), as it would have after a
         * failed registration anyway; a broker started later never learns
         * of it either way.  A socket left by a broker that died is found
         * out by the registration below, as before.  --learn still fails
         * there. */
        if (!o->isolated && !o->config.learn && !broker_socket_exists(o->config.state_dir ?: "/run/shuttle")) {
                log_notice("no broker (shuttled) is running: container '%s' runs isolated, mediation is off",
                           o->config.name);
                o->isolated = true;
        }
        if (!o->isolated) {
                const char *state = o->config.state_dir ?: "/run/shuttle";
                char dir[PATH_MAX];
                if (control_container_dir(state, o->config.name, dir, sizeof(dir)) < 0 ||
                    !(o->config.shuttle_dir = strdup(dir)))
                        return log_oom(), 125;
                reg.state_dir = state;
                /* The container mounts this while it registers: it must
                 * exist first (the broker fills it; without one it stays
                 * empty and is removed at the end).  Closed on the host:
                 * see control.h. */
                r = control_container_dir_create(state, o->config.name, dir, sizeof(dir));
                if (r < 0)
                        return log_error_errno(r, "run: cannot create '%s': %m", dir), 125;
        }
        /* The shim makes the container's programs use the broker's fast
         * path.  Only with a broker, and only on the host rootfs: the
         * library was built against the host's libc, and a rootfs with
         * another one (or an older glibc) would fail to load it in every
         * program.  Not found (not built, not installed): the proxy
         * sockets still serve. */
        if (!o->isolated && !o->no_shim && !o->config.rootfs) {
                r = shim_locate(&o->config.shim_path);
                if (r < 0 && r != -ENOENT)
                        return log_oom(), 125;
        }
        /* Not found: pid 1 stays a fork of shuttlectl (container-init.c);
         * but a detached container's pid 1 must end when its monitor does,
         * which only shuttle-init does (its parent, the owner, leaves). */
        r = init_locate(&o->config.init_path);
        if (r == -ENOMEM)
                return log_oom(), 125;
        if (r < 0 && detached)
                return log_error("run: --detach needs shuttle-init, found neither in the build tree nor at "
                                 SHUTTLE_LIBEXECDIR "/shuttle-init"),
                       125;
        /* Not found (not built, not installed): no shuttle-invoke,
         * shuttle-name or shuttle-transfer inside. */
        if (!o->isolated && (invoke_helper_locate(&o->config.invoke_path) == -ENOMEM ||
                             name_helper_locate(&o->config.name_path) == -ENOMEM ||
                             transfer_helper_locate(&o->config.transfer_path) == -ENOMEM))
                return log_oom(), 125;
        o->config.hooks = (ContainerHooks){
                .created = container_created,
                .started = container_started,
                .userdata = &reg,
        };
        if (!o->isolated)
                o->config.hooks.finished = unregister_container;

        if (o->config.learn)
                log_warning("container '%s' runs in LEARN MODE: what the policy denies by default is allowed and "
                            "recorded as 'learn'",
                            o->config.name);
        r = container_create(&o->config, &ct, &result);
        if (r >= 0) {
                r = container_start(ct, &result);
                if (r >= 0 && detached && container_wait_started(ct) > 0) {
                        r = monitor_adopt(o, &reg, ct);
                        /* The monitor has it: nothing of it is ours any
                         * more (the front end was told it runs). */
                        if (r >= 0) {
                                (void) !write(reg.ready_fd, "R", 1);
                                _exit(0);
                        }
                        /* The container cannot be left without its
                         * monitor. */
                        snprintf(result.message, sizeof(result.message),
                                 "container '%s': cannot hand it to shuttle-monitor %s: %s", o->config.name,
                                 detached->monitor, strerror(-r));
                }
                if (r >= 0)
                        r = container_wait(ct, &result);
                container_destroy(ct);
        }
        if (o->config.shuttle_dir)
                remove_shuttle_dir(o->config.shuttle_dir);
        if (r < 0) {
                if (!result.message[0])
                        snprintf(result.message, sizeof(result.message), "container '%s' could not be started: %s",
                                 o->config.name, strerror(-r));
                if (reg.ready_fd >= 0)
                        (void) !write(reg.ready_fd, result.message, strlen(result.message));
                log_error("%s", result.message);
                safe_close(reg.ready_fd);
                return 125;
        }
        if (result.message[0]) {
                /* Exited before it ran (exec failed): the waiting front end
                 * says why. */
                if (reg.ready_fd >= 0)
                        (void) !write(reg.ready_fd, result.message, strlen(result.message));
                log_error("%s", result.message);
        }
        safe_close(reg.ready_fd);
        return result.exit_status;
}

/* A detached container that did not start (or whose monitor could not
 * run): what it and we wrote, stamped into its log if the name was ours.
 * Every writer is gone once we let go of our stdout and stderr. */
static void drain_to_log(Detached *d) {
        bool at_line_start = true;
        char buf[8192];
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC | O_NOCTTY);

        if (null >= 0) {
                (void) dup2(null, STDOUT_FILENO);
                (void) dup2(null, STDERR_FILENO);
                safe_close(null);
        }
        for (;;) {
                ssize_t n = read(d->out_fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                if (d->log_fd >= 0)
                        (void) logline_append(d->log_fd, buf, (size_t) n, &at_line_start);
        }
}

static int parse_int(const char *s, int *ret) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < INT_MIN || v > INT_MAX)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

/* shuttlectl __monitor-exit STATE NAME LOCK LOG REGISTERED ISOLATED
 * CGROUP-ROOT STATUS: what shuttle-monitor execs once a detached
 * container's init has ended, still holding its state entry's lock: the
 * teardown container_destroy() and run_container() do in the foreground.
 * Not a command for operators (not listed). */
int verb_monitor_exit(int argc, char **argv) {
        const char *state, *name;
        int lock, log_fd, status;
        bool registered, isolated;

        if (argc != 9 || parse_int(argv[3], &lock) < 0 || parse_int(argv[4], &log_fd) < 0 ||
            parse_int(argv[8], &status) < 0) {
                log_error("__monitor-exit: run by shuttle-monitor only");
                return EXIT_USAGE;
        }
        state = argv[1];
        name = argv[2];
        registered = streq(argv[5], "1");
        isolated = streq(argv[6], "1");
        if (registered)
                (void) broker_unregister_container(state, name);
        /* Killed: by the OOM killer?  Said in its log, as a foreground run
         * says it on its stderr. */
        if (log_fd >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
                StateInfo si = {};
                uint64_t ooms = 0, n;
                if (state_info_load(state, name, &si) >= 0) {
                        for (char **p = si.cgroups; *p; p++)
                                if (cgroup_path_oom_kill_count(*p, &n) >= 0)
                                        ooms += n;
                        if (ooms > 0) {
                                _cleanup_free_ char *msg = NULL;
                                char sz[32];
                                bool at_line_start = true;
                                int k = si.limits.memory_bytes
                                                ? asprintf(&msg, "shuttlectl: container '%s' was killed: out of memory (limit %s)\n",
                                                           name, format_size(sz, sizeof(sz), si.limits.memory_bytes))
                                                : asprintf(&msg, "shuttlectl: container '%s' was killed: out of memory\n", name);
                                if (k > 0)
                                        (void) logline_append(log_fd, msg, (size_t) k, &at_line_start);
                        }
                        state_info_done(&si);
                }
        }
        if (state_entry_finish(state, name, lock, argv[7], "/proc/self/cgroup") < 0)
                return 1;
        if (!isolated) {
                char dir[PATH_MAX];
                if (control_container_dir(state, name, dir, sizeof(dir)) >= 0)
                        remove_shuttle_dir(dir);
        }
        safe_close(log_fd);
        return WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
}

/* shuttlectl run --detach -- CMD: the container runs under a process in a
 * session of its own (its owner, holding its state entry as in the
 * foreground), with no terminal: stdin is /dev/null, and what it writes goes
 * into a pipe that the owner, once the command runs as shuttle-monitor,
 * stamps line by line into <state>/logs/NAME.log.  We return once its
 * command runs, or with the reason it did not start. */
static int run_detached(RunOptions *o, int image_lock_fd) {
        _cleanup_free_ char *monitor = NULL;
        int ready[2], out[2], status;
        char msg[512];
        ssize_t n;
        pid_t pid;

        if (monitor_locate(&monitor) < 0)
                return log_error("run: --detach needs shuttle-monitor, found neither in the build tree nor at "
                                 SHUTTLE_LIBEXECDIR "/shuttle-monitor"),
                       125;
        if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
                return log_error_errno(-errno, "run: pipe: %m"), 125;
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0)
                return log_error_errno(-errno, "run: fork: %m"), 125;
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
                Detached d = { .out_fd = out[0], .log_fd = -1, .image_lock_fd = image_lock_fd, .monitor = monitor };
                int rc;

                /* Nothing of ours may keep the caller's stdio (a shell's
                 * $(...) would wait for the container's end). */
                if (null < 0 || dup2(null, STDIN_FILENO) < 0)
                        _exit(125);
                safe_close(null);
                close(ready[0]);
                (void) setsid();
                if (dup2(out[1], STDOUT_FILENO) < 0 || dup2(out[1], STDERR_FILENO) < 0)
                        _exit(125);
                close(out[1]);
                rc = run_container(o, ready[1], &d);
                drain_to_log(&d);
                _exit(rc);
        }
        close(ready[1]);
        close(out[0]);
        close(out[1]);
        do
                n = read(ready[0], msg, sizeof(msg) - 1);
        while (n < 0 && errno == EINTR);
        close(ready[0]);
        if (n == 1 && msg[0] == 'R') {
                printf("%s\n", o->config.name);
                return 0;
        }
        /* It did not start: its owner has ended or is ending, with the
         * status a foreground run would have had (127: no such command). */
        msg[n > 0 ? n : 0] = 0;
        log_error("%s", n > 0 ? msg : "run: the container did not start");
        if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) != 0)
                return WEXITSTATUS(status);
        return 125;
}

/* --rootfs names an image or a bundle: the root it gives (unpacked into
 * the cache first if need be), and for an image what of its config the
 * command line leaves open.  img keeps the cache entry locked.  Returns 0
 * or what shuttlectl exits with. */
static int prepare_rootfs(RunOptions *o, ImageRootfs *img) {
        const char *state = o->config.state_dir ?: "/run/shuttle";
        _cleanup_free_ char *arg = strdup(o->config.rootfs);
        char err[IMAGE_ERROR_MAX] = "";
        int r;

        if (!arg)
                return log_oom(), 125;
        r = image_rootfs_prepare(arg, state, !!o->config.argv, img, err, sizeof(err));
        if (r == -ENOMEM)
                return log_oom(), 125;
        if (r == -ENOEXEC) {
                /* No command, and none from the image: a usage error. */
                log_error("run: %s", err);
                return EXIT_USAGE;
        }
        if (r < 0) {
                log_error("run: --rootfs: %s", err[0] ? err : strerror(-r));
                return 125;
        }
        if (img->unpacked)
                log_notice("unpacked image %s (%s) into %s", arg, img->digest, img->rootfs);
        r = image_rootfs_apply(img, arg, &o->config, err, sizeof(err));
        if (r == -ENOMEM)
                return log_oom(), 125;
        if (r < 0) {
                log_error("run: %s", err);
                return r == -ENOEXEC ? EXIT_USAGE : 125;
        }
        return 0;
}

int verb_run(int argc, char **argv) {
        _cleanup_free_ char *error = NULL;
        _cleanup_(image_rootfs_done) ImageRootfs img = { .lock_fd = -1 };
        RunOptions o;
        int r;

        run_options_init(&o);
        r = run_options_parse(argc, argv, &o, &error);
        if (r < 0) {
                if (error)
                        log_error("run: %s", error);
                else
                        log_error_errno(r, "run: %m");
                run_options_done(&o);
                return EXIT_USAGE;
        }
        if (o.help) {
                fputs(run_usage, stdout);
                run_options_done(&o);
                return 0;
        }
        if (o.group_file) {
                r = run_group(&o);
                run_options_done(&o);
                return r;
        }
        if (geteuid() != 0) {
                log_error("run: creating containers needs root");
                run_options_done(&o);
                return 1;
        }
        if (!o.config.name && asprintf(&o.config.name, "shuttle-%d", (int) getpid()) < 0) {
                run_options_done(&o);
                (void) log_oom();
                return 125;
        }
        if (o.config.rootfs) {
                /* run --detach: the lock on the image's cache entry goes
                 * with the container to shuttle-monitor, and from there to
                 * __monitor-exit. */
                r = prepare_rootfs(&o, &img);
                if (r != 0) {
                        run_options_done(&o);
                        return r;
                }
        }
        r = o.detach ? run_detached(&o, img.lock_fd) : run_container(&o, -1, NULL);
        run_options_done(&o);
        return r;
}
