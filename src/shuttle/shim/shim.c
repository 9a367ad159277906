/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libshuttle-shim.so: preloaded into a container's programs, it turns
 * connect() to /run/shuttle/svc/<container>.<service> (and to the addresses
 * its getaddrinfo() hands out for "<container>.<service>.shuttle") into a
 * CONNECT request on /run/shuttle/broker.sock, and dup3()s the connected
 * socket the broker passes back onto the caller's descriptor: the program
 * sees an ordinary connected socket and its data no longer goes through the
 * broker's relay.  Exec of /run/shuttle/apps/<container>/<app> becomes
 * shuttle-invoke's (shim-exec.c).  See man/shuttle-shim.7.
 *
 * The shim is a convenience inside an untrusted container, never an
 * enforcement point: the broker decides every request, and a program
 * without the shim still reaches what the policy allows through the proxy
 * sockets.  So whenever the shim cannot help (no broker, a broken
 * conversation, a socket it does not understand) it falls through to the
 * real call, and the proxy path answers.
 *
 * House rules for every hook: errno is restored unless the hook itself
 * fails, nothing is ever written to the program's stdout/stderr, nothing
 * exits, the environment is read with secure_getenv(), and a call that is
 * not ours costs a few comparisons before the real one. */

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/macro.h"
#include "shuttle/client/client-internal.h"
#include "shuttle/shim/shim-internal.h"

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);
typedef int (*getaddrinfo_fn)(const char *, const char *, const struct addrinfo *, struct addrinfo **);

static connect_fn real_connect;
static getaddrinfo_fn real_getaddrinfo;
bool shim_disabled;

/* Set while this thread is inside a redirection (any hook's).  A signal
 * handler that connect()s during one falls through to the real call (the
 * proxy path) instead of waiting for a lock its own thread holds.
 * initial-exec: a preloaded library's TLS is static, and reading it is
 * then a plain, async-signal-safe load. */
__thread bool shim_in_redirect __attribute__((tls_model("initial-exec")));

static void resolve_real(void) {
        /* Normally done by the constructor; this is for a program (or
         * another preloaded library) calling us from its own constructor
         * before ours ran. */
        if (!real_connect)
                real_connect = (connect_fn) dlsym(RTLD_NEXT, "connect");
        if (!real_getaddrinfo)
                real_getaddrinfo = (getaddrinfo_fn) dlsym(RTLD_NEXT, "getaddrinfo");
}

/* ---- the broker client, one per process ------------------------------- */

struct ShimClient {
        ShuttleClient *client;
        int fd;        /* the client's socket: closed in a forked child */
        dev_t dev;     /* ... and which socket that is (fstat()), */
        ino_t ino;     /*     to tell when the number is no longer ours */
        bool lost;     /* the program closed fd: the number is not ours to close */
        unsigned refs; /* holders, plus one while it is the current one */
};

static pthread_mutex_t client_lock = PTHREAD_MUTEX_INITIALIZER;
static ShimClient *current;
static pid_t current_pid;
static __thread bool fork_locked __attribute__((tls_model("initial-exec")));

