/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/macro.h"
#include "shuttle/client/protocol.h"

#define ALL_DIRECTIONS (SHUTTLE_DECODE_REQUEST | SHUTTLE_DECODE_REPLY)

static int count_open_fds(void) {
        int n = 0;
        for (int fd = 0; fd < 1024; fd++)
                if (fcntl(fd, F_GETFD) >= 0)
                        n++;
        return n;
}


/* ---- hand-made frames, for what the encoder would never produce ---- */

typedef struct Frame {
        uint8_t b[SHUTTLE_FRAME_MAX * 2];
        size_t len;
} Frame;

static void frame_begin(Frame *f, uint16_t type, uint32_t id) {
        uint32_t magic = SHUTTLE_MAGIC, zero = 0;
        uint16_t version = SHUTTLE_PROTOCOL_VERSION;

        memset(f, 0, sizeof(*f));
        memcpy(f->b, &magic, 4);
        memcpy(f->b + 4, &version, 2);
        memcpy(f->b + 6, &type, 2);
        memcpy(f->b + 8, &id, 4);
        memcpy(f->b + 12, &zero, 4);
        f->len = SHUTTLE_HEADER_SIZE;
}

static void frame_sync_len(Frame *f) {
        uint32_t body = (uint32_t) (f->len - SHUTTLE_HEADER_SIZE);
        memcpy(f->b + 12, &body, 4);
}

static void frame_attr(Frame *f, uint16_t type, const void *value, size_t len) {
        uint16_t l = (uint16_t) len;

        memcpy(f->b + f->len, &type, 2);
        memcpy(f->b + f->len + 2, &l, 2);
        if (len)
                memcpy(f->b + f->len + 4, value, len);
        f->len += 4 + ((len + 3) & ~(size_t) 3);
        frame_sync_len(f);
}

static void frame_str(Frame *f, uint16_t type, const char *s) {
        frame_attr(f, type, s, strlen(s) + 1);
}

static void frame_u32(Frame *f, uint16_t type, uint32_t v) {
        frame_attr(f, type, &v, sizeof(v));
}

static int decode(const Frame *f, size_t n_fds, unsigned flags, ShuttleMsg *m, const char **reason) {
        /* An exact-size heap copy: under ASan, any read past the datagram
         * is caught.  It lives until the next call, as long as the strings
         * of the decoded message point into it. */
        static void *copy = NULL;

        free(copy);
        copy = malloc(f->len ? f->len : 1);
        assert_non_null(copy);
        memcpy(copy, f->b, f->len);
        return shuttle_msg_decode(copy, f->len, n_fds, flags, m, reason);
}

/* Expect a refusal with errno r, and *ret left alone. */
static void assert_refused(const Frame *f, size_t n_fds, unsigned flags, int expected) {
        ShuttleMsg m, pristine;
        const char *reason = NULL;

        memset(&m, 0xa5, sizeof(m));
        memcpy(&pristine, &m, sizeof(m));
        assert_int_equal(decode(f, n_fds, flags, &m, &reason), expected);
        assert_non_null(reason);
        assert_true(strlen(reason) > 0);
        assert_memory_equal(&m, &pristine, sizeof(m));
}

static void encode(const ShuttleMsg *m, Frame *f) {
        const char *reason = NULL;
        int r = shuttle_msg_encode(m, f->b, sizeof(f->b), &f->len, &reason);
        if (r < 0)
                fail_msg("encode: %s (%s)", strerror(-r), reason);
}

/* Encodes, decodes (with the type's own fd count), returns the result. */
static void roundtrip(const ShuttleMsg *in, Frame *f, ShuttleMsg *out) {
        int n_fds = shuttle_msg_type_n_fds(in->type);
        const char *reason = NULL;
        int r;

        assert_true(n_fds >= 0);
        encode(in, f);
        assert_true(f->len >= SHUTTLE_HEADER_SIZE && f->len <= SHUTTLE_FRAME_MAX);
        assert_int_equal(f->len % 4, 0);
        r = shuttle_msg_decode(f->b, f->len, (size_t) n_fds,
                               shuttle_msg_type_is_request(in->type) ? SHUTTLE_DECODE_REQUEST
                                                                     : SHUTTLE_DECODE_REPLY,
                               out, &reason);
        if (r < 0)
                fail_msg("decode: %s (%s)", strerror(-r), reason);
        assert_int_equal(out->type, in->type);
        assert_int_equal(out->id, in->id);
        assert_int_equal(out->present, in->present);
        /* Decoded strings live in the frame buffer. */
        for (size_t i = 0; i < out->n_args; i++)
                assert_true((const uint8_t *) out->args[i] > f->b &&
                            (const uint8_t *) out->args[i] < f->b + f->len);
}

/* ---- round trips ---- */

static void test_roundtrip_requests(void **state) {
        static const char *const args[] = { "--view", "", "/tmp/a b.pdf", "line\nbreak", NULL };
        static const char *const env[] = { "LANG=C", "EMPTY=", NULL };
        ShuttleMsg in, out;
        Frame f;

        shuttle_msg_hello(&in, 1);
        roundtrip(&in, &f, &out);
        assert_int_equal(out.version, SHUTTLE_PROTOCOL_VERSION);

        shuttle_msg_connect(&in, 2, "db.kv");
        roundtrip(&in, &f, &out);
        assert_string_equal(out.service, "db.kv");

        /* Container names may contain dots; the service is after the last. */
        shuttle_msg_connect(&in, 3, "web.eu-1.admin_api");
        roundtrip(&in, &f, &out);
        assert_string_equal(out.service, "web.eu-1.admin_api");

        shuttle_msg_signal(&in, 4, "db", "/usr/local/bin/kvd", SIGHUP);
        roundtrip(&in, &f, &out);
        assert_string_equal(out.container, "db");
        assert_string_equal(out.app, "/usr/local/bin/kvd");
        assert_int_equal(out.signal, SIGHUP);

        assert_int_equal(shuttle_msg_invoke(&in, 5, "viewer", "/usr/bin/pdfview", args, env), 0);
        roundtrip(&in, &f, &out);
        assert_string_equal(out.container, "viewer");
        assert_string_equal(out.app, "/usr/bin/pdfview");
        assert_int_equal(out.n_args, 4);
        for (size_t i = 0; i < 4; i++)
                assert_string_equal(out.args[i], args[i]);
        assert_null(out.args[4]);
        assert_int_equal(out.n_env, 2);
        assert_string_equal(out.env[0], "LANG=C");
        assert_string_equal(out.env[1], "EMPTY=");
        assert_null(out.env[2]);

        /* No arguments, no environment: the lists are absent and empty. */
        assert_int_equal(shuttle_msg_invoke(&in, 6, "viewer", "/bin/true", NULL, NULL), 0);
        roundtrip(&in, &f, &out);
        assert_int_equal(out.n_args, 0);
        assert_null(out.args[0]);
        assert_false(shuttle_msg_has(&out, SHUTTLE_ATTR_ARG));

        shuttle_msg_transfer(&in, 7, "/home/u/report.pdf", SHUTTLE_TRANSFER_RO, "viewer");
        roundtrip(&in, &f, &out);
        assert_string_equal(out.path, "/home/u/report.pdf");
        assert_int_equal(out.mode, SHUTTLE_TRANSFER_RO);
        assert_string_equal(out.container, "viewer");
        (void) state;
}

