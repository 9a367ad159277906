/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/macro.h"
#include "shuttle/audit/audit.h"
#include "shuttle/host/broker-client.h"
#include "shuttle/host/control.h"
#include "shuttle/host/locate.h"

/* Sends req (taken; NULL: out of memory) to the broker on state_dir and
 * waits for its reply, a few seconds at most when bounded (-ETIMEDOUT
 * then).  Whenever the broker answered, its reply goes to *ret_reply (if
 * given, else it is freed), and the "error" of a refusal to *ret_error. */
static int request(const char *state_dir, json_t *req, bool bounded, char **ret_error, json_t **ret_reply) {
        /* A broker that is stuck must not hang `shuttlectl audit`. */
        const struct timeval tv = { .tv_sec = 5 };
        _cleanup_close_ int fd = -1;
        json_t *reply = NULL;
        int r;

        if (!req)
                return -ENOMEM;
        r = control_connect(state_dir, &fd);
        if (r >= 0 && bounded &&
            (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
             setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0))
                r = -errno;
        if (r >= 0)
                r = control_call(fd, req, &reply);
        if (bounded && r == -EAGAIN)
                r = -ETIMEDOUT;
        json_decref(req);
        if (r < 0 && reply && ret_error) {
                const char *e = json_string_value(json_object_get(reply, "error"));
                if (e)
                        *ret_error = strdup(e);
        }
        if (reply && ret_reply)
                *ret_reply = reply;
        else
                json_decref(reply);
        return r;
}

static int call(const char *state_dir, json_t *req, char **ret_error) {
        return request(state_dir, req, false, ret_error, NULL);
}

static json_t *export_json(const ContainerExport *e) {
        return control_export_json(e->name, e->socket, e->mq, e->shm_size, e->fifo, e->port);
}

int broker_register_container(const char *state_dir, const ContainerConfig *c, pid_t pid, unsigned restarts,
                              char **ret_error) {
        json_t *exports = json_array();

        for (size_t i = 0; exports && i < c->n_exports; i++)
                json_array_append_new(exports, export_json(&c->exports[i]));
        return call(state_dir,
                    json_pack("{s:s, s:s, s:s?, s:i, s:o*, s:i, s:b}", "op", "register", "name", c->name, "group",
                              c->group, "pid", (int) pid, "exports", exports, "restarts", (int) restarts, "learn",
                              c->learn),
                    ret_error);
}

bool broker_container_learns(const char *state_dir, const char *name) {
        char path[PATH_MAX];
        json_t *o;
        bool learn;

        if ((size_t) snprintf(path, sizeof(path), "%s/registry/%s.json", state_dir, name) >= sizeof(path))
                return false;
        o = json_load_file(path, 0, NULL);
        learn = json_is_true(json_object_get(o, "learn"));
        json_decref(o);
        return learn;
}

int broker_unregister_container(const char *state_dir, const char *name) {
        return call(state_dir, json_pack("{s:s, s:s}", "op", "unregister", "name", name), NULL);
}

int broker_reload_policy(const char *state_dir, json_t **ret_reply) {
        return request(state_dir, json_pack("{s:s}", "op", "reload"), false, NULL, ret_reply);
}

int broker_set_group_policy(const char *state_dir, const char *group, const char *file, const char *source,
                            char **ret_error) {
        return call(state_dir,
                    json_pack("{s:s, s:s, s:s?, s:s?}", "op", "group-policy", "group", group, "file", file, "source",
                              source),
                    ret_error);
}

static bool broker_answers(const char *state_dir) {
        _cleanup_close_ int fd = -1;
        return control_connect(state_dir, &fd) >= 0;
}

char *broker_default_audit_log(const char *state_dir) {
        char *p = NULL;

        if (streq(state_dir, "/run/shuttle"))
                return strdup(AUDIT_DEFAULT_PATH);
        return asprintf(&p, "%s/audit.jsonl", state_dir) < 0 ? NULL : p;
}

int broker_audit_log_path(const char *state_dir, char **ret_path) {
        json_t *reply = NULL;
        const char *p;
        char *copy;
        int r;

        r = request(state_dir, json_pack("{s:s}", "op", "audit-log"), true, NULL, &reply);
        p = r >= 0 ? json_string_value(json_object_get(reply, "path")) : NULL;
        if (r >= 0 && (!p || p[0] != '/'))
                r = -EBADMSG;
        copy = r >= 0 ? strdup(p) : NULL;
        if (r >= 0 && !copy)
                r = -ENOMEM;
        json_decref(reply);
        if (r < 0)
                return r;
        *ret_path = copy;
        return 0;
}

int broker_policies(const char *state_dir, json_t **ret_reply) {
        json_t *reply = NULL;
        int r;

        r = request(state_dir, json_pack("{s:s}", "op", "policies"), true, NULL, &reply);
        if (r < 0) {
                json_decref(reply);
                return r;
        }
        *ret_reply = reply;
        return 0;
}

int broker_ensure_running(const char *state_dir, bool *ret_started, char **ret_error) {
        _cleanup_free_ char *path = NULL, *audit = NULL;
        pid_t pid;
        int status;

        *ret_started = false;
        if (broker_answers(state_dir))
                return 0;
        audit = broker_default_audit_log(state_dir);
        if (!audit)
                return -ENOMEM;
        if (shuttled_locate(&path) < 0) {
                (void) asprintf(ret_error, "no shuttled to start (looked next to shuttlectl and in %s)",
                                SHUTTLE_SBINDIR);
                return -ENOENT;
        }
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                /* shuttled detaches itself once it listens: its exit status
                 * tells whether it started. */
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null >= 0) {
                        dup2(null, STDIN_FILENO);
                        dup2(null, STDOUT_FILENO);
                }
                /* Default paths; a private state directory gets a private
                 * audit log beside it (broker_default_audit_log()). */
                if (streq(state_dir, "/run/shuttle"))
                        execl(path, "shuttled", "--state-dir", state_dir, (char *) NULL);
                else
                        execl(path, "shuttled", "--state-dir", state_dir, "--audit-log", audit, (char *) NULL);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                (void) asprintf(ret_error, "%s failed to start (status %d)", path,
                                WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
                return -EIO;
        }
        for (int i = 0; i < 100 && !broker_answers(state_dir); i++)
                usleep(20000);
        if (!broker_answers(state_dir)) {
                (void) asprintf(ret_error, "%s started but does not answer on %s/control.sock", path, state_dir);
                return -ETIMEDOUT;
        }
        *ret_started = true;
        return 0;
}
