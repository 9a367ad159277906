/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one pipeline of requests (src/shuttle/daemon/pipeline.c, mediator.h), table
 * driven: every request type of the protocol is sent as a frame on a
 * broker.sock connection of a broker built here (no containers run: the
 * ones registered have no process, so every allowed request fails when it
 * is carried out), and each must leave exactly one audit record naming
 * the rule that decided it — also when the mediator fails after the
 * allow — or none for the few that decide nothing (the caller's own
 * session).  A request type the protocol gains without a row here fails
 * the test. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/macro.h"
#include "shuttle/audit/audit.h"
#include "shuttle/daemon/core.h"
#include "shuttle/daemon/mediator.h"
#include "shuttle/client/protocol.h"

/* Not a pid any process can have (above PID_MAX_LIMIT). */
#define NO_PID ((pid_t) 0x7ffffff0)

static const char policy_yaml[] =
        "version: 1\n"
        "default: deny\n"
        "audit: all\n"
        "rules:\n"
        "  - { id: a-ipc, from: a, to: b, allow: ipc, endpoint: \"*\" }\n"
        "  - { id: a-signal, from: a, to: b, allow: signal }\n"
        "  - { id: a-invoke, from: a, to: b, allow: invoke, app: /bin/true }\n"
        "  - { id: a-transfer, from: a, to: b, allow: transfer, path: \"/tmp/**\" }\n"
        "  - { id: a-pid, from: a, to: b, allow: transfer, pid: \"/bin/*\" }\n"
        "  - { id: a-service, from: a, to: b, allow: transfer, service: \"*\" }\n";

typedef struct Fixture {
        char dir[64];
        char log[PATH_MAX];
        Broker *b;
        Container *a, *c;  /* callers: a has rules, c none */
        int peer_a, peer_c;
} Fixture;

static Container *add_container(Broker *b, const char *name) {
        Container *c = calloc(1, sizeof(*c));

        assert_non_null(c);
        c->broker = b;
        c->name = strdup(name);
        c->qname = strdup(name);
        c->pid = NO_PID;
        c->listen.fd = c->pidfd.fd = c->root_fd = c->netns_fd = -1;
        snprintf(c->dir, sizeof(c->dir), "/nonexistent/%s", name);
        c->next = b->containers;
        if (c->next)
                c->next->prev_next = &c->next;
        c->prev_next = &b->containers;
        b->containers = c;
        b->n_containers++;
        assert_int_equal(strmap_put(&b->containers_by_name, c->name, c), 0);
        return c;
}

static int connect_client(Fixture *f, Container *c) {
        int sv[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
        broker_client_add(f->b, c, sv[0], &(BrokerPeer){ .pid = getpid() });
        assert_non_null(f->b->clients);
        assert_ptr_equal(f->b->clients->container, c);
        return sv[1];
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        Container *t;
        Broker *b;

        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/test-pipeline-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->log, sizeof(f->log), "%s/audit.jsonl", f->dir);

        b = f->b = calloc(1, sizeof(*b));
        assert_non_null(b);
        b->epfd = epoll_create1(EPOLL_CLOEXEC);
        assert_true(b->epfd >= 0);
        b->control.fd = b->signal.fd = b->timer.fd = b->self_netns = -1;
        b->state_dir = strdup(f->dir);
        assert_int_equal(policy_load_buffer("test.yaml", policy_yaml, strlen(policy_yaml), 0, &b->policy, NULL), 0);
        assert_int_equal(audit_log_open(f->log, &(AuditLogOptions){}, &b->audit), 0);

        /* b exports one of each kind, none of them there. */
        t = add_container(b, "b");
        t->exports = calloc(5, sizeof(Export));
        t->exports[0] = (Export){ .name = strdup("kv"), .socket = strdup("/run/kv.sock"), .shm_fd = -1 };
        t->exports[1] = (Export){ .name = strdup("web"), .port = 8080, .shm_fd = -1 };
        t->exports[2] = (Export){ .name = strdup("jobs"), .mq = strdup("/jobs"), .shm_fd = -1 };
        t->exports[3] = (Export){ .name = strdup("logs"), .fifo = strdup("/run/logs.fifo"), .shm_fd = -1 };
        t->exports[4] = (Export){ .name = strdup("mem"), .shm_size = 4096, .shm_fd = -1 };
        t->n_exports = 5;
        f->a = add_container(b, "a");
        f->c = add_container(b, "c");
        f->peer_a = connect_client(f, f->a);
        f->peer_c = connect_client(f, f->c);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        char cmd[128];

        close(f->peer_a);
        close(f->peer_c);
        broker_free(f->b);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        (void) system(cmd);
        free(f);
        return 0;
}

