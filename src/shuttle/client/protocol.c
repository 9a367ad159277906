/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "common/fdpass.h"
#include "common/macro.h"
#include "shuttle/client/protocol.h"

/* Everything here reads bytes that an untrusted container wrote.  The
 * decoder never trusts a length before comparing it with what is actually
 * left in the datagram, reads multi-byte fields with memcpy (the buffer need
 * not be aligned), and builds its result in a local copy so that a frame
 * refused half-way leaves nothing behind. */

#define ATTR_HEADER_SIZE 4
#define ALIGN4(n) (((n) + 3u) & ~(size_t) 3u)

typedef enum AttrKind {
        KIND_STRING,
        KIND_U32,
        KIND_I32,
        KIND_U64,
        KIND_STRV, /* one item per attribute; the attribute repeats */
} AttrKind;

/* What a string may contain, beyond "no NUL". */
typedef enum StrFlavor {
        STR_ANY,     /* any byte but NUL: arguments */
        STR_TEXT,    /* no control characters */
        STR_NAME,    /* a container name */
        STR_SERVICE, /* "container.service" */
        STR_ABSPATH, /* "/…", no control characters */
        STR_ENV,     /* "NAME=value" */
} StrFlavor;

typedef struct AttrDesc {
        const char *name;
        AttrKind kind;
        StrFlavor flavor;
        /* strings: length in bytes without the NUL; integers: value */
        int64_t min, max;
        size_t offset;       /* of the value (or item array) in ShuttleMsg */
        size_t count_offset; /* KIND_STRV: of the item count */
} AttrDesc;

#define FIELD(f) offsetof(ShuttleMsg, f)

static const AttrDesc attr_table[_SHUTTLE_ATTR_MAX] = {
        [SHUTTLE_ATTR_VERSION] = { "version", KIND_U32, 0, 1, UINT16_MAX, FIELD(version), 0 },
        [SHUTTLE_ATTR_NAME] = { "name", KIND_STRING, STR_NAME, 1, SHUTTLE_NAME_MAX, FIELD(name), 0 },
        [SHUTTLE_ATTR_SERVICE] = { "service", KIND_STRING, STR_SERVICE, 3, SHUTTLE_SERVICE_MAX,
                                   FIELD(service), 0 },
        [SHUTTLE_ATTR_CONTAINER] = { "container", KIND_STRING, STR_NAME, 1, SHUTTLE_NAME_MAX,
                                     FIELD(container), 0 },
        [SHUTTLE_ATTR_APP] = { "app", KIND_STRING, STR_TEXT, 1, SHUTTLE_PATH_MAX, FIELD(app), 0 },
        [SHUTTLE_ATTR_SIGNAL] = { "signal", KIND_I32, 0, 1, SHUTTLE_SIGNAL_MAX, FIELD(signal), 0 },
        [SHUTTLE_ATTR_ARG] = { "arg", KIND_STRV, STR_ANY, 0, SHUTTLE_ARG_MAX, FIELD(args),
                               FIELD(n_args) },
        [SHUTTLE_ATTR_ENV] = { "env", KIND_STRV, STR_ENV, 2, SHUTTLE_ARG_MAX, FIELD(env),
                               FIELD(n_env) },
        [SHUTTLE_ATTR_PATH] = { "path", KIND_STRING, STR_ABSPATH, 1, SHUTTLE_PATH_MAX, FIELD(path), 0 },
        [SHUTTLE_ATTR_MODE] = { "mode", KIND_U32, 0, SHUTTLE_TRANSFER_RO, SHUTTLE_TRANSFER_RW,
                                FIELD(mode), 0 },
        [SHUTTLE_ATTR_STATUS] = { "status", KIND_I32, 0, -SHUTTLE_ERRNO_MAX, 0, FIELD(status), 0 },
        [SHUTTLE_ATTR_MESSAGE] = { "message", KIND_STRING, STR_TEXT, 0, SHUTTLE_MESSAGE_MAX,
                                   FIELD(message), 0 },
        [SHUTTLE_ATTR_EXIT_CODE] = { "exit_code", KIND_I32, 0, 0, 255, FIELD(exit_code), 0 },
        [SHUTTLE_ATTR_XFER_ID] = { "xfer_id", KIND_U64, 0, 1, INT64_MAX, FIELD(xfer_id), 0 },
        [SHUTTLE_ATTR_PID] = { "pid", KIND_I32, 0, SHUTTLE_PID_BASE, INT32_MAX, FIELD(pid), 0 },
        [SHUTTLE_ATTR_WHAT] = { "what", KIND_U32, 0, SHUTTLE_NAME_PID, SHUTTLE_NAME_HOST, FIELD(what), 0 },
        [SHUTTLE_ATTR_ADDRESS] = { "address", KIND_STRING, STR_TEXT, 1, SHUTTLE_ADDRESS_MAX, FIELD(address),
                                   0 },
        [SHUTTLE_ATTR_FLAGS] = { "flags", KIND_U32, 0, 1, _SHUTTLE_OPEN_ALL, FIELD(flags), 0 },
        [SHUTTLE_ATTR_VALUE] = { "value", KIND_I32, 0, INT32_MIN, INT32_MAX, FIELD(value), 0 },
        [SHUTTLE_ATTR_INVOKE_FLAGS] = { "invoke_flags", KIND_U32, 0, 1, _SHUTTLE_INVOKE_ALL, FIELD(invoke_flags),
                                        0 },
};

