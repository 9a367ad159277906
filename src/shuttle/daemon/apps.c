/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The apps/ entries: inside container A, /run/shuttle/apps/<T>/<name> for
 * every app that an allow invoke rule from A to T names by a literal path
 * (policy_for_each_invoke_app), <name> being its last component.  Each is a
 * symbolic link to shuttle-invoke (SHUTTLE_INVOKE_PATH), which, executed
 * under that name, invokes <name> in T: so exec of an entry works in any
 * program, a static binary without the shim included.  The broker resolves
 * the bare name to the rule's path (apps_resolve()).
 *
 * Like a svc/ socket, an entry is not a grant: the broker decides every
 * invocation with its arguments and environment, and an app a glob rule
 * allows has no entry but is invoked all the same (through the shim, or
 * shuttle-invoke).  The entries follow the policy and the running
 * containers, as svc/ does; the directory on the host, <c->dir>/apps/, is
 * their only record.  It is the broker's own (the container sees it
 * read-only), so what is found there is what the broker made. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/log.h"
#include "common/macro.h"
#include "runtime/container.h"
#include "shuttle/daemon/core.h"

#define APPS_DIR "apps"

/* ---- what the policy names ---------------------------------------------- */

typedef struct AppList {
        char **items;
        size_t n, allocated;
        int error;
} AppList;

static void app_list_done(AppList *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->items[i]);
        free(l->items);
        *l = (AppList){};
}

static bool app_list_has(const AppList *l, const char *s) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->items[i], s))
                        return true;
        return false;
}

/* Adds s unless it is there already. */
static void app_list_add(AppList *l, const char *s) {
        if (l->error || app_list_has(l, s))
                return;
        if (l->n == l->allocated) {
                size_t k = l->allocated ? l->allocated * 2 : 8;
                char **v = reallocarray(l->items, k, sizeof(char *));
                if (!v) {
                        l->error = -ENOMEM;
                        return;
                }
                l->items = v;
                l->allocated = k;
        }
        l->items[l->n] = strdup(s);
        if (!l->items[l->n]) {
                l->error = -ENOMEM;
                return;
        }
        l->n++;
}

static void add_entry_name(const PolicyInvokeApp *a, void *userdata) {
        /* An app every invocation of which a deny rule refuses gets no
         * entry; nor does a name no directory can hold. */
        if (!a->denied && strlen(a->name) <= NAME_MAX)
                app_list_add(userdata, a->name);
}

/* The names of the entries A should have for T. */
static int entry_names(Broker *b, const Container *a, const Container *t, AppList *ret) {
        const Policy *p = broker_policy_for(b, a);
        int r;

        if (policy_get_n_rules_for_kind(p, POLICY_KIND_INVOKE) == 0)
                return 0;
        r = policy_for_each_invoke_app(p, a->qname, t->qname, time(NULL), add_entry_name, ret);
        if (r < 0)
                return r;
        return ret->error;
}

/* ---- the directories ---------------------------------------------------- */

/* Removes <dirfd>/<name> and the entries in it. */
static void remove_target_dir(int dirfd, const char *name) {
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (fd < 0) {
                (void) unlinkat(dirfd, name, 0); /* not a directory: not ours either */
                return;
        }
        if (opendir_at(fd, &d) >= 0)
                while ((de = readdir(d)))
                        if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                                (void) unlinkat(fd, de->d_name, 0);
        (void) unlinkat(dirfd, name, AT_REMOVEDIR);
}

/* <c->dir>/apps, created if missing (a container re-adopted from a broker
 * that made none). */
