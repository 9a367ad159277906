/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The request an audit record asks (src/cli/audit-request.c), for each
 * kind of record the broker writes (docs/AUDIT.md), worked out by hand;
 * and the records that decide nothing. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/audit-request.h"

static json_t *rec_of(const char *text) {
        json_error_t e;
        json_t *j = json_loads(text, 0, &e);

        if (!j)
                fail_msg("bad JSON in the test: %s", e.text);
        return j;
}

/* Decodes text into *a; returns the record (to free). */
static json_t *decode(const char *text, AuditRequest *a, int want) {
        json_t *rec = rec_of(text);
        const char *why = NULL;

        *a = (AuditRequest){};
        assert_int_equal(audit_record_request(rec, a, &why), want);
        if (want < 0)
                assert_non_null(why);
        return rec;
}

static void test_ipc(void **state) {
        AuditRequest a;
        json_t *r;

        /* A grouped caller, a target in another group, a unix socket. */
        r = decode("{\"group\":\"shop\",\"from\":\"web\",\"to\":\"db\",\"kind\":\"ipc\",\"op\":\"connect\","
                   "\"object\":\"db.kv\",\"type\":\"unix\",\"to_group\":\"data\"}", &a, 0);
        assert_string_equal(a.req.from, "shop/web");
        assert_string_equal(a.req.to, "data/db");
        assert_int_equal(a.req.kind, POLICY_KIND_IPC);
        assert_string_equal(a.req.object, "kv");
        assert_int_equal(a.req.ipc_type, POLICY_IPC_UNIX);
        assert_int_equal(a.req.mode, POLICY_MODE_NONE);
        assert_null(a.note);
        json_decref(r);

        /* A container name with dots: the endpoint is after the last. */
        r = decode("{\"from\":\"a\",\"to\":\"b.v2\",\"kind\":\"ipc\",\"op\":\"open-fifo\",\"object\":\"b.v2.logs\","
                   "\"type\":\"fifo\",\"mode\":\"wo\"}", &a, 0);
        assert_string_equal(a.req.to, "b.v2");
        assert_string_equal(a.req.object, "logs");
        assert_int_equal(a.req.ipc_type, POLICY_IPC_FIFO);
        assert_int_equal(a.req.mode, POLICY_MODE_WO);
        json_decref(r);
}

static void test_invoke(void **state) {
        AuditRequest a;
        json_t *r;

        r = decode("{\"from\":\"mail\",\"to\":\"viewer\",\"kind\":\"invoke\",\"op\":\"exec\","
                   "\"object\":\"/usr/bin/pdfview -v /tmp/a b.pdf\",\"args\":[\"-v\",\"/tmp/a b.pdf\"]}", &a, 0);
        assert_string_equal(a.req.object, "/usr/bin/pdfview");
        assert_int_equal(a.req.n_args, 2);
        assert_string_equal(a.req.args[0], "-v");
        assert_string_equal(a.req.args[1], "/tmp/a b.pdf");
        assert_null(a.note);
        json_decref(r);

        /* No arguments. */
        r = decode("{\"from\":\"mail\",\"to\":\"viewer\",\"kind\":\"invoke\",\"op\":\"exec\","
                   "\"object\":\"/usr/bin/pdfview\"}", &a, 0);
        assert_string_equal(a.req.object, "/usr/bin/pdfview");
        assert_int_equal(a.req.n_args, 0);
        assert_null(a.note);
        json_decref(r);

        /* Arguments too long to record (null): said, and decided with none. */
        r = decode("{\"from\":\"mail\",\"to\":\"viewer\",\"kind\":\"invoke\",\"op\":\"exec\","
                   "\"object\":\"/usr/bin/pdfview x y...\",\"args\":null}", &a, 0);
        assert_string_equal(a.req.object, "/usr/bin/pdfview");
        assert_int_equal(a.req.n_args, 0);
        assert_non_null(a.note);
        json_decref(r);

        /* The end of an invocation is no request. */
        json_decref(decode("{\"from\":\"mail\",\"to\":\"viewer\",\"kind\":\"invoke\",\"op\":\"end\","
                           "\"object\":\"/usr/bin/pdfview\"}", &a, -EINVAL));
}

