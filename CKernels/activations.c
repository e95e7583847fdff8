// Activations with learnable parameters: forward, and a fused backward that writes dx and
// accumulates the parameter gradients in registers in the same pass.
// The affine seed is written out by hand below; the others come from activations_impl.h, compiled
// once per instruction set.
#include <math.h>

#include "internal.h"
#include "vecmath.h"

#define CK_ACT_ISA 0
#include "activations_impl.h"
#if CK_HAVE_X86
#define CK_ACT_ISA 1
#include "activations_impl.h"
#define CK_ACT_ISA 2
#include "activations_impl.h"
#endif

// MARK: the table (CKernels.h), as data

static const struct {
    const char *name;
    int always_per_channel;
} KINDS[CK_ACT_COUNT] = {
#define KIND_ROW(E, name, always_per_channel, kernel) {#name, always_per_channel},
    CK_ACTIVATIONS(KIND_ROW)
#undef KIND_ROW
};

static const struct {
    ck_activation kind;
    const char *name;
    float initial, floor;
} PARAMS[] = {
#define PARAM_ROW(E, name, initial, floor) {CK_ACT_##E, #name, initial, floor},
    CK_ACTIVATION_PARAMS(PARAM_ROW)
#undef PARAM_ROW
};
enum { PARAM_ROWS = sizeof(PARAMS) / sizeof(PARAMS[0]) };

/// The table row of parameter p of kind, or -1.
static int param_row(ck_activation kind, int p) {
    for (int i = 0, seen = 0; i < PARAM_ROWS; i++) {
        if (PARAMS[i].kind != kind) continue;
        if (seen++ == p) return i;
    }
    return -1;
}

int ck_act_param_count(ck_activation kind) {
    int n = 0;
    for (int i = 0; i < PARAM_ROWS; i++) n += PARAMS[i].kind == kind;
    return n;
}

const char *ck_act_name(ck_activation kind) {
    return (unsigned)kind < CK_ACT_COUNT ? KINDS[kind].name : NULL;
}

const char *ck_act_param_name(ck_activation kind, int p) {
    int row = param_row(kind, p);
    return row < 0 ? NULL : PARAMS[row].name;
}

float ck_act_param_initial(ck_activation kind, int p) {
    int row = param_row(kind, p);
    return row < 0 ? 0.0f : PARAMS[row].initial;
}

float ck_act_param_floor(ck_activation kind, int p) {
    int row = param_row(kind, p);
    return row < 0 ? -INFINITY : PARAMS[row].floor;
}

int ck_act_always_per_channel(ck_activation kind) {
    return (unsigned)kind < CK_ACT_COUNT ? KINDS[kind].always_per_channel : 0;
}

// MARK: affine: y = alpha + beta * x; dx = beta * dy; dalpha = sum dy; dbeta = sum dy * x.
// Per-channel parameters are handled row by row with the channel vector as the "scalar" slice.

static void affine_forward_scalar(const float *x, float *y, int64_t n, const float *alpha,
                                  const float *beta, int64_t stride) {
    for (int64_t i = 0; i < n; i++) y[i] = alpha[stride ? i : 0] + beta[stride ? i : 0] * x[i];
}

static void affine_backward_scalar(const float *x, const float *dy, float *dx, int64_t n,
                                   const float *beta, float *dalpha, float *dbeta, int64_t stride) {
    if (stride) {
        for (int64_t i = 0; i < n; i++) {
            float g = dy[i];
            dalpha[i] += g;
            dbeta[i] += g * x[i];
            dx[i] = beta[i] * g;
        }
        return;
    }
    float b = beta[0], sa = 0.0f, sb = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        float g = dy[i];
        sa += g;
        sb += g * x[i];
        dx[i] = b * g;
    }
    dalpha[0] += sa;
    dbeta[0] += sb;
}

#if CK_HAVE_X86
CK_TARGET_AVX2 static void affine_forward_avx2(const float *x, float *y, int64_t n,
                                               const float *alpha, const float *beta,
                                               int64_t stride) {
    int64_t i = 0;
    if (stride) {
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(y + i, _mm256_fmadd_ps(_mm256_loadu_ps(beta + i), _mm256_loadu_ps(x + i),
                                                    _mm256_loadu_ps(alpha + i)));
    } else {
        __m256 a = _mm256_set1_ps(alpha[0]), b = _mm256_set1_ps(beta[0]);
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(b, _mm256_loadu_ps(x + i), a));
    }
    affine_forward_scalar(x + i, y + i, n - i, stride ? alpha + i : alpha, stride ? beta + i : beta, stride);
}

