/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "policy/glob.h"

enum {
        TOK_LIT,
        TOK_ANY,        /* ? */
        TOK_CLASS,      /* [...] */
        TOK_STAR,       /* *  (does not cross '/' in NAME and PATH modes) */
        TOK_STARSTAR,   /* ** (PATH mode; and every star in STRING mode) */
};

static bool glob_separates(GlobMode mode) {
        return mode != GLOB_STRING;
}

void glob_done(Glob *g) {
        if (!g)
                return;
        free(g->pattern);
        free(g->literal);
        free(g->tokens);
        free(g->classes);
        *g = (Glob) {};
}

static int parse_class(const char *p, size_t *i, uint8_t set[32], const char **ret_error) {
        size_t j = *i + 1;   /* past '[' */
        bool negate = false, first = true;
        uint8_t bits[32] = {};

        if (p[j] == '!' || p[j] == '^') {
                negate = true;
                j++;
        }
        for (;; first = false) {
                unsigned char lo, hi;

                if (p[j] == 0) {
                        *ret_error = "unterminated '[' in pattern";
                        return -EINVAL;
                }
                if (p[j] == ']' && !first)
                        break;
                if (p[j] == '\\' && p[j + 1])
                        j++;
                lo = (unsigned char) p[j++];
                hi = lo;
                if (p[j] == '-' && p[j + 1] && p[j + 1] != ']') {
                        j++;
                        if (p[j] == '\\' && p[j + 1])
                                j++;
                        hi = (unsigned char) p[j++];
                        if (hi < lo) {
                                *ret_error = "reversed range in '[...]' in pattern";
                                return -EINVAL;
                        }
                }
                for (unsigned c = lo; c <= hi; c++)
                        bits[c / 8] |= (uint8_t) (1u << (c % 8));
        }
        if (negate)
                for (size_t k = 0; k < 32; k++)
                        bits[k] = (uint8_t) ~bits[k];
        bits[0] &= (uint8_t) ~1u;  /* never NUL */
        memcpy(set, bits, 32);
        *i = j + 1;
        return 0;
}

int glob_compile(const char *pattern, GlobMode mode, Glob *ret, const char **ret_error) {
        _cleanup_free_ GlobToken *tokens = NULL;
        _cleanup_free_ uint8_t (*classes)[32] = NULL;
        _cleanup_free_ char *copy = NULL, *literal = NULL;
        size_t n = 0, n_classes = 0, n_lit = 0, len;
        int r;

        if (!pattern || !*pattern) {
                *ret_error = "empty pattern";
                return -EINVAL;
        }
        len = strlen(pattern);
        tokens = calloc(len + 1, sizeof(GlobToken));
        literal = malloc(len + 1);
        copy = strdup(pattern);
        if (!tokens || !literal || !copy)
                return -ENOMEM;

        for (size_t i = 0; pattern[i];) {
                char c = pattern[i];

                if (n >= GLOB_TOKENS_MAX) {
                        *ret_error = "pattern too long";
                        return -EINVAL;
                }
                if (c == '*') {
                        size_t stars = 0;
                        uint8_t type;

                        while (pattern[i] == '*') {
                                stars++;
                                i++;
                        }
                        if (stars > 1 && mode == GLOB_NAME) {
                                *ret_error = "'**' is only meaningful in paths";
                                return -EINVAL;
                        }
                        type = stars > 1 || mode == GLOB_STRING ? TOK_STARSTAR : TOK_STAR;
                        /* Adjacent stars collapse to the widest. */
                        if (n > 0 && (tokens[n - 1].type == TOK_STAR || tokens[n - 1].type == TOK_STARSTAR)) {
                                tokens[n - 1].type = MAX(tokens[n - 1].type, type);
                                continue;
                        }
                        tokens[n++] = (GlobToken) { .type = type };
                } else if (c == '?') {
                        tokens[n++] = (GlobToken) { .type = TOK_ANY };
                        i++;
                } else if (c == '[') {
                        uint8_t (*nc)[32];

                        nc = realloc(classes, (n_classes + 1) * sizeof(*classes));
                        if (!nc)
                                return -ENOMEM;
                        classes = nc;
                        r = parse_class(pattern, &i, classes[n_classes], ret_error);
                        if (r < 0)
                                return r;
                        if (glob_separates(mode))
                                classes[n_classes]['/' / 8] &= (uint8_t) ~(1u << ('/' % 8));
                        tokens[n++] = (GlobToken) { .type = TOK_CLASS, .cls = (uint16_t) n_classes++ };
                } else {
                        if (c == '\\') {
                                if (!pattern[i + 1]) {
                                        *ret_error = "trailing '\\' in pattern";
                                        return -EINVAL;
                                }
                                i++;
                        }
                        tokens[n++] = (GlobToken) { .type = TOK_LIT, .c = (uint8_t) pattern[i] };
                        i++;
                        n_lit++;
                }
        }

        /* Literal prefix, and the shapes that need no NFA. */
        size_t prefix = 0;
        while (prefix < n && tokens[prefix].type == TOK_LIT) {
                literal[prefix] = (char) tokens[prefix].c;
                prefix++;
        }
        literal[prefix] = 0;

        GlobFast fast = GLOB_FAST_NFA;
        if (prefix == n)
                fast = GLOB_FAST_LITERAL;
        else if (prefix + 1 == n && tokens[prefix].type == TOK_STARSTAR)
                fast = GLOB_FAST_PREFIX_ANY;
        else if (prefix + 1 == n && tokens[prefix].type == TOK_STAR)
                fast = GLOB_FAST_PREFIX_SEG;

        *ret = (Glob) {
                .pattern = TAKE_PTR(copy),
                .mode = mode,
                .fast = fast,
                .literal = TAKE_PTR(literal),
                .literal_len = prefix,
                .n_literal = n_lit,
                .tokens = TAKE_PTR(tokens),
                .n_tokens = n,
                .classes = TAKE_PTR(classes),
                .n_classes = n_classes,
        };
        return 0;
}

