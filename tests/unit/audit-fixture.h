/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The audit tests' fixture: a log in a temporary directory of its own,
 * removed with everything in it.  Included by test-audit.c and
 * test-audit-bounds.c (after <cmocka.h>). */
#pragma once

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct Fixture {
        char dir[64];
        char path[128];
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/test-audit.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof(f->path), "%s/audit.jsonl", f->dir);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        DIR *d = opendir(f->dir);
        struct dirent *de;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.') {
                        char p[512];
                        snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
                        unlink(p);
                }
        closedir(d);
        rmdir(f->dir);
        free(f);
        return 0;
}
