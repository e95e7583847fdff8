// CKernels: the hot loops of the trainer. Every kernel's contract is here.
//
// Conventions, for every function below unless it says otherwise:
// - Matrices are dense, row-major float32; `rows` is the batch dimension, `cols` the channels.
// - Counts are int64_t; buffers never alias unless a comment allows it.
// - "accumulates" means `+=` into the output (gradient buffers are zeroed by the caller once per step);
//   "writes" means the output is overwritten.
// - Kernels are single-threaded unless their comment names OpenMP: the Swift worker pool parallelises
//   across shards, and OpenMP inside a worker would oversubscribe the cores.
// - Each kernel family has a scalar reference and AVX2+FMA / AVX-512 versions, chosen at run time (see
//   "Run-time dispatch"); all versions agree with the reference to float rounding.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Run-time dispatch (dispatch.c)

typedef enum {
    CK_ISA_SCALAR = 0,  // portable C, the reference every other version is tested against
    CK_ISA_AVX2 = 1,    // AVX2 + FMA
    CK_ISA_AVX512 = 2,  // AVX-512 F/BW/DQ/VL
} ck_isa;

/// The best instruction set this CPU supports (detected once, with __builtin_cpu_supports).
ck_isa ck_isa_best(void);
/// 1 when this CPU can run `isa`.
int ck_isa_supported(ck_isa isa);
/// The instruction set kernels use now (initially ck_isa_best()).
ck_isa ck_isa_active(void);
/// Makes kernels use `isa` (clamped to what the CPU supports); returns the one now active.
/// Meant for tests and benchmarks that compare versions; not thread-safe against running kernels.
ck_isa ck_isa_force(ck_isa isa);
/// "scalar", "avx2", "avx512".
const char *ck_isa_name(ck_isa isa);

// MARK: - GEMM (gemm.c)

/// C[M,N] = alpha * op(A) * op(B) + beta * C, op(X) = X or X^T (trans_a / trans_b nonzero).
/// A is M x K (trans_a = 0, leading dimension lda) or K x M (trans_a = 1); B is K x N or N x K.
/// beta = 0 means C is written without being read (NaNs in C do not propagate); alpha = 0 or K = 0
/// reads neither A nor B. Any M, N, K >= 0.
/// Blocked and packed (BLIS style) around a SIMD micro-kernel; products with a tiny dimension skip
/// the packing. Packing buffers are per thread, grown to the largest block seen and kept for the
/// thread's lifetime (no allocation on the hot path). Single-threaded.
void ck_sgemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
              const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
              float *C, int64_t ldc);

/// Linear layer forward: Y[n,out] = X[n,in] * W[out,in]^T + b[out] (b may be NULL). Writes Y.
void ck_linear_forward(const float *X, const float *W, const float *b, float *Y,
                       int64_t n, int64_t in, int64_t out);
/// Linear layer backward. dX[n,in] = dY[n,out] * W[out,in] (written; dX may be NULL to skip);
/// dW[out,in] += dY^T X and db[out] += column sums of dY (accumulated; db may be NULL).
void ck_linear_backward(const float *X, const float *W, const float *dY, float *dX, float *dW,
                        float *db, int64_t n, int64_t in, int64_t out);

// MARK: - Activations with learnable parameters (activations.c)

typedef enum {
    CK_ACT_AFFINE = 0,  // y = alpha + beta*x;                       params: alpha, beta
} ck_activation;

/// Number of learnable parameters of `kind` per scalar/channel slot (affine: 2).
int ck_act_param_count(ck_activation kind);

/// y[rows,cols] = g(x; params). Writes y (y may equal x).
/// Parameter layout: parameter p of a scalar-parameter activation (per_channel = 0) is params[p];
/// with per_channel = 1 it is params[p * cols + c] for channel c.
void ck_act_forward(ck_activation kind, const float *x, float *y, int64_t rows, int64_t cols,
                    const float *params, int per_channel);

/// Fused backward, one pass: writes dx = dy * dg/dx and accumulates the parameter gradients
/// dparams[...] += sum over the elements of dy * dg/dparam (same layout as params).
/// dx may equal dy.
void ck_act_backward(ck_activation kind, const float *x, const float *dy, float *dx,
                     int64_t rows, int64_t cols, const float *params, int per_channel,
                     float *dparams);

// MARK: - BatchNorm1d (batchnorm.c)
// Statistics over the whole mini-batch are combined from per-shard partial sums (in double), so a
// batch cut into shards normalises exactly as the uncut batch would (synchronised BatchNorm).

/// Accumulates per-channel partial sums of x[rows,cols]: sum[c] += sum_r x, sumsq[c] += sum_r x^2.
void ck_bn_partial_stats(const float *x, int64_t rows, int64_t cols, double *sum, double *sumsq);

