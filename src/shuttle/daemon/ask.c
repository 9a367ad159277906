/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Requests an 'ask' rule allowed, waiting for an operator's answer
 * (shuttlectl ask ls|allow|deny).  The loop never waits: a request to ask
 * about is parked here (its frame as received, re-encoded, and the
 * descriptors it carried), the caller simply gets no reply yet, and every
 * other request, the caller's own included, goes on.  The answer (from the
 * control socket, or the timer's "ask timed out") sends the request
 * through the pipeline again with that answer, so it is decided, carried
 * out, audited and answered like any other: one record, naming who
 * answered and how.
 *
 * Bounded: BROKER_ASKS_PER_CONTAINER pending asks per caller (more are
 * denied at once, "too many pending asks", aggregated like any denial) and
 * BROKER_ASKS_MAX in all.  A caller that hangs up loses its pending asks
 * (audited).  `ask allow --for D` leaves a grant here: the same request
 * (from, kind, to, object) decided by an ask rule is allowed without
 * asking until it expires, for the container instance it was given to
 * alone (its init's pid and start time, not its name): it is dropped,
 * audited, when that container unregisters or dies, so a container
 * started later under the same name is asked again.  The target is named
 * as the policy names it, by its name.  Grants survive policy reloads
 * (they answer asks only, so a reload that takes the ask rule away takes
 * them out of use) and a restart of the broker: each has a record under
 * <state>/grants/ (grants.c), written before the request it answers goes
 * on, removed when it expires, and read back at start (ask_grant_restore())
 * only for the very container it was given to (re-adopted: the same name,
 * pid and start time) and only if it has not expired meanwhile (the wall
 * clock). */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/parse.h"
#include "common/time-util.h"
#include "shuttle/daemon/core.h"
#include "shuttle/host/control.h"
#include "shuttle/client/protocol.h"

typedef struct Ask {
        uint64_t id;
        Container *from;
        Client *client;        /* NULL: a proxy socket's connection (fds[0]) */
        char *to, *kind, *op, *object, *rule;
        /* What the policy was asked (for the rule `--always` writes). */
        PolicyKind pkind;
        PolicyIpcType ipc_type;
        char *pto, *pobject;
        char **args;           /* invoke: NULL-terminated */
        void *frame;
        size_t frame_len;
        int fds[SHUTTLE_FDS_MAX];
        size_t n_fds;
        uint64_t since_usec, deadline_usec; /* CLOCK_MONOTONIC */
        time_t since, deadline;             /* the same, on the wall clock */
        struct Ask *next;
} Ask;

typedef struct AskGrant {
        uint64_t id;
        char *from, *to, *kind, *object;
        time_t until;
        uid_t uid;
        pid_t pid;
        json_t *container;     /* the container it was given to, as its record names it */
        /* That container's instance (its init's pid and start time): a
         * grant answers for it alone, and goes when it does (a container
         * started later under the same name is asked again). */
        pid_t cpid;
        uint64_t cstart;
        struct AskGrant *next;
} AskGrant;

#define ASK_GRANT_VERSION 1

static const char *const how_names[_ASK_HOW_MAX] = {
        [ASK_ONCE] = "once", [ASK_FOR] = "for", [ASK_ALWAYS] = "always", [ASK_DENY] = "deny",
        [ASK_TIMEOUT] = "timeout",
};

static void ask_free(Ask *a) {
        if (!a)
                return;
        for (size_t i = 0; i < a->n_fds; i++)
                safe_close(a->fds[i]);
        free(a->to);
        free(a->kind);
        free(a->op);
        free(a->object);
        free(a->rule);
        free(a->pto);
        free(a->pobject);
        for (char **i = a->args; i && *i; i++)
                free(*i);
        free(a->args);
        free(a->frame);
        free(a);
}

static void grant_free(AskGrant *g) {
        if (!g)
                return;
        free(g->from);
        free(g->to);
        free(g->kind);
        free(g->object);
        json_decref(g->container);
        free(g);
}

/* Takes a out of the table (not freed). */
static void ask_unlink(Broker *b, Ask *a) {
        for (Ask **i = &b->asks; *i; i = &(*i)->next)
                if (*i == a) {
                        *i = a->next;
                        break;
                }
        a->next = NULL;
        b->n_asks--;
        a->from->n_asks--;
}

static bool str_eq(const char *a, const char *b) {
        return streq(a ?: "", b ?: "");
}

static AskGrant *grant_find(Broker *b, const Request *r, time_t now) {
        for (AskGrant **i = &b->ask_grants; *i;) {
                AskGrant *g = *i;
                if (g->until < now) {
                        /* Expired: forgotten on the way (ask_tick audits it). */
                        i = &g->next;
                        continue;
                }
                if (str_eq(g->from, r->from->qname) && g->cpid == r->from->pid &&
                    g->cstart == r->from->start_time && str_eq(g->kind, r->kind) && str_eq(g->to, r->to) &&
                    str_eq(g->object, r->object))
                        return g;
                i = &g->next;
        }
        return NULL;
}

static json_t *answer_json(const AskAnswer *a) {
        json_t *o = json_pack("{s:I, s:s, s:I}", "id", (json_int_t) a->id, "answer", how_names[a->how], "waited_ms",
                              (json_int_t) (a->waited_usec / 1000));

        if (o && a->how != ASK_TIMEOUT) {
                json_object_set_new(o, "by_uid", json_integer((json_int_t) a->uid));
                json_object_set_new(o, "by_pid", json_integer((json_int_t) a->pid));
        }
        if (o && a->how == ASK_ALWAYS && a->rule_written) {
                json_object_set_new(o, "rule_written", json_string(a->rule_written));
                json_object_set_new(o, "file", json_string(a->file));
        }
        if (o && a->how == ASK_FOR) {
                json_object_set_new(o, "grant", json_integer((json_int_t) a->grant_id));
                json_object_set_new(o, "for_s", json_integer((json_int_t) (a->for_usec / 1000000)));
        }
        return o;
}

static int ask_park(Broker *b, Request *r) {
        char buf[SHUTTLE_FRAME_MAX];
        uint64_t now = clock_usec(CLOCK_MONOTONIC);
        ShuttleMsg m = *r->msg;
        size_t len = 0;
        Ask **tail;
        Ask *a;

        /* A proxy socket's connection is a CONNECT without a request id
         * (nothing is sent back on it), which the encoder refuses. */
        if (!r->client && m.id == 0)
                m.id = 1;
        if (shuttle_msg_encode(&m, buf, sizeof(buf), &len, NULL) < 0)
                return -EINVAL;
        a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        a->frame = malloc(len);
        a->to = r->to ? strdup(r->to) : NULL;
        a->kind = strdup(r->kind);
        a->op = strdup(r->op);
        a->object = strdup(r->object);
        a->rule = strdup(r->d.rule_id ?: "-");
        if (!a->frame || (r->to && !a->to) || !a->kind || !a->op || !a->object || !a->rule) {
                ask_free(a);
                return -ENOMEM;
        }
        a->pkind = r->policy.kind;
        a->ipc_type = r->policy.ipc_type;
        a->pto = strdup(r->policy.to ?: "");
        a->pobject = r->policy.object ? strdup(r->policy.object) : NULL;
        a->args = calloc(r->policy.n_args + 1, sizeof(char *));
        if (!a->pto || (r->policy.object && !a->pobject) || !a->args) {
                ask_free(a);
                return -ENOMEM;
        }
        for (size_t i = 0; i < r->policy.n_args; i++)
                if (!(a->args[i] = strdup(r->policy.args[i]))) {
                        ask_free(a);
                        return -ENOMEM;
                }
        memcpy(a->frame, buf, len);
        a->frame_len = len;
        a->id = ++b->next_ask_id;
        a->from = r->from;
        a->client = r->client;
        a->since_usec = now;
        a->deadline_usec = now + r->d.ask_usec;
        a->since = time(NULL);
        a->deadline = a->since + (time_t) ((r->d.ask_usec + 999999) / 1000000);
        /* The descriptors are the request's: kept while it waits. */
        for (size_t i = 0; i < r->n_fds && i < SHUTTLE_FDS_MAX; i++) {
                a->fds[i] = r->fds[i];
                r->fds[i] = -1;
        }
        a->n_fds = MIN(r->n_fds, (size_t) SHUTTLE_FDS_MAX);
        /* In order of arrival: ls lists them so. */
        tail = &b->asks;
        while (*tail)
                tail = &(*tail)->next;
        *tail = a;
        b->n_asks++;
        r->from->n_asks++;
        return 1;
}

static void deny(Request *r, const char *reason) {
        r->d.verdict = POLICY_DENY;
        r->d.ask_usec = 0;
        snprintf(r->why, sizeof(r->why), "%s", reason);
        r->d.reason = r->why;
        r->d.audited = true;
}

int ask_decide(Broker *b, Request *r, const AskAnswer *a) {
        json_t *extra;
        AskGrant *g;
        int k;

        if (a) {
                /* Answered: as the policy says now (a reload meanwhile may
                 * have denied it, or allowed it outright), with the
                 * operator's word for what the ask rule left open. */
                extra = request_extra(r);
                if (extra)
                        json_object_set_new(extra, "ask", answer_json(a));
                if (a->how == ASK_TIMEOUT)
                        deny(r, "ask timed out");
                else if (a->how == ASK_DENY)
                        deny(r, "ask denied by the operator");
                else if (r->d.verdict == POLICY_ALLOW && r->d.ask_usec) {
                        r->d.ask_usec = 0;
                        r->d.audited = true;
                        r->d.reason = a->how == ASK_ONCE  ? "ask allowed once by the operator"
                                    : a->how == ASK_FOR   ? "ask allowed by the operator, with a grant for a while"
                                                          : "ask allowed always by the operator";
                }
                return 0;
        }
        if (r->d.verdict != POLICY_ALLOW || !r->d.ask_usec)
                return 0;
        g = grant_find(b, r, r->policy.now);
        if (g) {
                r->d.ask_usec = 0;
                r->d.audited = true;
                r->d.reason = "allowed by an ask grant";
                extra = request_extra(r);
                if (extra)
                        json_object_set_new(extra, "ask_grant", json_integer((json_int_t) g->id));
                return 0;
        }
        if (r->from->n_asks >= BROKER_ASKS_PER_CONTAINER) {
                deny(r, "too many pending asks");
                return 0;
        }
        if (b->n_asks >= BROKER_ASKS_MAX) {
                deny(r, "too many pending asks in the broker");
                return 0;
        }
        k = ask_park(b, r);
        if (k < 0) {
                deny(r, k == -ENOMEM ? "out of memory for the ask" : "request could not be kept for the ask");
                return 0;
        }
        log_info("Request %" PRIu64 " from '%s' (%s %s) waits for an operator: shuttlectl ask ls", b->next_ask_id,
                 r->from->qname, r->kind, r->object);
        return 1;
}

/* The request through the pipeline again, with its answer; a is freed. */
static void ask_resume(Broker *b, Ask *a, const AskAnswer *ans) {
        ask_unlink(b, a);
        pipeline_resume(b, a->from, a->client, a->frame, a->frame_len, a->fds, a->n_fds, ans);
        ask_free(a);
}

/* Dropped without an answer (the caller went away): its record. */
static void ask_drop(Broker *b, Ask *a, const char *why) {
        ask_unlink(b, a);
        broker_audit_event(b, &(AuditEvent){
                                      .from = a->from,
                                      .to = a->to,
                                      .kind = a->kind,
                                      .op = a->op,
                                      .object = a->object,
                                      .allow = false,
                                      .rule = a->rule,
                                      .reason = why,
                                      .extra = json_pack("{s:{s:I, s:s}}", "ask", "id", (json_int_t) a->id,
                                                         "answer", "dropped"),
                              });
        ask_free(a);
}

/* What happens to a grant outside a request: its record in the audit log
 * (extra's reference is taken). */
static void audit_grant(Broker *b, const Container *c, const AskGrant *g, bool allow, const char *reason,
                        json_t *extra) {
        broker_audit_event(b, &(AuditEvent){
                                      .from = c,
                                      .to = g->to,
                                      .kind = g->kind,
                                      .op = "ask-grant",
                                      .object = g->object,
                                      .allow = allow,
                                      .rule = "-",
                                      .reason = reason,
                                      .extra = extra,
                              });
}

void ask_tick(Broker *b, uint64_t now_usec) {
        time_t now = time(NULL);

        for (Ask *a = b->asks, *next; a; a = next) {
                next = a->next;
                if (a->deadline_usec <= now_usec) {
                        AskAnswer ans = { .id = a->id, .how = ASK_TIMEOUT, .uid = (uid_t) -1,
                                          .waited_usec = now_usec - a->since_usec };
                        ask_resume(b, a, &ans);
                        /* The pipeline may have dropped other asks (a
                         * client that stopped reading): start over. */
                        next = b->asks;
                }
        }
        for (AskGrant **i = &b->ask_grants; *i;) {
                AskGrant *g = *i;
                if (g->until >= now) {
                        i = &g->next;
                        continue;
                }
                *i = g->next;
                grant_remove(b, GRANT_ASK, g->id);
                audit_grant(b, container_find(b, g->from), g, false, "ask grant expired",
                            json_pack("{s:I}", "ask_grant", (json_int_t) g->id));
                grant_free(g);
        }
}

void ask_client_gone(Broker *b, Client *cl) {
        for (Ask *a = b->asks, *next; a; a = next) {
                next = a->next;
                if (a->client == cl)
                        ask_drop(b, a, "caller went away while asking");
        }
}

void ask_container_gone(Broker *b, Container *c) {
        for (Ask *a = b->asks, *next; a; a = next) {
                next = a->next;
                if (a->from == c)
                        ask_drop(b, a, "caller went away while asking");
        }
        /* Its grants were given to it, not to its name: they go with it,
         * record and all, as they would have at a restart of the broker. */
        for (AskGrant **i = &b->ask_grants; *i;) {
                AskGrant *g = *i;
                if (!streq(g->from, c->qname) || g->cpid != c->pid || g->cstart != c->start_time) {
                        i = &g->next;
                        continue;
                }
                *i = g->next;
                grant_remove(b, GRANT_ASK, g->id);
                audit_grant(b, c, g, false, "the container it was given to stopped",
                            json_pack("{s:I, s:I}", "ask_grant", (json_int_t) g->id, "until", (json_int_t) g->until));
                grant_free(g);
        }
}

void ask_drop_all(Broker *b) {
        while (b->asks)
                ask_drop(b, b->asks, "broker stopped while asking");
        /* Their records stay: the next broker restores them. */
        while (b->ask_grants) {
                AskGrant *g = b->ask_grants;
                b->ask_grants = g->next;
                grant_free(g);
        }
}

json_t *ask_control_ls(Broker *b) {
        uint64_t now = clock_usec(CLOCK_MONOTONIC);
        json_t *list = json_array(), *grants = json_array(), *reply;

        if (!list || !grants)
                goto oom;
        for (Ask *a = b->asks; a; a = a->next) {
                json_t *o = json_pack("{s:I, s:s, s:s?, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "id", (json_int_t) a->id,
                                      "from", a->from->qname, "to", a->to, "kind", a->kind, "op", a->op, "object",
                                      a->object, "rule", a->rule, "age_ms", (json_int_t) ((now - a->since_usec) / 1000),
                                      "since", (json_int_t) a->since, "deadline", (json_int_t) a->deadline);
                if (!o || json_array_append_new(list, o) < 0)
                        goto oom;
        }
        for (AskGrant *g = b->ask_grants; g; g = g->next) {
                json_t *o = json_pack("{s:I, s:s, s:s?, s:s, s:s, s:I, s:I, s:I}", "id", (json_int_t) g->id, "from",
                                      g->from, "to", g->to, "kind", g->kind, "object", g->object, "until",
                                      (json_int_t) g->until, "by_uid", (json_int_t) g->uid, "by_pid",
                                      (json_int_t) g->pid);
                if (!o || json_array_append_new(grants, o) < 0)
                        goto oom;
        }
        reply = control_reply_ok();
        if (!reply)
                goto oom;
        json_object_set_new(reply, "asks", list);
        json_object_set_new(reply, "grants", grants);
        return reply;
oom:
        json_decref(list);
        json_decref(grants);
        return control_reply_error(ENOMEM, "out of memory");
}

static int grant_add(Broker *b, const Ask *a, const ControlConn *cc, uint64_t for_usec, uint64_t *ret_id) {
        AskGrant *g = calloc(1, sizeof(*g));
        int k;

        if (!g)
                return -ENOMEM;
        g->from = strdup(a->from->qname);
        g->to = a->to ? strdup(a->to) : NULL;
        g->kind = strdup(a->kind);
        g->object = strdup(a->object);
        if (!g->from || (a->to && !g->to) || !g->kind || !g->object) {
                grant_free(g);
                return -ENOMEM;
        }
        g->id = ++b->next_ask_grant_id;
        g->until = time(NULL) + (time_t) (for_usec / 1000000);
        g->uid = cc->peer_uid;
        g->pid = cc->peer_pid;
        g->container = grant_container_json(a->from);
        g->cpid = a->from->pid;
        g->cstart = a->from->start_time;
        if (!g->container) {
                grant_free(g);
                return -ENOMEM;
        }
        /* On disk before the request goes on: a grant a restarted broker
         * would not know is not given. */
        k = grant_save(b, GRANT_ASK, g->id,
                       json_pack("{s:i, s:I, s:s, s:s?, s:s, s:s, s:I, s:I, s:I, s:O}", "version",
                                 ASK_GRANT_VERSION, "id", (json_int_t) g->id, "from", g->from, "to", g->to,
                                 "kind", g->kind, "object", g->object, "until", (json_int_t) g->until, "by_uid",
                                 (json_int_t) g->uid, "by_pid", (json_int_t) g->pid, "container", g->container));
        if (k < 0) {
                grant_free(g);
                return k;
        }
        g->next = b->ask_grants;
        b->ask_grants = g;
        *ret_id = g->id;
        return 0;
}

/* A grant's record, read back at start (grants.c): restored, or audited
 * as gone (and then a negative errno: the record is removed). */
int ask_grant_restore(Broker *b, uint64_t id, const json_t *o) {
        const char *from = json_string_value(json_object_get(o, "from"));
        const char *to = json_string_value(json_object_get(o, "to"));
        const char *kind = json_string_value(json_object_get(o, "kind"));
        const char *object = json_string_value(json_object_get(o, "object"));
        json_t *until = json_object_get(o, "until"), *version = json_object_get(o, "version");
        json_t *idj = json_object_get(o, "id"), *cj = json_object_get(o, "container");
        json_t *uid = json_object_get(o, "by_uid"), *pid = json_object_get(o, "by_pid");
        json_t *toj = json_object_get(o, "to");
        const char *why = NULL;
        Container *c = NULL;
        AskGrant *g;

        if (!json_is_integer(version) || json_integer_value(version) != ASK_GRANT_VERSION || !json_is_integer(idj) ||
            (uint64_t) json_integer_value(idj) != id || !from || (toj && !json_is_null(toj) && !to) ||
            !kind || !object || !json_is_integer(until) || !json_is_object(cj) || !json_is_integer(uid) ||
            !json_is_integer(pid))
                why = "its record in the state directory is unreadable";
        else if ((time_t) json_integer_value(until) < time(NULL))
                why = "ask grant expired while the broker was down";
        else if (!(c = grant_container_find(b, cj)) || !streq(c->qname, from)) {
                c = NULL;
                why = "the container it was given to stopped while the broker was down";
        }
        if (why) {
                /* A container that is gone is named as the record names it. */
                Container ghost = {
                        .name = (char *) (json_string_value(json_object_get(cj, "name")) ?: "-"),
                        .group = (char *) json_string_value(json_object_get(cj, "group")),
                };

                broker_audit_event(b, &(AuditEvent){
                                              .from = c ?: &ghost,
                                              .to = to,
                                              .kind = kind ?: "-",
                                              .op = "ask-grant",
                                              .object = object ?: "-",
                                              .allow = false,
                                              .rule = "-",
                                              .reason = why,
                                              .extra = json_pack("{s:I, s:s?}", "ask_grant", (json_int_t) id,
                                                                 "granted_to", from),
                                      });
                return -ENOENT;
        }
        g = calloc(1, sizeof(*g));
        if (!g)
                return -ENOMEM;
        g->id = id;
        g->from = strdup(from);
        g->to = to ? strdup(to) : NULL;
        g->kind = strdup(kind);
        g->object = strdup(object);
        g->container = json_deep_copy(cj);
        if (!g->from || (to && !g->to) || !g->kind || !g->object || !g->container) {
                grant_free(g);
                return -ENOMEM;
        }
        g->until = (time_t) json_integer_value(until);
        g->uid = (uid_t) json_integer_value(uid);
        g->pid = (pid_t) json_integer_value(pid);
        g->cpid = c->pid;
        g->cstart = c->start_time;
        g->next = b->ask_grants;
        b->ask_grants = g;
        audit_grant(b, c, g, true, "restored after a broker restart",
                    json_pack("{s:I, s:I}", "ask_grant", (json_int_t) id, "until", (json_int_t) g->until));
        return 0;
}

/* ---- --always: a rule in the drop-in file ------------------------------ */

/* s as a YAML double-quoted scalar; as a glob that matches only s if glob. */
static int put_literal(FILE *f, const char *s, bool glob) {
        _cleanup_free_ char *esc = malloc(strlen(s) * 2 + 1);
        char *t, *o;
        json_t *j;

        if (!esc)
                return -ENOMEM;
        o = esc;
        for (const char *i = s; *i; i++) {
                if (glob && strchr("*?[]\\", *i))
                        *o++ = '\\';
                *o++ = *i;
        }
        *o = 0;
        j = json_string(esc);
        t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
        json_decref(j);
        if (!t)
                return -ENOMEM;
        fputs(t, f);
        free(t);
        return 0;
}

/* The rule that allows exactly a's request, or NULL with why. */
static char *approve_rule(const Ask *a, const char *id, const ControlConn *cc, char *why, size_t size) {
        char *text = NULL, when[32];
        size_t len = 0;
        time_t now = time(NULL);
        struct tm tm;
        FILE *f;
        bool ok = true;

        if (a->pkind != POLICY_KIND_IPC && a->pkind != POLICY_KIND_INVOKE) {
                snprintf(why, size, "--always writes ipc and invoke rules only (this is %s): use --for, or write "
                                    "the rule yourself", a->kind);
                return NULL;
        }
        if (!a->pobject || !a->pto[0]) {
                snprintf(why, size, "the request names no target to write a rule for");
                return NULL;
        }
        for (char **i = a->args; i && *i; i++)
                if (streq(*i, "...")) {
                        snprintf(why, size, "an argument '...' cannot be written as a literal: write the rule "
                                            "yourself");
                        return NULL;
                }
        f = open_memstream(&text, &len);
        if (!f)
                return NULL;
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        fprintf(f, "  # ask %" PRIu64 ", allowed always at %s by uid %u (pid %d)\n", a->id, when,
                (unsigned) cc->peer_uid, (int) cc->peer_pid);
        fprintf(f, "  - id: %s\n    from: ", id);
        ok = put_literal(f, a->from->qname, true) >= 0;
        fputs("\n    to: ", f);
        ok = ok && put_literal(f, a->pto, true) >= 0;
        if (a->pkind == POLICY_KIND_IPC) {
                fputs("\n    allow: ipc\n    endpoint: ", f);
                ok = ok && put_literal(f, a->pobject, true) >= 0;
                if (a->ipc_type != POLICY_IPC_ANY)
                        fprintf(f, "\n    type: %s", policy_ipc_type_to_string(a->ipc_type));
        } else {
                fputs("\n    allow: invoke\n    app: ", f);
                ok = ok && put_literal(f, a->pobject, true) >= 0;
                fputs("\n    args: [", f);
                for (char **i = a->args; ok && i && *i; i++) {
                        if (i != a->args)
                                fputs(", ", f);
                        ok = put_literal(f, *i, true) >= 0;
                }
                fputs("]", f);
        }
        fputs("\n", f);
        if (fclose(f) != 0 || !ok) {
                free(text);
                return NULL;
        }
        return text;
}

/* Adds rule to the drop-in file: written whole to a temporary file next to
 * it and renamed over it, and only if the result loads as a policy. */
static int approve_write(Broker *b, const char *rule, char *why, size_t size) {
        static const char header[] = "# Rules allowed always with 'shuttlectl ask allow --always', written by\n"
                                     "# shuttled (see shuttled(8)).  Rules are added at the end of the list.\n"
                                     "version: 1\nrules:\n";
        _cleanup_free_ char *old = NULL, *dir = NULL, *tmp = NULL, *text = NULL;
        _cleanup_close_ int fd = -1;
        PolicyDiagnostics diags = {};
        Policy *p = NULL;
        size_t old_size = 0;
        char *slash;
        int k;

        dir = strdup(b->approved_file);
        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (!slash)
                return -EINVAL;
        *slash = 0;
        k = read_file_at(AT_FDCWD, b->approved_file, POLICY_FILE_SIZE_MAX, &old, &old_size);
        if (k < 0 && k != -ENOENT) {
                snprintf(why, size, "cannot read %s: %s", b->approved_file, strerror(-k));
                return k;
        }
        if (asprintf(&text, "%s%s%s", old ?: header, old && old_size > 0 && old[old_size - 1] != '\n' ? "\n" : "",
                     rule) < 0) {
                text = NULL;
                return -ENOMEM;
        }
        k = policy_load_buffer(b->approved_file, text, strlen(text), POLICY_LOAD_NO_INCLUDE, &p, &diags);
        if (k < 0) {
                if (diags.n_errors > 0)
                        snprintf(why, size, "the rule would not load: %s:%u:%u: %s", diags.errors[0].file,
                                 diags.errors[0].line, diags.errors[0].column, diags.errors[0].message);
                else
                        snprintf(why, size, "the rule would not load: %s", strerror(-k));
                policy_diagnostics_clear(&diags);
                return k;
        }
        policy_diagnostics_clear(&diags);
        policy_unref(p);
        k = mkdir_p_at(AT_FDCWD, dir, 0755);
        if (k < 0) {
                snprintf(why, size, "cannot make %s: %s", dir, strerror(-k));
                return k;
        }
        if (asprintf(&tmp, "%s/.approved.XXXXXX", dir) < 0) {
                tmp = NULL;
                return -ENOMEM;
        }
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                k = -errno;
                snprintf(why, size, "cannot write in %s: %s", dir, strerror(-k));
                return k;
        }
        k = loop_write(fd, text, strlen(text));
        if (k >= 0 && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
                k = -errno;
        if (k >= 0 && rename(tmp, b->approved_file) < 0)
                k = -errno;
        if (k < 0) {
                (void) unlink(tmp);
                snprintf(why, size, "cannot write %s: %s", b->approved_file, strerror(-k));
                return k;
        }
        return 0;
}

static int approve(Broker *b, const Ask *a, const ControlConn *cc, char *id, size_t id_size, char *why,
                   size_t size) {
        _cleanup_free_ char *rule = NULL;
        int k;

        if (!b->approved_file) {
                snprintf(why, size, "this broker has no drop-in policy file (it runs without --policy; see "
                                    "shuttled --approved)");
                return -EOPNOTSUPP;
        }
        if (a->from->group) {
                snprintf(why, size, "'%s' is in app group '%s', whose policy is its group file's: use --for, or "
                                    "add the rule to the group file", a->from->qname, a->from->group);
                return -EOPNOTSUPP;
        }
        snprintf(id, id_size, "approved-%" PRIu64 "-%lld", a->id, (long long) time(NULL));
        rule = approve_rule(a, id, cc, why, size);
        if (!rule)
                return why[0] ? -EOPNOTSUPP : -ENOMEM;
        k = approve_write(b, rule, why, size);
        if (k < 0)
                return k;
        /* The file is in place: the main policy is read again (off the
         * loop); the request itself is answered now. */
        k = reload_request(b, NULL);
        if (k < 0)
                log_warning_errno(k, "Failed to queue a policy reload after writing %s: %m", b->approved_file);
        return 0;
}

/* The drop-in directory of the main policy (ask.c writes in it), loaded
 * after the --policy files when it holds policy files: an empty or missing
 * one is no error. */
bool ask_dropin_wanted(const Broker *b) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;

        if (!b->dropin_dir || b->n_policy_paths == 0)
                return false;
        for (size_t i = 0; i < b->n_policy_paths; i++)
                if (streq(b->policy_paths[i], b->dropin_dir))
                        return false;
        d = opendir(b->dropin_dir);
        if (!d)
                return false;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (de->d_name[0] != '.' && ((l > 5 && streq(de->d_name + l - 5, ".yaml")) ||
                                             (l > 4 && streq(de->d_name + l - 4, ".yml"))))
                        return true;
        }
        return false;
}

