// The element-wise passes of a fused narrow block, Linear -> activation -> BatchNorm -> [Dropout]
// (ARCHITECTURE.md, "Fused narrow blocks"), over one block of rows. Each pass is one loop over z,
// the Linear's output: the activation (as a = alpha + beta * z), the normalisation and the dropout
// mask are computed in registers instead of one kernel call and one pass over the block each. The
// arithmetic is the unfused kernels' expression for expression (ck_act_forward's affine,
// ck_bn_forward, ck_dropout_forward, ck_bn_backward_partials and ck_bn_backward_input), and every
// pass recomputes xhat with the same inline function, so the backward's xhat and masks are the
// forward's bit for bit.
//
// As in batchnorm.c, rows narrower than a vector run flat over groups of PATTERN_ROWS rows with the
// per-channel coefficients repeated PATTERN_ROWS times, then the remaining rows with period cols.
// A group's period is taken in vectors of LANES elements, with each element's sums added in the
// order of the rows. Every pass runs down one vector position of every group at a time, so that
// position's coefficients and sums stay in registers (one load of z, and of dy, a vector). The
// passes that read z (and dy) from memory (all but the statistics, which read the block the Linear
// has just written) ask for the next block's rows ahead, one line per vector, which covers the whole
// next block over the pass (the callers run a shard's consecutive blocks in order), so the memory's
// latency overlaps this block's work. Measured on Zen 5: the position order took ~16% off the seed
// step's CPU time against the order of the groups, whose coefficients and double sums went through
// memory for every vector.
#include <string.h>

#include "dropout_hash.h"
#include "internal.h"

enum { PATTERN_ROWS = 16, NARROW = 32, PERIOD_MAX = PATTERN_ROWS * NARROW, LANES = 16 };

// LANES elements as vectors of the compiler's (clang's vector extension): one body compiles
// to zmm registers under AVX-512, pairs of ymm under AVX2 and SSE pieces in the scalar version, with
// each lane's arithmetic that of the plain C expression (a + b * c fused where the target has FMA,
// as in the other kernels' loops).
typedef float lanes_f __attribute__((ext_vector_type(LANES)));
typedef double lanes_d __attribute__((ext_vector_type(LANES)));
typedef uint32_t lanes_u __attribute__((ext_vector_type(LANES)));
typedef int32_t lanes_i __attribute__((ext_vector_type(LANES)));
typedef _Bool lanes_b __attribute__((ext_vector_type(LANES)));  // in memory one bit a lane, lane 0 lowest

/// w (<= LANES) values from p; a constant w = LANES compiles to whole vector loads.
CK_INLINE lanes_f load_f(const float *p, int w) {
    lanes_f v = 0;
    memcpy(&v, p, sizeof(float) * (size_t)w);
    return v;
}
CK_INLINE void store_f(float *p, lanes_f v, int w) { memcpy(p, &v, sizeof(float) * (size_t)w); }
CK_INLINE void store_d(double *p, lanes_d v, int w) { memcpy(p, &v, sizeof(double) * (size_t)w); }
CK_INLINE lanes_d widen(lanes_f v) { return __builtin_convertvector(v, lanes_d); }

/// The dropout mask of a pass: element e of the block has counter first + e (the block's rows are
/// consecutive rows of the batch). `on` = 0: no dropout.
typedef struct {
    uint64_t key, first;
    uint32_t threshold;
    float scale;
    int on;
} narrow_mask;

/// A pass's block keys (block_key): of first's high half and of the next one, which a block's
/// counters reach where their low half wraps (once per 2^32 elements).
typedef struct {
    uint32_t lo, k, k_next;
} narrow_keys;

CK_INLINE narrow_keys narrow_keys_of(narrow_mask m) {
    return (narrow_keys){(uint32_t)m.first, block_key(m.key, m.first), block_key(m.key, m.first + (1ull << 32))};
}

/// -1 in the lanes of elements e .. e + LANES - 1 of the pass that the mask keeps, else 0: keep_bit's
/// draw of counter first + e + lane, its high half's key chosen per lane (e < 2^32 - LANES).
CK_INLINE lanes_i narrow_keep(narrow_mask m, narrow_keys s, int64_t e) {
    const lanes_u lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    lanes_u lo = s.lo + (uint32_t)e + lane;
    lanes_u wrapped = (lanes_u)(lo < s.lo), h = lo ^ ((s.k & ~wrapped) | (s.k_next & wrapped));
    FMIX32(h);
    return (h >> 8) >= m.threshold;
}

