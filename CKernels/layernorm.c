// LayerNorm over the features of each row: a fused forward (statistics, normalise, affine) and a
// fused backward (input gradient and the affine parameters' gradients in one pass per row).
// Row sums run in LANES independent partial sums, so the compiler vectorises them and the order of
// the additions is fixed whatever the instruction set.
#include <math.h>
#include "internal.h"

enum { LANES = 16 };

CK_INLINE float row_sum(const float *v, int64_t n) {
    float acc[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++) acc[k] += v[i + k];
    for (; i < n; i++) acc[i % LANES] += v[i];
    float s = 0;
    for (int k = 0; k < LANES; k++) s += acc[k];
    return s;
}

CK_INLINE float row_dot(const float *a, const float *b, int64_t n) {
    float acc[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++) acc[k] += a[i + k] * b[i + k];
    for (; i < n; i++) acc[i % LANES] += a[i] * b[i];
    float s = 0;
    for (int k = 0; k < LANES; k++) s += acc[k];
    return s;
}

/// Sum of (v - mean)^2: the variance's numerator, two-pass for accuracy.
CK_INLINE float row_centered_squares(const float *v, float mean, int64_t n) {
    float acc[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++) {
            float d = v[i + k] - mean;
            acc[k] += d * d;
        }
    for (; i < n; i++) {
        float d = v[i] - mean;
        acc[i % LANES] += d * d;
    }
    float s = 0;
    for (int k = 0; k < LANES; k++) s += acc[k];
    return s;
}

CK_INLINE void ln_forward_body(const float *x, const float *gamma, const float *beta, float eps,
                               float *xhat, float *invstd, float *y, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        const float mean = row_sum(xr, cols) / (float)cols;
        const float is = 1.0f / sqrtf(row_centered_squares(xr, mean, cols) / (float)cols + eps);
        if (xhat) {
            float *hr = xhat + r * cols;
            invstd[r] = is;
            CK_INPLACE_SAFE
            for (int64_t c = 0; c < cols; c++) {
                const float h = (xr[c] - mean) * is;
                hr[c] = h;
                yr[c] = gamma[c] * h + beta[c];
            }
        } else {
            CK_INPLACE_SAFE
            for (int64_t c = 0; c < cols; c++) yr[c] = gamma[c] * ((xr[c] - mean) * is) + beta[c];
        }
    }
}
CK_VERSIONS(ln_forward,
            (const float *x, const float *gamma, const float *beta, float eps, float *xhat,
             float *invstd, float *y, int64_t rows, int64_t cols),
            (x, gamma, beta, eps, xhat, invstd, y, rows, cols))

void ck_ln_forward(const float *x, const float *gamma, const float *beta, float eps, float *xhat,
                   float *invstd, float *y, int64_t rows, int64_t cols) {
    CK_DISPATCH(ln_forward, (x, gamma, beta, eps, xhat, invstd, y, rows, cols));
}

// dxhat = dy * gamma; dx = invstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
CK_INLINE void ln_backward_body(const float *dy, const float *xhat, const float *invstd,
                                const float *gamma, float *dx, float *dgamma, float *dbeta,
                                int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++) {
        const float *dyr = dy + r * cols, *hr = xhat + r * cols;
        float *dxr = dx + r * cols;
        float acc[LANES] = {0}, accH[LANES] = {0};
        int64_t c = 0;
        for (; c + LANES <= cols; c += LANES)
            for (int k = 0; k < LANES; k++) {
                const float g = dyr[c + k] * gamma[c + k];
                acc[k] += g;
                accH[k] += g * hr[c + k];
            }
        for (; c < cols; c++) {
            const float g = dyr[c] * gamma[c];
            acc[c % LANES] += g;
            accH[c % LANES] += g * hr[c];
        }
        float sum = 0, sumH = 0;
        for (int k = 0; k < LANES; k++) {
            sum += acc[k];
            sumH += accH[k];
        }
        const float meanG = sum / (float)cols, meanGH = sumH / (float)cols, is = invstd[r];
        for (int64_t j = 0; j < cols; j++) {
            dgamma[j] += dyr[j] * hr[j];
            dbeta[j] += dyr[j];
        }
        CK_INPLACE_SAFE
        for (int64_t j = 0; j < cols; j++) dxr[j] = is * (dyr[j] * gamma[j] - meanG - hr[j] * meanGH);
    }
}
CK_VERSIONS(ln_backward,
            (const float *dy, const float *xhat, const float *invstd, const float *gamma, float *dx,
             float *dgamma, float *dbeta, int64_t rows, int64_t cols),
            (dy, xhat, invstd, gamma, dx, dgamma, dbeta, rows, cols))

void ck_ln_backward(const float *dy, const float *xhat, const float *invstd, const float *gamma,
                    float *dx, float *dgamma, float *dbeta, int64_t rows, int64_t cols) {
    CK_DISPATCH(ln_backward, (dy, xhat, invstd, gamma, dx, dgamma, dbeta, rows, cols));
}
