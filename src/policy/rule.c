/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Rule values: container patterns, timestamps, rates, paths. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/parse.h"
#include "policy/policy-internal.h"

static bool name_pattern_chars_ok(const char *s, size_t len) {
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) s[i];
                if (!isalnum(c) && !strchr("_.-*?[]!^\\", c))
                        return false;
        }
        return true;
}

static int compile_part(const char *s, size_t len, Glob *ret, const char **ret_error) {
        _cleanup_free_ char *part = strndup(s, len);
        Glob g;
        int r;

        if (!part)
                return -ENOMEM;
        if (len == 0) {
                *ret_error = "empty pattern";
                return -EINVAL;
        }
        if (!name_pattern_chars_ok(part, len)) {
                *ret_error = "invalid character in container pattern (names use A-Z a-z 0-9 _ . -)";
                return -EINVAL;
        }
        r = glob_compile(part, GLOB_NAME, &g, ret_error);
        if (r < 0)
                return r;
        if (glob_is_literal(&g) && !container_name_is_valid(g.literal)) {
                glob_done(&g);
                *ret_error = "invalid container name (1-63 characters of A-Z a-z 0-9 _ . -, "
                             "starting with a letter or digit)";
                return -EINVAL;
        }
        *ret = g;
        return 0;
}

int container_pattern_compile(const char *text, ContainerPattern *ret, const char **ret_error) {
        ContainerPattern p = {};
        const char *slash;
        int r;

        if (!text || !*text) {
                *ret_error = "empty pattern";
                return -EINVAL;
        }
        slash = strchr(text, '/');
        if (slash && strchr(slash + 1, '/')) {
                *ret_error = "a container pattern is 'name' or 'group/name'";
                return -EINVAL;
        }
        if (slash) {
                p.has_group = true;
                r = compile_part(text, (size_t) (slash - text), &p.group, ret_error);
                if (r < 0)
                        return r;
                r = compile_part(slash + 1, strlen(slash + 1), &p.name, ret_error);
        } else
                r = compile_part(text, strlen(text), &p.name, ret_error);
        if (r >= 0) {
                p.text = strdup(text);
                if (!p.text)
                        r = -ENOMEM;
        }
        if (r < 0) {
                container_pattern_done(&p);
                return r;
        }
        *ret = p;
        return 0;
}

void container_pattern_done(ContainerPattern *p) {
        free(p->text);
        glob_done(&p->group);
        glob_done(&p->name);
        *p = (ContainerPattern) {};
}

void container_split(const char *s, const char **ret_group, size_t *ret_group_len, const char **ret_name) {
        const char *slash = strrchr(s, '/');

        if (slash) {
                *ret_group = s;
                *ret_group_len = (size_t) (slash - s);
                *ret_name = slash + 1;
        } else {
                *ret_group = NULL;
                *ret_group_len = 0;
                *ret_name = s;
        }
}

/* group is the group name (NUL-terminated, or NULL for ungrouped). */
bool container_pattern_match(const ContainerPattern *p, const char *group, const char *name) {
        if (!glob_match(&p->name, name))
                return false;
        if (!p->has_group)
                return true;
        return group && glob_match(&p->group, group);
}

PolicyRule *policy_rule_free(PolicyRule *r) {
        if (!r)
                return NULL;
        free(r->id);
        free(r->file);
        container_pattern_done(&r->from);
        container_pattern_done(&r->to);
        glob_done(&r->endpoint);
        glob_done(&r->app);
        for (size_t i = 0; i < r->n_args; i++)
                glob_done(&r->args[i]);
        free(r->args);
        strv_free(r->env);
        for (size_t i = 0; i < r->n_env; i++)
                glob_done(&r->env_globs[i]);
        free(r->env_globs);
        glob_done(&r->path);
        free(r->as);
        free(r->at);
        glob_done(&r->service);
        glob_done(&r->pid);
        strv_free(r->signal_names);
        free(r->rate_text);
        free(r->until_text);
        free(r);
        return NULL;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        unsigned yoe = (unsigned) (y - era * 400);
        unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t) doe - 719468;
}

