/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run-options.h"
#include "common/macro.h"

#define ARGV(...) ((char *[]){ "run", __VA_ARGS__, NULL })
#define ARGC(...) ((int) (sizeof((char *[]){ "run", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(o, err, ...) run_options_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o), (err))

static void test_full(void **state) {
        RunOptions o;
        char *err = NULL;

        run_options_init(&o);
        assert_int_equal(PARSE(&o, &err, "--name", "web", "--rootfs", "/srv/root", "--hostname", "h1",
                               "--memory", "64M", "--pids", "32", "--cpus", "0.5", "--net", "none",
                               "-v", "/data:/data:ro", "--volume", "/a:/b", "-e", "A=1", "--env", "B=x=y",
                               "--user", "1000:100", "--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN",
                               "--read-only", "--tty", "--workdir", "/w", "--ulimit", "nofile=100:200",
                               "--export", "kv=/run/kv.sock", "--export", "admin=/run/admin.sock",
                               "--export", "web=tcp:8080", "--export", "jobs=mq:/jobs",
                               "--export", "frames=shm:16M", "--export", "logs=fifo:/run/logs.fifo",
                               "--", "/bin/echo", "--name", "x"),
                         0);
        assert_null(err);
        assert_string_equal(o.config.name, "web");
        assert_string_equal(o.config.rootfs, "/srv/root");
        assert_string_equal(o.config.hostname, "h1");
        assert_int_equal(o.config.limits.memory_bytes, 64 << 20);
        assert_int_equal(o.config.limits.pids_max, 32);
        assert_int_equal(o.config.limits.cpu_quota_usec, 50000);
        assert_int_equal(o.config.limits.cpu_period_usec, 100000);
        assert_int_equal(o.config.net, NET_NONE);
        assert_int_equal(o.config.n_volumes, 2);
        assert_string_equal(o.config.volumes[0].source, "/data");
        assert_string_equal(o.config.volumes[0].destination, "/data");
        assert_true(o.config.volumes[0].read_only);
        assert_false(o.config.volumes[1].read_only);
        assert_int_equal(o.config.n_env, 2);
        assert_string_equal(o.config.env[1], "B=x=y");
        assert_true(o.config.has_user);
        assert_int_equal(o.config.uid, 1000);
        assert_int_equal(o.config.gid, 100);
        assert_true(o.config.caps_add & (UINT64_C(1) << CAP_NET_ADMIN));
        assert_true(o.config.caps_drop & (UINT64_C(1) << CAP_CHOWN));
        assert_true(o.config.read_only);
        assert_true(o.config.tty);
        assert_string_equal(o.config.workdir, "/w");
        assert_int_equal(o.config.n_rlimits, 1);
        assert_int_equal(o.config.n_exports, 6);
        assert_null(o.config.exports[2].socket);
        assert_null(o.config.exports[2].mq);
        assert_int_equal(o.config.exports[2].shm_size, 0);
        assert_int_equal(o.config.exports[2].port, 8080);
        assert_string_equal(o.config.exports[0].name, "kv");
        assert_string_equal(o.config.exports[0].socket, "/run/kv.sock");
        assert_string_equal(o.config.exports[1].name, "admin");
        assert_string_equal(o.config.exports[3].name, "jobs");
        assert_string_equal(o.config.exports[3].mq, "/jobs");
        assert_null(o.config.exports[3].socket);
        assert_int_equal(o.config.exports[3].port, 0);
        assert_int_equal(o.config.exports[3].shm_size, 0);
        assert_string_equal(o.config.exports[4].name, "frames");
        assert_int_equal(o.config.exports[4].shm_size, 16 << 20);
        assert_null(o.config.exports[4].socket);
        assert_null(o.config.exports[4].mq);
        assert_int_equal(o.config.exports[4].port, 0);
        assert_null(o.config.exports[4].fifo);
        assert_string_equal(o.config.exports[5].name, "logs");
        assert_string_equal(o.config.exports[5].fifo, "/run/logs.fifo");
        assert_null(o.config.exports[5].socket);
        assert_null(o.config.exports[5].mq);
        assert_int_equal(o.config.exports[5].shm_size, 0);
        assert_int_equal(o.config.exports[5].port, 0);
        assert_null(o.config.exports[0].fifo);
        /* Options after the command belong to the command. */
        assert_string_equal(o.config.argv[0], "/bin/echo");
        assert_string_equal(o.config.argv[1], "--name");
        assert_string_equal(o.config.argv[2], "x");
        assert_null(o.config.argv[3]);
        run_options_done(&o);
}

