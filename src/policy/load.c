/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Loading: files and directories, includes, the top-level keys, and the
 * typed-value helpers used by rules.c.  Every problem becomes a diagnostic
 * and reading goes on; a policy with any error is never returned. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/load.h"

static void load_diag(LoadContext *c, bool warning, const FileState *fs, const YNode *at, const char *fmt,
                      va_list ap) _printf_(5, 0);
static void load_diag(LoadContext *c, bool warning, const FileState *fs, const YNode *at, const char *fmt,
                      va_list ap) {
        if (diags_addv(&c->diags, warning, fs->name, at ? at->line : 1, at ? at->column : 1, fmt, ap) < 0)
                c->oom = -ENOMEM;
}

void load_error(LoadContext *c, const FileState *fs, const YNode *at, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        load_diag(c, false, fs, at, fmt, ap);
        va_end(ap);
}

void load_warning(LoadContext *c, const FileState *fs, const YNode *at, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        load_diag(c, true, fs, at, fmt, ap);
        va_end(ap);
}

int want_string(LoadContext *c, const FileState *fs, const char *key, const YNode *v, const char **ret) {
        if (v->bad)
                return -EINVAL;
        if (v->type != YNODE_SCALAR || ynode_is_null(v) || ynode_is_bool(v)) {
                load_error(c, fs, v, "'%s' must be a string, not %s%s", key, ynode_type_name(v),
                           ynode_is_bool(v) ? " (quote it if you mean the word)" : "");
                return -EINVAL;
        }
        *ret = v->value;
        return 0;
}

int want_list(LoadContext *c, const FileState *fs, const char *key, const YNode *v, bool scalar_ok,
              YNode *const **ret_items, size_t *ret_n) {
        if (v->bad)
                return -EINVAL;
        if (v->type == YNODE_SEQUENCE) {
                *ret_items = v->items;
                *ret_n = v->n_items;
                return 0;
        }
        if (scalar_ok && v->type == YNODE_SCALAR && !ynode_is_null(v)) {
                /* A single value stands for a one-element list: the caller
                 * uses v itself. */
                *ret_items = NULL;
                *ret_n = 1;
                return 1;
        }
        load_error(c, fs, v, "'%s' must be a list%s, not %s", key, scalar_ok ? " or a string" : "",
                   ynode_type_name(v));
        return -EINVAL;
}

int want_uint(LoadContext *c, const FileState *fs, const char *key, const YNode *v, uint64_t *ret) {
        uint64_t n = 0;

        if (v->bad)
                return -EINVAL;
        if (v->type != YNODE_SCALAR || !v->plain || v->len == 0 || v->len > 19 ||
            strspn(v->value, "0123456789") != v->len) {
                load_error(c, fs, v, "'%s' must be a non-negative integer, not %s", key,
                           v->type == YNODE_SCALAR && !ynode_is_null(v) && !ynode_is_bool(v) ? "a string"
                                                                                          : ynode_type_name(v));
                return -EINVAL;
        }
        for (size_t i = 0; i < v->len; i++)
                n = n * 10 + (uint64_t) (v->value[i] - '0');
        *ret = n;
        return 0;
}

int want_mapping(LoadContext *c, const FileState *fs, const char *key, const YNode *v) {
        if (v->bad)
                return -EINVAL;
        if (v->type != YNODE_MAPPING) {
                load_error(c, fs, v, "'%s' must be a mapping, not %s", key, ynode_type_name(v));
                return -EINVAL;
        }
        return 0;
}

int lookup_key(LoadContext *c, const FileState *fs, const YNode *key, const void *table, size_t stride,
               size_t n, KeySeen *seen, const char *where) {
        if (key->bad)
                return -1;
        if (key->type != YNODE_SCALAR) {
                load_error(c, fs, key, "keys must be plain strings, not %s", ynode_type_name(key));
                return -1;
        }
        for (size_t i = 0; i < n && i < ELEMENTSOF(seen->key); i++) {
                const char *name = *(const char *const *) ((const char *) table + i * stride);
                if (!streq(name, key->value))
                        continue;
                if (seen->key[i]) {
                        load_error(c, fs, key, "duplicate key '%s' (first at line %u column %u)", name,
                                   seen->key[i]->line, seen->key[i]->column);
                        return -1;
                }
                seen->key[i] = key;
                return (int) i;
        }
        load_error(c, fs, key, "unknown key '%s' %s", key->value, where);
        return -1;
}

