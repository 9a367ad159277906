/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttlectl audit --shadow-diff: the requests a candidate policy (loaded
 * in shadow, or rules marked 'shadow: true') decides otherwise than the
 * policy in force, from the records' shadow_decision, grouped by (from,
 * to, kind, object) and by the two decisions, with counts. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/audit-shadow-diff.h"
#include "common/log.h"
#include "common/macro.h"

typedef struct DiffRow {
        char *key;               /* the grouping fields, NUL-separated */
        size_t key_len;
        json_t *row;             /* what is printed */
        uint64_t count;
} DiffRow;

typedef struct DiffTable {
        DiffRow *rows;           /* open addressing, power of two */
        size_t n, size;
} DiffTable;

static uint64_t hash(const char *s, size_t n) {
        uint64_t h = 1469598103934665603ull;

        for (size_t i = 0; i < n; i++)
                h = (h ^ (unsigned char) s[i]) * 1099511628211ull;
        return h;
}

static int table_grow(DiffTable *t) {
        size_t size = t->size ? t->size * 2 : 64;
        DiffRow *rows = calloc(size, sizeof(DiffRow));

        if (!rows)
                return -ENOMEM;
        for (size_t i = 0; i < t->size; i++) {
                size_t j;
                if (!t->rows[i].key)
                        continue;
                for (j = hash(t->rows[i].key, t->rows[i].key_len) & (size - 1); rows[j].key; j = (j + 1) & (size - 1))
                        ;
                rows[j] = t->rows[i];
        }
        free(t->rows);
        t->rows = rows;
        t->size = size;
        return 0;
}

static const char *str(json_t *rec, const char *key) {
        return json_string_value(json_object_get(rec, key));
}

static int table_add(DiffTable *t, json_t *rec, const char *decision, const char *shadow) {
        const char *f[] = { str(rec, "from") ?: "", str(rec, "to") ?: "", str(rec, "kind") ?: "",
                            str(rec, "object") ?: "", decision, shadow };
        json_t *sup = json_object_get(rec, "suppressed");
        /* A summary stands for the denials it counted (not written). */
        uint64_t n = json_is_integer(sup) && json_integer_value(sup) > 0 ? (uint64_t) json_integer_value(sup) : 1;
        char *key = NULL;
        size_t len = 0, j;
        FILE *m;

        if ((t->n + 1) * 2 > t->size && table_grow(t) < 0)
                return -ENOMEM;
        m = open_memstream(&key, &len);
        if (!m)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(f); i++)
                fwrite(f[i], 1, strlen(f[i]) + 1, m);
        if (fclose(m) != 0)
                return -ENOMEM;
        for (j = hash(key, len) & (t->size - 1); t->rows[j].key; j = (j + 1) & (t->size - 1))
                if (t->rows[j].key_len == len && memcmp(t->rows[j].key, key, len) == 0)
                        break;
        if (t->rows[j].key) {
                /* Seen: counted, and what it was last decided by. */
                free(key);
                t->rows[j].count += n;
                json_object_set_new(t->rows[j].row, "last", json_string(str(rec, "ts") ?: ""));
                json_object_set_new(t->rows[j].row, "rule", json_string(str(rec, "rule") ?: "-"));
                json_object_set_new(t->rows[j].row, "shadow_rule", json_string(str(rec, "shadow_rule") ?: "-"));
                return 0;
        }
        t->rows[j] = (DiffRow){ .key = key, .key_len = len, .count = n };
        t->rows[j].row = json_pack("{s:s?, s:s?, s:s?, s:s?, s:s, s:s, s:s, s:s, s:s, s:s}", "from", str(rec, "from"),
                                   "to", str(rec, "to"), "kind", str(rec, "kind"), "object", str(rec, "object"),
                                   "decision", decision, "shadow_decision", shadow, "rule", str(rec, "rule") ?: "-",
                                   "shadow_rule", str(rec, "shadow_rule") ?: "-", "first", str(rec, "ts") ?: "",
                                   "last", str(rec, "ts") ?: "");
        t->n++;
        return t->rows[j].row ? 0 : -ENOMEM;
}