/* INVOKE_FLAGS: optional in INVOKE, one bit today, nowhere else. */
static void test_invoke_flags(void **state) {
        static const char *const args[] = { "/tmp/doc.txt", NULL };
        const char *reason = NULL;
        ShuttleMsg in, out;
        size_t len = 12345;
        Frame f;

        assert_int_equal(shuttle_msg_invoke(&in, 5, "viewer", "/bin/cat", args, NULL), 0);
        shuttle_msg_invoke_set_flags(&in, SHUTTLE_INVOKE_FILES_AS_FDS);
        roundtrip(&in, &f, &out);
        assert_true(shuttle_msg_has(&out, SHUTTLE_ATTR_INVOKE_FLAGS));
        assert_int_equal(out.invoke_flags, SHUTTLE_INVOKE_FILES_AS_FDS);
        assert_string_equal(out.args[0], "/tmp/doc.txt");
        assert_string_equal(shuttle_attr_name(SHUTTLE_ATTR_INVOKE_FLAGS), "invoke_flags");

        /* 0 leaves it out: the INVOKE of before. */
        assert_int_equal(shuttle_msg_invoke(&in, 6, "viewer", "/bin/cat", args, NULL), 0);
        shuttle_msg_invoke_set_flags(&in, 0);
        roundtrip(&in, &f, &out);
        assert_false(shuttle_msg_has(&out, SHUTTLE_ATTR_INVOKE_FLAGS));

        /* An unknown bit: refused by the encoder, and by the decoder. */
        assert_int_equal(shuttle_msg_invoke(&in, 7, "viewer", "/bin/cat", args, NULL), 0);
        shuttle_msg_invoke_set_flags(&in, 2);
        assert_int_equal(shuttle_msg_encode(&in, f.b, sizeof(f.b), &len, &reason), -ERANGE);
        assert_int_equal(len, 12345);
        frame_begin(&f, SHUTTLE_MSG_INVOKE, 1);
        frame_str(&f, SHUTTLE_ATTR_CONTAINER, "viewer");
        frame_str(&f, SHUTTLE_ATTR_APP, "/bin/cat");
        frame_u32(&f, SHUTTLE_ATTR_INVOKE_FLAGS, 2);
        assert_refused(&f, 3, SHUTTLE_DECODE_REQUEST, -ERANGE);
        frame_begin(&f, SHUTTLE_MSG_INVOKE, 1);
        frame_str(&f, SHUTTLE_ATTR_CONTAINER, "viewer");
        frame_str(&f, SHUTTLE_ATTR_APP, "/bin/cat");
        frame_u32(&f, SHUTTLE_ATTR_INVOKE_FLAGS, 0);
        assert_refused(&f, 3, SHUTTLE_DECODE_REQUEST, -ERANGE);
        /* Only INVOKE takes it. */
        frame_begin(&f, SHUTTLE_MSG_TRANSFER, 1);
        frame_str(&f, SHUTTLE_ATTR_PATH, "/tmp/doc.txt");
        frame_u32(&f, SHUTTLE_ATTR_MODE, SHUTTLE_TRANSFER_RO);
        frame_str(&f, SHUTTLE_ATTR_CONTAINER, "viewer");
        frame_u32(&f, SHUTTLE_ATTR_INVOKE_FLAGS, SHUTTLE_INVOKE_FILES_AS_FDS);
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -ENOPROTOOPT);
        (void) state;
}

static void test_roundtrip_replies(void **state) {
        ShuttleMsg in, out;
        Frame f;

        shuttle_msg_reply(&in, 9, -EACCES, "denied by rule web-admin");
        roundtrip(&in, &f, &out);
        assert_int_equal(out.status, -EACCES);
        assert_string_equal(out.message, "denied by rule web-admin");

        shuttle_msg_reply(&in, 9, 0, NULL);
        roundtrip(&in, &f, &out);
        assert_int_equal(out.status, 0);
        assert_null(out.message);

        shuttle_msg_reply(&in, 9, -ENOENT, "");
        roundtrip(&in, &f, &out);
        assert_string_equal(out.message, "");

        shuttle_msg_welcome(&in, 1, SHUTTLE_PROTOCOL_VERSION, "web");
        roundtrip(&in, &f, &out);
        assert_int_equal(out.version, SHUTTLE_PROTOCOL_VERSION);
        assert_string_equal(out.name, "web");

        shuttle_msg_connected(&in, 2);
        roundtrip(&in, &f, &out);
        assert_int_equal(f.len, SHUTTLE_HEADER_SIZE);
        assert_int_equal(shuttle_msg_type_n_fds(SHUTTLE_MSG_CONNECTED), 1);

        shuttle_msg_transferred(&in, 7, "/run/shuttle/xfer/12/report.pdf", UINT64_C(0x123456789));
        roundtrip(&in, &f, &out);
        assert_string_equal(out.path, "/run/shuttle/xfer/12/report.pdf");
        assert_true(out.xfer_id == UINT64_C(0x123456789));

        assert_int_equal(shuttle_msg_exit(&in, 5, 3 << 8), 0); /* exited with 3 */
        roundtrip(&in, &f, &out);
        assert_true(shuttle_msg_has(&out, SHUTTLE_ATTR_EXIT_CODE));
        assert_int_equal(out.exit_code, 3);

        assert_int_equal(shuttle_msg_exit(&in, 5, SIGKILL), 0); /* killed */
        roundtrip(&in, &f, &out);
        assert_false(shuttle_msg_has(&out, SHUTTLE_ATTR_EXIT_CODE));
        assert_int_equal(out.signal, SIGKILL);

        shuttle_msg_kill_invoked(&in, 11, SIGINT);
        roundtrip(&in, &f, &out);
        assert_int_equal(out.type, SHUTTLE_MSG_KILL_INVOKED);
        assert_int_equal(out.signal, SIGINT);
        assert_int_equal(out.present, SHUTTLE_ATTR_BIT(SHUTTLE_ATTR_SIGNAL));
        (void) state;
}

