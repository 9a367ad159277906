/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* App group files: reading the file, the top-level keys (group, policy,
 * containers), the typed-value helpers used by group-container.c, freeing
 * and printing.  Every problem becomes a diagnostic and reading goes on; a
 * group with any error is never returned. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/parse.h"
#include "runtime/group-internal.h"

/* ---- Diagnostics and typed values ----------------------------------------*/

static void group_diag(GroupContext *c, bool warning, const YNode *at, const char *fmt, va_list ap)
        _printf_(4, 0);
static void group_diag(GroupContext *c, bool warning, const YNode *at, const char *fmt, va_list ap) {
        if (diags_addv(&c->diags, warning, c->file, at ? at->line : 1, at ? at->column : 1, fmt, ap) < 0)
                c->oom = -ENOMEM;
}

void group_error(GroupContext *c, const YNode *at, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        group_diag(c, false, at, fmt, ap);
        va_end(ap);
}

void group_warning(GroupContext *c, const YNode *at, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        group_diag(c, true, at, fmt, ap);
        va_end(ap);
}

int group_want_string(GroupContext *c, const char *key, const YNode *v, const char **ret) {
        if (v->bad)
                return -EINVAL;
        if (v->type != YNODE_SCALAR || ynode_is_null(v) || ynode_is_bool(v)) {
                group_error(c, v, "'%s' must be a string, not %s%s", key, ynode_type_name(v),
                            ynode_is_bool(v) ? " (quote it if you mean the word)" : "");
                return -EINVAL;
        }
        *ret = v->value;
        return 0;
}

int group_want_bool(GroupContext *c, const char *key, const YNode *v, bool *ret) {
        if (v->bad)
                return -EINVAL;
        if (v->type == YNODE_SCALAR && v->plain && (streq(v->value, "true") || streq(v->value, "false"))) {
                *ret = streq(v->value, "true");
                return 0;
        }
        if (v->type == YNODE_SCALAR && !ynode_is_null(v))
                group_error(c, v, "'%s' must be true or false, not %s'%s'", key, v->plain ? "" : "the quoted string ",
                            v->value);
        else
                group_error(c, v, "'%s' must be true or false, not %s", key, ynode_type_name(v));
        return -EINVAL;
}

int group_want_learn(GroupContext *c, const YNode *v, bool *ret) {
        int r = group_want_bool(c, "learn", v, ret);

        if (r < 0)
                return r;
        c->group->learn_keys = true;
        if (*ret && !c->group->learn_line) {
                c->group->learn_line = v->line;
                c->group->learn_column = v->column;
        }
        return 0;
}

int group_want_mapping(GroupContext *c, const char *key, const YNode *v) {
        if (v->bad)
                return -EINVAL;
        if (v->type != YNODE_MAPPING) {
                group_error(c, v, "'%s' must be a mapping, not %s", key, ynode_type_name(v));
                return -EINVAL;
        }
        if (v->n_items / 2 > GROUP_ITEMS_MAX) {
                group_error(c, v, "'%s' has too many entries (at most %u)", key, GROUP_ITEMS_MAX);
                return -EINVAL;
        }
        return 0;
}

int group_want_list(GroupContext *c, const char *key, const YNode *v) {
        if (v->bad)
                return -EINVAL;
        if (v->type != YNODE_SEQUENCE) {
                group_error(c, v, "'%s' must be a list, not %s", key, ynode_type_name(v));
                return -EINVAL;
        }
        if (v->n_items > GROUP_ITEMS_MAX) {
                group_error(c, v, "'%s' has too many items (at most %u)", key, GROUP_ITEMS_MAX);
                return -EINVAL;
        }
        return 0;
}

int group_want_uint(GroupContext *c, const char *key, const YNode *v, uint64_t max, uint64_t *ret) {
        uint64_t n;

        if (v->bad)
                return -EINVAL;
        if (v->type != YNODE_SCALAR || !v->plain || parse_uint64(v->value, &n) < 0 || n > max) {
                if (v->type == YNODE_SCALAR && !ynode_is_null(v) && !ynode_is_bool(v))
                        group_error(c, v, "'%s' must be an integer from 0 to %" PRIu64 ", not '%s'", key, max,
                                    v->value);
                else
                        group_error(c, v, "'%s' must be an integer from 0 to %" PRIu64 ", not %s", key, max,
                                    ynode_type_name(v));
                return -EINVAL;
        }
        *ret = n;
        return 0;
}