/* The records written so far, as a JSON array. */
static json_t *records(const Fixture *f) {
        json_t *all = json_array();
        char line[16384];
        FILE *in = fopen(f->log, "re");

        assert_non_null(in);
        while (fgets(line, sizeof(line), in)) {
                json_t *o = json_loads(line, 0, NULL);
                assert_non_null(o);
                /* The log's own records (its start) are not requests. */
                if (!json_is_string(json_object_get(o, "kind")) ||
                    streq(json_string_value(json_object_get(o, "kind")), "audit"))
                        json_decref(o);
                else
                        json_array_append_new(all, o);
        }
        fclose(in);
        return all;
}

typedef enum Caller { FROM_A, FROM_C } Caller;

typedef struct Row {
        const char *what;
        uint16_t type;
        Caller from;
        void (*build)(ShuttleMsg *m);
        bool fds;              /* three descriptors with it (INVOKE's stdio) */
        int status;            /* the answer's */
        /* The record: NULL kind means none. */
        const char *kind, *op, *decision, *rule, *reason;
} Row;

static void m_hello(ShuttleMsg *m) { shuttle_msg_hello(m, 7); }
static void m_connect(ShuttleMsg *m) { shuttle_msg_connect(m, 7, "b.kv"); }
static void m_connect_tcp(ShuttleMsg *m) { shuttle_msg_connect(m, 7, "b.web"); }
static void m_connect_none(ShuttleMsg *m) { shuttle_msg_connect(m, 7, "nobody.kv"); }
static void m_signal(ShuttleMsg *m) { shuttle_msg_signal(m, 7, "b", "/bin/sleep", SIGUSR1); }
static void m_invoke(ShuttleMsg *m) { assert_int_equal(shuttle_msg_invoke(m, 7, "b", "/bin/true", NULL, NULL), 0); }
static void m_transfer(ShuttleMsg *m) { shuttle_msg_transfer(m, 7, "/tmp/x", SHUTTLE_TRANSFER_RO, "b"); }
static void m_transfer_out(ShuttleMsg *m) { shuttle_msg_transfer(m, 7, "/tmp/../etc/x", SHUTTLE_TRANSFER_RO, "b"); }
static void m_kill_invoked(ShuttleMsg *m) { shuttle_msg_kill_invoked(m, 7, SIGTERM); }
static void m_signal_pid(ShuttleMsg *m) { shuttle_msg_signal_pid(m, 7, SHUTTLE_PID_BASE + 1, SIGTERM, false, 0); }
static void m_resolve_pid(ShuttleMsg *m) { shuttle_msg_resolve(m, 7, "b", SHUTTLE_NAME_PID, "/bin/sleep"); }
static void m_resolve_service(ShuttleMsg *m) { shuttle_msg_resolve(m, 7, "b", SHUTTLE_NAME_SERVICE, "kv"); }
static void m_resolve_host(ShuttleMsg *m) { shuttle_msg_resolve(m, 7, "b", SHUTTLE_NAME_HOST, NULL); }
static void m_open_shm(ShuttleMsg *m) { shuttle_msg_open(m, SHUTTLE_MSG_OPEN_SHM, 7, "b.nothere", SHUTTLE_OPEN_READ); }
static void m_open_mq(ShuttleMsg *m) { shuttle_msg_open(m, SHUTTLE_MSG_OPEN_MQ, 7, "b.jobs", SHUTTLE_OPEN_READ); }
static void m_open_fifo(ShuttleMsg *m) { shuttle_msg_open(m, SHUTTLE_MSG_OPEN_FIFO, 7, "b.logs", SHUTTLE_OPEN_WRITE); }
static void m_open_fifo_rw(ShuttleMsg *m) {
        shuttle_msg_open(m, SHUTTLE_MSG_OPEN_FIFO, 7, "b.logs", SHUTTLE_OPEN_READ | SHUTTLE_OPEN_WRITE);
}
static void m_open_own(ShuttleMsg *m) { shuttle_msg_open(m, SHUTTLE_MSG_OPEN_SHM, 7, "a.none", SHUTTLE_OPEN_READ); }