static int broker_open(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        const char *path = secure_getenv(SHUTTLE_BROKER_SOCKET_ENV);
        size_t n;
        int fd;

        if (!path || !*path)
                path = SHUTTLE_BROKER_SOCKET;
        n = strlen(path);
        if (n >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, n);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* The real connect(): this is not a request for a service. */
        if (real_connect(fd, (const struct sockaddr *) &sa, (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + 1)) <
            0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* Is s->fd still the socket the shim opened?  A program may close every
 * descriptor it did not open itself (close_range(), closefrom(), a loop
 * up to the limit) and then open something that gets the same number: the
 * shim must neither write its frames into that nor close it. */
static bool shim_fd_ours(const ShimClient *s) {
        struct stat st;

        return fstat(s->fd, &st) == 0 && st.st_ino == s->ino && st.st_dev == s->dev;
}

static void shim_client_free(ShimClient *s) {
        if (s->lost || !shim_fd_ours(s))
                client_free_keep_fd(s->client);
        else
                shuttle_client_free(s->client);
        free(s);
}

/* Called locked: the current client is not to be handed out any more. */
static void shim_client_lose(void) {
        ShimClient *s = current;

        current = NULL;
        s->lost = true;
        if (--s->refs == 0)
                shim_client_free(s);
}

ShimClient *shim_client_get(int *ret_error) {
        ShimClient *s;
        pid_t pid = getpid();
        int r = 0;

        pthread_mutex_lock(&client_lock);
        if (current && current_pid != pid) {
                /* A child made without fork() (clone(), vfork()): the
                 * parent's connection is not ours to use; leave it to the
                 * parent, drop our copy of its socket (if it still is). */
                if (shim_fd_ours(current))
                        close(current->fd);
                current = NULL;
        }
        if (current && !shim_fd_ours(current))
                /* The program closed it: a new connection (the broker
                 * notices the old one's end by itself). */
                shim_client_lose();
        if (!current) {
                int fd = broker_open();
                struct stat st;

                if (fd < 0)
                        r = fd;
                else {
                        s = calloc(1, sizeof(*s));
                        if (!s)
                                r = -ENOMEM;
                        else if (fstat(fd, &st) < 0)
                                r = -errno;
                        else
                                r = shuttle_client_new_from_fd(fd, &s->client);
                        if (r < 0) {
                                free(s);
                                close(fd);
                        } else {
                                s->fd = fd;
                                s->dev = st.st_dev;
                                s->ino = st.st_ino;
                                s->refs = 1;
                                current = s;
                                current_pid = pid;
                        }
                }
        }
        s = current;
        if (s)
                s->refs++;
        pthread_mutex_unlock(&client_lock);
        if (!s)
                *ret_error = r;
        return s;
}

ShuttleClient *shim_client_raw(ShimClient *s) {
        return s->client;
}

void shim_client_retire(ShimClient *s) {
        pthread_mutex_lock(&client_lock);
        if (current == s) {
                current = NULL;
                s->refs--; /* the caller still holds one */
        }
        pthread_mutex_unlock(&client_lock);
}

void shim_client_put(ShimClient *s) {
        bool last;

        pthread_mutex_lock(&client_lock);
        last = --s->refs == 0;
        pthread_mutex_unlock(&client_lock);
        if (last)
                shim_client_free(s);
}

/* fork(): the child gets a copy of the parent's broker connection, which it
 * must not use (answers would go to whichever process reads first), and
 * perhaps of a lock another thread held.  The tables are locked across the
 * fork; the child forgets the connection (closing only its copy of the
 * socket: the memory may be in use by a thread that no longer exists in the
 * child, so it is left alone) and opens its own on first use. */
static void atfork_prepare(void) {
        /* fork() from a signal handler that interrupted this thread inside
         * a redirection: the lock may be ours already. */
        fork_locked = !shim_in_redirect;
        if (fork_locked)
                pthread_mutex_lock(&client_lock);
        shim_names_atfork_prepare();
}

static void atfork_parent(void) {
        shim_names_atfork_parent();
        if (fork_locked)
                pthread_mutex_unlock(&client_lock);
}

static void atfork_child(void) {
        shim_names_atfork_child();
        if (current) {
                /* Unless the program closed it (and the number is its
                 * own again). */
                if (shim_fd_ours(current))
                        close(current->fd);
                current = NULL;
        }
        if (fork_locked)
                pthread_mutex_unlock(&client_lock);
}

__attribute__((constructor)) static void shim_init(void) {
        int saved = errno;
        const char *e = secure_getenv(SHIM_ENV);

        shim_disabled = e && streq(e, "0");
        resolve_real();
        shim_exec_init();
        (void) pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
        errno = saved;
}

/* ---- connect() -------------------------------------------------------- */

/* "/run/shuttle/svc/<container>.<service>" → "<container>.<service>". */
static bool svc_name(const struct sockaddr *addr, socklen_t len, char buf[static SHUTTLE_SERVICE_MAX + 1]) {
        const struct sockaddr_un *sun = (const struct sockaddr_un *) addr;
        size_t max = MIN((size_t) len, sizeof(*sun)) - offsetof(struct sockaddr_un, sun_path);
        size_t n = strnlen(sun->sun_path, max) - STRLEN(SHIM_SVC_DIR);
        char c[SHUTTLE_NAME_MAX + 1], s[SHUTTLE_NAME_MAX + 1];

        /* The caller checked the prefix, so strnlen() ≥ its length. */
        if (n == 0 || n > SHUTTLE_SERVICE_MAX)
                return false;
        memcpy(buf, sun->sun_path + STRLEN(SHIM_SVC_DIR), n);
        buf[n] = '\0';
        /* "a/b", "x", "..": not a service socket the broker made. */
        return !strchr(buf, '/') && shuttle_service_split(buf, c, s) >= 0;
}

bool shim_transport_error(int r) {
        return r == -ENOTCONN || r == -ECONNRESET || r == -EPROTO || r == -EPIPE || r == -EINTR ||
               r == -EAGAIN || r == -EPROTONOSUPPORT;
}

int shim_ask_broker(ShimAsk ask, const char *service, unsigned flags, int *ret_fd) {
        int r = -ECONNRESET;

        /* Twice at most: a broker that restarted (or a signal that cut
         * the conversation short) costs one new connection. */
        for (int attempt = 0; attempt < 2; attempt++) {
                int err = 0;
                ShimClient *s = shim_client_get(&err);

                if (!s)
                        return 1;
                r = ask(shim_client_raw(s), service, flags, ret_fd);
                if (shim_transport_error(r))
                        shim_client_retire(s);
                shim_client_put(s);
                if (!shim_transport_error(r))
                        break;
        }
        return shim_transport_error(r) ? 1 : r;
}

unsigned shim_open_flags(int oflag) {
        unsigned flags;

        switch (oflag & O_ACCMODE) {
        case O_RDONLY:
                flags = SHUTTLE_OPEN_READ;
                break;
        case O_WRONLY:
                flags = SHUTTLE_OPEN_WRITE;
                break;
        default:
                flags = SHUTTLE_OPEN_READ | SHUTTLE_OPEN_WRITE;
                break;
        }
        if (oflag & O_NONBLOCK)
                flags |= SHUTTLE_OPEN_NONBLOCK;
        return flags;
}

int shim_open_export(ShimAsk ask, const char *service, unsigned flags, int oflag, int *ret_fd) {
        int fd = -1, r;

        r = shim_ask_broker(ask, service, flags, &fd);
        if (r > 0 || r == -ENOENT || r == -EOPNOTSUPP)
                return 1;
        if (r == -EPERM)
                return -EACCES;
        if (r < 0)
                return r;
        /* The export exists, so creating it exclusively fails as it would. */
        if ((oflag & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) {
                close(fd);
                return -EEXIST;
        }
        *ret_fd = fd;
        return 0;
}

static int ask_connect(ShuttleClient *c, const char *service, unsigned flags, int *ret_fd) {
        (void) flags;
        return shuttle_connect_service(c, service, ret_fd);
}

/* Returns 0 when fd is now connected to service, a negative errno for the
 * program, or 1: not for us after all, call the real connect(). */
static int connect_redirect(int fd, int family, const char *service) {
        int type = 0, domain = 0, listening = 0, fl, fdfl, newfd = -1, r;
        socklen_t l = sizeof(int);
        struct sockaddr_storage peer;
        socklen_t pl = sizeof(peer);

        /* Only a fresh stream socket of the address's family: anything
         * else (a datagram socket, one already connected or listening, not
         * a socket at all) gets the real call's answer. */
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) < 0 || type != SOCK_STREAM)
                return 1;
        l = sizeof(int);
        if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &l) < 0 || domain != family)
                return 1;
        l = sizeof(int);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &l) < 0 || listening)
                return 1;
        if (getpeername(fd, (struct sockaddr *) &peer, &pl) == 0 || errno != ENOTCONN)
                return 1;
        fl = fcntl(fd, F_GETFL);
        fdfl = fcntl(fd, F_GETFD);
        if (fl < 0 || fdfl < 0)
                return 1;

        /* No broker here: the proxy socket, if any. */
        r = shim_ask_broker(ask_connect, service, 0, &newfd);
        if (r > 0)
                return 1;
        /* A policy refusal is EACCES, as connect(2) answers for a socket
         * the caller may not write to: a program can tell it from a
         * server that is not there (ECONNREFUSED, which the broker
         * answers when the exporter does not listen).  The broker's
         * reason is in the audit log. */
        if (r == -EPERM)
                return -EACCES;
        /* No such container or service behind a .shuttle address: to a
         * TCP connect() that is nobody listening (ENOENT is no answer a
         * TCP connect gives; a unix one keeps it, as for a missing
         * socket file). */
        if (r == -ENOENT && family == AF_INET)
                return -ECONNREFUSED;
        if (r < 0)
                return r;

        if ((fl & O_NONBLOCK) && fcntl(newfd, F_SETFL, fcntl(newfd, F_GETFL) | O_NONBLOCK) < 0) {
                r = -errno;
                close(newfd);
                return r;
        }
        /* The program keeps its descriptor number and its close-on-exec
         * flag; the socket behind it is the one the broker connected. */
        if (dup3(newfd, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
                r = -errno;
                close(newfd);
                return r;
        }
        close(newfd);
        return 0;
}

