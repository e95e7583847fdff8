// The shard-tree sum (ARCHITECTURE.md, "Determinism"): arrays summed along one fixed pairwise tree
// over their index, so the bits do not depend on who computes which part, and a contiguous group of
// shards whose size is a power of two is a subtree (a process can sum its group alone and the groups'
// sums combine along the same tree).
//
// The tree: a node over n > 1 leaves has a left child over the largest power of two below n leaves
// and a right child over the rest. It is computed over blocks of BLOCK elements with a binary counter
// (a stack of partial sums kept in cache): push each leaf, merge the two top nodes while they are the
// same size, and at the end merge from the right. That builds exactly the tree above; each leaf is
// read once.
#include <string.h>
#include "internal.h"

enum { BLOCK = 256, MAX_DEPTH = 40 };

#define CK_TREE_SUM_BODY(T)                                                                        \
    for (int64_t b = begin; b < end; b += BLOCK) {                                                 \
        const int64_t len = end - b < BLOCK ? end - b : BLOCK;                                     \
        T scratch[MAX_DEPTH][BLOCK];                                                               \
        const T *node[MAX_DEPTH];                                                                  \
        int64_t size[MAX_DEPTH];                                                                   \
        int depth = 0;                                                                             \
        for (int64_t s = 0; s < count; s++) {                                                      \
            node[depth] = parts[s] + b;                                                            \
            size[depth++] = 1;                                                                     \
            while (depth >= 2 && size[depth - 1] == size[depth - 2]) {                             \
                T *into = scratch[depth - 2];                                                      \
                const T *l = node[depth - 2], *r = node[depth - 1];                                \
                for (int64_t i = 0; i < len; i++) into[i] = l[i] + r[i];                           \
                node[depth - 2] = into;                                                            \
                size[depth - 2] *= 2;                                                              \
                depth--;                                                                           \
            }                                                                                      \
        }                                                                                          \
        while (depth >= 2) {                                                                       \
            T *into = scratch[depth - 2];                                                          \
            const T *l = node[depth - 2], *r = node[depth - 1];                                    \
            for (int64_t i = 0; i < len; i++) into[i] = l[i] + r[i];                               \
            node[depth - 2] = into;                                                                \
            size[depth - 2] += size[depth - 1];                                                    \
            depth--;                                                                               \
        }                                                                                          \
        memcpy(out + b, node[0], sizeof(T) * (size_t)len);                                         \
    }

CK_INLINE void tree_sum_body(const float *const *parts, int64_t count, float *out, int64_t begin,
                             int64_t end) {
    CK_TREE_SUM_BODY(float)
}
CK_VERSIONS(tree_sum,
            (const float *const *parts, int64_t count, float *out, int64_t begin, int64_t end),
            (parts, count, out, begin, end))

CK_INLINE void tree_sum_f64_body(const double *const *parts, int64_t count, double *out,
                                 int64_t begin, int64_t end) {
    CK_TREE_SUM_BODY(double)
}
CK_VERSIONS(tree_sum_f64,
            (const double *const *parts, int64_t count, double *out, int64_t begin, int64_t end),
            (parts, count, out, begin, end))

void ck_tree_sum(const float *const *parts, int64_t count, float *out, int64_t begin, int64_t end) {
    if (count <= 0) {
        for (int64_t i = begin; i < end; i++) out[i] = 0.0f;
        return;
    }
    CK_DISPATCH(tree_sum, (parts, count, out, begin, end));
}

void ck_tree_sum_f64(const double *const *parts, int64_t count, double *out, int64_t begin,
                     int64_t end) {
    if (count <= 0) {
        for (int64_t i = begin; i < end; i++) out[i] = 0.0;
        return;
    }
    CK_DISPATCH(tree_sum_f64, (parts, count, out, begin, end));
}