typedef struct MsgDesc {
        uint16_t type;
        const char *name;
        bool request;
        uint8_t n_fds;
        uint64_t required;
        uint64_t permitted; /* includes required */
        uint16_t success_reply;
        /* Rules across attributes; NULL if none. */
        int (*check)(const ShuttleMsg *m, const char **reason);
} MsgDesc;

#define A(x) SHUTTLE_ATTR_BIT(SHUTTLE_ATTR_##x)

static int check_exit(const ShuttleMsg *m, const char **reason) {
        if (shuttle_msg_has(m, SHUTTLE_ATTR_EXIT_CODE) == shuttle_msg_has(m, SHUTTLE_ATTR_SIGNAL)) {
                *reason = "exit event needs exactly one of exit_code and signal";
                return -EINVAL;
        }
        return 0;
}

/* RESOLVE: APP names a process, NAME a service, neither the host. */
static int check_resolve(const ShuttleMsg *m, const char **reason) {
        bool app = shuttle_msg_has(m, SHUTTLE_ATTR_APP), name = shuttle_msg_has(m, SHUTTLE_ATTR_NAME);

        if ((m->what == SHUTTLE_NAME_PID && (!app || name)) ||
            (m->what == SHUTTLE_NAME_SERVICE && (app || !name)) || (m->what == SHUTTLE_NAME_HOST && (app || name))) {
                *reason = "resolve needs app for a pid, name for a service, neither for a host";
                return -EINVAL;
        }
        return 0;
}

static int check_open(const ShuttleMsg *m, const char **reason) {
        if (!(m->flags & (SHUTTLE_OPEN_READ | SHUTTLE_OPEN_WRITE))) {
                *reason = "open flags need read or write";
                return -EINVAL;
        }
        return 0;
}

static int check_resolved(const ShuttleMsg *m, const char **reason) {
        int n = shuttle_msg_has(m, SHUTTLE_ATTR_PID) + shuttle_msg_has(m, SHUTTLE_ATTR_PATH) +
                shuttle_msg_has(m, SHUTTLE_ATTR_ADDRESS);

        if (n != 1) {
                *reason = "resolved needs exactly one of pid, path and address";
                return -EINVAL;
        }
        return 0;
}

/* The closed set of message types.  Anything not listed here is refused. */
static const MsgDesc msg_table[] = {
        { SHUTTLE_MSG_HELLO, "hello", true, 0, A(VERSION), A(VERSION), SHUTTLE_MSG_WELCOME, NULL },
        { SHUTTLE_MSG_CONNECT, "connect", true, 0, A(SERVICE), A(SERVICE), SHUTTLE_MSG_CONNECTED, NULL },
        { SHUTTLE_MSG_SIGNAL, "signal", true, 0, A(CONTAINER) | A(APP) | A(SIGNAL),
          A(CONTAINER) | A(APP) | A(SIGNAL), SHUTTLE_MSG_REPLY, NULL },
        { SHUTTLE_MSG_INVOKE, "invoke", true, 3, A(CONTAINER) | A(APP),
          A(CONTAINER) | A(APP) | A(ARG) | A(ENV) | A(INVOKE_FLAGS), SHUTTLE_MSG_REPLY, NULL },
        { SHUTTLE_MSG_TRANSFER, "transfer", true, 0, A(PATH) | A(MODE) | A(CONTAINER),
          A(PATH) | A(MODE) | A(CONTAINER), SHUTTLE_MSG_TRANSFERRED, NULL },
        { SHUTTLE_MSG_KILL_INVOKED, "kill-invoked", true, 0, A(SIGNAL), A(SIGNAL), SHUTTLE_MSG_REPLY, NULL },
        { SHUTTLE_MSG_SIGNAL_PID, "signal-pid", true, 0, A(PID), A(PID) | A(SIGNAL) | A(VALUE), SHUTTLE_MSG_REPLY,
          NULL },
        { SHUTTLE_MSG_RESOLVE, "resolve", true, 0, A(CONTAINER) | A(WHAT), A(CONTAINER) | A(WHAT) | A(APP) | A(NAME),
          SHUTTLE_MSG_RESOLVED, check_resolve },
        { SHUTTLE_MSG_OPEN_SHM, "open-shm", true, 0, A(SERVICE) | A(FLAGS), A(SERVICE) | A(FLAGS), SHUTTLE_MSG_OPENED,
          check_open },
        { SHUTTLE_MSG_OPEN_MQ, "open-mq", true, 0, A(SERVICE) | A(FLAGS), A(SERVICE) | A(FLAGS), SHUTTLE_MSG_OPENED,
          check_open },
        { SHUTTLE_MSG_OPEN_FIFO, "open-fifo", true, 0, A(SERVICE) | A(FLAGS), A(SERVICE) | A(FLAGS),
          SHUTTLE_MSG_OPENED, check_open },

        { SHUTTLE_MSG_REPLY, "reply", false, 0, A(STATUS), A(STATUS) | A(MESSAGE), 0, NULL },
        { SHUTTLE_MSG_WELCOME, "welcome", false, 0, A(VERSION) | A(NAME), A(VERSION) | A(NAME), 0, NULL },
        { SHUTTLE_MSG_CONNECTED, "connected", false, 1, 0, 0, 0, NULL },
        { SHUTTLE_MSG_TRANSFERRED, "transferred", false, 0, A(PATH) | A(XFER_ID), A(PATH) | A(XFER_ID),
          0, NULL },
        { SHUTTLE_MSG_EXIT, "exit", false, 0, 0, A(EXIT_CODE) | A(SIGNAL), 0, check_exit },
        { SHUTTLE_MSG_RESOLVED, "resolved", false, 0, 0, A(PID) | A(PATH) | A(ADDRESS), 0, check_resolved },
        { SHUTTLE_MSG_OPENED, "opened", false, 1, 0, 0, 0, NULL },
};