int group_want_port(GroupContext *c, const char *key, const YNode *v, uint16_t *ret) {
        uint64_t n;

        if (v->bad)
                return -EINVAL;
        if (v->type != YNODE_SCALAR || !v->plain || parse_uint64(v->value, &n) < 0 || n == 0 || n > 65535) {
                if (v->type == YNODE_SCALAR && !ynode_is_null(v) && !ynode_is_bool(v))
                        group_error(c, v, "'%s' must be a port from 1 to 65535, not '%s'", key, v->value);
                else
                        group_error(c, v, "'%s' must be a port from 1 to 65535, not %s", key,
                                    ynode_type_name(v));
                return -EINVAL;
        }
        *ret = (uint16_t) n;
        return 0;
}

int group_want_duration(GroupContext *c, const char *key, const YNode *v, uint64_t min, uint64_t max,
                        uint64_t *ret) {
        const char *s;
        uint64_t usec;

        if (group_want_string(c, key, v, &s) < 0)
                return -EINVAL;
        if (parse_duration(s, &usec) < 0) {
                group_error(c, v, "'%s': invalid duration '%s' (expected e.g. 500ms, 5s or 2m)", key, s);
                return -EINVAL;
        }
        if (usec < min || usec > max) {
                group_error(c, v, "'%s': '%s' is out of range (%" PRIu64 "ms to %" PRIu64 "s)", key, s,
                            min / 1000, max / 1000000);
                return -EINVAL;
        }
        *ret = usec;
        return 0;
}

int group_want_clean_path(GroupContext *c, const char *key, const YNode *v, char **ret) {
        const char *s;

        if (group_want_string(c, key, v, &s) < 0)
                return -EINVAL;
        if (!path_is_clean_absolute(s)) {
                group_error(c, v, "'%s': '%s': expected an absolute path without '.' or '..'", key, s);
                return -EINVAL;
        }
        *ret = strdup(s);
        return *ret ? 0 : (c->oom = -ENOMEM);
}

int group_want_command(GroupContext *c, const char *key, const YNode *v, char ***ret) {
        _cleanup_strv_free_ char **argv = NULL;
        bool ok = true;

        if (v->bad)
                return -EINVAL;
        if (v->type == YNODE_SCALAR && !ynode_is_null(v) && !ynode_is_bool(v)) {
                /* One string: a shell command line. */
                if (v->len == 0) {
                        group_error(c, v, "'%s' is empty", key);
                        return -EINVAL;
                }
                argv = calloc(4, sizeof(char *));
                if (!argv || !(argv[0] = strdup("/bin/sh")) || !(argv[1] = strdup("-c")) ||
                    !(argv[2] = strdup(v->value)))
                        return (c->oom = -ENOMEM);
                *ret = TAKE_PTR(argv);
                return 0;
        }
        if (v->type != YNODE_SEQUENCE) {
                group_error(c, v, "'%s' must be a list of strings or a string, not %s", key, ynode_type_name(v));
                return -EINVAL;
        }
        if (group_want_list(c, key, v) < 0)
                return -EINVAL;
        if (v->n_items == 0) {
                group_error(c, v, "'%s' is empty (it needs at least the program to run)", key);
                return -EINVAL;
        }
        argv = calloc(v->n_items + 1, sizeof(char *));
        if (!argv)
                return (c->oom = -ENOMEM);
        for (size_t i = 0, n = 0; i < v->n_items; i++) {
                const char *s;

                if (group_want_string(c, key, v->items[i], &s) < 0) {
                        ok = false;
                        continue;
                }
                if (i == 0 && *s == 0) {
                        group_error(c, v->items[i], "'%s': the program name is empty", key);
                        ok = false;
                        continue;
                }
                if (!(argv[n++] = strdup(s)))
                        return (c->oom = -ENOMEM);
        }
        if (!ok)
                return -EINVAL;
        *ret = TAKE_PTR(argv);
        return 0;
}

