// The all-reduce's arithmetic: shard gradients summed in shard order, so the sum is the same
// whichever thread computes which chunk.
#include "internal.h"

CK_INLINE void sum_arrays_body(const float *const *parts, int64_t count, float *out, int64_t begin,
                               int64_t end) {
    const float *first = parts[0];
    for (int64_t i = begin; i < end; i++) out[i] = first[i];
    for (int64_t s = 1; s < count; s++) {
        const float *p = parts[s];
        for (int64_t i = begin; i < end; i++) out[i] += p[i];
    }
}
CK_VERSIONS(sum_arrays,
            (const float *const *parts, int64_t count, float *out, int64_t begin, int64_t end),
            (parts, count, out, begin, end))

void ck_sum_arrays(const float *const *parts, int64_t count, float *out, int64_t begin, int64_t end) {
    if (count <= 0) {
        for (int64_t i = begin; i < end; i++) out[i] = 0.0f;
        return;
    }
    CK_DISPATCH(sum_arrays, (parts, count, out, begin, end));
}
