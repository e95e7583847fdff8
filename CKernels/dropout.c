// Inverted dropout with a counter-based mask: element (row, col) of layer `layer` at `step` is kept
// when a hash of (seed, step, layer, row, col) is at least p. No generator state, so any thread or
// shard that handles a row draws the same decision, and the backward recomputes the mask.
#include "internal.h"

// SplitMix64's finaliser: a bijective mix with good avalanche.
CK_INLINE uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

CK_INLINE uint64_t layer_key(uint64_t seed, uint64_t step, uint32_t layer) {
    return mix64(mix64(seed ^ 0x6A09E667F3BCC909ull) + step * 0x9E3779B97F4A7C15ull + layer);
}

// 24 random bits compared with p scaled to 2^24: the keep probability is 1 - p to within 2^-24.
CK_INLINE uint32_t keep_threshold(float p) { return (uint32_t)((double)p * 16777216.0); }

CK_INLINE int keep_bit(uint64_t key, int64_t row, int64_t col, uint32_t threshold) {
    uint64_t h = mix64(key ^ ((uint64_t)row * 0xD1B54A32D192ED03ull + (uint64_t)col));
    return (uint32_t)(h >> 40) >= threshold;
}

int ck_dropout_keep(float p, uint64_t seed, uint64_t step, uint32_t layer, int64_t row, int64_t col) {
    return keep_bit(layer_key(seed, step, layer), row, col, keep_threshold(p));
}

CK_INLINE void dropout_apply_body(const float *x, float *y, int64_t rows, int64_t cols,
                                  uint32_t threshold, float scale, uint64_t key, int64_t row0) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        uint64_t rowkey = key ^ ((uint64_t)(row0 + r) * 0xD1B54A32D192ED03ull);
        for (int64_t c = 0; c < cols; c++) {
            uint64_t h = mix64(rowkey + (uint64_t)c);
            yr[c] = (uint32_t)(h >> 40) >= threshold ? xr[c] * scale : 0.0f;
        }
    }
}
CK_VERSIONS(dropout_apply,
            (const float *x, float *y, int64_t rows, int64_t cols, uint32_t threshold, float scale,
             uint64_t key, int64_t row0),
            (x, y, rows, cols, threshold, scale, key, row0))

static void dropout_apply(const float *x, float *y, int64_t rows, int64_t cols, float p,
                          uint64_t seed, uint64_t step, uint32_t layer, int64_t row0) {
    uint64_t key = layer_key(seed, step, layer);
    float scale = 1.0f / (1.0f - p);
    CK_DISPATCH(dropout_apply, (x, y, rows, cols, keep_threshold(p), scale, key, row0));
}

void ck_dropout_forward(const float *x, float *y, int64_t rows, int64_t cols, float p, uint64_t seed,
                        uint64_t step, uint32_t layer, int64_t row0) {
    dropout_apply(x, y, rows, cols, p, seed, step, layer, row0);
}

void ck_dropout_backward(const float *dy, float *dx, int64_t rows, int64_t cols, float p,
                         uint64_t seed, uint64_t step, uint32_t layer, int64_t row0) {
    dropout_apply(dy, dx, rows, cols, p, seed, step, layer, row0);
}
