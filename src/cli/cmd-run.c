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
#include "common/fileio.h"
#include "common/log.h"
#include "shuttle/control.h"

typedef struct Registration {
        const char *state_dir;
        bool registered;
} Registration;

/* Every container registers with the running broker, which creates its
 * broker.sock and svc/ before the container mounts them.  Without a broker
 * the container still runs, isolated, with mediation off. */
static int register_container(const ContainerConfig *c, pid_t init_pid, void *userdata) {
        Registration *reg = userdata;
        _cleanup_close_ int fd = -1;
        json_t *req, *exports, *reply = NULL;
        int r;

        r = control_connect(reg->state_dir, &fd);
        if (r == -ENOENT || r == -ECONNREFUSED) {
                log_notice("no broker (shuttled) is running: container '%s' runs isolated, mediation is off",
                           c->name);
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Cannot reach the broker in '%s': %m", reg->state_dir);

        exports = json_array();
        for (size_t i = 0; exports && i < c->n_exports; i++)
                json_array_append_new(exports, c->exports[i].socket
                                                       ? json_pack("{s:s, s:s}", "name", c->exports[i].name,
                                                                   "socket", c->exports[i].socket)
                                                       : json_pack("{s:s, s:i}", "name", c->exports[i].name,
                                                                   "port", (int) c->exports[i].port));
        req = json_pack("{s:s, s:s, s:i, s:o*}", "op", "register", "name", c->name, "pid", (int) init_pid,
                        "exports", exports);
        if (!req)
                return log_oom();
        r = control_call(fd, req, &reply);
        json_decref(req);
        if (r < 0) {
                const char *e = reply ? json_string_value(json_object_get(reply, "error")) : NULL;
                if (e)
                        log_error("The broker refused container '%s': %s", c->name, e);
                else
                        log_error_errno(r, "Registering container '%s' with the broker failed: %m", c->name);
                json_decref(reply);
                return r;
        }
        json_decref(reply);
        reg->registered = true;
        return 0;
}

static void unregister_container(const ContainerConfig *c, void *userdata) {
        Registration *reg = userdata;
        _cleanup_close_ int fd = -1;
        json_t *req, *reply = NULL;

        /* The broker also notices the init's exit through its pidfd; this
         * just makes it immediate. */
        if (!reg->registered || control_connect(reg->state_dir, &fd) < 0)
                return;
        req = json_pack("{s:s, s:s}", "op", "unregister", "name", c->name);
        if (req && control_call(fd, req, &reply) >= 0)
                reg->registered = false;
        json_decref(req);
        json_decref(reply);
}

static void remove_shuttle_dir(const char *dir) {
        char svc[PATH_MAX + 8];

        /* Empty unless a broker still holds it; then rmdir fails, rightly. */
        snprintf(svc, sizeof(svc), "%s/svc", dir);
        (void) rmdir(svc);
        (void) rmdir(dir);
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
                log_error("run: app groups (%s) are not supported yet", o.group_file);
                run_options_done(&o);
                return 1;
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
                 * empty and is removed at the end). */
                r = mkdir_p_at(AT_FDCWD, dir, 0755);
                if (r < 0) {
                        log_error_errno(r, "run: cannot create '%s': %m", dir);
                        run_options_done(&o);
                        return 125;
                }
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
