/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* String-keyed open-addressing map (strmap.h). */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/strmap.h"

static const char tombstone;
#define TOMBSTONE (&tombstone)

static uint64_t hash(const char *s) {
        uint64_t h = UINT64_C(14695981039346656037);
        for (; *s; s++)
                h = (h ^ (uint8_t) *s) * UINT64_C(1099511628211);
        return h;
}

/* The slot holding key, or NULL. */
static StrMapSlot *find(const StrMap *m, const char *key) {
        size_t mask, i;

        if (m->n_slots == 0)
                return NULL;
        mask = m->n_slots - 1;
        for (i = (size_t) hash(key) & mask;; i = (i + 1) & mask) {
                StrMapSlot *s = &m->slots[i];
                if (!s->key)
                        return NULL;
                if (s->key != TOMBSTONE && strcmp(s->key, key) == 0)
                        return s;
        }
}

/* Into a table with room and without key: the first free slot. */
static void insert(StrMapSlot *slots, size_t n_slots, const char *key, void *value, bool *ret_reused) {
        size_t mask = n_slots - 1, i;

        for (i = (size_t) hash(key) & mask; slots[i].key && slots[i].key != TOMBSTONE; i = (i + 1) & mask)
                ;
        *ret_reused = slots[i].key == TOMBSTONE;
        slots[i] = (StrMapSlot){ .key = key, .value = value };
}

static int resize(StrMap *m, size_t n_slots) {
        StrMapSlot *slots = calloc(n_slots, sizeof(StrMapSlot));
        bool reused;

        if (!slots)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_slots; i++)
                if (m->slots[i].key && m->slots[i].key != TOMBSTONE)
                        insert(slots, n_slots, m->slots[i].key, m->slots[i].value, &reused);
        free(m->slots);
        m->slots = slots;
        m->n_slots = n_slots;
        m->n_tombstones = 0;
        return 0;
}

int strmap_put(StrMap *m, const char *key, void *value) {
        bool reused;

        if (!key)
                return -EINVAL;
        if (find(m, key))
                return -EEXIST;
        /* At most 3/4 full, tombstones counted: every probe ends. */
        if ((m->n_items + m->n_tombstones + 1) * 4 > m->n_slots * 3) {
                size_t n = m->n_slots ? m->n_slots : 16;
                while ((m->n_items + 1) * 2 > n)
                        n *= 2;
                int r = resize(m, n);
                if (r < 0)
                        return r;
        }
        insert(m->slots, m->n_slots, key, value, &reused);
        if (reused)
                m->n_tombstones--;
        m->n_items++;
        return 0;
}

void *strmap_get(const StrMap *m, const char *key) {
        StrMapSlot *s = key ? find(m, key) : NULL;
        return s ? s->value : NULL;
}

void *strmap_remove(StrMap *m, const char *key) {
        StrMapSlot *s = key ? find(m, key) : NULL;
        void *v;

        if (!s)
                return NULL;
        v = s->value;
        *s = (StrMapSlot){ .key = TOMBSTONE };
        m->n_items--;
        m->n_tombstones++;
        return v;
}

void strmap_done(StrMap *m) {
        free(m->slots);
        *m = STRMAP_INIT;
}