/// A vector's keep lanes (-1 or 0) as one word of bits, lane l in bit l (on AVX-512, the compare's
/// mask register as it is), and back.
CK_INLINE uint16_t keep_word(lanes_i keep) {
    lanes_b b = __builtin_convertvector(keep, lanes_b);
    uint16_t word;
    memcpy(&word, &b, sizeof word);
    return word;
}
CK_INLINE lanes_i keep_of_word(uint16_t word) {
    lanes_b b;
    memcpy(&b, &word, sizeof word);
    return -__builtin_convertvector(b, lanes_i);
}

/// v through the mask: v * scale where kept, else 0.
CK_INLINE lanes_f narrow_drop(narrow_mask m, lanes_i keep, lanes_f v) {
    return (lanes_f)((lanes_i)(v * m.scale) & keep);
}

/// The coefficient arrays, in this order in a plan's patterns (DY_*: BatchNorm's backward as
/// dx = scale * dy - shift - slope * xhat).
enum { ALPHA, BETA, MEAN, INVSTD, GAMMA, SHIFT, DY_SCALE, DY_SHIFT, DY_SLOPE, COEFS };

/// The coefficients of one vector position: array K's elements j0 .. j0 + w - 1 of the period.
typedef struct {
    lanes_f a[COEFS];
} narrow_coefs;

CK_INLINE narrow_coefs narrow_coefs_of(const float *c, int64_t period, int64_t j0, int w) {
    narrow_coefs k;
    for (int K = 0; K < COEFS; K++) k.a[K] = load_f(c + K * period + j0, w);
    return k;
}

CK_INLINE lanes_f narrow_activation(const narrow_coefs *k, lanes_f z) { return k->a[ALPHA] + k->a[BETA] * z; }

CK_INLINE lanes_f narrow_xhat(const narrow_coefs *k, lanes_f z) {
    return (narrow_activation(k, z) - k->a[MEAN]) * k->a[INVSTD];
}

/// BatchNorm's output, gamma xhat + shift.
CK_INLINE lanes_f narrow_output(const narrow_coefs *k, lanes_f xhat) { return k->a[GAMMA] * xhat + k->a[SHIFT]; }

// MARK: - Bodies (n elements, a multiple of period), by vectors [j0, j0 + w) of the period
// (the passes with sums start each position's from zero and store them into acc[j0, j0 + w), so
// every accumulator of the period is written: the callers fold them without clearing them first)

/// Asks for the line at p + ahead (nothing when ahead = 0). A prefetch never faults, so ahead may
/// point past the end of the caller's buffer.
CK_INLINE void prefetch_ahead(const float *p, int64_t ahead) {
    if (ahead) __builtin_prefetch((const void *)((uintptr_t)p + 4 * (uintptr_t)ahead));
}

/// Runs `position(j0, w)` for each vector [j0, j0 + w) of the period.
#define EACH_POSITION(period, position)                                     \
    for (int64_t j0 = 0; j0 < (period); j0 += LANES)                       \
        if ((period) - j0 >= LANES) position(j0, LANES);                   \
        else position(j0, (int)((period) - j0))

/// The statistics down one vector position j0 of every group, the sums in registers.
CK_INLINE void narrow_stats_position(const float *z, int64_t n, int64_t period, const float *c, int64_t j0, int w,
                                     double *acc, double *accsq) {
    narrow_coefs k = narrow_coefs_of(c, period, j0, w);
    lanes_d s = 0, sq = 0;
    for (int64_t e = j0; e < n; e += period) {
        lanes_d v = widen(narrow_activation(&k, load_f(z + e, w)));
        s += v;
        sq += v * v;
    }
    store_d(acc + j0, s, w);
    store_d(accsq + j0, sq, w);
}