/* From a, every allowed request fails when carried out (b has no process):
 * the record says deny, with the rule that allowed it and what failed. */
static const Row rows[] = {
        { "hello", SHUTTLE_MSG_HELLO, FROM_A, m_hello, false, 0, NULL },
        { "connect, allowed, exporter not running", SHUTTLE_MSG_CONNECT, FROM_A, m_connect, false, -ECONNREFUSED,
          "ipc", "connect", "deny", "a-ipc", "Connection refused" },
        { "connect to tcp, allowed, exporter not running", SHUTTLE_MSG_CONNECT, FROM_A, m_connect_tcp, false,
          -ECONNREFUSED, "ipc", "connect", "deny", "a-ipc", "Connection refused" },
        { "connect, denied", SHUTTLE_MSG_CONNECT, FROM_C, m_connect, false, -EACCES, "ipc", "connect", "deny",
          "default", NULL },
        { "connect to nobody, denied", SHUTTLE_MSG_CONNECT, FROM_A, m_connect_none, false, -EACCES, "ipc",
          "connect", "deny", "default", NULL },
        { "signal, allowed, no such process", SHUTTLE_MSG_SIGNAL, FROM_A, m_signal, false, -ESRCH, "signal",
          "kill", "deny", "a-signal", "no process of that app" },
        { "signal, denied", SHUTTLE_MSG_SIGNAL, FROM_C, m_signal, false, -EPERM, "signal", "kill", "deny",
          "default", NULL },
        { "invoke, allowed, target not running", SHUTTLE_MSG_INVOKE, FROM_A, m_invoke, true, -ESRCH, "invoke",
          "exec", "deny", "a-invoke", "container 'b' is not running" },
        { "invoke, denied", SHUTTLE_MSG_INVOKE, FROM_C, m_invoke, true, -EACCES, "invoke", "exec", "deny",
          "default", NULL },
        { "transfer, allowed, caller not running", SHUTTLE_MSG_TRANSFER, FROM_A, m_transfer, false, 0,
          "transfer", "open", "deny", "a-transfer", NULL },
        { "transfer, denied", SHUTTLE_MSG_TRANSFER, FROM_C, m_transfer, false, -EACCES, "transfer", "open",
          "deny", "default", NULL },
        { "transfer out of what the rule names (normalised first)", SHUTTLE_MSG_TRANSFER, FROM_A, m_transfer_out,
          false, -EACCES, "transfer", "open", "deny", "default", NULL },
        { "kill-invoked, nothing running", SHUTTLE_MSG_KILL_INVOKED, FROM_A, m_kill_invoked, false, -ESRCH, NULL },
        { "signal-pid of a pid never named", SHUTTLE_MSG_SIGNAL_PID, FROM_A, m_signal_pid, false, -ESRCH, NULL },
        { "resolve pid, allowed, no such process", SHUTTLE_MSG_RESOLVE, FROM_A, m_resolve_pid, false, -ESRCH,
          "transfer", "resolve", "deny", "a-pid", "no process of that app" },
        { "resolve pid, denied", SHUTTLE_MSG_RESOLVE, FROM_C, m_resolve_pid, false, -EACCES, "transfer",
          "resolve", "deny", "default", NULL },
        { "resolve service, allowed, no proxy socket", SHUTTLE_MSG_RESOLVE, FROM_A, m_resolve_service, false,
          -EACCES, "transfer", "resolve", "deny", "a-service", "ipc to that service is not allowed" },
        { "resolve host, denied", SHUTTLE_MSG_RESOLVE, FROM_A, m_resolve_host, false, -EACCES, "transfer",
          "resolve", "deny", "default", NULL },
        { "open-shm, allowed, no such export", SHUTTLE_MSG_OPEN_SHM, FROM_A, m_open_shm, false, -ENOENT, "ipc",
          "open-shm", "deny", "a-ipc", "no such shared-memory export" },
        { "open-mq, denied", SHUTTLE_MSG_OPEN_MQ, FROM_C, m_open_mq, false, -EACCES, "ipc", "open-mq", "deny",
          "default", NULL },
        { "open-mq, allowed, exporter not running", SHUTTLE_MSG_OPEN_MQ, FROM_A, m_open_mq, false, 0, "ipc",
          "open-mq", "deny", "a-ipc", NULL },
        { "open-fifo, allowed, exporter not running", SHUTTLE_MSG_OPEN_FIFO, FROM_A, m_open_fifo, false, 0,
          "ipc", "open-fifo", "deny", "a-ipc", NULL },
        { "open-fifo for both ends, refused before the policy", SHUTTLE_MSG_OPEN_FIFO, FROM_A, m_open_fifo_rw,
          false, -EINVAL, "ipc", "open-fifo", "deny", "-", "a FIFO is opened for reading or for writing, not both" },
        { "open-shm of its own export, no rule needed, no such export", SHUTTLE_MSG_OPEN_SHM, FROM_A, m_open_own,
          false, -ENOENT, "ipc", "open-shm", "deny", "-", "no such shared-memory export" },
};