static const MsgDesc *msg_desc(uint16_t type) {
        for (size_t i = 0; i < ELEMENTSOF(msg_table); i++)
                if (msg_table[i].type == type)
                        return &msg_table[i];
        return NULL;
}

static const AttrDesc *attr_desc(uint16_t attr) {
        if (attr == 0 || attr >= _SHUTTLE_ATTR_MAX)
                return NULL;
        return &attr_table[attr];
}

const char *shuttle_msg_type_name(uint16_t type) {
        const MsgDesc *d = msg_desc(type);
        return d ? d->name : NULL;
}

const char *shuttle_attr_name(uint16_t attr) {
        const AttrDesc *d = attr_desc(attr);
        return d ? d->name : NULL;
}

bool shuttle_msg_type_is_request(uint16_t type) {
        const MsgDesc *d = msg_desc(type);
        return d && d->request;
}

int shuttle_msg_type_n_fds(uint16_t type) {
        const MsgDesc *d = msg_desc(type);
        return d ? d->n_fds : -EBADRQC;
}

uint16_t shuttle_msg_success_reply(uint16_t type) {
        const MsgDesc *d = msg_desc(type);
        return d && d->request ? d->success_reply : 0;
}

/* ASCII only, on purpose: isalnum() depends on the locale, and the same
 * bytes must mean the same thing in the broker and in every container.
 * Same rules as container_name_is_valid(). */
static bool ascii_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool name_valid(const char *s, size_t n, bool allow_dot) {
        if (n == 0 || n > SHUTTLE_NAME_MAX || !ascii_alnum(s[0]))
                return false;
        for (size_t i = 0; i < n; i++) {
                if (ascii_alnum(s[i]) || s[i] == '_' || s[i] == '-')
                        continue;
                if (s[i] == '.' && allow_dot && s[i - 1] != '.')
                        continue;
                return false;
        }
        return true;
}

static bool text_valid(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return true;
}

/* Returns the position of the dot separating container and service, or -1. */
static ssize_t service_dot(const char *s, size_t n) {
        const char *dot = memrchr(s, '.', n);

        if (!dot)
                return -1;
        if (!name_valid(s, dot - s, true) || !name_valid(dot + 1, n - (dot - s) - 1, false))
                return -1;
        return dot - s;
}

static int check_string(const AttrDesc *d, const char *s, size_t n, const char **reason) {
        if (n > (uint64_t) d->max) {
                *reason = "string too long";
                return -ENAMETOOLONG;
        }
        if (n < (uint64_t) d->min) {
                *reason = "string too short";
                return -ENAMETOOLONG;
        }
        switch (d->flavor) {
        case STR_ANY:
                return 0;
        case STR_TEXT:
                if (!text_valid(s, n)) {
                        *reason = "control character in string";
                        return -EILSEQ;
                }
                return 0;
        case STR_NAME:
                if (!name_valid(s, n, true)) {
                        *reason = "invalid container name";
                        return -EILSEQ;
                }
                return 0;
        case STR_SERVICE:
                if (service_dot(s, n) < 0) {
                        *reason = "service is not container.service";
                        return -EILSEQ;
                }
                return 0;
        case STR_ABSPATH:
                if (s[0] != '/' || !text_valid(s, n)) {
                        *reason = "path not absolute or with control characters";
                        return -EILSEQ;
                }
                return 0;
        case STR_ENV: {
                const char *eq = memchr(s, '=', n);
                if (!eq || eq == s) {
                        *reason = "environment entry is not NAME=value";
                        return -EILSEQ;
                }
                return 0;
        }
        }
        *reason = "internal: unknown string flavor";
        return -EINVAL;
}

