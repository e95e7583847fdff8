// BatchNorm1d over [rows, cols]: per-channel statistics as combinable partial sums (double), the
// normalise + affine forward, and the backward in two parts around the cross-shard combination.
//
// Every kernel is a per-channel operation over a row-major matrix. For wide layers the inner loop
// runs along a row; for narrow ones (the seed's widths are 4 to 9) a row is shorter than a vector,
// so the kernels run flat over blocks of PATTERN_ROWS rows with the per-channel coefficients
// repeated PATTERN_ROWS times: the block length is a multiple of 16 floats and vectorises fully.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

enum { PATTERN_ROWS = 16, NARROW = 32, STACK_COLS = 256 };

// MARK: statistics

CK_INLINE void bn_partial_stats_body(const float *x, int64_t rows, int64_t cols, double *sum,
                                     double *sumsq) {
    if (cols < NARROW) {
        // Accumulate a block of PATTERN_ROWS rows element-wise, fold into channels at the end.
        double acc[PATTERN_ROWS * NARROW], accsq[PATTERN_ROWS * NARROW];
        const int64_t block = PATTERN_ROWS * cols;
        memset(acc, 0, sizeof(double) * (size_t)block);
        memset(accsq, 0, sizeof(double) * (size_t)block);
        int64_t r = 0;
        for (; r + PATTERN_ROWS <= rows; r += PATTERN_ROWS) {
            const float *xb = x + r * cols;
            for (int64_t j = 0; j < block; j++) {
                double v = xb[j];
                acc[j] += v;
                accsq[j] += v * v;
            }
        }
        for (int64_t j = 0; j < block; j++) {
            sum[j % cols] += acc[j];
            sumsq[j % cols] += accsq[j];
        }
        x += r * cols;
        rows -= r;
    }
    for (int64_t r = 0; r < rows; r++) {
        const float *row = x + r * cols;
        for (int64_t c = 0; c < cols; c++) {
            double v = row[c];
            sum[c] += v;
            sumsq[c] += v * v;
        }
    }
}
CK_VERSIONS(bn_partial_stats, (const float *x, int64_t rows, int64_t cols, double *sum, double *sumsq),
            (x, rows, cols, sum, sumsq))

void ck_bn_partial_stats(const float *x, int64_t rows, int64_t cols, double *sum, double *sumsq) {
    CK_DISPATCH(bn_partial_stats, (x, rows, cols, sum, sumsq));
}

void ck_bn_finish_stats(const double *sum, const double *sumsq, int64_t count, int64_t cols,
                        float eps, float momentum, float *mean, float *invstd, float *running_mean,
                        float *running_var) {
    for (int64_t c = 0; c < cols; c++) {
        double mu = sum[c] / (double)count;
        double var = sumsq[c] / (double)count - mu * mu;
        if (var < 0) var = 0;  // rounding can make E[x^2] - mu^2 slightly negative
        mean[c] = (float)mu;
        invstd[c] = (float)(1.0 / sqrt(var + (double)eps));
        if (running_mean && running_var) {
            double unbiased = count > 1 ? var * (double)count / (double)(count - 1) : var;
            running_mean[c] = (float)((1.0 - momentum) * running_mean[c] + momentum * mu);
            running_var[c] = (float)((1.0 - momentum) * running_var[c] + momentum * unbiased);
        }
    }
}

void ck_bn_eval_stats(const float *running_mean, const float *running_var, int64_t cols, float eps,
                      float *mean, float *invstd) {
    for (int64_t c = 0; c < cols; c++) {
        mean[c] = running_mean[c];
        invstd[c] = 1.0f / sqrtf(running_var[c] + eps);
    }
}

// MARK: forward

// xhat = (x - mean) * invstd; y = gamma * xhat + beta. `mean`... `beta` hold `period` coefficients
// that repeat along the flat rows x cols elements (period = cols, or PATTERN_ROWS * cols).
CK_INLINE void bn_forward_body(const float *x, const float *mean, const float *invstd,
                               const float *gamma, const float *beta, float *xhat, float *y,
                               int64_t n, int64_t period) {
    for (int64_t i = 0; i + period <= n; i += period) {
        const float *xs = x + i;
        float *ys = y + i;
        if (xhat) {
            float *hs = xhat + i;
            CK_INPLACE_SAFE
            for (int64_t j = 0; j < period; j++) {
                float h = (xs[j] - mean[j]) * invstd[j];
                hs[j] = h;
                ys[j] = gamma[j] * h + beta[j];
            }
        } else {
            CK_INPLACE_SAFE
            for (int64_t j = 0; j < period; j++) ys[j] = gamma[j] * ((xs[j] - mean[j]) * invstd[j]) + beta[j];
        }
    }
}
CK_VERSIONS(bn_forward,
            (const float *x, const float *mean, const float *invstd, const float *gamma,
             const float *beta, float *xhat, float *y, int64_t n, int64_t period),
            (x, mean, invstd, gamma, beta, xhat, y, n, period))

void ck_repeat_pattern(const float *const *in, int count, int64_t cols, int64_t times, float *out) {
    for (int k = 0; k < count; k++)
        for (int64_t t = 0; t < times; t++) memcpy(out + (k * times + t) * cols, in[k], sizeof(float) * (size_t)cols);
}