/* ---- Files ---------------------------------------------------------------*/

static int load_path(LoadContext *c, const char *path, const FileState *site_fs, const YNode *site);

static int load_tree(LoadContext *c, FileState *fs, const YNode *root);

static bool file_id_eq(const FileId *a, const FileId *b) {
        return a->dev == b->dev && a->ino == b->ino;
}

static void site_error(LoadContext *c, const char *path, const FileState *site_fs, const YNode *site,
                       const char *fmt, ...) _printf_(5, 6);
static void site_error(LoadContext *c, const char *path, const FileState *site_fs, const YNode *site,
                       const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0) {
                c->oom = -ENOMEM;
                return;
        }
        /* Errors about an included file point at the 'include' line; about
         * a top-level file, at the file itself. */
        if (site_fs)
                load_error(c, site_fs, site, "%s: %s", path, msg);
        else if (diags_add(&c->diags, false, path, 0, 0, "%s", msg) < 0)
                c->oom = -ENOMEM;
}

static char *dirname_of(const char *path) {
        const char *slash = strrchr(path, '/');

        if (!slash)
                return strdup(".");
        if (slash == path)
                return strdup("/");
        return strndup(path, (size_t) (slash - path));
}

static int load_buffer(LoadContext *c, const char *name, const char *data, size_t size, const FileId *id) {
        FileState fs = { .name = name };
        YNode *root = NULL;
        int r;

        fs.dir = dirname_of(name);
        if (!fs.dir)
                return -ENOMEM;
        if (id)
                c->stack[c->depth++] = *id;
        r = ytree_parse(name, data, size, &c->diags, &root, &fs.truncated);
        if (r == -ENOMEM)
                c->oom = r;
        else if (!root && r >= 0)
                load_error(c, &fs, NULL, "empty policy file (expected at least 'version: 1')");
        else if (root)
                (void) load_tree(c, &fs, root);
        if (id)
                c->depth--;
        ytree_free(root);
        free(fs.dir);
        return c->oom;
}

static int name_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static bool is_policy_name(const char *n) {
        size_t l = strlen(n);

        if (n[0] == '.')
                return false;
        return (l > 5 && streq(n + l - 5, ".yaml")) || (l > 4 && streq(n + l - 4, ".yml"));
}

static int load_dir(LoadContext *c, const char *path, int fd, const FileState *site_fs, const YNode *site) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0;
        struct dirent *de;

        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                site_error(c, path, site_fs, site, "cannot read directory: %s", strerror(errno));
                return 0;
        }
        while ((de = readdir(d))) {
                char **nn;

                if (!is_policy_name(de->d_name))
                        continue;
                if (n >= POLICY_FILES_MAX) {
                        site_error(c, path, site_fs, site, "too many files in directory");
                        return 0;
                }
                nn = realloc(names, (n + 2) * sizeof(char *));
                if (!nn)
                        return (c->oom = -ENOMEM);
                names = nn;
                names[n] = strdup(de->d_name);
                names[n + 1] = NULL;
                if (!names[n])
                        return (c->oom = -ENOMEM);
                n++;
        }
        if (n == 0) {
                if (site_fs)
                        load_warning(c, site_fs, site, "%s: directory has no *.yaml or *.yml files", path);
                else if (diags_add(&c->diags, true, path, 0, 0, "directory has no *.yaml or *.yml files") < 0)
                        c->oom = -ENOMEM;
                return 0;
        }
        qsort(names, n, sizeof(char *), name_cmp);
        for (size_t i = 0; i < n && !c->oom; i++) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", names[i]) < 0)
                        return (c->oom = -ENOMEM);
                (void) load_path(c, p, site_fs, site);
        }
        return c->oom;
}