_hook_ int connect(int fd, const struct sockaddr *addr, socklen_t len) {
        char service[SHUTTLE_SERVICE_MAX + 1];
        int family, saved, r;

        if (__builtin_expect(!real_connect, 0)) {
                resolve_real();
                if (!real_connect) {
                        errno = ENOSYS;
                        return -1;
                }
        }
        /* The cheap tests first: this is every connect() of the program. */
        if (!addr)
                return real_connect(fd, addr, len);
        if (len > offsetof(struct sockaddr_un, sun_path) + STRLEN(SHIM_SVC_DIR) && addr->sa_family == AF_UNIX &&
            memcmp(((const struct sockaddr_un *) addr)->sun_path, SHIM_SVC_DIR, STRLEN(SHIM_SVC_DIR)) == 0) {
                if (shim_disabled || shim_in_redirect || !svc_name(addr, len, service))
                        return real_connect(fd, addr, len);
                family = AF_UNIX;
        } else if (len >= sizeof(struct sockaddr_in) && addr->sa_family == AF_INET &&
                   (ntohl(((const struct sockaddr_in *) addr)->sin_addr.s_addr) & SHIM_NET_MASK) == SHIM_NET) {
                if (shim_disabled || shim_in_redirect ||
                    !shim_name_lookup(((const struct sockaddr_in *) addr)->sin_addr, service))
                        return real_connect(fd, addr, len);
                family = AF_INET;
        } else
                return real_connect(fd, addr, len);

        saved = errno;
        shim_in_redirect = true;
        r = connect_redirect(fd, family, service);
        shim_in_redirect = false;
        if (r > 0) {
                errno = saved; /* our probes may have set it */
                return real_connect(fd, addr, len);
        }
        if (r < 0) {
                errno = -r;
                return -1;
        }
        errno = saved;
        return 0;
}

