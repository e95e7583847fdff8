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
/// The instruction set kernels called from this thread use (initially ck_isa_best()).
ck_isa ck_isa_active(void);
/// Makes kernels called from this thread use `isa` (clamped to what the CPU supports); returns the
/// one now active. For tests and benchmarks that compare versions; other threads are unaffected.
ck_isa ck_isa_force(ck_isa isa);
/// "scalar", "avx2", "avx512".
const char *ck_isa_name(ck_isa isa);

// MARK: - OpenMP runtime (openmp_info.c)

/// "OpenMP <_OPENMP date> (<runtime library path>), <N> threads by default", or "none (built without
/// OpenMP)". The text is static; not thread-safe on first use.
const char *ck_openmp_runtime(void);

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
/// dW[out,in] += dY^T X and db[out] += column sums of dY (accumulated; db may be NULL; dW NULL skips
/// both, and X may then be NULL).
void ck_linear_backward(const float *X, const float *W, const float *dY, float *dX, float *dW,
                        float *db, int64_t n, int64_t in, int64_t out);

// MARK: - Activations (activations.c, activations_impl.h, vecmath.h)
// Each activation is a forward / fused-backward pair. ck_act_backward gets the activation's input x
// and its output y (the training step keeps both: y is the next layer's input), and in one pass
// writes dx and accumulates the parameter gradients. Derivatives are taken from x, which keeps them
// accurate where a formula in y would cancel (sigmoid's y (1 - y) as y -> 1); softexp and gelu read
// y, where it spares the backward a logarithm (softexp, a < 0: ln(u) = -a y) or a rational function
// (gelu: Phi(x) = y/x, a quotient that does not cancel).
// Elementary functions on the AVX2 / AVX-512 paths come from vecmath.h (<= 2.5 ulp exp/expm1/log,
// <= 7.5 ulp erf, <= 2.5 ulp rsqrt and reciprocal) and the scalar reference uses libm, so the
// versions agree to a few float ulps (not bit for bit) on the transcendental activations.
// Issue 16's fifth round moved results by about an ulp (so models trained with these kinds are not
// byte-identical to earlier versions'; thread-count determinism holds): sigmoid, silu and swish
// forward as v e/(1 + e) in one division (e = exp(-|z|)), sigmoid's backward as dy e/(1 + e)^2,
// gelu's backward from y, softexp's a > 0 dalpha;
// AVX-512 expm1 at half scale gives the same bits but for subnormal results and e^x's last stretch
// below overflow (88.38-88.72: tanh is unchanged).
// Worst errors against double references (ActivationTests sweeps, ulps of max(|r|, 1), y / dx),
// before -> after, AVX-512: sigmoid 0.75 / 0.47 -> 0.75 / 0.34, silu 1.89 / 1.45 -> 1.45 / 1.45,
// swish (b = 1.3) 1.85 / 1.46 -> 1.46 / 1.46, gelu dx 1.69 -> 2.01, tanh and softexp unchanged;
// AVX2: sigmoid dx 0.74 -> 0.46, gelu dx 1.92 -> 2.13, the others unchanged.
// Parameter p has the checkpoint name a{i}.<ck_act_param_name(kind, p)>.