int group_lookup_key(GroupContext *c, const YNode *key, const void *table, size_t stride, size_t n,
                     GroupKeySeen *seen, const char *where) {
        if (key->bad)
                return -1;
        if (key->type != YNODE_SCALAR) {
                group_error(c, key, "keys must be plain strings, not %s", ynode_type_name(key));
                return -1;
        }
        for (size_t i = 0; i < n && i < ELEMENTSOF(seen->key); i++) {
                const char *name = *(const char *const *) ((const char *) table + i * stride);
                if (!streq(name, key->value))
                        continue;
                if (seen->key[i]) {
                        group_error(c, key, "duplicate key '%s' (first at line %u column %u)", name,
                                    seen->key[i]->line, seen->key[i]->column);
                        return -1;
                }
                seen->key[i] = key;
                return (int) i;
        }
        group_error(c, key, "unknown key '%s' %s", key->value, where);
        return -1;
}

/* ---- Paths ---------------------------------------------------------------*/

/* Joins base (absolute) and rel, resolving "." and ".." lexically and
 * collapsing slashes; ".." never climbs above "/". */
static char *path_join_clean(const char *base, const char *rel) {
        size_t size = strlen(base) + strlen(rel) + 3, n = 0;
        char *out = malloc(size);

        if (!out)
                return NULL;
        for (int part = 0; part < 2; part++) {
                const char *s = part == 0 ? base : rel;
                while (*s) {
                        const char *e;
                        size_t len;

                        while (*s == '/')
                                s++;
                        e = strchrnul(s, '/');
                        len = (size_t) (e - s);
                        if (len == 0 || (len == 1 && s[0] == '.')) {
                                /* nothing */
                        } else if (len == 2 && s[0] == '.' && s[1] == '.') {
                                while (n > 0 && out[n - 1] != '/')
                                        n--;
                                if (n > 0)
                                        n--;  /* the '/' before the dropped component */
                        } else {
                                out[n++] = '/';
                                memcpy(out + n, s, len);
                                n += len;
                        }
                        s = e;
                }
        }
        if (n == 0)
                out[n++] = '/';
        out[n] = 0;
        return out;
}

int group_resolve_path(GroupContext *c, const char *p, char **ret) {
        char *s = p[0] == '/' ? strdup(p) : path_join_clean(c->abs_dir, p);

        if (!s)
                return (c->oom = -ENOMEM);
        *ret = s;
        return 0;
}

/* ---- Top level -----------------------------------------------------------*/

typedef struct TopState {
        const YNode *group, *containers;
} TopState;

static int top_group(GroupContext *c, TopState *t, const YNode *key, const YNode *v) {
        const char *s;

        t->group = v;
        if (group_want_string(c, "group", v, &s) < 0)
                return -EINVAL;
        if (!container_name_is_valid(s)) {
                group_error(c, v,
                            "'group': '%s' is not a valid name (1-63 characters of A-Z a-z 0-9 _ . -, "
                            "starting with a letter or digit)",
                            s);
                return -EINVAL;
        }
        c->group->name = strdup(s);
        return c->group->name ? 0 : (c->oom = -ENOMEM);
}

static int policy_from_path(GroupContext *c, const YNode *v, const char *s) {
        _cleanup_free_ char *shown = NULL, *abs = NULL;
        const char *paths[1];
        struct stat st;
        int r;

        if (*s == 0) {
                group_error(c, v, "'policy' is empty (leave it out to use shuttled's policy)");
                return -EINVAL;
        }
        /* Shown (and opened) relative to where the group file was named, so
         * the policy's own errors read like the group file's. */
        if (s[0] == '/' || streq(c->dir, "."))
                shown = strdup(s);
        else if (asprintf(&shown, "%s/%s", c->dir, s) < 0)
                shown = NULL;
        if (!shown || group_resolve_path(c, s, &abs) < 0)
                return (c->oom = -ENOMEM);
        /* Checked here so that a missing file is reported at the 'policy'
         * line of the group file; its contents report their own errors. */
        if (stat(shown, &st) < 0) {
                group_error(c, v, "cannot open policy '%s': %s", shown, strerror(errno));
                return -EINVAL;
        }
        paths[0] = shown;
        r = policy_load(paths, 1, &c->group->policy, &c->diags);
        if (r == -ENOMEM)
                return (c->oom = r);
        if (r < 0)
                return r;
        c->group->policy_file = TAKE_PTR(abs);
        return 0;
}

