/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttlectl run */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/run-options.h"
#include "cli/verbs.h"
#include "common/log.h"
#include "shuttle/broker-client.h"
#include "shuttle/control.h"
#include "shuttle/group-run.h"
#include "shuttle/locate.h"
#include "runtime/group.h"

typedef struct Registration {
        const char *state_dir;
        bool registered;
} Registration;

/* Every container registers with the running broker, which fills its
 * broker.sock and svc/ while the container sets up.  Without a broker the
 * container still runs, isolated, with mediation off. */
static int register_container(const ContainerConfig *c, pid_t init_pid, void *userdata) {
        Registration *reg = userdata;
        _cleanup_free_ char *error = NULL;
        int r;

        r = broker_register_container(reg->state_dir, c, init_pid, 0, &error);
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

static void unregister_container(const ContainerConfig *c, void *userdata) {
        Registration *reg = userdata;

        /* The broker also notices the init's exit through its pidfd; this
         * just makes it immediate. */
        if (reg->registered && broker_unregister_container(reg->state_dir, c->name) >= 0)
                reg->registered = false;
}

static void remove_shuttle_dir(const char *dir) {
        char svc[PATH_MAX + 8];

        /* Empty unless a broker still holds it; then rmdir fails, rightly. */
        snprintf(svc, sizeof(svc), "%s/svc", dir);
        (void) rmdir(svc);
        (void) rmdir(dir);
}

/* shuttlectl run GROUP.yaml */
static int run_group(RunOptions *o) {
        _cleanup_(policy_diagnostics_clear) PolicyDiagnostics diags = {};
        _cleanup_(group_freep) Group *g = NULL;
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
        if (geteuid() != 0) {
                log_error("run: starting an app group needs root");
                return 1;
        }

        /* A group's interactions need the broker: start one if none runs. */
        r = broker_ensure_running(state, &started, &error);
        if (r < 0) {
                log_error("run: no broker is running and none could be started: %s", error ?: strerror(-r));
                return 1;
        }
        if (started)
                log_notice("started shuttled (state in %s, audit log %s)", state,
                           streq(state, "/run/shuttle") ? "/var/log/shuttle/audit.jsonl" : "<state>/audit.jsonl");

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

int verb_run(int argc, char **argv) {
        _cleanup_free_ char *error = NULL;
        RunOptions o;
        ContainerResult result = {};
        Registration reg = {};
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

        if (!o.isolated) {
                const char *state = o.config.state_dir ?: "/run/shuttle";
                char dir[PATH_MAX];
                if (control_container_dir(state, o.config.name, dir, sizeof(dir)) < 0 ||
                    !(o.config.shuttle_dir = strdup(dir))) {
                        run_options_done(&o);
                        (void) log_oom();
                        return 125;
                }
                reg.state_dir = state;
                /* The container mounts this while it registers: it must
                 * exist first (the broker fills it; without one it stays
                 * empty and is removed at the end).  Closed on the host:
                 * see control.h. */
                r = control_container_dir_create(state, o.config.name, dir, sizeof(dir));
                if (r < 0) {
                        log_error_errno(r, "run: cannot create '%s': %m", dir);
                        run_options_done(&o);
                        return 125;
                }
        }
        /* The shim makes the container's programs use the broker's fast
         * path.  Only with a broker, and only on the host rootfs: the
         * library was built against the host's libc, and a rootfs with
         * another one (or an older glibc) would fail to load it in every
         * program.  Not found (not built, not installed): the proxy
         * sockets still serve. */
        if (!o.isolated && !o.no_shim && !o.config.rootfs) {
                r = shim_locate(&o.config.shim_path);
                if (r < 0 && r != -ENOENT) {
                        run_options_done(&o);
                        (void) log_oom();
                        return 125;
                }
        }
        /* Not found (not built, not installed): no shuttle-invoke or
         * shuttle-name inside. */
        if (!o.isolated && (invoke_helper_locate(&o.config.invoke_path) == -ENOMEM ||
                            name_helper_locate(&o.config.name_path) == -ENOMEM)) {
                run_options_done(&o);
                (void) log_oom();
                return 125;
        }
        if (!o.isolated)
                o.config.hooks = (ContainerHooks){
                        .created = register_container,
                        .finished = unregister_container,
                        .userdata = &reg,
                };

        r = container_run(&o.config, &result);
        if (o.config.shuttle_dir)
                remove_shuttle_dir(o.config.shuttle_dir);
        if (r < 0) {
                if (result.message[0])
                        log_error("%s", result.message);
                else
                        log_error_errno(r, "container '%s' could not be started: %m", o.config.name);
                run_options_done(&o);
                return 125;
        }
        if (result.message[0])
                log_error("%s", result.message);
        run_options_done(&o);
        return result.exit_status;
}