// The activation table: everything about an activation but its arithmetic. Every list of
// activations (the enum, the names, the parameters, the dispatch, the trainer's defaults and floors,
// the tests) derives from these two X-macros (ARCHITECTURE.md, "How to add an activation").
//
// CK_ACTIVATIONS(X): X(ENUM, name, always_per_channel, kernel), in enum order. always_per_channel:
// the parameters are one per channel whatever the caller asks. kernel: PLAIN when activations_impl.h
// defines name_fwd / name_bwd (one body per instruction set), CUSTOM when activations.c defines
// name_forward / name_backward (affine and softexp choose a variant first).
#define CK_ACTIVATIONS(X)                                                                        \
    /* y = alpha + beta*x. */                                                                    \
    X(AFFINE, affine, 0, CUSTOM)                                                                 \
    /* Soft exponential (Godfrey & Gashler 2015), a = alpha:                                     \
       a > 0: y = (exp(a x) - 1)/a + a;  a = 0: y = x;  a < 0: y = -ln(1 - a (x + a))/a.         \
       dy/da is exact in the limit a -> 0 (= x^2/2 + 1 at a = 0) so a can leave 0: near a = 0    \
       (|a x| <= 1/2, resp. |a (x + a)| <= 1/8) dy/da comes from its power series instead of the \
       cancelling closed form, and y keeps its relative accuracy (expm1, resp. ln(1 - a (x + a)) \
       with the rounding of its argument added back). The backward reads y (a < 0). For a < 0,  \
       where 1 - a (x + a) <= CK_ACT_SOFTEXP_MIN_LOG_ARG (very negative x) the argument of ln is \
       clamped to it, so y = -ln(CK_ACT_SOFTEXP_MIN_LOG_ARG)/a \
       (finite, saturated), and dx = 0 and dalpha gets 0 there. For a > 0, y and dx overflow to  \
       +inf for a x > ~88.72, as PyTorch; dalpha's terms dy dy/da only                          \
       where they do themselves (dy/da alone overflows first, from a x ~ 84 at a = 0.3). */     \
    X(SOFTEXP, softexp, 0, CUSTOM)                                                               \
    /* S-shaped ReLU (Jin et al. 2016), one parameter set per channel:                           \
       y = t_right + a_right (x - t_right) if x >= t_right, t_left + a_left (x - t_left) else if  \
       x <= t_left, x otherwise; computed as y = x + (a_left - 1) min(x - t_left, 0) +           \
       (a_right - 1) max(x - t_right, 0), so should the thresholds cross both outer pieces add.  \
       The backward takes the outer piece's slope at ties (x == t). */                           \
    X(SRELU, srelu, 1, PLAIN)                                                                    \
    /* Bipolar ReLU (Eidnes & Nokland 2017): relu(x) on even channels c (0, 2, ...), -relu(-x)   \
       on odd ones (the column index within a row). Subgradient 0 at x = 0. */                   \
    X(BRELU, brelu, 0, PLAIN)                                                                    \
    /* Inverse square root unit: y = x / sqrt(1 + a x^2), a = alpha >= 0 (the kernel uses a as   \
       given: a < 0 gives NaN where 1 + a x^2 <= 0; the trainer keeps a at its floor or above). */ \
    X(ISRU, isru, 0, PLAIN)                                                                      \
    /* y = x * sigmoid(b x), b = beta. */                                                        \
    X(SWISH, swish, 0, PLAIN)                                                                    \
    /* y = x * sigmoid(x) (swish with b fixed at 1). */                                          \
    X(SILU, silu, 0, PLAIN)                                                                      \
    /* y = max(x, 0); subgradient 0 at 0. */                                                     \
    X(RELU, relu, 0, PLAIN)                                                                      \
    /* y = x for x > 0, CK_ACT_LEAKY_SLOPE * x otherwise (PyTorch's default slope 0.01). */     \
    X(LEAKY_RELU, leaky_relu, 0, PLAIN)                                                          \
    /* y = tanh(x); dx = dy (1 - tanh(x)^2), computed from x as 4 e/(1 + e)^2, e = exp(-2|x|). */ \
    X(TANH, tanh, 0, PLAIN)                                                                      \
    /* y = 1 / (1 + exp(-x)). */                                                                 \
    X(SIGMOID, sigmoid, 0, PLAIN)                                                                \
    /* Exact GELU, PyTorch's default (approximate='none'): y = x * (1 + erf(x / sqrt(2))) / 2.   \
       The backward reads y: Phi(x) = y/x (1/2 for |x| <= 2^-100). */                           \
    X(GELU, gelu, 0, PLAIN)

// CK_ACTIVATION_PARAMS(P): P(ENUM, name, initial, floor), one row per learnable parameter, in the
// kernel's order. name: the checkpoint's a{i}.<name>; initial: the trainer's default initial value;
// floor: the lowest value the trainer allows (it clamps after every optimizer step), -INFINITY for none.
// The defaults: the identity for affine, the linear limit for softexp, an S shape for srelu (identity
// between -1 and 1, slopes 0.2 and 1 outside), ISRU's and swish's usual 1.
#define CK_ACTIVATION_PARAMS(P)        \
    P(AFFINE, alpha, 0.0f, -INFINITY)  \
    P(AFFINE, beta, 1.0f, -INFINITY)   \
    P(SOFTEXP, alpha, 0.0f, -INFINITY) \
    P(SRELU, t_left, -1.0f, -INFINITY) \
    P(SRELU, a_left, 0.2f, -INFINITY)  \
    P(SRELU, t_right, 1.0f, -INFINITY) \
    P(SRELU, a_right, 1.0f, -INFINITY) \
    P(ISRU, alpha, 1.0f, 1e-4f)        \
    P(SWISH, beta, 1.0f, -INFINITY)

typedef enum {
#define CK_ACT_ENUM_CASE(E, name, always_per_channel, kernel) CK_ACT_##E,
    CK_ACTIVATIONS(CK_ACT_ENUM_CASE)
#undef CK_ACT_ENUM_CASE
    CK_ACT_COUNT  // number of activations; not one itself
} ck_activation;