CK_INLINE void narrow_stats_body(const float *z, int64_t n, int64_t period, const float *c, double *acc,
                                 double *accsq) {
#define POSITION(j0, w) narrow_stats_position(z, n, period, c, j0, w, acc, accsq)
    EACH_POSITION(period, POSITION);
#undef POSITION
}
CK_VERSIONS(narrow_stats, (const float *z, int64_t n, int64_t period, const float *c, double *acc, double *accsq),
            (z, n, period, c, acc, accsq))

/// The forward pass down one vector position j0 of every group; with `words`, each vector's keep bits
/// into words[e / LANES] (whole vectors only: a period of whole groups).
CK_INLINE void narrow_forward_position(const float *z, float *y, int64_t n, int64_t period, const float *c,
                                       narrow_mask m, narrow_keys keys, int64_t ahead, uint16_t *words, int64_t j0, int w) {
    narrow_coefs k = narrow_coefs_of(c, period, j0, w);
    for (int64_t e = j0; e < n; e += period) {
        prefetch_ahead(z + e, ahead);
        lanes_f v = narrow_output(&k, narrow_xhat(&k, load_f(z + e, w)));
        lanes_i keep = m.on ? narrow_keep(m, keys, e) : 0;
        if (m.on && words) words[e / LANES] = keep_word(keep);
        store_f(y + e, m.on ? narrow_drop(m, keep, v) : v, w);
    }
}

CK_INLINE void narrow_forward_body(const float *z, float *y, int64_t n, int64_t period, const float *c,
                                   narrow_mask m, int64_t ahead, uint16_t *words) {
    narrow_keys keys = narrow_keys_of(m);
#define POSITION(j0, w) narrow_forward_position(z, y, n, period, c, m, keys, ahead, words, j0, w)
    EACH_POSITION(period, POSITION);
#undef POSITION
}
CK_VERSIONS(narrow_forward,
            (const float *z, float *y, int64_t n, int64_t period, const float *c, narrow_mask m, int64_t ahead, uint16_t *words),
            (z, y, n, period, c, m, ahead, words))

/// The backward's first phase down one vector position j0 of every group: dy through the mask (in
/// place) and the sums; with y, also the block's output, as narrow_forward_position's, under the same
/// draw. With `words`, the mask is the forward's stored bits instead of the hash again.
CK_INLINE void narrow_backward_sums_position(const float *z, float *y, float *dy, int64_t n, int64_t period,
                                             const float *c, narrow_mask m, narrow_keys keys, int64_t ahead,
                                             const uint16_t *words, double *acc, double *accx, int64_t j0, int w) {
    narrow_coefs k = narrow_coefs_of(c, period, j0, w);
    lanes_d s = 0, sx = 0;
    for (int64_t e = j0; e < n; e += period) {
        prefetch_ahead(z + e, ahead);
        prefetch_ahead(dy + e, ahead);
        lanes_f xhat = narrow_xhat(&k, load_f(z + e, w)), g = load_f(dy + e, w);
        lanes_i keep = !m.on ? 0 : words ? keep_of_word(words[e / LANES]) : narrow_keep(m, keys, e);
        if (m.on) g = narrow_drop(m, keep, g);
        if (y) {
            lanes_f v = narrow_output(&k, xhat);
            store_f(y + e, m.on ? narrow_drop(m, keep, v) : v, w);
        }
        store_f(dy + e, g, w);
        s += widen(g);
        sx += widen(g) * widen(xhat);
    }
    store_d(acc + j0, s, w);
    store_d(accx + j0, sx, w);
}

CK_INLINE void narrow_backward_sums_body(const float *z, float *y, float *dy, int64_t n, int64_t period, const float *c,
                                         narrow_mask m, int64_t ahead, const uint16_t *words, double *acc, double *accx) {
    narrow_keys keys = narrow_keys_of(m);
#define POSITION(j0, w) narrow_backward_sums_position(z, y, dy, n, period, c, m, keys, ahead, words, acc, accx, j0, w)
    EACH_POSITION(period, POSITION);
#undef POSITION
}
CK_VERSIONS(narrow_backward_sums,
            (const float *z, float *y, float *dy, int64_t n, int64_t period, const float *c, narrow_mask m, int64_t ahead,
             const uint16_t *words, double *acc, double *accx),
            (z, y, dy, n, period, c, m, ahead, words, acc, accx))

