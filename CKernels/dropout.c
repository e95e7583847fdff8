// Inverted dropout with a counter-based mask: element (row, col) of layer `layer` at `step` is kept
// when a hash of (seed, step, layer, row, col) is at least p. No generator state, so any thread or
// shard that handles a row draws the same decision, and the backward recomputes the mask.
#include "internal.h"

#include "dropout_hash.h"

int ck_dropout_keep(float p, uint64_t seed, uint64_t step, uint32_t layer, int64_t row, int64_t col,
                    int64_t cols) {
    return keep_bit(layer_key(seed, step, layer), (uint64_t)(row * cols + col), keep_threshold(p));
}

// The shard's rows are contiguous, so element i of the buffer has counter first + i: a flat loop of
// 32-bit arithmetic, split where the counter's high half changes (so the compiler vectorises it).
CK_INLINE void dropout_apply_body(const float *x, float *y, int64_t n, uint32_t threshold, float scale,
                                  uint64_t key, uint64_t first) {
    int64_t i = 0;
    while (i < n) {
        uint64_t counter = first + (uint64_t)i;
        uint32_t lo = (uint32_t)counter, k = block_key(key, counter);
        int64_t block = (int64_t)(0x100000000ull - lo);  // elements before the high half changes
        int64_t end = n - i < block ? n : i + block;
        const float *xs = x + i;
        float *ys = y + i;
        int64_t count = end - i;
        CK_INPLACE_SAFE
        for (int64_t j = 0; j < count; j++) {
            ys[j] = keep_low(lo + (uint32_t)j, k, threshold) ? xs[j] * scale : 0.0f;
        }
        i = end;
    }
}
CK_VERSIONS(dropout_apply,
            (const float *x, float *y, int64_t n, uint32_t threshold, float scale, uint64_t key, uint64_t first),
            (x, y, n, threshold, scale, key, first))

static void dropout_apply(const float *x, float *y, int64_t rows, int64_t cols, float p,
                          uint64_t seed, uint64_t step, uint32_t layer, int64_t row0) {
    uint64_t key = layer_key(seed, step, layer);
    float scale = 1.0f / (1.0f - p);
    CK_DISPATCH(dropout_apply, (x, y, rows * cols, keep_threshold(p), scale, key, (uint64_t)(row0 * cols)));
}

void ck_dropout_forward(const float *x, float *y, int64_t rows, int64_t cols, float p, uint64_t seed,
                        uint64_t step, uint32_t layer, int64_t row0) {
    dropout_apply(x, y, rows, cols, p, seed, step, layer, row0);
}

void ck_dropout_backward(const float *dy, float *dx, int64_t rows, int64_t cols, float p,
                         uint64_t seed, uint64_t step, uint32_t layer, int64_t row0) {
    dropout_apply(dy, dx, rows, cols, p, seed, step, layer, row0);
}