/* The requests that name another container's objects, and their answers. */
static void test_names_and_open(void **state) {
        ShuttleMsg in, out;
        Frame f;

        shuttle_msg_signal_pid(&in, 3, SHUTTLE_PID_BASE + 7, SIGTERM, false, 0);
        roundtrip(&in, &f, &out);
        assert_int_equal(out.type, SHUTTLE_MSG_SIGNAL_PID);
        assert_int_equal(out.pid, SHUTTLE_PID_BASE + 7);
        assert_int_equal(out.signal, SIGTERM);
        assert_false(shuttle_msg_has(&out, SHUTTLE_ATTR_VALUE));
        /* A probe carries no signal; sigqueue() a value, negative ones too. */
        shuttle_msg_signal_pid(&in, 3, INT32_MAX, 0, true, -42);
        roundtrip(&in, &f, &out);
        assert_false(shuttle_msg_has(&out, SHUTTLE_ATTR_SIGNAL));
        assert_int_equal(out.value, -42);
        assert_int_equal(shuttle_msg_success_reply(SHUTTLE_MSG_SIGNAL_PID), SHUTTLE_MSG_REPLY);

        /* A pid below the base is one of the caller's own: refused. */
        frame_begin(&f, SHUTTLE_MSG_SIGNAL_PID, 1);
        frame_u32(&f, SHUTTLE_ATTR_PID, 1);
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -ERANGE);
        frame_begin(&f, SHUTTLE_MSG_SIGNAL_PID, 1);
        frame_u32(&f, SHUTTLE_ATTR_PID, (uint32_t) -1);
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -ERANGE);

        shuttle_msg_resolve(&in, 4, "viewer", SHUTTLE_NAME_PID, "/usr/bin/pdfview");
        roundtrip(&in, &f, &out);
        assert_int_equal(out.what, SHUTTLE_NAME_PID);
        assert_string_equal(out.app, "/usr/bin/pdfview");
        shuttle_msg_resolve(&in, 4, "db", SHUTTLE_NAME_SERVICE, "kv");
        roundtrip(&in, &f, &out);
        assert_string_equal(out.name, "kv");
        assert_false(shuttle_msg_has(&out, SHUTTLE_ATTR_APP));
        shuttle_msg_resolve(&in, 4, "db", SHUTTLE_NAME_HOST, "ignored");
        roundtrip(&in, &f, &out);
        assert_false(shuttle_msg_has(&out, SHUTTLE_ATTR_NAME) || shuttle_msg_has(&out, SHUTTLE_ATTR_APP));

        /* What each kind of name needs, and nothing else. */
        frame_begin(&f, SHUTTLE_MSG_RESOLVE, 1);
        frame_str(&f, SHUTTLE_ATTR_CONTAINER, "db");
        frame_u32(&f, SHUTTLE_ATTR_WHAT, SHUTTLE_NAME_PID);
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -EINVAL);
        frame_begin(&f, SHUTTLE_MSG_RESOLVE, 1);
        frame_str(&f, SHUTTLE_ATTR_CONTAINER, "db");
        frame_u32(&f, SHUTTLE_ATTR_WHAT, SHUTTLE_NAME_HOST);
        frame_str(&f, SHUTTLE_ATTR_NAME, "kv");
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -EINVAL);
        frame_begin(&f, SHUTTLE_MSG_RESOLVE, 1);
        frame_str(&f, SHUTTLE_ATTR_CONTAINER, "db");
        frame_u32(&f, SHUTTLE_ATTR_WHAT, 4);
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -ERANGE);
        frame_begin(&f, SHUTTLE_MSG_RESOLVE, 1);
        frame_str(&f, SHUTTLE_ATTR_CONTAINER, "db");
        frame_u32(&f, SHUTTLE_ATTR_WHAT, SHUTTLE_NAME_SERVICE);
        frame_str(&f, SHUTTLE_ATTR_NAME, "../kv");
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -EILSEQ);

        /* Exactly one answer. */
        shuttle_msg_resolved(&in, 4, SHUTTLE_PID_BASE, NULL, NULL);
        roundtrip(&in, &f, &out);
        assert_int_equal(out.pid, SHUTTLE_PID_BASE);
        shuttle_msg_resolved(&in, 4, 0, NULL, "10.77.0.2");
        roundtrip(&in, &f, &out);
        assert_string_equal(out.address, "10.77.0.2");
        shuttle_msg_resolved(&in, 4, 0, "/run/shuttle/svc/db.kv", NULL);
        roundtrip(&in, &f, &out);
        assert_string_equal(out.path, "/run/shuttle/svc/db.kv");
        shuttle_msg_resolved(&in, 4, SHUTTLE_PID_BASE, "/x", NULL);
        assert_int_equal(shuttle_msg_encode(&in, f.b, sizeof(f.b), &f.len, NULL), -EINVAL);
        frame_begin(&f, SHUTTLE_MSG_RESOLVED, 1);
        assert_refused(&f, 0, SHUTTLE_DECODE_REPLY, -EINVAL);
        frame_begin(&f, SHUTTLE_MSG_RESOLVED, 1);
        frame_str(&f, SHUTTLE_ATTR_ADDRESS, "10.0.0.1\n");
        assert_refused(&f, 0, SHUTTLE_DECODE_REPLY, -EILSEQ);

        shuttle_msg_open(&in, SHUTTLE_MSG_OPEN_SHM, 5, "db.frames", SHUTTLE_OPEN_READ);
        roundtrip(&in, &f, &out);
        assert_int_equal(out.type, SHUTTLE_MSG_OPEN_SHM);
        assert_int_equal(out.flags, SHUTTLE_OPEN_READ);
        shuttle_msg_open(&in, SHUTTLE_MSG_OPEN_MQ, 5, "db.jobs", SHUTTLE_OPEN_WRITE | SHUTTLE_OPEN_NONBLOCK);
        roundtrip(&in, &f, &out);
        assert_string_equal(out.service, "db.jobs");
        assert_int_equal(shuttle_msg_success_reply(SHUTTLE_MSG_OPEN_MQ), SHUTTLE_MSG_OPENED);
        assert_int_equal(shuttle_msg_type_n_fds(SHUTTLE_MSG_OPENED), 1);
        shuttle_msg_open(&in, SHUTTLE_MSG_OPEN_FIFO, 6, "db.logs", SHUTTLE_OPEN_WRITE | SHUTTLE_OPEN_NONBLOCK);
        roundtrip(&in, &f, &out);
        assert_int_equal(out.type, SHUTTLE_MSG_OPEN_FIFO);
        assert_string_equal(out.service, "db.logs");
        assert_int_equal(out.flags, SHUTTLE_OPEN_WRITE | SHUTTLE_OPEN_NONBLOCK);
        assert_string_equal(shuttle_msg_type_name(SHUTTLE_MSG_OPEN_FIFO), "open-fifo");
        assert_int_equal(shuttle_msg_success_reply(SHUTTLE_MSG_OPEN_FIFO), SHUTTLE_MSG_OPENED);
        shuttle_msg_open(&in, SHUTTLE_MSG_OPEN_FIFO, 6, "db.logs", SHUTTLE_OPEN_NONBLOCK);
        assert_int_equal(shuttle_msg_encode(&in, f.b, sizeof(f.b), &f.len, NULL), -EINVAL);
        frame_begin(&f, SHUTTLE_MSG_OPEN_FIFO, 1);
        frame_str(&f, SHUTTLE_ATTR_SERVICE, "db.logs");
        frame_u32(&f, SHUTTLE_ATTR_FLAGS, SHUTTLE_OPEN_READ);
        assert_refused(&f, 1, SHUTTLE_DECODE_REQUEST, -EBADFD);
        /* Neither read nor write; unknown bits. */
        shuttle_msg_open(&in, SHUTTLE_MSG_OPEN_SHM, 5, "db.frames", SHUTTLE_OPEN_NONBLOCK);
        assert_int_equal(shuttle_msg_encode(&in, f.b, sizeof(f.b), &f.len, NULL), -EINVAL);
        frame_begin(&f, SHUTTLE_MSG_OPEN_MQ, 1);
        frame_str(&f, SHUTTLE_ATTR_SERVICE, "db.jobs");
        frame_u32(&f, SHUTTLE_ATTR_FLAGS, 8 | SHUTTLE_OPEN_READ);
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -ERANGE);
        /* An open carries no descriptor; its answer exactly one. */
        frame_begin(&f, SHUTTLE_MSG_OPEN_MQ, 1);
        frame_str(&f, SHUTTLE_ATTR_SERVICE, "db.jobs");
        frame_u32(&f, SHUTTLE_ATTR_FLAGS, SHUTTLE_OPEN_READ);
        assert_refused(&f, 1, SHUTTLE_DECODE_REQUEST, -EBADFD);
        frame_begin(&f, SHUTTLE_MSG_OPENED, 1);
        assert_refused(&f, 0, SHUTTLE_DECODE_REPLY, -EBADFD);
        (void) state;
}