/* A set of NFA states (indices into the token array; n_tokens = accept),
 * with epsilon closure over stars (which may match nothing) and over a
 * whole-component "**" followed by '/'. */
typedef struct StateSet {
        uint16_t list[GLOB_TOKENS_MAX + 1];
        uint32_t seen[GLOB_TOKENS_MAX + 1];
        size_t n;
        uint32_t gen;
} StateSet;

/* "**" standing for whole components: "/" or the start before, "/" after. */
static bool is_dir_star(const Glob *g, size_t i) {
        return g->mode == GLOB_PATH && g->tokens[i].type == TOK_STARSTAR && i + 1 < g->n_tokens &&
               g->tokens[i + 1].type == TOK_LIT && g->tokens[i + 1].c == '/' &&
               (i == 0 || (g->tokens[i - 1].type == TOK_LIT && g->tokens[i - 1].c == '/'));
}

/* Adds state i and its epsilon closure.  'entering' is false for a star's
 * own loop: the "zero components" shortcut past a whole-component "**"
 * only exists before the "**" has consumed anything. */
static void state_add(const Glob *g, StateSet *s, size_t i, bool entering) {
        for (;;) {
                if (entering && i < g->n_tokens && is_dir_star(g, i))
                        state_add(g, s, i + 2, true);
                if (s->seen[i] == s->gen)
                        return;
                s->seen[i] = s->gen;
                s->list[s->n++] = (uint16_t) i;
                if (i >= g->n_tokens)
                        return;
                uint8_t t = g->tokens[i].type;
                if (t != TOK_STAR && t != TOK_STARSTAR)
                        return;
                i++;
                entering = true;
        }
}

static bool glob_match_nfa(const Glob *g, const char *s) {
        /* Two sets on the stack, about 14 KiB. */
        StateSet a, b, *cur = &a, *next = &b;
        bool sep = glob_separates(g->mode);

        memset(a.seen, 0, (g->n_tokens + 1) * sizeof(uint32_t));
        memset(b.seen, 0, (g->n_tokens + 1) * sizeof(uint32_t));
        a.gen = b.gen = 0;

        cur->gen++;
        cur->n = 0;
        state_add(g, cur, 0, true);

        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;

                next->gen++;
                next->n = 0;
                for (size_t k = 0; k < cur->n; k++) {
                        size_t i = cur->list[k];
                        if (i >= g->n_tokens)
                                continue;
                        const GlobToken *t = &g->tokens[i];
                        switch (t->type) {
                        case TOK_LIT:
                                if (c == t->c)
                                        state_add(g, next, i + 1, true);
                                break;
                        case TOK_ANY:
                                if (!(sep && c == '/'))
                                        state_add(g, next, i + 1, true);
                                break;
                        case TOK_CLASS:
                                if (g->classes[t->cls][c / 8] & (1u << (c % 8)))
                                        state_add(g, next, i + 1, true);
                                break;
                        case TOK_STAR:
                                if (!(sep && c == '/'))
                                        state_add(g, next, i, false);
                                break;
                        case TOK_STARSTAR:
                                state_add(g, next, i, false);
                                break;
                        }
                }
                if (next->n == 0)
                        return false;
                StateSet *tmp = cur;
                cur = next;
                next = tmp;
        }
        return cur->seen[g->n_tokens] == cur->gen;
}

