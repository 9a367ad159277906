/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttle-oci and the node's broker: a container whose config.json carries
 * org.shuttle.* annotations registers with the shuttled on --shuttle-state
 * at create, as `shuttlectl run` does, and is unregistered when its state
 * is removed (docs/OCI.md, "Shuttle's annotations"). */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/oci.h"
#include "common/parse.h"
#include "runtime/container.h"
#include "runtime/oci-spec.h"
#include "shuttle/host/broker-client.h"
#include "shuttle/host/control.h"
#include "shuttle/host/locate.h"

/* <root>/<id>/shuttle.json: {"state": DIR, "name": NAME}, written once the
 * broker accepted the container, so that only a registration of ours is
 * ever undone. */
#define RECORD "shuttle.json"

static char *record_path(const char *id) {
        _cleanup_free_ char *dir = oci_state_dir(id);
        char *p;

        if (!dir || asprintf(&p, "%s/" RECORD, dir) < 0)
                return NULL;
        return p;
}

static void remove_shuttle_dir(const char *dir) {
        char svc[PATH_MAX + 8];

        /* Empty unless a broker still holds it; then rmdir fails, rightly. */
        snprintf(svc, sizeof(svc), "%s/svc", dir);
        (void) rmdir(svc);
        (void) rmdir(dir);
}

static bool streq_ptr(const char *a, const char *b) {
        return a && b && streq(a, b);
}

static const char *annotation_named(const OciShuttle *sh) {
        return sh->name ? OCI_ANNOTATION_NAME : "org.shuttle.*";
}

static int registered(const ContainerConfig *c, pid_t init_pid, void *userdata) {
        OciBroker *b = userdata;
        ContainerConfig as_named = *c;
        _cleanup_free_ char *error = NULL, *path = NULL;
        json_t *rec;
        int r;

        /* The broker knows it by its Shuttle name, the runtime by its ID. */
        as_named.name = (char *) b->name;
        r = broker_register_container(b->state_dir, &as_named, init_pid, 0, &error);
        if (r == -ENOENT || r == -ECONNREFUSED) {
                snprintf(b->message, sizeof(b->message),
                         "annotations[\"%s\"]: no broker (shuttled) answers on '%s' (start shuttled there, give "
                         "shuttle-oci --shuttle-state DIR, or drop the org.shuttle.* annotations)",
                         b->annotation, b->state_dir);
                return r;
        }
        if (r < 0) {
                snprintf(b->message, sizeof(b->message), "annotations[\"%s\"]: the broker on '%s' refused '%s': %s",
                         b->annotation, b->state_dir, b->name, error ? error : strerror(-r));
                return r;
        }
        path = record_path(b->id);
        rec = json_pack("{s:s, s:s}", "state", b->state_dir, "name", b->name);
        r = path && rec ? json_dump_file(rec, path, JSON_COMPACT) : -1;
        json_decref(rec);
        if (r < 0) {
                (void) broker_unregister_container(b->state_dir, b->name);
                snprintf(b->message, sizeof(b->message), "recording the registration of '%s' in '%s' failed",
                         b->name, path ?: RECORD);
                return -EIO;
        }
        b->registered = true;
        return 0;
}

static void pod_done(OciSpec *pod) {
        for (size_t i = 0; i < pod->n_annotations; i++) {
                free(pod->annotation_keys[i]);
                free(pod->annotation_values[i]);
        }
        free(pod->annotation_keys);
        free(pod->annotation_values);
        *pod = (OciSpec){};
}

/* The annotations of a CRI-O pod's sandbox, as its create recorded them in
 * <root>/<sandbox>/state.json: ours only (no symbolic link on the way, a
 * regular file of our user's, its "id" the sandbox's, marked "sandbox").
 * -ENOENT: no such container under this --root (CRI-O's drop_infra_ctr,
 * another runtime's sandbox); other errors with why. */