CK_TARGET_AVX2 static void affine_backward_avx2(const float *x, const float *dy, float *dx, int64_t n,
                                                const float *beta, float *dalpha, float *dbeta,
                                                int64_t stride) {
    int64_t i = 0;
    if (stride) {
        for (; i + 8 <= n; i += 8) {
            __m256 g = _mm256_loadu_ps(dy + i);
            _mm256_storeu_ps(dalpha + i, _mm256_add_ps(_mm256_loadu_ps(dalpha + i), g));
            _mm256_storeu_ps(dbeta + i, _mm256_fmadd_ps(g, _mm256_loadu_ps(x + i), _mm256_loadu_ps(dbeta + i)));
            _mm256_storeu_ps(dx + i, _mm256_mul_ps(_mm256_loadu_ps(beta + i), g));
        }
        affine_backward_scalar(x + i, dy + i, dx + i, n - i, beta + i, dalpha + i, dbeta + i, 1);
        return;
    }
    __m256 b = _mm256_set1_ps(beta[0]);
    __m256 sa0 = _mm256_setzero_ps(), sa1 = sa0, sb0 = sa0, sb1 = sa0;
    for (; i + 16 <= n; i += 16) {
        __m256 g0 = _mm256_loadu_ps(dy + i), g1 = _mm256_loadu_ps(dy + i + 8);
        sa0 = _mm256_add_ps(sa0, g0);
        sa1 = _mm256_add_ps(sa1, g1);
        sb0 = _mm256_fmadd_ps(g0, _mm256_loadu_ps(x + i), sb0);
        sb1 = _mm256_fmadd_ps(g1, _mm256_loadu_ps(x + i + 8), sb1);
        _mm256_storeu_ps(dx + i, _mm256_mul_ps(b, g0));
        _mm256_storeu_ps(dx + i + 8, _mm256_mul_ps(b, g1));
    }
    dalpha[0] += ck_hsum256(_mm256_add_ps(sa0, sa1));
    dbeta[0] += ck_hsum256(_mm256_add_ps(sb0, sb1));
    affine_backward_scalar(x + i, dy + i, dx + i, n - i, beta, dalpha, dbeta, 0);
}

CK_TARGET_AVX512 static void affine_forward_avx512(const float *x, float *y, int64_t n,
                                                   const float *alpha, const float *beta,
                                                   int64_t stride) {
    int64_t i = 0;
    if (stride) {
        for (; i < n; i += 16) {
            __mmask16 m = n - i >= 16 ? 0xFFFF : ck_tail_mask16(n - i);
            __m512 v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, beta + i), _mm512_maskz_loadu_ps(m, x + i),
                                       _mm512_maskz_loadu_ps(m, alpha + i));
            _mm512_mask_storeu_ps(y + i, m, v);
        }
        return;
    }
    __m512 a = _mm512_set1_ps(alpha[0]), b = _mm512_set1_ps(beta[0]);
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xFFFF : ck_tail_mask16(n - i);
        _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(b, _mm512_maskz_loadu_ps(m, x + i), a));
    }
}

CK_TARGET_AVX512 static void affine_backward_avx512(const float *x, const float *dy, float *dx,
                                                    int64_t n, const float *beta, float *dalpha,
                                                    float *dbeta, int64_t stride) {
    int64_t i = 0;
    if (stride) {
        for (; i < n; i += 16) {
            __mmask16 m = n - i >= 16 ? 0xFFFF : ck_tail_mask16(n - i);
            __m512 g = _mm512_maskz_loadu_ps(m, dy + i);
            _mm512_mask_storeu_ps(dalpha + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, dalpha + i), g));
            _mm512_mask_storeu_ps(dbeta + i, m,
                                  _mm512_fmadd_ps(g, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, dbeta + i)));
            _mm512_mask_storeu_ps(dx + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, beta + i), g));
        }
        return;
    }
    __m512 b = _mm512_set1_ps(beta[0]);
    __m512 sa0 = _mm512_setzero_ps(), sa1 = sa0, sb0 = sa0, sb1 = sa0;
    for (; i + 32 <= n; i += 32) {
        __m512 g0 = _mm512_loadu_ps(dy + i), g1 = _mm512_loadu_ps(dy + i + 16);
        sa0 = _mm512_add_ps(sa0, g0);
        sa1 = _mm512_add_ps(sa1, g1);
        sb0 = _mm512_fmadd_ps(g0, _mm512_loadu_ps(x + i), sb0);
        sb1 = _mm512_fmadd_ps(g1, _mm512_loadu_ps(x + i + 16), sb1);
        _mm512_storeu_ps(dx + i, _mm512_mul_ps(b, g0));
        _mm512_storeu_ps(dx + i + 16, _mm512_mul_ps(b, g1));
    }
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xFFFF : ck_tail_mask16(n - i);
        __m512 g = _mm512_maskz_loadu_ps(m, dy + i);
        sa0 = _mm512_add_ps(sa0, g);
        sb0 = _mm512_fmadd_ps(g, _mm512_maskz_loadu_ps(m, x + i), sb0);
        _mm512_mask_storeu_ps(dx + i, m, _mm512_mul_ps(b, g));
    }
    dalpha[0] += ck_hsum512(_mm512_add_ps(sa0, sa1));
    dbeta[0] += ck_hsum512(_mm512_add_ps(sb0, sb1));
}
#endif

