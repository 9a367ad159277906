/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The policy's own glob matcher (internal).  Patterns are compiled once at
 * load; matching is a bounded NFA walk, O(len(pattern) * len(string)) in
 * the worst case and a plain string compare for the common shapes, so a
 * hostile string cannot make a decision slow.
 *
 * Syntax, in every mode:
 *   ?      one character        [abc] [a-z] [!a-z] [^a-z]  one of / none of
 *   *      any run of characters
 *   \c     the character c literally
 * Modes differ in what may cross '/':
 *   GLOB_NAME    container, group, service and env names: '*', '?' and
 *                classes never match '/'; '**' is an error.
 *   GLOB_PATH    paths: '*', '?' and classes stay inside one component;
 *                '**' matches anything, '/' included; a whole
 *                component '**' may also match nothing, so the pattern
 *                a/STARSTAR/b matches "a/b" as well as "a/x/y/b".
 *   GLOB_STRING  invoke arguments: '*' and '**' match anything.
 * Dots are not special ("*" matches ".hidden"). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum GlobMode {
        GLOB_NAME,
        GLOB_PATH,
        GLOB_STRING,
} GlobMode;

typedef enum GlobFast {
        GLOB_FAST_LITERAL,      /* no metacharacters: strcmp */
        GLOB_FAST_PREFIX_ANY,   /* "lit" then a star that crosses '/' */
        GLOB_FAST_PREFIX_SEG,   /* "lit" then a star that does not */
        GLOB_FAST_NFA,          /* everything else */
} GlobFast;

typedef struct GlobToken {
        uint8_t type;
        uint8_t c;
        uint16_t cls;
} GlobToken;

typedef struct Glob {
        char *pattern;          /* as written; NULL = unset ("any") */
        GlobMode mode;
        GlobFast fast;
        char *literal;          /* unescaped literal prefix (whole pattern
                                 * for GLOB_FAST_LITERAL) */
        size_t literal_len;
        size_t n_literal;       /* literal characters in the whole pattern */
        GlobToken *tokens;
        size_t n_tokens;
        uint8_t (*classes)[32];
        size_t n_classes;
} Glob;

#define GLOB_TOKENS_MAX 1024u

/* Compiles 'pattern'.  On a bad pattern returns -EINVAL and a static
 * message in *ret_error. */
int glob_compile(const char *pattern, GlobMode mode, Glob *ret, const char **ret_error);
void glob_done(Glob *g);
bool glob_match(const Glob *g, const char *s);
/* True only if b matches every string a matches (both set, same mode).
 * Sound, not complete: false may also mean "could not tell". */
bool glob_covers(const Glob *b, const Glob *a);

static inline bool glob_is_set(const Glob *g) {
        return g->pattern != NULL;
}
static inline bool glob_is_literal(const Glob *g) {
        return g->pattern && g->fast == GLOB_FAST_LITERAL;
}
/* Unset globs match everything. */
static inline bool glob_match_or_unset(const Glob *g, const char *s) {
        return !g->pattern || (s && glob_match(g, s));
}