static int top_policy(GroupContext *c, TopState *t, const YNode *key, const YNode *v) {
        int r;

        if (v->bad)
                return -EINVAL;
        if (v->type == YNODE_MAPPING) {
                /* A whole policy document inline: the policy library reads
                 * the subtree, so its errors keep our line:col. */
                r = policy_load_node(c->file, v, c->truncated, &c->group->policy, &c->diags);
                if (r == -ENOMEM)
                        return (c->oom = r);
                return r;
        }
        if (v->type != YNODE_SCALAR || ynode_is_null(v) || ynode_is_bool(v)) {
                group_error(c, v, "'policy' must be a file name or an inline policy (a mapping with version, "
                                  "default, audit, rules), not %s",
                            ynode_type_name(v));
                return -EINVAL;
        }
        return policy_from_path(c, v, v->value);
}

static int top_containers(GroupContext *c, TopState *t, const YNode *key, const YNode *v) {
        Group *g = c->group;
        size_t n;

        t->containers = v;
        if (v->bad)
                return -EINVAL;
        if (v->type != YNODE_MAPPING) {
                group_error(c, v, "'containers' must be a mapping of container names to containers, not %s",
                            ynode_type_name(v));
                return -EINVAL;
        }
        n = v->n_items / 2;
        if (n == 0) {
                group_error(c, v, "'containers' is empty (a group needs at least one container)");
                return -EINVAL;
        }
        if (n > GROUP_CONTAINERS_MAX) {
                group_error(c, v, "too many containers (%zu, at most %u)", n, GROUP_CONTAINERS_MAX);
                return -EINVAL;
        }
        g->containers = calloc(n, sizeof(GroupContainer));
        c->dep_nodes = calloc(n, sizeof(const YNode **));
        c->n_dep_nodes = n;
        if (!g->containers || !c->dep_nodes)
                return (c->oom = -ENOMEM);

        for (size_t i = 0; i + 1 < v->n_items && !c->oom; i += 2) {
                const YNode *name = v->items[i], *body = v->items[i + 1];
                GroupContainer scratch = {}, *gc;
                ssize_t other;

                if (name->bad)
                        continue;
                if (name->type != YNODE_SCALAR || ynode_is_null(name) || ynode_is_bool(name)) {
                        group_error(c, name, "container names must be strings, not %s%s", ynode_type_name(name),
                                    ynode_is_bool(name) ? " (quote it if you mean the word)" : "");
                        continue;
                }
                if (!container_name_is_valid(name->value))
                        group_error(c, name,
                                    "'%s' is not a valid container name (1-63 characters of A-Z a-z 0-9 "
                                    "_ . -, starting with a letter or digit)",
                                    name->value);
                other = group_find_container(g, name->value);
                if (other >= 0) {
                        group_error(c, name, "duplicate container '%s' (first at line %u column %u)",
                                    name->value, g->containers[other].line, g->containers[other].column);
                        /* Its body is still checked, into a scratch copy. */
                        gc = &scratch;
                } else
                        gc = &g->containers[g->n_containers];

                container_config_init(&gc->config);
                gc->line = name->line;
                gc->column = name->column;
                gc->restart_backoff_usec = GROUP_RESTART_BACKOFF_DEFAULT_USEC;
                gc->ready.timeout_usec = GROUP_READY_TIMEOUT_DEFAULT_USEC;
                if (!(gc->name = strdup(name->value)) || !(gc->config.name = strdup(name->value))) {
                        group_container_done(gc);
                        return (c->oom = -ENOMEM);
                }
                if (gc == &scratch) {
                        (void) group_parse_container(c, SIZE_MAX, gc, name, body);
                        group_container_done(gc);
                        continue;
                }
                (void) group_parse_container(c, g->n_containers, gc, name, body);
                g->n_containers++;
        }
        return c->oom;
}

/* 'learn: true': the group's containers (those without a 'learn' of their
 * own) in learn mode, which `shuttlectl run --learn` must name too. */
static int top_learn(GroupContext *c, TopState *t, const YNode *key, const YNode *v) {
        (void) t;
        (void) key;
        return group_want_learn(c, v, &c->group->learn);
}