static int check_int(const AttrDesc *d, int64_t v, const char **reason) {
        if (v < d->min || v > d->max) {
                *reason = "integer out of range";
                return -ERANGE;
        }
        return 0;
}

/* Validates one attribute value as it is on the wire (strings include their
 * NUL) and stores it in m.  The caller has checked that value[0…len) lies
 * inside the frame and that the attribute is not a duplicate. */
static int attr_store(ShuttleMsg *m, uint16_t type, const uint8_t *value, size_t len,
                      const char **reason) {
        const AttrDesc *d = attr_desc(type);
        char *field = (char *) m + d->offset;
        int r;

        switch (d->kind) {
        case KIND_STRING:
        case KIND_STRV: {
                const char *s = (const char *) value;
                size_t *count;

                if (len == 0 || s[len - 1] != '\0') {
                        *reason = "string without terminating NUL";
                        return -EILSEQ;
                }
                if (memchr(s, '\0', len - 1)) {
                        *reason = "string with an inner NUL";
                        return -EILSEQ;
                }
                r = check_string(d, s, len - 1, reason);
                if (r < 0)
                        return r;
                if (d->kind == KIND_STRING) {
                        memcpy(field, &s, sizeof(s));
                        break;
                }
                count = (size_t *) ((char *) m + d->count_offset);
                if (*count >= SHUTTLE_ARGS_MAX) {
                        *reason = "too many list items";
                        return -E2BIG;
                }
                /* The array has SHUTTLE_ARGS_MAX + 1 slots and m was zeroed:
                 * it stays NULL-terminated. */
                memcpy(field + *count * sizeof(s), &s, sizeof(s));
                (*count)++;
                break;
        }
        case KIND_U32:
        case KIND_I32:
        case KIND_U64: {
                size_t size = d->kind == KIND_U64 ? sizeof(uint64_t) : sizeof(uint32_t);
                int64_t n;

                if (len != size) {
                        *reason = "integer of the wrong size";
                        return -EILSEQ;
                }
                if (d->kind == KIND_U32) {
                        uint32_t v;

                        memcpy(&v, value, sizeof(v));
                        n = v;
                } else if (d->kind == KIND_I32) {
                        int32_t v;

                        memcpy(&v, value, sizeof(v));
                        n = v;
                } else {
                        uint64_t v;

                        memcpy(&v, value, sizeof(v));
                        if (v > INT64_MAX) {
                                *reason = "integer out of range";
                                return -ERANGE;
                        }
                        n = (int64_t) v;
                }
                r = check_int(d, n, reason);
                if (r < 0)
                        return r;
                /* The field has the wire's width and byte order. */
                memcpy(field, value, size);
                break;
        }
        }
        m->present |= SHUTTLE_ATTR_BIT(type);
        return 0;
}

typedef struct FrameHeader {
        uint32_t magic;
        uint16_t version;
        uint16_t type;
        uint32_t id;
        uint32_t body_len;
} FrameHeader;

_Static_assert(sizeof(FrameHeader) == SHUTTLE_HEADER_SIZE, "frame header is 16 bytes");
_Static_assert(SHUTTLE_FDS_MAX <= FD_PASS_MAX, "fdpass carries every message type");
_Static_assert(_SHUTTLE_ATTR_MAX <= 64, "attribute bits fit in ShuttleMsg.present");
_Static_assert(SHUTTLE_FRAME_MAX <= UINT16_MAX, "attribute lengths fit in u16");

static int fail(const char **ret_reason, const char *reason, int r) {
        if (ret_reason)
                *ret_reason = reason;
        return r;
}

