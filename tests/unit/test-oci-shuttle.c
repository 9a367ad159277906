/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shuttle's annotations in config.json (oci-shuttle.c): name, group,
 * exports with shuttlectl's --export syntax, shim; each refusal names the
 * annotation. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "runtime/container.h"
#include "runtime/oci-spec.h"

/* A config.json whose annotations are the given JSON object members. */
static int parse(const char *annotations, OciShuttle *ret, char *err, size_t errlen) {
        _cleanup_free_ char *json = NULL;
        char perr[512] = "";
        OciSpec *s = NULL;
        int r;

        assert_true(asprintf(&json, "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},"
                                    "\"annotations\":{%s}}", annotations) > 0);
        if (oci_spec_parse(json, strlen(json), &s, perr, sizeof(perr)) < 0)
                fail_msg("%s", perr);
        r = oci_shuttle_annotations(s, ret, err, errlen);
        oci_spec_free(s);
        return r;
}

static void test_none(void **state _unused_) {
        OciShuttle a;
        char err[256] = "";

        assert_int_equal(parse("\"io.container.manager\":\"libpod\",\"org.shuttlex\":\"1\"", &a, err,
                               sizeof(err)), 0);
        assert_false(a.present);
        assert_null(a.name);
        assert_null(a.group);
        assert_int_equal(a.n_exports, 0);
        assert_false(a.shim);
        oci_shuttle_done(&a);
}

static void test_all(void **state _unused_) {
        OciShuttle a;
        char err[256] = "";

        assert_int_equal(parse("\"org.shuttle.name\":\"web-1\",\"org.shuttle.group\":\"shop\","
                               "\"org.shuttle.shim\":\"true\",\"io.kubernetes.pod.name\":\"web\","
                               "\"org.shuttle.exports\":\"http=tcp:8080, api=/run/api.sock,\\n"
                               "jobs=mq:/jobs,cache=shm:16M\"",
                               &a, err, sizeof(err)),
                         0);
        assert_true(a.present);
        assert_string_equal(a.name, "web-1");
        assert_string_equal(a.group, "shop");
        assert_true(a.shim);
        assert_int_equal(a.n_exports, 4);
        assert_string_equal(a.exports[0].name, "http");
        assert_int_equal(a.exports[0].port, 8080);
        assert_null(a.exports[0].socket);
        assert_string_equal(a.exports[1].name, "api");
        assert_string_equal(a.exports[1].socket, "/run/api.sock");
        assert_string_equal(a.exports[2].mq, "/jobs");
        assert_int_equal(a.exports[3].shm_size, 16 << 20);
        oci_shuttle_done(&a);
        assert_null(a.exports);

        assert_int_equal(parse("\"org.shuttle.shim\":\"false\"", &a, err, sizeof(err)), 0);
        assert_true(a.present);
        assert_false(a.shim);
        oci_shuttle_done(&a);
}

/* containerd (pod_annotations) and CRI-O give the pod's annotations to its
 * sandbox ("pause") container too: checked, but it is no Shuttle
 * container, or it would take the workload's name first. */
