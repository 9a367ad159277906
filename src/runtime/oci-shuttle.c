/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Shuttle's annotations in config.json: what makes an OCI container a
 * Shuttle container (its name for the broker, its group, the services it
 * exports, the shim).  The export values have the syntax of shuttlectl's
 * --export (src/cli/run-options.c, which reads them for the command line
 * with the same validators of common/parse.h). */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/parse.h"
#include "runtime/container.h"
#include "runtime/oci-spec.h"

_printf_(4, 5) static int fail(char *err, size_t errlen, const char *key, const char *fmt, ...) {
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (err && errlen > 0)
                snprintf(err, errlen, "annotations[\"%s\"]: %s", key, msg);
        return -EINVAL;
}

static void export_done(ContainerExport *e) {
        free(e->name);
        free(e->socket);
        free(e->mq);
        *e = (ContainerExport){};
}

#define EXPORT_SYNTAX "NAME=/path/in/container.sock, NAME=tcp:PORT, NAME=mq:/QUEUE or NAME=shm:SIZE"

/* One NAME=VALUE of the list; err names the annotation and the entry. */
static int parse_export(const char *entry, ContainerExport *ret, char *err, size_t errlen) {
        const char *eq = strchr(entry, '='), *v;
        const char *key = OCI_ANNOTATION_EXPORTS;
        ContainerExport e = {};
        int r;

        if (!eq)
                return fail(err, errlen, key, "'%s': expected " EXPORT_SYNTAX, entry);
        v = eq + 1;
        e.name = strndup(entry, (size_t) (eq - entry));
        if (!e.name)
                return -ENOMEM;
        if (!container_name_is_valid(e.name)) {
                r = fail(err, errlen, key, "'%s': expected " EXPORT_SYNTAX " (a name of A-Z a-z 0-9 _ . -)",
                         entry);
                goto fail;
        }
        if (strneq(v, "tcp:", 4)) {
                uint32_t port;

                if (parse_uint32(v + 4, &port) < 0 || port == 0 || port > 65535) {
                        r = fail(err, errlen, key, "'%s': expected tcp:PORT with a port from 1 to 65535",
                                 entry);
                        goto fail;
                }
                e.port = (uint16_t) port;
        } else if (strneq(v, "mq:", 3)) {
                if (!mq_name_is_valid(v + 3)) {
                        r = fail(err, errlen, key,
                                 "'%s': expected mq:/QUEUE, a queue name as mq_open() takes it "
                                 "(one leading '/', at most %d more characters, no other '/')",
                                 entry, MQ_NAME_MAX);
                        goto fail;
                }
                e.mq = strdup(v + 3);
                if (!e.mq) {
                        r = -ENOMEM;
                        goto fail;
                }
        } else if (strneq(v, "shm:", 4)) {
                if (parse_size(v + 4, &e.shm_size) < 0 || e.shm_size == 0 ||
                    e.shm_size > CONTAINER_EXPORT_SHM_MAX) {
                        r = fail(err, errlen, key, "'%s': expected shm:SIZE, e.g. shm:16M (1 byte to 64G)",
                                 entry);
                        goto fail;
                }
        } else if (path_is_clean_absolute(v)) {
                e.socket = strdup(v);
                if (!e.socket) {
                        r = -ENOMEM;
                        goto fail;
                }
        } else {
                r = fail(err, errlen, key,
                         "'%s': expected " EXPORT_SYNTAX " (a socket path absolute, without '.' or '..')",
                         entry);
                goto fail;
        }
        *ret = e;
        return 0;
fail:
        export_done(&e);
        return r;
}

/* The list: entries separated by commas, spaces or newlines (a Kubernetes
 * annotation written as a YAML block keeps its line breaks). */
