/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The shim's names: "<container>.<service>.shuttle" resolves to an address
 * of 127.77.0.0/16 that stands for the service, one per name, for the life
 * of the process (and its forks).  connect() to such an address becomes a
 * CONNECT of that service.  Resolution says nothing about the policy: the
 * broker decides at connect() time, as for the svc/ sockets.
 *
 * The table only grows, and an entry is written before the count that
 * publishes it, so lookups (from connect(), maybe in a signal handler) take
 * no lock. */

#include <arpa/inet.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "common/macro.h"
#include "shuttle/shim/shim-internal.h"

static pthread_mutex_t names_lock = PTHREAD_MUTEX_INITIALIZER;
static char names[SHIM_NAMES_MAX][SHUTTLE_SERVICE_MAX + 1];
static unsigned n_names;

bool shim_name_parse(const char *node, char buf[static SHUTTLE_SERVICE_MAX + 1]) {
        const size_t suffix = STRLEN(SHIM_NAME_SUFFIX);
        size_t n = strnlen(node, SHUTTLE_SERVICE_MAX + suffix + 2);
        char c[SHUTTLE_NAME_MAX + 1], s[SHUTTLE_NAME_MAX + 1];

        if (n > 0 && node[n - 1] == '.') /* "db.kv.shuttle.", fully qualified */
                n--;
        if (n <= suffix || n - suffix > SHUTTLE_SERVICE_MAX)
                return false;
        /* Host names are case-insensitive; container names are not, so
         * only the suffix is folded. */
        if (strncasecmp(node + n - suffix, SHIM_NAME_SUFFIX, suffix) != 0)
                return false;
        memcpy(buf, node, n - suffix);
        buf[n - suffix] = '\0';
        return shuttle_service_split(buf, c, s) >= 0;
}

static struct in_addr address_of(unsigned i) {
        return (struct in_addr){ .s_addr = htonl(SHIM_NET + i + 1) };
}

int shim_name_address(const char *service, struct in_addr *ret) {
        unsigned n;
        int r = 0;

        pthread_mutex_lock(&names_lock);
        n = __atomic_load_n(&n_names, __ATOMIC_RELAXED);
        for (unsigned i = 0; i < n; i++)
                if (streq(names[i], service)) {
                        *ret = address_of(i);
                        goto out;
                }
        if (n >= SHIM_NAMES_MAX) {
                r = -ENOSPC;
                goto out;
        }
        strcpy(names[n], service); /* checked by shim_name_parse() */
        __atomic_store_n(&n_names, n + 1, __ATOMIC_RELEASE);
        *ret = address_of(n);
out:
        pthread_mutex_unlock(&names_lock);
        return r;
}

bool shim_name_lookup(struct in_addr a, char buf[static SHUTTLE_SERVICE_MAX + 1]) {
        uint32_t h = ntohl(a.s_addr);
        unsigned n = __atomic_load_n(&n_names, __ATOMIC_ACQUIRE);

        if ((h & SHIM_NET_MASK) != SHIM_NET || (h & ~SHIM_NET_MASK) == 0 || (h & ~SHIM_NET_MASK) > n)
                return false;
        strcpy(buf, names[(h & ~SHIM_NET_MASK) - 1]);
        return true;
}

void shim_names_atfork_prepare(void) {
        pthread_mutex_lock(&names_lock);
}

void shim_names_atfork_parent(void) {
        pthread_mutex_unlock(&names_lock);
}

void shim_names_atfork_child(void) {
        pthread_mutex_unlock(&names_lock);
}