static int open_apps_dir(const Container *c) {
        char path[PATH_MAX + 16];
        int fd;

        if ((size_t) snprintf(path, sizeof(path), "%s/" APPS_DIR, c->dir) >= sizeof(path))
                return -ENAMETOOLONG;
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return -errno;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static bool is_entry(int dirfd, const char *name) {
        char buf[sizeof(SHUTTLE_INVOKE_PATH) + 1];
        ssize_t n = readlinkat(dirfd, name, buf, sizeof(buf));

        return n == (ssize_t) STRLEN(SHUTTLE_INVOKE_PATH) && memcmp(buf, SHUTTLE_INVOKE_PATH, (size_t) n) == 0;
}

/* The entries of <a's apps>/<t> the policy names, in *want: 0, or < 0
 * (said) if they cannot be listed. */
static int pair_wanted(Broker *b, const Container *a, const Container *t, AppList *want) {
        int r = entry_names(b, a, t, want);

        if (r < 0)
                log_warning_errno(r, "Cannot list the apps '%s' may invoke in '%s': %m", a->qname, t->qname);
        return r;
}

/* Makes <a's apps>/<t> hold exactly the entries in want. */
static void sync_pair_to(const Container *a, const Container *t, int appsfd, const AppList *want_) {
        const AppList want = *want_;
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_close_ int fd = -1;
        struct dirent *de;

        if (want.n == 0) {
                remove_target_dir(appsfd, t->name);
                return;
        }
        if (mkdirat(appsfd, t->name, 0755) < 0 && errno != EEXIST) {
                log_warning_errno(-errno, "Cannot create %s/" APPS_DIR "/%s: %m", a->dir, t->name);
                return;
        }
        fd = openat(appsfd, t->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                log_warning_errno(-errno, "Cannot open %s/" APPS_DIR "/%s: %m", a->dir, t->name);
                return;
        }
        /* What is no longer named goes first. */
        if (opendir_at(fd, &d) >= 0)
                while ((de = readdir(d)))
                        if (!streq(de->d_name, ".") && !streq(de->d_name, "..") &&
                            (!app_list_has(&want, de->d_name) || !is_entry(fd, de->d_name)))
                                (void) unlinkat(fd, de->d_name, 0);
        for (size_t i = 0; i < want.n; i++)
                if (symlinkat(SHUTTLE_INVOKE_PATH, fd, want.items[i]) < 0 && errno != EEXIST)
                        log_warning_errno(-errno, "Cannot create %s/" APPS_DIR "/%s/%s: %m", a->dir, t->name,
                                          want.items[i]);
}

/* Makes <a's apps>/<t> hold exactly the entries the policy names. */
static void sync_pair(Broker *b, Container *a, const Container *t, int appsfd) {
        _cleanup_(app_list_done) AppList want = {};

        if (pair_wanted(b, a, t, &want) >= 0)
                sync_pair_to(a, t, appsfd, &want);
}

/* Every entry of a: one directory per other running container that it may
 * invoke something in, nothing else. */
static void sync_container(Broker *b, Container *a) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_close_ int fd = -1;
        struct dirent *de;

        fd = open_apps_dir(a);
        if (fd < 0) {
                log_warning_errno(fd, "Cannot open %s/" APPS_DIR ": %m", a->dir);
                return;
        }
        /* Directories of containers that are gone (say, while the broker
         * was down). */
        if (opendir_at(fd, &d) >= 0)
                while ((de = readdir(d))) {
                        Container *t;
                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        t = container_find(b, de->d_name);
                        if (!t || t == a)
                                remove_target_dir(fd, de->d_name);
                }
        for (Container *t = b->containers; t; t = t->next)
                if (t != a && !t->dead)
                        sync_pair(b, a, t, fd);
}

void apps_sync(Broker *b) {
        for (Container *a = b->containers; a; a = a->next)
                if (!a->dead)
                        sync_container(b, a);
}

typedef struct AddedState {
        Container *c;
        int own; /* c's apps/ */
} AddedState;

/* What the new container may invoke in a. */
static void added_out(Broker *b, Container *a, void *userdata) {
        AddedState *s = userdata;
        _cleanup_(app_list_done) AppList want = {};

        if (pair_wanted(b, s->c, a, &want) >= 0 && want.n > 0)
                sync_pair_to(s->c, a, s->own, &want);
}

/* What a may invoke in the new container. */
static void added_in(Broker *b, Container *a, void *userdata) {
        AddedState *s = userdata;
        _cleanup_(app_list_done) AppList back = {};
        _cleanup_close_ int fd = -1;

        if (pair_wanted(b, a, s->c, &back) >= 0 && back.n > 0) {
                fd = open_apps_dir(a);
                if (fd >= 0)
                        sync_pair_to(a, s->c, fd, &back);
        }
}