CK_INLINE void narrow_backward_input_position(const float *z, const float *dy, float *da, int64_t n, int64_t period,
                                              const float *c, int64_t ahead, int64_t j0, int w) {
    narrow_coefs k = narrow_coefs_of(c, period, j0, w);
    for (int64_t e = j0; e < n; e += period) {
        prefetch_ahead(z + e, ahead);
        prefetch_ahead(dy + e, ahead);
        lanes_f g = load_f(dy + e, w);
        store_f(da + e, k.a[DY_SCALE] * g - k.a[DY_SHIFT] - k.a[DY_SLOPE] * narrow_xhat(&k, load_f(z + e, w)), w);
    }
}

CK_INLINE void narrow_backward_input_body(const float *z, const float *dy, float *da, int64_t n, int64_t period,
                                          const float *c, int64_t ahead) {
#define POSITION(j0, w) narrow_backward_input_position(z, dy, da, n, period, c, ahead, j0, w)
    EACH_POSITION(period, POSITION);
#undef POSITION
}
CK_VERSIONS(narrow_backward_input,
            (const float *z, const float *dy, float *da, int64_t n, int64_t period, const float *c, int64_t ahead),
            (z, dy, da, n, period, c, ahead))

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
    CK_DISPATCH(narrow_stats, (z, whole * cols, period, plan->pattern, acc, accsq));
    fold(acc, PATTERN_ROWS, cols, sum);
    fold(accsq, PATTERN_ROWS, cols, sumsq);
    CK_DISPATCH(narrow_stats, (z + whole * cols, (rows - whole) * cols, cols, plan->single, acc, accsq));
    fold(acc, 1, cols, sum);
    fold(accsq, 1, cols, sumsq);
}

int64_t ck_narrow_keep_words(int64_t rows, int64_t cols) { return grouped_rows(rows) / PATTERN_ROWS * cols; }

void ck_narrow_forward(const ck_narrow_plan *plan, int64_t row0, const float *z, float *y, int64_t rows, uint16_t *keep) {
    int64_t cols = plan->cols, whole = grouped_rows(rows);
    narrow_mask m = block_mask(plan, row0);
    CK_DISPATCH(narrow_forward, (z, y, whole * cols, PATTERN_ROWS * cols, plan->pattern, m, rows * cols, keep));
    m.first += (uint64_t)(whole * cols);
    CK_DISPATCH(narrow_forward, (z + whole * cols, y + whole * cols, (rows - whole) * cols, cols, plan->single, m, 0, NULL));
}

void ck_narrow_backward_sums(const ck_narrow_plan *plan, int64_t row0, const float *z, float *y, float *dy, int64_t rows,
                             const uint16_t *keep, double *sum_dy, double *sum_dy_xhat) {
    int64_t cols = plan->cols, whole = grouped_rows(rows), period = PATTERN_ROWS * cols;
    narrow_mask m = block_mask(plan, row0);
    double acc[PERIOD_MAX], accx[PERIOD_MAX];
    CK_DISPATCH(narrow_backward_sums, (z, y, dy, whole * cols, period, plan->pattern, m, rows * cols, keep, acc, accx));
    fold(acc, PATTERN_ROWS, cols, sum_dy);
    fold(accx, PATTERN_ROWS, cols, sum_dy_xhat);
    m.first += (uint64_t)(whole * cols);
    float *rest = y ? y + whole * cols : NULL;
    CK_DISPATCH(narrow_backward_sums,
                (z + whole * cols, rest, dy + whole * cols, (rows - whole) * cols, cols, plan->single, m, 0, NULL, acc, accx));
    fold(acc, 1, cols, sum_dy);
    fold(accx, 1, cols, sum_dy_xhat);
}

void ck_narrow_backward_input(const ck_narrow_plan *plan, const float *z, const float *dy, float *da, int64_t rows) {
    int64_t cols = plan->cols, whole = grouped_rows(rows);
    CK_DISPATCH(narrow_backward_input, (z, dy, da, whole * cols, PATTERN_ROWS * cols, plan->pattern, rows * cols));
    CK_DISPATCH(narrow_backward_input, (z + whole * cols, dy + whole * cols, da + whole * cols, (rows - whole) * cols, cols,
                                        plan->single, 0));
}
