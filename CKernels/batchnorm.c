// BatchNorm1d over [rows, cols]: per-channel statistics as combinable partial sums (double), the
// normalise + affine forward, and the backward in two parts around the cross-shard combination.
#include <math.h>
#include "internal.h"

CK_INLINE void bn_partial_stats_body(const float *x, int64_t rows, int64_t cols, double *sum,
                                     double *sumsq) {
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

CK_INLINE void bn_forward_body(const float *x, const float *mean, const float *invstd,
                               const float *gamma, const float *beta, float *xhat, float *y,
                               int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        if (xhat) {
            float *hr = xhat + r * cols;
            CK_INPLACE_SAFE
            for (int64_t c = 0; c < cols; c++) {
                float h = (xr[c] - mean[c]) * invstd[c];
                hr[c] = h;
                yr[c] = gamma[c] * h + beta[c];
            }
        } else {
            CK_INPLACE_SAFE
            for (int64_t c = 0; c < cols; c++) yr[c] = gamma[c] * ((xr[c] - mean[c]) * invstd[c]) + beta[c];
        }
    }
}
CK_VERSIONS(bn_forward,
            (const float *x, const float *mean, const float *invstd, const float *gamma,
             const float *beta, float *xhat, float *y, int64_t rows, int64_t cols),
            (x, mean, invstd, gamma, beta, xhat, y, rows, cols))

void ck_bn_forward(const float *x, const float *mean, const float *invstd, const float *gamma,
                   const float *beta, float *xhat, float *y, int64_t rows, int64_t cols) {
    CK_DISPATCH(bn_forward, (x, mean, invstd, gamma, beta, xhat, y, rows, cols));
}

CK_INLINE void bn_backward_partials_body(const float *dy, const float *xhat, int64_t rows,
                                         int64_t cols, double *sum_dy, double *sum_dy_xhat) {
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
                                      const float *shift, const float *slope, float *dx,
                                      int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++) {
        const float *g = dy + r * cols, *h = xhat + r * cols;
        float *d = dx + r * cols;
        CK_INPLACE_SAFE
        for (int64_t c = 0; c < cols; c++) d[c] = scale[c] * g[c] - shift[c] - slope[c] * h[c];
    }
}
CK_VERSIONS(bn_backward_input,
            (const float *dy, const float *xhat, const float *scale, const float *shift,
             const float *slope, float *dx, int64_t rows, int64_t cols),
            (dy, xhat, scale, shift, slope, dx, rows, cols))

void ck_bn_backward_input(const float *dy, const float *xhat, const float *gamma,
                          const float *invstd, const double *sum_dy, const double *sum_dy_xhat,
                          int64_t count, float *dx, int64_t rows, int64_t cols) {
    // dx = k*dy - k*mean(dy) - xhat * k*mean(dy*xhat) with k = gamma*invstd: three per-channel
    // coefficients, so the per-element loop is two FMAs.
    enum { STACK = 256 };
    float stack[3 * STACK];
    float *coef = cols <= STACK ? stack : (float *)__builtin_alloca((size_t)(3 * cols) * sizeof(float));
    float *scale = coef, *shift = coef + cols, *slope = coef + 2 * cols;
    for (int64_t c = 0; c < cols; c++) {
        double k = (double)gamma[c] * invstd[c];
        scale[c] = (float)k;
        shift[c] = (float)(k * sum_dy[c] / (double)count);
        slope[c] = (float)(k * sum_dy_xhat[c] / (double)count);
    }
    CK_DISPATCH(bn_backward_input, (dy, xhat, scale, shift, slope, dx, rows, cols));
}
