/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "shuttle/audit/audit.h"

/* Prints the requests of the log at path (with rotated: its rotated files
 * first) that filter takes and whose shadow_decision differs from their
 * decision, grouped by (from, to, kind, object, decision, shadow
 * decision) with counts, most first: a table, or a JSON array.  Returns
 * 0, or a negative errno (said on stderr). */
int audit_shadow_diff(const char *path, bool rotated, const AuditFilter *filter, bool json);
