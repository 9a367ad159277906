/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The request an audit record asks (audit-request.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/audit-request.h"
#include "common/macro.h"
#include "common/parse.h"

static const char *str(json_t *rec, const char *key) {
        return json_string_value(json_object_get(rec, key));
}

static void qualify(char *buf, size_t size, const char *group, const char *name) {
        if (group && !strchr(name, '/'))
                snprintf(buf, size, "%s/%s", group, name);
        else
                snprintf(buf, size, "%s", name);
}

/* The request of a record the policy decided; -EINVAL with *why for one
 * that decides nothing the policy can be asked again. */
int audit_record_request(json_t *rec, AuditRequest *a, const char **why) {
        const char *from = str(rec, "from"), *to = str(rec, "to"), *kind = str(rec, "kind"), *op = str(rec, "op"),
                   *object = str(rec, "object"), *mode = str(rec, "mode");
        PolicyKind k = kind ? policy_kind_from_string(kind) : _POLICY_KIND_INVALID;
        char *sep;

        *why = "it records no request the policy decides (only ipc, invoke, transfer, depend and signal "
               "requests are)";
        if (!from || !to || !op || !object || k < 0 || streq(from, "-"))
                return -EINVAL;
        if (streq(op, "revoke") || streq(op, "end") || streq(op, "adopt") || streq(op, "restore")) {
                *why = "it records a grant that ends or is restored, not a request";
                return -EINVAL;
        }
        qualify(a->from, sizeof(a->from), str(rec, "group"), from);
        qualify(a->to, sizeof(a->to), str(rec, "to_group"), to);
        snprintf(a->object, sizeof(a->object), "%s", object);
        a->req = (PolicyRequest){ .from = a->from, .to = a->to, .kind = k, .object = a->object };

        switch (k) {
        case POLICY_KIND_IPC:
                /* "target.endpoint": service names have no dot. */
                sep = strrchr(a->object, '.');
                if (!sep)
                        return -EINVAL;
                a->req.object = sep + 1;
                if (str(rec, "type"))
                        a->req.ipc_type = policy_ipc_type_from_string(str(rec, "type"));
                if (a->req.ipc_type < 0)
                        a->req.ipc_type = POLICY_IPC_ANY;
                if (mode)
                        a->req.mode = policy_mode_from_string(mode);
                if (a->req.mode < 0)
                        a->req.mode = POLICY_MODE_NONE;
                break;
        case POLICY_KIND_INVOKE: {
                json_t *args = json_object_get(rec, "args");
                size_t i, n = 0, len;
                json_t *v;

                if (!streq(op, "exec")) {
                        *why = "it records no invocation asked for (op exec)";
                        return -EINVAL;
                }
                /* object is the app and its arguments, joined by spaces (cut
                 * if long); "args" has the arguments one by one (null if
                 * they were too long to record, absent if one was not
                 * UTF-8). */
                json_array_foreach(args, i, v) {
                        if (!json_is_string(v) || n >= AUDIT_REQUEST_ARGS_MAX)
                                return -EINVAL;
                        a->args[n++] = json_string_value(v);
                }
                len = strlen(a->object);
                for (i = n; i > 0; i--) {
                        size_t l = strlen(a->args[i - 1]);
                        if (l + 1 > len || a->object[len - l - 1] != ' ' ||
                            memcmp(a->object + len - l, a->args[i - 1], l) != 0)
                                break;
                        len -= l + 1;
                }
                if (i > 0 || (!json_is_array(args) && strchr(a->object, ' '))) {
                        /* Best effort: the app is what comes before the
                         * first space, with no arguments. */
                        a->note = "the record does not have the arguments exactly: decided with none, and the "
                                  "app as the object's first word";
                        len = strcspn(a->object, " ");
                        n = 0;
                }
                a->object[len] = 0;
                a->req.args = a->args;
                a->req.n_args = n;
                break;
        }
        case POLICY_KIND_TRANSFER:
                if (streq(op, "open")) {
                        a->req.name_kind = POLICY_NAME_PATH;
                        a->req.mode = mode && streq(mode, "rw") ? POLICY_MODE_RW : POLICY_MODE_RO;
                } else if (streq(op, "resolve")) {
                        if (strneq(a->object, "pid:", 4)) {
                                a->req.name_kind = POLICY_NAME_PID;
                                a->req.object = a->object + 4;
                        } else if (strneq(a->object, "service:", 8)) {
                                a->req.name_kind = POLICY_NAME_SERVICE;
                                a->req.object = a->object + 8;
                        } else if (streq(a->object, "host")) {
                                a->req.name_kind = POLICY_NAME_HOST;
                                a->req.object = NULL;
                        } else
                                return -EINVAL;
                } else {
                        *why = "it records no transfer asked for (op open or resolve)";
                        return -EINVAL;
                }
                break;
        case POLICY_KIND_DEPEND:
                if (!streq(op, "mount") || !str(rec, "path")) {
                        *why = "it records no tree mounted (op mount)";
                        return -EINVAL;
                }
                snprintf(a->object, sizeof(a->object), "%s", str(rec, "path"));
                a->req.mode = mode && streq(mode, "rw") ? POLICY_MODE_RW : POLICY_MODE_RO;
                break;
        case POLICY_KIND_SIGNAL:
                /* "executable:SIGTERM", or a number for a signal without a name. */
                sep = strrchr(a->object, ':');
                if (!sep || parse_signal(sep + 1, &a->req.signal) < 0)
                        return -EINVAL;
                *sep = 0;
                break;
        default:
                return -EINVAL;
        }
        return 0;
}
