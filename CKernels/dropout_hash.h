// The dropout mask's counter-based hash (dropout.c), shared with the fused narrow-block kernels
// (narrow_block.c), which draw the same masks inside their passes.
#ifndef CKERNELS_DROPOUT_HASH_H
#define CKERNELS_DROPOUT_HASH_H
#include "internal.h"

// SplitMix64's finaliser, for the per-(seed, step, layer) key.
static inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint64_t layer_key(uint64_t seed, uint64_t step, uint32_t layer) {
    return mix64(mix64(seed ^ 0x6A09E667F3BCC909ull) + step * 0x9E3779B97F4A7C15ull + layer);
}

// MurmurHash3's 32-bit finaliser on h, a uint32_t or a vector of them (narrow_block.c hashes 16
// elements at once), in place: two 32-bit multiplies, so 16 elements hash per AVX-512 step.
#define FMIX32(h) ((h) ^= (h) >> 16, (h) *= 0x85EBCA6Bu, (h) ^= (h) >> 13, (h) *= 0xC2B2AE35u, (h) ^= (h) >> 16)

CK_INLINE uint32_t fmix32(uint32_t h) {
    FMIX32(h);
    return h;
}

// Element (row, col) of a layer with `cols` columns has the counter row * cols + col. Its high half
// is folded into a 32-bit key once per 2^32 elements; each element then costs one keyed round on
// the low half (a bijection, so distinct elements never share a draw within a key). 24 random bits
// are compared with p scaled to 2^24: the keep probability is 1 - p to within 2^-24.
CK_INLINE uint32_t block_key(uint64_t key, uint64_t counter) {
    return (uint32_t)key ^ fmix32((uint32_t)(counter >> 32) ^ (uint32_t)(key >> 32));
}

/// Whether the element with counter low half `lo` under block key `k` is kept (keep_bit's last round).
CK_INLINE int keep_low(uint32_t lo, uint32_t k, uint32_t threshold) { return (fmix32(lo ^ k) >> 8) >= threshold; }

CK_INLINE int keep_bit(uint64_t key, uint64_t counter, uint32_t threshold) {
    return keep_low((uint32_t)counter, block_key(key, counter), threshold);
}

static inline uint32_t keep_threshold(float p) { return (uint32_t)((double)p * 16777216.0); }

#endif
