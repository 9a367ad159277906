/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Logging for entry points (library code returns errors, it does not log).
 * log_*_errno() log and return the negative errno, so a caller writes
 *     return log_error_errno(r, "Failed to open '%s': %m", p);
 * where %m expands to strerror(-r). */

#include <stdarg.h>
#include <stdbool.h>
#include "common/macro.h"

typedef enum LogLevel {
        LOG_LEVEL_ERROR,
        LOG_LEVEL_WARNING,
        LOG_LEVEL_NOTICE,
        LOG_LEVEL_INFO,
        LOG_LEVEL_DEBUG,
} LogLevel;

typedef enum LogTarget {
        LOG_TARGET_STDERR,
        LOG_TARGET_SYSLOG,
        LOG_TARGET_JSON,  /* one JSON object per line on stderr */
} LogTarget;

void log_set_program(const char *name);
void log_set_max_level(LogLevel level);
LogLevel log_get_max_level(void);
void log_set_target(LogTarget target);
int log_parse_level(const char *s, LogLevel *ret);

int log_internal(LogLevel level, int error, const char *file, int line, const char *fmt, ...) _printf_(5, 6);

#define log_full_errno(level, error, ...) \
        log_internal((level), (error), __FILE__, __LINE__, __VA_ARGS__)

#define log_error_errno(error, ...) log_full_errno(LOG_LEVEL_ERROR, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_LEVEL_WARNING, (error), __VA_ARGS__)
#define log_debug_errno(error, ...) log_full_errno(LOG_LEVEL_DEBUG, (error), __VA_ARGS__)

#define log_error(...) log_full_errno(LOG_LEVEL_ERROR, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_LEVEL_NOTICE, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)

static inline int log_oom(void) {
        return log_error_errno(-ENOMEM, "out of memory");
}
