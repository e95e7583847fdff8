// The element-wise passes of a fused narrow block, Linear -> activation -> BatchNorm -> [Dropout]
// (ARCHITECTURE.md, "Fused narrow blocks"), over one block of rows that is in the cache. Each pass
// is one flat loop over z, the Linear's output: the activation (as a = alpha + beta * z), the
// normalisation and the dropout mask are computed in registers instead of one kernel call and one
// pass over the block each. The arithmetic is the unfused kernels' expression for expression
// (ck_act_forward's affine, ck_bn_forward, ck_dropout_forward, ck_bn_backward_partials and
// ck_bn_backward_input), and every pass recomputes xhat with the same inline function, so the
// backward's xhat and masks are the forward's bit for bit.
//
// As in batchnorm.c, rows narrower than a vector run flat over groups of PATTERN_ROWS rows with the
// per-channel coefficients repeated PATTERN_ROWS times, then the remaining rows with period cols.
#include <string.h>

#include "dropout_hash.h"
#include "internal.h"

enum { PATTERN_ROWS = 16, NARROW = 32, PERIOD_MAX = PATTERN_ROWS * NARROW };

/// The dropout mask of a pass: element i of the block has counter first + i (the block's rows are
/// consecutive rows of the batch). `on` = 0: no dropout.
typedef struct {
    uint64_t key, first;
    uint32_t threshold;
    float scale;
    int on;
} narrow_mask;

/// The coefficient arrays, in this order in a plan's patterns (DY_*: BatchNorm's backward as
/// dx = scale * dy - shift - slope * xhat).
enum { ALPHA, BETA, MEAN, INVSTD, GAMMA, SHIFT, DY_SCALE, DY_SHIFT, DY_SLOPE, COEFS };

CK_INLINE float narrow_activation(const float *c, int64_t period, int64_t j, float z) {
    return c[ALPHA * period + j] + c[BETA * period + j] * z;
}

CK_INLINE float narrow_xhat(const float *c, int64_t period, int64_t j, float z) {
    return (narrow_activation(c, period, j, z) - c[MEAN * period + j]) * c[INVSTD * period + j];
}

/// BatchNorm's output, gamma xhat + shift.
CK_INLINE float narrow_output(const float *c, int64_t period, int64_t j, float xhat) {
    return c[GAMMA * period + j] * xhat + c[SHIFT * period + j];
}

/// Whether the mask keeps element j of a chunk whose first counter is `counter`, low half lo, key k.
/// A chunk across a change of the counter's high half (once per 2^32 elements) draws key by key.
CK_INLINE int narrow_keep(narrow_mask m, int straddles, uint64_t counter, uint32_t lo, uint32_t k, int64_t j) {
    return straddles ? keep_bit(m.key, counter + (uint64_t)j, m.threshold) : keep_low(lo + (uint32_t)j, k, m.threshold);
}

/// v through the mask, element j as in narrow_keep.
CK_INLINE float narrow_drop(narrow_mask m, int straddles, uint64_t counter, uint32_t lo, uint32_t k,
                            int64_t j, float v) {
    return narrow_keep(m, straddles, counter, lo, k, j) ? v * m.scale : 0.0f;
}

CK_INLINE int narrow_straddles(uint64_t counter, int64_t period) {
    return (counter >> 32) != ((counter + (uint64_t)period - 1) >> 32);
}

// MARK: - Bodies (n elements, a multiple of period)

CK_INLINE void narrow_stats_body(const float *z, int64_t n, int64_t period, const float *c, double *acc,
                                 double *accsq) {
    for (int64_t i = 0; i < n; i += period) {
        const float *zs = z + i;
        for (int64_t j = 0; j < period; j++) {
            double v = narrow_activation(c, period, j, zs[j]);
            acc[j] += v;
            accsq[j] += v * v;
        }
    }
}
CK_VERSIONS(narrow_stats, (const float *z, int64_t n, int64_t period, const float *c, double *acc, double *accsq),
            (z, n, period, c, acc, accsq))

CK_INLINE void narrow_forward_body(const float *z, float *y, int64_t n, int64_t period, const float *c,
                                   narrow_mask m) {
    for (int64_t i = 0; i < n; i += period) {
        const float *zs = z + i;
        float *ys = y + i;
        uint64_t counter = m.first + (uint64_t)i;
        uint32_t lo = (uint32_t)counter, k = block_key(m.key, counter);
        if (!m.on) {
            for (int64_t j = 0; j < period; j++) ys[j] = narrow_output(c, period, j, narrow_xhat(c, period, j, zs[j]));
        } else if (!narrow_straddles(counter, period)) {
            for (int64_t j = 0; j < period; j++)
                ys[j] = narrow_drop(m, 0, counter, lo, k, j, narrow_output(c, period, j, narrow_xhat(c, period, j, zs[j])));
        } else {
            for (int64_t j = 0; j < period; j++)
                ys[j] = narrow_drop(m, 1, counter, lo, k, j, narrow_output(c, period, j, narrow_xhat(c, period, j, zs[j])));
        }
    }
}
CK_VERSIONS(narrow_forward, (const float *z, float *y, int64_t n, int64_t period, const float *c, narrow_mask m),
            (z, y, n, period, c, m))

