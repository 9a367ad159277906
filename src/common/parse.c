/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/macro.h"
#include "common/parse.h"

int parse_uint64(const char *s, uint64_t *ret) {
        unsigned long long v;
        char *end;

        if (!s || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_uint32(const char *s, uint32_t *ret) {
        uint64_t v;
        int r = parse_uint64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

/* Parses "123" or "1.5" into a whole part and a fraction scaled to
 * 10^frac_digits, without going through floating point. */
static int parse_decimal(const char *s, const char **ret_end, uint64_t *ret_whole,
                         uint64_t *ret_frac, unsigned frac_digits) {
        uint64_t whole = 0, frac = 0;
        unsigned digits = 0;
        const char *p = s;

        if (!isdigit((unsigned char) *p))
                return -EINVAL;
        for (; isdigit((unsigned char) *p); p++) {
                if (whole > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                whole = whole * 10 + (uint64_t) (*p - '0');
        }
        if (*p == '.') {
                p++;
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                for (; isdigit((unsigned char) *p); p++)
                        if (digits < frac_digits) {
                                frac = frac * 10 + (uint64_t) (*p - '0');
                                digits++;
                        }
        }
        for (; digits < frac_digits; digits++)
                frac *= 10;
        *ret_end = p;
        *ret_whole = whole;
        *ret_frac = frac;
        return 0;
}

int parse_size(const char *s, uint64_t *ret) {
        static const struct {
                char c;
                unsigned shift;
        } suffixes[] = {
                { 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 }, { 'P', 50 },
        };
        uint64_t whole, frac, mult = 1, v;
        const char *end;
        int r;

        if (!s)
                return -EINVAL;
        r = parse_decimal(s, &end, &whole, &frac, 6);
        if (r < 0)
                return r;
        if (*end != '\0') {
                bool found = false;
                for (size_t i = 0; i < ELEMENTSOF(suffixes); i++)
                        if (toupper((unsigned char) *end) == suffixes[i].c) {
                                mult = UINT64_C(1) << suffixes[i].shift;
                                found = true;
                                break;
                        }
                if (!found && toupper((unsigned char) *end) != 'B')
                        return -EINVAL;
                if (found)
                        end++;
                if (strcasecmp(end, "iB") == 0 || strcasecmp(end, "B") == 0 || *end == '\0')
                        ;
                else
                        return -EINVAL;
        }
        if (mult == 1 && frac != 0)
                return -EINVAL; /* fractional bytes */
        if (whole > UINT64_MAX / mult)
                return -ERANGE;
        v = whole * mult;
        if (frac) {
                uint64_t add = (uint64_t) ((double) mult * (double) frac / 1e6);
                if (v > UINT64_MAX - add)
                        return -ERANGE;
                v += add;
        }
        *ret = v;
        return 0;
}

const char *format_size(char *buf, size_t len, uint64_t bytes) {
        static const char suffix[] = "KMGTP";
        int i = -1;

        while (i < 4 && bytes >= 1024 && bytes % 1024 == 0) {
                bytes /= 1024;
                i++;
        }
        if (i < 0)
                snprintf(buf, len, "%" PRIu64, bytes);
        else
                snprintf(buf, len, "%" PRIu64 "%c", bytes, suffix[i]);
        return buf;
}

int parse_cpus(const char *s, uint64_t *ret_quota_usec) {
        uint64_t whole, frac, q;
        const char *end;
        int r;

        if (!s)
                return -EINVAL;
        r = parse_decimal(s, &end, &whole, &frac, 6);
        if (r < 0)
                return r;
        if (*end != '\0')
                return -EINVAL;
        if (whole > 1024)
                return -ERANGE;
        q = whole * CPU_PERIOD_USEC + frac * CPU_PERIOD_USEC / 1000000;
        /* The kernel's minimum quota is 1ms. */
        if (q < 1000)
                return -ERANGE;
        *ret_quota_usec = q;
        return 0;
}

int parse_uid_gid(const char *s, uid_t *ret_uid, gid_t *ret_gid, bool *ret_has_gid) {
        _cleanup_free_ char *copy = NULL;
        uint32_t u, g = 0;
        char *colon;
        int r;

        if (!s)
                return -EINVAL;
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        colon = strchr(copy, ':');
        if (colon)
                *colon = '\0';
        r = parse_uint32(copy, &u);
        if (r < 0)
                return r;
        if (colon) {
                r = parse_uint32(colon + 1, &g);
                if (r < 0)
                        return r;
        }
        /* (uid_t) -1 means "unchanged" to setresuid(): never a valid id. */
        if (u == UINT32_MAX || g == UINT32_MAX)
                return -ERANGE;
        *ret_uid = u;
        *ret_gid = colon ? g : u;
        if (ret_has_gid)
                *ret_has_gid = colon != NULL;
        return 0;
}

static const char *const signal_names[] = {
        [SIGHUP] = "HUP",   [SIGINT] = "INT",     [SIGQUIT] = "QUIT",     [SIGILL] = "ILL",
        [SIGTRAP] = "TRAP", [SIGABRT] = "ABRT",   [SIGBUS] = "BUS",       [SIGFPE] = "FPE",
        [SIGKILL] = "KILL", [SIGUSR1] = "USR1",   [SIGSEGV] = "SEGV",     [SIGUSR2] = "USR2",
        [SIGPIPE] = "PIPE", [SIGALRM] = "ALRM",   [SIGTERM] = "TERM",     [SIGSTKFLT] = "STKFLT",
        [SIGCHLD] = "CHLD", [SIGCONT] = "CONT",   [SIGSTOP] = "STOP",     [SIGTSTP] = "TSTP",
        [SIGTTIN] = "TTIN", [SIGTTOU] = "TTOU",   [SIGURG] = "URG",       [SIGXCPU] = "XCPU",
        [SIGXFSZ] = "XFSZ", [SIGVTALRM] = "VTALRM", [SIGPROF] = "PROF",   [SIGWINCH] = "WINCH",
        [SIGIO] = "IO",     [SIGPWR] = "PWR",     [SIGSYS] = "SYS",
};

const char *signal_to_name(int sig) {
        if (sig > 0 && (size_t) sig < ELEMENTSOF(signal_names) && signal_names[sig])
                return signal_names[sig];
        return NULL;
}

int parse_signal(const char *s, int *ret) {
        uint32_t n;

        if (!s || !*s)
                return -EINVAL;
        if (isdigit((unsigned char) s[0])) {
                if (parse_uint32(s, &n) < 0 || n == 0 || n >= (uint32_t) NSIG)
                        return -EINVAL;
                *ret = (int) n;
                return 0;
        }
        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        for (size_t i = 1; i < ELEMENTSOF(signal_names); i++)
                if (signal_names[i] && strcasecmp(s, signal_names[i]) == 0) {
                        *ret = (int) i;
                        return 0;
                }
        return -EINVAL;
}

int parse_duration(const char *s, uint64_t *ret_usec) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                { "us", 1 }, { "ms", 1000 }, { "s", 1000000 }, { "", 1000000 },
                { "m", UINT64_C(60000000) }, { "h", UINT64_C(3600000000) },
        };
        uint64_t whole, frac;
        const char *end;
        int r;

        if (!s)
                return -EINVAL;
        r = parse_decimal(s, &end, &whole, &frac, 6);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (strcmp(end, units[i].suffix) == 0) {
                        if (whole > UINT64_MAX / units[i].usec / 2)
                                return -ERANGE;
                        *ret_usec = whole * units[i].usec + frac * units[i].usec / 1000000;
                        return 0;
                }
        return -EINVAL;
}

bool container_name_is_valid(const char *s) {
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (n == 0 || n > 63)
                return false;
        if (!isalnum((unsigned char) s[0]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && !strchr("_.-", s[i]))
                        return false;
        return strstr(s, "..") == NULL;
}

bool path_is_clean_absolute(const char *p) {
        const char *s = p;

        if (!p || p[0] != '/')
                return false;
        while (*s) {
                const char *e;
                size_t n;

                while (*s == '/')
                        s++;
                e = strchrnul(s, '/');
                n = (size_t) (e - s);
                if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
                        return false;
                s = e;
        }
        return true;
}

bool mq_name_is_valid(const char *s) {
        size_t n;

        /* What mq_open(3) takes: one leading slash, then a name the kernel
         * looks up in the queue file system (no slash, not "." or "..").
         * Control characters are refused too: the name ends up in the audit
         * log and on terminals. */
        if (!s || s[0] != '/')
                return false;
        n = strlen(s + 1);
        if (n == 0 || n > MQ_NAME_MAX || streq(s + 1, ".") || streq(s + 1, ".."))
                return false;
        for (size_t i = 1; i <= n; i++)
                if (s[i] == '/' || (unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return true;
}
