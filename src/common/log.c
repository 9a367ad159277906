/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <jansson.h>

#include "common/log.h"

static const char *program = "shuttle";
static LogLevel max_level = LOG_LEVEL_INFO;
static LogTarget target = LOG_TARGET_STDERR;

static const char *const level_names[] = {
        [LOG_LEVEL_ERROR] = "error",
        [LOG_LEVEL_WARNING] = "warning",
        [LOG_LEVEL_NOTICE] = "notice",
        [LOG_LEVEL_INFO] = "info",
        [LOG_LEVEL_DEBUG] = "debug",
};

static const int syslog_prio[] = {
        [LOG_LEVEL_ERROR] = LOG_ERR,
        [LOG_LEVEL_WARNING] = LOG_WARNING,
        [LOG_LEVEL_NOTICE] = LOG_NOTICE,
        [LOG_LEVEL_INFO] = LOG_INFO,
        [LOG_LEVEL_DEBUG] = LOG_DEBUG,
};

void log_set_program(const char *name) {
        program = name;
}

void log_set_max_level(LogLevel level) {
        max_level = level;
}

LogLevel log_get_max_level(void) {
        return max_level;
}

void log_set_target(LogTarget t) {
        target = t;
        if (t == LOG_TARGET_SYSLOG)
                openlog(program, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int log_parse_level(const char *s, LogLevel *ret) {
        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (strcmp(s, level_names[i]) == 0) {
                        *ret = (LogLevel) i;
                        return 0;
                }
        return -EINVAL;
}

int log_internal(LogLevel level, int error, const char *file, int line, const char *fmt, ...) {
        int saved = errno;
        char msg[2048];
        va_list ap;

        if (error < 0)
                error = -error;
        if (level > max_level)
                return -error;

        /* %m refers to the error we were handed, not whatever errno holds. */
        errno = error;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        switch (target) {
        case LOG_TARGET_SYSLOG:
                syslog(syslog_prio[level], "%s", msg);
                break;
        case LOG_TARGET_JSON: {
                json_t *o = json_pack("{s:s, s:s, s:s, s:i}", "program", program, "level",
                                      level_names[level], "message", msg, "errno", error);
                if (o) {
                        char *s = json_dumps(o, JSON_COMPACT);
                        if (s)
                                fprintf(stderr, "%s\n", s);
                        free(s);
                        json_decref(o);
                }
                break;
        }
        case LOG_TARGET_STDERR:
        default:
                if (level <= LOG_LEVEL_WARNING)
                        fprintf(stderr, "%s: %s%s\n", program,
                                level == LOG_LEVEL_WARNING ? "warning: " : "", msg);
                else if (max_level >= LOG_LEVEL_DEBUG)
                        fprintf(stderr, "%s: [%s:%d] %s\n", program, file, line, msg);
                else
                        fprintf(stderr, "%s: %s\n", program, msg);
                break;
        }

        errno = saved;
        return -error;
}