static void test_defaults(void **state) {
        RunOptions o;
        char *err = NULL;

        run_options_init(&o);
        assert_int_equal(PARSE(&o, &err, "true"), 0);
        assert_null(o.config.name);
        assert_null(o.config.rootfs);
        assert_int_equal(o.config.net, NET_LOOPBACK);
        assert_int_equal(o.config.limits.memory_bytes, 0);
        assert_false(o.config.tty);
        assert_string_equal(o.config.argv[0], "true");
        run_options_done(&o);

        /* --rootfs host is the default spelled out. */
        run_options_init(&o);
        assert_int_equal(PARSE(&o, &err, "--rootfs", "/x", "--rootfs", "host", "--", "true"), 0);
        assert_null(o.config.rootfs);
        run_options_done(&o);
}

static void test_group_file(void **state) {
        RunOptions o;
        char *err = NULL;

        run_options_init(&o);
        assert_int_equal(PARSE(&o, &err, "examples/webapp/group.yaml"), 0);
        assert_string_equal(o.group_file, "examples/webapp/group.yaml");
        run_options_done(&o);

        run_options_init(&o);
        assert_int_equal(PARSE(&o, &err, "-f", "g.yml"), 0);
        assert_string_equal(o.group_file, "g.yml");
        run_options_done(&o);

        run_options_init(&o);
        assert_int_equal(PARSE(&o, &err, "--detach", "--state-dir", "/tmp/s", "g.yaml"), 0);
        assert_true(o.detach);
        assert_string_equal(o.group_file, "g.yaml");
        run_options_done(&o);

        /* After --, a .yaml argument is a command, not a group. */
        run_options_init(&o);
        assert_int_equal(PARSE(&o, &err, "--", "x.yaml"), 0);
        assert_null(o.group_file);
        assert_string_equal(o.config.argv[0], "x.yaml");
        run_options_done(&o);
}

/* --no-shim: off by default, for one container and for a group alike
 * (it is not a container option a group file would have to carry), and it
 * leaves the configuration alone (cmd-run decides on shim_path). */
static void test_no_shim(void **state) {
        RunOptions o;
        char *err = NULL;

        run_options_init(&o);
        assert_int_equal(PARSE(&o, &err, "true"), 0);
        assert_false(o.no_shim);
        assert_null(o.config.shim_path);
        run_options_done(&o);

        run_options_init(&o);
        assert_int_equal(PARSE(&o, &err, "--no-shim", "--name", "a", "--", "true", "--no-shim"), 0);
        assert_true(o.no_shim);
        assert_null(o.config.shim_path);
        assert_string_equal(o.config.argv[1], "--no-shim");
        run_options_done(&o);

        run_options_init(&o);
        assert_int_equal(PARSE(&o, &err, "--no-shim", "g.yaml"), 0);
        assert_null(err);
        assert_true(o.no_shim);
        assert_string_equal(o.group_file, "g.yaml");
        run_options_done(&o);

        run_options_init(&o);
        assert_int_equal(PARSE(&o, &err, "--no-shim=1", "true"), -EINVAL);
        assert_non_null(strstr(err, "--no-shim: takes no value"));
        free(err);
        run_options_done(&o);
}

/* --learn: the container's registration says so; for a group, the
 * supervisor's business (not a container option); never --isolated. */
