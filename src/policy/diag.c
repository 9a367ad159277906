/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Diagnostics (errors and warnings as data) and the enum name tables. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy-internal.h"

static const char *const kind_names[_POLICY_KIND_MAX] = {
        [POLICY_KIND_IPC] = "ipc",
        [POLICY_KIND_INVOKE] = "invoke",
        [POLICY_KIND_TRANSFER] = "transfer",
        [POLICY_KIND_DEPEND] = "depend",
        [POLICY_KIND_SIGNAL] = "signal",
};
static const char *const audit_names[_POLICY_AUDIT_MAX] = {
        [POLICY_AUDIT_ALL] = "all",
        [POLICY_AUDIT_DENY] = "deny",
        [POLICY_AUDIT_NONE] = "none",
};
static const char *const mode_names[_POLICY_MODE_MAX] = {
        [POLICY_MODE_NONE] = "none",
        [POLICY_MODE_RO] = "ro",
        [POLICY_MODE_RW] = "rw",
        [POLICY_MODE_WO] = "wo",
};
static const char *const ipc_names[_POLICY_IPC_MAX] = {
        [POLICY_IPC_ANY] = "any",
        [POLICY_IPC_UNIX] = "unix",
        [POLICY_IPC_TCP] = "tcp",
        [POLICY_IPC_FIFO] = "fifo",
        [POLICY_IPC_MQ] = "mq",
        [POLICY_IPC_SHM] = "shm",
};
static const char *const name_names[_POLICY_NAME_MAX] = {
        [POLICY_NAME_PATH] = "path",
        [POLICY_NAME_PID] = "pid",
        [POLICY_NAME_SERVICE] = "service",
        [POLICY_NAME_HOST] = "host",
};

static int lookup(const char *const *table, int n, const char *s) {
        if (!s)
                return -1;
        for (int i = 0; i < n; i++)
                if (table[i] && streq(table[i], s))
                        return i;
        return -1;
}

#define DEFINE_STRING_TABLE(name, type, table, max)                      \
        const char *name##_to_string(type v) {                           \
                return v >= 0 && (int) v < (max) ? table[v] : NULL;      \
        }                                                                \
        type name##_from_string(const char *s) {                         \
                return (type) lookup(table, (max), s);                   \
        }

DEFINE_STRING_TABLE(policy_kind, PolicyKind, kind_names, _POLICY_KIND_MAX)
DEFINE_STRING_TABLE(policy_audit, PolicyAudit, audit_names, _POLICY_AUDIT_MAX)
DEFINE_STRING_TABLE(policy_mode, PolicyMode, mode_names, _POLICY_MODE_MAX)
DEFINE_STRING_TABLE(policy_ipc_type, PolicyIpcType, ipc_names, _POLICY_IPC_MAX)
DEFINE_STRING_TABLE(policy_name, PolicyName, name_names, _POLICY_NAME_MAX)

const char *policy_verdict_to_string(PolicyVerdict v) {
        return v == POLICY_ALLOW ? "allow" : "deny";
}

static void diagnostic_done(PolicyDiagnostic *d) {
        free(d->file);
        free(d->message);
}

void policy_diagnostics_clear(PolicyDiagnostics *d) {
        if (!d)
                return;
        for (size_t i = 0; i < d->n_errors; i++)
                diagnostic_done(&d->errors[i]);
        for (size_t i = 0; i < d->n_warnings; i++)
                diagnostic_done(&d->warnings[i]);
        free(d->errors);
        free(d->warnings);
        *d = (PolicyDiagnostics) {};
}

int diags_addv(PolicyDiagnostics *d, bool warning, const char *file, unsigned line, unsigned column,
               const char *fmt, va_list ap) {
        PolicyDiagnostic **list = warning ? &d->warnings : &d->errors;
        size_t *n = warning ? &d->n_warnings : &d->n_errors;
        _cleanup_free_ char *msg = NULL, *f = NULL;
        PolicyDiagnostic *nl;

        /* A hostile file must not make us build an unbounded list: past the
         * cap, one last entry says so and the rest are dropped. */
        if (*n > POLICY_ERRORS_MAX)
                return 0;
        if (*n == POLICY_ERRORS_MAX) {
                if (asprintf(&msg, "too many %s, giving up", warning ? "warnings" : "errors") < 0)
                        return -ENOMEM;
        } else if (vasprintf(&msg, fmt, ap) < 0)
                return -ENOMEM;
        f = strdup(file ?: "<policy>");
        if (!f)
                return -ENOMEM;
        nl = realloc(*list, (*n + 1) * sizeof(PolicyDiagnostic));
        if (!nl)
                return -ENOMEM;
        *list = nl;
        nl[(*n)++] = (PolicyDiagnostic) {
                .file = TAKE_PTR(f),
                .line = line,
                .column = column,
                .message = TAKE_PTR(msg),
        };
        return 0;
}

int diags_add(PolicyDiagnostics *d, bool warning, const char *file, unsigned line, unsigned column,
              const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = diags_addv(d, warning, file, line, column, fmt, ap);
        va_end(ap);
        return r;
}

static int append_all(PolicyDiagnostic **to, size_t *n_to, PolicyDiagnostic **from, size_t *n_from) {
        PolicyDiagnostic *nl;

        if (*n_from == 0)
                return 0;
        nl = realloc(*to, (*n_to + *n_from) * sizeof(PolicyDiagnostic));
        if (!nl)
                return -ENOMEM;
        memcpy(nl + *n_to, *from, *n_from * sizeof(PolicyDiagnostic));
        *to = nl;
        *n_to += *n_from;
        free(*from);
        *from = NULL;
        *n_from = 0;
        return 0;
}

/* Appends from's entries to 'to' (if not NULL) and empties 'from'. */
void diags_move(PolicyDiagnostics *to, PolicyDiagnostics *from) {
        if (to) {
                (void) append_all(&to->errors, &to->n_errors, &from->errors, &from->n_errors);
                (void) append_all(&to->warnings, &to->n_warnings, &from->warnings, &from->n_warnings);
        }
        policy_diagnostics_clear(from);
}

void policy_diagnostic_print(const PolicyDiagnostic *d, bool warning, FILE *f) {
        if (d->line > 0)
                fprintf(f, "%s:%u:%u: %s%s\n", d->file, d->line, d->column,
                        warning ? "warning: " : "", d->message);
        else
                fprintf(f, "%s: %s%s\n", d->file, warning ? "warning: " : "", d->message);
}

void policy_diagnostics_print(const PolicyDiagnostics *d, FILE *f) {
        if (!d)
                return;
        for (size_t i = 0; i < d->n_errors; i++)
                policy_diagnostic_print(&d->errors[i], false, f);
        for (size_t i = 0; i < d->n_warnings; i++)
                policy_diagnostic_print(&d->warnings[i], true, f);
}
