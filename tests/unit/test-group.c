/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* App group files: every key read into the right field, every error class
 * with its exact file:line:col, all errors of a file reported at once,
 * the dependency graph (cycles, start order), relative paths, the policy
 * (path and inline, with positions), and the policy warning.  Files are
 * written into a fresh temporary directory, which is the working
 * directory while a test runs, so messages read "g.yaml:L:C: ...". */
#include <errno.h>
#include <limits.h>
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
#include "runtime/group.h"

typedef struct Fixture {
        char dir[PATH_MAX];     /* realpath of the temporary directory */
        char old_cwd[PATH_MAX];
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(Fixture));
        char tmpl[] = "/tmp/test-group.XXXXXX";

        assert_non_null(f);
        assert_non_null(getcwd(f->old_cwd, sizeof(f->old_cwd)));
        assert_non_null(mkdtemp(tmpl));
        assert_non_null(realpath(tmpl, f->dir));
        assert_int_equal(chdir(f->dir), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        char cmd[PATH_MAX + 16];

        assert_int_equal(chdir(f->old_cwd), 0);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

static void write_file(const char *name, const char *text) {
        FILE *f;
        const char *slash = strrchr(name, '/');

        /* mkdir -p of the directories in name */
        for (const char *p = strchr(name, '/'); p && p <= slash; p = strchr(p + 1, '/')) {
                char dir[PATH_MAX];
                snprintf(dir, sizeof(dir), "%.*s", (int) (p - name), name);
                (void) mkdir(dir, 0755);
        }
        f = fopen(name, "we");
        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
}

/* As policy_diagnostic_print() writes it, without the newline. */
static char *diag_text_full(const PolicyDiagnostic *x, bool warning) {
        char *s;
        if (x->line > 0)
                assert_true(asprintf(&s, "%s:%u:%u: %s%s", x->file, x->line, x->column, warning ? "warning: " : "",
                                     x->message) >= 0);
        else
                assert_true(asprintf(&s, "%s: %s%s", x->file, warning ? "warning: " : "", x->message) >= 0);
        return s;
}

static char *diag_text(const PolicyDiagnostic *x) {
        return diag_text_full(x, false);
}

static void dump(const PolicyDiagnostics *d) {
        for (size_t i = 0; i < d->n_errors; i++) {
                char *s = diag_text(&d->errors[i]);
                print_message("got: %s\n", s);
                free(s);
        }
        for (size_t i = 0; i < d->n_warnings; i++) {
                char *s = diag_text_full(&d->warnings[i], true);
                print_message("got: %s\n", s);
                free(s);
        }
}

static void expect_list(const PolicyDiagnostics *d, const PolicyDiagnostic *got, size_t n_got,
                        const char *const *want, const char *what) {
        size_t n = 0;

        while (want[n])
                n++;
        for (size_t i = 0; i < n_got && i < n; i++) {
                char *s = diag_text_full(&got[i], streq(what, "warning"));
                if (strcmp(s, want[i]) != 0) {
                        dump(d);
                        fail_msg("%s %zu: got '%s', want '%s'", what, i, s, want[i]);
                }
                free(s);
        }
        if (n_got != n) {
                dump(d);
                fail_msg("got %zu %ss, want %zu", n_got, what, n);
        }
}

/* Writes 'text' as g.yaml and asserts that loading it fails with exactly
 * these errors, in this order, and leaves *ret alone. */
static void expect_errors_v(const char *text, const char *const *want) {
        PolicyDiagnostics d = {};
        Group *sentinel = (Group *) (uintptr_t) 0x5a5a, *g = sentinel;

        write_file("g.yaml", text);
        assert_int_equal(group_load("g.yaml", &g, &d), -EINVAL);
        assert_ptr_equal(g, sentinel);
        expect_list(&d, d.errors, d.n_errors, want, "error");
        policy_diagnostics_clear(&d);
}
#define expect_errors(text, ...) expect_errors_v(text, (const char *const[]) { __VA_ARGS__, NULL })

/* Loads 'text' as g.yaml, which must be valid, with exactly these
 * warnings (none if the list is just NULL). */
static Group *load_ok_v(const char *text, const char *const *want_warnings) {
        PolicyDiagnostics d = {};
        Group *g = NULL;
        int r;

        write_file("g.yaml", text);
        r = group_load("g.yaml", &g, &d);
        if (r < 0) {
                dump(&d);
                fail_msg("group_load failed: %d", r);
        }
        assert_non_null(g);
        assert_int_equal(d.n_errors, 0);
        expect_list(&d, d.warnings, d.n_warnings, want_warnings, "warning");
        policy_diagnostics_clear(&d);
        return g;
}
#define load_ok(text) load_ok_v(text, (const char *const[]) { NULL })
#define load_ok_warn(text, ...) load_ok_v(text, (const char *const[]) { __VA_ARGS__, NULL })

static const GroupContainer *container(const Group *g, const char *name) {
        ssize_t i = group_find_container(g, name);
        if (i < 0)
                fail_msg("no container '%s'", name);
        return &g->containers[i];
}

#define HEAD "group: app\ncontainers:\n"

/* ---- A full valid file ------------------------------------------------*/

static const char full_file[] =
        "group: webapp\n"
        "policy: policy.yaml\n"
        "containers:\n"
        "  db:\n"
        "    command: [\"/usr/local/bin/kvd\", \"/run/kv.sock\"]\n"
        "    rootfs: host\n"
        "    hostname: database\n"
        "    env: { KV_DIR: /data, _X1: \"\", PORT: 8080 }\n"
        "    user: \"1000:1001\"\n"
        "    workdir: /data\n"
        "    volumes: [\"data:/data\", \"/srv/cfg:/etc/kv:ro\", \"../shared:/shared:rw\"]\n"
        "    limits: { memory: 64M, pids: 64, cpus: 0.5 }\n"
        "    net: none\n"
        "    exports:\n"
        "      - { name: kv, socket: /run/kv.sock }\n"
        "      - { name: metrics, tcp: 9100 }\n"
        "    ready: { socket: /run/kv.sock, timeout: 5s }\n"
        "    restart: { policy: on-failure, backoff: 2s, max: 5 }\n"
        "  web:\n"
        "    command: busybox httpd -f -p 8080\n"
        "    rootfs: rootfs/web\n"
        "    user: 33\n"
        "    net: bridge\n"
        "    depends_on: [db]\n"
        "    ready: { tcp: 8080 }\n"
        "    restart: always\n"
        "  check:\n"
        "    command: [/bin/true]\n"
        "    depends_on: [web, db]\n"
        "    ready: { command: [/bin/test, -e, /tmp/ok], timeout: 250ms }\n"
        "    restart: no\n";

static const char allow_kv_policy[] =
        "version: 1\n"
        "default: deny\n"
        "rules:\n"
        "  - { id: web-kv, from: web, to: db, allow: ipc, endpoint: kv }\n"
        "  - { id: check-kv, from: check, to: db, allow: ipc, endpoint: kv }\n";

static void test_full(void **state) {
        Fixture *f = *state;
        const GroupContainer *db, *web, *check;
        char want[PATH_MAX * 2];
        Group *g;

        write_file("policy.yaml", allow_kv_policy);
        g = load_ok(full_file);

        assert_string_equal(g->file, "g.yaml");
        snprintf(want, sizeof(want), "%s/g.yaml", f->dir);
        assert_string_equal(g->file_abs, want);
        assert_string_equal(g->name, "webapp");
        assert_non_null(g->policy);
        snprintf(want, sizeof(want), "%s/policy.yaml", f->dir);
        assert_string_equal(g->policy_file, want);
        assert_int_equal(policy_get_n_rules(g->policy), 2);
        assert_int_equal(g->n_containers, 3);
        assert_string_equal(g->containers[0].name, "db");
        assert_string_equal(g->containers[1].name, "web");
        assert_string_equal(g->containers[2].name, "check");

        db = container(g, "db");
        assert_int_equal(db->line, 4);
        assert_int_equal(db->column, 3);
        assert_string_equal(db->config.name, "db");
        assert_string_equal(db->config.group, "webapp");
        assert_string_equal(db->config.argv[0], "/usr/local/bin/kvd");
        assert_string_equal(db->config.argv[1], "/run/kv.sock");
        assert_null(db->config.argv[2]);
        assert_null(db->config.rootfs);
        assert_string_equal(db->config.hostname, "database");
        assert_int_equal(db->config.n_env, 3);
        assert_string_equal(db->config.env[0], "KV_DIR=/data");
        assert_string_equal(db->config.env[1], "_X1=");
        assert_string_equal(db->config.env[2], "PORT=8080");
        assert_true(db->config.has_user);
        assert_int_equal(db->config.uid, 1000);
        assert_int_equal(db->config.gid, 1001);
        assert_string_equal(db->config.workdir, "/data");
        assert_int_equal(db->config.n_volumes, 3);
        snprintf(want, sizeof(want), "%s/data", f->dir);
        assert_string_equal(db->config.volumes[0].source, want);
        assert_string_equal(db->config.volumes[0].destination, "/data");
        assert_false(db->config.volumes[0].read_only);
        assert_string_equal(db->config.volumes[1].source, "/srv/cfg");
        assert_string_equal(db->config.volumes[1].destination, "/etc/kv");
        assert_true(db->config.volumes[1].read_only);
        snprintf(want, sizeof(want), "%.*s/shared", (int) (strrchr(f->dir, '/') - f->dir), f->dir);
        assert_string_equal(db->config.volumes[2].source, want);
        assert_string_equal(db->config.volumes[2].destination, "/shared");
        assert_false(db->config.volumes[2].read_only);
        assert_int_equal(db->config.limits.memory_bytes, 64 << 20);
        assert_int_equal(db->config.limits.pids_max, 64);
        assert_int_equal(db->config.limits.cpu_quota_usec, 50000);
        assert_int_equal(db->config.limits.cpu_period_usec, 100000);
        assert_int_equal(db->config.net, NET_NONE);
        assert_int_equal(db->config.n_exports, 2);
        assert_string_equal(db->config.exports[0].name, "kv");
        assert_string_equal(db->config.exports[0].socket, "/run/kv.sock");
        assert_int_equal(db->config.exports[0].port, 0);
        assert_string_equal(db->config.exports[1].name, "metrics");
        assert_null(db->config.exports[1].socket);
        assert_int_equal(db->config.exports[1].port, 9100);
        assert_int_equal(db->n_depends_on, 0);
        assert_int_equal(db->ready.kind, GROUP_READY_SOCKET);
        assert_string_equal(db->ready.socket, "/run/kv.sock");
        assert_int_equal(db->ready.timeout_usec, 5000000);
        assert_int_equal(db->restart, GROUP_RESTART_ON_FAILURE);
        assert_int_equal(db->restart_backoff_usec, 2000000);
        assert_int_equal(db->restart_max, 5);

        web = container(g, "web");
        assert_string_equal(web->config.argv[0], "/bin/sh");
        assert_string_equal(web->config.argv[1], "-c");
        assert_string_equal(web->config.argv[2], "busybox httpd -f -p 8080");
        assert_null(web->config.argv[3]);
        snprintf(want, sizeof(want), "%s/rootfs/web", f->dir);
        assert_string_equal(web->config.rootfs, want);
        assert_null(web->config.hostname);
        assert_true(web->config.has_user);
        assert_int_equal(web->config.uid, 33);
        assert_int_equal(web->config.gid, 33);
        assert_int_equal(web->config.net, NET_BRIDGE);
        assert_int_equal(web->n_depends_on, 1);
        assert_string_equal(web->depends_on[0], "db");
        assert_int_equal(web->depends_on_index[0], 0);
        assert_int_equal(web->ready.kind, GROUP_READY_TCP);
        assert_int_equal(web->ready.port, 8080);
        assert_int_equal(web->ready.timeout_usec, GROUP_READY_TIMEOUT_DEFAULT_USEC);
        assert_int_equal(web->restart, GROUP_RESTART_ALWAYS);
        assert_int_equal(web->restart_backoff_usec, GROUP_RESTART_BACKOFF_DEFAULT_USEC);
        assert_int_equal(web->restart_max, 0);
        assert_int_equal(web->config.limits.memory_bytes, 0);
        assert_int_equal(web->config.n_exports, 0);

        check = container(g, "check");
        assert_int_equal(check->config.net, NET_LOOPBACK);  /* the default */
        assert_false(check->config.has_user);
        assert_null(check->config.workdir);
        assert_int_equal(check->n_depends_on, 2);
        assert_int_equal(check->depends_on_index[0], 1);
        assert_int_equal(check->depends_on_index[1], 0);
        assert_int_equal(check->ready.kind, GROUP_READY_COMMAND);
        assert_string_equal(check->ready.command[0], "/bin/test");
        assert_string_equal(check->ready.command[2], "/tmp/ok");
        assert_null(check->ready.command[3]);
        assert_int_equal(check->ready.timeout_usec, 250000);
        assert_int_equal(check->restart, GROUP_RESTART_NO);

        assert_int_equal(g->start_order[0], 0);
        assert_int_equal(g->start_order[1], 1);
        assert_int_equal(g->start_order[2], 2);
        group_free(g);
}

static void test_minimal_defaults(void **state) {
        Group *g = load_ok(HEAD "  one:\n    command: [sleep, \"1\"]\n");
        const GroupContainer *c = container(g, "one");

        assert_null(g->policy);
        assert_null(g->policy_file);
        assert_int_equal(g->n_containers, 1);
        assert_int_equal(g->start_order[0], 0);
        assert_int_equal(c->config.net, NET_LOOPBACK);
        assert_int_equal(c->ready.kind, GROUP_READY_NONE);
        assert_int_equal(c->ready.timeout_usec, 10000000);
        assert_int_equal(c->restart, GROUP_RESTART_NO);
        assert_int_equal(c->restart_backoff_usec, 1000000);
        assert_int_equal(c->config.n_env, 0);
        assert_int_equal(c->config.n_volumes, 0);
        assert_int_equal(c->n_depends_on, 0);
        group_free(g);
}

/* ---- Errors, one class at a time ---------------------------------------*/

static void test_top_level_errors(void **state) {
        expect_errors("", "g.yaml:1:1: empty group file (expected group, policy and containers)");
        expect_errors("- a\n", "g.yaml:1:1: a group file must be a mapping (group, policy, containers), not a list");
        expect_errors("group: app\n", "g.yaml:1:1: missing 'containers'");
        expect_errors("containers:\n  a: { command: [x] }\n", "g.yaml:1:1: missing 'group' (the group's name)");
        expect_errors(HEAD "  a: { command: [x] }\nversion: 1\n",
                      "g.yaml:4:1: unknown key 'version' at the top level (expected group, policy, containers or learn)");
        expect_errors(HEAD "  a: { command: [x] }\ngroup: b\n",
                      "g.yaml:4:1: duplicate key 'group' (first at line 1 column 1)");
        expect_errors("group: \"bad name\"\ncontainers:\n  a: { command: [x] }\n",
                      "g.yaml:1:8: 'group': 'bad name' is not a valid name (1-63 characters of A-Z a-z 0-9 _ . -, "
                      "starting with a letter or digit)");
        expect_errors("group: yes\ncontainers:\n  a: { command: [x] }\n",
                      "g.yaml:1:8: 'group' must be a string, not a boolean (quote it if you mean the word)");
        expect_errors("group: app\ncontainers: {}\n",
                      "g.yaml:2:13: 'containers' is empty (a group needs at least one container)");
        expect_errors("group: app\ncontainers: [a]\n",
                      "g.yaml:2:13: 'containers' must be a mapping of container names to containers, not a list");
        expect_errors(HEAD "  a: { command: [x] }\n  a: { command: [y] }\n",
                      "g.yaml:4:3: duplicate container 'a' (first at line 3 column 3)");
        expect_errors(HEAD "  -bad: { command: [x] }\n",
                      "g.yaml:3:3: '-bad' is not a valid container name (1-63 characters of A-Z a-z 0-9 _ . -, "
                      "starting with a letter or digit)");
        expect_errors(HEAD "  a:\n", "g.yaml:3:3: container 'a' must be a mapping (command, exports, ...), not nothing (null)");
        expect_errors(HEAD "  a: { net: none }\n", "g.yaml:3:3: container 'a' has no 'command'");
        expect_errors(HEAD "  a: { command: [x], image: debian }\n",
                      "g.yaml:3:22: unknown key 'image' in a container (see shuttle-group(5))");
        expect_errors(HEAD "  a: { command: [x], net: none, net: none }\n",
                      "g.yaml:3:33: duplicate key 'net' (first at line 3 column 22)");
}

static void test_yaml_errors(void **state) {
        /* The policy library's reader: same limits, same messages. */
        expect_errors(HEAD "  a: &x { command: [x] }\n  b: *x\n",
                      "g.yaml:3:6: anchors are not allowed ('&x')",
                      "g.yaml:4:6: aliases are not allowed ('*x')");
        expect_errors(HEAD "  a: { command: [x]\n",
                      "g.yaml:4:1: syntax error: did not find expected ',' or '}' while parsing a flow mapping "
                      "(line 3 column 6)");
        /* Nesting past the cap stops the reading there (the alias after
         * it is never reached), as for a policy. */
        expect_errors(HEAD "  a: { command: [[[[[[[[[[[[[[[[[[[[[[[[x]]]]]]]]]]]]]]]]]]]]]]]] }\n  b: *x\n",
                      "g.yaml:3:22: nesting deeper than 8 levels",
                      "g.yaml:3:18: 'command' must be a string, not a list");
}

static void test_command_errors(void **state) {
        expect_errors(HEAD "  a: { command: [] }\n",
                      "g.yaml:3:17: 'command' is empty (it needs at least the program to run)");
        expect_errors(HEAD "  a: { command: \"\" }\n", "g.yaml:3:17: 'command' is empty");
        expect_errors(HEAD "  a: { command: [x, [y]] }\n", "g.yaml:3:21: 'command' must be a string, not a list");
        expect_errors(HEAD "  a: { command: {x: y} }\n",
                      "g.yaml:3:17: 'command' must be a list of strings or a string, not a mapping");
        expect_errors(HEAD "  a: { command: [\"\", y] }\n", "g.yaml:3:18: 'command': the program name is empty");
}

static void test_value_errors(void **state) {
        expect_errors(HEAD "  a:\n"
                           "    command: [x]\n"
                           "    rootfs: \"\"\n"
                           "    hostname: a/b\n"
                           "    user: root\n"
                           "    workdir: /a/../b\n"
                           "    net: host\n",
                      "g.yaml:5:13: 'rootfs': expected 'host', a directory, DIR:TAG or oci:DIR[:TAG]",
                      "g.yaml:6:15: 'hostname': 'a/b' is not a valid host name (1-64 characters, no '/')",
                      "g.yaml:7:11: 'user': 'root': expected numeric UID or UID:GID",
                      "g.yaml:8:14: 'workdir': '/a/../b': expected an absolute path without '.' or '..'",
                      "g.yaml:9:10: 'net': 'host': expected 'none', 'loopback' or 'bridge'");
}

static void test_env_errors(void **state) {
        expect_errors(HEAD "  a:\n"
                           "    command: [x]\n"
                           "    env:\n"
                           "      1X: a\n"
                           "      A-B: a\n"
                           "      OK: yes\n"
                           "      NUL:\n"
                           "      L: [a]\n",
                      "g.yaml:6:7: 'env': invalid variable name '1X' (expected [A-Za-z_][A-Za-z0-9_]*)",
                      "g.yaml:7:7: 'env': invalid variable name 'A-B' (expected [A-Za-z_][A-Za-z0-9_]*)",
                      "g.yaml:8:11: 'OK' must be a string, not a boolean (quote it if you mean the word)",
                      "g.yaml:9:11: 'NUL' must be a string, not nothing (null)",
                      "g.yaml:10:10: 'L' must be a string, not a list");
        expect_errors(HEAD "  a: { command: [x], env: { A: 1, A: 2 } }\n",
                      "g.yaml:3:35: 'env': 'A' is set twice (first at line 3 column 29)");
        expect_errors(HEAD "  a: { command: [x], env: [A=1] }\n", "g.yaml:3:27: 'env' must be a mapping, not a list");
}

static void test_volume_errors(void **state) {
        expect_errors(HEAD "  a:\n"
                           "    command: [x]\n"
                           "    volumes:\n"
                           "      - /srv\n"
                           "      - \":/x\"\n"
                           "      - /srv:data\n"
                           "      - /srv:/\n"
                           "      - /srv:/a/./b\n"
                           "      - /srv:/x:rx\n"
                           "      - /srv:/y\n"
                           "      - /tmp:/y:ro\n",
                      "g.yaml:6:9: 'volumes': '/srv': expected SRC:DST[:ro|rw]",
                      "g.yaml:7:9: 'volumes': ':/x': expected SRC:DST[:ro|rw]",
                      "g.yaml:8:9: 'volumes': '/srv:data': destination must be an absolute path other than / "
                      "without '.' or '..'",
                      "g.yaml:9:9: 'volumes': '/srv:/': destination must be an absolute path other than / "
                      "without '.' or '..'",
                      "g.yaml:10:9: 'volumes': '/srv:/a/./b': destination must be an absolute path other than / "
                      "without '.' or '..'",
                      "g.yaml:11:9: 'volumes': '/srv:/x:rx': mode must be 'ro' or 'rw'",
                      "g.yaml:13:9: 'volumes': two volumes at '/y'");
}

static void test_limit_errors(void **state) {
        expect_errors(HEAD "  a:\n"
                           "    command: [x]\n"
                           "    limits: { memory: 1k, pids: 0, cpus: 2000, swap: 1G }\n",
                      "g.yaml:5:23: 'memory': invalid size '1k' (expected e.g. 64M or 1G, at least 4K)",
                      "g.yaml:5:33: 'pids': invalid count '0' (expected a positive number or max)",
                      "g.yaml:5:42: 'cpus': invalid CPU count '2000' (expected e.g. 0.5 or 2, between 0.01 and 1024)",
                      "g.yaml:5:48: unknown key 'swap' in 'limits' (expected memory, pids or cpus)");
        expect_errors(HEAD "  a: { command: [x], limits: 64M }\n",
                      "g.yaml:3:30: 'limits' must be a mapping, not a string");
}

static void test_export_errors(void **state) {
        expect_errors(HEAD "  a:\n"
                           "    command: [x]\n"
                           "    exports:\n"
                           "      - { name: kv, socket: /run/kv.sock }\n"
                           "      - { name: kv, tcp: 80 }\n"
                           "      - { name: f, fifo: run/f }\n"
                           "      - { name: q, mq: q }\n"
                           "      - { name: both, socket: /a, shm: 1M }\n"
                           "      - { name: p, tcp: 65536 }\n"
                           "      - { name: r, socket: run/x }\n"
                           "      - { socket: /x }\n"
                           "      - { name: n }\n"
                           "      - { name: \"a b\", tcp: 1, port: 2 }\n"
                           "      - kv=/run/kv.sock\n",
                      "g.yaml:7:17: two exports named 'kv' (first at line 6 column 17)",
                      "g.yaml:8:26: 'fifo': 'run/f': expected an absolute path without '.' or '..'",
                      "g.yaml:9:24: 'mq': 'q': expected a queue name as mq_open() takes it (one leading '/', at "
                      "most 255 more characters, no other '/')",
                      "g.yaml:10:35: an export has exactly one of socket, tcp, fifo, mq or shm ('socket' and 'shm')",
                      "g.yaml:11:25: 'tcp' must be a port from 1 to 65535, not '65536'",
                      "g.yaml:12:28: 'socket': 'run/x': expected an absolute path without '.' or '..'",
                      "g.yaml:13:9: export has no 'name'",
                      "g.yaml:14:9: export needs one of socket, tcp, fifo, mq or shm",
                      "g.yaml:15:32: unknown key 'port' in an export (expected name and one of socket, tcp, fifo, mq or shm)",
                      "g.yaml:15:17: export name 'a b' is not valid (1-63 characters of A-Z a-z 0-9 _ . -, "
                      "starting with a letter or digit)",
                      "g.yaml:16:9: an export must be a mapping like { name: kv, socket: /run/kv.sock }, not a string");
}

static void test_export_kinds(void **state) {
        Group *g = load_ok(HEAD "  a:\n"
                                "    command: [x]\n"
                                "    exports:\n"
                                "      - { name: jobs, mq: /jobs }\n"
                                "      - { name: frames, shm: 16M }\n"
                                "      - { name: page, shm: 4096 }\n"
                                "      - { name: logs, fifo: /run/logs.fifo }\n");
        const GroupContainer *a = container(g, "a");

        assert_int_equal(a->config.n_exports, 4);
        assert_string_equal(a->config.exports[0].name, "jobs");
        assert_string_equal(a->config.exports[0].mq, "/jobs");
        assert_null(a->config.exports[0].socket);
        assert_int_equal(a->config.exports[0].port, 0);
        assert_int_equal(a->config.exports[0].shm_size, 0);
        assert_string_equal(a->config.exports[1].name, "frames");
        assert_int_equal(a->config.exports[1].shm_size, 16 << 20);
        assert_null(a->config.exports[1].mq);
        assert_null(a->config.exports[1].socket);
        assert_int_equal(a->config.exports[2].shm_size, 4096);
        assert_null(a->config.exports[2].fifo);
        assert_string_equal(a->config.exports[3].name, "logs");
        assert_string_equal(a->config.exports[3].fifo, "/run/logs.fifo");
        assert_null(a->config.exports[3].socket);
        assert_null(a->config.exports[3].mq);
        assert_int_equal(a->config.exports[3].shm_size, 0);
        assert_int_equal(a->config.exports[3].port, 0);
        group_free(g);

        expect_errors(HEAD "  a:\n"
                           "    command: [x]\n"
                           "    exports:\n"
                           "      - { name: a, mq: /a/b }\n"
                           "      - { name: b, mq: / }\n"
                           "      - { name: c, mq: [x] }\n"
                           "      - { name: d, shm: 0 }\n"
                           "      - { name: e, shm: 65G }\n"
                           "      - { name: f, shm: lots }\n"
                           "      - { name: g, mq: /g, shm: 1M }\n"
                           "      - { name: h, fifo: /run/../h }\n"
                           "      - { name: i, fifo: [x] }\n"
                           "      - { name: j, fifo: /j, socket: /k }\n",
                      "g.yaml:6:24: 'mq': '/a/b': expected a queue name as mq_open() takes it (one leading '/', at "
                      "most 255 more characters, no other '/')",
                      "g.yaml:7:24: 'mq': '/': expected a queue name as mq_open() takes it (one leading '/', at "
                      "most 255 more characters, no other '/')",
                      "g.yaml:8:24: 'mq' must be a string, not a list",
                      "g.yaml:9:25: 'shm': invalid size '0' (expected e.g. 16M, 1 byte to 64G)",
                      "g.yaml:10:25: 'shm': invalid size '65G' (expected e.g. 16M, 1 byte to 64G)",
                      "g.yaml:11:25: 'shm': invalid size 'lots' (expected e.g. 16M, 1 byte to 64G)",
                      "g.yaml:12:28: an export has exactly one of socket, tcp, fifo, mq or shm ('mq' and 'shm')",
                      "g.yaml:13:26: 'fifo': '/run/../h': expected an absolute path without '.' or '..'",
                      "g.yaml:14:26: 'fifo' must be a string, not a list",
                      "g.yaml:15:30: an export has exactly one of socket, tcp, fifo, mq or shm ('fifo' and 'socket')");
}

static void test_ready_errors(void **state) {
        expect_errors(HEAD "  a:\n"
                           "    command: [x]\n"
                           "    ready: { socket: /a, tcp: 1, timeout: forever }\n"
                           "  b:\n"
                           "    command: [x]\n"
                           "    ready: { timeout: 20m }\n"
                           "  c:\n"
                           "    command: [x]\n"
                           "    ready: { command: [], timeout: 0 }\n"
                           "  d:\n"
                           "    command: [x]\n"
                           "    ready: { http: /health }\n",
                      "g.yaml:5:26: 'ready' has exactly one of socket, tcp or command ('socket' and 'tcp')",
                      "g.yaml:5:43: 'timeout': invalid duration 'forever' (expected e.g. 500ms, 5s or 2m)",
                      "g.yaml:8:23: 'timeout': '20m' is out of range (1ms to 600s)",
                      "g.yaml:8:12: 'ready' needs one of socket, tcp or command",
                      "g.yaml:11:23: 'command' is empty (it needs at least the program to run)",
                      "g.yaml:11:36: 'timeout': '0' is out of range (1ms to 600s)",
                      "g.yaml:14:14: unknown key 'http' in 'ready' (expected socket, tcp or command, and timeout)",
                      "g.yaml:14:12: 'ready' needs one of socket, tcp or command");
}

static void test_restart(void **state) {
        Group *g = load_ok(HEAD "  a: { command: [x], restart: \"no\" }\n"
                                "  b: { command: [x], restart: on-failure }\n"
                                "  c: { command: [x], restart: { policy: always } }\n"
                                "  d: { command: [x], restart: { policy: no } }\n");
        assert_int_equal(container(g, "a")->restart, GROUP_RESTART_NO);
        assert_int_equal(container(g, "b")->restart, GROUP_RESTART_ON_FAILURE);
        assert_int_equal(container(g, "c")->restart, GROUP_RESTART_ALWAYS);
        assert_int_equal(container(g, "c")->restart_backoff_usec, 1000000);
        assert_int_equal(container(g, "d")->restart, GROUP_RESTART_NO);
        group_free(g);

        expect_errors(HEAD "  a: { command: [x], restart: yes }\n"
                           "  b: { command: [x], restart: sometimes }\n"
                           "  c: { command: [x], restart: { backoff: 1s } }\n"
                           "  d: { command: [x], restart: { policy: no, max: 3 } }\n"
                           "  e: { command: [x], restart: { policy: always, backoff: 1m, max: -1, delay: 1 } }\n",
                      "g.yaml:3:31: 'restart' must be a string, not a boolean (quote it if you mean the word)",
                      "g.yaml:4:31: 'restart' must be no, on-failure or always, not 'sometimes'",
                      "g.yaml:5:31: 'restart' has no 'policy' (no, on-failure or always)",
                      "g.yaml:6:45: 'max' does not apply to 'policy: no'",
                      "g.yaml:7:71: unknown key 'delay' in 'restart' (expected policy, backoff or max)",
                      "g.yaml:7:58: 'backoff': '1m' is out of range (1ms to 30s)",
                      "g.yaml:7:67: 'max' must be an integer from 0 to 1000000, not '-1'");
}

/* 'shim: false' opts one container out of the preloaded shim; only the
 * two unquoted words are booleans. */
static void test_shim(void **state) {
        Group *g = load_ok(HEAD "  a: { command: [x] }\n"
                                "  b: { command: [x], shim: false }\n"
                                "  c: { command: [x], shim: true }\n");
        assert_false(container(g, "a")->no_shim);
        assert_true(container(g, "b")->no_shim);
        assert_false(container(g, "c")->no_shim);
        group_free(g);

        expect_errors(HEAD "  a: { command: [x], shim: no }\n"
                           "  b: { command: [x], shim: \"false\" }\n"
                           "  c: { command: [x], shim: 0 }\n"
                           "  d: { command: [x], shim: }\n"
                           "  e: { command: [x], shim: [false] }\n"
                           "  f: { command: [x], shim: true, shim: false }\n",
                      "g.yaml:3:28: 'shim' must be true or false, not 'no'",
                      "g.yaml:4:28: 'shim' must be true or false, not the quoted string 'false'",
                      "g.yaml:5:28: 'shim' must be true or false, not '0'",
                      "g.yaml:6:28: 'shim' must be true or false, not nothing (null)",
                      "g.yaml:7:28: 'shim' must be true or false, not a list",
                      "g.yaml:8:34: duplicate key 'shim' (first at line 8 column 22)");
}

/* 'learn': at the top for every container, per container over it; where
 * the first 'learn: true' is (shuttlectl run refuses it without --learn). */
static void test_learn(void **state) {
        Group *g = load_ok(HEAD "  a: { command: [x] }\n");
        assert_false(g->learn_keys);
        assert_int_equal(g->learn_line, 0);
        assert_false(container(g, "a")->config.learn);
        group_free(g);

        g = load_ok("group: app\nlearn: true\ncontainers:\n"
                    "  a: { command: [x] }\n"
                    "  b: { command: [x], learn: false }\n");
        assert_true(g->learn_keys);
        assert_int_equal(g->learn_line, 2);
        assert_int_equal(g->learn_column, 8);
        assert_true(container(g, "a")->config.learn);
        assert_false(container(g, "b")->config.learn);
        group_free(g);

        g = load_ok(HEAD "  a: { command: [x], learn: false }\n"
                         "  b: { command: [x], learn: true }\n");
        assert_true(g->learn_keys);
        assert_int_equal(g->learn_line, 4);
        assert_false(container(g, "a")->config.learn);
        assert_true(container(g, "b")->config.learn);
        group_free(g);

        expect_errors("group: app\nlearn: yes\ncontainers:\n"
                      "  a: { command: [x], learn: \"true\" }\n",
                      "g.yaml:2:8: 'learn' must be true or false, not 'yes'",
                      "g.yaml:4:29: 'learn' must be true or false, not the quoted string 'true'");
}

static void test_many_errors_reported(void **state) {
        /* Errors in several containers and at several levels: all of them,
         * in file order, then the graph's. */
        expect_errors("group: app\n"
                      "bogus: 1\n"
                      "containers:\n"
                      "  a:\n"
                      "    command: [x]\n"
                      "    net: wifi\n"
                      "    depends_on: [ghost]\n"
                      "  b:\n"
                      "    limits: { pids: lots }\n"
                      "    exports: [{ name: s, fifo: s }]\n",
                      "g.yaml:2:1: unknown key 'bogus' at the top level (expected group, policy, containers or learn)",
                      "g.yaml:6:10: 'net': 'wifi': expected 'none', 'loopback' or 'bridge'",
                      "g.yaml:9:21: 'pids': invalid count 'lots' (expected a positive number or max)",
                      "g.yaml:10:32: 'fifo': 's': expected an absolute path without '.' or '..'",
                      "g.yaml:8:3: container 'b' has no 'command'",
                      "g.yaml:7:18: 'depends_on': no container named 'ghost' in this group");
}

/* ---- The graph ---------------------------------------------------------*/

static void test_depends_on_errors(void **state) {
        expect_errors(HEAD "  a: { command: [x], depends_on: [a, b, b, c] }\n"
                           "  b: { command: [x], depends_on: db }\n",
                      "g.yaml:3:35: 'a' cannot depend on itself",
                      "g.yaml:3:41: 'depends_on': 'b' is listed twice",
                      "g.yaml:4:34: 'depends_on' must be a list, not a string",
                      "g.yaml:3:44: 'depends_on': no container named 'c' in this group");
}

static void test_cycles(void **state) {
        expect_errors(HEAD "  a: { command: [x], depends_on: [b] }\n"
                           "  b: { command: [x], depends_on: [c] }\n"
                           "  c: { command: [x], depends_on: [a] }\n",
                      "g.yaml:3:3: dependency cycle: a -> b -> c -> a");
        /* Walked from x, which only leads into the loop; the loop is printed
         * from its member first in the file; a second, separate loop is
         * reported too; y (leading into the first) is not. */
        expect_errors(HEAD "  x: { command: [x], depends_on: [q] }\n"
                           "  p: { command: [x], depends_on: [q] }\n"
                           "  q: { command: [x], depends_on: [r] }\n"
                           "  r: { command: [x], depends_on: [p] }\n"
                           "  y: { command: [x], depends_on: [r] }\n"
                           "  s: { command: [x], depends_on: [t] }\n"
                           "  t: { command: [x], depends_on: [s] }\n"
                           "  ok: { command: [x] }\n",
                      "g.yaml:4:3: dependency cycle: p -> q -> r -> p",
                      "g.yaml:8:3: dependency cycle: s -> t -> s");
}

static void test_start_order_diamond(void **state) {
        /* top needs left and right, both need base; written top first.
         * Ties (left, right) go in file order: right is written first. */
        Group *g = load_ok(HEAD "  top: { command: [x], depends_on: [left, right] }\n"
                                "  right: { command: [x], depends_on: [base] }\n"
                                "  left: { command: [x], depends_on: [base] }\n"
                                "  base: { command: [x] }\n"
                                "  loner: { command: [x] }\n");
        const char *want[] = { "base", "right", "left", "top", "loner" };
        char *buf = NULL;
        size_t len = 0;
        FILE *f;

        assert_int_equal(g->n_containers, 5);
        for (size_t i = 0; i < 5; i++)
                assert_string_equal(g->containers[g->start_order[i]].name, want[i]);

        f = open_memstream(&buf, &len);
        assert_non_null(f);
        group_print_summary(g, f);
        assert_int_equal(fclose(f), 0);
        assert_string_equal(buf, "group app (g.yaml): 5 containers\n"
                                 "policy: none (shuttled's own)\n"
                                 "1. base [net loopback, ready none, restart no]\n"
                                 "2. right after base [net loopback, ready none, restart no]\n"
                                 "3. left after base [net loopback, ready none, restart no]\n"
                                 "4. top after left, right [net loopback, ready none, restart no]\n"
                                 "5. loner [net loopback, ready none, restart no]\n");
        free(buf);
        group_free(g);
}

/* ---- Policies ----------------------------------------------------------*/

static void test_policy_path(void **state) {
        Fixture *f = *state;
        char want[PATH_MAX * 2];
        PolicyDiagnostics d = {};
        Group *g = NULL;

        /* Relative to the group file's directory, not to the working one. */
        write_file("sub/pol/p.yaml", "version: 1\nrules:\n  - { from: a, to: b, allow: ipc }\n");
        write_file("sub/g.yaml", "group: app\npolicy: pol/p.yaml\ncontainers:\n  a: { command: [x] }\n");
        assert_int_equal(group_load("sub/g.yaml", &g, &d), 0);
        snprintf(want, sizeof(want), "%s/sub/pol/p.yaml", f->dir);
        assert_string_equal(g->policy_file, want);
        /* The group file itself, absolute (where a policy reload reads it
         * again, whatever the broker's working directory). */
        snprintf(want, sizeof(want), "%s/sub/g.yaml", f->dir);
        assert_string_equal(g->file_abs, want);
        assert_int_equal(policy_get_n_rules(g->policy), 1);
        assert_int_equal(d.n_errors + d.n_warnings, 0);
        g = group_free(g);

        /* Its errors are reported with its own name and positions. */
        write_file("sub/pol/p.yaml", "version: 1\nrules:\n  - { from: a, to: b, allow: talk }\n");
        assert_int_equal(group_load("sub/g.yaml", &g, &d), -EINVAL);
        assert_null(g);
        assert_int_equal(d.n_errors, 1);
        assert_string_equal(d.errors[0].file, "sub/pol/p.yaml");
        assert_int_equal(d.errors[0].line, 3);
        assert_int_equal(d.errors[0].column, 30);
        policy_diagnostics_clear(&d);

        /* A missing policy file is reported where the group names it. */
        expect_errors("group: app\npolicy: nope.yaml\ncontainers:\n  a: { command: [x] }\n",
                      "g.yaml:2:9: cannot open policy 'nope.yaml': No such file or directory");
        expect_errors("group: app\npolicy: [a]\ncontainers:\n  a: { command: [x] }\n",
                      "g.yaml:2:9: 'policy' must be a file name or an inline policy (a mapping with version, "
                      "default, audit, rules), not a list");
}

static void test_policy_inline(void **state) {
        Group *g = load_ok("group: app\n"
                           "policy:\n"
                           "  version: 1\n"
                           "  default: deny\n"
                           "  audit: deny\n"
                           "  rules:\n"
                           "    - { id: a-b, from: a, to: b, allow: ipc, endpoint: kv }\n"
                           "containers:\n"
                           "  a: { command: [x], depends_on: [b] }\n"
                           "  b: { command: [x], exports: [{ name: kv, socket: /kv }] }\n");
        assert_non_null(g->policy);
        assert_null(g->policy_file);
        assert_int_equal(policy_get_n_rules(g->policy), 1);
        assert_int_equal(policy_get_audit(g->policy), POLICY_AUDIT_DENY);
        assert_string_equal(policy_rule_get_id(policy_get_rule(g->policy, 0)), "a-b");
        assert_string_equal(policy_rule_get_file(policy_get_rule(g->policy, 0)), "g.yaml");
        assert_int_equal(policy_rule_get_line(policy_get_rule(g->policy, 0)), 7);
        group_free(g);

        /* Errors of the inline policy carry the group file's positions, next
         * to the group's own errors. */
        expect_errors("group: app\n"
                      "policy:\n"
                      "  default: maybe\n"
                      "  rules:\n"
                      "    - { from: a, to: b, allow: ipc, colour: red }\n"
                      "containers:\n"
                      "  a: { command: [x], net: wifi }\n",
                      "g.yaml:3:12: 'default' must be deny or allow, not 'maybe'",
                      "g.yaml:5:37: unknown key 'colour' in rule (see shuttle-policy(5))",
                      "g.yaml:3:3: missing 'version: 1'",
                      "g.yaml:7:27: 'net': 'wifi': expected 'none', 'loopback' or 'bridge'");
}

static void test_policy_warning(void **state) {
        static const char group_text[] =
                "group: shop\n"
                "policy: p.yaml\n"
                "containers:\n"
                "  db: { command: [x], exports: [{ name: kv, socket: /kv }, { name: admin, tcp: 99 }] }\n"
                "  cache: { command: [x] }\n"
                "  web: { command: [x], depends_on: [cache, db] }\n";
        Group *g;

        /* Nothing allows web → db: warned (cache exports nothing: no warning). */
        write_file("p.yaml", "version: 1\nrules:\n  - { from: web, to: cache, allow: ipc }\n");
        g = load_ok_warn(group_text,
                         "g.yaml:6:44: warning: 'web' depends on 'db' but the policy allows it none of db's "
                         "services (kv, admin)");
        group_free(g);

        /* One allowed service is enough; "group/name" patterns match. */
        write_file("p.yaml", "version: 1\nrules:\n  - { from: shop/web, to: db, allow: ipc, endpoint: admin }\n");
        g = load_ok(group_text);
        group_free(g);

        /* A deny rule beats the allow: warned again. */
        write_file("p.yaml", "version: 1\nrules:\n"
                             "  - { from: web, to: db, allow: ipc }\n"
                             "  - { from: \"*\", to: db, deny: ipc }\n");
        g = load_ok_warn(group_text,
                         "g.yaml:6:44: warning: 'web' depends on 'db' but the policy allows it none of db's "
                         "services (kv, admin)");
        group_free(g);

        /* Without a policy there is nothing to check against. */
        g = load_ok("group: shop\n"
                    "containers:\n"
                    "  db: { command: [x], exports: [{ name: kv, socket: /kv }] }\n"
                    "  web: { command: [x], depends_on: [db] }\n");
        group_free(g);
}

/* ---- Files -------------------------------------------------------------*/

/* rootfs: an image layout (DIR:TAG, oci:DIR) is resolved against the
 * group file's directory like a plain one, and may stand in for the
 * command (its Entrypoint + Cmd); a plain directory may not. */
static void test_rootfs_image(void **state) {
        Fixture *f = *state;
        char want[PATH_MAX * 2];
        Group *g;

        assert_int_equal(mkdir("img", 0755), 0);
        write_file("img/oci-layout", "{\"imageLayoutVersion\": \"1.0.0\"}");
        assert_int_equal(mkdir("plain", 0755), 0);
        g = load_ok(HEAD "  a: { rootfs: \"img:v1\" }\n"
                         "  b: { rootfs: \"oci:img\", command: [x] }\n"
                         "  c: { rootfs: \"oci:/srv/other:v2\" }\n");
        snprintf(want, sizeof(want), "%s/img:v1", f->dir);
        assert_string_equal(container(g, "a")->config.rootfs, want);
        assert_null(container(g, "a")->config.argv);
        snprintf(want, sizeof(want), "oci:%s/img", f->dir);
        assert_string_equal(container(g, "b")->config.rootfs, want);
        assert_string_equal(container(g, "b")->config.argv[0], "x");
        /* oci: says it is an image even where there is none yet. */
        assert_string_equal(container(g, "c")->config.rootfs, "oci:/srv/other:v2");
        group_free(g);

        expect_errors(HEAD "  a: { rootfs: plain }\n", "g.yaml:3:3: container 'a' has no 'command'");
        expect_errors(HEAD "  a: { rootfs: \"oci:\", command: [x] }\n",
                      "g.yaml:3:16: 'rootfs': expected 'host', a directory, DIR:TAG or oci:DIR[:TAG]");
}

static void test_files(void **state) {
        PolicyDiagnostics d = {};
        Group *g = NULL;
        char *big;

        assert_int_equal(group_load("missing.yaml", &g, &d), -EINVAL);
        assert_null(g);
        assert_int_equal(d.n_errors, 1);
        char *s = diag_text(&d.errors[0]);
        assert_string_equal(s, "missing.yaml: cannot open: No such file or directory");
        free(s);
        policy_diagnostics_clear(&d);

        assert_int_equal(mkdir("dir.yaml", 0755), 0);
        assert_int_equal(group_load("dir.yaml", &g, &d), -EINVAL);
        assert_string_equal(d.errors[0].message, "not a regular file");
        policy_diagnostics_clear(&d);

        big = malloc(GROUP_FILE_SIZE_MAX + 2);
        assert_non_null(big);
        memset(big, '#', GROUP_FILE_SIZE_MAX + 1);
        big[GROUP_FILE_SIZE_MAX + 1] = 0;
        write_file("big.yaml", big);
        free(big);
        assert_int_equal(group_load("big.yaml", &g, &d), -EINVAL);
        assert_int_equal(d.n_errors, 1);
        assert_string_equal(d.errors[0].message, "file too large (more than 1048576 bytes)");
        policy_diagnostics_clear(&d);

        /* diags may be NULL. */
        assert_int_equal(group_load("missing.yaml", &g, NULL), -EINVAL);
        assert_null(g);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_full, setup, teardown),
                cmocka_unit_test_setup_teardown(test_minimal_defaults, setup, teardown),
                cmocka_unit_test_setup_teardown(test_top_level_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_yaml_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_command_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_value_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_env_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_volume_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_limit_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_export_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_export_kinds, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ready_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
                cmocka_unit_test_setup_teardown(test_shim, setup, teardown),
                cmocka_unit_test_setup_teardown(test_learn, setup, teardown),
                cmocka_unit_test_setup_teardown(test_many_errors_reported, setup, teardown),
                cmocka_unit_test_setup_teardown(test_depends_on_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cycles, setup, teardown),
                cmocka_unit_test_setup_teardown(test_start_order_diamond, setup, teardown),
                cmocka_unit_test_setup_teardown(test_policy_path, setup, teardown),
                cmocka_unit_test_setup_teardown(test_policy_inline, setup, teardown),
                cmocka_unit_test_setup_teardown(test_policy_warning, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rootfs_image, setup, teardown),
                cmocka_unit_test_setup_teardown(test_files, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