// MARK: public entry points

// MARK: dispatch: one case per row of the table

// affine: a flat loop for scalar parameters, row by row for per-channel ones.
static void affine_forward(const float *x, float *y, int64_t rows, int64_t cols, const float *params,
                           int per_channel) {
    if (!per_channel) {
        CK_DISPATCH(affine_forward, (x, y, rows * cols, params, params + 1, 0));
        return;
    }
    for (int64_t r = 0; r < rows; r++)
        CK_DISPATCH(affine_forward, (x + r * cols, y + r * cols, cols, params, params + cols, 1));
}

static void affine_backward(const float *x, const float *y, const float *dy, float *dx, int64_t rows,
                            int64_t cols, const float *params, int per_channel, float *dparams) {
    (void)y;  // affine's backward reads x only
    if (!per_channel) {
        CK_DISPATCH(affine_backward, (x, dy, dx, rows * cols, params + 1, dparams, dparams + 1, 0));
        return;
    }
    for (int64_t r = 0; r < rows; r++)
        CK_DISPATCH(affine_backward, (x + r * cols, dy + r * cols, dx + r * cols, cols, params + cols,
                                      dparams, dparams + cols, 1));
}

// softexp: with one a for the whole tensor, only the branch of its sign is evaluated.
static void softexp_forward(const float *x, float *y, int64_t rows, int64_t cols,
                            const float *params, int per_channel) {
    if (per_channel) CK_DISPATCH(softexp_fwd, (x, y, rows, cols, params, per_channel));
    else if (params[0] < 0.0f) CK_DISPATCH(softexp_neg_fwd, (x, y, rows, cols, params, per_channel));
    else CK_DISPATCH(softexp_pos_fwd, (x, y, rows, cols, params, per_channel));
}

static void softexp_backward(const float *x, const float *y, const float *dy, float *dx, int64_t rows,
                             int64_t cols, const float *params, int per_channel, float *dparams) {
    if (per_channel) CK_DISPATCH(softexp_bwd, (x, y, dy, dx, rows, cols, params, per_channel, dparams));
    else if (params[0] < 0.0f) CK_DISPATCH(softexp_neg_bwd, (x, y, dy, dx, rows, cols, params, per_channel, dparams));
    else CK_DISPATCH(softexp_pos_bwd, (x, y, dy, dx, rows, cols, params, per_channel, dparams));
}

#define FORWARD_PLAIN(name) CK_DISPATCH(name##_fwd, (x, y, rows, cols, params, per_channel))
#define FORWARD_CUSTOM(name) name##_forward(x, y, rows, cols, params, per_channel)
#define BACKWARD_PLAIN(name) CK_DISPATCH(name##_bwd, (x, y, dy, dx, rows, cols, params, per_channel, dparams))
#define BACKWARD_CUSTOM(name) name##_backward(x, y, dy, dx, rows, cols, params, per_channel, dparams)

void ck_act_forward(ck_activation kind, const float *x, float *y, int64_t rows, int64_t cols,
                    const float *params, int per_channel) {
    if (rows <= 0 || cols <= 0) return;
    switch (kind) {
#define FORWARD_CASE(E, name, always_per_channel, kernel) \
    case CK_ACT_##E: FORWARD_##kernel(name); break;
        CK_ACTIVATIONS(FORWARD_CASE)
#undef FORWARD_CASE
    default: break;
    }
}

void ck_act_backward(ck_activation kind, const float *x, const float *y, const float *dy, float *dx,
                     int64_t rows, int64_t cols, const float *params, int per_channel, float *dparams) {
    if (rows <= 0 || cols <= 0) return;
    switch (kind) {
#define BACKWARD_CASE(E, name, always_per_channel, kernel) \
    case CK_ACT_##E: BACKWARD_##kernel(name); break;
        CK_ACTIVATIONS(BACKWARD_CASE)
#undef BACKWARD_CASE
    default: break;
    }
}