/// One element of the backward's first phase: g through the mask (in place) and the sums; with y,
/// also the block's output, as narrow_forward_body's, under the same draw (`keep`, narrow_keep's).
CK_INLINE void narrow_sums_element(const float *c, int64_t period, int64_t j, float z, float *g, float *y, narrow_mask m,
                                   int keep, double *acc, double *accx) {
    float xhat = narrow_xhat(c, period, j, z);
    float gj = m.on ? (keep ? *g * m.scale : 0.0f) : *g;
    if (y) {
        float v = narrow_output(c, period, j, xhat);
        *y = m.on ? (keep ? v * m.scale : 0.0f) : v;
    }
    *g = gj;
    acc[j] += gj;
    accx[j] += (double)gj * xhat;
}

CK_INLINE void narrow_backward_sums_body(const float *z, float *y, float *dy, int64_t n, int64_t period, const float *c,
                                         narrow_mask m, double *acc, double *accx) {
    for (int64_t i = 0; i < n; i += period) {
        const float *zs = z + i;
        float *g = dy + i;
        uint64_t counter = m.first + (uint64_t)i;
        uint32_t lo = (uint32_t)counter, k = block_key(m.key, counter);
        int straddles = narrow_straddles(counter, period);
        // The two loops differ only in y, so each vectorises without a test per element.
        if (y)
            for (int64_t j = 0; j < period; j++)
                narrow_sums_element(c, period, j, zs[j], g + j, y + i + j, m, narrow_keep(m, straddles, counter, lo, k, j), acc, accx);
        else
            for (int64_t j = 0; j < period; j++)
                narrow_sums_element(c, period, j, zs[j], g + j, NULL, m, narrow_keep(m, straddles, counter, lo, k, j), acc, accx);
    }
}
CK_VERSIONS(narrow_backward_sums,
            (const float *z, float *y, float *dy, int64_t n, int64_t period, const float *c, narrow_mask m, double *acc,
             double *accx),
            (z, y, dy, n, period, c, m, acc, accx))

CK_INLINE void narrow_backward_input_body(const float *z, const float *dy, float *da, int64_t n, int64_t period,
                                          const float *c) {
    const float *scale = c + DY_SCALE * period, *shift = c + DY_SHIFT * period, *slope = c + DY_SLOPE * period;
    for (int64_t i = 0; i < n; i += period) {
        const float *zs = z + i, *g = dy + i;
        float *d = da + i;
        CK_INPLACE_SAFE
        for (int64_t j = 0; j < period; j++) d[j] = scale[j] * g[j] - shift[j] - slope[j] * narrow_xhat(c, period, j, zs[j]);
    }
}
CK_VERSIONS(narrow_backward_input,
            (const float *z, const float *dy, float *da, int64_t n, int64_t period, const float *c),
            (z, dy, da, n, period, c))

// MARK: - The plan: coefficients repeated once per phase, used by every block of rows

struct ck_narrow_plan {
    int64_t cols;
    narrow_mask mask;  // `first` is set per block
    float pattern[COEFS * PERIOD_MAX];  // array K at K * PATTERN_ROWS * cols
    float single[COEFS * NARROW];       // array K at K * cols
};

size_t ck_narrow_plan_size(void) { return sizeof(ck_narrow_plan); }

void ck_narrow_plan_make(ck_narrow_plan *plan, const ck_narrow_block *b, int64_t cols, const double *sum_dy,
                         const double *sum_dy_xhat, int64_t count) {
    float alpha[NARROW], beta[NARROW], scale[NARROW] = {0}, shift[NARROW] = {0}, slope[NARROW] = {0};
    for (int64_t c = 0; c < cols; c++) {
        alpha[c] = b->alpha[b->act_per_channel ? c : 0];
        beta[c] = b->beta[b->act_per_channel ? c : 0];
    }
    if (sum_dy && sum_dy_xhat) ck_bn_backward_coefficients(b->gamma, b->invstd, sum_dy, sum_dy_xhat, count, cols, scale, shift, slope);
    const float *in[COEFS] = {alpha, beta, b->mean, b->invstd, b->gamma, b->shift, scale, shift, slope};
    plan->cols = cols;
    ck_repeat_pattern(in, COEFS, cols, PATTERN_ROWS, plan->pattern);
    ck_repeat_pattern(in, COEFS, cols, 1, plan->single);
    narrow_mask m = {0, 0, 0, 1.0f, b->p > 0.0f};
    if (m.on) {
        m.key = layer_key(b->seed, b->step, b->layer);
        m.threshold = keep_threshold(b->p);
        m.scale = 1.0f / (1.0f - b->p);
    }
    plan->mask = m;
}