static void test_transfer(void **state) {
        AuditRequest a;
        json_t *r;

        r = decode("{\"from\":\"a\",\"to\":\"b\",\"kind\":\"transfer\",\"op\":\"open\",\"object\":\"/srv/x\","
                   "\"mode\":\"rw\"}", &a, 0);
        assert_int_equal(a.req.name_kind, POLICY_NAME_PATH);
        assert_string_equal(a.req.object, "/srv/x");
        assert_int_equal(a.req.mode, POLICY_MODE_RW);
        json_decref(r);

        r = decode("{\"from\":\"a\",\"to\":\"b\",\"kind\":\"transfer\",\"op\":\"resolve\","
                   "\"object\":\"pid:/usr/bin/mpv\"}", &a, 0);
        assert_int_equal(a.req.name_kind, POLICY_NAME_PID);
        assert_string_equal(a.req.object, "/usr/bin/mpv");
        json_decref(r);
        r = decode("{\"from\":\"a\",\"to\":\"b\",\"kind\":\"transfer\",\"op\":\"resolve\",\"object\":\"service:kv\"}",
                   &a, 0);
        assert_int_equal(a.req.name_kind, POLICY_NAME_SERVICE);
        assert_string_equal(a.req.object, "kv");
        json_decref(r);
        r = decode("{\"from\":\"a\",\"to\":\"b\",\"kind\":\"transfer\",\"op\":\"resolve\",\"object\":\"host\"}", &a, 0);
        assert_int_equal(a.req.name_kind, POLICY_NAME_HOST);
        assert_null(a.req.object);
        json_decref(r);

        /* Revoked, or an invocation's file argument: decided elsewhere. */
        json_decref(decode("{\"from\":\"a\",\"to\":\"b\",\"kind\":\"transfer\",\"op\":\"revoke\",\"object\":\"/x\"}", &a,
                           -EINVAL));
        json_decref(decode("{\"from\":\"a\",\"to\":\"b\",\"kind\":\"transfer\",\"op\":\"open-fd\",\"object\":\"/x\"}", &a,
                           -EINVAL));
}

static void test_depend_signal(void **state) {
        AuditRequest a;
        json_t *r;

        r = decode("{\"from\":\"build\",\"to\":\"tools\",\"kind\":\"depend\",\"op\":\"mount\","
                   "\"object\":\"tools:/opt/t -> /opt/t\",\"path\":\"/opt/t\",\"at\":\"/opt/t\",\"mode\":\"ro\"}", &a, 0);
        assert_string_equal(a.req.object, "/opt/t");
        assert_int_equal(a.req.mode, POLICY_MODE_RO);
        json_decref(r);

        r = decode("{\"from\":\"ui\",\"to\":\"media\",\"kind\":\"signal\",\"op\":\"kill\","
                   "\"object\":\"/usr/bin/mpv:SIGTERM\"}", &a, 0);
        assert_string_equal(a.req.object, "/usr/bin/mpv");
        assert_int_equal(a.req.signal, SIGTERM);
        json_decref(r);
        r = decode("{\"from\":\"ui\",\"to\":\"media\",\"kind\":\"signal\",\"op\":\"sigqueue\","
                   "\"object\":\"/usr/bin/mpv:40\"}", &a, 0);
        assert_int_equal(a.req.signal, 40);
        json_decref(r);
}

static void test_nothing_to_decide(void **state) {
        AuditRequest a;

        json_decref(decode("{\"from\":null,\"to\":null,\"kind\":\"policy\",\"op\":\"reload\",\"object\":\"/p\"}", &a,
                           -EINVAL));
        json_decref(decode("{\"from\":\"a\",\"to\":null,\"kind\":\"container\",\"op\":\"start\",\"object\":\"a\"}", &a,
                           -EINVAL));
        json_decref(decode("{\"from\":\"-\",\"to\":\"b\",\"kind\":\"depend\",\"op\":\"revoke\",\"object\":\"-\"}", &a,
                           -EINVAL));
        json_decref(decode("{\"from\":\"a\",\"to\":\"b\",\"kind\":\"ipc\",\"op\":\"connect\",\"object\":\"nodot\"}", &a,
                           -EINVAL));
        json_decref(decode("{\"from\":\"a\",\"to\":\"b\",\"kind\":\"signal\",\"op\":\"kill\",\"object\":\"/x:NOPE\"}",
                           &a, -EINVAL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ipc),
                cmocka_unit_test(test_invoke),
                cmocka_unit_test(test_transfer),
                cmocka_unit_test(test_depend_signal),
                cmocka_unit_test(test_nothing_to_decide),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