static int row_cmp(const void *a, const void *b) {
        const DiffRow *x = *(const DiffRow *const *) a, *y = *(const DiffRow *const *) b;
        size_t n = MIN(x->key_len, y->key_len);
        int c;

        if (x->count != y->count)
                return x->count > y->count ? -1 : 1;
        c = memcmp(x->key, y->key, n);
        return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* s as the audit table shows text from containers: controls, bidi and
 * other format characters, bytes that are not UTF-8 escaped
 * (audit_text_unit()), padded to width code points. */
static void put_text(const char *s, size_t width) {
        size_t n = s ? strlen(s) : 0, i = 0, cps = 0;

        if (!s) {
                s = "-";
                n = 1;
        }
        while (i < n) {
                char unit[AUDIT_TEXT_UNIT_MAX];
                size_t in, len = audit_text_unit(s + i, n - i, unit, &in);

                fwrite(unit, 1, len, stdout);
                cps += in == len ? 1 : len;
                i += in;
        }
        for (; cps < width; cps++)
                putchar(' ');
}

static void print_table(DiffRow **rows, size_t n) {
        if (n == 0) {
                printf("no request decided differently by the shadow policy\n");
                return;
        }
        printf("%7s  %-9s %-32s %-28s %-16s %s\n", "COUNT", "KIND", "FROM -> TO", "OBJECT", "NOW -> SHADOW",
               "RULE -> SHADOW RULE");
        for (size_t i = 0; i < n; i++) {
                json_t *o = rows[i]->row;
                char route[512], change[64], rules[512];

                snprintf(route, sizeof(route), "%s -> %s", str(o, "from") ?: "-", str(o, "to") ?: "-");
                snprintf(change, sizeof(change), "%s -> %s", str(o, "decision"), str(o, "shadow_decision"));
                snprintf(rules, sizeof(rules), "%s -> %s", str(o, "rule"), str(o, "shadow_rule"));
                printf("%7" PRIu64 "  ", rows[i]->count);
                put_text(str(o, "kind"), 9);
                putchar(' ');
                put_text(route, 32);
                putchar(' ');
                put_text(str(o, "object"), 28);
                putchar(' ');
                put_text(change, 16);
                putchar(' ');
                put_text(rules, 0);
                putchar('\n');
        }
}

int audit_shadow_diff(const char *file, bool rotated, const AuditFilter *filter, bool json) {
        _cleanup_(audit_reader_freep) AuditReader *r = NULL;
        _cleanup_free_ DiffRow **sorted = NULL;
        DiffTable t = {};
        size_t n = 0;
        int k;

        k = audit_reader_open(file, rotated, &r);
        if (k < 0)
                return log_error_errno(k, "Failed to open audit log '%s': %m", file);
        for (;;) {
                json_t *rec = NULL;
                const char *line, *d, *s;
                size_t len;

                k = audit_reader_next(r, &rec, &line, &len);
                if (k == -EBADMSG)
                        continue;
                if (k <= 0)
                        break;
                d = str(rec, "decision");
                s = str(rec, "shadow_decision");
                if (d && s && !streq(d, s) && audit_filter_match(filter, rec))
                        k = table_add(&t, rec, d, s);
                json_decref(rec);
                if (k < 0)
                        break;
        }
        if (k < 0) {
                log_error_errno(k, "Failed to read '%s': %m", audit_reader_get_file(r));
                goto finish;
        }
        sorted = calloc(t.n + 1, sizeof(DiffRow *));
        if (!sorted) {
                k = log_oom();
                goto finish;
        }
        for (size_t i = 0; i < t.size; i++)
                if (t.rows[i].key)
                        sorted[n++] = &t.rows[i];
        qsort(sorted, n, sizeof(DiffRow *), row_cmp);
        if (json) {
                json_t *a = json_array();
                for (size_t i = 0; a && i < n; i++) {
                        json_object_set_new(sorted[i]->row, "count", json_integer((json_int_t) sorted[i]->count));
                        json_array_append(a, sorted[i]->row);
                }
                /* ASCII: text from containers reaches a terminal escaped. */
                json_dumpf(a, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
                putchar('\n');
                json_decref(a);
        } else
                print_table(sorted, n);
        k = fflush(stdout) != 0 ? log_error_errno(-errno, "Failed to write output: %m") : 0;
finish:
        for (size_t i = 0; i < t.size; i++) {
                free(t.rows[i].key);
                json_decref(t.rows[i].row);
        }
        free(t.rows);
        return k;
}
