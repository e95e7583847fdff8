// Byte-keyed tables of distinct values (value_table.h).
#include "value_table.h"

#include <stdlib.h>
#include <string.h>

uint64_t ck_value_hash(const char *p, int64_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)n;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
        h ^= h >> 31;
    }
    if (n > 0) {  // the last 1-7 bytes, without a call to memcpy
        uint64_t w;
        if (n >= 4) {
            uint32_t x, y;
            memcpy(&x, p, 4);
            memcpy(&y, p + n - 4, 4);
            w = (uint64_t)x << 32 | y;
        } else {
            w = (uint64_t)(uint8_t)p[0] << 16 | (uint64_t)(uint8_t)p[n / 2] << 8 | (uint8_t)p[n - 1];
        }
        h = (h ^ w) * 0x94D049BB133111EBULL;
    }
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ULL;
    h ^= h >> 32;
    return h | 1;
}

int32_t ck_value_find(const ck_value_table *t, const char *p, int64_t n, uint64_t h) {
    if (!t->capacity) return -1;
    const uint64_t mask = (uint64_t)t->capacity - 1;
    for (uint64_t j = h & mask; t->hashes[j]; j = (j + 1) & mask) {
        if (t->hashes[j] != h) continue;
        int32_t id = t->ids[j];
        int64_t a = t->v.offsets[id];
        if (t->v.offsets[id + 1] - a == n && ck_same_bytes(t->v.text + a, p, n)) return id;
    }
    return -1;
}

static int ck_value_grow_index(ck_value_table *t) {
    int64_t cap = t->capacity ? t->capacity * 2 : 64;
    uint64_t *h = calloc((size_t)cap, sizeof *h);
    int32_t *ids = malloc((size_t)cap * sizeof *ids);
    if (!h || !ids) {
        free(h);
        free(ids);
        return -1;
    }
    for (int64_t i = 0; i < t->capacity; i++) {
        if (!t->hashes[i]) continue;
        int64_t j = (int64_t)(t->hashes[i] & (uint64_t)(cap - 1));
        while (h[j]) j = (j + 1) & (cap - 1);
        h[j] = t->hashes[i];
        ids[j] = t->ids[i];
    }
    free(t->hashes);
    free(t->ids);
    t->hashes = h;
    t->ids = ids;
    t->capacity = cap;
    return 0;
}

static int ck_value_grow_lists(ck_value_table *t, int64_t text) {
    if (t->v.count + 2 > t->list_cap) {
        int64_t cap = t->list_cap ? t->list_cap * 2 : 16;
        int64_t *o = realloc(t->v.offsets, (size_t)cap * sizeof *o);
        if (!o) return -1;
        t->v.offsets = o;
        int64_t *c = realloc(t->v.counts, (size_t)cap * sizeof *c);
        if (!c) return -1;
        t->v.counts = c;
        int64_t *f = realloc(t->v.first, (size_t)cap * sizeof *f);
        if (!f) return -1;
        t->v.first = f;
        t->list_cap = cap;
    }
    int64_t len = t->v.count ? t->v.offsets[t->v.count] : 0;
    if (len + text > t->text_cap || !t->v.text) {  // text is never NULL once a value is in
        int64_t cap = t->text_cap ? t->text_cap * 2 : 256;
        while (cap < len + text) cap *= 2;
        char *x = realloc(t->v.text, (size_t)cap);
        if (!x) return -1;
        t->v.text = x;
        t->text_cap = cap;
    }
    return 0;
}

int32_t ck_value_add(ck_value_table *t, const char *p, int64_t n, uint64_t h, int64_t times, int64_t first) {
    int32_t id = ck_value_find(t, p, n, h);
    if (id >= 0) {
        t->v.counts[id] += times;
        if (first < t->v.first[id]) t->v.first[id] = first;
        return id;
    }
    if (t->v.count >= t->limit) {
        t->v.overflow = 1;
        return -1;
    }
    if (((t->v.count + 1) * 2 > t->capacity && ck_value_grow_index(t) != 0) || ck_value_grow_lists(t, n) != 0) {
        t->failed = 1;
        return -1;
    }
    id = (int32_t)t->v.count++;
    if (id == 0) t->v.offsets[0] = 0;
    int64_t a = t->v.offsets[id];
    if (n > 0) memcpy(t->v.text + a, p, (size_t)n);
    t->v.offsets[id + 1] = a + n;
    t->v.counts[id] = times;
    t->v.first[id] = first;
    int64_t j = (int64_t)(h & (uint64_t)(t->capacity - 1));
    while (t->hashes[j]) j = (j + 1) & (t->capacity - 1);
    t->hashes[j] = h;
    t->ids[j] = id;
    return id;
}

void ck_value_drop_index(ck_value_table *t) {
    free(t->hashes);
    free(t->ids);
    t->hashes = NULL;
    t->ids = NULL;
    t->capacity = 0;
}

void ck_table_values_free(ck_table_values *v) {
    free(v->text);
    free(v->offsets);
    free(v->counts);
    free(v->first);
    memset(v, 0, sizeof *v);
}

void ck_value_free(ck_value_table *t) {
    ck_value_drop_index(t);
    ck_table_values_free(&t->v);
    memset(t, 0, sizeof *t);
}

typedef struct {
    int64_t first;
    int32_t table, id;
} ck_value_ref;

static int ck_value_ref_order(const void *a, const void *b) {
    int64_t x = ((const ck_value_ref *)a)->first, y = ((const ck_value_ref *)b)->first;
    return (x > y) - (x < y);
}

int ck_value_merge(ck_value_table *tables, int n, int64_t limit, ck_value_table *out, int32_t **maps,
                   int64_t *overflow_first) {
    memset(out, 0, sizeof *out);
    out->limit = limit;
    int64_t total = 0;
    for (int k = 0; k < n; k++) total += tables[k].v.count;
    ck_value_ref *all = malloc((size_t)(total > 0 ? total : 1) * sizeof *all);
    int ok = all != NULL;
    for (int k = 0; k < n; k++) {
        maps[k] = malloc((size_t)(tables[k].v.count > 0 ? tables[k].v.count : 1) * sizeof **maps);
        ok = ok && maps[k];
    }
    int64_t m = 0;
    for (int k = 0; ok && k < n; k++)
        for (int64_t j = 0; j < tables[k].v.count; j++) all[m++] = (ck_value_ref){tables[k].v.first[j], k, (int32_t)j};
    // A value's earliest line is its first appearance in the file, whichever table met it there; two
    // values of one column never share a line, so the order is total.
    if (ok) qsort(all, (size_t)total, sizeof *all, ck_value_ref_order);
    for (int64_t i = 0; ok && i < total; i++) {
        const ck_value_table *t = &tables[all[i].table];
        int64_t a = t->v.offsets[all[i].id], len = t->v.offsets[all[i].id + 1] - a;
        int32_t id = ck_value_add(out, t->v.text + a, len, ck_value_hash(t->v.text + a, len),
                                  t->v.counts[all[i].id], all[i].first);
        if (id < 0) {
            ok = 0;
            if (out->v.overflow) *overflow_first = all[i].first;
        } else {
            maps[all[i].table][all[i].id] = id;
        }
    }
    free(all);
    return ok ? 0 : -1;
}
