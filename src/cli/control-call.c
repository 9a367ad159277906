/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "cli/control-call.h"
#include "common/log.h"
#include "common/macro.h"
#include "shuttle/host/control.h"

int cli_control_call(const char *verb, const char *state, json_t *req, json_t **ret_reply) {
        _cleanup_close_ int fd = -1;
        int r;

        if (!req)
                return log_oom();
        r = control_connect(state, &fd);
        if (r == -ENOENT || r == -ECONNREFUSED) {
                json_decref(req);
                log_error("%s: no broker is running on %s", verb, state);
                return r;
        }
        if (r >= 0)
                r = control_call(fd, req, ret_reply);
        json_decref(req);
        return r;
}

void cli_format_time(char *buf, size_t size, json_int_t t) {
        struct tm tm;
        time_t tt = (time_t) t;

        if (t <= 0 || !gmtime_r(&tt, &tm))
                snprintf(buf, size, "-");
        else
                strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
