/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Aggregating repeated denials before they reach the audit log, so that a
 * container cannot push history out of the log by flooding it (invariant
 * 10).  Pure logic: the caller passes the clock and a function that writes
 * a record; nothing here does I/O or logs.
 *
 * A denial's key is its source (group, from) and what was asked (to, kind,
 * op, object, rule, reason; and the extra keys shadow_decision and
 * shadow_rule, which a summary carries on).  Per source and window (10 s):
 *  - the first key_burst denials of a key are written in full, the rest
 *    are counted; when the window closes a summary is written with the
 *    same fields and "suppressed":N,"first":TS,"last":TS (the times of the
 *    first and last counted denial); a key still being denied then goes on
 *    being counted (one summary per window), a quiet one is forgotten;
 *  - at most `budget` denials are written in full across all keys (an
 *    attacker varies the object: every key is new); beyond that, denials
 *    of new keys are counted per kind into one summary with to, op,
 *    object and rule null and "over_budget":true;
 *  - at most `slots` keys are tracked; a new key evicts the least recently
 *    denied one, writing its summary first.
 * So a source writes at most budget + slots + a few summaries per window
 * whatever it sends, and every denial is either written or counted in a
 * summary: written + the sum of "suppressed" = denials.  Anything but
 * "deny" (allows above all) passes through untouched. */

#include <stdint.h>

#include "shuttle/audit/audit.h"

#define AUDIT_AGG_WINDOW_USEC (UINT64_C(10) * 1000000U)
#define AUDIT_AGG_KEY_BURST 3
#define AUDIT_AGG_BUDGET 20
#define AUDIT_AGG_SLOTS 32
/* Kinds counted separately over the budget; the last one takes the rest. */
#define AUDIT_AGG_KINDS 8

typedef struct AuditAggOptions {
        uint64_t window_usec; /* 0 = AUDIT_AGG_WINDOW_USEC */
        unsigned key_burst;   /* 0 = AUDIT_AGG_KEY_BURST */
        unsigned budget;      /* 0 = AUDIT_AGG_BUDGET */
        unsigned slots;       /* 0 = AUDIT_AGG_SLOTS */
} AuditAggOptions;

/* Writes one record (a summary); returns 0 or a negative errno. */
typedef int (*AuditAggWriteFn)(void *userdata, const AuditRecord *rec);

typedef struct AuditAgg AuditAgg;

int audit_agg_new(const AuditAggOptions *opts, AuditAggWriteFn write, void *userdata, AuditAgg **ret);
/* Writes every pending summary (audit_agg_flush()) and frees. */
void audit_agg_free(AuditAgg *a);

/* Offers one record at now_usec (CLOCK_MONOTONIC) / real_usec
 * (CLOCK_REALTIME).  Returns 1 if the caller writes it in full, 0 if it was
 * counted; summaries it had to write first (an evicted key) went through
 * write().  A negative errno if one of those failed (the record's own
 * verdict is lost then: the caller writes it). */
int audit_agg_submit(AuditAgg *a, const AuditRecord *rec, uint64_t now_usec, uint64_t real_usec);
/* Closes the windows that have ended by now_usec, writing their summaries.
 * Returns the first write error (the summary is tried again next time). */
int audit_agg_tick(AuditAgg *a, uint64_t now_usec);
/* Writes every pending summary now (shutdown). */
int audit_agg_flush(AuditAgg *a);

/* Whether no window is open (nothing for audit_agg_tick() to close): the
 * broker's loop keeps its timer armed only while one is. */
bool audit_agg_idle(const AuditAgg *a);

/* Denials counted and not yet in a summary, for tests. */
uint64_t audit_agg_get_pending(const AuditAgg *a);