static void test_table(void **state) {
        static const uint16_t requests[] = { SHUTTLE_MSG_HELLO, SHUTTLE_MSG_CONNECT, SHUTTLE_MSG_SIGNAL,
                                             SHUTTLE_MSG_INVOKE, SHUTTLE_MSG_TRANSFER,
                                             SHUTTLE_MSG_KILL_INVOKED };
        for (size_t i = 0; i < ELEMENTSOF(requests); i++) {
                assert_true(shuttle_msg_type_is_request(requests[i]));
                assert_non_null(shuttle_msg_type_name(requests[i]));
                assert_false(shuttle_msg_type_is_request(shuttle_msg_success_reply(requests[i])));
                assert_non_null(shuttle_msg_type_name(shuttle_msg_success_reply(requests[i])));
        }
        assert_int_equal(shuttle_msg_type_n_fds(SHUTTLE_MSG_INVOKE), 3);
        assert_int_equal(shuttle_msg_type_n_fds(SHUTTLE_MSG_CONNECT), 0);
        assert_int_equal(shuttle_msg_type_n_fds(SHUTTLE_MSG_CONNECTED), 1);
        assert_int_equal(shuttle_msg_type_n_fds(SHUTTLE_MSG_REPLY), 0);
        assert_int_equal(shuttle_msg_type_n_fds(SHUTTLE_MSG_KILL_INVOKED), 0);
        assert_int_equal(shuttle_msg_success_reply(SHUTTLE_MSG_KILL_INVOKED), SHUTTLE_MSG_REPLY);
        assert_string_equal(shuttle_msg_type_name(SHUTTLE_MSG_KILL_INVOKED), "kill-invoked");
        assert_int_equal(shuttle_msg_type_n_fds(0x1234), -EBADRQC);
        assert_int_equal(shuttle_msg_success_reply(SHUTTLE_MSG_CONNECT), SHUTTLE_MSG_CONNECTED);
        assert_int_equal(shuttle_msg_success_reply(SHUTTLE_MSG_HELLO), SHUTTLE_MSG_WELCOME);
        assert_int_equal(shuttle_msg_success_reply(SHUTTLE_MSG_REPLY), 0);
        assert_false(shuttle_msg_type_is_request(SHUTTLE_MSG_EXIT));
        assert_null(shuttle_msg_type_name(0));
        assert_string_equal(shuttle_attr_name(SHUTTLE_ATTR_SERVICE), "service");
        assert_null(shuttle_attr_name(_SHUTTLE_ATTR_MAX));
        (void) state;
}

/* ---- every rejection class ---- */

static void test_reject_header(void **state) {
        Frame f;
        uint32_t u32;
        uint16_t u16;

        frame_begin(&f, SHUTTLE_MSG_CONNECT, 1);
        frame_str(&f, SHUTTLE_ATTR_SERVICE, "db.kv");

        Frame g = f;
        u32 = 0x4c544854;
        memcpy(g.b, &u32, 4);
        assert_refused(&g, 0, SHUTTLE_DECODE_REQUEST, -EPROTO);

        g = f;
        u16 = 2;
        memcpy(g.b + 4, &u16, 2);
        assert_refused(&g, 0, SHUTTLE_DECODE_REQUEST, -EPROTONOSUPPORT);
        u16 = 0;
        memcpy(g.b + 4, &u16, 2);
        assert_refused(&g, 0, SHUTTLE_DECODE_REQUEST, -EPROTONOSUPPORT);

        g = f;
        u16 = 77;
        memcpy(g.b + 6, &u16, 2);
        assert_refused(&g, 0, ALL_DIRECTIONS, -EBADRQC);
        u16 = 0;
        memcpy(g.b + 6, &u16, 2);
        assert_refused(&g, 0, ALL_DIRECTIONS, -EBADRQC);

        /* Short of a header. */
        g = f;
        g.len = SHUTTLE_HEADER_SIZE - 1;
        assert_refused(&g, 0, SHUTTLE_DECODE_REQUEST, -EBADMSG);
        g.len = 0;
        assert_refused(&g, 0, SHUTTLE_DECODE_REQUEST, -EBADMSG);

        /* body_len larger than the datagram, and smaller. */
        g = f;
        u32 = (uint32_t) (f.len - SHUTTLE_HEADER_SIZE + 4);
        memcpy(g.b + 12, &u32, 4);
        assert_refused(&g, 0, SHUTTLE_DECODE_REQUEST, -EBADMSG);
        u32 = UINT32_MAX;
        memcpy(g.b + 12, &u32, 4);
        assert_refused(&g, 0, SHUTTLE_DECODE_REQUEST, -EBADMSG);
        g = f;
        g.len += 4; /* trailing bytes body_len does not cover */
        assert_refused(&g, 0, SHUTTLE_DECODE_REQUEST, -EBADMSG);

        /* Larger than any frame may be. */
        g = f;
        g.len = SHUTTLE_FRAME_MAX + 1;
        frame_sync_len(&g);
        assert_refused(&g, 0, SHUTTLE_DECODE_REQUEST, -EMSGSIZE);

        /* Request id 0 is reserved. */
        frame_begin(&g, SHUTTLE_MSG_CONNECT, 0);
        frame_str(&g, SHUTTLE_ATTR_SERVICE, "db.kv");
        assert_refused(&g, 0, SHUTTLE_DECODE_REQUEST, -EINVAL);
        (void) state;
}

static void test_reject_direction(void **state) {
        ShuttleMsg m;
        Frame f;

        /* A container sending a reply to the broker. */
        shuttle_msg_reply(&m, 1, 0, NULL);
        encode(&m, &f);
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -EBADE);
        shuttle_msg_connected(&m, 1);
        encode(&m, &f);
        assert_refused(&f, 1, SHUTTLE_DECODE_REQUEST, -EBADE);
        /* A broker sending a request to a client. */
        shuttle_msg_hello(&m, 1);
        encode(&m, &f);
        assert_refused(&f, 0, SHUTTLE_DECODE_REPLY, -EBADE);
        /* No direction at all: nothing is acceptable. */
        assert_refused(&f, 0, 0, -EBADE);
        (void) state;
}

static void test_reject_attr_bounds(void **state) {
        Frame f;
        uint16_t t = SHUTTLE_ATTR_SERVICE, l;

        /* Value length runs past the body. */
        frame_begin(&f, SHUTTLE_MSG_CONNECT, 1);
        frame_str(&f, SHUTTLE_ATTR_SERVICE, "db.kv");
        l = 9;
        memcpy(f.b + SHUTTLE_HEADER_SIZE + 2, &l, 2);
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -EOVERFLOW);
        l = UINT16_MAX;
        memcpy(f.b + SHUTTLE_HEADER_SIZE + 2, &l, 2);
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -EOVERFLOW);

        /* Padding missing after the last value. */
        frame_begin(&f, SHUTTLE_MSG_CONNECT, 1);
        frame_str(&f, SHUTTLE_ATTR_SERVICE, "db.kv"); /* 6 bytes + 2 padding */
        f.len -= 2;
        frame_sync_len(&f);
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -EOVERFLOW);

        /* A truncated attribute header after a good attribute. */
        frame_begin(&f, SHUTTLE_MSG_CONNECT, 1);
        frame_str(&f, SHUTTLE_ATTR_SERVICE, "db.kv");
        memcpy(f.b + f.len, &t, 2);
        f.len += 2;
        frame_sync_len(&f);
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -EOVERFLOW);

        /* Non-zero padding. */
        frame_begin(&f, SHUTTLE_MSG_CONNECT, 1);
        frame_str(&f, SHUTTLE_ATTR_SERVICE, "db.kv");
        f.b[f.len - 1] = 'x';
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -EILSEQ);
        (void) state;
}

