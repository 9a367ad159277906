/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The JSON readers shared by the OCI parsers: each takes the JSON path of
 * the value it reads, so that an error names it. */

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/oci-internal.h"

int oci_fail(Ctx *c, const char *path, const char *fmt, ...) {
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (c->err && c->errlen > 0) {
                if (path && *path)
                        snprintf(c->err, c->errlen, "%s: %s", path, msg);
                else
                        snprintf(c->err, c->errlen, "%s", msg);
        }
        return -EINVAL;
}

/* Formats into buf through a copy, so that parent may be buf itself; a
 * path too long for buf is cut and ends in "...". */
_printf_(2, 3) static const char *jpath_format(JPath buf, const char *fmt, ...) {
        JPath tmp;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
        va_end(ap);
        if (n < 0)
                tmp[0] = '\0';
        else if ((size_t) n >= sizeof(tmp))
                memcpy(tmp + sizeof(tmp) - 4, "...", 4);
        memcpy(buf, tmp, sizeof(tmp));
        return buf;
}

const char *oci_jpath_sub(JPath buf, const char *parent, const char *key) {
        return jpath_format(buf, "%s%s%s", parent, *parent ? "." : "", key);
}

const char *oci_jpath_idx(JPath buf, const char *parent, size_t i) {
        return jpath_format(buf, "%s[%zu]", parent, i);
}

const char *oci_jpath_key(JPath buf, const char *parent, const char *key) {
        return jpath_format(buf, "%s[\"%s\"]", parent, key);
}

/* The member, or NULL when absent or null. */
json_t *oci_member(json_t *obj, const char *key) {
        json_t *v = json_object_get(obj, key);

        return json_is_null(v) ? NULL : v;
}

int oci_want_object(Ctx *c, json_t *v, const char *path) {
        if (!json_is_object(v))
                return oci_fail(c, path, "must be an object");
        return 0;
}

int oci_want_array(Ctx *c, json_t *v, const char *path) {
        if (!json_is_array(v))
                return oci_fail(c, path, "must be an array");
        return 0;
}

int oci_dup_string(Ctx *c, json_t *v, const char *path, char **ret) {
        char *s;

        if (!json_is_string(v))
                return oci_fail(c, path, "must be a string");
        if (memchr(json_string_value(v), '\0', json_string_length(v)))
                return oci_fail(c, path, "must not contain a NUL character");
        s = strdup(json_string_value(v));
        if (!s)
                return -ENOMEM;
        free(*ret);
        *ret = s;
        return 0;
}

/* obj.key: its path into p and the value into *ret; 1 when there, 0 when
 * absent (or null) and not required.  An object or an array when type says
 * so (JSON_OBJECT, JSON_ARRAY; JSON_NULL takes any). */
static int get_value(Ctx *c, json_t *obj, const char *parent, const char *key, bool required,
                     json_type type, JPath p, json_t **ret) {
        int r = 0;

        oci_jpath_sub(p, parent, key);
        *ret = oci_member(obj, key);
        if (!*ret)
                return required ? oci_fail(c, p, "required") : 0;
        if (type == JSON_OBJECT)
                r = oci_want_object(c, *ret, p);
        else if (type == JSON_ARRAY)
                r = oci_want_array(c, *ret, p);
        return r < 0 ? r : 1;
}

int oci_get_object(Ctx *c, json_t *obj, const char *parent, const char *key, bool required,
                   JPath p, json_t **ret) {
        return get_value(c, obj, parent, key, required, JSON_OBJECT, p, ret);
}

int oci_get_array_value(Ctx *c, json_t *obj, const char *parent, const char *key, JPath p,
                        json_t **ret) {
        return get_value(c, obj, parent, key, false, JSON_ARRAY, p, ret);
}

/* obj.key into *ret if present; a missing required one is an error. */
int oci_get_string(Ctx *c, json_t *obj, const char *parent, const char *key, bool required,
                      char **ret) {
        json_t *v;
        JPath p;
        int r;

        r = get_value(c, obj, parent, key, required, JSON_NULL, p, &v);
        if (r <= 0)
                return r;
        return oci_dup_string(c, v, p, ret);
}

int oci_get_abs_path(Ctx *c, json_t *obj, const char *parent, const char *key, bool required,
                     char **ret) {
        JPath p;
        int r;

        r = oci_get_string(c, obj, parent, key, required, ret);
        if (r < 0)
                return r;
        if (*ret && !oci_path_is_absolute(*ret))
                return oci_fail(c, oci_jpath_sub(p, parent, key), "must be an absolute path (is '%s')", *ret);
        return 0;
}

int oci_check_abs_paths(Ctx *c, char **l, const char *path) {
        JPath p;

        for (size_t i = 0; l && l[i]; i++)
                if (!oci_path_is_absolute(l[i]))
                        return oci_fail(c, oci_jpath_idx(p, path, i), "must be an absolute path (is '%s')",
                                        l[i]);
        return 0;
}

int oci_get_bool(Ctx *c, json_t *obj, const char *parent, const char *key, bool *ret) {
        json_t *v = oci_member(obj, key);
        JPath p;

        if (!v)
                return 0;
        if (!json_is_boolean(v))
                return oci_fail(c, oci_jpath_sub(p, parent, key), "must be a boolean");
        *ret = json_is_true(v);
        return 0;
}