static int decode_body(const MsgDesc *d, const uint8_t *body, size_t body_len, ShuttleMsg *m,
                       const char **reason) {
        size_t off = 0;
        int r;

        while (off < body_len) {
                size_t left = body_len - off, padded;
                uint16_t type, len;

                if (left < ATTR_HEADER_SIZE) {
                        *reason = "truncated attribute header";
                        return -EOVERFLOW;
                }
                memcpy(&type, body + off, sizeof(type));
                memcpy(&len, body + off + 2, sizeof(len));
                left -= ATTR_HEADER_SIZE;
                padded = ALIGN4((size_t) len);
                if (padded > left) {
                        *reason = "attribute runs past the end of the body";
                        return -EOVERFLOW;
                }
                for (size_t i = len; i < padded; i++)
                        if (body[off + ATTR_HEADER_SIZE + i] != 0) {
                                *reason = "non-zero attribute padding";
                                return -EILSEQ;
                        }
                if (!attr_desc(type)) {
                        *reason = "unknown attribute";
                        return -ENOPROTOOPT;
                }
                if (!(d->permitted & SHUTTLE_ATTR_BIT(type))) {
                        *reason = "attribute not permitted in this message type";
                        return -ENOPROTOOPT;
                }
                if (attr_table[type].kind != KIND_STRV && (m->present & SHUTTLE_ATTR_BIT(type))) {
                        *reason = "duplicate attribute";
                        return -ENOTUNIQ;
                }
                r = attr_store(m, type, body + off + ATTR_HEADER_SIZE, len, reason);
                if (r < 0)
                        return r;
                off += ATTR_HEADER_SIZE + padded;
        }

        if ((d->required & m->present) != d->required) {
                *reason = "required attribute missing";
                return -ENODATA;
        }
        if (d->check)
                return d->check(m, reason);
        return 0;
}

int shuttle_msg_decode(const void *buf, size_t len, size_t n_fds, unsigned flags, ShuttleMsg *ret,
                       const char **ret_reason) {
        ShuttleMsg m; /* built here, copied out only when all is well */
        const MsgDesc *d;
        const char *reason = NULL;
        FrameHeader h;
        int r;

        if (len < SHUTTLE_HEADER_SIZE)
                return fail(ret_reason, "frame shorter than its header", -EBADMSG);
        if (len > SHUTTLE_FRAME_MAX)
                return fail(ret_reason, "frame larger than the maximum", -EMSGSIZE);
        memcpy(&h, buf, sizeof(h));
        if (h.magic != SHUTTLE_MAGIC)
                return fail(ret_reason, "bad magic", -EPROTO);
        if (h.version != SHUTTLE_PROTOCOL_VERSION)
                return fail(ret_reason, "unsupported protocol version", -EPROTONOSUPPORT);
        d = msg_desc(h.type);
        if (!d)
                return fail(ret_reason, "unknown message type", -EBADRQC);
        if (!(flags & (d->request ? SHUTTLE_DECODE_REQUEST : SHUTTLE_DECODE_REPLY)))
                return fail(ret_reason, d->request ? "request where a reply was expected"
                                                   : "reply where a request was expected",
                            -EBADE);
        if (h.body_len != len - SHUTTLE_HEADER_SIZE)
                return fail(ret_reason, "body length does not match the datagram", -EBADMSG);
        if (d->request && h.id == 0)
                return fail(ret_reason, "request id 0 is reserved", -EINVAL);
        /* Descriptors are accepted only on the types that take them, and
         * exactly as many as the type takes. */
        if (n_fds != d->n_fds)
                return fail(ret_reason, "wrong number of file descriptors", -EBADFD);

        memset(&m, 0, sizeof(m));
        m.type = h.type;
        m.id = h.id;
        r = decode_body(d, (const uint8_t *) buf + SHUTTLE_HEADER_SIZE, h.body_len, &m, &reason);
        if (r < 0)
                return fail(ret_reason, reason, r);

        *ret = m;
        return 0;
}

/* One attribute of m as it goes on the wire; for lists, item i. */
static void attr_wire_value(const ShuttleMsg *m, const AttrDesc *d, size_t i, const void **ret_value,
                            size_t *ret_len) {
        const char *field = (const char *) m + d->offset;

        switch (d->kind) {
        case KIND_STRING:
        case KIND_STRV: {
                const char *s;
                memcpy(&s, field + (d->kind == KIND_STRV ? i * sizeof(s) : 0), sizeof(s));
                *ret_value = s;
                /* Bounded: a string longer than the frame is refused below
                 * without reading all of it. */
                *ret_len = s ? strnlen(s, SHUTTLE_FRAME_MAX) + 1 : 0;
                return;
        }
        case KIND_U32:
        case KIND_I32:
                *ret_value = field;
                *ret_len = 4;
                return;
        case KIND_U64:
                *ret_value = field;
                *ret_len = 8;
                return;
        }
}

static size_t attr_items(const ShuttleMsg *m, const AttrDesc *d) {
        size_t n;

        if (d->kind != KIND_STRV)
                return 1;
        memcpy(&n, (const char *) m + d->count_offset, sizeof(n));
        return n;
}

