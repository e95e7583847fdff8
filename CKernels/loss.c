// Fused log-softmax + NLL: one pass per row computes the log-probabilities, the loss and the
// gradient of the loss with respect to the logits. The vector versions take 16 (AVX-512) or 8 (AVX2)
// rows at a time, one lane per row (a row has only a handful of classes), with vecmath.h's exp and
// log; the scalar reference uses libm. With class weights, row r counts w[label_r] times in the loss
// and its gradient (the weights are exact ones otherwise, so the unweighted bits do not change).
#include <math.h>
#include "internal.h"
#include "vecmath.h"

// Rows [0, rows) of the contract; returns the summed loss, adds to *correct.
static double nll_rows_scalar(const float *logits, const int32_t *labels, int64_t rows, int64_t classes,
                              const float *weights, float *logprobs, float *dlogits, float scale, int64_t *correct) {
    double total = 0.0;
    for (int64_t r = 0; r < rows; r++) {
        const float *z = logits + r * classes;
        float mx = z[0];
        int64_t arg = 0;
        for (int64_t k = 1; k < classes; k++)
            if (z[k] > mx) { mx = z[k]; arg = k; }
        float s = 0.0f;
        for (int64_t k = 0; k < classes; k++) s += expf(z[k] - mx);
        float lse = mx + logf(s);
        int32_t y = labels[r];
        float w = weights ? weights[y] : 1.0f, row_scale = scale * w;
        if (correct && arg == y) (*correct)++;
        total += (double)w * (double)(lse - z[y]);
        if (logprobs)
            for (int64_t k = 0; k < classes; k++) logprobs[r * classes + k] = z[k] - lse;
        if (dlogits) {
            float *d = dlogits + r * classes;
            for (int64_t k = 0; k < classes; k++) d[k] = expf(z[k] - lse) * row_scale;
            d[y] -= row_scale;
        }
    }
    return total;
}

#if CK_HAVE_X86
// One body for both widths: VEC, LANES and the intrinsics differ, the algorithm does not.
// COLUMN(z, k): class k's logits of the LANES rows at z (stride: their offsets); LABEL_COLUMN(z, y): each
// row's logit of its label; STORE_COLUMN(base, k, v): v as class k's column of the rows at base.
#define NLL_VECTOR_BODY(LANES, VEC, IVEC, SETLANES, SET1I, SET1, MULLO, LOADI, GATHER, SUB, EXP, LOG,           \
                        ADD, MUL, STORE, ARGMAX_UPDATE, COUNT_EQUAL, COLUMN, LABEL_COLUMN, STORE_COLUMN,        \
                        SUB_AT_LABEL)                                                                           \
    double total = 0.0;                                                                                   \
    const IVEC stride = MULLO(SETLANES, SET1I((int)classes));                                             \
    int64_t r = 0;                                                                                        \
    for (; r + LANES <= rows; r += LANES) {                                                               \
        const float *z = logits + r * classes;                                                            \
        const IVEC y = LOADI(labels + r);                                                                 \
        const VEC w = weights ? GATHER(weights, y) : SET1(1.0f);                                          \
        const VEC row_scale = MUL(SET1(scale), w);                                                        \
        VEC mx = COLUMN(z, 0);                                                                            \
        IVEC arg = SET1I(0);                                                                              \
        for (int64_t k = 1; k < classes; k++) {                                                           \
            VEC v = COLUMN(z, k);                                                                         \
            ARGMAX_UPDATE(mx, arg, v, k);                                                                 \
        }                                                                                                 \
        VEC s = SET1(0.0f);                                                                               \
        for (int64_t k = 0; k < classes; k++) s = ADD(s, EXP(SUB(COLUMN(z, k), mx)));                    \
        const VEC lse = ADD(mx, LOG(s));                                                                  \
        float loss[LANES], weight[LANES];                                                                 \
        STORE(loss, SUB(lse, LABEL_COLUMN(z, y)));                                                        \
        STORE(weight, w);                                                                                 \
        for (int i = 0; i < LANES; i++) total += (double)weight[i] * (double)loss[i];                     \
        if (correct) *correct += COUNT_EQUAL(arg, y);                                                     \
        for (int64_t k = 0; k < classes; k++) {                                                           \
            VEC zk = COLUMN(z, k);                                                                        \
            if (logprobs) STORE_COLUMN(logprobs + r * classes, k, SUB(zk, lse));                          \
            if (dlogits) {                                                                                \
                VEC d = MUL(EXP(SUB(zk, lse)), row_scale);                                                \
                STORE_COLUMN(dlogits + r * classes, k, SUB_AT_LABEL(d, y, k, row_scale));                 \
            }                                                                                             \
        }                                                                                                 \
    }                                                                                                     \
    return total + nll_rows_scalar(logits + r * classes, labels + r, rows - r, classes, weights,          \
                                   logprobs ? logprobs + r * classes : NULL,                              \
                                   dlogits ? dlogits + r * classes : NULL, scale, correct);