/// The negative slope of CK_ACT_LEAKY_RELU.
#define CK_ACT_LEAKY_SLOPE 0.01f
/// Lower clamp of the argument of ln in CK_ACT_SOFTEXP for a < 0 (see there).
#define CK_ACT_SOFTEXP_MIN_LOG_ARG 1e-6f

/// Number of learnable parameters of `kind` per scalar/channel slot (its rows in the table).
int ck_act_param_count(ck_activation kind);
/// The table's name ("affine", "softexp", ...); NULL for a value outside the enum.
const char *ck_act_name(ck_activation kind);
/// Checkpoint name of parameter p (0 <= p < ck_act_param_count); NULL otherwise.
const char *ck_act_param_name(ck_activation kind, int p);
/// The table's default initial value of parameter p (0 when there is no such parameter).
float ck_act_param_initial(ck_activation kind, int p);
/// The table's floor of parameter p: -INFINITY when it has none (or there is no such parameter).
float ck_act_param_floor(ck_activation kind, int p);
/// 1 when the activation's parameters are always per channel (srelu), 0 when the caller chooses.
int ck_act_always_per_channel(ck_activation kind);

/// y[rows,cols] = g(x; params). Writes y (y may equal x).
/// Parameter layout: parameter p of a scalar-parameter activation (per_channel = 0) is params[p];
/// with per_channel = 1 it is params[p * cols + c] for channel c. Activations without parameters
/// ignore params (may be NULL) and per_channel.
void ck_act_forward(ck_activation kind, const float *x, float *y, int64_t rows, int64_t cols,
                    const float *params, int per_channel);