static int encode_check(const ShuttleMsg *m, const MsgDesc **ret_desc, size_t *ret_len,
                        const char **reason) {
        const MsgDesc *d = msg_desc(m->type);
        ShuttleMsg scratch;
        size_t total = SHUTTLE_HEADER_SIZE;
        int r;

        if (!d) {
                *reason = "unknown message type";
                return -EBADRQC;
        }
        if (d->request && m->id == 0) {
                *reason = "request id 0 is reserved";
                return -EINVAL;
        }
        if ((m->present & ~d->permitted) != 0) {
                *reason = "attribute not permitted in this message type";
                return -ENOPROTOOPT;
        }
        if ((m->present & d->required) != d->required) {
                *reason = "required attribute missing";
                return -ENODATA;
        }

        /* Run every value through the decoder's own checks, into a scratch
         * message, so that what we send is exactly what we accept. */
        memset(&scratch, 0, sizeof(scratch));
        for (uint16_t a = 1; a < _SHUTTLE_ATTR_MAX; a++) {
                const AttrDesc *ad = &attr_table[a];
                size_t n_items;

                if (ad->kind == KIND_STRV &&
                    !!(m->present & SHUTTLE_ATTR_BIT(a)) != (attr_items(m, ad) > 0)) {
                        *reason = "list present flag and item count disagree";
                        return -EINVAL;
                }
                if (!(m->present & SHUTTLE_ATTR_BIT(a)))
                        continue;
                n_items = attr_items(m, ad);
                if (n_items > SHUTTLE_ARGS_MAX) {
                        *reason = "too many list items";
                        return -E2BIG;
                }
                for (size_t i = 0; i < n_items; i++) {
                        const void *v;
                        size_t len;

                        attr_wire_value(m, ad, i, &v, &len);
                        if (!v) {
                                *reason = "string attribute is NULL";
                                return -EINVAL;
                        }
                        if (len > SHUTTLE_FRAME_MAX) {
                                *reason = "string too long";
                                return -ENAMETOOLONG;
                        }
                        r = attr_store(&scratch, a, v, len, reason);
                        if (r < 0)
                                return r;
                        total += ATTR_HEADER_SIZE + ALIGN4(len);
                        if (total > SHUTTLE_FRAME_MAX) {
                                *reason = "message larger than the maximum frame";
                                return -EMSGSIZE;
                        }
                }
        }
        if (d->check) {
                r = d->check(m, reason);
                if (r < 0)
                        return r;
        }
        *ret_desc = d;
        *ret_len = total;
        return 0;
}

int shuttle_msg_encode(const ShuttleMsg *m, void *buf, size_t size, size_t *ret_len,
                       const char **ret_reason) {
        const char *reason = NULL;
        const MsgDesc *d;
        uint8_t *p = buf;
        FrameHeader h;
        size_t total, off;
        int r;

        r = encode_check(m, &d, &total, &reason);
        if (r < 0)
                return fail(ret_reason, reason, r);
        if (total > size)
                return fail(ret_reason, "buffer too small", -EMSGSIZE);

        h = (FrameHeader) {
                .magic = SHUTTLE_MAGIC,
                .version = SHUTTLE_PROTOCOL_VERSION,
                .type = m->type,
                .id = m->id,
                .body_len = (uint32_t) (total - SHUTTLE_HEADER_SIZE),
        };
        memcpy(p, &h, sizeof(h));
        off = sizeof(h);

        for (uint16_t a = 1; a < _SHUTTLE_ATTR_MAX; a++) {
                const AttrDesc *ad = &attr_table[a];
                size_t n_items;

                if (!(m->present & SHUTTLE_ATTR_BIT(a)))
                        continue;
                n_items = attr_items(m, ad);
                for (size_t i = 0; i < n_items; i++) {
                        const void *v;
                        size_t len;
                        uint16_t len16;

                        attr_wire_value(m, ad, i, &v, &len);
                        len16 = (uint16_t) len;
                        memcpy(p + off, &a, sizeof(a));
                        memcpy(p + off + 2, &len16, sizeof(len16));
                        memcpy(p + off + ATTR_HEADER_SIZE, v, len);
                        memset(p + off + ATTR_HEADER_SIZE + len, 0, ALIGN4(len) - len);
                        off += ATTR_HEADER_SIZE + ALIGN4(len);
                }
        }

        *ret_len = off;
        return 0;
}

static void msg_init(ShuttleMsg *m, uint16_t type, uint32_t id) {
        memset(m, 0, sizeof(*m));
        m->type = type;
        m->id = id;
}

static void set_string(ShuttleMsg *m, ShuttleAttrType a, const char *s) {
        if (!s)
                return;
        memcpy((char *) m + attr_table[a].offset, &s, sizeof(s));
        m->present |= SHUTTLE_ATTR_BIT(a);
}

static int set_list(ShuttleMsg *m, ShuttleAttrType a, const char *const *v) {
        const AttrDesc *d = &attr_table[a];
        const char **items = (const char **) ((char *) m + d->offset);
        size_t n = 0;

        if (!v)
                return 0;
        for (; v[n]; n++) {
                if (n >= SHUTTLE_ARGS_MAX)
                        return -E2BIG;
                items[n] = v[n];
        }
        memcpy((char *) m + d->count_offset, &n, sizeof(n));
        if (n > 0)
                m->present |= SHUTTLE_ATTR_BIT(a);
        return 0;
}