/* A new container: its own entries, and the others' entries for it.
 * Between the syncs of everything (apps_sync(), at every policy change
 * and re-adoption) <a's apps>/<t> exists exactly when the policy names
 * entries for the pair: so only the pairs it names touch the file system
 * here, and registration costs no system call per other container. */
void apps_sync_added(Broker *b, Container *c) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_close_ int own = -1;
        struct dirent *de;

        /* Its own directory: new, or left by a broker that crashed (then
         * what is in it goes). */
        own = open_apps_dir(c);
        if (own < 0) {
                log_warning_errno(own, "Cannot open %s/" APPS_DIR ": %m", c->dir);
                return;
        }
        if (opendir_at(own, &d) >= 0)
                while ((de = readdir(d)))
                        if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                                remove_target_dir(own, de->d_name);
        container_for_each_partner(b, c, POLICY_KIND_INVOKE, true, added_out, &(AddedState){ .c = c, .own = own });
        container_for_each_partner(b, c, POLICY_KIND_INVOKE, false, added_in, &(AddedState){ .c = c, .own = own });
}

/* A container that is going: the others' entries for it.  (Its own go with
 * its directory: apps_remove_dir().) */
static void removed_in(Broker *b, Container *a, void *userdata) {
        Container *c = userdata;
        _cleanup_(app_list_done) AppList want = {};
        _cleanup_close_ int fd = -1;
        char path[PATH_MAX + 16];

        /* Only a pair the policy names has a directory (see
         * apps_sync_added()); if it cannot say, look. */
        if (pair_wanted(b, a, c, &want) >= 0 && want.n == 0)
                return;
        snprintf(path, sizeof(path), "%s/" APPS_DIR, a->dir);
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
                remove_target_dir(fd, c->name);
}

void apps_sync_removed(Broker *b, Container *c) {
        container_for_each_partner(b, c, POLICY_KIND_INVOKE, false, removed_in, c);
}

void apps_remove_dir(const char *dir) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_close_ int fd = -1;
        char path[PATH_MAX + 16];
        struct dirent *de;

        snprintf(path, sizeof(path), "%s/" APPS_DIR, dir);
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return;
        if (opendir_at(fd, &d) >= 0)
                while ((de = readdir(d)))
                        if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                                remove_target_dir(fd, de->d_name);
        (void) rmdir(path);
}

/* ---- bare names in INVOKE ----------------------------------------------- */

typedef struct ResolveState {
        const char *name;
        AppList allowed; /* paths of rules no deny rule overrides entirely */
        AppList denied;  /* paths every invocation of which is refused */
} ResolveState;

static void add_resolved(const PolicyInvokeApp *a, void *userdata) {
        ResolveState *s = userdata;

        if (streq(a->name, s->name))
                app_list_add(a->denied ? &s->denied : &s->allowed, a->path);
}

int apps_resolve(Broker *b, const Container *caller, const char *to, const char *name, char **ret,
                 char *why, size_t why_size) {
        ResolveState s = { .name = name };
        AppList *l;
        int r;

        r = policy_for_each_invoke_app(broker_policy_for(b, caller), caller->qname, to, time(NULL),
                                       add_resolved, &s);
        if (r >= 0)
                r = s.allowed.error ?: s.denied.error;
        if (r < 0)
                goto finish;
        /* An app some invocation of which may be allowed wins over one no
         * invocation of which is: that one would be refused, but named in
         * the audit log with the rule that refuses it. */
        l = s.allowed.n > 0 ? &s.allowed : &s.denied;
        if (l->n == 0) {
                *ret = NULL;
                r = 0;
        } else if (l->n == 1) {
                *ret = TAKE_PTR(l->items[0]);
                r = 0;
        } else {
                size_t len = (size_t) snprintf(why, why_size, "app name '%.64s' is ambiguous: the policy names",
                                               name);
                for (size_t i = 0; i < l->n && len < why_size; i++)
                        len += (size_t) snprintf(why + len, why_size - len, "%s%s", i ? ", " : " ", l->items[i]);
                if (len >= why_size && why_size > 4)
                        memcpy(why + why_size - 4, "...", 4);
                r = -ENOENT;
        }
finish:
        app_list_done(&s.allowed);
        app_list_done(&s.denied);
        return r;
}