static int parse_exports(const char *value, OciShuttle *a, char *err, size_t errlen) {
        static const char sep[] = ", \t\n";
        _cleanup_free_ char *copy = strdup(value);
        char *save = NULL;
        int r;

        if (!copy)
                return -ENOMEM;
        for (char *tok = strtok_r(copy, sep, &save); tok; tok = strtok_r(NULL, sep, &save)) {
                ContainerExport e, *n;

                r = parse_export(tok, &e, err, errlen);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < a->n_exports; i++)
                        if (streq(a->exports[i].name, e.name)) {
                                r = fail(err, errlen, OCI_ANNOTATION_EXPORTS, "two services named '%s'",
                                         e.name);
                                export_done(&e);
                                return r;
                        }
                n = reallocarray(a->exports, a->n_exports + 1, sizeof(*n));
                if (!n) {
                        export_done(&e);
                        return -ENOMEM;
                }
                a->exports = n;
                a->exports[a->n_exports++] = e;
        }
        if (a->n_exports == 0)
                return fail(err, errlen, OCI_ANNOTATION_EXPORTS, "empty: expected " EXPORT_SYNTAX);
        return 0;
}

static int dup_name(const char *key, const char *value, char **ret, char *err, size_t errlen) {
        if (!container_name_is_valid(value))
                return fail(err, errlen, key,
                            "'%s' is not a valid name (1-63 characters of A-Z a-z 0-9 _ . -, "
                            "starting with a letter or digit)",
                            value);
        *ret = strdup(value);
        return *ret ? 0 : -ENOMEM;
}

static const char *annotation(const OciSpec *s, const char *key) {
        for (size_t i = 0; i < s->n_annotations; i++)
                if (streq(s->annotation_keys[i], key))
                        return s->annotation_values[i];
        return NULL;
}

static bool streq_ptr(const char *a, const char *b) {
        return a && b && streq(a, b);
}

static bool is_shuttle_key(const char *k) {
        return strneq(k, "org.shuttle.", STRLEN("org.shuttle."));
}

static bool is_sandbox(const OciSpec *s) {
        return streq_ptr(annotation(s, OCI_ANNOTATION_CRI_TYPE), "sandbox") ||
               streq_ptr(annotation(s, OCI_ANNOTATION_CRIO_TYPE), "sandbox");
}

const char *oci_shuttle_crio_sandbox(const OciSpec *s) {
        const char *id = annotation(s, OCI_ANNOTATION_CRIO_SANDBOX_ID);

        if (!streq_ptr(annotation(s, OCI_ANNOTATION_CRIO_TYPE), "container") || is_sandbox(s) || !id || !id[0])
                return NULL;
        for (size_t i = 0; i < s->n_annotations; i++)
                if (is_shuttle_key(s->annotation_keys[i]))
                        return NULL; /* its own annotations win, whole */
        return id;
}

/* The org.shuttle.* keys come from pod (the sandbox's annotations under
 * CRI-O) or from s itself; whether s is a sandbox and its name in the
 * pod always from s. */