void shuttle_msg_hello(ShuttleMsg *m, uint32_t id) {
        msg_init(m, SHUTTLE_MSG_HELLO, id);
        m->version = SHUTTLE_PROTOCOL_VERSION;
        m->present = A(VERSION);
}

void shuttle_msg_connect(ShuttleMsg *m, uint32_t id, const char *service) {
        msg_init(m, SHUTTLE_MSG_CONNECT, id);
        set_string(m, SHUTTLE_ATTR_SERVICE, service);
}

void shuttle_msg_signal(ShuttleMsg *m, uint32_t id, const char *container, const char *app, int signo) {
        msg_init(m, SHUTTLE_MSG_SIGNAL, id);
        set_string(m, SHUTTLE_ATTR_CONTAINER, container);
        set_string(m, SHUTTLE_ATTR_APP, app);
        m->signal = signo;
        m->present |= A(SIGNAL);
}

int shuttle_msg_invoke(ShuttleMsg *m, uint32_t id, const char *container, const char *app,
                       const char *const *args, const char *const *env) {
        int r;

        msg_init(m, SHUTTLE_MSG_INVOKE, id);
        set_string(m, SHUTTLE_ATTR_CONTAINER, container);
        set_string(m, SHUTTLE_ATTR_APP, app);
        r = set_list(m, SHUTTLE_ATTR_ARG, args);
        if (r < 0)
                return r;
        return set_list(m, SHUTTLE_ATTR_ENV, env);
}

void shuttle_msg_invoke_set_flags(ShuttleMsg *m, uint32_t flags) {
        if (flags == 0)
                return;
        m->invoke_flags = flags;
        m->present |= A(INVOKE_FLAGS);
}

void shuttle_msg_transfer(ShuttleMsg *m, uint32_t id, const char *path, ShuttleTransferMode mode,
                          const char *container) {
        msg_init(m, SHUTTLE_MSG_TRANSFER, id);
        set_string(m, SHUTTLE_ATTR_PATH, path);
        m->mode = mode;
        m->present |= A(MODE);
        set_string(m, SHUTTLE_ATTR_CONTAINER, container);
}

void shuttle_msg_kill_invoked(ShuttleMsg *m, uint32_t id, int signo) {
        msg_init(m, SHUTTLE_MSG_KILL_INVOKED, id);
        m->signal = signo;
        m->present = A(SIGNAL);
}

void shuttle_msg_signal_pid(ShuttleMsg *m, uint32_t id, int32_t pid, int signo, bool with_value, int32_t value) {
        msg_init(m, SHUTTLE_MSG_SIGNAL_PID, id);
        m->pid = pid;
        m->present = A(PID);
        if (signo != 0) {
                m->signal = signo;
                m->present |= A(SIGNAL);
        }
        if (with_value) {
                m->value = value;
                m->present |= A(VALUE);
        }
}

void shuttle_msg_resolve(ShuttleMsg *m, uint32_t id, const char *container, ShuttleNameKind what,
                         const char *arg) {
        msg_init(m, SHUTTLE_MSG_RESOLVE, id);
        set_string(m, SHUTTLE_ATTR_CONTAINER, container);
        m->what = what;
        m->present |= A(WHAT);
        if (what == SHUTTLE_NAME_PID)
                set_string(m, SHUTTLE_ATTR_APP, arg);
        else if (what == SHUTTLE_NAME_SERVICE)
                set_string(m, SHUTTLE_ATTR_NAME, arg);
}

void shuttle_msg_open(ShuttleMsg *m, uint16_t type, uint32_t id, const char *service, uint32_t flags) {
        msg_init(m, type, id);
        set_string(m, SHUTTLE_ATTR_SERVICE, service);
        m->flags = flags;
        m->present |= A(FLAGS);
}

void shuttle_msg_resolved(ShuttleMsg *m, uint32_t id, int32_t pid, const char *path, const char *address) {
        msg_init(m, SHUTTLE_MSG_RESOLVED, id);
        if (pid > 0) {
                m->pid = pid;
                m->present = A(PID);
        }
        set_string(m, SHUTTLE_ATTR_PATH, path);
        set_string(m, SHUTTLE_ATTR_ADDRESS, address);
}

void shuttle_msg_opened(ShuttleMsg *m, uint32_t id) {
        msg_init(m, SHUTTLE_MSG_OPENED, id);
}

void shuttle_msg_reply(ShuttleMsg *m, uint32_t id, int status, const char *message) {
        msg_init(m, SHUTTLE_MSG_REPLY, id);
        m->status = status;
        m->present = A(STATUS);
        set_string(m, SHUTTLE_ATTR_MESSAGE, message);
}