static void test_pod_sandbox(void **state _unused_) {
        static const char *const sandboxes[] = {
                "\"io.kubernetes.cri.container-type\":\"sandbox\"",
                "\"io.kubernetes.cri-o.ContainerType\":\"sandbox\"",
        };
        OciShuttle a;
        char err[256] = "";

        for (size_t i = 0; i < ELEMENTSOF(sandboxes); i++) {
                _cleanup_free_ char *ann = NULL;

                assert_true(asprintf(&ann, "\"org.shuttle.name\":\"web\",%s,\"org.shuttle.exports\":\"http=tcp:80\"",
                                     sandboxes[i]) > 0);
                assert_int_equal(parse(ann, &a, err, sizeof(err)), 0);
                assert_false(a.present);
                assert_null(a.name);
                assert_null(a.exports);
                oci_shuttle_done(&a);
        }

        /* The pod's workload containers are Shuttle containers. */
        assert_int_equal(parse("\"org.shuttle.name\":\"web\",\"io.kubernetes.cri.container-type\":\"container\"",
                               &a, err, sizeof(err)), 0);
        assert_true(a.present);
        assert_string_equal(a.name, "web");
        oci_shuttle_done(&a);

        /* A bad annotation fails the sandbox already, naming it. */
        assert_int_equal(parse("\"io.kubernetes.cri.container-type\":\"sandbox\",\"org.shuttle.shim\":\"yes\"",
                               &a, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "annotations[\"org.shuttle.shim\"]: 'yes': expected \"true\" or \"false\"");
}

/* org.shuttle.container: in a pod, only the container of that name (in
 * the pod spec) registers; its sidecars and init containers do not. */
static void test_pod_container(void **state _unused_) {
        static const char pod[] = "\"org.shuttle.name\":\"web\",\"org.shuttle.container\":\"app\","
                                  "\"io.kubernetes.cri.container-type\":\"container\",";
        OciShuttle a;
        char err[256] = "";

        assert_int_equal(parse("\"org.shuttle.name\":\"web\",\"org.shuttle.container\":\"app\","
                               "\"io.kubernetes.cri.container-type\":\"container\","
                               "\"io.kubernetes.cri.container-name\":\"app\"",
                               &a, err, sizeof(err)), 0);
        assert_true(a.present);
        assert_string_equal(a.name, "web");
        oci_shuttle_done(&a);

        /* CRI-O's name for it (a kubelet label it copies in). */
        assert_int_equal(parse("\"org.shuttle.name\":\"web\",\"org.shuttle.container\":\"app\","
                               "\"io.kubernetes.container.name\":\"app\"",
                               &a, err, sizeof(err)), 0);
        assert_true(a.present);
        oci_shuttle_done(&a);

        for (size_t i = 0; i < 2; i++) {
                _cleanup_free_ char *ann = NULL;

                assert_true(asprintf(&ann, "%s\"%s\":\"istio-proxy\"", pod,
                                     i == 0 ? "io.kubernetes.cri.container-name" : "io.kubernetes.container.name") > 0);
                assert_int_equal(parse(ann, &a, err, sizeof(err)), 0);
                assert_false(a.present);
                assert_null(a.name);
                oci_shuttle_done(&a);
        }

        /* The sandbox has no container name: no Shuttle container, no error. */
        assert_int_equal(parse("\"org.shuttle.name\":\"web\",\"org.shuttle.container\":\"app\","
                               "\"io.kubernetes.cri.container-type\":\"sandbox\"",
                               &a, err, sizeof(err)), 0);
        assert_false(a.present);
        oci_shuttle_done(&a);
}

static OciSpec *spec_of(const char *annotations) {
        _cleanup_free_ char *json = NULL;
        char perr[512] = "";
        OciSpec *s = NULL;

        assert_true(asprintf(&json, "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},"
                                    "\"annotations\":{%s}}", annotations) > 0);
        if (oci_spec_parse(json, strlen(json), &s, perr, sizeof(perr)) < 0)
                fail_msg("%s", perr);
        return s;
}

/* CRI-O as its source writes them: the pod's annotations (and the JSON of
 * them in io.kubernetes.cri-o.Annotations) on the sandbox ("infra")
 * container only; an app container has its own kubelet-made ones, its
 * type "container", its name in the pod as the label
 * io.kubernetes.container.name, and its sandbox's ID. */
#define CRIO_SANDBOX \
        "\"io.kubernetes.cri-o.ContainerType\":\"sandbox\",\"io.kubernetes.cri-o.SandboxID\":\"5b1d\"," \
        "\"io.kubernetes.cri-o.Annotations\":\"{\\\"org.shuttle.name\\\":\\\"web\\\"}\"," \
        "\"io.kubernetes.pod.uid\":\"u-1\","
#define CRIO_APP(name) \
        "\"io.kubernetes.cri-o.ContainerType\":\"container\",\"io.kubernetes.cri-o.SandboxID\":\"5b1d\"," \
        "\"io.kubernetes.cri-o.Annotations\":\"{\\\"io.kubernetes.container.hash\\\":\\\"e1\\\"}\"," \
        "\"io.kubernetes.container.name\":\"" name "\",\"io.kubernetes.pod.name\":\"web-0\"," \
        "\"io.kubernetes.pod.uid\":\"u-1\""

static void test_crio_sandbox_id(void **state _unused_) {
        static const struct {
                const char *annotations, *sandbox;
        } cases[] = {
                { CRIO_APP("app"), "5b1d" },
                /* its own org.shuttle.* win, whole: no mixing */
                { CRIO_APP("app") ",\"org.shuttle.group\":\"g\"", NULL },
                /* the sandbox itself, containerd's containers, plain ones */
                { CRIO_SANDBOX "\"org.shuttle.name\":\"web\"", NULL },
                { "\"io.kubernetes.cri.container-type\":\"container\",\"io.kubernetes.cri-o.SandboxID\":\"5b1d\"", NULL },
                { "\"io.kubernetes.cri-o.SandboxID\":\"5b1d\"", NULL },
                { "\"io.kubernetes.cri-o.ContainerType\":\"container\"", NULL },
                { "\"io.kubernetes.cri-o.ContainerType\":\"container\",\"io.kubernetes.cri-o.SandboxID\":\"\"", NULL },
                { "", NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                OciSpec *s = spec_of(cases[i].annotations);
                const char *id = oci_shuttle_crio_sandbox(s);

                if (cases[i].sandbox ? !id || !streq(id, cases[i].sandbox) : id != NULL)
                        fail_msg("%s: got %s", cases[i].annotations, id ?: "(null)");
                oci_spec_free(s);
        }
}

static int parse_pod(const char *app, const char *pod, OciShuttle *ret, char *err, size_t errlen) {
        OciSpec *s = spec_of(app), *p = pod ? spec_of(pod) : NULL;
        int r = oci_shuttle_annotations_pod(s, p, ret, err, errlen);

        oci_spec_free(s);
        oci_spec_free(p);
        return r;
}

static void test_crio_pod(void **state _unused_) {
        static const char pod[] = CRIO_SANDBOX "\"org.shuttle.name\":\"web\",\"org.shuttle.group\":\"shop\","
                                  "\"org.shuttle.exports\":\"http=tcp:8080\",\"org.shuttle.container\":\"app\"";
        OciShuttle a;
        char err[512] = "";

        /* The pod's container named by org.shuttle.container: the pod's name. */
        assert_int_equal(parse_pod(CRIO_APP("app"), pod, &a, err, sizeof(err)), 0);
        assert_true(a.present);
        assert_string_equal(a.name, "web");
        assert_string_equal(a.group, "shop");
        assert_int_equal(a.n_exports, 1);
        assert_int_equal(a.exports[0].port, 8080);
        oci_shuttle_done(&a);

        /* Its sidecar: plain. */
        assert_int_equal(parse_pod(CRIO_APP("istio-proxy"), pod, &a, err, sizeof(err)), 0);
        assert_false(a.present);
        assert_null(a.name);
        oci_shuttle_done(&a);

        /* Without org.shuttle.container, every app container of the pod. */
        assert_int_equal(parse_pod(CRIO_APP("istio-proxy"), CRIO_SANDBOX "\"org.shuttle.name\":\"web\"", &a, err,
                                   sizeof(err)), 0);
        assert_true(a.present);
        assert_string_equal(a.name, "web");
        oci_shuttle_done(&a);

        /* A container's own annotations win over the pod's, whole. */
        assert_int_equal(parse_pod(CRIO_APP("app") ",\"org.shuttle.name\":\"own\"", pod, &a, err, sizeof(err)), 0);
        assert_true(a.present);
        assert_string_equal(a.name, "own");
        assert_null(a.group);
        oci_shuttle_done(&a);

        /* What is not a sandbox lends nothing; a sandbox takes nothing. */
        assert_int_equal(parse_pod(CRIO_APP("app"), "\"org.shuttle.name\":\"web\"", &a, err, sizeof(err)), 0);
        assert_false(a.present);
        oci_shuttle_done(&a);
        assert_int_equal(parse_pod(CRIO_SANDBOX "\"x\":\"y\"", pod, &a, err, sizeof(err)), 0);
        assert_false(a.present);
        oci_shuttle_done(&a);
        assert_int_equal(parse_pod(CRIO_APP("app"), NULL, &a, err, sizeof(err)), 0);
        assert_false(a.present);
        oci_shuttle_done(&a);

        /* Another pod's sandbox (a pod author can write CRI-O's keys into
         * its own sandbox's annotations, but not the kubelet's pod UID). */
        assert_int_equal(parse_pod(CRIO_APP("app"),
                                   "\"io.kubernetes.cri-o.ContainerType\":\"sandbox\",\"io.kubernetes.cri-o.SandboxID\":"
                                   "\"5b1d\",\"io.kubernetes.pod.uid\":\"u-2\",\"org.shuttle.name\":\"web\"",
                                   &a, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "annotations[\"io.kubernetes.cri-o.SandboxID\"]: '5b1d' is not this container's pod: "
                                 "\"io.kubernetes.pod.uid\" 'u-1', the sandbox's 'u-2'");
        assert_false(a.present);
        assert_int_equal(parse_pod("\"io.kubernetes.cri-o.ContainerType\":\"container\","
                                   "\"io.kubernetes.cri-o.SandboxID\":\"5b1d\"", pod, &a, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "annotations[\"io.kubernetes.cri-o.SandboxID\"]: '5b1d' is not this container's pod: "
                                 "\"io.kubernetes.pod.uid\" missing, the sandbox's 'u-1'");

        /* The pod's mistakes are refused as the pod's own would be. */
        assert_int_equal(parse_pod(CRIO_APP("app"), CRIO_SANDBOX "\"org.shuttle.shim\":\"yes\"", &a, err,
                                   sizeof(err)), -EINVAL);
        assert_string_equal(err, "annotations[\"org.shuttle.shim\"]: 'yes': expected \"true\" or \"false\"");
        assert_false(a.present);
}

static const struct {
        const char *annotations, *message;
} refusals[] = {
        { "\"org.shuttle.nmae\":\"web\"",
          "annotations[\"org.shuttle.nmae\"]: unknown Shuttle annotation (known: org.shuttle.name, "
          "org.shuttle.group, org.shuttle.exports, org.shuttle.shim, org.shuttle.container)" },
        { "\"org.shuttle.container\":\"web\"",
          "annotations[\"org.shuttle.container\"]: 'web': this container has no name in a pod (no "
          "\"io.kubernetes.cri.container-name\" annotation, as containerd's CRI writes); give it only to pods" },
        { "\"org.shuttle.container\":\"a b\",\"io.kubernetes.cri.container-name\":\"a b\"",
          "annotations[\"org.shuttle.container\"]: 'a b' is not a valid name ..." },
        { "\"org.shuttle.name\":\"../etc\"",
          "annotations[\"org.shuttle.name\"]: '../etc' is not a valid name (1-63 characters of A-Z a-z "
          "0-9 _ . -, starting with a letter or digit)" },
        { "\"org.shuttle.group\":\"\"", "annotations[\"org.shuttle.group\"]: '' is not a valid name ..." },
        { "\"org.shuttle.shim\":\"yes\"", "annotations[\"org.shuttle.shim\"]: 'yes': expected \"true\" or \"false\"" },
        { "\"org.shuttle.exports\":\" , \"",
          "annotations[\"org.shuttle.exports\"]: empty: expected NAME=/path/in/container.sock, "
          "NAME=tcp:PORT, NAME=mq:/QUEUE or NAME=shm:SIZE" },
        { "\"org.shuttle.exports\":\"web=tcp:80,db=tcp:0\"",
          "annotations[\"org.shuttle.exports\"]: 'db=tcp:0': expected tcp:PORT with a port from 1 to 65535" },
        { "\"org.shuttle.exports\":\"web\"", "annotations[\"org.shuttle.exports\"]: 'web': expected NAME=..." },
        { "\"org.shuttle.exports\":\"a/b=tcp:1\"", "annotations[\"org.shuttle.exports\"]: 'a/b=tcp:1': expected NAME=..." },
        { "\"org.shuttle.exports\":\"q=mq:jobs\"", "annotations[\"org.shuttle.exports\"]: 'q=mq:jobs': expected mq:/QUEUE..." },
        { "\"org.shuttle.exports\":\"m=shm:0\"", "annotations[\"org.shuttle.exports\"]: 'm=shm:0': expected shm:SIZE..." },
        { "\"org.shuttle.exports\":\"s=/run/../x.sock\"", "annotations[\"org.shuttle.exports\"]: 's=/run/../x.sock': expected NAME=..." },
        { "\"org.shuttle.exports\":\"s=/a.sock,s=tcp:9\"", "annotations[\"org.shuttle.exports\"]: two services named 's'" },
};

static void test_refusals(void **state _unused_) {
        for (size_t i = 0; i < ELEMENTSOF(refusals); i++) {
                const char *m = refusals[i].message;
                size_t n = strlen(m);
                char err[512] = "";
                OciShuttle a = {};

                assert_int_equal(parse(refusals[i].annotations, &a, err, sizeof(err)), -EINVAL);
                assert_false(a.present);
                assert_null(a.exports);
                if (n > 3 && streq(m + n - 3, "..."))
                        n -= 3;
                else
                        n++;
                if (strncmp(err, m, n) != 0)
                        fail_msg("%s\n  got:      %s\n  expected: %s", refusals[i].annotations, err, m);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_none),
                cmocka_unit_test(test_all),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_pod_sandbox),
                cmocka_unit_test(test_pod_container),
                cmocka_unit_test(test_crio_sandbox_id),
                cmocka_unit_test(test_crio_pod),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
