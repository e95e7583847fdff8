// GEMM and the Linear layer's three products. (Reference implementation; the packed SIMD version
// replaces the body of ck_sgemm.)
#include <string.h>
#include "internal.h"

void ck_sgemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
              const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
              int64_t ldc) {
    for (int64_t i = 0; i < M; i++) {
        for (int64_t j = 0; j < N; j++) {
            float acc = 0.0f;
            for (int64_t k = 0; k < K; k++) {
                float a = trans_a ? A[k * lda + i] : A[i * lda + k];
                float b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
                acc += a * b;
            }
            C[i * ldc + j] = alpha * acc + (beta == 0.0f ? 0.0f : beta * C[i * ldc + j]);
        }
    }
}

void ck_linear_forward(const float *X, const float *W, const float *b, float *Y, int64_t n,
                       int64_t in, int64_t out) {
    if (b) {
        for (int64_t r = 0; r < n; r++) memcpy(Y + r * out, b, (size_t)out * sizeof(float));
        ck_sgemm(0, 1, n, out, in, 1.0f, X, in, W, in, 1.0f, Y, out);
    } else {
        ck_sgemm(0, 1, n, out, in, 1.0f, X, in, W, in, 0.0f, Y, out);
    }
}

void ck_linear_backward(const float *X, const float *W, const float *dY, float *dX, float *dW,
                        float *db, int64_t n, int64_t in, int64_t out) {
    if (dX) ck_sgemm(0, 0, n, in, out, 1.0f, dY, out, W, in, 0.0f, dX, in);
    ck_sgemm(1, 0, out, in, n, 1.0f, dY, out, X, in, 1.0f, dW, in);
    if (db)
        for (int64_t r = 0; r < n; r++)
            for (int64_t j = 0; j < out; j++) db[j] += dY[r * out + j];
}