static int load_path(LoadContext *c, const char *path, const FileState *site_fs, const YNode *site) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *data = NULL;
        struct stat st;
        FileId id;
        size_t size = 0;

        /* O_NONBLOCK: a FIFO must not hang the loader; it is refused below. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 || fstat(fd, &st) < 0) {
                site_error(c, path, site_fs, site, "cannot open: %s", strerror(errno));
                return 0;
        }
        id = (FileId) { st.st_dev, st.st_ino };
        for (unsigned i = 0; i < c->depth; i++)
                if (file_id_eq(&c->stack[i], &id)) {
                        site_error(c, path, site_fs, site, "include cycle: this file is already being read");
                        return 0;
                }
        if (c->depth >= POLICY_INCLUDE_DEPTH_MAX) {
                site_error(c, path, site_fs, site, "includes nested deeper than %u levels",
                           POLICY_INCLUDE_DEPTH_MAX);
                return 0;
        }
        if (S_ISDIR(st.st_mode)) {
                int r;
                c->stack[c->depth++] = id;
                r = load_dir(c, path, TAKE_FD(fd), site_fs, site);
                c->depth--;
                return r;
        }
        if (!S_ISREG(st.st_mode)) {
                site_error(c, path, site_fs, site, "not a regular file");
                return 0;
        }
        for (size_t i = 0; i < c->n_loaded; i++)
                if (file_id_eq(&c->loaded[i], &id)) {
                        if (site_fs)
                                load_warning(c, site_fs, site, "%s: already loaded, skipped", path);
                        return 0;
                }
        /* Bounds on the whole load, not only on each file: includes and
         * directories must not multiply the work past them.  Reported once;
         * the rest is not read. */
        if (c->over_limit)
                return 0;
        if (c->n_loaded >= POLICY_FILES_MAX) {
                c->over_limit = true;
                site_error(c, path, site_fs, site, "too many policy files (at most %u in a policy)",
                           POLICY_FILES_MAX);
                return 0;
        }
        if (st.st_size > (off_t) POLICY_FILE_SIZE_MAX) {
                if (diags_add(&c->diags, false, path, 1, 1, "file too large (%lld bytes, at most %u)",
                              (long long) st.st_size, POLICY_FILE_SIZE_MAX) < 0)
                        c->oom = -ENOMEM;
                return c->oom;
        }
        data = malloc(POLICY_FILE_SIZE_MAX + 1);
        if (!data)
                return (c->oom = -ENOMEM);
        for (;;) {
                ssize_t n = read(fd, data + size, POLICY_FILE_SIZE_MAX + 1 - size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        site_error(c, path, site_fs, site, "cannot read: %s", strerror(errno));
                        return 0;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > POLICY_FILE_SIZE_MAX) {
                        /* Grew while we read it. */
                        if (diags_add(&c->diags, false, path, 1, 1, "file too large (more than %u bytes)",
                                      POLICY_FILE_SIZE_MAX) < 0)
                                c->oom = -ENOMEM;
                        return c->oom;
                }
        }
        c->total_size += size;
        if (c->total_size > POLICY_TOTAL_SIZE_MAX) {
                c->over_limit = true;
                site_error(c, path, site_fs, site, "policy too large (its files add up to more than %u bytes)",
                           POLICY_TOTAL_SIZE_MAX);
                return 0;
        }
        FileId *nl = realloc(c->loaded, (c->n_loaded + 1) * sizeof(FileId));
        if (!nl)
                return (c->oom = -ENOMEM);
        c->loaded = nl;
        c->loaded[c->n_loaded++] = id;
        return load_buffer(c, path, data, size, &id);
}

/* ---- Top level -----------------------------------------------------------*/

/* 'default' and 'audit' may appear in several files of one policy (each
 * file can stand alone) as long as they agree. */
static int set_once(LoadContext *c, const FileState *fs, const YNode *key, const YNode *v, char **where,
                    bool same) {
        if (*where) {
                if (same)
                        return 0;
                load_error(c, fs, v, "'%s: %s' conflicts with the value set at %s", key->value, v->value, *where);
                return -EINVAL;
        }
        if (asprintf(where, "%s:%u:%u", fs->name, key->line, key->column) < 0) {
                *where = NULL;
                return (c->oom = -ENOMEM);
        }
        return 0;
}

static int top_version(LoadContext *c, FileState *fs, const YNode *key, const YNode *v) {
        uint64_t n;

        fs->have_version = true;
        if (want_uint(c, fs, "version", v, &n) < 0)
                return -EINVAL;
        if (n != 1) {
                load_error(c, fs, v, "unsupported policy version %s (this build understands version 1)", v->value);
                return -EINVAL;
        }
        return 0;
}