void ck_bn_forward(const float *x, const float *mean, const float *invstd, const float *gamma,
                   const float *beta, float *xhat, float *y, int64_t rows, int64_t cols) {
    if (cols < NARROW && rows >= PATTERN_ROWS) {
        float pattern[4 * PATTERN_ROWS * NARROW];
        const int64_t period = PATTERN_ROWS * cols, whole = rows / PATTERN_ROWS * PATTERN_ROWS;
        const float *in[4] = {mean, invstd, gamma, beta};
        ck_repeat_pattern(in, 4, cols, PATTERN_ROWS, pattern);
        CK_DISPATCH(bn_forward, (x, pattern, pattern + period, pattern + 2 * period, pattern + 3 * period, xhat, y,
                                 whole * cols, period));
        x += whole * cols;
        y += whole * cols;
        if (xhat) xhat += whole * cols;
        rows -= whole;
    }
    CK_DISPATCH(bn_forward, (x, mean, invstd, gamma, beta, xhat, y, rows * cols, cols));
}

// MARK: backward

CK_INLINE void bn_backward_partials_body(const float *dy, const float *xhat, int64_t rows,
                                         int64_t cols, double *sum_dy, double *sum_dy_xhat) {
    if (cols < NARROW) {
        double acc[PATTERN_ROWS * NARROW], accx[PATTERN_ROWS * NARROW];
        const int64_t block = PATTERN_ROWS * cols;
        memset(acc, 0, sizeof(double) * (size_t)block);
        memset(accx, 0, sizeof(double) * (size_t)block);
        int64_t r = 0;
        for (; r + PATTERN_ROWS <= rows; r += PATTERN_ROWS) {
            const float *g = dy + r * cols, *h = xhat + r * cols;
            for (int64_t j = 0; j < block; j++) {
                acc[j] += g[j];
                accx[j] += (double)g[j] * h[j];
            }
        }
        for (int64_t j = 0; j < block; j++) {
            sum_dy[j % cols] += acc[j];
            sum_dy_xhat[j % cols] += accx[j];
        }
        dy += r * cols;
        xhat += r * cols;
        rows -= r;
    }
    for (int64_t r = 0; r < rows; r++) {
        const float *g = dy + r * cols, *h = xhat + r * cols;
        for (int64_t c = 0; c < cols; c++) {
            sum_dy[c] += g[c];
            sum_dy_xhat[c] += (double)g[c] * h[c];
        }
    }
}
CK_VERSIONS(bn_backward_partials,
            (const float *dy, const float *xhat, int64_t rows, int64_t cols, double *sum_dy,
             double *sum_dy_xhat),
            (dy, xhat, rows, cols, sum_dy, sum_dy_xhat))

void ck_bn_backward_partials(const float *dy, const float *xhat, int64_t rows, int64_t cols,
                             double *sum_dy, double *sum_dy_xhat) {
    CK_DISPATCH(bn_backward_partials, (dy, xhat, rows, cols, sum_dy, sum_dy_xhat));
}

CK_INLINE void bn_backward_input_body(const float *dy, const float *xhat, const float *scale,
                                      const float *shift, const float *slope, float *dx, int64_t n,
                                      int64_t period) {
    for (int64_t i = 0; i + period <= n; i += period) {
        const float *g = dy + i, *h = xhat + i;
        float *d = dx + i;
        CK_INPLACE_SAFE
        for (int64_t j = 0; j < period; j++) d[j] = scale[j] * g[j] - shift[j] - slope[j] * h[j];
    }
}
CK_VERSIONS(bn_backward_input,
            (const float *dy, const float *xhat, const float *scale, const float *shift,
             const float *slope, float *dx, int64_t n, int64_t period),
            (dy, xhat, scale, shift, slope, dx, n, period))

void ck_bn_backward_coefficients(const float *gamma, const float *invstd, const double *sum_dy,
                                 const double *sum_dy_xhat, int64_t count, int64_t cols, float *scale,
                                 float *shift, float *slope) {
    for (int64_t c = 0; c < cols; c++) {
        double k = (double)gamma[c] * invstd[c];
        scale[c] = (float)k;
        shift[c] = (float)(k * sum_dy[c] / (double)count);
        slope[c] = (float)(k * sum_dy_xhat[c] / (double)count);
    }
}

void ck_bn_backward_input(const float *dy, const float *xhat, const float *gamma,
                          const float *invstd, const double *sum_dy, const double *sum_dy_xhat,
                          int64_t count, float *dx, int64_t rows, int64_t cols) {
    // dx = k*dy - k*mean(dy) - xhat * k*mean(dy*xhat) with k = gamma*invstd: three per-channel
    // coefficients, so the per-element loop is two FMAs.
    float stack[3 * STACK_COLS];
    float *coef = cols <= STACK_COLS ? stack : (float *)malloc(sizeof(float) * (size_t)(3 * cols));
    if (!coef) return;
    float *scale = coef, *shift = coef + cols, *slope = coef + 2 * cols;
    ck_bn_backward_coefficients(gamma, invstd, sum_dy, sum_dy_xhat, count, cols, scale, shift, slope);
    if (cols < NARROW && rows >= PATTERN_ROWS) {
        float pattern[3 * PATTERN_ROWS * NARROW];
        const int64_t period = PATTERN_ROWS * cols, whole = rows / PATTERN_ROWS * PATTERN_ROWS;
        const float *in[3] = {scale, shift, slope};
        ck_repeat_pattern(in, 3, cols, PATTERN_ROWS, pattern);
        CK_DISPATCH(bn_backward_input, (dy, xhat, pattern, pattern + period, pattern + 2 * period, dx, whole * cols, period));
        dy += whole * cols;
        xhat += whole * cols;
        dx += whole * cols;
        rows -= whole;
    }
    CK_DISPATCH(bn_backward_input, (dy, xhat, scale, shift, slope, dx, rows * cols, cols));
    if (coef != stack) free(coef);
}