static void test_reject_strings(void **state) {
        char name[SHUTTLE_NAME_MAX + 2];
        Frame f;

        /* Inner NUL: "db\0x.kv". */
        frame_begin(&f, SHUTTLE_MSG_CONNECT, 1);
        frame_attr(&f, SHUTTLE_ATTR_SERVICE, "db\0x.kv", 8);
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -EILSEQ);

        /* Inner NUL in an argument, where any other byte would do. */
        frame_begin(&f, SHUTTLE_MSG_INVOKE, 1);
        frame_str(&f, SHUTTLE_ATTR_CONTAINER, "viewer");
        frame_str(&f, SHUTTLE_ATTR_APP, "/bin/echo");
        frame_attr(&f, SHUTTLE_ATTR_ARG, "a\0b", 4);
        assert_refused(&f, 3, SHUTTLE_DECODE_REQUEST, -EILSEQ);

        /* No terminating NUL. */
        frame_begin(&f, SHUTTLE_MSG_CONNECT, 1);
        frame_attr(&f, SHUTTLE_ATTR_SERVICE, "db.kv", 5);
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -EILSEQ);

        /* Zero-length value for a string. */
        frame_begin(&f, SHUTTLE_MSG_CONNECT, 1);
        frame_attr(&f, SHUTTLE_ATTR_SERVICE, NULL, 0);
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -EILSEQ);

        /* A container name of 64 characters; 63 is fine. */
        memset(name, 'a', SHUTTLE_NAME_MAX + 1);
        name[SHUTTLE_NAME_MAX + 1] = '\0';
        frame_begin(&f, SHUTTLE_MSG_SIGNAL, 1);
        frame_str(&f, SHUTTLE_ATTR_CONTAINER, name);
        frame_str(&f, SHUTTLE_ATTR_APP, "kvd");
        frame_u32(&f, SHUTTLE_ATTR_SIGNAL, SIGTERM);
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -ENAMETOOLONG);
        name[SHUTTLE_NAME_MAX] = '\0';
        frame_begin(&f, SHUTTLE_MSG_SIGNAL, 1);
        frame_str(&f, SHUTTLE_ATTR_CONTAINER, name);
        frame_str(&f, SHUTTLE_ATTR_APP, "kvd");
        frame_u32(&f, SHUTTLE_ATTR_SIGNAL, SIGTERM);
        {
                ShuttleMsg m;
                assert_int_equal(decode(&f, 0, SHUTTLE_DECODE_REQUEST, &m, NULL), 0);
                assert_int_equal(strlen(m.container), SHUTTLE_NAME_MAX);
        }

        /* Empty where a value is required. */
        frame_begin(&f, SHUTTLE_MSG_SIGNAL, 1);
        frame_str(&f, SHUTTLE_ATTR_CONTAINER, "db");
        frame_str(&f, SHUTTLE_ATTR_APP, "");
        frame_u32(&f, SHUTTLE_ATTR_SIGNAL, SIGTERM);
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -ENAMETOOLONG);

        /* Characters a value may not hold. */
        static const char *const bad_services[] = { "dbkv", ".kv", "db.", "db/x.kv", "db.k.v/",
                                                    "../etc.kv", "db.kv\n", "-db.kv", "db.-kv" };
        for (size_t i = 0; i < ELEMENTSOF(bad_services); i++) {
                frame_begin(&f, SHUTTLE_MSG_CONNECT, 1);
                frame_str(&f, SHUTTLE_ATTR_SERVICE, bad_services[i]);
                assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, strlen(bad_services[i]) < 3 ? -ENAMETOOLONG : -EILSEQ);
        }
        frame_begin(&f, SHUTTLE_MSG_TRANSFER, 1);
        frame_str(&f, SHUTTLE_ATTR_PATH, "relative/path");
        frame_u32(&f, SHUTTLE_ATTR_MODE, SHUTTLE_TRANSFER_RO);
        frame_str(&f, SHUTTLE_ATTR_CONTAINER, "viewer");
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -EILSEQ);

        frame_begin(&f, SHUTTLE_MSG_INVOKE, 1);
        frame_str(&f, SHUTTLE_ATTR_CONTAINER, "viewer");
        frame_str(&f, SHUTTLE_ATTR_APP, "/bin/true");
        frame_str(&f, SHUTTLE_ATTR_ENV, "=value");
        assert_refused(&f, 3, SHUTTLE_DECODE_REQUEST, -EILSEQ);

        /* KILL_INVOKED: a signal in range, no descriptors, nothing else. */
        frame_begin(&f, SHUTTLE_MSG_KILL_INVOKED, 1);
        frame_u32(&f, SHUTTLE_ATTR_SIGNAL, SIGINT);
        {
                ShuttleMsg m;
                assert_int_equal(decode(&f, 0, SHUTTLE_DECODE_REQUEST, &m, NULL), 0);
                assert_int_equal(m.signal, SIGINT);
        }
        assert_refused(&f, 1, SHUTTLE_DECODE_REQUEST, -EBADFD);
        assert_refused(&f, 0, SHUTTLE_DECODE_REPLY, -EBADE);
        frame_begin(&f, SHUTTLE_MSG_KILL_INVOKED, 1);
        frame_u32(&f, SHUTTLE_ATTR_SIGNAL, 65);
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -ERANGE);
        frame_begin(&f, SHUTTLE_MSG_KILL_INVOKED, 1);
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -ENODATA);
        frame_begin(&f, SHUTTLE_MSG_KILL_INVOKED, 1);
        frame_u32(&f, SHUTTLE_ATTR_SIGNAL, SIGINT);
        frame_str(&f, SHUTTLE_ATTR_CONTAINER, "viewer");
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -ENOPROTOOPT);

        frame_begin(&f, SHUTTLE_MSG_REPLY, 1);
        frame_u32(&f, SHUTTLE_ATTR_STATUS, (uint32_t) -EACCES);
        frame_str(&f, SHUTTLE_ATTR_MESSAGE, "\033[2Jgotcha");
        assert_refused(&f, 0, SHUTTLE_DECODE_REPLY, -EILSEQ);
        (void) state;
}

static void test_reject_integers(void **state) {
        Frame f;
        uint64_t big = 5;

        /* Out of range: signal 0, signal 65, status > 0, status < -4095,
         * mode 3, version 0. */
        static const struct {
                uint16_t type, attr;
                uint32_t value;
        } cases[] = {
                { SHUTTLE_MSG_SIGNAL, SHUTTLE_ATTR_SIGNAL, 0 },
                { SHUTTLE_MSG_SIGNAL, SHUTTLE_ATTR_SIGNAL, 65 },
                { SHUTTLE_MSG_SIGNAL, SHUTTLE_ATTR_SIGNAL, (uint32_t) -9 },
                { SHUTTLE_MSG_REPLY, SHUTTLE_ATTR_STATUS, 1 },
                { SHUTTLE_MSG_REPLY, SHUTTLE_ATTR_STATUS, (uint32_t) -4096 },
                { SHUTTLE_MSG_TRANSFER, SHUTTLE_ATTR_MODE, 3 },
                { SHUTTLE_MSG_HELLO, SHUTTLE_ATTR_VERSION, 0 },
                { SHUTTLE_MSG_HELLO, SHUTTLE_ATTR_VERSION, 65536 },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                frame_begin(&f, cases[i].type, 1);
                frame_u32(&f, cases[i].attr, cases[i].value);
                assert_refused(&f, 0, ALL_DIRECTIONS, -ERANGE);
        }

        /* Wrong size for the kind. */
        frame_begin(&f, SHUTTLE_MSG_HELLO, 1);
        frame_attr(&f, SHUTTLE_ATTR_VERSION, &big, sizeof(big));
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -EILSEQ);
        frame_begin(&f, SHUTTLE_MSG_TRANSFERRED, 1);
        frame_str(&f, SHUTTLE_ATTR_PATH, "/x");
        frame_u32(&f, SHUTTLE_ATTR_XFER_ID, 5);
        assert_refused(&f, 0, SHUTTLE_DECODE_REPLY, -EILSEQ);
        /* u64 above INT64_MAX, and 0. */
        frame_begin(&f, SHUTTLE_MSG_TRANSFERRED, 1);
        frame_str(&f, SHUTTLE_ATTR_PATH, "/x");
        big = UINT64_MAX;
        frame_attr(&f, SHUTTLE_ATTR_XFER_ID, &big, 8);
        assert_refused(&f, 0, SHUTTLE_DECODE_REPLY, -ERANGE);
        (void) state;
}