/* {"op": "ask-answer", "id": N, "answer": "once"|"for"|"always"|"deny",
 *  "for": "10m" (with "for")} */
json_t *ask_control_answer(Broker *b, ControlConn *cc, json_t *req) {
        json_t *idj = json_object_get(req, "id");
        const char *how = json_string_value(json_object_get(req, "answer"));
        const char *dur = json_string_value(json_object_get(req, "for"));
        AskAnswer ans = { .uid = cc->peer_uid, .pid = cc->peer_pid };
        char rule_id[64], why[512] = "";
        Ask *a;
        int k;

        if (!json_is_integer(idj) || json_integer_value(idj) <= 0)
                return control_reply_error(EINVAL, "ask-answer needs a positive \"id\"");
        ans.id = (uint64_t) json_integer_value(idj);
        if (!how)
                return control_reply_error(EINVAL, "ask-answer needs an \"answer\" (once, for, always or deny)");
        if (streq(how, "once"))
                ans.how = ASK_ONCE;
        else if (streq(how, "for"))
                ans.how = ASK_FOR;
        else if (streq(how, "always"))
                ans.how = ASK_ALWAYS;
        else if (streq(how, "deny"))
                ans.how = ASK_DENY;
        else
                return control_reply_error(EINVAL, "unknown answer '%s' (once, for, always or deny)", how);
        if (ans.how == ASK_FOR) {
                if (!dur || parse_duration(dur, &ans.for_usec) < 0 || ans.for_usec < 1000000 ||
                    ans.for_usec > UINT64_C(366) * 86400 * 1000000)
                        return control_reply_error(EINVAL, "invalid duration '%s' for a grant (expected 1s to 366d, "
                                                           "like 10m or 2h)", dur ?: "");
        } else if (dur)
                return control_reply_error(EINVAL, "\"for\" goes with the answer \"for\" only");
        for (a = b->asks; a && a->id != ans.id; a = a->next)
                ;
        if (!a)
                return control_reply_error(ENOENT, "no pending ask %" PRIu64 " (answered, timed out or dropped: "
                                                   "see the audit log)", ans.id);
        ans.waited_usec = clock_usec(CLOCK_MONOTONIC) - a->since_usec;
        if (ans.how == ASK_ALWAYS) {
                k = approve(b, a, cc, rule_id, sizeof(rule_id), why, sizeof(why));
                if (k < 0)
                        return control_reply_error(-k, "ask %" PRIu64 ": %s", ans.id, why[0] ? why : strerror(-k));
                ans.rule_written = rule_id;
                ans.file = b->approved_file;
        }
        if (ans.how == ASK_FOR) {
                k = grant_add(b, a, cc, ans.for_usec, &ans.grant_id);
                if (k < 0)
                        return control_reply_error(-k, "could not make the grant: %s", strerror(-k));
        }
        ask_resume(b, a, &ans);
        json_t *reply = control_reply_ok();
        if (reply && ans.grant_id)
                json_object_set_new(reply, "grant", json_integer((json_int_t) ans.grant_id));
        if (reply && ans.rule_written) {
                json_object_set_new(reply, "rule", json_string(ans.rule_written));
                json_object_set_new(reply, "file", json_string(ans.file));
        }
        return reply;
}