/// Fused backward, one pass: writes dx = dy * dg/dx (x is the forward's input, y = g(x) its output
/// from ck_act_forward with the same params) and accumulates the parameter gradients
/// dparams[...] += sum over the elements of dy * dg/dparam (same layout as params; may be NULL for
/// activations without parameters). y is read by CK_ACT_SOFTEXP and CK_ACT_GELU only and may be
/// NULL for the other kinds. dx may equal dy.
void ck_act_backward(ck_activation kind, const float *x, const float *y, const float *dy, float *dx,
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

// MARK: - Fused narrow blocks (narrow_block.c)
// The element-wise passes of a narrow Linear -> activation -> BatchNorm -> [Dropout] block over one
// block of rows, each one loop over z, the Linear's output (ARCHITECTURE.md, "Fused narrow blocks").
// The same arithmetic as the unfused kernels; xhat and the masks are recomputed bit for bit.

/// What the passes apply to z. The activation as a = alpha + beta * z (affine; alpha = 0, beta = 1
/// with z already the activation's output, for the other kinds); alpha and beta hold cols values
/// when act_per_channel, else one. BatchNorm's batch mean and 1/std per channel, gamma and its shift
/// (beta). Dropout with probability p (0: none), its mask keyed as ck_dropout_forward's.
typedef struct {
    const float *alpha, *beta;
    int32_t act_per_channel;
    const float *mean, *invstd, *gamma, *shift;
    float p;
    uint32_t layer;
    uint64_t seed, step;
} ck_narrow_block;

/// A block's coefficients laid out for the passes, made once per phase and used for every block of
/// rows (opaque; ck_narrow_plan_size() bytes, 16-byte aligned).
typedef struct ck_narrow_plan ck_narrow_plan;
size_t ck_narrow_plan_size(void);
/// Fills `plan` for rows of cols (<= 32) channels. sum_dy and sum_dy_xhat, the whole batch's sums over
/// `count` rows, only for ck_narrow_backward_input (else NULL).
void ck_narrow_plan_make(ck_narrow_plan *plan, const ck_narrow_block *b, int64_t cols, const double *sum_dy,
                         const double *sum_dy_xhat, int64_t count);

/// BatchNorm's partial sums of a = alpha + beta * z: sum[c] += sum_r a, sumsq[c] += sum_r a^2.
void ck_narrow_stats(const ck_narrow_plan *plan, const float *z, int64_t rows, double *sum, double *sumsq);
/// The dropout mask's keep bits of a block's whole 16-row groups, one word per 16 elements, for the
/// backward to read instead of hashing the mask again: the words `rows` rows of cols channels take
/// (the rows after the last whole group, fewer than 16, are hashed in both passes).
int64_t ck_narrow_keep_words(int64_t rows, int64_t cols);
/// y = dropout(gamma * xhat + shift), xhat = (a - mean) * invstd, for rows from row `row0` of the
/// batch (which keys the mask); with `keep` (else NULL), the mask's bits stored there.
void ck_narrow_forward(const ck_narrow_plan *plan, int64_t row0, const float *z, float *y, int64_t rows, uint16_t *keep);
/// dy (d loss / d block output) masked in place into d loss / d(BatchNorm's output); then
/// sum_dy[c] += sum_r dy, sum_dy_xhat[c] += sum_r dy * xhat. With y (else NULL), also writes the
/// block's output there, as ck_narrow_forward (a chained block recomputes its input in the same pass
/// that masks its predecessor's gradient: the mask is computed once for both). With `keep` (else
/// NULL), the mask is the bits ck_narrow_forward stored for the same rows under the same plan's mask.
void ck_narrow_backward_sums(const ck_narrow_plan *plan, int64_t row0, const float *z, float *y, float *dy, int64_t rows,
                             const uint16_t *keep, double *sum_dy, double *sum_dy_xhat);
/// da = d loss / d a, BatchNorm's input gradient (as ck_bn_backward_input) from the masked dy and the
/// recomputed xhat. da may equal dy or z.
void ck_narrow_backward_input(const ck_narrow_plan *plan, const float *z, const float *dy, float *da, int64_t rows);

// MARK: - LayerNorm (layernorm.c)
// Normalises each row over its `cols` features (no cross-row statistics, so no cross-shard sums).

/// y = gamma * xhat + beta, xhat = (x - mean_row) * invstd_row, invstd_row = 1/sqrt(var_row + eps)
/// (biased variance, as PyTorch's LayerNorm). When xhat is non-NULL also writes xhat[rows,cols] and
/// invstd[rows] for the backward (invstd must then be non-NULL). y may equal x.
void ck_ln_forward(const float *x, const float *gamma, const float *beta, float eps, float *xhat,
                   float *invstd, float *y, int64_t rows, int64_t cols);
/// Fused backward: writes dx = invstd * (g - mean_row(g) - xhat * mean_row(g * xhat)), g = dy * gamma,
/// and accumulates dgamma[c] += sum_r dy * xhat, dbeta[c] += sum_r dy. dx may equal dy.
void ck_ln_backward(const float *dy, const float *xhat, const float *invstd, const float *gamma,
                    float *dx, float *dgamma, float *dbeta, int64_t rows, int64_t cols);

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
/// ck_logsoftmax_nll with class weights (`weights[classes]`, NULL: all 1): returns the sum over rows
/// of w[label] * -logprob[label] and writes dlogits = (softmax - onehot(label)) * w[label] * scale
/// (scale = 1/sum of w[label] over the whole batch for PyTorch's CrossEntropyLoss(weight=w)).
double ck_logsoftmax_nll_weighted(const float *logits, const int32_t *labels, int64_t rows, int64_t classes,
                                  const float *weights, float *logprobs, float *dlogits, float scale,
                                  int64_t *correct);

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

// MARK: - Reductions (reduce.c): the shard-tree sum

/// out[i] = the sum over s in [0, count) of parts[s][i], for i in [begin, end), added along one fixed
/// pairwise tree over s: a node over n > 1 leaves adds its left child (the first largest power of two
/// below n leaves) and its right child (the rest). The result does not depend on who calls it, and a
/// group of 2^k leaves starting at a multiple of 2^k is a subtree: summing such groups first and then
/// the groups' sums with this same function gives the same bits (ARCHITECTURE.md, "Determinism").
/// count = 0 writes zeros. Callers split [0, n) into chunks.
void ck_tree_sum(const float *const *parts, int64_t count, float *out, int64_t begin, int64_t end);
/// ck_tree_sum in double (BatchNorm's partial sums, losses).
void ck_tree_sum_f64(const double *const *parts, int64_t count, double *out, int64_t begin,
                     int64_t end);

// MARK: - Barrier (barrier.c): the worker pool's synchronisation point

typedef struct ck_barrier ck_barrier;

/// A barrier for `parties` threads. A waiter checks `spin` times before it sleeps on a futex,
/// pausing between checks, or with `yield` nonzero giving its core away (sched_yield: for more
/// threads than cores). Reusable: every wait is a new round.
ck_barrier *ck_barrier_create(int parties, int spin, int yield);
void ck_barrier_destroy(ck_barrier *b);
/// Returns once all parties have called it in this round. Full memory barrier: what a thread wrote
/// before the call is visible to every thread after it.
void ck_barrier_wait(ck_barrier *b);
/// Sets the number of parties of the next rounds. Only while no thread waits on `b` (the pool
/// calls it between runs; the workers learn of it through their gate, which orders memory).
void ck_barrier_set_parties(ck_barrier *b, int parties);

/// A gate one thread waits at until another opens it: how the pool starts only the workers a run
/// needs, while the others keep sleeping. Same spin/yield/futex waiting as the barrier.
typedef struct ck_gate ck_gate;
ck_gate *ck_gate_create(int spin, int yield);
void ck_gate_destroy(ck_gate *g);
/// Lets the waiter through (once per call). Release: what the opener wrote is visible to it.
void ck_gate_open(ck_gate *g);
/// Waits until the gate has been opened more often than `*passed` says, then counts one pass.
void ck_gate_wait(ck_gate *g, unsigned *passed);

// MARK: - CSV parsing (parse_float.c, csv.c)
// A CSV file is parsed in one pass over chunks cut at line starts, in parallel with OpenMP (it runs
// while the worker pool is idle; `threads` is the team size), each chunk straight into its rows of the
// final float32 matrix. The matrix is reserved from the rows per byte of a sample of the file
// (ck_csv_row_capacity; pages never written are never resident); should a chunk hold more rows than
// its share, the caller counts the rows (ck_csv_count_rows) and parses again into an exact matrix. The
// file is mapped with mmap and each thread drops the pages it has consumed (madvise MADV_DONTNEED,
// every 4 MiB), so resident memory stays near the matrix plus threads x 4 MiB however large the file.
//
// Lines end with LF or CRLF. A blank line (empty, or only CR) is skipped. A field is the text between
// delimiters with spaces (and tabs, unless the delimiter is a tab) around it ignored; a field that
// starts with '"' is quoted: it ends at the next lone '"' ("" inside stands for one quote) and may
// contain the delimiter, but not a line break. Numbers follow ck_parse_float; the AVX2 and AVX-512
// versions of pass 2 scan a number's digits 32 bytes at a time (same values, bit for bit).

/// Parses all of [begin, end) as a decimal number: optional sign ('+' or '-'), digits with an
/// optional '.' (at least one digit, before or after the point: "5", "5.", ".5"), an optional exponent
/// ('e' or 'E', optional sign, digits; huge exponents saturate to 0 or infinity). Also "inf",
/// "infinity" and "nan" in any case, with a sign. No spaces, no hex.
/// Writes *out = the correctly rounded float32 of the decimal value (round to nearest, ties to even),
/// bit for bit what strtof returns (out-of-range values give +-inf and +-0, subnormals are exact).
/// Returns 0 for a number (finite text; *out may be inf when it overflows float32), 1 for an
/// inf/nan literal, -1 when the text is not a number (*out unchanged).
int ck_parse_float(const char *begin, const char *end, float *out);

/// Maps the file at `path` read-only. Returns its bytes and size (*size), or NULL with errno set.
/// A zero-length file gives a non-NULL pointer that must not be read. Release with ck_csv_unmap.
const char *ck_csv_map(const char *path, int64_t *size);
void ck_csv_unmap(const char *data, int64_t size);

/// 1 + the number of '\n' in data[0, offset): the 1-based line number of the line holding `offset`.
int64_t ck_csv_line_number(const char *data, int64_t offset);

/// Splits the line [begin, end) (without its line break; a trailing CR is ignored) into fields.
/// Writes the content of field i (spaces trimmed, quotes removed; a quoted field keeps its "" pairs)
/// as offsets from `begin` into ranges[2i] (start) and ranges[2i + 1] (end), for i < max_fields, and
/// quoted[i] = 1 for quoted fields when `quoted` is non-NULL. Returns the number of fields (which
/// may exceed max_fields), or -1 - i when field i is malformed, and then ranges[0..1] hold:
/// - for a malformed quoted field (unterminated, or text after its closing quote), its text from the
///   opening quote (so it starts with '"') to the line end;
/// - for a field, quoted or not, with a control character (a byte below 0x20 but tab: NUL, a CR that
///   does not end the line, ...), that one byte.
/// No field's content ever holds a control character: every pass refuses them (CK_CSV_ERR_CONTROL).
int64_t ck_csv_split_line(const char *begin, const char *end, char delimiter, int64_t *ranges,
                          uint8_t *quoted, int64_t max_fields);

/// What to parse. Rows have `fields` fields, or any count in [min_fields, fields] when the columns
/// from min_fields on are trailing columns that must be empty (a file whose lines end with ",,,").
/// Column `target` (< min_fields, or -1 for none) is the label; the other columns below min_fields
/// are the features, in order: features per row F = min_fields - (target >= 0).
typedef struct {
    const char *data;      // the whole file
    int64_t size;
    int64_t begin;         // offset of the first line to parse (after a BOM and a header); a line start
    int64_t first_line;    // unused by the parser; for the caller's bookkeeping
    int64_t fields;
    int64_t min_fields;
    int64_t target;
    char delimiter;
    int allow_nonfinite;   // accept inf/nan literals (else an error); overflow is always an error
    int drop_invalid;      // skip rows with a missing or invalid value (counted) instead of failing
    int threads;           // OpenMP team size (>= 1)
    int64_t chunk_bytes;   // nominal chunk size; <= 0 picks one (1-64 MiB, ~8 chunks per thread).
                           // Tests force tiny chunks: every chunk size gives the same result.
} ck_csv_spec;

typedef enum {
    CK_CSV_OK = 0,
    CK_CSV_ERR_NUMBER = 1,     // a feature field is not a number
    CK_CSV_ERR_MISSING = 2,    // a feature or label field is empty
    CK_CSV_ERR_NONFINITE = 3,  // inf/nan where allow_nonfinite is 0
    CK_CSV_ERR_RANGE = 4,      // a finite number beyond float32's range
    CK_CSV_ERR_TRAILING = 5,   // a value in a trailing column that is empty on the first row
    CK_CSV_ERR_FIELDS = 6,     // wrong number of fields (always an error, even with drop_invalid)
    CK_CSV_ERR_QUOTE = 7,      // malformed quoted field (always an error)
    CK_CSV_ERR_LABELS = 8,     // more than 2^20 distinct labels
    CK_CSV_ERR_MEMORY = 9,
    CK_CSV_ERR_CAPACITY = 10,  // more rows than ck_csv_row_capacity reserved: count them, parse again
    CK_CSV_ERR_CONTROL = 11,   // a control character (C0 but tab) in a field (always an error)
} ck_csv_status;

typedef struct {
    int64_t rows;          // rows written (after dropping invalid ones), row-major from row 0
    int64_t invalid_rows;  // rows dropped (drop_invalid)
    // The first error in file order (status != CK_CSV_OK): the byte offset of its line
    // (ck_csv_line_number gives its number, counting from the file's start: only a caller that
    // reports the error pays for it, not one that falls back to another parser), column (1-based
    // field), offsets of the offending field's content [text_begin, text_end), and for
    // CK_CSV_ERR_FIELDS the number of fields found.
    int status;
    int64_t line_offset, column, text_begin, text_end, found_fields;
    // Distinct label texts (quotes removed, "" unescaped), in order of first appearance in the file:
    // label i is label_text[label_offsets[i], label_offsets[i + 1]); label_first_offset[i] is the byte
    // offset of the line where it first appears (ck_csv_line_number gives its number). labels[r]
    // (pass 2's output) indexes this table.
    int64_t label_count;
    char *label_text;
    int64_t *label_offsets;
    int64_t *label_first_offset;
} ck_csv_result;

/// Number of chunks the spec cuts [begin, size) into.
int64_t ck_csv_chunk_count(const ck_csv_spec *spec);
/// The rows to reserve for ck_csv_parse without chunk_rows (-1 when out of memory).
int64_t ck_csv_row_capacity(const ck_csv_spec *spec);
/// Rows (non-blank lines) of each chunk into chunk_rows[ck_csv_chunk_count(spec)]. Returns the total,
/// an upper bound of the rows ck_csv_parse writes.
int64_t ck_csv_count_rows(const ck_csv_spec *spec, int64_t *chunk_rows);
/// Parses into features[rows, F] and labels[rows] (labels may be NULL when target < 0), sized by
/// ck_csv_row_capacity (chunk_rows NULL; CK_CSV_ERR_CAPACITY when a chunk has more rows than its
/// share) or by ck_csv_count_rows's total (chunk_rows its counts); fills *result (free its tables with
/// ck_csv_result_free). Returns the status. With drop_invalid, dropped rows are squeezed out: rows
/// [0, result->rows) are valid.
int ck_csv_parse(const ck_csv_spec *spec, const int64_t *chunk_rows, float *features,
                 int32_t *labels, ck_csv_result *result);
void ck_csv_result_free(ck_csv_result *result);

/// Formats v (converted to double) as printf("%.18e") does, e.g. "8.692932128906250000e-01", into
/// out (at least 32 bytes); returns the length. Exact for every finite float: a float's decimal
/// expansion is computed with integer arithmetic, so the digits are printf's (glibc rounds exactly,
/// ties to even). inf/nan print as "inf", "-inf", "nan".
int ck_format_e18(float v, char *out);
/// Shortest decimal text that parses back to v (like Swift's description, "%.9g" at most), into out
/// (at least 32 bytes); returns the length.
int ck_format_short(float v, char *out);

// MARK: - Column medians (median.c)

/// The median of each column columns[j] of the row-major X[rows, width] into medians[j], NaN values
/// left out: the middle value, or for an even count the mean of the two middle ones computed in
/// double and rounded to float (numpy.median's), NaN for a column without a value. Exact, by radix
/// selection over the rows in place: three passes of per-thread histograms (64 KiB per column and
/// thread, columns taken in groups of at most 64 MiB of them); the answer does not depend on
/// `threads`. Returns 0, or CK_CSV_ERR_MEMORY.
int ck_column_medians(const float *X, int64_t rows, int64_t width, const int64_t *columns, int64_t count, int threads,
                      float *medians);

// MARK: - Tabular CSV (csv_table.c, value_table.c)
// The passes of the loader for files with string columns and blanks (README, "String columns and
// blanks"; the Swift side, TableLoader, decides the columns' kinds and encodings between them). Both
// run over chunks the caller cuts at line starts, in parallel with OpenMP, dropping each chunk's pages
// after use as ck_csv_parse does. Fields are split by ck_csv_split_line. A field is missing when it is
// empty or one of the spec's missing-value tokens (compared with its raw text). A value's text, as the
// category tables keep it, is the field's content with "" unescaped in a quoted field and invalid
// UTF-8 sequences replaced by U+FFFD, as Swift's String(decoding:as: UTF8.self) does.

/// The rows of a file, cut into chunks.
typedef struct {
    const char *data;            // the whole file (ck_csv_map)
    int64_t size;
    const int64_t *chunk_starts; // chunk i is [chunk_starts[i], chunk_starts[i + 1]): line starts
    int64_t chunks;
    int64_t fields;              // rows have min_fields to fields fields (ck_csv_spec)
    int64_t min_fields;
    char delimiter;
    int threads;                 // OpenMP team size (>= 1)
    const char *na_text;         // missing-value token i is na_text[na_offsets[i], na_offsets[i + 1])
    const int64_t *na_offsets;
    int64_t na_count;
} ck_table_spec;

/// A row's problem: a ck_csv_status, the offset of its line, the 0-based column (for
/// CK_CSV_ERR_FIELDS: the number of fields found), the field's raw content [text_begin, text_end)
/// and whether it was quoted.
typedef struct {
    int status;
    int64_t line_offset, column, text_begin, text_end;
    int quoted;
} ck_table_error;

/// Distinct values in order of first appearance in the file: value i is
/// text[offsets[i], offsets[i + 1]), met counts[i] times, first on the line at byte offset first[i].
/// `overflow`: more than the pass's value limit were met (the table stops growing).
typedef struct {
    int64_t count;
    char *text;
    int64_t *offsets;
    int64_t *counts;
    int64_t *first;
    int overflow;
} ck_table_values;
void ck_table_values_free(ck_table_values *values);

enum { CK_TABLE_SURVEY = 1, CK_TABLE_COUNT = 2 };

/// Pass 1 (survey). modes[c] for each column c < min_fields: CK_TABLE_SURVEY counts its missing
/// values (missing[c]) and the others that ck_parse_float refuses (non_numbers[c]); CK_TABLE_COUNT
/// collects its values into values[c] (a missing one is ""), at most value_limit of them. Every row is
/// split only when some column has a mode; otherwise the pass only counts rows. The arrays are the
/// caller's, zeroed: chunk_rows[chunks], missing[fields], non_numbers[fields], values[fields] (free
/// each with ck_table_values_free). Also counts values in the columns from min_fields on (strays)
/// and the line offset of the first (INT64_MAX for none). Returns the status; *error is the first
/// row error in file order (ragged row, malformed quoted field).
typedef struct {
    int64_t *chunk_rows;
    int64_t *missing, *non_numbers;
    ck_table_values *values;
    int64_t strays, first_stray;
    ck_table_error error;
} ck_table_survey_result;
int ck_table_survey(const ck_table_spec *spec, const uint8_t *modes, int64_t value_limit,
                    ck_table_survey_result *result);

/// The rows a survey read, kept compact for ck_table_expand: per row one 4-byte cell per column with
/// a mode (a number, NaN when missing or not a clean finite number, for a CK_TABLE_SURVEY column; the
/// value's id in the thread's own table for a CK_TABLE_COUNT one) and the label's id in the thread's
/// label table. Free with ck_table_rows_free.
typedef struct ck_table_rows ck_table_rows;
void ck_table_rows_free(ck_table_rows *rows);

/// ck_table_survey that also keeps the rows (*rows; NULL on an error), with labels from column
/// `target` (-1 for none; at most label_limit distinct ones per thread), so that the rows need not
/// be read again.
int ck_table_survey_keeping(const ck_table_spec *spec, const uint8_t *modes, int64_t value_limit, int64_t target,
                            int64_t label_limit, ck_table_survey_result *result, ck_table_rows **rows);

/// One column's inputs in a row of the matrix (ColumnEncoding.Column).
typedef struct {
    int64_t column;      // file column
    int64_t offset;      // its first input in the row
    int categorical;
    // Numeric: the value, or `fill` when missing; with `indicator`, then 1 for missing, else 0.
    // Without one, a missing value is counted in unseen (or refused: the plan's refuse_missing).
    int indicator;
    float fill;
    // Categorical: `width` one-hot inputs; values keys[keys_begin, keys_end) of the plan go to their
    // slots, any other to `other` (or no input when -1), counted in unseen.
    int64_t width, other;
    int64_t keys_begin, keys_end;
} ck_table_input;

typedef struct {
    const ck_table_input *inputs;
    int64_t input_count;
    int64_t width;                // floats per row
    int64_t target;               // label column, or -1
    int allow_nonfinite, drop_invalid;  // as ck_csv_spec
    const char *key_text;         // key i: key_text[key_offsets[i], key_offsets[i + 1]) -> key_slots[i]
    const int64_t *key_offsets;
    const int32_t *key_slots;
    int64_t label_limit;          // more distinct labels are CK_CSV_ERR_LABELS
    int refuse_missing;           // a missing value in a numeric input without indicator is CK_CSV_ERR_MISSING
} ck_table_plan;

typedef struct {
    int64_t rows, invalid_rows;   // rows written (squeezed to the front) and rows dropped
    int64_t *unseen;              // the caller's [input_count], zeroed: values outside the keys, or
                                  // missing in a numeric input without indicator
    ck_table_values labels;       // labels[r] indexes these (free with ck_table_values_free)
    ck_table_error error;
} ck_table_written;

/// Pass 2 (write): each row into X[rows, plan->width] (every input written) and its label id into
/// Y[rows] (NULL when target < 0), chunk i from row sum(chunk_rows[0..i)) on. A row's first invalid
/// value in input order (a number ck_parse_float refuses, inf/nan without allow_nonfinite, beyond
/// float32's range, a missing value refused by refuse_missing), then an empty label, is an error, or
/// with drop_invalid drops the row. Returns the status.
int ck_table_write(const ck_table_spec *spec, const ck_table_plan *plan, const int64_t *chunk_rows,
                   float *X, int32_t *Y, ck_table_written *written);

/// ck_table_expand's answer when the kept rows cannot give ck_table_write's result: the plan reads a
/// column as a number that was counted, or one-hot that was not, a numeric column has a value that is
/// not a clean finite number (an error or a dropped row), a label is empty, a table overflowed, the
/// plan refuses missing values.
enum { CK_TABLE_REWRITE = -1 };

/// Pass 2 from the kept rows instead of the text: the same X, Y and *written as ck_table_write, or
/// CK_TABLE_REWRITE (rows untouched). Each chunk's cells are released as soon as they are expanded,
/// so the rows can be expanded once.
int ck_table_expand(ck_table_rows *rows, const ck_table_plan *plan, float *X, int32_t *Y, ck_table_written *written);

// MARK: - Signals (cleanup.c)
// Atomic writes go to a temporary file that is renamed at the end; a process killed by a signal must
// not leave it behind. Registered paths are unlinked from the signal handler, which then dies of the
// same signal (so the exit status still says which). SIGBUS (a mapped input file truncated by another
// process) in a watched mapping prints that mapping's message instead and exits with status 1.
// train's run instead takes a first SIGINT/SIGTERM as a request to stop after the current step.

/// Installs the cleanup handlers for SIGBUS, SIGINT, SIGTERM and SIGHUP, and unblocks them in the
/// calling thread (call it first thing in main, so every later thread inherits the mask).
void ck_cleanup_install(void);
/// From now on the first SIGINT or SIGTERM sets the flag ck_stop_requested reads (on whichever thread
/// the kernel delivers it; the signal is never ignored, so none is lost) and a second one is handled
/// as ck_cleanup_install's handler does.
void ck_stop_on_interrupts(void);
int ck_stop_requested(void);
/// Registers a file to unlink on a fatal signal (up to 16 at a time); returns its slot, or -1.
int ck_cleanup_register(const char *path);
void ck_cleanup_unregister(int slot);
/// Watches the mapping [base, base + size) (up to 16 at a time, e.g. from ck_csv_map): a SIGBUS at
/// an address inside it prints `message` (include the trailing newline, e.g. "train: error: x.csv:
/// ...\n") and exits with 1. ck_csv_unmap ends the watch (ck_cleanup_unwatch_mapping).
void ck_cleanup_watch_mapping(const char *base, int64_t size, const char *message);
void ck_cleanup_unwatch_mapping(const char *base);

// MARK: - Standard output (process_output.c)

/// Makes stdout line-buffered wherever it goes (a terminal, a pipe, a log file), so each printed line
/// is written at once. Call before anything is printed.
void ck_stdout_line_buffered(void);

#ifdef __cplusplus
}
#endif

#endif