static void test_reject_attr_sets(void **state) {
        Frame f;

        /* Duplicate. */
        frame_begin(&f, SHUTTLE_MSG_CONNECT, 1);
        frame_str(&f, SHUTTLE_ATTR_SERVICE, "db.kv");
        frame_str(&f, SHUTTLE_ATTR_SERVICE, "db.admin");
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -ENOTUNIQ);

        /* Unknown attribute type, and attribute type 0. */
        frame_begin(&f, SHUTTLE_MSG_CONNECT, 1);
        frame_str(&f, SHUTTLE_ATTR_SERVICE, "db.kv");
        frame_u32(&f, 200, 1);
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -ENOPROTOOPT);
        frame_begin(&f, SHUTTLE_MSG_CONNECT, 1);
        frame_u32(&f, 0, 1);
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -ENOPROTOOPT);

        /* Known, but not one CONNECT takes. */
        frame_begin(&f, SHUTTLE_MSG_CONNECT, 1);
        frame_str(&f, SHUTTLE_ATTR_SERVICE, "db.kv");
        frame_str(&f, SHUTTLE_ATTR_PATH, "/etc/shadow");
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -ENOPROTOOPT);
        frame_begin(&f, SHUTTLE_MSG_CONNECTED, 1);
        frame_u32(&f, SHUTTLE_ATTR_STATUS, 0);
        assert_refused(&f, 1, SHUTTLE_DECODE_REPLY, -ENOPROTOOPT);

        /* Missing required. */
        frame_begin(&f, SHUTTLE_MSG_CONNECT, 1);
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -ENODATA);
        frame_begin(&f, SHUTTLE_MSG_SIGNAL, 1);
        frame_str(&f, SHUTTLE_ATTR_CONTAINER, "db");
        frame_u32(&f, SHUTTLE_ATTR_SIGNAL, SIGTERM);
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -ENODATA);

        /* Rule across attributes: an exit is a code or a signal. */
        frame_begin(&f, SHUTTLE_MSG_EXIT, 1);
        assert_refused(&f, 0, SHUTTLE_DECODE_REPLY, -EINVAL);
        frame_begin(&f, SHUTTLE_MSG_EXIT, 1);
        frame_u32(&f, SHUTTLE_ATTR_EXIT_CODE, 1);
        frame_u32(&f, SHUTTLE_ATTR_SIGNAL, 9);
        assert_refused(&f, 0, SHUTTLE_DECODE_REPLY, -EINVAL);
        (void) state;
}

static void test_lists(void **state) {
        ShuttleMsg m;
        Frame f;

        /* Items repeat; SHUTTLE_ARGS_MAX of them are fine, one more is not. */
        frame_begin(&f, SHUTTLE_MSG_INVOKE, 1);
        frame_str(&f, SHUTTLE_ATTR_CONTAINER, "viewer");
        frame_str(&f, SHUTTLE_ATTR_APP, "/bin/echo");
        for (int i = 0; i < SHUTTLE_ARGS_MAX; i++)
                frame_str(&f, SHUTTLE_ATTR_ARG, "x");
        assert_int_equal(decode(&f, 3, SHUTTLE_DECODE_REQUEST, &m, NULL), 0);
        assert_int_equal(m.n_args, SHUTTLE_ARGS_MAX);
        assert_null(m.args[SHUTTLE_ARGS_MAX]);
        frame_str(&f, SHUTTLE_ATTR_ARG, "x");
        assert_refused(&f, 3, SHUTTLE_DECODE_REQUEST, -E2BIG);

        /* Arguments of SHUTTLE_ARG_MAX bytes fit, longer ones do not. */
        {
                char *arg = malloc(SHUTTLE_ARG_MAX + 2);
                assert_non_null(arg);
                memset(arg, 'a', SHUTTLE_ARG_MAX + 1);
                arg[SHUTTLE_ARG_MAX + 1] = '\0';
                frame_begin(&f, SHUTTLE_MSG_INVOKE, 1);
                frame_str(&f, SHUTTLE_ATTR_CONTAINER, "viewer");
                frame_str(&f, SHUTTLE_ATTR_APP, "/bin/echo");
                frame_str(&f, SHUTTLE_ATTR_ARG, arg);
                assert_refused(&f, 3, SHUTTLE_DECODE_REQUEST, -ENAMETOOLONG);
                arg[SHUTTLE_ARG_MAX] = '\0';
                frame_begin(&f, SHUTTLE_MSG_INVOKE, 1);
                frame_str(&f, SHUTTLE_ATTR_CONTAINER, "viewer");
                frame_str(&f, SHUTTLE_ATTR_APP, "/bin/echo");
                frame_str(&f, SHUTTLE_ATTR_ARG, arg);
                assert_int_equal(decode(&f, 3, SHUTTLE_DECODE_REQUEST, &m, NULL), 0);
                assert_int_equal(strlen(m.args[0]), SHUTTLE_ARG_MAX);
                free(arg);
        }
        (void) state;
}

static void test_reject_fd_count(void **state) {
        ShuttleMsg m;
        Frame f;

        shuttle_msg_connect(&m, 1, "db.kv");
        encode(&m, &f);
        assert_refused(&f, 1, SHUTTLE_DECODE_REQUEST, -EBADFD);

        shuttle_msg_connected(&m, 1);
        encode(&m, &f);
        assert_refused(&f, 0, SHUTTLE_DECODE_REPLY, -EBADFD);
        assert_refused(&f, 2, SHUTTLE_DECODE_REPLY, -EBADFD);

        assert_int_equal(shuttle_msg_invoke(&m, 1, "viewer", "/bin/true", NULL, NULL), 0);
        encode(&m, &f);
        assert_refused(&f, 2, SHUTTLE_DECODE_REQUEST, -EBADFD);
        assert_refused(&f, 0, SHUTTLE_DECODE_REQUEST, -EBADFD);

        shuttle_msg_reply(&m, 1, -EACCES, NULL);
        encode(&m, &f);
        assert_refused(&f, 1, SHUTTLE_DECODE_REPLY, -EBADFD);
        (void) state;
}

static void test_encode_refuses(void **state) {
        char name[SHUTTLE_SERVICE_MAX + 2];
        const char *args[SHUTTLE_ARGS_MAX + 2];
        char *longarg;
        ShuttleMsg m;
        uint8_t buf[64];
        Frame f;
        size_t len = 12345;
        const char *reason = NULL;

        memset(name, 'a', sizeof(name) - 1);
        name[sizeof(name) - 1] = '\0';
        name[2] = '.';
        shuttle_msg_connect(&m, 1, name);
        assert_int_equal(shuttle_msg_encode(&m, f.b, sizeof(f.b), &len, &reason), -ENAMETOOLONG);
        assert_int_equal(len, 12345);
        assert_non_null(reason);

        shuttle_msg_connect(&m, 1, "no-dot");
        assert_int_equal(shuttle_msg_encode(&m, f.b, sizeof(f.b), &len, NULL), -EILSEQ);
        shuttle_msg_connect(&m, 1, NULL);
        assert_int_equal(shuttle_msg_encode(&m, f.b, sizeof(f.b), &len, NULL), -ENODATA);
        shuttle_msg_connect(&m, 0, "db.kv");
        assert_int_equal(shuttle_msg_encode(&m, f.b, sizeof(f.b), &len, NULL), -EINVAL);
        shuttle_msg_connect(&m, 1, "db.kv");
        m.present |= SHUTTLE_ATTR_BIT(SHUTTLE_ATTR_SIGNAL);
        assert_int_equal(shuttle_msg_encode(&m, f.b, sizeof(f.b), &len, NULL), -ENOPROTOOPT);
        m.type = 999;
        assert_int_equal(shuttle_msg_encode(&m, f.b, sizeof(f.b), &len, NULL), -EBADRQC);

        /* Does not fit the caller's buffer: nothing written. */
        shuttle_msg_signal(&m, 1, "db", "/a/rather/long/path/to/some/daemon/binary", SIGTERM);
        memset(buf, 0x5a, sizeof(buf));
        assert_int_equal(shuttle_msg_encode(&m, buf, sizeof(buf), &len, NULL), -EMSGSIZE);
        for (size_t i = 0; i < sizeof(buf); i++)
                assert_int_equal(buf[i], 0x5a);

        /* Too many items for the builder. */
        for (size_t i = 0; i < ELEMENTSOF(args) - 1; i++)
                args[i] = "x";
        args[ELEMENTSOF(args) - 1] = NULL;
        assert_int_equal(shuttle_msg_invoke(&m, 1, "viewer", "/bin/echo", args, NULL), -E2BIG);

        /* Valid items, but more than a frame holds. */
        longarg = malloc(SHUTTLE_ARG_MAX + 1);
        assert_non_null(longarg);
        memset(longarg, 'a', SHUTTLE_ARG_MAX);
        longarg[SHUTTLE_ARG_MAX] = '\0';
        for (size_t i = 0; i < 3; i++)
                args[i] = longarg;
        args[3] = NULL;
        assert_int_equal(shuttle_msg_invoke(&m, 1, "viewer", "/bin/echo", args, NULL), 0);
        assert_int_equal(shuttle_msg_encode(&m, f.b, sizeof(f.b), &len, NULL), -EMSGSIZE);
        free(longarg);

        /* An exit that is neither. */
        assert_int_equal(shuttle_msg_exit(&m, 1, 0x137f /* stopped */), -EINVAL);
        (void) state;
}