bool glob_match(const Glob *g, const char *s) {
        if (!g->pattern || !s)
                return false;
        switch (g->fast) {
        case GLOB_FAST_LITERAL:
                return streq(g->literal, s);
        case GLOB_FAST_PREFIX_ANY:
                return strneq(g->literal, s, g->literal_len);
        case GLOB_FAST_PREFIX_SEG:
                return strneq(g->literal, s, g->literal_len) &&
                       (!glob_separates(g->mode) || !strchr(s + g->literal_len, '/'));
        case GLOB_FAST_NFA:
        default:
                return glob_match_nfa(g, s);
        }
}

/* Whether token tb of b matches every string token ta of a matches (both
 * single tokens; a star's "strings" are its runs). */
static bool token_absorbs(const Glob *b, const GlobToken *tb, const Glob *a, const GlobToken *ta) {
        bool sep = glob_separates(b->mode);

        switch (tb->type) {
        case TOK_STARSTAR:
                return true;
        case TOK_STAR:
                return (ta->type == TOK_LIT && !(sep && ta->c == '/')) || ta->type == TOK_ANY ||
                       ta->type == TOK_CLASS || ta->type == TOK_STAR;
        case TOK_ANY:
                return (ta->type == TOK_LIT && !(sep && ta->c == '/')) || ta->type == TOK_ANY ||
                       ta->type == TOK_CLASS;
        case TOK_CLASS: {
                const uint8_t *set = b->classes[tb->cls];
                if (ta->type == TOK_LIT)
                        return set[ta->c / 8] & (1u << (ta->c % 8));
                if (ta->type == TOK_CLASS) {
                        const uint8_t *sub = a->classes[ta->cls];
                        for (size_t k = 0; k < 32; k++)
                                if (sub[k] & ~set[k])
                                        return false;
                        return true;
                }
                return false;
        }
        case TOK_LIT:
        default:
                return ta->type == TOK_LIT && ta->c == tb->c;
        }
}

bool glob_covers(const Glob *b, const Glob *a) {
        _cleanup_free_ bool *heap = NULL;
        bool stack[1024], *dp;
        size_t nb, na;

        if (!b->pattern || !a->pattern)
                return false;
        if (a->fast == GLOB_FAST_LITERAL)
                return glob_match(b, a->literal);
        if (b->mode != a->mode)
                return false;
        if (streq(b->pattern, a->pattern))
                return true;
        if (b->fast == GLOB_FAST_LITERAL)
                return false;
        /* Every string of a starts with a's literal prefix: b's must be a
         * prefix of it (a longer one could only fit through a's next
         * token; "could not tell" is fine).  Keeps most comparisons to a
         * string compare. */
        if (b->literal_len > a->literal_len || !strneq(a->literal, b->literal, b->literal_len))
                return false;
        nb = b->n_tokens;
        na = a->n_tokens;
        if ((nb + 1) * (na + 1) > (size_t) 1 << 20)
                return false;  /* "don't know" is "no": callers must stay sound */
        if ((nb + 1) * (na + 1) <= ELEMENTSOF(stack))
                dp = stack;
        else if (!(dp = heap = calloc((nb + 1) * (na + 1), sizeof(bool))))
                return false;
#define D(j, i) dp[(j) * (na + 1) + (i)]
        /* D(j, i): b's tokens from j on match every string a's tokens from
         * i on match, by an alignment in which each token of b stands for
         * whole tokens of a (stars for any run of them).  Sound, not
         * complete: "no" may be wrong, "yes" is not. */
        for (size_t j = nb + 1; j-- > 0;)
                for (size_t i = na + 1; i-- > 0;) {
                        bool v;

                        if (j == nb)
                                v = i == na;
                        else if (b->tokens[j].type == TOK_STAR || b->tokens[j].type == TOK_STARSTAR)
                                v = D(j + 1, i) ||
                                    (i < na && token_absorbs(b, &b->tokens[j], a, &a->tokens[i]) && D(j, i + 1));
                        else
                                v = i < na && token_absorbs(b, &b->tokens[j], a, &a->tokens[i]) && D(j + 1, i + 1);
                        /* A whole-component "**" of a may also match nothing,
                         * '/' after it included: b must cover that too. */
                        if (v && i < na && is_dir_star(a, i))
                                v = D(j, i + 2);
                        D(j, i) = v;
                }
        return D(0, 0);
#undef D
}