static int read_pod(const char *sandbox, OciSpec *ret, char *why, size_t whylen) {
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        _cleanup_free_ char *dir = NULL;
        OciSpec pod = {};
        struct stat st;
        json_error_t e;
        json_t *o = NULL, *a, *v;
        const char *key;
        int r;

        if (!oci_id_is_valid(sandbox)) {
                snprintf(why, whylen, "is no container ID");
                return -EINVAL;
        }
        dir = oci_state_dir(sandbox);
        if (!dir)
                return -ENOMEM;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0 && errno == ENOENT)
                return -ENOENT;
        if (dfd >= 0)
                fd = openat(dfd, "state.json", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (dfd < 0 || fd < 0) {
                r = -errno;
                if (r == -ENOENT)
                        return r; /* still being created, or being deleted */
                snprintf(why, whylen, "'%s/state.json': %s", dir, strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
                snprintf(why, whylen, "'%s/state.json' is not a regular file owned by uid %u", dir,
                         (unsigned) geteuid());
                return -EPERM;
        }
        o = json_loadfd(fd, 0, &e);
        r = -EBADMSG;
        if (!json_is_object(o) || !json_is_string(json_object_get(o, "id")) ||
            !streq(json_string_value(json_object_get(o, "id")), sandbox)) {
                snprintf(why, whylen, "'%s/state.json' is not a container's state", dir);
                goto out;
        }
        a = json_object_get(o, "annotations");
        pod.annotation_keys = calloc(json_object_size(a) + 1, sizeof(char *));
        pod.annotation_values = calloc(json_object_size(a) + 1, sizeof(char *));
        if (!pod.annotation_keys || !pod.annotation_values)
                goto oom;
        json_object_foreach(a, key, v) {
                if (!json_is_string(v))
                        continue;
                pod.annotation_keys[pod.n_annotations] = strdup(key);
                pod.annotation_values[pod.n_annotations] = strdup(json_string_value(v));
                pod.n_annotations++;
                if (!pod.annotation_keys[pod.n_annotations - 1] || !pod.annotation_values[pod.n_annotations - 1])
                        goto oom;
        }
        if (!streq_ptr(oci_spec_annotation(&pod, OCI_ANNOTATION_CRIO_TYPE), "sandbox") ||
            !streq_ptr(oci_spec_annotation(&pod, OCI_ANNOTATION_CRIO_SANDBOX_ID), sandbox)) {
                snprintf(why, whylen, "is not marked a sandbox (\"" OCI_ANNOTATION_CRIO_TYPE "\": \"sandbox\", \""
                         OCI_ANNOTATION_CRIO_SANDBOX_ID "\" its own ID)");
                r = -EINVAL;
                goto out;
        }
        *ret = pod;
        pod = (OciSpec){};
        r = 0;
        goto out;
oom:
        r = -ENOMEM;
        snprintf(why, whylen, "out of memory");
out:
        json_decref(o);
        pod_done(&pod);
        return r;
}

int oci_broker_prepare(const OciSpec *spec, const char *id, ContainerConfig *cfg, OciBroker *b) {
        _cleanup_(pod_done) OciSpec pod = {};
        OciShuttle sh = {};
        const char *sandbox;
        char dir[PATH_MAX] = "";
        int r;

        *b = (OciBroker){ .id = id, .state_dir = oci_globals.shuttle_state };
        /* CRI-O: a pod's annotations reach only its sandbox container;
         * an app container without org.shuttle.* of its own takes the
         * sandbox's, as containerd gives them to each container. */
        sandbox = oci_shuttle_crio_sandbox(spec);
        if (sandbox) {
                char why[400] = "";

                r = read_pod(sandbox, &pod, why, sizeof(why));
                if (r == -ENOENT)
                        oci_debug("sandbox %s: no state under %s, so no pod annotations: a plain container",
                                  sandbox, oci_globals.root);
                else if (r < 0) {
                        snprintf(b->message, sizeof(b->message),
                                 "annotations[\"" OCI_ANNOTATION_CRIO_SANDBOX_ID "\"]: sandbox '%.100s' %s", sandbox,
                                 why[0] ? why : strerror(-r));
                        return r;
                } else
                        oci_debug("sandbox %s: the pod's org.shuttle.* annotations apply", sandbox);
        }
        r = oci_shuttle_annotations_pod(spec, sandbox && pod.annotation_keys ? &pod : NULL, &sh, b->message,
                                        sizeof(b->message));
        if (r < 0) {
                if (r == -ENOMEM || !b->message[0])
                        snprintf(b->message, sizeof(b->message), "%s", strerror(-r));
                return r;
        }
        if (!sh.present)
                return 0; /* a plain OCI container */

        b->annotation = annotation_named(&sh);
        /* /run/shuttle inside is a mount of the container's own mount
         * namespace, and the broker knows its containers by host ids;
         * neither holds with these (docs/OCI.md). */
        if (cfg->ns_path[CONTAINER_NS_MOUNT] || (cfg->namespaces & CLONE_NEWUSER)) {
                snprintf(b->message, sizeof(b->message),
                         "annotations[\"%s\"]: a Shuttle container needs %s", b->annotation,
                         cfg->ns_path[CONTAINER_NS_MOUNT] ? "a mount namespace of its own (not one joined by path)"
                                                          : "the host's user namespace (user namespaces are not "
                                                            "supported with Shuttle's annotations yet)");
                r = -EINVAL;
                goto fail;
        }
        b->name = sh.name ? TAKE_PTR(sh.name) : strdup(id);
        if (!b->name)
                goto oom;
        if (!container_name_is_valid(b->name)) {
                /* The ID stands in for a missing org.shuttle.name. */
                snprintf(b->message, sizeof(b->message),
                         "the org.shuttle.* annotations need a Shuttle name: the ID '%s' is not one (1-63 characters "
                         "of A-Z a-z 0-9 _ . -); give annotations[\"" OCI_ANNOTATION_NAME "\"]",
                         id);
                r = -EINVAL;
                goto fail;
        }
        cfg->group = TAKE_PTR(sh.group);
        cfg->exports = TAKE_PTR(sh.exports);
        cfg->n_exports = sh.n_exports;
        sh.n_exports = 0;

        if (sh.shim) {
                r = shim_locate(&cfg->shim_path);
                if (r == -ENOMEM)
                        goto oom;
                if (r < 0) {
                        snprintf(b->message, sizeof(b->message),
                                 "annotations[\"" OCI_ANNOTATION_SHIM "\"] is \"true\", but libshuttle-shim.so is "
                                 "not installed (looked in " SHUTTLE_LIBDIR ")");
                        goto fail;
                }
        }
        /* Not found (not built, not installed): no shuttle-invoke,
         * shuttle-name or shuttle-transfer inside, as with shuttlectl. */
        if (invoke_helper_locate(&cfg->invoke_path) == -ENOMEM || name_helper_locate(&cfg->name_path) == -ENOMEM ||
            transfer_helper_locate(&cfg->transfer_path) == -ENOMEM)
                goto oom;

        /* Bound at /run/shuttle inside: it must exist before the container
         * mounts it; the broker fills it while the container sets up. */
        r = control_container_dir_create(b->state_dir, b->name, dir, sizeof(dir));
        if (r < 0) {
                snprintf(b->message, sizeof(b->message), "annotations[\"%s\"]: creating '%.300s': %s", b->annotation,
                         dir[0] ? dir : b->state_dir, strerror(-r));
                goto fail;
        }
        b->shuttle_dir = cfg->shuttle_dir = strdup(dir);
        if (!cfg->shuttle_dir) {
                remove_shuttle_dir(dir);
                goto oom;
        }
        cfg->hooks = (ContainerHooks){ .created = registered, .userdata = b };
        oci_shuttle_done(&sh);
        return 0;

oom:
        r = -ENOMEM;
        snprintf(b->message, sizeof(b->message), "out of memory");
fail:
        oci_shuttle_done(&sh);
        return r;
}

void oci_broker_abandon(OciBroker *b) {
        /* Create failed.  Registered: the record is in the state directory,
         * which oci_state_remove() forgets; else the directory made for it
         * is ours to remove. */
        if (b->shuttle_dir && !b->registered)
                remove_shuttle_dir(b->shuttle_dir);
        oci_broker_done(b);
}

void oci_broker_done(OciBroker *b) {
        free(b->name);
        b->name = NULL;
        b->shuttle_dir = NULL; /* cfg's */
}

void oci_broker_forget(const char *id) {
        _cleanup_free_ char *path = record_path(id);
        const char *state, *name;
        char dir[PATH_MAX];
        json_t *rec;

        if (!path || access(path, F_OK) < 0)
                return;
        rec = json_load_file(path, 0, NULL);
        state = json_string_value(json_object_get(rec, "state"));
        name = json_string_value(json_object_get(rec, "name"));
        if (state && name) {
                /* The broker also drops it once its init is gone (it holds
                 * a pidfd); this makes it immediate, and removes the
                 * directory bound at /run/shuttle. */
                int r = broker_unregister_container(state, name);
                if (r < 0 && r != -ENOENT && r != -ECONNREFUSED)
                        oci_debug("unregistering '%s' from the broker on '%s': %s", name, state, strerror(-r));
                if (control_container_dir(state, name, dir, sizeof(dir)) >= 0)
                        remove_shuttle_dir(dir);
        } else
                oci_warning("%s: unreadable; the container's Shuttle registration is left to the broker", path);
        json_decref(rec);
}