static int shuttle_annotations(const OciSpec *s, const OciSpec *pod, OciShuttle *ret, char *err, size_t errlen) {
        _cleanup_free_ char *container = NULL;
        OciShuttle a = {};
        bool sandbox = is_sandbox(s), other = false;
        const OciSpec *src = pod ?: s;
        int r = 0;

        for (size_t i = 0; i < src->n_annotations && r >= 0; i++) {
                const char *k = src->annotation_keys[i], *v = src->annotation_values[i];

                if (!is_shuttle_key(k))
                        continue;
                a.present = true;
                if (streq(k, OCI_ANNOTATION_NAME))
                        r = dup_name(k, v, &a.name, err, errlen);
                else if (streq(k, OCI_ANNOTATION_GROUP))
                        r = dup_name(k, v, &a.group, err, errlen);
                else if (streq(k, OCI_ANNOTATION_EXPORTS))
                        r = parse_exports(v, &a, err, errlen);
                else if (streq(k, OCI_ANNOTATION_SHIM)) {
                        if (streq(v, "true"))
                                a.shim = true;
                        else if (streq(v, "false"))
                                a.shim = false;
                        else
                                r = fail(err, errlen, k, "'%s': expected \"true\" or \"false\"", v);
                } else if (streq(k, OCI_ANNOTATION_CONTAINER))
                        r = dup_name(k, v, &container, err, errlen);
                else
                        /* A misspelt key would quietly leave the container
                         * outside the policy it was meant for. */
                        r = fail(err, errlen, k,
                                 "unknown Shuttle annotation (known: " OCI_ANNOTATION_NAME ", "
                                 OCI_ANNOTATION_GROUP ", " OCI_ANNOTATION_EXPORTS ", " OCI_ANNOTATION_SHIM
                                 ", " OCI_ANNOTATION_CONTAINER ")");
        }
        /* Which container of a pod is the Shuttle container: the pod's
         * annotations reach every one of them (containerd's
         * pod_annotations), and two under one name cannot both register. */
        if (r >= 0 && container && !sandbox) {
                const char *in_pod = annotation(s, OCI_ANNOTATION_CRI_NAME) ?: annotation(s, OCI_ANNOTATION_CRIO_NAME);

                if (!in_pod)
                        r = fail(err, errlen, OCI_ANNOTATION_CONTAINER,
                                 "'%s': this container has no name in a pod (no \"" OCI_ANNOTATION_CRI_NAME
                                 "\" annotation, as containerd's CRI writes); give it only to pods",
                                 container);
                else
                        other = !streq(in_pod, container);
        }
        /* containerd's pod_annotations reach the pod's sandbox ("pause")
         * container too: registering it would take the workload's name.
         * Checked all the same, so that a bad annotation fails the pod at
         * its first container.  The pod's other containers likewise. */
        if (r < 0 || sandbox || other) {
                oci_shuttle_done(&a);
                if (r < 0)
                        return r;
        }
        *ret = a;
        return 0;
}

int oci_shuttle_annotations(const OciSpec *s, OciShuttle *ret, char *err, size_t errlen) {
        return shuttle_annotations(s, NULL, ret, err, errlen);
}

int oci_shuttle_annotations_pod(const OciSpec *s, const OciSpec *pod, OciShuttle *ret, char *err, size_t errlen) {
        const char *uid, *pod_uid;

        /* Only where oci_shuttle_crio_sandbox() says the pod's apply. */
        if (!pod || !oci_shuttle_crio_sandbox(s) || !is_sandbox(pod))
                return shuttle_annotations(s, NULL, ret, err, errlen);
        /* CRI-O writes a pod's annotations and labels after its own keys:
         * a pod author can make a sandbox look like an app container of
         * another pod's sandbox.  The kubelet's pod UID (a label it sets
         * over the author's, on the sandbox and each container) tells. */
        uid = annotation(s, OCI_ANNOTATION_POD_UID);
        pod_uid = annotation(pod, OCI_ANNOTATION_POD_UID);
        if (!uid || !pod_uid || !uid[0] || !streq(uid, pod_uid)) {
                *ret = (OciShuttle){};
                return fail(err, errlen, OCI_ANNOTATION_CRIO_SANDBOX_ID,
                            "'%s' is not this container's pod: \"" OCI_ANNOTATION_POD_UID "\" %s%s%s, the sandbox's %s%s%s",
                            oci_shuttle_crio_sandbox(s), uid ? "'" : "", uid ?: "missing", uid ? "'" : "",
                            pod_uid ? "'" : "", pod_uid ?: "missing", pod_uid ? "'" : "");
        }
        return shuttle_annotations(s, pod, ret, err, errlen);
}

void oci_shuttle_done(OciShuttle *a) {
        if (!a)
                return;
        free(a->name);
        free(a->group);
        for (size_t i = 0; i < a->n_exports; i++)
                export_done(&a->exports[i]);
        free(a->exports);
        *a = (OciShuttle){};
}