void shuttle_msg_welcome(ShuttleMsg *m, uint32_t id, uint32_t version, const char *name) {
        msg_init(m, SHUTTLE_MSG_WELCOME, id);
        m->version = version;
        m->present = A(VERSION);
        set_string(m, SHUTTLE_ATTR_NAME, name);
}

void shuttle_msg_connected(ShuttleMsg *m, uint32_t id) {
        msg_init(m, SHUTTLE_MSG_CONNECTED, id);
}

void shuttle_msg_transferred(ShuttleMsg *m, uint32_t id, const char *path, uint64_t xfer_id) {
        msg_init(m, SHUTTLE_MSG_TRANSFERRED, id);
        set_string(m, SHUTTLE_ATTR_PATH, path);
        m->xfer_id = xfer_id;
        m->present |= A(XFER_ID);
}

int shuttle_msg_exit(ShuttleMsg *m, uint32_t id, int wait_status) {
        if (WIFEXITED(wait_status)) {
                msg_init(m, SHUTTLE_MSG_EXIT, id);
                m->exit_code = WEXITSTATUS(wait_status);
                m->present = A(EXIT_CODE);
        } else if (WIFSIGNALED(wait_status)) {
                msg_init(m, SHUTTLE_MSG_EXIT, id);
                m->signal = WTERMSIG(wait_status);
                m->present = A(SIGNAL);
        } else
                return -EINVAL;
        return 0;
}

int shuttle_service_split(const char *s, char container[static SHUTTLE_NAME_MAX + 1],
                          char service[static SHUTTLE_NAME_MAX + 1]) {
        size_t n;
        ssize_t dot;

        if (!s)
                return -EINVAL;
        n = strnlen(s, SHUTTLE_SERVICE_MAX + 1);
        if (n > SHUTTLE_SERVICE_MAX)
                return -EINVAL;
        dot = service_dot(s, n);
        if (dot < 0)
                return -EINVAL;
        memcpy(container, s, dot);
        container[dot] = '\0';
        memcpy(service, s + dot + 1, n - dot - 1);
        service[n - dot - 1] = '\0';
        return 0;
}

int shuttle_msg_send(int sock, const ShuttleMsg *m, const int *fds, size_t n_fds) {
        uint8_t buf[SHUTTLE_FRAME_MAX];
        size_t len;
        ssize_t n;
        int r;

        r = shuttle_msg_type_n_fds(m->type);
        if (r < 0)
                return r;
        if ((size_t) r != n_fds)
                return -EBADFD;
        r = shuttle_msg_encode(m, buf, sizeof(buf), &len, NULL);
        if (r < 0)
                return r;
        n = fd_send(sock, buf, len, fds, n_fds);
        if (n < 0)
                return (int) n;
        /* SOCK_SEQPACKET sends a datagram whole or not at all. */
        return (size_t) n == len ? 0 : -EIO;
}

static const char *recv_reason(int r) {
        switch (r) {
        case -EMSGSIZE:
                return "datagram larger than the maximum frame";
        case -ECHRNG:
                return "ancillary data truncated";
        case -EBADMSG:
                return "unexpected ancillary data or too many file descriptors";
        case -EAGAIN:
                return "no message waiting";
        default:
                return "receive failed";
        }
}

int shuttle_msg_recv(int sock, void *buf, size_t size, ShuttleMsg *ret, int *fds, size_t max_fds,
                     size_t *ret_n_fds, unsigned flags, const char **ret_reason) {
        int got[SHUTTLE_FDS_MAX];
        size_t n_got = 0;
        ssize_t n;
        int r;

        /* fd_recv_upto() refuses (and closes) more descriptors than we allow
         * here, so 'got' cannot overflow; the exact count per type is the
         * decoder's business. */
        n = fd_recv_upto(sock, buf, size, got, MIN(max_fds, (size_t) SHUTTLE_FDS_MAX), &n_got,
                         (flags & SHUTTLE_RECV_NONBLOCK) ? MSG_DONTWAIT : 0);
        if (n < 0)
                return fail(ret_reason, recv_reason((int) n), (int) n);
        if (n == 0) {
                /* End of stream (or an empty datagram, which no valid frame
                 * is: the caller drops the peer either way). */
                for (size_t i = 0; i < n_got; i++)
                        safe_close(got[i]);
                return 0;
        }

        r = shuttle_msg_decode(buf, (size_t) n, n_got, flags & (SHUTTLE_DECODE_REQUEST | SHUTTLE_DECODE_REPLY),
                               ret, ret_reason);
        if (r < 0) {
                for (size_t i = 0; i < n_got; i++)
                        safe_close(got[i]);
                return r;
        }
        memcpy(fds, got, n_got * sizeof(int));
        *ret_n_fds = n_got;
        return (int) n;
}
