/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Internal to the OCI readers (oci-spec.c, oci-seccomp.c): the JSON
 * helpers that name the path of every value they refuse (oci-json.c). */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/macro.h"
#include "runtime/oci-spec.h"

/* Where an error message goes. */
typedef struct Ctx {
        char *err;
        size_t errlen;
        bool ints_as_reals; /* integers were read as doubles (oci_load_json()) */
} Ctx;

/* A JSON path ("linux.resources.memory.limit", "process.rlimits[2]");
 * longer ones are cut (only a map's own keys can make one this long). */
typedef char JPath[256];


/* Writes "PATH: message" (or just the message without a path) and returns
 * -EINVAL. */
_printf_(3, 4) int oci_fail(Ctx *c, const char *path, const char *fmt, ...);

/* parent.key, parent[i], parent["key"] into buf; return buf. */
const char *oci_jpath_sub(JPath buf, const char *parent, const char *key);
const char *oci_jpath_idx(JPath buf, const char *parent, size_t i);
const char *oci_jpath_key(JPath buf, const char *parent, const char *key);

/* The member, or NULL when absent or JSON null. */
json_t *oci_member(json_t *obj, const char *key);

int oci_want_object(Ctx *c, json_t *v, const char *path);
int oci_want_array(Ctx *c, json_t *v, const char *path);

/* obj.key, an object (an array): its path into p, the value into *ret, and
 * 1; 0 when absent (or null) and not required. */
int oci_get_object(Ctx *c, json_t *obj, const char *parent, const char *key, bool required,
                   JPath p, json_t **ret);
int oci_get_array_value(Ctx *c, json_t *obj, const char *parent, const char *key, JPath p,
                        json_t **ret);

static inline bool oci_path_is_absolute(const char *s) {
        return s && s[0] == '/';
}

/* A string value (no NUL inside) into *ret (the old value freed). */
int oci_dup_string(Ctx *c, json_t *v, const char *path, char **ret);
/* obj.key into *ret if present; a missing required one is an error. */
int oci_get_string(Ctx *c, json_t *obj, const char *parent, const char *key, bool required, char **ret);
/* oci_get_string() of a path that must be absolute when there. */
int oci_get_abs_path(Ctx *c, json_t *obj, const char *parent, const char *key, bool required,
                     char **ret);
/* Every path of l (path's elements) absolute. */
int oci_check_abs_paths(Ctx *c, char **l, const char *path);
int oci_get_bool(Ctx *c, json_t *obj, const char *parent, const char *key, bool *ret);
int oci_int_value(Ctx *c, json_t *v, const char *path, int64_t min, int64_t max, int64_t *ret);
/* obj.key into *ret, within [min, max]; *has (if given) set when present. */
int oci_get_int(Ctx *c, json_t *obj, const char *parent, const char *key, bool required,
                int64_t min, int64_t max, bool *has, int64_t *ret);

/* oci_get_int() into an unsigned field of any width, 0 to max. */
#define GET_UINT(c, obj, parent, key, required, max, has, ret)                                  \
        ({                                                                                     \
                int64_t _v = 0;                                                                \
                bool _h = false, *_hp = (has);                                                 \
                int _r = oci_get_int(c, obj, parent, key, required, 0, (int64_t) (max), &_h, &_v); \
                if (_r >= 0 && _h) {                                                           \
                        *(ret) = (__typeof__(*(ret))) _v;                                      \
                        if (_hp)                                                               \
                                *_hp = true;                                                   \
                }                                                                              \
                _r;                                                                            \
        })

/* An array of strings into a NULL-terminated vector (the old one freed). */
int oci_strv_value(Ctx *c, json_t *v, const char *path, char ***ret);
int oci_get_strv(Ctx *c, json_t *obj, const char *parent, const char *key, bool required,
                 char ***ret);
/* An object of strings into two parallel NULL-terminated vectors. */
int oci_get_string_map(Ctx *c, json_t *obj, const char *parent, const char *key,
                       char ***ret_keys, char ***ret_values, size_t *ret_n);

/* parse_one on each element of the array obj.key (each must be an object),
 * into a new array of elsize elements; on failure done_one (if any) is
 * called on each element begun and nothing is returned. */
typedef int (*OciElemParser)(Ctx *c, json_t *v, const char *path, void *ret);
int oci_get_array(Ctx *c, json_t *obj, const char *parent, const char *key, size_t elsize,
                  OciElemParser parse_one, void (*done_one)(void *), void **ret, size_t *ret_n);

/* JSON text into a tree; a syntax error names its line and column. */
int oci_load_json(Ctx *c, const char *json, size_t len, json_t **ret);

/* Whether v is 2^64 - 1 (Go's way of writing RLIM_INFINITY and other
 * "all ones" values), which only a document read with integers as
 * doubles can hold. */
bool oci_uint_infinity(Ctx *c, json_t *v);

/* linux.seccomp (oci-seccomp.c). */
int oci_seccomp_from_json(Ctx *c, json_t *v, const char *path, OciSeccomp *ret);