static int top_default(LoadContext *c, FileState *fs, const YNode *key, const YNode *v) {
        const char *s;

        if (want_string(c, fs, "default", v, &s) < 0)
                return -EINVAL;
        if (!streq(s, "deny") && !streq(s, "allow")) {
                load_error(c, fs, v, "'default' must be deny or allow, not '%s'", s);
                return -EINVAL;
        }
        PolicyVerdict verdict = streq(s, "allow") ? POLICY_ALLOW : POLICY_DENY;
        if (set_once(c, fs, key, v, &c->default_at, verdict == c->policy->default_verdict) < 0)
                return -EINVAL;
        c->policy->default_verdict = verdict;
        if (verdict == POLICY_ALLOW)
                load_warning(c, fs, v, "'default: allow' lets through every interaction no rule denies");
        return 0;
}

static int top_audit(LoadContext *c, FileState *fs, const YNode *key, const YNode *v) {
        const char *s;
        PolicyAudit a;

        if (want_string(c, fs, "audit", v, &s) < 0)
                return -EINVAL;
        a = policy_audit_from_string(s);
        if (a < 0) {
                load_error(c, fs, v, "'audit' must be all, deny or none, not '%s'", s);
                return -EINVAL;
        }
        if (set_once(c, fs, key, v, &c->audit_at, a == c->policy->audit) < 0)
                return -EINVAL;
        c->policy->audit = a;
        return 0;
}

static int include_one(LoadContext *c, FileState *fs, const YNode *v) {
        _cleanup_free_ char *p = NULL;
        const char *s;

        if (want_string(c, fs, "include", v, &s) < 0)
                return -EINVAL;
        if (c->flags & POLICY_LOAD_NO_INCLUDE) {
                load_error(c, fs, v, "'include' is not allowed here");
                return -EINVAL;
        }
        if (s[0] == '/')
                p = strdup(s);
        else if (asprintf(&p, "%s/%s", fs->dir, s) < 0)
                p = NULL;
        if (!p)
                return (c->oom = -ENOMEM);
        return load_path(c, p, fs, v);
}

static int top_include(LoadContext *c, FileState *fs, const YNode *key, const YNode *v) {
        YNode *const *items;
        size_t n;
        int r;

        r = want_list(c, fs, "include", v, true, &items, &n);
        if (r < 0)
                return r;
        if (r > 0)
                return include_one(c, fs, v);
        for (size_t i = 0; i < n && !c->oom; i++)
                (void) include_one(c, fs, items[i]);
        return c->oom;
}

static int top_rules(LoadContext *c, FileState *fs, const YNode *key, const YNode *v) {
        if (v->bad)
                return -EINVAL;
        if (ynode_is_null(v))
                return 0;  /* "rules:" with nothing under it: no rules */
        if (v->type != YNODE_SEQUENCE) {
                load_error(c, fs, v, "'rules' must be a list of rules, not %s", ynode_type_name(v));
                return -EINVAL;
        }
        for (size_t i = 0; i < v->n_items && !c->oom; i++) {
                if (c->n_rules >= POLICY_RULES_MAX) {
                        if (!c->over_limit)
                                load_error(c, fs, v->items[i], "too many rules (at most %u in a policy)",
                                           POLICY_RULES_MAX);
                        c->over_limit = true;
                        break;
                }
                c->n_rules++;
                (void) parse_rule(c, fs, v->items[i]);
        }
        return c->oom;
}

static int top_tests(LoadContext *c, FileState *fs, const YNode *key, const YNode *v) {
        return parse_tests(c, fs, v);
}

static const struct TopKey {
        const char *name;
        int (*handler)(LoadContext *c, FileState *fs, const YNode *key, const YNode *value);
} top_keys[] = {
        { "version", top_version },
        { "default", top_default },
        { "audit", top_audit },
        { "include", top_include },
        { "rules", top_rules },
        { "tests", top_tests },
};

