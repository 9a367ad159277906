/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Group commit of the audit log (`--audit-sync sync`): the loop writes
 * records as before, a thread of its own fdatasync()s them, and what an
 * allowed request does for its caller waits until its record is on disk:
 * its reply (with the descriptor it passes), for a proxied connection, its
 * relay, and for a request that acts (an invocation, a transfer, a
 * signal), the act itself (pipeline.c: carried out once the record of its
 * decision is on disk; refused if the sync fails).  The loop never waits: it hands the thread the log's
 * descriptor and the last seq written, and goes on; records written
 * meanwhile make the next batch, so the batches grow with the load (one
 * fdatasync() per batch, however many records it holds).  When the thread
 * is done it says so on an eventfd and the loop lets go of what waited. */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/parse.h"
#include "shuttle/audit/audit.h"
#include "common/time-util.h"
#include "shuttle/daemon/core.h"

#define AUDIT_SYNC_RETRY_USEC (100u * 1000u)

struct AuditSyncer {
        Source src;             /* eventfd: a batch is on disk */
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        /* Under lock: the batch asked (fd -1: none), and the last done. */
        int fd;
        uint64_t want;
        uint64_t done;
        int error;
        bool busy;              /* a batch is with the thread (loop's view) */
        uint64_t retry_usec;    /* after a failed sync: not again before (CLOCK_MONOTONIC) */
        bool quit;
        uint64_t delay_usec;    /* SHUTTLED_TEST_AUDIT_SYNC_DELAY_MS: before each fdatasync */
        char *synced_file;      /* SHUTTLED_TEST_AUDIT_SYNCED_FILE: the synced seq, written
                                 * before what waited for it goes on */
        char *fail_file;        /* SHUTTLED_TEST_AUDIT_SYNC_FAIL_FILE: while it exists, each
                                 * sync fails with EIO instead of calling fdatasync() */
};

static void *syncer_main(void *p) {
        AuditSyncer *s = p;

        pthread_mutex_lock(&s->lock);
        for (;;) {
                int fd, r = 0;
                uint64_t want;

                while (s->fd < 0 && !s->quit)
                        pthread_cond_wait(&s->cond, &s->lock);
                if (s->fd < 0)
                        break;
                fd = s->fd;
                want = s->want;
                s->fd = -1;
                pthread_mutex_unlock(&s->lock);

                if (s->delay_usec > 0)
                        (void) nanosleep(&(struct timespec){ .tv_sec = (time_t) (s->delay_usec / 1000000u),
                                                             .tv_nsec = (long) (s->delay_usec % 1000000u) * 1000 },
                                         NULL);
                if (s->fail_file && access(s->fail_file, F_OK) >= 0)
                        r = -EIO;
                else if (fdatasync(fd) < 0)
                        r = -errno;
                close(fd);

                pthread_mutex_lock(&s->lock);
                if (r >= 0)
                        s->done = MAX(s->done, want);
                else
                        s->error = r;
                (void) eventfd_write(s->src.fd, 1);
        }
        pthread_mutex_unlock(&s->lock);
        return NULL;
}

int audit_syncer_start(Broker *b) {
        AuditSyncer *s;
        const char *e;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->fd = -1;
        s->done = audit_log_get_synced_seq(b->audit);
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->cond, NULL);
        e = secure_getenv("SHUTTLED_TEST_AUDIT_SYNC_DELAY_MS");
        if (e) {
                uint32_t ms;
                if (parse_uint32(e, &ms) >= 0)
                        s->delay_usec = (uint64_t) ms * 1000u;
        }
        e = secure_getenv("SHUTTLED_TEST_AUDIT_SYNCED_FILE");
        if (e && !(s->synced_file = strdup(e))) {
                free(s);
                return -ENOMEM;
        }
        e = secure_getenv("SHUTTLED_TEST_AUDIT_SYNC_FAIL_FILE");
        if (e && !(s->fail_file = strdup(e))) {
                free(s->synced_file);
                free(s);
                return -ENOMEM;
        }
        s->src = (Source){ .type = SRC_AUDIT_SYNC, .fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) };
        if (s->src.fd < 0 || broker_watch(b, &s->src, EPOLLIN) < 0) {
                r = -errno;
                safe_close(s->src.fd);
                free(s->synced_file);
                free(s->fail_file);
                free(s);
                return r;
        }
        r = -pthread_create(&s->thread, NULL, syncer_main, s);
        if (r < 0) {
                broker_unwatch(b, &s->src);
                free(s->synced_file);
                free(s->fail_file);
                free(s);
                return r;
        }
        b->syncer = s;
        return 0;
}

