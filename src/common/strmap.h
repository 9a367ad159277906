/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A map from strings to pointers: open addressing, linear probing,
 * FNV-1a.  The keys are not copied: each must stay valid (and unchanged)
 * while it is in the map, which suits a key that is a field of its value
 * (a container's name).  Lookups, insertions and removals are O(1) on
 * average. */

#include <stddef.h>

typedef struct StrMapSlot {
        const char *key; /* NULL: empty; STRMAP_TOMBSTONE: removed */
        void *value;
} StrMapSlot;

typedef struct StrMap {
        StrMapSlot *slots;
        size_t n_slots; /* 0 or a power of two */
        size_t n_items;
        size_t n_tombstones;
} StrMap;

#define STRMAP_INIT ((StrMap){})

/* -EEXIST if the key is in the map already, -ENOMEM. */
int strmap_put(StrMap *m, const char *key, void *value);
/* NULL if absent. */
void *strmap_get(const StrMap *m, const char *key);
/* Removes the key; returns its value, NULL if absent. */
void *strmap_remove(StrMap *m, const char *key);
static inline size_t strmap_size(const StrMap *m) {
        return m->n_items;
}
void strmap_done(StrMap *m);