int oci_int_value(Ctx *c, json_t *v, const char *path, int64_t min, int64_t max, int64_t *ret) {
        json_int_t n;

        if (c->ints_as_reals && json_is_real(v)) {
                /* The document was read again with every integer as a
                 * double (see oci_load_json()): exact below 2^53. */
                double d = json_real_value(v);

                if (!(d > -9007199254740992.0 && d < 9007199254740992.0) || d != (double) (int64_t) d)
                        return oci_fail(c, path,
                                        "must be an integer, exact: the document has an integer above "
                                        "2^63, so its integers are read as doubles, exact only below 2^53");
                n = (json_int_t) d;
        } else if (!json_is_integer(v))
                return oci_fail(c, path, "must be an integer");
        else
                n = json_integer_value(v);
        if (n < min || n > max)
                return oci_fail(c, path, "%lld is out of range (%lld to %lld)", (long long) n,
                            (long long) min, (long long) max);
        *ret = n;
        return 0;
}

/* obj.key into *ret; *has (if given) says whether it was there. */
int oci_get_int(Ctx *c, json_t *obj, const char *parent, const char *key, bool required,
                   int64_t min, int64_t max, bool *has, int64_t *ret) {
        json_t *v;
        JPath p;
        int r;

        r = get_value(c, obj, parent, key, required, JSON_NULL, p, &v);
        if (r <= 0)
                return r;
        r = oci_int_value(c, v, p, min, max, ret);
        if (r < 0)
                return r;
        if (has)
                *has = true;
        return 0;
}

/* An array of strings into a NULL-terminated vector (an empty array gives
 * an empty vector, absent leaves *ret NULL). */
int oci_strv_value(Ctx *c, json_t *v, const char *path, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n;
        JPath p;
        int r;

        r = oci_want_array(c, v, path);
        if (r < 0)
                return r;
        n = json_array_size(v);
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = oci_dup_string(c, json_array_get(v, i), oci_jpath_idx(p, path, i), &l[i]);
                if (r < 0)
                        return r;
        }
        strv_free(*ret);
        *ret = TAKE_PTR(l);
        return 0;
}

int oci_get_strv(Ctx *c, json_t *obj, const char *parent, const char *key, bool required,
                 char ***ret) {
        json_t *v;
        JPath p;
        int r;

        r = get_value(c, obj, parent, key, required, JSON_NULL, p, &v);
        if (r <= 0)
                return r;
        return oci_strv_value(c, v, p, ret);
}

/* An object of strings into two parallel vectors. */
int oci_get_string_map(Ctx *c, json_t *obj, const char *parent, const char *key,
                          char ***ret_keys, char ***ret_values, size_t *ret_n) {
        _cleanup_strv_free_ char **keys = NULL, **values = NULL;
        json_t *v, *val;
        const char *k;
        size_t n, i = 0;
        JPath p, q;
        int r;

        r = oci_get_object(c, obj, parent, key, false, p, &v);
        if (r <= 0)
                return r;
        n = json_object_size(v);
        keys = calloc(n + 1, sizeof(char *));
        values = calloc(n + 1, sizeof(char *));
        if (!keys || !values)
                return -ENOMEM;
        json_object_foreach(v, k, val) {
                oci_jpath_key(q, p, k);
                if (k[0] == '\0')
                        return oci_fail(c, q, "the key must not be empty");
                if (!json_is_string(val))
                        return oci_fail(c, q, "must be a string");
                keys[i] = strdup(k);
                if (!keys[i])
                        return -ENOMEM;
                r = oci_dup_string(c, val, q, &values[i]);
                if (r < 0)
                        return r;
                i++;
        }
        *ret_keys = TAKE_PTR(keys);
        *ret_values = TAKE_PTR(values);
        *ret_n = n;
        return 0;
}

/* Runs parse_one on each element of obj.key (an array of objects), into a
 * fresh array of n elements of size elsize. */
int oci_get_array(Ctx *c, json_t *obj, const char *parent, const char *key, size_t elsize,
                     OciElemParser parse_one, void (*done_one)(void *), void **ret, size_t *ret_n) {
        _cleanup_free_ char *a = NULL;
        json_t *v;
        size_t n;
        JPath p, q;
        int r = 0;

        r = oci_get_array_value(c, obj, parent, key, p, &v);
        if (r <= 0)
                return r;
        n = json_array_size(v);
        if (n == 0)
                return 0;
        a = calloc(n, elsize);
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_t *e = json_array_get(v, i);

                oci_jpath_idx(q, p, i);
                r = oci_want_object(c, e, q);
                if (r >= 0)
                        r = parse_one(c, e, q, a + i * elsize);
                if (r < 0) {
                        if (done_one)
                                for (size_t j = 0; j <= i; j++)
                                        done_one(a + j * elsize);
                        return r;
                }
        }
        *ret = TAKE_PTR(a);
        *ret_n = n;
        return 0;
}

int oci_load_json(Ctx *c, const char *json, size_t len, json_t **ret) {
        json_error_t e;
        json_t *root;

        if (!json)
                return oci_fail(c, NULL, "no JSON text");
        root = json_loadb(json, len, 0, &e);
        if (!root && json_error_code(&e) == json_error_numeric_overflow) {
                /* An integer above 2^63 (Go writes RLIM_INFINITY as
                 * 18446744073709551615), which jansson's integers cannot
                 * hold: read every integer as a double instead.  The
                 * readers then take exact values only (below 2^53) and
                 * 2^64 - 1 where it means "unlimited" (oci_uint_infinity()). */
                root = json_loadb(json, len, JSON_DECODE_INT_AS_REAL, &e);
                c->ints_as_reals = root != NULL;
        }
        if (!root)
                return oci_fail(c, NULL, "line %d column %d: %s", e.line, e.column, e.text);
        *ret = root;
        return 0;
}

bool oci_uint_infinity(Ctx *c, json_t *v) {
        /* 2^64 - 1 rounds to 2^64 as a double. */
        return c->ints_as_reals && json_is_real(v) && json_real_value(v) == 18446744073709551616.0;
}
