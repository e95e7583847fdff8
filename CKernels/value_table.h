// Internal: a byte-keyed hash table of distinct values (category and label texts) with their counts
// and first appearances, for csv_table.c. One table per thread while a pass runs; merged after it.
#ifndef CKERNELS_VALUE_TABLE_H
#define CKERNELS_VALUE_TABLE_H

#include "internal.h"

typedef struct {
    ck_table_values v;   // the values, in order of insertion
    uint64_t *hashes;    // open addressing, `capacity` slots (a power of two); 0 = empty
    int32_t *ids;
    int64_t capacity, text_cap, list_cap;
    int64_t limit;       // at most this many values; one more sets v.overflow
    int failed;          // out of memory
} ck_value_table;

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
