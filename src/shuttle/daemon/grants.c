/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The books of live grants on disk.  A transfer or a depend mount is a
 * mount in a running container's namespace: it outlives the broker that
 * made it.  So that a broker restarted after a crash (SIGKILL, OOM) can
 * list and revoke it again, or take it down if it cannot (invariant 11),
 * each grant has a record under <state>/grants/ (0700, root's), written
 * when it is made, before the caller hears yes, and removed when it is
 * revoked: <kind>-<id>.json, a JSON object, replaced whole (rename).
 * The records are the broker's own, but they are read back as untrusted:
 * bounded in size, parsed strictly by their owners (transfer.c,
 * depend.c), and nothing in one is followed beyond what the grant's own
 * checks allow. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/json-file.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/parse.h"
#include "shuttle/daemon/core.h"
#include "shuttle/host/control.h"

#define GRANTS_DIR "grants"
/* A record is a few hundred bytes: two paths, names, numbers. */
#define GRANT_RECORD_MAX (3 * PATH_MAX + 4096)
/* "depend-" + 20 digits + ".json.tmp" */
#define GRANT_NAME_MAX 48

static const char *const kind_prefix[] = {
        [GRANT_TRANSFER] = "xfer-",
        [GRANT_DEPEND] = "depend-",
        [GRANT_ASK] = "ask-",
};

/* <state>/grants/, made if asked: a directory only root may enter (the
 * records name what containers were given). */
static int grants_dir_open(const Broker *b, bool create) {
        _cleanup_close_ int state = -1;

        state = open(b->state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (state < 0)
                return -errno;
        /* Made by someone else (a state directory shared by mistake): not
         * a place to keep or to believe records in. */
        return control_dir_open(state, GRANTS_DIR, 0700, create);
}

static void record_name(GrantKind kind, uint64_t id, const char *suffix, char *buf, size_t size) {
        snprintf(buf, size, "%s%" PRIu64 ".json%s", kind_prefix[kind], id, suffix);
}

int grant_save(Broker *b, GrantKind kind, uint64_t id, json_t *o) {
        char name[GRANT_NAME_MAX], tmp[GRANT_NAME_MAX];
        _cleanup_close_ int dir = -1;
        int r;

        if (!o)
                return -ENOMEM;
        dir = grants_dir_open(b, true);
        if (dir < 0) {
                json_decref(o);
                return dir;
        }
        record_name(kind, id, "", name, sizeof(name));
        record_name(kind, id, ".tmp", tmp, sizeof(tmp));
        /* Whole or not at all: a restart never reads half a record. */
        r = write_json_atomic_at(dir, tmp, name, o);
        json_decref(o);
        return r;
}

void grant_remove(Broker *b, GrantKind kind, uint64_t id) {
        _cleanup_close_ int dir = -1;
        char name[GRANT_NAME_MAX];

        dir = grants_dir_open(b, false);
        if (dir < 0)
                return;
        record_name(kind, id, "", name, sizeof(name));
        (void) unlinkat(dir, name, 0);
}

json_t *grant_container_json(const Container *c) {
        return json_pack("{s:s, s:s?, s:i, s:I}", "name", c->name, "group", c->group, "pid", (int) c->pid,
                         "start_time", (json_int_t) c->start_time);
}

Container *grant_container_find(Broker *b, const json_t *o) {
        const char *name = json_string_value(json_object_get(o, "name"));
        json_t *pid = json_object_get(o, "pid"), *start = json_object_get(o, "start_time");
        Container *c;

        if (!name || !json_is_integer(pid) || !json_is_integer(start))
                return NULL;
        c = container_find(b, name);
        /* The same process as when the grant was made, not a new container
         * that took the name, nor a process that reused the pid: the
         * re-adopted container's pid and start time were checked against
         * /proc when it was adopted. */
        if (!c || c->pid != (pid_t) json_integer_value(pid) || json_integer_value(start) <= 0 ||
            c->start_time != (uint64_t) json_integer_value(start))
                return NULL;
        return c;
}

/* "<prefix><id>.json": the kind and id, or false for any other name. */
static bool parse_name(const char *name, GrantKind *ret_kind, uint64_t *ret_id) {
        for (size_t k = 0; k < ELEMENTSOF(kind_prefix); k++) {
                size_t lp = strlen(kind_prefix[k]), len = strlen(name);
                char digits[24];
                uint64_t id;

                if (!strneq(name, kind_prefix[k], lp) || len <= lp + 5 || !streq(name + len - 5, ".json") ||
                    len - lp - 5 >= sizeof(digits))
                        continue;
                memcpy(digits, name + lp, len - lp - 5);
                digits[len - lp - 5] = '\0';
                if (digits[0] < '1' || digits[0] > '9' || parse_uint64(digits, &id) < 0 || id > INT64_MAX)
                        return false;
                *ret_kind = (GrantKind) k;
                *ret_id = id;
                return true;
        }
        return false;
}

static json_t *load_record(int dir, const char *name) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        json_t *o;

        /* Only a regular file of ours, and no bigger than a record is. */
        fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > GRANT_RECORD_MAX)
                return NULL;
        o = json_loadfd(fd, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(o)) {
                json_decref(o);
                return NULL;
        }
        return o;
}