static void test_learn(void **state) {
        RunOptions o;
        char *err = NULL;

        run_options_init(&o);
        assert_int_equal(PARSE(&o, &err, "true"), 0);
        assert_false(o.learn);
        assert_false(o.config.learn);
        run_options_done(&o);

        run_options_init(&o);
        assert_int_equal(PARSE(&o, &err, "--learn", "--", "true"), 0);
        assert_true(o.learn);
        assert_true(o.config.learn);
        run_options_done(&o);

        run_options_init(&o);
        assert_int_equal(PARSE(&o, &err, "--learn", "--detach", "g.yaml"), 0);
        assert_null(err);
        assert_true(o.learn);
        assert_string_equal(o.group_file, "g.yaml");
        run_options_done(&o);

        run_options_init(&o);
        assert_int_equal(PARSE(&o, &err, "--learn", "--isolated", "true"), -EINVAL);
        assert_non_null(strstr(err, "--learn needs the broker"));
        free(err);
        run_options_done(&o);
}

/* Every bad value: -EINVAL and a one-line message naming the option. */
static void test_errors(void **state) {
        static const struct {
                const char *args[4];
                const char *needle;
        } t[] = {
                { { "--memory", "lots", "true" }, "--memory: invalid size 'lots'" },
                { { "--memory", "1", "true" }, "--memory" },
                { { "--pids", "0", "true" }, "--pids: invalid count '0'" },
                { { "--pids", "-3", "true" }, "--pids" },
                { { "--cpus", "0", "true" }, "--cpus: invalid CPU count '0'" },
                { { "--cpus", "x", "true" }, "--cpus" },
                { { "--net", "bridge", "true" }, "--net: 'bridge' is only available for app groups" },
                { { "--net", "wifi", "true" }, "--net: 'wifi'" },
                { { "--volume", "/a", "true" }, "--volume: '/a': expected SRC:DST" },
                { { "--volume", "a:/b", "true" }, "source must be an absolute path" },
                { { "--volume", "/a:b", "true" }, "destination must be an absolute path" },
                { { "--volume", "/a:/b/../c", "true" }, "destination must be an absolute path" },
                { { "--volume", "/a:/", "true" }, "destination must be an absolute path" },
                { { "--volume", "/a:/b:rx", "true" }, "mode must be 'ro' or 'rw'" },
                { { "--env", "NOEQUALS", "true" }, "--env: 'NOEQUALS': expected K=V" },
                { { "--env", "=v", "true" }, "--env" },
                { { "--user", "root", "true" }, "--user: 'root'" },
                { { "--cap-add", "CAP_FLY", "true" }, "--cap-add: 'CAP_FLY' is not a capability name" },
                { { "--cap-drop", "nope", "true" }, "--cap-drop: 'nope'" },
                { { "--ulimit", "nofile", "true" }, "--ulimit: 'nofile'" },
                { { "--ulimit", "bogus=1", "true" }, "--ulimit" },
                { { "--workdir", "rel", "true" }, "--workdir: 'rel'" },
                { { "--name", "a/b", "true" }, "--name: 'a/b' is not a valid name" },
                { { "--name", "", "true" }, "--name" },
                { { "--rootfs", "relative", "true" }, "--rootfs: 'relative'" },
                { { "--rootfs", "oci:relative:t", "true" }, "--rootfs: 'oci:relative:t': expected 'host', an absolute" },
                { { "--rootfs", "host" }, "missing command" },
                { { "--hostname", "", "true" }, "--hostname" },
                { { "--bogus", "true" }, "--bogus: unknown option" },
                { { "--memory" }, "--memory: missing value" },
                { { "--name", "x" }, "missing command" },
                { { "--export", "kv", "true" }, "--export: 'kv': expected NAME=/path" },
                { { "--export", "k/v=/run/kv.sock", "true" }, "--export: 'k/v=/run/kv.sock'" },
                { { "--export", "kv=run/kv.sock", "true" }, "--export: 'kv=run/kv.sock'" },
                { { "--export", "kv=/a", "--export", "kv=/b" }, "--export: two services named 'kv'" },
                { { "--isolated", "--export", "kv=/a", "true" }, "--export needs the broker" },
                { { "--memory", "64M", "g.yaml" }, "--memory: set container options in the group file" },
                { { "-m64M", "-f", "g.yaml" }, "--memory: set container options in the group file" },
                { { "--detach", "--tty", "sh" }, "--detach and --tty do not go together" },
                { { "--export", "web=tcp:0", "true" }, "--export: 'web=tcp:0': expected tcp:PORT" },
                { { "--export", "web=tcp:70000", "true" }, "expected tcp:PORT" },
                { { "--export", "q=mq:jobs", "true" }, "--export: 'q=mq:jobs': expected mq:/QUEUE" },
                { { "--export", "q=mq:/a/b", "true" }, "expected mq:/QUEUE" },
                { { "--export", "q=mq:/", "true" }, "expected mq:/QUEUE" },
                { { "--export", "q=mq:", "true" }, "expected mq:/QUEUE" },
                { { "--export", "m=shm:0", "true" }, "--export: 'm=shm:0': expected shm:SIZE" },
                { { "--export", "m=shm:lots", "true" }, "expected shm:SIZE" },
                { { "--export", "m=shm:65G", "true" }, "expected shm:SIZE" },
                { { "--export", "m=shm:", "true" }, "expected shm:SIZE" },
                { { "--export", "f=fifo:run/f", "true" }, "--export: 'f=fifo:run/f': expected fifo:/PATH" },
                { { "--export", "f=fifo:", "true" }, "expected fifo:/PATH" },
                { { "--export", "f=fifo:/run/../etc/f", "true" }, "expected fifo:/PATH" },
                { { "--export", "f=fifo:/run/f", "--export", "f=mq:/f" }, "--export: two services named 'f'" },
                { { "--export", "q=mq:/a", "--export", "q=shm:1M" }, "--export: two services named 'q'" },
                { { "--cap-add", "NET_ADMIN", "--cap-drop", "NET_ADMIN" }, "name the same capability" },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                char *argv[8] = { "run" };
                int argc = 1;
                RunOptions o;
                char *err = NULL;
                int r;

                for (size_t j = 0; j < 4 && t[i].args[j]; j++)
                        argv[argc++] = (char *) t[i].args[j];
                if (argc == 5)
                        argv[argc++] = (char *) "true";
                run_options_init(&o);
                r = run_options_parse(argc, argv, &o, &err);
                if (r != -EINVAL || !err || !strstr(err, t[i].needle) || strchr(err, '\n'))
                        fail_msg("case %zu (%s): r=%d err='%s', expected '%s'", i, t[i].args[0], r,
                                 err ? err : "(null)", t[i].needle);
                free(err);
                run_options_done(&o);
        }
}

/* On an image the command may come from the image: the parser leaves argv
 * NULL for cmd-run to fill. */
static void test_rootfs_image(void **state) {
        RunOptions o;
        char *err = NULL;
        (void) state;

        run_options_init(&o);
        assert_int_equal(PARSE(&o, &err, "--rootfs", "oci:/srv/layout:v1", "-e", "A=1"), 0);
        assert_null(err);
        assert_string_equal(o.config.rootfs, "oci:/srv/layout:v1");
        assert_null(o.config.argv);
        assert_null(o.group_file);
        run_options_done(&o);

        run_options_init(&o);
        assert_int_equal(PARSE(&o, &err, "--rootfs", "/srv/layout:v1", "--", "/bin/sh", "-c", "true"), 0);
        assert_string_equal(o.config.argv[0], "/bin/sh");
        assert_string_equal(o.config.argv[2], "true");
        run_options_done(&o);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rootfs_image),
                cmocka_unit_test(test_full),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_group_file),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_no_shim),
                cmocka_unit_test(test_learn),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