// AVX-512 helpers.
#define A512_GATHER(base, idx) _mm512_i32gather_ps(idx, base, 4)
#define A512_ARGMAX(mx, arg, v, k)                                         \
    do {                                                                   \
        __mmask16 gt = _mm512_cmp_ps_mask(v, mx, _CMP_GT_OQ);              \
        mx = _mm512_mask_mov_ps(mx, gt, v);                                \
        arg = _mm512_mask_mov_epi32(arg, gt, _mm512_set1_epi32((int)(k))); \
    } while (0)
#define A512_COUNT(a, b) __builtin_popcount(_mm512_cmpeq_epi32_mask(a, b))
// Two classes (the seed's binary output): the 16 rows' 32 logits are two vectors, whose even and odd
// lanes are the columns, so contiguous loads and stores take the place of gathers and scatters (the
// same values; the columns of rows streamed from memory, which the prefetchers follow).
#define A512_COLUMN(z, k) (classes == 2 ? pair_column512(z, k) : A512_GATHER(z, _mm512_add_epi32(stride, _mm512_set1_epi32((int)(k)))))
#define A512_LABEL_COLUMN(z, y)                                                                                    \
    (classes == 2 ? _mm512_mask_blend_ps(_mm512_cmpeq_epi32_mask(y, _mm512_set1_epi32(1)), pair_column512(z, 0), \
                                         pair_column512(z, 1))                                                     \
                  : A512_GATHER(z, _mm512_add_epi32(stride, y)))
#define A512_STORE_COLUMN(base, k, v)                                                                 \
    do {                                                                                              \
        if (classes == 2) store_pair_column512(base, k, v);                                           \
        else _mm512_i32scatter_ps(base, _mm512_add_epi32(stride, _mm512_set1_epi32((int)(k))), v, 4); \
    } while (0)

/// Class k (0 or 1) of 16 rows of two logits at z.
CK_TARGET_AVX512 static inline __m512 pair_column512(const float *z, int64_t k) {
    __m512i at = _mm512_add_epi32(_mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0),
                                  _mm512_set1_epi32((int)k));
    return _mm512_permutex2var_ps(_mm512_loadu_ps(z), at, _mm512_loadu_ps(z + 16));
}

/// v as class k (0 or 1) of 16 rows of two values at base (the other class's lanes kept).
CK_TARGET_AVX512 static inline void store_pair_column512(float *base, int64_t k, __m512 v) {
    __mmask16 lanes = k ? 0xAAAA : 0x5555;
    __m512i low = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    __m512i high = _mm512_add_epi32(low, _mm512_set1_epi32(8));
    _mm512_storeu_ps(base, _mm512_mask_permutexvar_ps(_mm512_loadu_ps(base), lanes, low, v));
    _mm512_storeu_ps(base + 16, _mm512_mask_permutexvar_ps(_mm512_loadu_ps(base + 16), lanes, high, v));
}
#define A512_SUB_AT_LABEL(d, y, k, s) _mm512_mask_sub_ps(d, _mm512_cmpeq_epi32_mask(y, _mm512_set1_epi32((int)(k))), d, s)
#define A512_LANES _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define A512_LOADI(p) _mm512_loadu_si512((const void *)(p))

CK_TARGET_AVX512 static double nll_avx512(const float *logits, const int32_t *labels, int64_t rows, const float *weights,
                                          int64_t classes, float *logprobs, float *dlogits, float scale,
                                          int64_t *correct) {
    NLL_VECTOR_BODY(16, __m512, __m512i, A512_LANES, _mm512_set1_epi32, _mm512_set1_ps, _mm512_mullo_epi32,
                    A512_LOADI, A512_GATHER, _mm512_sub_ps, ck_exp16, ck_log16, _mm512_add_ps,
                    _mm512_mul_ps, _mm512_storeu_ps, A512_ARGMAX, A512_COUNT, A512_COLUMN, A512_LABEL_COLUMN,
                    A512_STORE_COLUMN, A512_SUB_AT_LABEL)
}