static const struct TopKey {
        const char *name;
        int (*handler)(GroupContext *c, TopState *t, const YNode *key, const YNode *value);
} top_keys[] = {
        { "group", top_group },
        { "policy", top_policy },
        { "containers", top_containers },
        { "learn", top_learn },
};

static void load_tree(GroupContext *c, const YNode *root) {
        GroupKeySeen seen = {};
        TopState t = {};
        Group *g = c->group;

        if (root->bad)
                return;
        if (root->type != YNODE_MAPPING) {
                group_error(c, root, "a group file must be a mapping (group, policy, containers), not %s",
                            ynode_type_name(root));
                return;
        }
        for (size_t i = 0; i + 1 < root->n_items && !c->oom; i += 2) {
                int k = group_lookup_key(c, root->items[i], top_keys, sizeof(top_keys[0]), ELEMENTSOF(top_keys),
                                         &seen, "at the top level (expected group, policy, containers or learn)");
                if (k >= 0)
                        (void) top_keys[k].handler(c, &t, root->items[i], root->items[i + 1]);
        }
        if (c->oom || c->truncated)
                return;
        if (!t.group)
                group_error(c, root, "missing 'group' (the group's name)");
        if (!t.containers)
                group_error(c, root, "missing 'containers'");

        for (size_t i = 0; i < g->n_containers; i++)
                if (!g->containers[i].learn_set)
                        g->containers[i].config.learn = g->learn;
        for (size_t i = 0; i < g->n_containers && g->name; i++)
                if (!(g->containers[i].config.group = strdup(g->name))) {
                        c->oom = -ENOMEM;
                        return;
                }
        /* The policy warnings need a graph without cycles. */
        if (group_check_graph(c) >= 0)
                (void) group_check_policy(c);
}

/* ---- Entry points --------------------------------------------------------*/

static int read_group_file(GroupContext *c, const char *path, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *data = NULL;
        struct stat st;
        size_t size = 0;

        /* O_NONBLOCK: a FIFO must not hang the reader; it is refused below. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 || fstat(fd, &st) < 0) {
                if (diags_add(&c->diags, false, path, 0, 0, "cannot open: %s", strerror(errno)) < 0)
                        return -ENOMEM;
                return -EINVAL;
        }
        if (!S_ISREG(st.st_mode)) {
                if (diags_add(&c->diags, false, path, 0, 0, "not a regular file") < 0)
                        return -ENOMEM;
                return -EINVAL;
        }
        data = malloc(GROUP_FILE_SIZE_MAX + 1);
        if (!data)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, data + size, GROUP_FILE_SIZE_MAX + 1 - size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (diags_add(&c->diags, false, path, 0, 0, "cannot read: %s", strerror(errno)) < 0)
                                return -ENOMEM;
                        return -EINVAL;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > GROUP_FILE_SIZE_MAX) {
                        if (diags_add(&c->diags, false, path, 1, 1, "file too large (more than %u bytes)",
                                      GROUP_FILE_SIZE_MAX) < 0)
                                return -ENOMEM;
                        return -EINVAL;
                }
        }
        data[size] = 0;
        *ret = TAKE_PTR(data);
        *ret_size = size;
        return 0;
}

static int context_init(GroupContext *c, const char *path) {
        const char *slash = strrchr(path, '/');
        char buf[PATH_MAX];

        if (!slash)
                c->dir = strdup(".");
        else if (slash == path)
                c->dir = strdup("/");
        else
                c->dir = strndup(path, (size_t) (slash - path));
        if (!c->dir)
                return -ENOMEM;
        /* The file was just read, so its directory exists. */
        if (!realpath(c->dir, buf)) {
                if (errno == ENOMEM)
                        return -ENOMEM;
                if (diags_add(&c->diags, false, path, 0, 0, "cannot resolve its directory: %s",
                              strerror(errno)) < 0)
                        return -ENOMEM;
                return -EINVAL;
        }
        c->abs_dir = strdup(buf);
        if (!c->abs_dir)
                return -ENOMEM;
        c->group = calloc(1, sizeof(Group));
        if (!c->group || !(c->group->file = strdup(path)))
                return -ENOMEM;
        if (asprintf(&c->group->file_abs, "%s%s%s", c->abs_dir, streq(c->abs_dir, "/") ? "" : "/",
                     slash ? slash + 1 : path) < 0) {
                c->group->file_abs = NULL;
                return -ENOMEM;
        }
        return 0;
}

