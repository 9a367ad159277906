/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "policy/policy-internal.h"
#include "policy/ytree.h"

typedef struct Builder {
        const char *file;
        const char *data;
        size_t size;
        PolicyDiagnostics *diags;
        YNode *root;
        YNode *stack[POLICY_DEPTH_MAX + 1];
        unsigned depth;
        unsigned documents;
        bool failed;
        bool stop;                      /* nested too deep: read no further */
        int oom;
} Builder;

YNode *ytree_free(YNode *n) {
        if (!n)
                return NULL;
        for (size_t i = 0; i < n->n_items; i++)
                ytree_free(n->items[i]);
        free(n->items);
        free(n->value);
        free(n);
        return NULL;
}

bool ynode_is_null(const YNode *n) {
        return n->type == YNODE_SCALAR && n->plain &&
               (n->len == 0 || streq(n->value, "~") || streq(n->value, "null") ||
                streq(n->value, "Null") || streq(n->value, "NULL"));
}

bool ynode_is_bool(const YNode *n) {
        static const char *const words[] = {
                "true", "false", "yes", "no", "on", "off",
        };
        if (n->type != YNODE_SCALAR || !n->plain)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (strcasecmp(n->value, words[i]) == 0)
                        return true;
        return false;
}

const char *ynode_type_name(const YNode *n) {
        switch (n->type) {
        case YNODE_MAPPING:
                return "a mapping";
        case YNODE_SEQUENCE:
                return "a list";
        case YNODE_SCALAR:
        default:
                if (ynode_is_null(n))
                        return "nothing (null)";
                if (ynode_is_bool(n))
                        return "a boolean";
                return "a string";
        }
}

static void berror(Builder *b, unsigned line, unsigned col, const char *fmt, ...) _printf_(4, 5);
static void berror(Builder *b, unsigned line, unsigned col, const char *fmt, ...) {
        va_list ap;

        b->failed = true;
        va_start(ap, fmt);
        if (diags_addv(b->diags, false, b->file, line, col, fmt, ap) < 0)
                b->oom = -ENOMEM;
        va_end(ap);
}

/* libyaml marks are 0-based; ours are 1-based like a compiler's. */
#define MARK_LINE(m) ((unsigned) (m).line + 1)
#define MARK_COL(m) ((unsigned) (m).column + 1)

static YNode *node_new(Builder *b, YNodeType type, const yaml_mark_t *m) {
        YNode *n = calloc(1, sizeof(YNode));
        if (!n) {
                b->oom = -ENOMEM;
                return NULL;
        }
        n->type = type;
        n->line = MARK_LINE(*m);
        n->column = MARK_COL(*m);
        return n;
}

/* Attaches n to the open collection (or makes it the root); takes n. */
static int attach(Builder *b, YNode *n) {
        YNode *parent, **items;

        if (b->depth == 0) {
                if (b->root)
                        ytree_free(b->root);
                b->root = n;
                return 0;
        }
        parent = b->stack[b->depth - 1];
        if ((parent->n_items & (parent->n_items - 1)) == 0) {  /* grow at powers of two */
                items = realloc(parent->items, MAX(parent->n_items * 2, (size_t) 4) * sizeof(YNode *));
                if (!items) {
                        ytree_free(n);
                        return (b->oom = -ENOMEM);
                }
                parent->items = items;
        }
        parent->items[parent->n_items++] = n;
        return 0;
}

static int attach_bad(Builder *b, const yaml_mark_t *m) {
        YNode *n = node_new(b, YNODE_SCALAR, m);
        if (!n)
                return -ENOMEM;
        n->bad = true;
        n->value = strdup("");
        if (!n->value) {
                ytree_free(n);
                return (b->oom = -ENOMEM);
        }
        return attach(b, n);
}

static void check_anchor_tag(Builder *b, const yaml_mark_t *m, const yaml_char_t *anchor,
                             const yaml_char_t *tag, bool implicit) {
        if (anchor)
                berror(b, MARK_LINE(*m), MARK_COL(*m), "anchors are not allowed ('&%s')",
                       (const char *) anchor);
        if (tag && !implicit)
                berror(b, MARK_LINE(*m), MARK_COL(*m), "tags are not allowed ('%s')",
                       (const char *) tag);
}

static void on_scalar(Builder *b, const yaml_event_t *e) {
        const yaml_mark_t *m = &e->start_mark;
        size_t len = e->data.scalar.length;
        YNode *n;

        check_anchor_tag(b, m, e->data.scalar.anchor, e->data.scalar.tag,
                         e->data.scalar.plain_implicit || e->data.scalar.quoted_implicit);
        n = node_new(b, YNODE_SCALAR, m);
        if (!n)
                return;
        n->plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (len > POLICY_SCALAR_MAX) {
                berror(b, n->line, n->column, "string too long (%zu bytes, at most %u)", len,
                       POLICY_SCALAR_MAX);
                n->bad = true;
                len = 0;
        } else if (memchr(e->data.scalar.value, 0, len)) {
                berror(b, n->line, n->column, "string contains a NUL character");
                n->bad = true;
                len = 0;
        }
        n->value = strndup((const char *) e->data.scalar.value, len);
        n->len = len;
        if (!n->value) {
                ytree_free(n);
                b->oom = -ENOMEM;
                return;
        }
        (void) attach(b, n);
}