static int load_tree(LoadContext *c, FileState *fs, const YNode *root) {
        KeySeen seen = {};

        if (root->bad)
                return 0;
        if (root->type != YNODE_MAPPING) {
                load_error(c, fs, root, "a policy must be a mapping (version, default, audit, include, rules, "
                                        "tests), "
                                        "not %s", ynode_type_name(root));
                return 0;
        }
        for (size_t i = 0; i + 1 < root->n_items && !c->oom; i += 2) {
                int k = lookup_key(c, fs, root->items[i], top_keys, sizeof(top_keys[0]), ELEMENTSOF(top_keys),
                                   &seen, "at the top level (expected version, default, audit, include, rules "
                                   "or tests)");
                if (k >= 0)
                        (void) top_keys[k].handler(c, fs, root->items[i], root->items[i + 1]);
        }
        if (!fs->have_version && !fs->truncated)
                load_error(c, fs, root, "missing 'version: 1'");
        return c->oom;
}

/* ---- Entry points --------------------------------------------------------*/

static void context_done(LoadContext *c) {
        policy_unref(c->policy);
        policy_diagnostics_clear(&c->diags);
        free(c->loaded);
        free(c->ids);
        free(c->default_at);
        free(c->audit_at);
}

/* Compiles what was read if there was no error; hands the diagnostics over
 * either way. */
static int load_finish(LoadContext *c, Policy **ret, PolicyDiagnostics *diags) {
        int r;

        if (c->oom)
                r = c->oom;
        else if (c->diags.n_errors > 0)
                r = -EINVAL;
        else
                r = policy_compile(c->policy);
        /* Tests run on the compiled policy; a failing one is an error like
         * any other, so the policy is not handed out. */
        if (r >= 0 && !(c->flags & POLICY_LOAD_NO_TESTS)) {
                r = run_tests(c->policy, &c->diags);
                if (r >= 0 && c->diags.n_errors > 0)
                        r = -EINVAL;
        }
        if (r >= 0)
                *ret = TAKE_PTR(c->policy);
        diags_move(diags, &c->diags);
        context_done(c);
        return r;
}

int policy_load_internal(const char *const *paths, size_t n_paths, const char *name, const void *data,
                         size_t size, PolicyLoadFlags flags, Policy **ret, PolicyDiagnostics *diags) {
        LoadContext c = { .flags = flags, .now = time(NULL) };

        c.policy = policy_new();
        if (!c.policy)
                return -ENOMEM;

        if (data) {
                if (size > POLICY_FILE_SIZE_MAX) {
                        if (diags_add(&c.diags, false, name, 1, 1, "file too large (%zu bytes, at most %u)", size,
                                      POLICY_FILE_SIZE_MAX) < 0)
                                c.oom = -ENOMEM;
                } else
                        (void) load_buffer(&c, name, data, size, NULL);
        } else {
                if (n_paths == 0 && diags_add(&c.diags, false, "<policy>", 0, 0, "no policy files given") < 0)
                        c.oom = -ENOMEM;
                for (size_t i = 0; i < n_paths && !c.oom; i++)
                        (void) load_path(&c, paths[i], NULL, NULL);
        }

        return load_finish(&c, ret, diags);
}

int policy_load_flags(const char *const *paths, size_t n_paths, PolicyLoadFlags flags, Policy **ret,
                      PolicyDiagnostics *diags) {
        if (!ret || (n_paths > 0 && !paths))
                return -EINVAL;
        return policy_load_internal(paths, n_paths, NULL, NULL, 0, flags, ret, diags);
}

int policy_load(const char *const *paths, size_t n_paths, Policy **ret, PolicyDiagnostics *diags) {
        return policy_load_flags(paths, n_paths, 0, ret, diags);
}

int policy_load_buffer(const char *name, const void *data, size_t size, PolicyLoadFlags flags, Policy **ret,
                       PolicyDiagnostics *diags) {
        if (!ret || (!data && size > 0))
                return -EINVAL;
        return policy_load_internal(NULL, 0, name ?: "<buffer>", data ?: "", size, flags, ret, diags);
}

int policy_load_node(const char *file, const YNode *root, bool truncated, Policy **ret,
                     PolicyDiagnostics *diags) {
        LoadContext c = { .now = time(NULL) };
        FileState fs = { .name = file, .truncated = truncated };

        if (!file || !root || !ret)
                return -EINVAL;
        fs.dir = dirname_of(file);
        c.policy = policy_new();
        if (!fs.dir || !c.policy) {
                free(fs.dir);
                policy_unref(c.policy);
                return -ENOMEM;
        }
        (void) load_tree(&c, &fs, root);
        free(fs.dir);
        return load_finish(&c, ret, diags);
}