static void context_done(GroupContext *c) {
        if (c->dep_nodes)
                for (size_t i = 0; i < c->n_dep_nodes; i++)
                        free(c->dep_nodes[i]);
        free(c->dep_nodes);
        group_free(c->group);
        free(c->dir);
        free(c->abs_dir);
        policy_diagnostics_clear(&c->diags);
}

int group_load(const char *path, Group **ret, PolicyDiagnostics *diags) {
        GroupContext c = { .file = path };
        _cleanup_free_ char *data = NULL;
        YNode *root = NULL;
        size_t size = 0;
        int r;

        if (!path || !ret)
                return -EINVAL;
        r = read_group_file(&c, path, &data, &size);
        if (r >= 0)
                r = context_init(&c, path);
        if (r >= 0) {
                r = ytree_parse(path, data, size, &c.diags, &root, &c.truncated);
                if (r == -ENOMEM)
                        c.oom = r;
                else if (!root && r >= 0)
                        group_error(&c, NULL, "empty group file (expected group, policy and containers)");
                else if (root)
                        load_tree(&c, root);
                r = c.oom ?: c.diags.n_errors > 0 ? -EINVAL : 0;
        }
        ytree_free(root);
        if (r >= 0)
                *ret = TAKE_PTR(c.group);
        diags_move(diags, &c.diags);
        context_done(&c);
        return r;
}

void group_container_done(GroupContainer *gc) {
        if (!gc)
                return;
        free(gc->name);
        container_config_done(&gc->config);
        strv_free(gc->depends_on);
        free(gc->depends_on_index);
        free(gc->ready.socket);
        strv_free(gc->ready.command);
        *gc = (GroupContainer) {};
}

Group *group_free(Group *g) {
        if (!g)
                return NULL;
        for (size_t i = 0; i < g->n_containers; i++)
                group_container_done(&g->containers[i]);
        free(g->containers);
        free(g->start_order);
        policy_unref(g->policy);
        free(g->policy_file);
        free(g->name);
        free(g->file);
        free(g->file_abs);
        free(g);
        return NULL;
}

ssize_t group_find_container(const Group *g, const char *name) {
        for (size_t i = 0; i < g->n_containers; i++)
                if (streq(g->containers[i].name, name))
                        return (ssize_t) i;
        return -1;
}

const char *group_restart_to_string(GroupRestart r) {
        static const char *const names[] = {
                [GROUP_RESTART_NO] = "no",
                [GROUP_RESTART_ON_FAILURE] = "on-failure",
                [GROUP_RESTART_ALWAYS] = "always",
        };
        return (unsigned) r < ELEMENTSOF(names) ? names[r] : NULL;
}

const char *group_ready_kind_to_string(GroupReadyKind k) {
        static const char *const names[] = {
                [GROUP_READY_NONE] = "none",
                [GROUP_READY_SOCKET] = "socket",
                [GROUP_READY_TCP] = "tcp",
                [GROUP_READY_COMMAND] = "command",
        };
        return (unsigned) k < ELEMENTSOF(names) ? names[k] : NULL;
}

void group_print_summary(const Group *g, FILE *f) {
        fprintf(f, "group %s (%s): %zu container%s\n", g->name, g->file, g->n_containers,
                g->n_containers == 1 ? "" : "s");
        if (g->policy_file)
                fprintf(f, "policy: %s\n", g->policy_file);
        else
                fprintf(f, "policy: %s\n", g->policy ? "inline" : "none (shuttled's own)");
        for (size_t k = 0; k < g->n_containers; k++) {
                const GroupContainer *gc = &g->containers[g->start_order ? g->start_order[k] : k];

                fprintf(f, "%zu. %s", k + 1, gc->name);
                for (size_t i = 0; i < gc->n_depends_on; i++)
                        fprintf(f, "%s%s", i == 0 ? " after " : ", ", gc->depends_on[i]);
                fprintf(f, " [net %s, ready %s, restart %s]\n",
                        gc->config.net == NET_NONE ? "none" : gc->config.net == NET_BRIDGE ? "bridge" : "loopback",
                        group_ready_kind_to_string(gc->ready.kind), group_restart_to_string(gc->restart));
        }
}
