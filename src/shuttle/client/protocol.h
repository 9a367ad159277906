/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The wire protocol on a container's /run/shuttle/broker.sock (see
 * docs/PROTOCOL.md).  One SOCK_SEQPACKET datagram = one frame:
 *
 *   offset  size  field
 *        0     4  magic    SHUTTLE_MAGIC
 *        4     2  version  SHUTTLE_PROTOCOL_VERSION
 *        6     2  type     ShuttleMsgType
 *        8     4  id       request id, chosen by the client, echoed in replies
 *       12     4  body_len exactly datagram length - 16
 *       16     …  body     attributes
 *
 * All integers are in host byte order: both ends are on the same machine.
 * The body is a sequence of attributes: u16 type, u16 length (of the value,
 * header excluded), the value, zero padding to a multiple of 4.  Every
 * attribute has one fixed kind (string, u32, i32, u64, or string-list item)
 * and limits; every message type has a direction, the attributes it requires
 * and permits, and the exact number of fds it carries.  The tables in
 * protocol.c are the single source of truth.
 *
 * The encoder and decoder are pure: no I/O, no allocation. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Array parameters with a minimum size ([static N]) are C only. */
#ifdef __cplusplus
#define SHUTTLE_AT_LEAST(n) n
extern "C" {
#else
#define SHUTTLE_AT_LEAST(n) static n
#endif

#define SHUTTLE_MAGIC UINT32_C(0x4c544853) /* the bytes "SHTL" on little-endian */
#define SHUTTLE_PROTOCOL_VERSION 1
#define SHUTTLE_HEADER_SIZE 16
#define SHUTTLE_FRAME_MAX 8192
/* Receive buffers are one byte larger than the largest frame so that an
 * oversized datagram is seen as oversized, never silently cut. */
#define SHUTTLE_RECV_BUF_SIZE (SHUTTLE_FRAME_MAX + 1)
/* The most fds any message type carries (INVOKE: stdin, stdout, stderr). */
#define SHUTTLE_FDS_MAX 3

/* Limits on values, in bytes without the terminating NUL. */
#define SHUTTLE_NAME_MAX 63      /* container names, service names */
#define SHUTTLE_SERVICE_MAX 127  /* "container.service" */
#define SHUTTLE_PATH_MAX 4095
#define SHUTTLE_ARG_MAX 4095     /* each argument / environment entry */
#define SHUTTLE_ARGS_MAX 256     /* items in ARG, and in ENV */
#define SHUTTLE_MESSAGE_MAX 255
#define SHUTTLE_ERRNO_MAX 4095   /* STATUS is 0 or -1 … -SHUTTLE_ERRNO_MAX */
#define SHUTTLE_SIGNAL_MAX 64
#define SHUTTLE_ADDRESS_MAX 63   /* a numeric host address */
/* Process ids the broker hands out for another container's processes (see
 * RESOLVE): above any pid the kernel can give (PID_MAX_LIMIT is 2^22), so
 * that kill() of one without the shim fails with ESRCH instead of reaching
 * a process of the caller's own. */
#define SHUTTLE_PID_BASE INT32_C(0x40000000)

typedef enum ShuttleMsgType {
        /* client → broker: requests */
        SHUTTLE_MSG_HELLO = 1,    /* VERSION → WELCOME */
        SHUTTLE_MSG_CONNECT = 2,  /* SERVICE → CONNECTED (1 fd) */
        SHUTTLE_MSG_SIGNAL = 3,   /* CONTAINER APP SIGNAL → REPLY 0 */
        SHUTTLE_MSG_INVOKE = 4,   /* CONTAINER APP [ARG…] [ENV…] [INVOKE_FLAGS], 3 fds → REPLY 0,
                                   * later EXIT */
        SHUTTLE_MSG_TRANSFER = 5, /* PATH MODE CONTAINER → TRANSFERRED */
        SHUTTLE_MSG_KILL_INVOKED = 6, /* SIGNAL → REPLY 0: to this connection's running invocation */
        SHUTTLE_MSG_SIGNAL_PID = 7, /* PID [SIGNAL] [VALUE] → REPLY 0: to a process RESOLVE named;
                                     * no SIGNAL: only whether it still exists (kill(pid, 0)) */
        SHUTTLE_MSG_RESOLVE = 8,    /* CONTAINER WHAT [APP | NAME] → RESOLVED: another container's
                                     * name in the caller's view */
        SHUTTLE_MSG_OPEN_SHM = 9,   /* SERVICE FLAGS → OPENED (1 fd): an exported shared-memory object */
        SHUTTLE_MSG_OPEN_MQ = 10,   /* SERVICE FLAGS → OPENED (1 fd): an exported message queue */
        SHUTTLE_MSG_OPEN_FIFO = 11, /* SERVICE FLAGS → OPENED (1 fd): one end of an exported FIFO */

        /* broker → client: replies and events.  Any request may be answered
         * by REPLY with a negative STATUS. */
        SHUTTLE_MSG_REPLY = 0x8001,       /* STATUS [MESSAGE] */
        SHUTTLE_MSG_WELCOME = 0x8002,     /* VERSION NAME */
        SHUTTLE_MSG_CONNECTED = 0x8003,   /* 1 fd: the connected socket */
        SHUTTLE_MSG_TRANSFERRED = 0x8004, /* PATH XFER_ID */
        SHUTTLE_MSG_EXIT = 0x8005,        /* EXIT_CODE | SIGNAL (exactly one) */
        SHUTTLE_MSG_RESOLVED = 0x8006,    /* PID | PATH | ADDRESS (exactly one) */
        SHUTTLE_MSG_OPENED = 0x8007,      /* 1 fd: the shared-memory object, message queue or FIFO end */
} ShuttleMsgType;

typedef enum ShuttleAttrType {
        SHUTTLE_ATTR_VERSION = 1,     /* u32, 1…65535 */
        SHUTTLE_ATTR_NAME = 2,        /* string: a container name */
        SHUTTLE_ATTR_SERVICE = 3,     /* string: "container.service" */
        SHUTTLE_ATTR_CONTAINER = 4,   /* string: the other container's name */
        SHUTTLE_ATTR_APP = 5,         /* string: an app (path or name) */
        SHUTTLE_ATTR_SIGNAL = 6,      /* i32, 1…SHUTTLE_SIGNAL_MAX */
        SHUTTLE_ATTR_ARG = 7,         /* string-list item: argv[1…] */
        SHUTTLE_ATTR_ENV = 8,         /* string-list item: "NAME=value" */
        SHUTTLE_ATTR_PATH = 9,        /* string: an absolute path */
        SHUTTLE_ATTR_MODE = 10,       /* u32: ShuttleTransferMode */
        SHUTTLE_ATTR_STATUS = 11,     /* i32: 0 or a negative errno */
        SHUTTLE_ATTR_MESSAGE = 12,    /* string: human-readable detail */
        SHUTTLE_ATTR_EXIT_CODE = 13,  /* i32, 0…255 */
        SHUTTLE_ATTR_XFER_ID = 14,    /* u64, non-zero */
        SHUTTLE_ATTR_PID = 15,        /* i32, SHUTTLE_PID_BASE…INT32_MAX: a pid RESOLVE handed out */
        SHUTTLE_ATTR_WHAT = 16,       /* u32: ShuttleNameKind */
        SHUTTLE_ATTR_ADDRESS = 17,    /* string: a numeric host address */
        SHUTTLE_ATTR_FLAGS = 18,      /* u32: ShuttleOpenFlags, READ and/or WRITE set */
        SHUTTLE_ATTR_VALUE = 19,      /* i32: sigqueue()'s value */
        SHUTTLE_ATTR_INVOKE_FLAGS = 20, /* u32: ShuttleInvokeFlags */
        _SHUTTLE_ATTR_MAX,
} ShuttleAttrType;

typedef enum ShuttleTransferMode {
        SHUTTLE_TRANSFER_RO = 1,
        SHUTTLE_TRANSFER_RW = 2,
} ShuttleTransferMode;

/* What a RESOLVE names. */
typedef enum ShuttleNameKind {
        SHUTTLE_NAME_PID = 1,     /* APP: a process of that app → PID */
        SHUTTLE_NAME_SERVICE = 2, /* NAME: a service the container exports → PATH of its socket */
        SHUTTLE_NAME_HOST = 3,    /* the container itself → ADDRESS on a network both share */
} ShuttleNameKind;

/* How OPEN_SHM / OPEN_MQ / OPEN_FIFO open the object.  OPEN_FIFO takes
 * exactly one of READ (the read end) and WRITE (the write end). */
typedef enum ShuttleOpenFlags {
        SHUTTLE_OPEN_READ = 1u << 0,
        SHUTTLE_OPEN_WRITE = 1u << 1,
        SHUTTLE_OPEN_NONBLOCK = 1u << 2, /* mq, fifo: O_NONBLOCK */
        _SHUTTLE_OPEN_ALL = (1u << 3) - 1,
} ShuttleOpenFlags;

/* How INVOKE passes the app its file arguments. */
typedef enum ShuttleInvokeFlags {
        SHUTTLE_INVOKE_FILES_AS_FDS = 1u << 0, /* as open descriptors 3, 4, … named /dev/fd/N in
                                                * argv, instead of mounted under /run/shuttle/xfer */
        _SHUTTLE_INVOKE_ALL = (1u << 1) - 1,
} ShuttleInvokeFlags;

/* Which directions shuttle_msg_decode() accepts.  The broker passes
 * SHUTTLE_DECODE_REQUEST only: a container may never send a reply. */
#define SHUTTLE_DECODE_REQUEST 0x1u
#define SHUTTLE_DECODE_REPLY 0x2u
/* shuttle_msg_recv() only: do not block (MSG_DONTWAIT). */
#define SHUTTLE_RECV_NONBLOCK 0x4u

#define SHUTTLE_ATTR_BIT(a) (UINT64_C(1) << (a))

/* A decoded message, or one to encode.  Strings are borrowed: after
 * decoding they point into the frame buffer (each is NUL-terminated there,
 * the terminator is part of the wire value) and live as long as it; for
 * encoding they belong to the caller.  'present' has SHUTTLE_ATTR_BIT(a)
 * set for every attribute carried; the builders set it.  args/env are
 * NULL-terminated (args is argv[1…], ready to follow APP in an argv). */
typedef struct ShuttleMsg {
        uint16_t type;
        uint32_t id;
        uint64_t present;

        uint32_t version;
        const char *name;
        const char *service;
        const char *container;
        const char *app;
        int32_t signal;
        const char *path;
        uint32_t mode;
        int32_t status;
        const char *message;
        int32_t exit_code;
        uint64_t xfer_id;
        int32_t pid;
        uint32_t what;
        const char *address;
        uint32_t flags;
        int32_t value;
        uint32_t invoke_flags;

        size_t n_args;
        const char *args[SHUTTLE_ARGS_MAX + 1];
        size_t n_env;
        const char *env[SHUTTLE_ARGS_MAX + 1];
} ShuttleMsg;

static inline bool shuttle_msg_has(const ShuttleMsg *m, ShuttleAttrType a) {
        return m->present & SHUTTLE_ATTR_BIT(a);
}

/* Table lookups: NULL / false / 0 for types that do not exist. */
const char *shuttle_msg_type_name(uint16_t type);
const char *shuttle_attr_name(uint16_t attr);
bool shuttle_msg_type_is_request(uint16_t type);
/* Exact number of fds a message type carries, -EBADRQC if unknown. */
int shuttle_msg_type_n_fds(uint16_t type);
/* The reply a request gets on success (REPLY with STATUS 0 for SIGNAL and
 * INVOKE), 0 if type is not a request. */
uint16_t shuttle_msg_success_reply(uint16_t type);

/* Validates m against the tables with the decoder's own checks and writes
 * its frame into buf: what we send is exactly what we accept.  Returns 0 and
 * the frame length in *ret_len, or the negative errno shuttle_msg_decode()
 * would give for the same fault (-ENAMETOOLONG, -EILSEQ, -ENODATA, …; also
 * -EINVAL for a NULL string) and *ret_reason if not NULL; -EMSGSIZE if it
 * does not fit in size or in SHUTTLE_FRAME_MAX.  Nothing is written to buf
 * on failure. */
int shuttle_msg_encode(const ShuttleMsg *m, void *buf, size_t size, size_t *ret_len,
                       const char **ret_reason);

/* Validates one received frame that came with n_fds descriptors and fills
 * *ret (strings point into buf, see ShuttleMsg).  flags: which directions
 * are acceptable.  On failure *ret is untouched, *ret_reason (if not NULL)
 * is a short static string for the audit log, and the return value names
 * the class of the failure:
 *
 *   -EBADMSG          frame shorter than the header, or body_len does not
 *                     match the datagram
 *   -EMSGSIZE         frame longer than SHUTTLE_FRAME_MAX
 *   -EPROTO           bad magic
 *   -EPROTONOSUPPORT  unsupported version
 *   -EBADRQC          unknown message type
 *   -EBADE            wrong direction (e.g. a reply sent to the broker)
 *   -EINVAL           request id 0, or a rule across attributes broken
 *   -EOVERFLOW        an attribute header or value runs past the body
 *   -ENOPROTOOPT      unknown attribute, or one this type does not permit
 *   -ENOTUNIQ         duplicate attribute (list items excepted)
 *   -EILSEQ           malformed value: wrong size for its kind, string
 *                     without terminator or with an inner NUL, characters
 *                     the attribute does not allow, non-zero padding
 *   -ENAMETOOLONG     string longer than the attribute's maximum (or empty
 *                     where a value is required)
 *   -ERANGE           integer outside the attribute's range
 *   -E2BIG            too many list items
 *   -ENODATA          required attribute missing
 *   -EBADFD           n_fds differs from what the type carries */
int shuttle_msg_decode(const void *buf, size_t len, size_t n_fds, unsigned flags, ShuttleMsg *ret,
                       const char **ret_reason);

/* Builders: zero *m, set type, id and the attributes, and nothing else.
 * They do not validate; encode does.  args/env may be NULL; more than
 * SHUTTLE_ARGS_MAX items give -E2BIG. */
void shuttle_msg_hello(ShuttleMsg *m, uint32_t id);
void shuttle_msg_connect(ShuttleMsg *m, uint32_t id, const char *service);
void shuttle_msg_signal(ShuttleMsg *m, uint32_t id, const char *container, const char *app, int signo);
int shuttle_msg_invoke(ShuttleMsg *m, uint32_t id, const char *container, const char *app,
                       const char *const *args, const char *const *env);
/* After shuttle_msg_invoke(): INVOKE_FLAGS, if flags is not 0 (0 leaves
 * the attribute out, which is what an INVOKE without flags means). */
void shuttle_msg_invoke_set_flags(ShuttleMsg *m, uint32_t flags);
void shuttle_msg_transfer(ShuttleMsg *m, uint32_t id, const char *path, ShuttleTransferMode mode,
                          const char *container);
void shuttle_msg_kill_invoked(ShuttleMsg *m, uint32_t id, int signo);
/* signo 0: no SIGNAL (does the process still exist?); with_value: carry
 * VALUE (sigqueue()). */
void shuttle_msg_signal_pid(ShuttleMsg *m, uint32_t id, int32_t pid, int signo, bool with_value, int32_t value);
/* arg: APP for SHUTTLE_NAME_PID, NAME for SHUTTLE_NAME_SERVICE, NULL for
 * SHUTTLE_NAME_HOST. */
void shuttle_msg_resolve(ShuttleMsg *m, uint32_t id, const char *container, ShuttleNameKind what,
                         const char *arg);
/* type: SHUTTLE_MSG_OPEN_SHM, SHUTTLE_MSG_OPEN_MQ or SHUTTLE_MSG_OPEN_FIFO. */
void shuttle_msg_open(ShuttleMsg *m, uint16_t type, uint32_t id, const char *service, uint32_t flags);
/* message may be NULL. */
void shuttle_msg_reply(ShuttleMsg *m, uint32_t id, int status, const char *message);
void shuttle_msg_welcome(ShuttleMsg *m, uint32_t id, uint32_t version, const char *name);
void shuttle_msg_connected(ShuttleMsg *m, uint32_t id);
void shuttle_msg_transferred(ShuttleMsg *m, uint32_t id, const char *path, uint64_t xfer_id);
/* Exactly one of pid (> 0), path, address. */
void shuttle_msg_resolved(ShuttleMsg *m, uint32_t id, int32_t pid, const char *path, const char *address);
void shuttle_msg_opened(ShuttleMsg *m, uint32_t id);
/* From a waitpid() status: WIFEXITED → EXIT_CODE, WIFSIGNALED → SIGNAL. */
int shuttle_msg_exit(ShuttleMsg *m, uint32_t id, int wait_status);

/* Splits a SERVICE value "container.service" at its last dot into
 * caller-provided buffers of SHUTTLE_NAME_MAX + 1 bytes.  -EINVAL if it is
 * not a valid service value. */
int shuttle_service_split(const char *s, char container[SHUTTLE_AT_LEAST(SHUTTLE_NAME_MAX + 1)],
                          char service[SHUTTLE_AT_LEAST(SHUTTLE_NAME_MAX + 1)]);

/* Encodes and sends m with exactly the fds its type carries (n_fds must
 * match, or -EBADFD).  Returns 0 or a negative errno (-EPIPE: peer gone). */
int shuttle_msg_send(int sock, const ShuttleMsg *m, const int *fds, size_t n_fds);

/* Receives and decodes one frame.  buf should be SHUTTLE_RECV_BUF_SIZE
 * bytes; decoded strings point into it.  fds must have room for max_fds.
 * Returns the frame length (> 0) with *ret, fds and *ret_n_fds filled; 0 if
 * the peer closed (nothing filled); a negative errno (see
 * shuttle_msg_decode(), plus socket errors and fd_recv_upto()'s -EMSGSIZE /
 * -ECHRNG / -EBADMSG) with every descriptor that arrived closed and
 * *ret_reason set if not NULL.  flags: SHUTTLE_DECODE_* and
 * SHUTTLE_RECV_NONBLOCK. */
int shuttle_msg_recv(int sock, void *buf, size_t size, ShuttleMsg *ret, int *fds, size_t max_fds,
                     size_t *ret_n_fds, unsigned flags, const char **ret_reason);

#ifdef __cplusplus
}
#endif
