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
/// beta = 0 means C is written without being read (NaNs in C do not propagate). Any M, N, K >= 0.
/// Blocked and packed (BLIS style) around a SIMD micro-kernel. Single-threaded.
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

// MARK: - Activations (activations.c, activations_impl.h, vecmath.h)
// Each activation is a forward / fused-backward pair. ck_act_backward gets the activation's INPUT x
// (not its output y), and in one pass writes dx and accumulates the parameter gradients.
// Elementary functions on the AVX2 / AVX-512 paths come from vecmath.h (<= 1.5 ulp exp/log,
// <= 7.5 ulp erf, <= 2.5 ulp rsqrt and reciprocal) and the scalar reference uses libm, so the
// versions agree to a few float ulps (not bit for bit) on the transcendental activations.
// Parameter p has the checkpoint name a{i}.<ck_act_param_name(kind, p)>.

typedef enum {
    /// y = alpha + beta*x.                                 params: alpha, beta
    CK_ACT_AFFINE = 0,
    /// Soft exponential (Godfrey & Gashler 2015), params: alpha (= a; checkpoint name "alpha"):
    ///   a > 0: y = (exp(a x) - 1)/a + a;  a = 0: y = x;  a < 0: y = -ln(1 - a (x + a))/a.
    /// dy/da is exact in the limit a -> 0 (= x^2/2 + 1 at a = 0) so a can leave 0: near a = 0
    /// (|a x| <= 1/2, resp. |a (x + a)| <= 1/4) y and dy/da come from their power series instead
    /// of the cancelling closed forms. Domain for a < 0: where 1 - a (x + a) <= CK_ACT_SOFTEXP_MIN_LOG_ARG
    /// (very negative x) the argument of ln is clamped to CK_ACT_SOFTEXP_MIN_LOG_ARG, so
    /// y = -ln(CK_ACT_SOFTEXP_MIN_LOG_ARG)/a (finite, saturated), and dx = 0 and dalpha gets 0 there.
    /// For a > 0, y and dx overflow to +inf for a x > ~88.7, as PyTorch's float does.
    CK_ACT_SOFTEXP = 1,
    /// S-shaped ReLU (Jin et al. 2016), params t_left, a_left, t_right, a_right (one per channel:
    /// callers pass per_channel = 1, see ck_act_always_per_channel):
    ///   y = t_right + a_right (x - t_right)  if x >= t_right,
    ///       t_left + a_left (x - t_left)     else if x <= t_left,
    ///       x                                otherwise.
    /// Computed as y = x + (a_left - 1) min(x - t_left, 0) + (a_right - 1) max(x - t_right, 0), so
    /// should the thresholds cross (t_left > t_right) both outer pieces add. The backward takes the
    /// outer piece's slope at ties (x == t).
    CK_ACT_SRELU = 2,
    /// Bipolar ReLU (Eidnes & Nokland 2017): relu(x) on even channels c (0, 2, ...), -relu(-x) on
    /// odd ones; the channel is the column index within a row. Subgradient 0 at x = 0. No params.
    CK_ACT_BRELU = 3,
    /// Inverse square root unit: y = x / sqrt(1 + a x^2), param alpha (= a). Requires a >= 0 (a > 0
    /// for the ISRU proper): the kernel uses a as given (a < 0 gives NaN where 1 + a x^2 <= 0); the
    /// trainer keeps a positive by clamping it to a small positive floor after each optimizer step.
    CK_ACT_ISRU = 4,
    /// y = x * sigmoid(b x), param beta (= b).
    CK_ACT_SWISH = 5,
    /// y = x * sigmoid(x) (swish with b fixed at 1). No params.
    CK_ACT_SILU = 6,
    /// y = max(x, 0); subgradient 0 at 0. No params.
    CK_ACT_RELU = 7,
    /// y = x for x > 0, CK_ACT_LEAKY_SLOPE * x otherwise (PyTorch's default slope 0.01). No params.
    CK_ACT_LEAKY_RELU = 8,
    /// y = tanh(x); dx = dy (1 - tanh(x)^2), computed from x as 4 e/(1 + e)^2, e = exp(-2|x|). No params.
    CK_ACT_TANH = 9,
    /// y = 1 / (1 + exp(-x)). No params.
    CK_ACT_SIGMOID = 10,
    /// Exact GELU, PyTorch's default (approximate='none'): y = x * (1 + erf(x / sqrt(2))) / 2.
    /// No params.
    CK_ACT_GELU = 11,
    CK_ACT_COUNT = 12  // number of activations; not one itself
} ck_activation;