void grants_restore(Broker *b) {
        _cleanup_close_ int dir = -1;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        char **names = NULL;
        size_t n = 0, cap = 0;
        int r;

        dir = grants_dir_open(b, true);
        if (dir < 0) {
                log_warning_errno(dir, "Cannot open '%s/" GRANTS_DIR "': the grants of a previous broker are not "
                                       "restored: %m", b->state_dir);
                return;
        }
        r = opendir_at(dir, &d);
        if (r < 0) {
                log_warning_errno(r, "Cannot read '%s/" GRANTS_DIR "': %m", b->state_dir);
                return;
        }
        /* Names first: restoring rewrites and removes records. */
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (n == cap) {
                        char **nn = reallocarray(names, cap ? cap * 2 : 64, sizeof(char *));
                        if (!nn)
                                break;
                        names = nn;
                        cap = cap ? cap * 2 : 64;
                }
                names[n] = strdup(de->d_name);
                if (names[n])
                        n++;
        }
        for (size_t i = 0; i < n; i++) {
                GrantKind kind;
                uint64_t id;
                json_t *o;

                if (!parse_name(names[i], &kind, &id)) {
                        /* A temporary file of a write the crash cut short,
                         * or nothing of ours. */
                        (void) unlinkat(dir, names[i], 0);
                        continue;
                }
                /* Ids are not given twice, restored or not: the audit log
                 * and `shuttlectl transfer` name grants by them. */
                if (kind == GRANT_TRANSFER)
                        b->next_xfer_id = MAX(b->next_xfer_id, id);
                else if (kind == GRANT_DEPEND)
                        b->next_depend_id = MAX(b->next_depend_id, id);
                else
                        b->next_ask_grant_id = MAX(b->next_ask_grant_id, id);
                o = load_record(dir, names[i]);
                r = kind == GRANT_TRANSFER ? transfer_restore(b, id, o)
                  : kind == GRANT_DEPEND   ? depend_restore(b, id, o)
                                           : ask_grant_restore(b, id, o);
                json_decref(o);
                if (r < 0)
                        (void) unlinkat(dir, names[i], 0);
        }
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        transfer_sweep_unrecorded(b);
        limits_restore(b);
}

/* ---- uses counts -------------------------------------------------------- */

#define USES_FILE "uses.json"
#define USES_TMP "uses.json.tmp"
#define USES_VERSION 1
/* Per (rule, container): a rule id and a name, and a number. */
#define USES_FILE_MAX (4 * 1024 * 1024)

int limits_save(Broker *b) {
        _cleanup_close_ int state = -1;
        json_t *o, *list;
        int r;

        list = json_array();
        o = json_pack("{s:i, s:o}", "version", USES_VERSION, "uses", list);
        if (!o)
                return -ENOMEM;
        for (LimitState *l = b->limits; l; l = l->next) {
                if (l->used == 0)
                        continue;
                if (json_array_append_new(list, json_pack("{s:s, s:s, s:I}", "rule", l->rule, "from", l->from,
                                                          "used", (json_int_t) l->used)) < 0) {
                        json_decref(o);
                        return -ENOMEM;
                }
        }
        state = open(b->state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (state < 0) {
                json_decref(o);
                return -errno;
        }
        r = write_json_atomic_at(state, USES_TMP, USES_FILE, o);
        json_decref(o);
        return r;
}

/* The counts of a previous broker, added to the books.  A file that cannot
 * be read is not a reason to count from zero: it is kept aside for the
 * operator and said so (the broker goes on, counting anew). */
void limits_restore(Broker *b) {
        _cleanup_close_ int state = -1, fd = -1;
        json_t *o, *list, *e;
        struct stat st;
        size_t i;

        state = open(b->state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (state < 0)
                return;
        (void) unlinkat(state, USES_TMP, 0);
        fd = openat(state, USES_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                if (errno != ENOENT)
                        log_warning_errno(-errno, "Cannot open '%s/" USES_FILE "': the uses counts of a previous "
                                                  "broker are not restored: %m", b->state_dir);
                return;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > USES_FILE_MAX)
                o = NULL;
        else
                o = json_loadfd(fd, JSON_REJECT_DUPLICATES, NULL);
        list = json_object_get(o, "uses");
        if (!json_is_object(o) || !json_is_integer(json_object_get(o, "version")) ||
            json_integer_value(json_object_get(o, "version")) != USES_VERSION || !json_is_array(list)) {
                log_error("'%s/" USES_FILE "' is not a uses count file of version %d: the counts of rules with "
                          "'limit: {uses: N}' start anew (the file is kept as " USES_FILE ".bad)",
                          b->state_dir, USES_VERSION);
                (void) renameat(state, USES_FILE, state, USES_FILE ".bad");
                json_decref(o);
                return;
        }
        json_array_foreach(list, i, e) {
                const char *rule = json_string_value(json_object_get(e, "rule"));
                const char *from = json_string_value(json_object_get(e, "from"));
                json_t *used = json_object_get(e, "used");
                LimitState *l;

                if (!rule || !from || !json_is_integer(used) || json_integer_value(used) <= 0) {
                        log_warning("'%s/" USES_FILE "': entry %zu is malformed, skipped", b->state_dir, i);
                        continue;
                }
                l = broker_limit_get(b, rule, from);
                if (l)
                        l->used = MAX(l->used, (uint64_t) json_integer_value(used));
        }
        json_decref(o);
}