static void on_collection_start(Builder *b, const yaml_event_t *e, YNodeType type) {
        const yaml_mark_t *m = &e->start_mark;
        YNode *n;

        if (type == YNODE_MAPPING)
                check_anchor_tag(b, m, e->data.mapping_start.anchor, e->data.mapping_start.tag,
                                 e->data.mapping_start.implicit);
        else
                check_anchor_tag(b, m, e->data.sequence_start.anchor, e->data.sequence_start.tag,
                                 e->data.sequence_start.implicit);
        if (b->depth >= POLICY_DEPTH_MAX) {
                /* Stop reading here rather than skip the subtree: libyaml's
                 * scanner costs O(flow depth) per token (it walks its stack
                 * of possible simple keys for every token), so going on
                 * through "[[[[..." is quadratic in the file (20 s for 80,000
                 * levels).  Stopping at the first too-deep collection bounds
                 * the scanner's stack by the cap plus its look-ahead of one
                 * simple key (1024 characters at most), so reading stays
                 * linear.  The parent gets a placeholder so that mappings
                 * keep their key/value pairing. */
                berror(b, MARK_LINE(*m), MARK_COL(*m), "nesting deeper than %u levels", POLICY_DEPTH_MAX);
                b->stop = true;
                (void) attach_bad(b, m);
                return;
        }
        n = node_new(b, type, m);
        if (!n)
                return;
        if (attach(b, n) < 0)
                return;
        b->stack[b->depth++] = n;
}

static void on_collection_end(Builder *b) {
        if (b->depth > 0)
                b->depth--;
}

/* Line and column (in characters) of a byte offset, for reader errors,
 * which libyaml reports as an offset only. */
static void offset_position(const char *data, size_t size, size_t offset, unsigned *ret_line,
                            unsigned *ret_col) {
        unsigned line = 1, col = 1;

        for (size_t i = 0; i < offset && i < size; i++) {
                unsigned char c = (unsigned char) data[i];
                if (c == '\n') {
                        line++;
                        col = 1;
                } else if ((c & 0xC0) != 0x80)
                        col++;
        }
        *ret_line = line;
        *ret_col = col;
}

static void report_parser_error(Builder *b, const yaml_parser_t *p) {
        unsigned line, col;

        switch (p->error) {
        case YAML_MEMORY_ERROR:
                b->oom = -ENOMEM;
                return;
        case YAML_READER_ERROR:
                offset_position(b->data, b->size, p->problem_offset, &line, &col);
                if (p->problem_value != -1)
                        berror(b, line, col, "invalid input: %s (byte 0x%02x)",
                               p->problem ?: "unreadable", (unsigned) p->problem_value & 0xff);
                else
                        berror(b, line, col, "invalid input: %s", p->problem ?: "unreadable");
                return;
        default:
                line = MARK_LINE(p->problem_mark);
                col = MARK_COL(p->problem_mark);
                if (p->context)
                        berror(b, line, col, "syntax error: %s %s (line %u column %u)",
                               p->problem ?: "invalid YAML", p->context,
                               MARK_LINE(p->context_mark), MARK_COL(p->context_mark));
                else
                        berror(b, line, col, "syntax error: %s", p->problem ?: "invalid YAML");
                return;
        }
}

int ytree_parse_counted(const char *file, const char *data, size_t size, PolicyDiagnostics *diags,
                        YNode **ret, bool *ret_truncated, size_t *ret_events) {
        bool truncated = false;
        size_t events = 0;
        Builder b = { .file = file, .data = data, .size = size, .diags = diags };
        yaml_parser_t parser;
        bool done = false;

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *) data, size);
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

        while (!done && !b.oom) {
                yaml_event_t e;

                if (!yaml_parser_parse(&parser, &e)) {
                        report_parser_error(&b, &parser);
                        truncated = true;
                        break;
                }
                events++;
                switch (e.type) {
                case YAML_STREAM_END_EVENT:
                        done = true;
                        break;
                case YAML_DOCUMENT_START_EVENT:
                        if (++b.documents > 1) {
                                berror(&b, MARK_LINE(e.start_mark), MARK_COL(e.start_mark),
                                       "only one YAML document per file is allowed");
                                done = true;
                        }
                        break;
                case YAML_ALIAS_EVENT:
                        berror(&b, MARK_LINE(e.start_mark), MARK_COL(e.start_mark),
                               "aliases are not allowed ('*%s')", (const char *) e.data.alias.anchor);
                        (void) attach_bad(&b, &e.start_mark);
                        break;
                case YAML_SCALAR_EVENT:
                        on_scalar(&b, &e);
                        break;
                case YAML_SEQUENCE_START_EVENT:
                        on_collection_start(&b, &e, YNODE_SEQUENCE);
                        break;
                case YAML_MAPPING_START_EVENT:
                        on_collection_start(&b, &e, YNODE_MAPPING);
                        break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        on_collection_end(&b);
                        break;
                default:
                        break;
                }
                yaml_event_delete(&e);
                if (b.stop) {
                        truncated = true;
                        break;
                }
        }
        yaml_parser_delete(&parser);

        if (b.oom) {
                ytree_free(b.root);
                return b.oom;
        }
        *ret = b.root;
        *ret_truncated = truncated;
        if (ret_events)
                *ret_events = events;
        return b.failed ? -EINVAL : 0;
}

int ytree_parse(const char *file, const char *data, size_t size, PolicyDiagnostics *diags, YNode **ret,
                bool *ret_truncated) {
        return ytree_parse_counted(file, data, size, diags, ret, ret_truncated, NULL);
}