/// The negative slope of CK_ACT_LEAKY_RELU.
#define CK_ACT_LEAKY_SLOPE 0.01f
/// Lower clamp of the argument of ln in CK_ACT_SOFTEXP for a < 0 (see there).
#define CK_ACT_SOFTEXP_MIN_LOG_ARG 1e-6f

/// Number of learnable parameters of `kind` per scalar/channel slot (affine 2, softexp 1, srelu 4,
/// isru 1, swish 1, the others 0).
int ck_act_param_count(ck_activation kind);

/// "affine", "softexp", "srelu", "brelu", "isru", "swish", "silu", "relu", "leaky_relu", "tanh",
/// "sigmoid", "gelu"; NULL for a value outside the enum.
const char *ck_act_name(ck_activation kind);

/// Checkpoint name of parameter p (0 <= p < ck_act_param_count): affine "alpha", "beta"; softexp and
/// isru "alpha"; swish "beta"; srelu "t_left", "a_left", "t_right", "a_right". NULL otherwise.
const char *ck_act_param_name(ck_activation kind, int p);

/// 1 when the activation's parameters are always per channel (srelu), 0 when the caller chooses.
int ck_act_always_per_channel(ck_activation kind);

/// y[rows,cols] = g(x; params). Writes y (y may equal x).
/// Parameter layout: parameter p of a scalar-parameter activation (per_channel = 0) is params[p];
/// with per_channel = 1 it is params[p * cols + c] for channel c. Activations without parameters
/// ignore params (may be NULL) and per_channel.
void ck_act_forward(ck_activation kind, const float *x, float *y, int64_t rows, int64_t cols,
                    const float *params, int per_channel);

/// Fused backward, one pass: writes dx = dy * dg/dx (x is the forward's input) and accumulates the
/// parameter gradients dparams[...] += sum over the elements of dy * dg/dparam (same layout as
/// params; may be NULL for activations without parameters). dx may equal dy.
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
/// 1 when element (row, col) of a layer with `cols` columns is kept: the mask the two functions
/// above apply.
int ck_dropout_keep(float p, uint64_t seed, uint64_t step, uint32_t layer, int64_t row,
                    int64_t col, int64_t cols);

// MARK: - Loss (loss.c)

/// Fused log-softmax + negative log-likelihood over logits[rows,classes]: writes logprobs (may be
/// NULL) and returns the sum over rows of -logprob[label] (in double, not yet divided).
/// When dlogits is non-NULL, writes dlogits = (softmax - onehot(label)) * scale (scale = 1/N for a
/// mean over N rows of the whole batch).
/// When correct is non-NULL, adds the number of rows whose argmax (first on ties) is the label.
double ck_logsoftmax_nll(const float *logits, const int32_t *labels, int64_t rows, int64_t classes,
                         float *logprobs, float *dlogits, float scale, int64_t *correct);

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

// MARK: - Barrier (barrier.c): the worker pool's synchronisation point

typedef struct ck_barrier ck_barrier;

/// A barrier for `parties` threads that spins `spin` times before sleeping on a futex (use 0 when
/// there are more threads than cores). Reusable: every wait is a new round.
ck_barrier *ck_barrier_create(int parties, int spin);
void ck_barrier_destroy(ck_barrier *b);
/// Returns once all parties have called it in this round. Full memory barrier: what a thread wrote
/// before the call is visible to every thread after it.
void ck_barrier_wait(ck_barrier *b);

#ifdef __cplusplus
}
#endif

#endif
