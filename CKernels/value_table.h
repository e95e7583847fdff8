// Internal: a byte-keyed hash table of distinct values (category and label texts) with their counts
// and first appearances, for csv_table.c. One table per thread while a pass runs; merged after it.
#ifndef CKERNELS_VALUE_TABLE_H
#define CKERNELS_VALUE_TABLE_H

#include "internal.h"

#include <string.h>

typedef struct {
    ck_table_values v;   // the values, in order of insertion
    uint64_t *hashes;    // open addressing, `capacity` slots (a power of two); 0 = empty
    int32_t *ids;
    int64_t capacity, text_cap, list_cap;
    int64_t limit;       // at most this many values; one more sets v.overflow
    int failed;          // out of memory
} ck_value_table;

/// Whether a[0, n) == b[0, n): short texts (most categories, missing-value tokens) compared in
/// line rather than by a call.
static inline int ck_same_bytes(const char *a, const char *b, int64_t n) {
    if (n > 16) return memcmp(a, b, (size_t)n) == 0;
    for (int64_t i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

/// A direct-mapped front for a table's short values (1-7 bytes that are their own text): the key
/// is the bytes and the length in one word (ck_value_short_key), so a hit needs no hash of the text,
/// no probe and no comparison. Most category and label columns have few, short values.
typedef struct {
    uint64_t keys[16];  // 0 = empty (a key's top byte is its length, >= 1)
    int32_t ids[16];
} ck_value_cache;

/// The key of the n bytes at p (8 readable), or 0 when they do not make one (n outside 1-7, or a
/// byte >= 0x80, whose text may be repaired UTF-8).
static inline uint64_t ck_value_short_key(const char *p, int64_t n) {
    if (n < 1 || n > 7) return 0;
    uint64_t w;
    memcpy(&w, p, 8);
    w &= ((uint64_t)1 << (8 * n)) - 1;
    return w & 0x8080808080808080ULL ? 0 : w | (uint64_t)n << 56;
}

static inline int ck_value_cache_slot(uint64_t key) { return (int)((key * 0x9E3779B97F4A7C15ULL) >> 60); }

uint64_t ck_value_hash(const char *p, int64_t n);
/// The id of [p, p + n) (hash h), or -1.
int32_t ck_value_find(const ck_value_table *t, const char *p, int64_t n, uint64_t h);
/// The id of [p, p + n) (hash h), added when new; counts `times` more of it, first met at `first`
/// (the smaller offset stays). -1 when the table is full (v.overflow) or out of memory (failed).
int32_t ck_value_add(ck_value_table *t, const char *p, int64_t n, uint64_t h, int64_t times, int64_t first);
/// Frees the hash index only (the values stay, now owned by the caller).
void ck_value_drop_index(ck_value_table *t);
void ck_value_free(ck_value_table *t);
/// Merges `n` tables into *out (limit `limit`) in order of first appearance, counts summed; maps[k]
/// (allocated here, count of table k entries) gives each value of table k its id in *out. The order
/// depends only on the values' first offsets, not on which table met them. Returns 0, or -1 (out of
/// memory, or out->v.overflow at the value that first exceeds the limit: *overflow_first its offset).
int ck_value_merge(ck_value_table *tables, int n, int64_t limit, ck_value_table *out, int32_t **maps,
                   int64_t *overflow_first);

#endif
