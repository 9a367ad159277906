/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* runtime/image.c and image-apply.c: what --rootfs names, which manifest
 * index.json gives, what of an image config a run takes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macro.h"
#include "runtime/image.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define MANIFEST "application/vnd.oci.image.manifest.v1+json"

/* A file system of a few directories: /l and /a:b are image layouts, /a
 * another, /b a bundle, /d a plain directory. */
static int fake_probe(const char *path, void *userdata) {
        static const struct {
                const char *path;
                int kind;
        } fs[] = {
                { "/l", PROBE_DIR | PROBE_LAYOUT },   { "/a:b", PROBE_DIR | PROBE_LAYOUT },
                { "/a", PROBE_DIR | PROBE_LAYOUT },   { "/b", PROBE_DIR | PROBE_BUNDLE },
                { "/d", PROBE_DIR },                  { "/x:y", PROBE_DIR },
        };
        (void) userdata;
        for (size_t i = 0; i < ELEMENTSOF(fs); i++)
                if (streq(fs[i].path, path))
                        return fs[i].kind;
        return 0;
}

static void check_ref(const char *arg, int want_r, RootfsKind kind, const char *path, const char *tag,
                      const char *err_part) {
        RootfsRef ref = {};
        char err[512] = "";
        int r = image_rootfs_parse(arg, fake_probe, NULL, &ref, err, sizeof(err));

        if (r != want_r)
                fail_msg("%s: returned %d, not %d (%s)", arg, r, want_r, err);
        if (r < 0) {
                if (!strstr(err, err_part))
                        fail_msg("%s: message '%s' lacks '%s'", arg, err, err_part);
                return;
        }
        assert_int_equal(ref.kind, kind);
        assert_string_equal(ref.path, path);
        if (tag)
                assert_string_equal(ref.tag, tag);
        else
                assert_null(ref.tag);
        rootfs_ref_done(&ref);
}

static void test_rootfs_parse(void **state) {
        (void) state;
        check_ref("/l", 0, ROOTFS_LAYOUT, "/l", NULL, NULL);
        check_ref("/l:t", 0, ROOTFS_LAYOUT, "/l", "t", NULL);
        check_ref("oci:/l:v1.2", 0, ROOTFS_LAYOUT, "/l", "v1.2", NULL);
        check_ref("oci:/l", 0, ROOTFS_LAYOUT, "/l", NULL, NULL);
        /* The longest directory that is a layout wins. */
        check_ref("/a:b:c", 0, ROOTFS_LAYOUT, "/a:b", "c", NULL);
        check_ref("/a:z:c", 0, ROOTFS_LAYOUT, "/a", "z:c", NULL);
        check_ref("/l:localhost/app:latest", 0, ROOTFS_LAYOUT, "/l", "localhost/app:latest", NULL);
        check_ref("/b", 0, ROOTFS_BUNDLE, "/b", NULL, NULL);
        check_ref("/d", 0, ROOTFS_DIR, "/d", NULL, NULL);
        /* A directory with ':' in its name is itself. */
        check_ref("/x:y", 0, ROOTFS_DIR, "/x:y", NULL, NULL);

        check_ref("oci:/d", -EINVAL, 0, NULL, NULL, "'/d' is not an OCI image layout (it has no oci-layout file)");
        check_ref("oci:/b", -EINVAL, 0, NULL, NULL, "not an OCI image layout");
        check_ref("/d:t", -EINVAL, 0, NULL, NULL, "'/d' is not an OCI image layout");
        check_ref("/l:", -EINVAL, 0, NULL, NULL, "is not a valid tag");
        check_ref("/l:a b", -EINVAL, 0, NULL, NULL, "'a b' is not a valid tag");
        check_ref("/none", -ENOENT, 0, NULL, NULL, "'/none': no such directory or OCI image layout");
        check_ref("/none:t", -ENOENT, 0, NULL, NULL, "no such directory");
        check_ref("rel:t", -EINVAL, 0, NULL, NULL, "expected 'host', an absolute directory");
        check_ref("oci:rel", -EINVAL, 0, NULL, NULL, "expected 'host'");
}

static void test_digest(void **state) {
        (void) state;
        assert_true(image_digest_is_valid(D1));
        assert_false(image_digest_is_valid(NULL));
        assert_false(image_digest_is_valid("sha256:111"));
        assert_false(image_digest_is_valid("sha512:1111111111111111111111111111111111111111111111111111111111111111"));
        assert_false(image_digest_is_valid("sha256:../../../../../../../../../../../../../../../../../etc/passwd"));
        assert_false(image_digest_is_valid("sha256:111111111111111111111111111111111111111111111111111111111111111A"));
}