/// From the whole batch's sums over `count` rows: mean[c] and invstd[c] = 1/sqrt(var_biased + eps);
/// when running_mean/running_var are non-NULL, updates them with `momentum` using the unbiased
/// variance (count/(count-1) * var), as PyTorch does.
void ck_bn_finish_stats(const double *sum, const double *sumsq, int64_t count, int64_t cols,
                        float eps, float momentum, float *mean, float *invstd,
                        float *running_mean, float *running_var);

/// Eval-mode statistics: mean = running_mean, invstd = 1/sqrt(running_var + eps).
void ck_bn_eval_stats(const float *running_mean, const float *running_var, int64_t cols, float eps,
                      float *mean, float *invstd);

/// y = gamma * (x - mean) * invstd + beta; also writes xhat = (x - mean) * invstd when xhat is
/// non-NULL (the backward needs it). y may equal x.
void ck_bn_forward(const float *x, const float *mean, const float *invstd, const float *gamma,
                   const float *beta, float *xhat, float *y, int64_t rows, int64_t cols);

/// Backward partial sums: sum_dy[c] += sum_r dy, sum_dy_xhat[c] += sum_r dy * xhat.
/// Their whole-batch totals are also dbeta and dgamma.
void ck_bn_backward_partials(const float *dy, const float *xhat, int64_t rows, int64_t cols,
                             double *sum_dy, double *sum_dy_xhat);

/// dx = gamma * invstd / count * (count * dy - sum_dy - xhat * sum_dy_xhat), with the whole batch's
/// sums and row count. Writes dx (dx may equal dy).
void ck_bn_backward_input(const float *dy, const float *xhat, const float *gamma,
                          const float *invstd, const double *sum_dy, const double *sum_dy_xhat,
                          int64_t count, float *dx, int64_t rows, int64_t cols);

// MARK: - Dropout (dropout.c)
// The keep/drop decision for an element is a pure function of (seed, step, layer, global row,
// column): a counter-based hash, so it does not depend on which thread or shard draws it.

/// y = x * mask / (1 - p) for rows [row0, row0 + rows) of the batch. y may equal x. p in [0, 1).
void ck_dropout_forward(const float *x, float *y, int64_t rows, int64_t cols, float p,
                        uint64_t seed, uint64_t step, uint32_t layer, int64_t row0);
/// dx = dy * mask / (1 - p), the same mask as the forward with the same arguments.
void ck_dropout_backward(const float *dy, float *dx, int64_t rows, int64_t cols, float p,
                         uint64_t seed, uint64_t step, uint32_t layer, int64_t row0);
/// 1 when element (row, col) is kept: the mask the two functions above apply.
int ck_dropout_keep(float p, uint64_t seed, uint64_t step, uint32_t layer, int64_t row,
                    int64_t col);

// MARK: - Loss (loss.c)

/// Fused log-softmax + negative log-likelihood over logits[rows,classes]: writes logprobs (may be
/// NULL) and returns the sum over rows of -logprob[label] (in double, not yet divided).
/// When dlogits is non-NULL, writes dlogits = (softmax - onehot(label)) * scale (scale = 1/N for a
/// mean over N rows of the whole batch).
double ck_logsoftmax_nll(const float *logits, const int32_t *labels, int64_t rows, int64_t classes,
                         float *logprobs, float *dlogits, float scale);

// MARK: - Optimizers (optimizer.c): one fused loop over the flat parameter buffer

/// Adam (PyTorch's torch.optim.Adam, L2 weight decay added to the gradient): for i in [0, n):
/// g = grad + wd*param; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
/// param -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps). `t` is the step number, from 1.
void ck_adam_step(float *param, const float *grad, float *m, float *v, int64_t n, float lr,
                  float beta1, float beta2, float eps, float weight_decay, int64_t t);

/// SGD with momentum (PyTorch's torch.optim.SGD, dampening 0, not Nesterov):
/// g = grad + wd*param; buf = first_step ? g : momentum*buf + g; param -= lr*buf.
/// With momentum = 0 the buffer is not touched (may be NULL).
void ck_sgd_step(float *param, const float *grad, float *buf, int64_t n, float lr, float momentum,
                 float weight_decay, int first_step);

// MARK: - Reductions (reduce.c)

/// out[i] = sum over s in [0, count) of parts[s][i], added in index order s = 0, 1, 2, ... so the
/// result does not depend on who calls it; for i in [begin, end). Callers split [0, n) into chunks.
void ck_sum_arrays(const float *const *parts, int64_t count, float *out, int64_t begin,
                   int64_t end);

#ifdef __cplusplus
}
#endif

#endif