static void test_service_split(void **state) {
        char c[SHUTTLE_NAME_MAX + 1] = "untouched", s[SHUTTLE_NAME_MAX + 1] = "untouched";

        assert_int_equal(shuttle_service_split("db.kv", c, s), 0);
        assert_string_equal(c, "db");
        assert_string_equal(s, "kv");
        assert_int_equal(shuttle_service_split("eu.db.kv", c, s), 0);
        assert_string_equal(c, "eu.db");
        assert_string_equal(s, "kv");
        strcpy(c, "untouched");
        assert_int_equal(shuttle_service_split("dbkv", c, s), -EINVAL);
        assert_int_equal(shuttle_service_split("db.", c, s), -EINVAL);
        assert_int_equal(shuttle_service_split("../x.kv", c, s), -EINVAL);
        assert_string_equal(c, "untouched");
        (void) state;
}

/* ---- through a real socket ---- */

static void pair(int sv[2]) {
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

static void test_send_recv(void **state) {
        static const char *const args[] = { "a", NULL };
        uint8_t buf[SHUTTLE_RECV_BUF_SIZE];
        int sv[2], p[2], got[SHUTTLE_FDS_MAX] = { -1, -1, -1 }, fds[3];
        size_t n_got = 99;
        ShuttleMsg m, out;
        char c;

        pair(sv);
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        fds[0] = p[0];
        fds[1] = p[1];
        fds[2] = p[1];
        assert_int_equal(shuttle_msg_invoke(&m, 42, "viewer", "/bin/cat", args, NULL), 0);
        /* The sender must pass exactly what the type carries. */
        assert_int_equal(shuttle_msg_send(sv[0], &m, fds, 2), -EBADFD);
        assert_int_equal(shuttle_msg_send(sv[0], &m, fds, 3), 0);
        assert_true(shuttle_msg_recv(sv[1], buf, sizeof(buf), &out, got, SHUTTLE_FDS_MAX, &n_got,
                                     SHUTTLE_DECODE_REQUEST, NULL) > 0);
        assert_int_equal(out.type, SHUTTLE_MSG_INVOKE);
        assert_int_equal(out.id, 42);
        assert_string_equal(out.args[0], "a");
        assert_int_equal(n_got, 3);
        for (int i = 0; i < 3; i++)
                assert_true(fcntl(got[i], F_GETFD) & FD_CLOEXEC);
        assert_int_equal(write(got[1], "z", 1), 1);
        assert_int_equal(read(got[0], &c, 1), 1);
        assert_int_equal(c, 'z');
        for (int i = 0; i < 3; i++)
                close(got[i]);

        /* Peer closed: 0, nothing filled. */
        close(sv[0]);
        assert_int_equal(shuttle_msg_recv(sv[1], buf, sizeof(buf), &out, got, SHUTTLE_FDS_MAX, &n_got,
                                          SHUTTLE_DECODE_REQUEST, NULL),
                         0);
        close(sv[1]);
        close(p[0]);
        close(p[1]);
        (void) state;
}

static void send_raw(int sock, const Frame *f, const int *fds, size_t n_fds) {
        assert_int_equal(fd_send(sock, f->b, f->len, fds, n_fds), (ssize_t) f->len);
}

static void expect_recv_refused(int sock, int expected, int before) {
        uint8_t buf[SHUTTLE_RECV_BUF_SIZE];
        int got[SHUTTLE_FDS_MAX] = { -1, -1, -1 };
        size_t n_got = 99;
        const char *reason = NULL;
        ShuttleMsg out;

        assert_int_equal(shuttle_msg_recv(sock, buf, sizeof(buf), &out, got, SHUTTLE_FDS_MAX, &n_got,
                                          SHUTTLE_DECODE_REQUEST, &reason),
                         expected);
        assert_non_null(reason);
        assert_int_equal(n_got, 99);
        /* Every descriptor that came with the refused frame is closed. */
        assert_int_equal(count_open_fds(), before);
}

static void test_recv_refusals_close_fds(void **state) {
        uint8_t buf[SHUTTLE_RECV_BUF_SIZE];
        int sv[2], p[2], four[4], got[SHUTTLE_FDS_MAX];
        size_t n_got = 0;
        ShuttleMsg m, out;
        Frame f;
        int before;

        pair(sv);
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        four[0] = four[2] = p[0];
        four[1] = four[3] = p[1];
        before = count_open_fds();

        /* An oversized datagram with two fds: cut by the socket (MSG_TRUNC). */
        frame_begin(&f, SHUTTLE_MSG_CONNECT, 1);
        frame_str(&f, SHUTTLE_ATTR_SERVICE, "db.kv");
        f.len = SHUTTLE_FRAME_MAX + 100;
        frame_sync_len(&f);
        send_raw(sv[0], &f, p, 2);
        expect_recv_refused(sv[1], -EMSGSIZE, before);

        /* One byte over the maximum: fits the buffer, refused by the decoder. */
        f.len = SHUTTLE_FRAME_MAX + 1;
        frame_sync_len(&f);
        send_raw(sv[0], &f, p, 2);
        expect_recv_refused(sv[1], -EMSGSIZE, before);

        /* A valid CONNECT, but with a descriptor it does not take. */
        shuttle_msg_connect(&m, 1, "db.kv");
        encode(&m, &f);
        send_raw(sv[0], &f, p, 1);
        expect_recv_refused(sv[1], -EBADFD, before);

        /* Garbage with two fds. */
        f.b[0] ^= 0xff;
        send_raw(sv[0], &f, p, 2);
        expect_recv_refused(sv[1], -EPROTO, before);

        /* More fds than any message carries. */
        f.b[0] ^= 0xff;
        send_raw(sv[0], &f, four, 4);
        expect_recv_refused(sv[1], -EBADMSG, before);

        /* A reply, sent to the broker. */
        shuttle_msg_connected(&m, 1);
        encode(&m, &f);
        send_raw(sv[0], &f, p, 1);
        expect_recv_refused(sv[1], -EBADE, before);

        /* The socket still works afterwards. */
        shuttle_msg_hello(&m, 5);
        assert_int_equal(shuttle_msg_send(sv[0], &m, NULL, 0), 0);
        assert_true(shuttle_msg_recv(sv[1], buf, sizeof(buf), &out, got, SHUTTLE_FDS_MAX, &n_got,
                                     SHUTTLE_DECODE_REQUEST, NULL) > 0);
        assert_int_equal(out.type, SHUTTLE_MSG_HELLO);
        assert_int_equal(n_got, 0);

        /* Non-blocking: nothing waiting. */
        assert_int_equal(shuttle_msg_recv(sv[1], buf, sizeof(buf), &out, got, SHUTTLE_FDS_MAX, &n_got,
                                          SHUTTLE_DECODE_REQUEST | SHUTTLE_RECV_NONBLOCK, NULL),
                         -EAGAIN);
        close(sv[0]);
        close(sv[1]);
        close(p[0]);
        close(p[1]);
        (void) state;
}

/* ---- randomized mutations ---- */

static uint64_t rng_state;

static uint64_t rnd(void) {
        /* xorshift64*: deterministic, good enough to scramble frames. */
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return rng_state * UINT64_C(2685821657736338717);
}

static bool known_error(int r) {
        static const int known[] = { -EBADMSG,    -EMSGSIZE, -EPROTO,  -EPROTONOSUPPORT, -EBADRQC,
                                      -EBADE,      -EINVAL,   -EOVERFLOW, -ENOPROTOOPT,   -ENOTUNIQ,
                                      -EILSEQ,     -ENAMETOOLONG, -ERANGE, -E2BIG,        -ENODATA,
                                      -EBADFD };
        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (r == known[i])
                        return true;
        return false;
}

static void test_mutations(void **state) {
        static const char *const args[] = { "-v", "/tmp/in.pdf", "", NULL };
        static const char *const env[] = { "LANG=C.UTF-8", "TERM=xterm", NULL };
        Frame seeds[12];
        ShuttleMsg m;
        size_t n_seeds = 0, accepted = 0, refused = 0;
        const size_t rounds = 100000;

        shuttle_msg_hello(&m, 1);
        encode(&m, &seeds[n_seeds++]);
        shuttle_msg_connect(&m, 2, "db.kv");
        encode(&m, &seeds[n_seeds++]);
        shuttle_msg_signal(&m, 3, "db", "kvd", SIGTERM);
        encode(&m, &seeds[n_seeds++]);
        assert_int_equal(shuttle_msg_invoke(&m, 4, "viewer", "/usr/bin/pdfview", args, env), 0);
        encode(&m, &seeds[n_seeds++]);
        shuttle_msg_transfer(&m, 5, "/home/u/x.pdf", SHUTTLE_TRANSFER_RW, "viewer");
        encode(&m, &seeds[n_seeds++]);
        shuttle_msg_reply(&m, 6, -EACCES, "denied");
        encode(&m, &seeds[n_seeds++]);
        shuttle_msg_welcome(&m, 7, 1, "web");
        encode(&m, &seeds[n_seeds++]);
        shuttle_msg_connected(&m, 8);
        encode(&m, &seeds[n_seeds++]);
        shuttle_msg_transferred(&m, 9, "/run/shuttle/xfer/1/x.pdf", 1);
        encode(&m, &seeds[n_seeds++]);
        assert_int_equal(shuttle_msg_exit(&m, 10, 0), 0);
        encode(&m, &seeds[n_seeds++]);
        shuttle_msg_kill_invoked(&m, 11, SIGTERM);
        encode(&m, &seeds[n_seeds++]);

        rng_state = UINT64_C(0x5eed5eed5eed5eed);
        for (size_t round = 0; round < rounds; round++) {
                Frame f = seeds[rnd() % n_seeds];
                unsigned n_mut = 1 + rnd() % 4;
                ShuttleMsg out;
                const char *reason = NULL;
                uint16_t type;
                size_t n_fds;
                uint8_t *copy;
                int r;

                memcpy(&type, f.b + 6, 2);
                n_fds = rnd() % 5 == 0 ? rnd() % 4 : (size_t) shuttle_msg_type_n_fds(type);

                for (unsigned k = 0; k < n_mut; k++) {
                        size_t pos = f.len ? rnd() % f.len : 0;
                        switch (rnd() % 6) {
                        case 0: /* flip a bit */
                                f.b[pos] ^= (uint8_t) (1u << (rnd() % 8));
                                break;
                        case 1: /* random byte */
                                f.b[pos] = (uint8_t) rnd();
                                break;
                        case 2: /* truncate */
                                f.len = pos;
                                break;
                        case 3: /* grow with random bytes, keeping body_len honest */
                                for (unsigned g = rnd() % 16; g > 0 && f.len < sizeof(f.b); g--)
                                        f.b[f.len++] = (uint8_t) rnd();
                                if (rnd() % 2 && f.len >= SHUTTLE_HEADER_SIZE)
                                        frame_sync_len(&f);
                                break;
                        case 4: /* poke a plausible length into an attribute */
                                if (f.len >= SHUTTLE_HEADER_SIZE + 8) {
                                        uint16_t l = (uint16_t) (rnd() % 64);
                                        size_t at = SHUTTLE_HEADER_SIZE + 2 +
                                                    4 * (rnd() % ((f.len - SHUTTLE_HEADER_SIZE) / 4));
                                        if (at + 2 <= f.len)
                                                memcpy(f.b + at, &l, 2);
                                }
                                break;
                        case 5: /* change the attribute type */
                                if (f.len >= SHUTTLE_HEADER_SIZE + 8) {
                                        uint16_t t = (uint16_t) (rnd() % (_SHUTTLE_ATTR_MAX + 2));
                                        size_t at = SHUTTLE_HEADER_SIZE +
                                                    4 * (rnd() % ((f.len - SHUTTLE_HEADER_SIZE) / 4));
                                        if (at + 2 <= f.len)
                                                memcpy(f.b + at, &t, 2);
                                }
                                break;
                        }
                }

                /* Exact-size heap copy: ASan catches any read past it.  It
                 * outlives the decoded message, whose strings point into it. */
                copy = malloc(f.len ? f.len : 1);
                assert_non_null(copy);
                memcpy(copy, f.b, f.len);
                r = shuttle_msg_decode(copy, f.len, n_fds, ALL_DIRECTIONS, &out, &reason);
                if (r < 0) {
                        free(copy);
                        if (!known_error(r))
                                fail_msg("round %zu: unexpected error %d", round, r);
                        assert_non_null(reason);
                        refused++;
                        continue;
                }
                accepted++;
                /* Whatever the decoder accepts, the encoder can say again,
                 * and it decodes to the same message. */
                {
                        Frame again;
                        ShuttleMsg out2;
                        encode(&out, &again);
                        assert_int_equal(shuttle_msg_decode(again.b, again.len, n_fds, ALL_DIRECTIONS,
                                                            &out2, NULL),
                                         0);
                        assert_int_equal(out2.type, out.type);
                        assert_int_equal(out2.present, out.present);
                        assert_int_equal(out2.n_args, out.n_args);
                }
                free(copy);
        }
        /* The loop must have exercised both outcomes. */
        assert_true(accepted > 100);
        assert_true(refused > rounds / 2);
        (void) state;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_roundtrip_requests),
                cmocka_unit_test(test_roundtrip_replies),
                cmocka_unit_test(test_invoke_flags),
                cmocka_unit_test(test_table),
                cmocka_unit_test(test_names_and_open),
                cmocka_unit_test(test_reject_header),
                cmocka_unit_test(test_reject_direction),
                cmocka_unit_test(test_reject_attr_bounds),
                cmocka_unit_test(test_reject_strings),
                cmocka_unit_test(test_reject_integers),
                cmocka_unit_test(test_reject_attr_sets),
                cmocka_unit_test(test_lists),
                cmocka_unit_test(test_reject_fd_count),
                cmocka_unit_test(test_encode_refuses),
                cmocka_unit_test(test_service_split),
                cmocka_unit_test(test_send_recv),
                cmocka_unit_test(test_recv_refusals_close_fds),
                cmocka_unit_test(test_mutations),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