static json_t *load(const char *text) {
        json_error_t e;
        json_t *j = json_loads(text, 0, &e);
        if (!j)
                fail_msg("bad fixture: %s: %s", text, e.text);
        return j;
}

static void check_select(const char *index, const char *tag, int want_r, const char *want_digest,
                         const char *want_tag, const char *err_part) {
        json_t *j = load(index);
        char digest[IMAGE_DIGEST_MAX] = "", err[512] = "";
        char *utag = NULL;
        int r = image_index_select(j, tag, digest, &utag, err, sizeof(err));

        json_decref(j);
        if (r != want_r)
                fail_msg("%s / %s: returned %d, not %d (%s)", index, tag ?: "(none)", r, want_r, err);
        if (r < 0) {
                if (!strstr(err, err_part))
                        fail_msg("message '%s' lacks '%s'", err, err_part);
                return;
        }
        assert_string_equal(digest, want_digest);
        if (want_tag)
                assert_string_equal(utag, want_tag);
        else
                assert_null(utag);
        free(utag);
}

#define M(d, t) "{\"mediaType\":\"" MANIFEST "\",\"digest\":\"" d "\",\"size\":1,\"annotations\":{\"org.opencontainers.image.ref.name\":\"" t "\"}}"

static void test_index_select(void **state) {
        const char *two = "{\"schemaVersion\":2,\"manifests\":[" M(D1, "t") "," M(D2, "u") "]}";
        const char *one = "{\"schemaVersion\":2,\"manifests\":[" M(D1, "t") "]}";
        const char *untagged = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MANIFEST
                               "\",\"digest\":\"" D2 "\",\"size\":1}]}";
        (void) state;

        check_select(two, "u", 0, D2, "u", NULL);
        check_select(two, "t", 0, D1, "t", NULL);
        check_select(one, NULL, 0, D1, "t", NULL);
        check_select(untagged, NULL, 0, D2, NULL, NULL);

        check_select(two, "v", -ENOENT, NULL, NULL, "tag 'v' not found (tags: t, u)");
        check_select(untagged, "v", -ENOENT, NULL, NULL, "tag 'v' not found (tags: none)");
        check_select(two, NULL, -EINVAL, NULL, NULL, "holds 2 images: name one with DIR:TAG (tags: t, u)");
        check_select("{\"schemaVersion\":2,\"manifests\":[]}", NULL, -EINVAL, NULL, NULL, "holds no image");
        check_select("{\"schemaVersion\":1,\"manifests\":[]}", NULL, -EINVAL, NULL, NULL, "schemaVersion must be 2");
        check_select("{\"schemaVersion\":2}", NULL, -EINVAL, NULL, NULL, "'manifests' must be an array");
        check_select("[]", NULL, -EINVAL, NULL, NULL, "not a JSON object");
        check_select("{\"schemaVersion\":2,\"manifests\":[" M(D1, "t") "," M(D2, "t") "]}", "t", -EINVAL, NULL,
                     NULL, "tag 't' names two different images");
        check_select("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                     "\"application/vnd.oci.image.index.v1+json\",\"digest\":\"" D1 "\",\"size\":1}]}",
                     NULL, -EINVAL, NULL, NULL, "manifests[0] is an image index (an image for several platforms)");
        check_select("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MANIFEST
                     "\",\"digest\":\"sha256:../../x\",\"size\":1}]}",
                     NULL, -EINVAL, NULL, NULL, "manifests[0]: digest must be sha256: and 64 lower-case hex digits");
        check_select("{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"" D1 "\"}]}", NULL, -EINVAL, NULL, NULL,
                     "manifests[0]: mediaType must be");
}