void audit_syncer_stop(Broker *b) {
        AuditSyncer *s = b->syncer;

        if (!s)
                return;
        pthread_mutex_lock(&s->lock);
        s->quit = true;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->lock);
        (void) pthread_join(s->thread, NULL);
        safe_close(s->fd);
        broker_unwatch(b, &s->src);
        free(s->synced_file);
        free(s->fail_file);
        free(s);
        b->syncer = NULL;
        /* audit_log_close() syncs what is left. */
}

/* At the end of each turn of the loop: what it wrote goes to the thread,
 * unless a batch is still with it (then it goes with the next). */
void audit_syncer_kick(Broker *b) {
        AuditSyncer *s = b->syncer;
        uint64_t seq;
        int fd, r;

        if (!s || s->busy)
                return;
        if (s->retry_usec) {
                if (clock_usec(CLOCK_MONOTONIC) < s->retry_usec)
                        return; /* the broker's timer wakes it (audit_syncer_next_usec()) */
                s->retry_usec = 0;
        }
        r = audit_log_sync_begin(b->audit, &fd, &seq);
        if (r <= 0) {
                if (r < 0)
                        log_warning_errno(r, "Cannot sync the audit log: %m");
                return;
        }
        pthread_mutex_lock(&s->lock);
        s->fd = fd;
        s->want = seq;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->lock);
        s->busy = true;
}

void audit_syncer_event(Broker *b) {
        AuditSyncer *s = b->syncer;
        eventfd_t v;
        uint64_t done;
        int error;

        (void) eventfd_read(s->src.fd, &v);
        pthread_mutex_lock(&s->lock);
        done = s->done;
        error = s->error;
        s->error = 0;
        pthread_mutex_unlock(&s->lock);
        s->busy = false;
        if (error < 0) {
                /* What waits keeps waiting: tried again in a while (not at
                 * once: a failing disk must not make the loop spin). */
                log_warning_errno(error, "Failed to sync the audit log: %m");
                s->retry_usec = clock_usec(CLOCK_MONOTONIC) + AUDIT_SYNC_RETRY_USEC;
                /* ... but what would act before its record is on disk is
                 * refused now (pipeline.c). */
                pipeline_release_pending(b, error);
                return;
        }
        audit_log_sync_done(b->audit, done);
        if (s->synced_file) {
                char buf[32];
                snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long) done);
                _cleanup_close_ int fd = open(s->synced_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd >= 0)
                        (void) loop_write(fd, buf, strlen(buf));
        }
        pipeline_release_pending(b, 0);
        pipeline_release_held(b);
        ipc_release_held(b);
}

uint64_t audit_syncer_next_usec(const Broker *b) {
        return b->syncer && b->syncer->retry_usec ? b->syncer->retry_usec : UINT64_MAX;
}

uint64_t broker_audit_hold_seq(const Broker *b) {
        uint64_t seq;

        if (!b->syncer)
                return 0;
        seq = audit_log_get_seq(b->audit);
        return seq > audit_log_get_synced_seq(b->audit) ? seq : 0;
}

bool broker_audit_durable(const Broker *b, uint64_t seq) {
        return seq == 0 || !b->syncer || audit_log_get_synced_seq(b->audit) >= seq;
}