static bool read_digits(const char **p, unsigned n, unsigned *ret) {
        unsigned v = 0;
        for (unsigned i = 0; i < n; i++) {
                if (!isdigit((unsigned char) (*p)[i]))
                        return false;
                v = v * 10 + (unsigned) ((*p)[i] - '0');
        }
        *p += n;
        *ret = v;
        return true;
}

/* RFC 3339: 2026-12-31T23:59:59Z, with optional fraction (ignored) and
 * "+HH:MM"/"-HH:MM" offsets.  No clock or time zone database is read. */
int parse_timestamp(const char *s, time_t *ret) {
        static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        unsigned y, mo, d, h, mi, sec, oh = 0, om = 0;
        int sign = 0;
        const char *p = s;

        if (!s)
                return -EINVAL;
        if (!read_digits(&p, 4, &y) || *p++ != '-' || !read_digits(&p, 2, &mo) || *p++ != '-' ||
            !read_digits(&p, 2, &d) || (*p != 'T' && *p != 't') || !(++p) ||
            !read_digits(&p, 2, &h) || *p++ != ':' || !read_digits(&p, 2, &mi) || *p++ != ':' ||
            !read_digits(&p, 2, &sec))
                return -EINVAL;
        if (*p == '.') {
                p++;
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                while (isdigit((unsigned char) *p))
                        p++;
        }
        if (*p == 'Z' || *p == 'z')
                p++;
        else if (*p == '+' || *p == '-') {
                sign = *p++ == '+' ? 1 : -1;
                if (!read_digits(&p, 2, &oh) || *p++ != ':' || !read_digits(&p, 2, &om) || oh > 23 ||
                    om > 59)
                        return -EINVAL;
        } else
                return -EINVAL;
        if (*p)
                return -EINVAL;
        if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
                return -EINVAL;
        if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
                return -EINVAL;
        if (sec == 60)  /* leap second: the next second is close enough */
                sec = 59;

        int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
        t -= sign * (int64_t) (oh * 3600 + om * 60);
        *ret = (time_t) t;
        return 0;
}

int policy_parse_timestamp(const char *s, time_t *ret) {
        return parse_timestamp(s, ret);
}

int format_timestamp(time_t t, char *buf, size_t size) {
        struct tm tm;

        if (!gmtime_r(&t, &tm))
                return -ERANGE;
        if (strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return -ENOBUFS;
        return 0;
}

/* "100/s", "10/m", "5/1h", "1000/500ms": a count per interval. */
int parse_rate(const char *s, uint64_t *ret_count, uint64_t *ret_interval_usec) {
        _cleanup_free_ char *count = NULL, *interval = NULL;
        const char *slash;
        uint64_t c, usec;
        int r;

        if (!s || !(slash = strchr(s, '/')))
                return -EINVAL;
        count = strndup(s, (size_t) (slash - s));
        if (!count)
                return -ENOMEM;
        if (isdigit((unsigned char) slash[1]))
                interval = strdup(slash + 1);
        else if (asprintf(&interval, "1%s", slash + 1) < 0)
                interval = NULL;
        if (!interval)
                return -ENOMEM;
        if (!isdigit((unsigned char) count[0]) || parse_uint64(count, &c) < 0 || c == 0)
                return -EINVAL;
        if (!slash[1] || parse_duration(interval, &usec) < 0 || usec == 0)
                return -EINVAL;
        /* A bare number after '/' would be seconds in parse_duration();
         * demand a unit so that "100/5" is not silently "per 5 seconds". */
        r = isdigit((unsigned char) interval[strlen(interval) - 1]);
        if (r)
                return -EINVAL;
        *ret_count = c;
        *ret_interval_usec = usec;
        return 0;
}

/* Absolute, no "." or ".." components, no "//", no trailing '/' (except
 * for "/" itself).  Glob characters are fine. */
bool path_is_normalized(const char *p) {
        if (!p || p[0] != '/')
                return false;
        if (streq(p, "/"))
                return true;
        for (const char *c = p; *c;) {
                const char *e;
                size_t n;

                c++;  /* past '/' */
                e = strchrnul(c, '/');
                n = (size_t) (e - c);
                if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c = e;
        }
        return true;
}