static void run_row(Fixture *f, const Row *row) {
        int peer = row->from == FROM_A ? f->peer_a : f->peer_c;
        Client *cl = NULL;
        char buf[SHUTTLE_RECV_BUF_SIZE];
        const char *reason = NULL;
        json_t *before = records(f), *after = NULL;
        ShuttleMsg m = {}, reply;
        int fds[3] = { -1, -1, -1 };
        size_t n_fds = 0;
        int k;

        print_message("# %s\n", row->what);
        row->build(&m);
        assert_int_equal(m.type, row->type);
        if (row->fds)
                for (int i = 0; i < 3; i++)
                        assert_true((fds[i] = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0);
        assert_int_equal(shuttle_msg_send(peer, &m, row->fds ? fds : NULL, row->fds ? 3 : 0), 0);
        for (int i = 0; i < 3; i++)
                safe_close(fds[i]);

        for (Client *i = f->b->clients; i; i = i->next)
                if (i->container == (row->from == FROM_A ? f->a : f->c))
                        cl = i;
        assert_non_null(cl);
        broker_client_event(f->b, cl, EPOLLIN);

        /* Exactly one answer, to this request. */
        k = shuttle_msg_recv(peer, buf, sizeof(buf), &reply, fds, 3, &n_fds,
                             SHUTTLE_DECODE_REPLY | SHUTTLE_RECV_NONBLOCK, &reason);
        assert_int_equal(k > 0, true);
        assert_int_equal(reply.id, 7);
        for (size_t i = 0; i < n_fds; i++)
                safe_close(fds[i]);
        if (reply.type == SHUTTLE_MSG_REPLY) {
                if (row->status != 0 || row->type == SHUTTLE_MSG_KILL_INVOKED)
                        assert_int_equal(reply.status, row->status);
                else
                        assert_true(reply.status < 0); /* whatever the kernel says */
        } else
                assert_int_equal(row->status, 0);

        after = records(f);
        if (!row->kind) {
                assert_int_equal(json_array_size(after), json_array_size(before));
                json_decref(before);
                json_decref(after);
                return;
        }
        /* Exactly one record, with the deciding rule. */
        assert_int_equal(json_array_size(after), json_array_size(before) + 1);
        json_t *rec = json_array_get(after, json_array_size(after) - 1);
        assert_string_equal(json_string_value(json_object_get(rec, "from")), row->from == FROM_A ? "a" : "c");
        assert_string_equal(json_string_value(json_object_get(rec, "kind")), row->kind);
        assert_string_equal(json_string_value(json_object_get(rec, "op")), row->op);
        assert_string_equal(json_string_value(json_object_get(rec, "decision")), row->decision);
        assert_string_equal(json_string_value(json_object_get(rec, "rule")), row->rule);
        if (row->reason)
                assert_string_equal(json_string_value(json_object_get(rec, "reason")), row->reason);
        /* A rule's record says where the rule is written. */
        if (row->rule[0] != '-' && !streq(row->rule, "default"))
                assert_string_equal(json_string_value(json_object_get(rec, "rule_file")), "test.yaml");
        json_decref(before);
        json_decref(after);
}

static void test_every_request_type(void **state) {
        Fixture *f = *state;

        /* Every request type the protocol has is carried by the pipeline
         * and has a row here. */
        for (uint16_t t = 1; t < 0x8000; t++) {
                bool row = false;
                if (!shuttle_msg_type_is_request(t))
                        continue;
                assert_non_null(pipeline_ops_for(t));
                for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                        row = row || rows[i].type == t;
                if (!row)
                        fail_msg("request type %s has no row", shuttle_msg_type_name(t));
        }
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                run_row(f, &rows[i]);
}

/* A proxy socket's connection: the same pipeline, as a CONNECT; refused
 * by closing it, and on record either way. */
static void test_proxy_connect(void **state) {
        Fixture *f = *state;
        Proxy p = { .importer = f->a, .exporter = (char *) "b", .service = (char *) "kv" };
        json_t *before = records(f), *after = NULL;
        int sv[2];
        char c;

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        pipeline_proxy_connect(f->b, &p, sv[0]);
        /* Closed: the client sees the end at once. */
        assert_int_equal(read(sv[1], &c, 1), 0);
        close(sv[1]);

        after = records(f);
        assert_int_equal(json_array_size(after), json_array_size(before) + 1);
        json_t *rec = json_array_get(after, json_array_size(after) - 1);
        assert_string_equal(json_string_value(json_object_get(rec, "op")), "proxy-connect");
        assert_string_equal(json_string_value(json_object_get(rec, "rule")), "a-ipc");
        assert_string_equal(json_string_value(json_object_get(rec, "decision")), "deny");
        assert_string_equal(json_string_value(json_object_get(rec, "reason")), "Connection refused");

        /* Over the container's bound on relays: refused before the policy. */
        f->a->n_relays = BROKER_RELAYS_PER_CONTAINER;
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        pipeline_proxy_connect(f->b, &p, sv[0]);
        assert_int_equal(read(sv[1], &c, 1), 0);
        close(sv[1]);
        f->a->n_relays = 0;
        json_decref(after);
        after = records(f);
        assert_int_equal(json_array_size(after), json_array_size(before) + 2);
        rec = json_array_get(after, json_array_size(after) - 1);
        assert_string_equal(json_string_value(json_object_get(rec, "rule")), "-");
        assert_string_equal(json_string_value(json_object_get(rec, "reason")), "too many proxied connections");
        assert_string_equal(json_string_value(json_object_get(rec, "to")), "b");
        assert_string_equal(json_string_value(json_object_get(rec, "object")), "b.kv");
        json_decref(before);
        json_decref(after);
}

/* The broker's LimitStates gone, as in a new broker on the same state
 * directory; then what it reads back at start. */
static void limits_forget(Broker *b) {
        while (b->limits) {
                LimitState *l = b->limits;
                b->limits = l->next;
                free(l->rule);
                free(l->from);
                free(l);
        }
}

/* `limit: {uses: N}`: each use is on disk before it is admitted, and a
 * restarted broker counts on from there (a restart is no reset); a count
 * file that is not one is moved aside, never half believed. */
static void test_uses_survive_restart(void **state) {
        Fixture *f = *state;
        PolicyDecision d = { .verdict = POLICY_ALLOW, .rule_id = "twice", .limits = { .uses = 2 } };
        LimitState *limit = NULL;
        char why[256], path[PATH_MAX], bad[PATH_MAX];
        FILE *fp;

        assert_null(broker_limits_admit(f->b, f->a, &d, &limit, why, sizeof(why)));
        snprintf(path, sizeof(path), "%s/uses.json", f->dir);
        assert_int_equal(access(path, F_OK), 0);

        limits_forget(f->b);
        limits_restore(f->b);
        assert_null(broker_limits_admit(f->b, f->a, &d, &limit, why, sizeof(why)));
        limits_forget(f->b);
        limits_restore(f->b);
        assert_string_equal(broker_limits_admit(f->b, f->a, &d, &limit, why, sizeof(why)), POLICY_REASON_USED_UP);
        /* Another caller's count is its own. */
        assert_null(broker_limits_admit(f->b, f->c, &d, &limit, why, sizeof(why)));

        /* Damaged: set aside as .bad. */
        fp = fopen(path, "w");
        assert_non_null(fp);
        fputs("{\"version\": 1, \"uses\": ", fp);
        fclose(fp);
        limits_forget(f->b);
        limits_restore(f->b);
        snprintf(bad, sizeof(bad), "%s/uses.json.bad", f->dir);
        assert_int_equal(access(bad, F_OK), 0);
        assert_int_not_equal(access(path, F_OK), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_every_request_type, setup, teardown),
                cmocka_unit_test_setup_teardown(test_proxy_connect, setup, teardown),
                cmocka_unit_test_setup_teardown(test_uses_survive_restart, setup, teardown),
        };

        if (geteuid() != 0) {
                /* The mediators' failures differ without root (EPERM on
                 * /proc of others): the rows are written for root. */
                printf("1..0 # SKIP needs root\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