/// Rows in whole pattern groups (the rest run with period cols).
static int64_t grouped_rows(int64_t rows) { return rows / PATTERN_ROWS * PATTERN_ROWS; }

/// Adds `groups` rows of cols accumulators into their channels, in order.
static void fold(const double *acc, int64_t groups, int64_t cols, double *sum) {
    for (int64_t t = 0; t < groups; t++)
        for (int64_t c = 0; c < cols; c++) sum[c] += acc[t * cols + c];
}

/// The mask of the block whose first row is row `row0` of the batch.
static narrow_mask block_mask(const ck_narrow_plan *plan, int64_t row0) {
    narrow_mask m = plan->mask;
    m.first = (uint64_t)(row0 * plan->cols);
    return m;
}

// MARK: - The passes

void ck_narrow_stats(const ck_narrow_plan *plan, const float *z, int64_t rows, double *sum, double *sumsq) {
    int64_t cols = plan->cols, whole = grouped_rows(rows), period = PATTERN_ROWS * cols;
    double acc[PERIOD_MAX], accsq[PERIOD_MAX];
    memset(acc, 0, sizeof(double) * (size_t)period);
    memset(accsq, 0, sizeof(double) * (size_t)period);
    CK_DISPATCH(narrow_stats, (z, whole * cols, period, plan->pattern, acc, accsq));
    fold(acc, PATTERN_ROWS, cols, sum);
    fold(accsq, PATTERN_ROWS, cols, sumsq);
    memset(acc, 0, sizeof(double) * (size_t)cols);
    memset(accsq, 0, sizeof(double) * (size_t)cols);
    CK_DISPATCH(narrow_stats, (z + whole * cols, (rows - whole) * cols, cols, plan->single, acc, accsq));
    fold(acc, 1, cols, sum);
    fold(accsq, 1, cols, sumsq);
}

void ck_narrow_forward(const ck_narrow_plan *plan, int64_t row0, const float *z, float *y, int64_t rows) {
    int64_t cols = plan->cols, whole = grouped_rows(rows);
    narrow_mask m = block_mask(plan, row0);
    CK_DISPATCH(narrow_forward, (z, y, whole * cols, PATTERN_ROWS * cols, plan->pattern, m));
    m.first += (uint64_t)(whole * cols);
    CK_DISPATCH(narrow_forward, (z + whole * cols, y + whole * cols, (rows - whole) * cols, cols, plan->single, m));
}

void ck_narrow_backward_sums(const ck_narrow_plan *plan, int64_t row0, const float *z, float *y, float *dy, int64_t rows,
                             double *sum_dy, double *sum_dy_xhat) {
    int64_t cols = plan->cols, whole = grouped_rows(rows), period = PATTERN_ROWS * cols;
    narrow_mask m = block_mask(plan, row0);
    double acc[PERIOD_MAX], accx[PERIOD_MAX];
    memset(acc, 0, sizeof(double) * (size_t)period);
    memset(accx, 0, sizeof(double) * (size_t)period);
    CK_DISPATCH(narrow_backward_sums, (z, y, dy, whole * cols, period, plan->pattern, m, acc, accx));
    fold(acc, PATTERN_ROWS, cols, sum_dy);
    fold(accx, PATTERN_ROWS, cols, sum_dy_xhat);
    m.first += (uint64_t)(whole * cols);
    memset(acc, 0, sizeof(double) * (size_t)cols);
    memset(accx, 0, sizeof(double) * (size_t)cols);
    float *rest = y ? y + whole * cols : NULL;
    CK_DISPATCH(narrow_backward_sums,
                (z + whole * cols, rest, dy + whole * cols, (rows - whole) * cols, cols, plan->single, m, acc, accx));
    fold(acc, 1, cols, sum_dy);
    fold(accx, 1, cols, sum_dy_xhat);
}

void ck_narrow_backward_input(const ck_narrow_plan *plan, const float *z, const float *dy, float *da, int64_t rows) {
    int64_t cols = plan->cols, whole = grouped_rows(rows);
    CK_DISPATCH(narrow_backward_input, (z, dy, da, whole * cols, PATTERN_ROWS * cols, plan->pattern));
    CK_DISPATCH(narrow_backward_input, (z + whole * cols, dy + whole * cols, da + whole * cols, (rows - whole) * cols, cols,
                                        plan->single));
}