// AVX2 helpers (no scatter: lanes are stored one by one).
#define A256_GATHER(base, idx) _mm256_i32gather_ps(base, idx, 4)
#define A256_ARGMAX(mx, arg, v, k)                                                             \
    do {                                                                                       \
        __m256 gt = _mm256_cmp_ps(v, mx, _CMP_GT_OQ);                                          \
        mx = _mm256_blendv_ps(mx, v, gt);                                                      \
        arg = _mm256_blendv_epi8(arg, _mm256_set1_epi32((int)(k)), _mm256_castps_si256(gt));  \
    } while (0)
#define A256_COUNT(a, b) __builtin_popcount(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(a, b))))
#define A256_SCATTER(base, idx, v)                                   \
    do {                                                             \
        float lanes_[8];                                             \
        int idx_[8];                                                 \
        _mm256_storeu_ps(lanes_, v);                                 \
        _mm256_storeu_si256((__m256i *)idx_, idx);                   \
        for (int i_ = 0; i_ < 8; i_++) (base)[idx_[i_]] = lanes_[i_]; \
    } while (0)
#define A256_COLUMN(z, k) A256_GATHER(z, _mm256_add_epi32(stride, _mm256_set1_epi32((int)(k))))
#define A256_LABEL_COLUMN(z, y) A256_GATHER(z, _mm256_add_epi32(stride, y))
#define A256_STORE_COLUMN(base, k, v) A256_SCATTER(base, _mm256_add_epi32(stride, _mm256_set1_epi32((int)(k))), v)
#define A256_SUB_AT_LABEL(d, y, k, s) \
    _mm256_sub_ps(d, _mm256_and_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(y, _mm256_set1_epi32((int)(k)))), s))
#define A256_LANES _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0)
#define A256_LOADI(p) _mm256_loadu_si256((const __m256i *)(p))

CK_TARGET_AVX2 static double nll_avx2(const float *logits, const int32_t *labels, int64_t rows, const float *weights,
                                      int64_t classes, float *logprobs, float *dlogits, float scale,
                                      int64_t *correct) {
    NLL_VECTOR_BODY(8, __m256, __m256i, A256_LANES, _mm256_set1_epi32, _mm256_set1_ps, _mm256_mullo_epi32,
                    A256_LOADI, A256_GATHER, _mm256_sub_ps, ck_exp8, ck_log8, _mm256_add_ps,
                    _mm256_mul_ps, _mm256_storeu_ps, A256_ARGMAX, A256_COUNT, A256_COLUMN, A256_LABEL_COLUMN,
                    A256_STORE_COLUMN, A256_SUB_AT_LABEL)
}
#endif

double ck_logsoftmax_nll_weighted(const float *logits, const int32_t *labels, int64_t rows, int64_t classes,
                                  const float *weights, float *logprobs, float *dlogits, float scale,
                                  int64_t *correct) {
    // Gathers index with 32-bit offsets: very large blocks take the scalar path.
    if (rows * classes >= (int64_t)1 << 31)
        return nll_rows_scalar(logits, labels, rows, classes, weights, logprobs, dlogits, scale, correct);
#if CK_HAVE_X86
    switch (ck_isa_active()) {
    case CK_ISA_AVX512: return nll_avx512(logits, labels, rows, weights, classes, logprobs, dlogits, scale, correct);
    case CK_ISA_AVX2: return nll_avx2(logits, labels, rows, weights, classes, logprobs, dlogits, scale, correct);
    default: break;
    }
#endif
    return nll_rows_scalar(logits, labels, rows, classes, weights, logprobs, dlogits, scale, correct);
}

double ck_logsoftmax_nll(const float *logits, const int32_t *labels, int64_t rows, int64_t classes,
                         float *logprobs, float *dlogits, float scale, int64_t *correct) {
    return ck_logsoftmax_nll_weighted(logits, labels, rows, classes, NULL, logprobs, dlogits, scale, correct);
}