/* ---- getaddrinfo() ---------------------------------------------------- */

static int service_port(const char *service, int flags, uint16_t *ret) {
        struct servent se, *found = NULL;
        char buf[1024], *end;
        unsigned long p;

        if (!service || !*service) {
                *ret = 0;
                return 0;
        }
        errno = 0;
        p = strtoul(service, &end, 10);
        if (*end == '\0' && service[0] >= '0' && service[0] <= '9') {
                if (errno != 0 || p > 65535)
                        return EAI_SERVICE;
                *ret = (uint16_t) p;
                return 0;
        }
        if (flags & AI_NUMERICSERV)
                return EAI_NONAME;
        if (getservbyname_r(service, "tcp", &se, buf, sizeof(buf), &found) != 0 || !found)
                return EAI_SERVICE;
        *ret = (uint16_t) ntohs((uint16_t) found->s_port);
        return 0;
}

/* One result, laid out as glibc lays out its own (the sockaddr in the same
 * allocation, right after the addrinfo; the canonical name apart), so that
 * the real freeaddrinfo() frees it. */
static int shim_getaddrinfo(const char *node, const char *service_name, const char *service,
                            const struct addrinfo *hints, struct addrinfo **res) {
        int flags = hints ? hints->ai_flags : 0;
        int family = hints ? hints->ai_family : AF_UNSPEC;
        int socktype = hints ? hints->ai_socktype : 0;
        int protocol = hints ? hints->ai_protocol : 0;
        struct addrinfo *ai;
        struct sockaddr_in *sin;
        struct in_addr a;
        uint16_t port;
        int r;

        if (family != AF_UNSPEC && family != AF_INET)
                return EAI_NONAME; /* services have IPv4 addresses only */
        if ((socktype != 0 && socktype != SOCK_STREAM) || (protocol != 0 && protocol != IPPROTO_TCP))
                return EAI_SOCKTYPE; /* services are streams */
        r = service_port(service_name, flags, &port);
        if (r != 0)
                return r;
        if (shim_name_address(service, &a) < 0)
                return EAI_FAIL;

        ai = calloc(1, sizeof(struct addrinfo) + sizeof(struct sockaddr_in));
        if (!ai)
                return EAI_MEMORY;
        sin = (struct sockaddr_in *) (ai + 1);
        *sin = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = a };
        *ai = (struct addrinfo){
                .ai_flags = flags,
                .ai_family = AF_INET,
                .ai_socktype = SOCK_STREAM,
                .ai_protocol = IPPROTO_TCP,
                .ai_addrlen = sizeof(struct sockaddr_in),
                .ai_addr = (struct sockaddr *) sin,
        };
        if (flags & AI_CANONNAME) {
                ai->ai_canonname = strdup(node);
                if (!ai->ai_canonname) {
                        free(ai);
                        return EAI_MEMORY;
                }
        }
        *res = ai;
        return 0;
}

_hook_ int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res) {
        char name[SHUTTLE_SERVICE_MAX + 1];
        int saved, r;

        if (__builtin_expect(!real_getaddrinfo, 0)) {
                resolve_real();
                if (!real_getaddrinfo)
                        return EAI_SYSTEM;
        }
        if (shim_disabled || !node || !res || (hints && (hints->ai_flags & AI_NUMERICHOST)) ||
            !shim_name_parse(node, name))
                return real_getaddrinfo(node, service, hints, res);

        saved = errno;
        r = shim_getaddrinfo(node, service, name, hints, res);
        errno = saved;
        return r;
}
