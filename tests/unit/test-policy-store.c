/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The policies a broker keeps by digest (src/shuttle/policy-store.c): the
 * digest is that of the normalised text, so layout and comments do not
 * change it and a kept copy loads back to the same digest (a broker that
 * restores a group's policy from its copy names it as before); a changed
 * rule changes it; the copy is written once, 0600 in a 0700 directory. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/macro.h"
#include "shuttle/host/policy-store.h"
#include "policy-fixture.h"

static const char *rich =
        "version: 1\n"
        "default: deny\n"
        "audit: deny\n"
        "rules:\n"
        "  - { id: kv, from: webapp/web, to: webapp/db, allow: ipc, endpoint: kv, type: unix,\n"
        "      limit: { rate: 100/s, max_open: 10 } }\n"
        "  - { from: '*', to: logger, allow: ipc, endpoint: logs, type: fifo, mode: wo }\n"
        "  - { id: pdf, from: mail, to: viewer, allow: invoke, app: /usr/bin/pdfview, args: ['*.pdf', '...'],\n"
        "      env: [LANG, 'LC_*'], transfer: ro, audit: all }\n"
        "  - { id: tree, from: build, to: tools, allow: depend, path: '/opt/*', at: /tools, mode: rw }\n"
        "  - { id: x, from: a, to: b, allow: transfer, path: /srv/x, as: /in/x, until: 2030-01-01T00:00:00+02:00 }\n"
        "  - { id: sig, from: ui, to: media, allow: signal, app: /usr/bin/mpv, signals: [STOP, CONT, 15] }\n"
        "  - { id: nosig, from: '*', to: webapp/db, deny: [signal, invoke] }\n";

static void test_round_trip(void **state) {
        char d1[POLICY_DIGEST_LEN + 1], d2[POLICY_DIGEST_LEN + 1];
        char dir[] = "/tmp/test-policy-store.XXXXXX";
        _cleanup_free_ char *path = NULL;
        const char *paths[1];
        PolicyDiagnostics diags = {};
        Policy *p = load_ok(rich), *q = NULL;
        struct stat st;

        assert_non_null(mkdtemp(dir));
        assert_int_equal(policy_store_save(dir, p, d1), 0);
        assert_int_equal(strlen(d1), POLICY_DIGEST_LEN);
        assert_int_equal(strspn(d1, "0123456789abcdef"), POLICY_DIGEST_LEN);
        path = policy_store_path(dir, d1);
        assert_non_null(path);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        {
                char sub[sizeof(dir) + 16];
                snprintf(sub, sizeof(sub), "%s/policies", dir);
                assert_int_equal(stat(sub, &st), 0);
                assert_int_equal(st.st_mode & 07777, 0700);
        }

        /* The kept copy loads, and has the same digest. */
        paths[0] = path;
        assert_int_equal(policy_load(paths, 1, &q, &diags), 0);
        policy_diagnostics_clear(&diags);
        assert_int_equal(policy_store_digest(q, d2), 0);
        assert_string_equal(d1, d2);
        assert_int_equal(policy_get_n_rules(q), policy_get_n_rules(p));
        /* The generated id stays what it was. */
        assert_string_equal(policy_rule_get_id(policy_get_rule(q, 1)), "p.yaml:7");

        /* Saved again: not written again (a changed copy stays changed,
         * which only a hand could do: the name is the content's). */
        {
                int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
                assert_true(fd >= 0);
                assert_int_equal(write(fd, "#\n", 2), 2);
                close(fd);
        }
        assert_int_equal(policy_store_save(dir, p, d2), 0);
        assert_string_equal(d1, d2);
        {
                char tail[3] = "";
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                assert_true(fd >= 0);
                assert_int_equal(lseek(fd, -2, SEEK_END) >= 0, 1);
                assert_int_equal(read(fd, tail, 2), 2);
                close(fd);
                assert_string_equal(tail, "#\n");
        }

        policy_unref(q);
        policy_unref(p);
        {
                char cmd[sizeof(dir) + 16];
                snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
                assert_int_equal(system(cmd), 0);
        }
}

/* Layout, comments, flow or block style and key order do not count; a
 * rule's object does. */
static void test_same_and_different(void **state) {
        char a[POLICY_DIGEST_LEN + 1], b[POLICY_DIGEST_LEN + 1], c[POLICY_DIGEST_LEN + 1];
        Policy *p = load_ok("version: 1\nrules:\n  - { id: r, from: a, to: b, allow: ipc, endpoint: kv }\n");
        Policy *q = load_ok("# the same, written otherwise\nrules:\n  - id: r\n    endpoint: kv\n    allow: ipc\n"
                            "    to: b\n    from: a\ndefault: deny\nversion: 1\naudit: all\n");
        Policy *r = load_ok("version: 1\nrules:\n  - { id: r, from: a, to: b, allow: ipc, endpoint: kw }\n");

        assert_int_equal(policy_store_digest(p, a), 0);
        assert_int_equal(policy_store_digest(q, b), 0);
        assert_int_equal(policy_store_digest(r, c), 0);
        assert_string_equal(a, b);
        assert_string_not_equal(a, c);
        policy_unref(p);
        policy_unref(q);
        policy_unref(r);

        assert_null(policy_store_path("/run/shuttle", "../../etc/passwd"));
        assert_null(policy_store_path("/run/shuttle", "ABCDEF"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_same_and_different),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