static void test_manifest_config(void **state) {
        char digest[IMAGE_DIGEST_MAX], err[256];
        json_t *j;
        (void) state;

        j = load("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                 "\"digest\":\"" D2 "\",\"size\":1},\"layers\":[]}");
        assert_int_equal(image_manifest_config(j, digest, err, sizeof(err)), 0);
        assert_string_equal(digest, D2);
        json_decref(j);

        j = load("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/x\",\"digest\":\"" D2 "\"},"
                 "\"layers\":[]}");
        assert_int_equal(image_manifest_config(j, digest, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "config.mediaType must be"));
        json_decref(j);

        j = load("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                 "\"digest\":\"" D2 "\"}}");
        assert_int_equal(image_manifest_config(j, digest, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "'layers' must be an array");
        json_decref(j);
}

static void test_config_parse(void **state) {
        ImageConfig c = {};
        char err[256];
        json_t *j;
        (void) state;

        j = load("{\"config\":{\"Env\":[\"PATH=/usr/bin:/bin\",\"A=b=c\"],\"Entrypoint\":[\"/bin/sh\",\"-c\"],"
                 "\"Cmd\":[\"echo hi\"],\"WorkingDir\":\"/srv\",\"User\":\"1000:100\"}}");
        assert_int_equal(image_config_parse(j, &c, err, sizeof(err)), 0);
        assert_string_equal(c.env[0], "PATH=/usr/bin:/bin");
        assert_string_equal(c.env[1], "A=b=c");
        assert_null(c.env[2]);
        assert_string_equal(c.argv[0], "/bin/sh");
        assert_string_equal(c.argv[1], "-c");
        assert_string_equal(c.argv[2], "echo hi");
        assert_null(c.argv[3]);
        assert_string_equal(c.workdir, "/srv");
        assert_string_equal(c.user, "1000:100");
        image_config_done(&c);
        json_decref(j);

        /* No config at all, or empty strings and nulls: nothing. */
        j = load("{\"architecture\":\"amd64\"}");
        assert_int_equal(image_config_parse(j, &c, err, sizeof(err)), 0);
        assert_null(c.env);
        assert_null(c.argv);
        json_decref(j);
        j = load("{\"config\":{\"Entrypoint\":null,\"Cmd\":[],\"WorkingDir\":\"\",\"User\":\"\"}}");
        assert_int_equal(image_config_parse(j, &c, err, sizeof(err)), 0);
        assert_null(c.argv);
        assert_null(c.workdir);
        assert_null(c.user);
        json_decref(j);

        j = load("{\"config\":{\"WorkingDir\":\"srv\"}}");
        assert_int_equal(image_config_parse(j, &c, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "config.WorkingDir: 'srv' is not an absolute path without '.' or '..'");
        json_decref(j);
        j = load("{\"config\":{\"Env\":[\"NOEQUALS\"]}}");
        assert_int_equal(image_config_parse(j, &c, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "config.Env[0]: 'NOEQUALS' is not K=V");
        json_decref(j);
        j = load("{\"config\":{\"Cmd\":[\"a\",1]}}");
        assert_int_equal(image_config_parse(j, &c, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "config.Cmd[1] must be a string (without NUL)");
        json_decref(j);
        j = load("{\"config\":{\"Cmd\":\"a\"}}");
        assert_int_equal(image_config_parse(j, &c, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "config.Cmd must be an array of strings");
        json_decref(j);
}

static char root[] = "/tmp/test-image-XXXXXX";

static void write_at(const char *rel, const char *text) {
        char p[256];
        FILE *f;

        snprintf(p, sizeof(p), "%s/%s", root, rel);
        f = fopen(p, "we");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void test_user_resolve(void **state) {
        char err[256], p[256];
        uid_t uid;
        gid_t gid;
        (void) state;

        assert_non_null(mkdtemp(root));
        snprintf(p, sizeof(p), "%s/etc", root);
        assert_int_equal(mkdir(p, 0755), 0);
        write_at("etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n");
        write_at("etc/group", "root:x:0:\nstaff:x:50:\n");

        assert_int_equal(image_user_resolve("1000", root, &uid, &gid, err, sizeof(err)), 0);
        assert_int_equal(uid, 1000);
        assert_int_equal(gid, 0);
        assert_int_equal(image_user_resolve("7:8", root, &uid, &gid, err, sizeof(err)), 0);
        assert_int_equal(uid, 7);
        assert_int_equal(gid, 8);
        assert_int_equal(image_user_resolve("app", root, &uid, &gid, err, sizeof(err)), 0);
        assert_int_equal(uid, 1000);
        assert_int_equal(gid, 1001);
        assert_int_equal(image_user_resolve("app:staff", root, &uid, &gid, err, sizeof(err)), 0);
        assert_int_equal(uid, 1000);
        assert_int_equal(gid, 50);
        assert_int_equal(image_user_resolve("5:staff", root, &uid, &gid, err, sizeof(err)), 0);
        assert_int_equal(uid, 5);
        assert_int_equal(gid, 50);

        assert_int_equal(image_user_resolve("nobody", root, &uid, &gid, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "config.User: 'nobody': no user 'nobody' in the image's /etc/passwd");
        assert_int_equal(image_user_resolve("app:wheel", root, &uid, &gid, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "config.User: 'app:wheel': no group 'wheel' in the image's /etc/group");
        assert_int_equal(image_user_resolve("app:", root, &uid, &gid, err, sizeof(err)), -EINVAL);

        /* Not through a link out of the image. */
        snprintf(p, sizeof(p), "%s/etc/group", root);
        assert_int_equal(unlink(p), 0);
        assert_int_equal(symlink("/etc/group", p), 0);
        assert_int_equal(image_user_resolve("0:root", root, &uid, &gid, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "config.User: '0:root': the image has no /etc/group to look up 'root' in");

        snprintf(p, sizeof(p), "rm -rf '%s'", root);
        assert_int_equal(system(p), 0);
}

static void test_apply(void **state) {
        char *img_env[] = { "PATH=/img/bin", "A=image", NULL };
        char *img_argv[] = { "/entry", "cmd", NULL };
        ImageRootfs img = { .kind = ROOTFS_LAYOUT, .rootfs = "/cache/rootfs", .lock_fd = -1,
                            .config = { .env = img_env, .argv = img_argv, .workdir = "/srv", .user = "5:6" } };
        ContainerConfig c;
        char err[256];
        (void) state;

        /* No command, no -w, -u: the image's; its Env before --env. */
        container_config_init(&c);
        c.env = calloc(2, sizeof(char *));
        c.env[0] = strdup("A=cli");
        c.n_env = 1;
        assert_int_equal(image_rootfs_apply(&img, "/l:t", &c, err, sizeof(err)), 0);
        assert_string_equal(c.rootfs, "/cache/rootfs");
        assert_true(c.read_only);
        assert_string_equal(c.argv[0], "/entry");
        assert_string_equal(c.argv[1], "cmd");
        assert_null(c.argv[2]);
        assert_string_equal(c.workdir, "/srv");
        assert_true(c.has_user);
        assert_int_equal(c.uid, 5);
        assert_int_equal(c.gid, 6);
        assert_int_equal(c.n_env, 3);
        assert_string_equal(c.env[0], "PATH=/img/bin");
        assert_string_equal(c.env[1], "A=image");
        assert_string_equal(c.env[2], "A=cli");
        container_config_done(&c);

        /* A command, -w and -u given: those. */
        container_config_init(&c);
        c.argv = calloc(2, sizeof(char *));
        c.argv[0] = strdup("/bin/true");
        c.workdir = strdup("/");
        c.has_user = true;
        c.uid = 9;
        c.gid = 9;
        assert_int_equal(image_rootfs_apply(&img, "/l:t", &c, err, sizeof(err)), 0);
        assert_string_equal(c.argv[0], "/bin/true");
        assert_null(c.argv[1]);
        assert_string_equal(c.workdir, "/");
        assert_int_equal(c.uid, 9);
        assert_int_equal(c.n_env, 2);
        container_config_done(&c);

        /* Neither a command nor Entrypoint/Cmd. */
        img.config.argv = NULL;
        container_config_init(&c);
        assert_int_equal(image_rootfs_apply(&img, "/l:t", &c, err, sizeof(err)), -ENOEXEC);
        assert_non_null(strstr(err, "missing command: the image '/l:t' has neither Entrypoint nor Cmd"));
        assert_null(c.rootfs);
        container_config_done(&c);

        /* A bundle: its root, read-only as it says; no command from it. */
        img = (ImageRootfs){ .kind = ROOTFS_BUNDLE, .rootfs = "/b/rootfs", .read_only = false, .lock_fd = -1 };
        container_config_init(&c);
        assert_int_equal(image_rootfs_apply(&img, "/b", &c, err, sizeof(err)), -ENOEXEC);
        assert_non_null(strstr(err, "'/b' is a bundle (its process is not used)"));
        c.argv = calloc(2, sizeof(char *));
        c.argv[0] = strdup("/bin/true");
        assert_int_equal(image_rootfs_apply(&img, "/b", &c, err, sizeof(err)), 0);
        assert_string_equal(c.rootfs, "/b/rootfs");
        assert_false(c.read_only);
        container_config_done(&c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rootfs_parse),   cmocka_unit_test(test_digest),
                cmocka_unit_test(test_index_select),   cmocka_unit_test(test_manifest_config),
                cmocka_unit_test(test_config_parse),   cmocka_unit_test(test_user_resolve),
                cmocka_unit_test(test_apply),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
