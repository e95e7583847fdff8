// The activation kernels, written once over a small vector abstraction and compiled per
// instruction set: activations.c includes this file three times with CK_ACT_ISA = 0 (scalar
// reference: one lane, libm for the elementary functions), 1 (AVX2+FMA, 8 lanes, vecmath.h) and
// 2 (AVX-512, 16 lanes, vecmath.h). Every function gets the suffix _scalar, _avx2 or _avx512, the
// names CK_DISPATCH expects. Not a public header; no include guard on purpose.
//
// Each activation ACT provides always-inline element functions over one vector of lanes (see
// "element functions" below); ACT_KERNELS(ACT, NP, NQ, READS_Y) builds the forward and the fused
// backward over a matrix from them: scalar parameters accumulate their gradients in NP vector
// registers over the whole pass and reduce once at the end; per-channel parameters accumulate over a
// block of rows in registers, then add into dparams. Tails use masked loads and stores (lanes past
// the end read 0 and contribute nothing).
#ifndef CK_ACT_ISA
#error "define CK_ACT_ISA before including activations_impl.h"
#endif

#define CK_CAT_(a, b) a##_##b
#define CK_CAT(a, b) CK_CAT_(a, b)

#if CK_ACT_ISA == 0
#define SFX scalar
#define ATTR
#elif CK_ACT_ISA == 1
#define SFX avx2
#define ATTR CK_TARGET_AVX2
#else
#define SFX avx512
#define ATTR CK_TARGET_AVX512
#endif
#define NAME(x) CK_CAT(x, SFX)
#define FN CK_INLINE ATTR

// MARK: - vector abstraction: V (vector of W floats), M (lane mask)

#if CK_ACT_ISA == 0
typedef float NAME(V);
typedef int NAME(M);
#define V NAME(V)
#define M NAME(M)
#define W 1
FN V NAME(s1)(float a) { return a; }
FN V NAME(ld)(const float *p) { return *p; }
FN void NAME(st)(float *p, V v) { *p = v; }
FN V NAME(ldm)(const float *p, int64_t n) { (void)n; return *p; }
FN void NAME(stm)(float *p, V v, int64_t n) { (void)n; *p = v; }
FN V NAME(keep)(V v, int64_t n) { (void)n; return v; }
FN V NAME(add)(V a, V b) { return a + b; }
FN V NAME(sub)(V a, V b) { return a - b; }
FN V NAME(mul)(V a, V b) { return a * b; }
FN V NAME(div)(V a, V b) { return a / b; }
FN V NAME(fma)(V a, V b, V c) { return a * b + c; }
FN V NAME(max)(V a, V b) { return a > b ? a : b; }
FN V NAME(min)(V a, V b) { return a < b ? a : b; }
FN V NAME(abs)(V a) { return fabsf(a); }
FN V NAME(nabs)(V a) { return -fabsf(a); }
FN V NAME(withsign)(V a, V s) { return copysignf(a, s); }
FN V NAME(quot)(V a, V b) { return a / b; }
FN M NAME(lt)(V a, V b) { return a < b; }
FN M NAME(le)(V a, V b) { return a <= b; }
FN M NAME(gt)(V a, V b) { return a > b; }
FN M NAME(ge)(V a, V b) { return a >= b; }
FN M NAME(mand)(M a, M b) { return a && b; }
FN M NAME(mandnot)(M a, M b) { return !a && b; }  // (not a) and b
FN V NAME(sel)(M m, V a, V b) { return m ? a : b; }
FN V NAME(add_if)(M m, V a, V b) { return m ? a + b : a; }
FN V NAME(fma_if)(M m, V a, V b, V c) { return m ? a * b + c : c; }
FN V NAME(vexp)(V a) { return expf(a); }
FN V NAME(vexpm1)(V a) { return expm1f(a); }
FN V NAME(vlog)(V a) { return logf(a); }
FN V NAME(vphi)(V a, V a2) { (void)a2; return 0.5f * erff(a * 0.70710678118654752f) + 0.5f; }
FN V NAME(vrsqrt)(V a) { return 1.0f / sqrtf(a); }
FN V NAME(vrcp)(V a) { return 1.0f / a; }
FN float NAME(hsum)(V a) { return a; }
/// Flips the sign of the lanes of odd channels, for a vector starting at channel c0.
FN V NAME(flip_odd)(V a, int64_t c0) { return (c0 & 1) ? -a : a; }
#elif CK_ACT_ISA == 1
#define V __m256
#define M __m256
#define W 8
FN __m256i NAME(tailmask)(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
FN V NAME(s1)(float a) { return _mm256_set1_ps(a); }
FN V NAME(ld)(const float *p) { return _mm256_loadu_ps(p); }
FN void NAME(st)(float *p, V v) { _mm256_storeu_ps(p, v); }
FN V NAME(ldm)(const float *p, int64_t n) { return _mm256_maskload_ps(p, NAME(tailmask)(n)); }
FN void NAME(stm)(float *p, V v, int64_t n) { _mm256_maskstore_ps(p, NAME(tailmask)(n), v); }
FN V NAME(keep)(V v, int64_t n) { return _mm256_and_ps(v, _mm256_castsi256_ps(NAME(tailmask)(n))); }
FN V NAME(add)(V a, V b) { return _mm256_add_ps(a, b); }
FN V NAME(sub)(V a, V b) { return _mm256_sub_ps(a, b); }
FN V NAME(mul)(V a, V b) { return _mm256_mul_ps(a, b); }
FN V NAME(div)(V a, V b) { return _mm256_div_ps(a, b); }
FN V NAME(fma)(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
FN V NAME(max)(V a, V b) { return _mm256_max_ps(a, b); }
FN V NAME(min)(V a, V b) { return _mm256_min_ps(a, b); }
FN V NAME(abs)(V a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
FN V NAME(nabs)(V a) { return _mm256_or_ps(_mm256_set1_ps(-0.0f), a); }
FN V NAME(withsign)(V a, V s) { return _mm256_or_ps(a, _mm256_and_ps(_mm256_set1_ps(-0.0f), s)); }
FN V NAME(quot)(V a, V b) { return _mm256_mul_ps(a, ck_rcp8(b)); }
FN M NAME(lt)(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
FN M NAME(le)(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
FN M NAME(gt)(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
FN M NAME(ge)(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
FN M NAME(mand)(M a, M b) { return _mm256_and_ps(a, b); }
FN M NAME(mandnot)(M a, M b) { return _mm256_andnot_ps(a, b); }
FN V NAME(sel)(M m, V a, V b) { return _mm256_blendv_ps(b, a, m); }
FN V NAME(add_if)(M m, V a, V b) { return _mm256_add_ps(a, _mm256_and_ps(m, b)); }
FN V NAME(fma_if)(M m, V a, V b, V c) { return _mm256_fmadd_ps(a, _mm256_and_ps(m, b), c); }
FN V NAME(vexp)(V a) { return ck_exp8(a); }
FN V NAME(vexpm1)(V a) { return ck_expm1_8(a); }
FN V NAME(vlog)(V a) { return ck_log8(a); }
FN V NAME(vphi)(V a, V a2) {
    (void)a2;
    return _mm256_fmadd_ps(_mm256_set1_ps(0.5f), ck_erf8(_mm256_mul_ps(a, _mm256_set1_ps(0.70710678118654752f))),
                           _mm256_set1_ps(0.5f));
}
FN V NAME(vrsqrt)(V a) { return ck_rsqrt8(a); }
FN V NAME(vrcp)(V a) { return ck_rcp8(a); }
FN float NAME(hsum)(V a) { return ck_hsum256(a); }
FN V NAME(flip_odd)(V a, int64_t c0) {
    (void)c0;  // c0 is a multiple of 8: lane parity is channel parity
    return _mm256_xor_ps(a, _mm256_setr_ps(0.0f, -0.0f, 0.0f, -0.0f, 0.0f, -0.0f, 0.0f, -0.0f));
}
#else
#define V __m512
#define M __mmask16
#define W 16
FN __mmask16 NAME(tailmask)(int64_t n) { return n >= 16 ? (__mmask16)0xFFFF : ck_tail_mask16(n); }
FN V NAME(s1)(float a) { return _mm512_set1_ps(a); }
FN V NAME(ld)(const float *p) { return _mm512_loadu_ps(p); }
FN void NAME(st)(float *p, V v) { _mm512_storeu_ps(p, v); }
FN V NAME(ldm)(const float *p, int64_t n) { return _mm512_maskz_loadu_ps(NAME(tailmask)(n), p); }
FN void NAME(stm)(float *p, V v, int64_t n) { _mm512_mask_storeu_ps(p, NAME(tailmask)(n), v); }
FN V NAME(keep)(V v, int64_t n) { return _mm512_maskz_mov_ps(NAME(tailmask)(n), v); }
FN V NAME(add)(V a, V b) { return _mm512_add_ps(a, b); }
FN V NAME(sub)(V a, V b) { return _mm512_sub_ps(a, b); }
FN V NAME(mul)(V a, V b) { return _mm512_mul_ps(a, b); }
FN V NAME(div)(V a, V b) { return _mm512_div_ps(a, b); }
FN V NAME(fma)(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
FN V NAME(max)(V a, V b) { return _mm512_max_ps(a, b); }
FN V NAME(min)(V a, V b) { return _mm512_min_ps(a, b); }
FN V NAME(abs)(V a) { return _mm512_abs_ps(a); }
FN V NAME(nabs)(V a) { return _mm512_or_ps(_mm512_set1_ps(-0.0f), a); }
FN V NAME(withsign)(V a, V s) {  // a | (s & sign bit), one vpternlogd
    return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(a), _mm512_castps_si512(s),
                                                         _mm512_set1_epi32(INT32_MIN), 0xF8));
}
FN V NAME(quot)(V a, V b) { return _mm512_div_ps(a, b); }
FN M NAME(lt)(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
FN M NAME(le)(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
FN M NAME(gt)(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
FN M NAME(ge)(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
FN M NAME(mand)(M a, M b) { return a & b; }
FN M NAME(mandnot)(M a, M b) { return (M)(~a & b); }
FN V NAME(sel)(M m, V a, V b) { return _mm512_mask_blend_ps(m, b, a); }
FN V NAME(add_if)(M m, V a, V b) { return _mm512_mask_add_ps(a, m, a, b); }
FN V NAME(fma_if)(M m, V a, V b, V c) { return _mm512_mask3_fmadd_ps(a, b, c, m); }
FN V NAME(vexp)(V a) { return ck_exp16(a); }
FN V NAME(vexpm1)(V a) { return ck_expm1_16(a); }
FN V NAME(vlog)(V a) { return ck_log16(a); }
FN V NAME(vphi)(V a, V a2) { return ck_phi16(a, a2); }
FN V NAME(vrsqrt)(V a) { return ck_rsqrt16(a); }
FN V NAME(vrcp)(V a) { return ck_rcp16(a); }
FN float NAME(hsum)(V a) { return ck_hsum512(a); }
FN V NAME(flip_odd)(V a, int64_t c0) {
    (void)c0;
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi64((long long)0x8000000000000000ULL)));
}
#endif

// Short names for the body below (undefined at the end of the file).
#define S1 NAME(s1)
#define LD NAME(ld)
#define ST NAME(st)
#define LDM NAME(ldm)
#define STM NAME(stm)
#define KEEP NAME(keep)
#define ADD NAME(add)
#define SUB NAME(sub)
#define MUL NAME(mul)
#define DIV NAME(div)
#define FMA NAME(fma)
#define MAX NAME(max)
#define MIN NAME(min)
#define ABS NAME(abs)
#define NABS NAME(nabs)
#define WITHSIGN NAME(withsign)
#define QUOT NAME(quot)
#define LT NAME(lt)
#define LE NAME(le)
#define GT NAME(gt)
#define GE NAME(ge)
#define MAND NAME(mand)
#define MANDNOT NAME(mandnot)
#define SEL NAME(sel)
#define ADD_IF NAME(add_if)
#define FMA_IF NAME(fma_if)
#define EXP NAME(vexp)
#define EXPM1 NAME(vexpm1)
#define LOG NAME(vlog)
#define PHI NAME(vphi)
#define RSQRT NAME(vrsqrt)
#define RCP NAME(vrcp)
#define HSUM NAME(hsum)
#define ZERO S1(0.0f)
#define ONE S1(1.0f)

/// c[0] + c[1] t + ... + c[n-1] t^(n-1) (n <= 16). AVX2: by Estrin's scheme, pairs c[k] + c[k+1] t,
/// then pairs of those in t^2, t^4, t^8: log2(n) FMAs in a row instead of Horner's n - 1, for loops
/// bound by the latency of such chains. AVX-512: by Horner's rule, n - 1 FMAs and no powers of t,
/// for loops bound by the FMA pipes' throughput (Zen 5 overlaps the chains of several iterations).
/// n is a constant at every call: the loops unroll completely and the array lives in registers.
FN V NAME(poly)(V t, const float *c, int n) {
#if CK_ACT_ISA == 2
    V p = S1(c[n - 1]);
    _Pragma("clang loop unroll(full)") for (int k = n - 2; k >= 0; k--) p = FMA(p, t, S1(c[k]));
    return p;
#else
    V a[8], power = MUL(t, t);
    _Pragma("clang loop unroll(full)") for (int k = 0; k < 8; k++) {
        if (2 * k + 1 < n) a[k] = FMA(S1(c[2 * k + 1]), t, S1(c[2 * k]));
        else if (2 * k < n) a[k] = S1(c[2 * k]);
    }
    _Pragma("clang loop unroll(full)") for (int level = 1; level < 4; level++) {
        int m = (n + (1 << level) - 1) >> level;  // terms left before this level
        _Pragma("clang loop unroll(full)") for (int k = 0; k < 4; k++)
            if (2 * k + 1 < m) a[k] = FMA(a[2 * k + 1], power, a[2 * k]);
            else if (2 * k < m) a[k] = a[2 * k];
        if (m > 2) power = MUL(power, power);
    }
    return a[0];
#endif
}
#define POLY(t, c) NAME(poly)(t, c, (int)(sizeof(c) / sizeof(c[0])))

// MARK: - element functions
//
// Each activation ACT provides, over one vector of lanes:
//   void ACT_prep(const V *p, V *q)            derived per-slot constants q from the parameters p
//                                              (computed once per pass or per block of rows)
//   V ACT_f(V x, const V *q)                   -> y
//   V ACT_b(V x, V y, V dy, const V *q, V *acc) -> dx; adds this lane's contribution to the
//                                              accumulator acc[k] of parameter k (an FMA where
//                                              the contribution is a product). y = ACT_f(x) is
//                                              loaded only for the ACT_KERNELS that say so.
//   void ACT_fin(const V *q, V *acc)           turns the accumulators into dparams contributions
// (prep/fin let per-element work move out of the loop, e.g. srelu sums dy over the left piece and
// multiplies by 1 - a_left once at the end).

FN void NAME(copy_prep)(const V *p, V *q, int np) { for (int k = 0; k < np; k++) q[k] = p[k]; }
#define COPY_PREP(ACT, NP) \
    FN void NAME(ACT##_prep)(const V *p, V *q) { NAME(copy_prep)(p, q, NP); } \
    FN void NAME(ACT##_fin)(const V *q, V *acc) { (void)q; (void)acc; }

// relu: y = max(x, 0); dx = dy where x > 0, else 0.
COPY_PREP(relu, 0)
FN V NAME(relu_f)(V x, const V *q) { (void)q; return MAX(x, ZERO); }
FN V NAME(relu_b)(V x, V y, V dy, const V *q, V *acc) { (void)y; (void)q; (void)acc; return SEL(GT(x, ZERO), dy, ZERO); }

// leaky_relu: y = x if x > 0 else 0.01 x (PyTorch's default negative_slope).
COPY_PREP(leaky_relu, 0)
FN V NAME(leaky_relu_f)(V x, const V *q) { (void)q; return SEL(GT(x, ZERO), x, MUL(x, S1(CK_ACT_LEAKY_SLOPE))); }
FN V NAME(leaky_relu_b)(V x, V y, V dy, const V *q, V *acc) {
    (void)y; (void)q; (void)acc;
    return SEL(GT(x, ZERO), dy, MUL(dy, S1(CK_ACT_LEAKY_SLOPE)));
}

/// sigmoid(z) and sigmoid(-z) = 1 - sigmoid(z), from e = exp(-|z|) in (0, 1] and neg = (z < 0),
/// both without cancellation or overflow: with s = 1/(1+e), they are s and e s (z >= 0) or e s and
/// s (z < 0). sigmoid'(z) is their product.
FN V NAME(sigmoid2)(V e, M neg, V *minus) {
    V s = QUOT(ONE, ADD(ONE, e));
    V es = MUL(e, s);
    *minus = SEL(neg, s, es);
    return SEL(neg, es, s);
}

/// v sigmoid(z) from e and neg as sigmoid2 takes them, in one division and no reciprocal: v/(1 + e)
/// for z >= 0, v e/(1 + e) for z < 0 (a multiplication fewer than v times sigmoid2's s).
FN V NAME(times_sigmoid)(V v, V e, M neg) { return QUOT(SEL(neg, MUL(v, e), v), ADD(ONE, e)); }

/// dy sigmoid(z), and dy sigmoid'(z) = (dy sigmoid(z)) sigmoid(-z) in *dyd: one multiply on the
/// product the callers need anyway.
FN V NAME(dy_sigmoid)(V dy, V e, M neg, V *dyd) {
    V m, dys = MUL(dy, NAME(sigmoid2)(e, neg, &m));
    *dyd = MUL(dys, m);
    return dys;
}

COPY_PREP(sigmoid, 0)
FN V NAME(sigmoid_f)(V x, const V *q) { (void)q; return NAME(times_sigmoid)(ONE, EXP(NABS(x)), LT(x, ZERO)); }
// dy sigmoid'(x) = dy e/(1 + e)^2, e = exp(-|x|).
FN V NAME(sigmoid_b)(V x, V y, V dy, const V *q, V *acc) {
    (void)y; (void)q; (void)acc;
    V e = EXP(NABS(x)), h = ADD(ONE, e);
    return QUOT(MUL(dy, e), MUL(h, h));
}

// tanh: with E = expm1(-2|x|) in (-1, 0], tanh(|x|) = E / (-2 - E), x's sign copied on; expm1
// keeps the relative accuracy near 0 without a separate small-x branch. -2|x| is -|x| doubled by an
// addition (exact), which leaves the multiply pipes to the elementary functions.
// dx = dy (1 - tanh^2), from x (below).
COPY_PREP(tanh, 0)
FN V NAME(tanh_f)(V x, const V *q) {
    (void)q;
    V nx = NABS(x), e = EXPM1(ADD(nx, nx));
    return WITHSIGN(QUOT(e, SUB(S1(-2.0f), e)), x);
}
FN V NAME(tanh_b)(V x, V y, V dy, const V *q, V *acc) {
    (void)y; (void)q; (void)acc;
    // 1 - tanh^2 = 4 e / (1 + e)^2 = e / h^2, h = (1 + e)/2, e = exp(-2|x|): no cancellation where
    // tanh -> +-1.
    V nx = NABS(x), e = EXP(ADD(nx, nx));
    V h = FMA(e, S1(0.5f), S1(0.5f));
    return MUL(dy, QUOT(e, MUL(h, h)));
}

// gelu (exact, PyTorch's default approximate='none'): y = x Phi(x), Phi(x) = (1 + erf(x/sqrt 2))/2;
// dy/dx = Phi(x) + x phi(x), phi(x) = exp(-x^2/2) / sqrt(2 pi) = exp(-x^2/2 + ln(1/sqrt(2 pi))), the
// constant folded into exp's argument. The backward reads the forward's y for Phi(x) = y/x: a
// quotient without cancellation, at most 1.5 ulp of Phi beyond the forward's own Phi, where
// evaluating Phi again took a rational function (AVX-512: ten FMAs and a division), as many
// multiply-pipe instructions as the rest of the backward. For |x| <= 2^-100 (where y may be
// subnormal, or 0/0) Phi is 1/2 to float precision and taken as that.
COPY_PREP(gelu, 0)
FN V NAME(gelu_f)(V x, const V *q) { (void)q; return MUL(x, PHI(x, MUL(x, x))); }
FN V NAME(gelu_b)(V x, V y, V dy, const V *q, V *acc) {
    (void)q; (void)acc;
    V pdf = EXP(FMA(MUL(x, x), S1(-0.5f), S1(-0.918938533204672742f)));
    V phi = SEL(GT(ABS(x), S1(0x1p-100f)), DIV(y, x), S1(0.5f));  // AVX2's QUOT fails above 2^126
    return MUL(dy, FMA(x, pdf, phi));
}

// swish: y = x sigmoid(b x); dy/dx = sigmoid + b x sigmoid'; dy/db = x^2 sigmoid'.
COPY_PREP(swish, 1)
FN V NAME(swish_f)(V x, const V *q) {
    V z = MUL(q[0], x);
    return NAME(times_sigmoid)(x, EXP(NABS(z)), LT(z, ZERO));
}
FN V NAME(swish_b)(V x, V y, V dy, const V *q, V *acc) {
    (void)y;
    V z = MUL(q[0], x);
    V dyd, dys = NAME(dy_sigmoid)(dy, EXP(NABS(z)), LT(z, ZERO), &dyd);
    acc[0] = FMA(MUL(x, x), dyd, acc[0]);
    return FMA(z, dyd, dys);
}
// silu = swish with b = 1 (no parameter).
COPY_PREP(silu, 0)
FN V NAME(silu_f)(V x, const V *q) { (void)q; return NAME(times_sigmoid)(x, EXP(NABS(x)), LT(x, ZERO)); }
FN V NAME(silu_b)(V x, V y, V dy, const V *q, V *acc) {
    (void)y; (void)q; (void)acc;
    V dyd, dys = NAME(dy_sigmoid)(dy, EXP(NABS(x)), LT(x, ZERO), &dyd);
    return FMA(x, dyd, dys);
}

// isru: s = 1/sqrt(1 + a x^2); y = x s; dy/dx = s^3; dy/da = -x^3 s^3 / 2 (the -1/2 is applied
// to the accumulator at the end).
FN void NAME(isru_prep)(const V *p, V *q) { q[0] = p[0]; }
FN void NAME(isru_fin)(const V *q, V *acc) { (void)q; acc[0] = MUL(acc[0], S1(-0.5f)); }
FN V NAME(isru_f)(V x, const V *q) { return MUL(x, RSQRT(FMA(MUL(q[0], x), x, ONE))); }
FN V NAME(isru_b)(V x, V y, V dy, const V *q, V *acc) {
    (void)y;
    V s = RSQRT(FMA(MUL(q[0], x), x, ONE));
    V s3dy = MUL(MUL(MUL(s, s), s), dy);
    acc[0] = FMA(MUL(MUL(x, x), x), s3dy, acc[0]);
    return s3dy;
}

// srelu, parameters t_left, a_left, t_right, a_right:
//   y = x + (a_l - 1) min(x - t_l, 0) + (a_r - 1) max(x - t_r, 0),
// i.e. t_r + a_r (x - t_r) for x >= t_r, t_l + a_l (x - t_l) for x <= t_l, x in between (when
// t_l <= t_r; crossed thresholds add both outer pieces, so between t_r and t_l the slope is
// a_l + a_r - 1). The backward differentiates this same sum, taking the outer pieces at ties
// (x <= t_l, x >= t_r). Accumulators: sum dy and sum dy (x - t) over each outer piece;
// dt = (1 - a) sum dy, da = sum dy (x - t).
// q: t_l, a_l - 1, t_r, a_r - 1
FN void NAME(srelu_prep)(const V *p, V *q) {
    q[0] = p[0]; q[1] = SUB(p[1], ONE); q[2] = p[2]; q[3] = SUB(p[3], ONE);
}
FN void NAME(srelu_fin)(const V *q, V *acc) {
    acc[0] = MUL(acc[0], SUB(ZERO, q[1]));
    acc[2] = MUL(acc[2], SUB(ZERO, q[3]));
}
FN V NAME(srelu_f)(V x, const V *q) {
    V y = FMA(q[1], MIN(SUB(x, q[0]), ZERO), x);
    return FMA(q[3], MAX(SUB(x, q[2]), ZERO), y);
}
FN V NAME(srelu_b)(V x, V y, V dy, const V *q, V *acc) {
    (void)y;
    V dl = SUB(x, q[0]), dr = SUB(x, q[2]);
    M left = LE(dl, ZERO), right = GE(dr, ZERO);
    // Masked additions and FMAs (one instruction each on AVX-512) instead of selecting dy on each
    // piece first.
    acc[0] = ADD_IF(left, acc[0], dy);
    acc[1] = FMA_IF(left, dy, dl, acc[1]);
    acc[2] = ADD_IF(right, acc[2], dy);
    acc[3] = FMA_IF(right, dy, dr, acc[3]);
    // dy + (a_l - 1) dy_left + (a_r - 1) dy_right instead of building each element's slope (two
    // selects, two adds, a multiply).
    return FMA_IF(right, q[3], dy, FMA_IF(left, q[1], dy, dy));
}

// softexp, parameter a. For a >= 0 with t = a x:
//   y = a + expm1(t)/a                       (= x at a = 0; no cancellation for small a)
//   dy/dx = e^t
//   dy/da = 1 + (e^t (t - 1) + 1)/a^2 = 1 + x^2 P(t),   P(t) = sum_{k>=0} (k+1)/(k+2)! t^k
// with a polynomial for |t| <= 1/2, where the closed form cancels; at a = 0 it gives 1 + x^2/2.
// The polynomial interpolates P at Chebyshev nodes of [-1/2, 1/2] (near minimax): 7 terms for a
// relative error of 7.5e-8 evaluated in float, where the Taylor series needs 10.
// q: a, 1/a, 1/a^2
static const float NAME(softexp_p)[] = {0.5f, 0.333333373f, 0.125000015f, 0.0333321206f, 0.00694424985f,
                                        0.00120015652f, 0.000174855231f};
FN void NAME(softexp_prep)(const V *p, V *q) {
    // A nonzero |a| below 2^-100 acts as +-2^-100: y moves by under 2^-100 (1 + x^2), nothing next
    // to y ~ x + a, the derivatives stay, and 1/a stays finite (a subnormal a's overflows, which
    // made y NaN where a (x + a) rounds to 0).
    V tiny = S1(0x1p-100f);
    q[0] = SEL(MAND(GT(ABS(p[0]), ZERO), LT(ABS(p[0]), tiny)), WITHSIGN(tiny, p[0]), p[0]);
    q[1] = DIV(ONE, q[0]);
    q[2] = MUL(q[1], q[1]);
}
FN void NAME(softexp_fin)(const V *q, V *acc) { (void)q; (void)acc; }
#define softexp_pos_prep softexp_prep
#define softexp_neg_prep softexp_prep
#define softexp_pos_fin softexp_fin
#define softexp_neg_fin softexp_fin
FN V NAME(softexp_pos_f)(V x, const V *q) {
    V a = q[0];
    return ADD(a, SEL(GT(ABS(a), ZERO), MUL(EXPM1(MUL(a, x)), q[1]), x));
}
// dy/da alone, ~ e^t t/a^2, overflows float from t ~ 84 (a = 0.3) where y and dy dy/da are still
// finite (and 0 x inf would be NaN where dy = 0, a dropped unit): dy is multiplied in first, as
// PyTorch's autograd does, so each product overflows only where its result does.
FN V NAME(softexp_pos_b)(V x, V y, V dy, const V *q, V *acc) {
    (void)y;
    V a = q[0], t = MUL(a, x);
    V dx = MUL(dy, EXP(t));
    // dy (dy/da - 1) is (x P(t)) (dy x) by the series, or 1/a^2 (dx (t - 1) + dy) closed: the
    // factors selected first, one multiplication for both.
    M series = LE(ABS(t), S1(0.5f));
    V f = SEL(series, MUL(x, POLY(t, NAME(softexp_p))), q[2]);
    V g = SEL(series, MUL(dy, x), FMA(dx, SUB(t, ONE), dy));
    acc[0] = ADD(acc[0], FMA(f, g, dy));
    return dx;
}

// For a < 0 with w = a (x + a), u = 1 - w (the argument of ln):
//   y = -ln(1 - w)/a
//   dy/dx = 1/u
//   dy/da = ln(u)/a^2 + (x + 2a)/(a u) = ((x + 2a)/u - y)/a = 1/u + (x + a)^2 R'(w),
//   R(w) = -ln(1 - w)/w = sum w^k/(k+1),  R'(w) = sum k w^(k-1)/(k+1)
// (the last form from R + w R' = (w R)' = 1/u). u as rounded differs from 1 - w by e, which for
// small w is a large part of w: y adds e back, ln(1 - w) = ln(u + e) ~ ln(u) + e, with e exact
// (Fast2Sum: |w| <= 1 where 0 < u < 2; e/u and e differ by e w/u, nothing next to ln(1 - w) ~ -w;
// for u >= 2 e is dropped, at most half an ulp of u next to ln(u) >= ln 2). So y keeps its relative
// accuracy for small w, where -ln(u)/a would cancel, with no division. The backward reads the
// forward's y instead of taking ln again: dy/da is the closed form in y for |w| > 1/8, and the
// series, whose two terms are positive, for |w| <= 1/8, where the closed form cancels (it loses
// about 2/|w| times y's error, 16x at the switch). Outside the domain
// (u <= CK_ACT_SOFTEXP_MIN_LOG_ARG), ln's argument is clamped: y = -ln(CK_ACT_SOFTEXP_MIN_LOG_ARG)/a,
// and dx and the parameter gradient are 0 there. Above 2^120 (x near +inf) u is clamped too, which
// keeps the SIMD reciprocals finite and changes nothing else in float.
/// R'(w) on |w| <= 1/8: interpolation at Chebyshev nodes (near minimax), 7 terms for a relative
/// error of 7.2e-8 evaluated in float, where the Taylor series needs 9.
static const float NAME(softexp_dr)[] = {0.5f, 0.666667044f, 0.750000358f, 0.799805105f, 0.833136022f,
                                         0.881942511f, 0.900107563f};
/// u clamped to [CK_ACT_SOFTEXP_MIN_LOG_ARG, 2^120].
FN V NAME(softexp_clamp)(V u) { return MIN(MAX(u, S1(CK_ACT_SOFTEXP_MIN_LOG_ARG)), S1(0x1p120f)); }
FN V NAME(softexp_neg_f)(V x, const V *q) {
    V a = q[0], w = MUL(a, ADD(x, a)), u = SUB(ONE, w);
    M exact = MAND(GT(u, S1(CK_ACT_SOFTEXP_MIN_LOG_ARG)), LT(u, S1(2.0f)));
    V rounding = SEL(exact, ADD(w, SUB(u, ONE)), ZERO);  // u - (1 - w), exact (Fast2Sum)
    return MUL(SUB(rounding, LOG(NAME(softexp_clamp)(u))), q[1]);
}
FN V NAME(softexp_neg_b)(V x, V y, V dy, const V *q, V *acc) {
    V a = q[0], xa = ADD(x, a), w = MUL(a, xa);
    V u = SUB(ONE, w);
    M inside = GT(u, S1(CK_ACT_SOFTEXP_MIN_LOG_ARG));
    V ru = RCP(NAME(softexp_clamp)(u));
    V closed = MUL(FMA(ADD(xa, a), ru, SUB(ZERO, y)), q[1]);
    V series = FMA(MUL(xa, xa), POLY(w, NAME(softexp_dr)), ru);
    V dyda = SEL(LE(ABS(w), S1(0.125f)), series, closed);
    // The domain mask goes on values computed anyway, not on dy: a masked load of dy (what
    // SEL(inside, dy, 0) compiles to) leaves its stream unprefetched, 1.4x the time from memory.
    acc[0] = FMA(dy, SEL(inside, dyda, ZERO), acc[0]);
    return MUL(dy, SEL(inside, ru, ZERO));
}
// Per-channel softexp: the sign of a differs by lane, compute both branches and select.
FN V NAME(softexp_f)(V x, const V *q) {
    return SEL(LT(q[0], ZERO), NAME(softexp_neg_f)(x, q), NAME(softexp_pos_f)(x, q));
}
FN V NAME(softexp_b)(V x, V y, V dy, const V *q, V *acc) {
    V an[1] = {acc[0]}, ap[1] = {acc[0]};
    V dxn = NAME(softexp_neg_b)(x, y, dy, q, an);
    V dxp = NAME(softexp_pos_b)(x, y, dy, q, ap);
    M neg = LT(q[0], ZERO);
    acc[0] = SEL(neg, an[0], ap[0]);
    return SEL(neg, dxn, dxp);
}

// MARK: - drivers

// Per-channel forward: on AVX-512 row by row over a per-panel scratch of derived parameters
// (fwd_panel); on AVX2 and the scalar reference by bands of CK_ACT_RB rows whose column blocks
// load and derive their parameters once per band (fwd_bands), which took 0.8x (AVX2, 128 x 512;
// the same at 1024 x 512) and 0.35-0.45x (scalar) the row-by-row time there. Same values either way.
#define CK_ACT_FWD_BY_ROWS (CK_ACT_ISA == 2)
#define CK_ACT_RB 4
// Rows per band of the per-channel backward.
#define CK_ACT_RB_BWD 4
// Columns per panel of the per-channel kernels (their stack scratch: NQ vectors per column block in
// the forward, NQ + NP in the backward).
#define CK_ACT_PANEL 1024

/// Forward and fused backward of ACT over x[rows, cols] with NP parameters and NQ derived values;
/// the backward loads the forward's output y only when READS_Y (else y may be NULL: ACT_b gets 0).
/// Scalar parameters: one pass over rows*cols elements, gradients accumulated in registers.
/// Per channel, the forward: see CK_ACT_FWD_BY_ROWS. A band's block (fwd_block) loads all its
/// inputs before it stores anything: with a row stride of 2 KiB (cols = 512), the store of row r and
/// the load of row r + 2 would otherwise be 4 KiB apart and stall on 4K aliasing. The backward works
/// by panels of CK_ACT_PANEL columns, keeping each column block's derived parameters and gradient
/// sums in a stack scratch, and by bands of CK_ACT_RB_BWD rows, a block's sums in registers over the
/// band (bwd_panel), writing dparams once per panel; inside a block it goes row by row: holding x and
/// dy of the band's rows beside the parameters and the accumulators spilled srelu's 4 + 4 + 8 vectors
/// out of AVX2's 16 registers, which cost more.
#define ACT_KERNELS(ACT, NP, NQ, READS_Y)                                                          \
    FN void NAME(ACT##_load)(const float *params, int64_t pstride, int64_t c, int64_t m, int full, \
                             V *q) {                                                               \
        V p[NP + 1];                                                                               \
        for (int k = 0; k < NP; k++)                                                               \
            p[k] = full ? LD(params + k * pstride + c) : LDM(params + k * pstride + c, m);         \
        NAME(ACT##_prep)(p, q);                                                                    \
    }                                                                                              \
    FN void NAME(ACT##_fwd_block)(const float *x, float *y, int64_t nr, int64_t cols, int64_t c,   \
                                  int64_t m, int full, const float *params) {                      \
        V q[NQ + 1], xs[CK_ACT_RB];                                                                \
        NAME(ACT##_load)(params, cols, c, m, full, q);                                             \
        for (int64_t r = 0; r < nr; r++) xs[r] = full ? LD(x + r * cols + c) : LDM(x + r * cols + c, m); \
        for (int64_t r = 0; r < nr; r++) {                                                         \
            int64_t o = r * cols + c;                                                              \
            if (full) ST(y + o, NAME(ACT##_f)(xs[r], q));                                          \
            else STM(y + o, NAME(ACT##_f)(xs[r], q), m);                                           \
        }                                                                                          \
    }                                                                                              \
    ATTR static void NAME(ACT##_fwd_bands)(const float *x, float *y, int64_t rows, int64_t cols,   \
                                           const float *params) {                                  \
        for (int64_t r0 = 0; r0 < rows; r0 += CK_ACT_RB) {                                         \
            int64_t nr = rows - r0 < CK_ACT_RB ? rows - r0 : CK_ACT_RB;                            \
            int64_t o = r0 * cols, c = 0;                                                          \
            if (nr == CK_ACT_RB) /* constant row count: the block unrolls into registers */       \
                for (; c + W <= cols; c += W)                                                      \
                    NAME(ACT##_fwd_block)(x + o, y + o, CK_ACT_RB, cols, c, W, 1, params);         \
            else                                                                                   \
                for (; c + W <= cols; c += W) NAME(ACT##_fwd_block)(x + o, y + o, nr, cols, c, W, 1, params); \
            if (c < cols) NAME(ACT##_fwd_block)(x + o, y + o, nr, cols, c, cols - c, 0, params);   \
        }                                                                                          \
    }                                                                                              \
    /* Columns [c0, c1) of every row, one stream through x and y. On AVX-512, bands of 8 rows    */  \
    /* with the block's derived parameters in registers took 1.3x this time at 128 x 512 (L2):  */  \
    /* each vector's NQ loads from the scratch (L1) cost less than the band's 8 + 8 streams.    */  \
    ATTR static void NAME(ACT##_fwd_panel)(const float *x, float *y, int64_t rows, int64_t cols,   \
                                           int64_t c0, int64_t c1, const float *params) {          \
        V qs[(CK_ACT_PANEL / W) * NQ + 1];                                                         \
        int64_t nf = (c1 - c0) / W, tail = c1 - c0 - nf * W;                                      \
        for (int64_t b = 0; b < nf; b++) NAME(ACT##_load)(params, cols, c0 + b * W, W, 1, qs + b * NQ); \
        if (tail) NAME(ACT##_load)(params, cols, c0 + nf * W, tail, 0, qs + nf * NQ);              \
        for (int64_t r = 0; r < rows; r++) {                                                       \
            const float *xr = x + r * cols + c0;                                                   \
            float *yr = y + r * cols + c0;                                                         \
            for (int64_t b = 0; b < nf; b++) ST(yr + b * W, NAME(ACT##_f)(LD(xr + b * W), qs + b * NQ)); \
            if (tail) STM(yr + nf * W, NAME(ACT##_f)(LDM(xr + nf * W, tail), qs + nf * NQ), tail); \
        }                                                                                          \
    }                                                                                              \
    ATTR static void NAME(ACT##_fwd)(const float *x, float *y, int64_t rows, int64_t cols,         \
                                     const float *params, int per_channel) {                       \
        if (!per_channel || NP == 0) {                                                             \
            V p[NP + 1], q[NQ + 1];                                                                \
            for (int k = 0; k < NP; k++) p[k] = S1(params[k]);                                     \
            NAME(ACT##_prep)(p, q);                                                                \
            int64_t n = rows * cols, i = 0;                                                        \
            for (; i + W <= n; i += W) ST(y + i, NAME(ACT##_f)(LD(x + i), q));                     \
            if (i < n) STM(y + i, NAME(ACT##_f)(LDM(x + i, n - i), q), n - i);                     \
            return;                                                                                \
        }                                                                                          \
        if (!CK_ACT_FWD_BY_ROWS) {                                                                 \
            NAME(ACT##_fwd_bands)(x, y, rows, cols, params);                                       \
            return;                                                                                \
        }                                                                                          \
        for (int64_t c0 = 0; c0 < cols; c0 += CK_ACT_PANEL)                                        \
            NAME(ACT##_fwd_panel)(x, y, rows, cols, c0, c0 + CK_ACT_PANEL < cols ? c0 + CK_ACT_PANEL : cols, params); \
    }                                                                                              \
    /* One block of nr rows by one column block; slot holds the block's NQ derived parameters and */          \
    /* its NP gradient sums, added to after the rows' contributions (fin applied per block, as */             \
    /* before the panels: the sums' rounding is what it was when they went into dparams directly). */         \
    FN void NAME(ACT##_bwd_block)(const float *x, const float *y, const float *dy, float *dx,                 \
                                  int64_t nr, int64_t cols, int64_t c, int64_t m, int full, V *slot) {        \
        V q[NQ + 1], acc[NP + 1];                                                                             \
        for (int k = 0; k < NQ; k++) q[k] = slot[k];                                                          \
        for (int k = 0; k < NP; k++) acc[k] = ZERO;                                                           \
        for (int64_t r = 0; r < nr; r++) {                                                                    \
            int64_t o = r * cols + c;                                                                         \
            if (full) {                                                                                       \
                V yo = READS_Y ? LD(y + o) : ZERO;                                                            \
                ST(dx + o, NAME(ACT##_b)(LD(x + o), yo, LD(dy + o), q, acc));                                 \
                continue;                                                                                     \
            }                                                                                                 \
            V part[NP + 1];                                                                                   \
            for (int k = 0; k < NP; k++) part[k] = ZERO;                                                      \
            V yo = READS_Y ? LDM(y + o, m) : ZERO;                                                            \
            STM(dx + o, NAME(ACT##_b)(LDM(x + o, m), yo, LDM(dy + o, m), q, part), m);                        \
            for (int k = 0; k < NP; k++) acc[k] = ADD(acc[k], KEEP(part[k], m));                              \
        }                                                                                                     \
        NAME(ACT##_fin)(q, acc);                                                                              \
        for (int k = 0; k < NP; k++) slot[NQ + k] = ADD(slot[NQ + k], full ? acc[k] : KEEP(acc[k], m));       \
    }                                                                                                         \
    /* Columns [c0, c1) over all rows, bands of CK_ACT_RB_BWD rows. The derived parameters and the */         \
    /* gradient sums of the panel's column blocks live side by side in a stack scratch (a block's */          \
    /* NQ + NP vectors in consecutive cache lines) instead of in NP + NQ rows of params and dparams */        \
    /* a row stride apart, which with x, dy and dx of the band's rows crowded the same L1 sets. */            \
    ATTR static void NAME(ACT##_bwd_panel)(const float *x, const float *y, const float *dy, float *dx,        \
                                           int64_t rows, int64_t cols, int64_t c0, int64_t c1,                \
                                           const float *params, float *dparams) {                             \
        enum { S = NQ + NP };                                                                                 \
        V slot[(CK_ACT_PANEL / W) * S + 1];                                                                   \
        int64_t nb = (c1 - c0 + W - 1) / W;                                                                   \
        for (int64_t b = 0; b < nb; b++) {                                                                    \
            int64_t c = c0 + b * W, m = c1 - c < W ? c1 - c : W;                                              \
            NAME(ACT##_load)(params, cols, c, m, m == W, slot + b * S);                                       \
            for (int k = 0; k < NP; k++)                                                                      \
                slot[b * S + NQ + k] = m == W ? LD(dparams + k * cols + c) : LDM(dparams + k * cols + c, m);  \
        }                                                                                                     \
        for (int64_t r0 = 0; r0 < rows; r0 += CK_ACT_RB_BWD) {                                                \
            int64_t nr = rows - r0 < CK_ACT_RB_BWD ? rows - r0 : CK_ACT_RB_BWD, o = r0 * cols;                \
            const float *yo = READS_Y ? y + o : NULL;                                                         \
            for (int64_t b = 0; b < nb; b++) {                                                                \
                int64_t c = c0 + b * W, m = c1 - c < W ? c1 - c : W;                                          \
                if (nr == CK_ACT_RB_BWD && m == W) /* constant row count: unrolled */                         \
                    NAME(ACT##_bwd_block)(x + o, yo, dy + o, dx + o, CK_ACT_RB_BWD, cols, c, W, 1, slot + b * S); \
                else NAME(ACT##_bwd_block)(x + o, yo, dy + o, dx + o, nr, cols, c, m, m == W, slot + b * S);  \
            }                                                                                                 \
        }                                                                                                     \
        for (int64_t b = 0; b < nb; b++) {                                                                    \
            int64_t c = c0 + b * W, m = c1 - c < W ? c1 - c : W;                                              \
            for (int k = 0; k < NP; k++) {                                                                    \
                if (m == W) ST(dparams + k * cols + c, slot[b * S + NQ + k]);                                 \
                else STM(dparams + k * cols + c, slot[b * S + NQ + k], m);                                    \
            }                                                                                                 \
        }                                                                                                     \
    }                                                                                                         \
    ATTR static void NAME(ACT##_bwd)(const float *x, const float *y, const float *dy, float *dx,              \
                                     int64_t rows, int64_t cols, const float *params,                         \
                                     int per_channel,                                                         \
                                     float *dparams) {                                                        \
        if (!per_channel || NP == 0) {                                                                        \
            V p[NP + 1], q[NQ + 1], acc[NP + 1], part[NP + 1];                                                \
            for (int k = 0; k < NP; k++) p[k] = S1(params[k]), acc[k] = ZERO, part[k] = ZERO;                 \
            NAME(ACT##_prep)(p, q);                                                                           \
            int64_t n = rows * cols, i = 0;                                                                   \
            for (; i + W <= n; i += W) {                                                                      \
                V yi = READS_Y ? LD(y + i) : ZERO;                                                            \
                ST(dx + i, NAME(ACT##_b)(LD(x + i), yi, LD(dy + i), q, acc));                                 \
            }                                                                                                 \
            if (i < n) {                                                                                      \
                V yi = READS_Y ? LDM(y + i, n - i) : ZERO;                                                    \
                STM(dx + i, NAME(ACT##_b)(LDM(x + i, n - i), yi, LDM(dy + i, n - i), q, part), n - i);        \
                for (int k = 0; k < NP; k++) acc[k] = ADD(acc[k], KEEP(part[k], n - i));                      \
            }                                                                                                 \
            NAME(ACT##_fin)(q, acc);                                                                          \
            for (int k = 0; k < NP; k++) dparams[k] += HSUM(acc[k]);                                          \
            return;                                                                                           \
        }                                                                                                     \
        for (int64_t c0 = 0; c0 < cols; c0 += CK_ACT_PANEL)                                                   \
            NAME(ACT##_bwd_panel)(x, y, dy, dx, rows, cols, c0, c0 + CK_ACT_PANEL < cols ? c0 + CK_ACT_PANEL : cols, \
                                  params, dparams);                                                           \
    }

ACT_KERNELS(relu, 0, 0, 0)
ACT_KERNELS(leaky_relu, 0, 0, 0)
ACT_KERNELS(sigmoid, 0, 0, 0)
ACT_KERNELS(tanh, 0, 0, 0)
ACT_KERNELS(gelu, 0, 0, 1)
ACT_KERNELS(silu, 0, 0, 0)
ACT_KERNELS(swish, 1, 1, 0)
ACT_KERNELS(isru, 1, 1, 0)
ACT_KERNELS(srelu, 4, 4, 0)
ACT_KERNELS(softexp_pos, 1, 3, 0)
ACT_KERNELS(softexp_neg, 1, 3, 1)
ACT_KERNELS(softexp, 1, 3, 1)
#undef softexp_pos_prep
#undef softexp_neg_prep
#undef softexp_pos_fin
#undef softexp_neg_fin
#undef COPY_PREP

// brelu: relu on even channels, -relu(-x) on odd ones. With xs = x with odd channels negated:
// y = flip(max(xs, 0)) (so odd channels give -0 for x > 0, as PyTorch), dx = xs > 0 ? dy : 0.
// A "line" starts at channel 0; when cols is even the whole matrix is one line.
FN void NAME(brelu_fwd_line)(const float *x, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + W <= n; i += W) {
        V xv = LD(x + i);
        ST(y + i, NAME(flip_odd)(MAX(NAME(flip_odd)(xv, i), ZERO), i));
    }
    if (i < n) {
        V xv = LDM(x + i, n - i);
        STM(y + i, NAME(flip_odd)(MAX(NAME(flip_odd)(xv, i), ZERO), i), n - i);
    }
}
FN void NAME(brelu_bwd_line)(const float *x, const float *dy, float *dx, int64_t n) {
    int64_t i = 0;
    for (; i + W <= n; i += W)
        ST(dx + i, SEL(GT(NAME(flip_odd)(LD(x + i), i), ZERO), LD(dy + i), ZERO));
    if (i < n)
        STM(dx + i, SEL(GT(NAME(flip_odd)(LDM(x + i, n - i), i), ZERO), LDM(dy + i, n - i), ZERO), n - i);
}
ATTR static void NAME(brelu_fwd)(const float *x, float *y, int64_t rows, int64_t cols,
                                 const float *params, int per_channel) {
    (void)params; (void)per_channel;
    if (cols % 2 == 0) { NAME(brelu_fwd_line)(x, y, rows * cols); return; }
    for (int64_t r = 0; r < rows; r++) NAME(brelu_fwd_line)(x + r * cols, y + r * cols, cols);
}
ATTR static void NAME(brelu_bwd)(const float *x, const float *y, const float *dy, float *dx,
                                 int64_t rows, int64_t cols, const float *params, int per_channel,
                                 float *dparams) {
    (void)y; (void)params; (void)per_channel; (void)dparams;
    if (cols % 2 == 0) { NAME(brelu_bwd_line)(x, dy, dx, rows * cols); return; }
    for (int64_t r = 0; r < rows; r++)
        NAME(brelu_bwd_line)(x + r * cols, dy + r * cols, dx + r * cols, cols);
}

#undef ACT_KERNELS
#undef CK_ACT_FWD_BY_ROWS
#undef CK_ACT_RB
#undef CK_ACT_RB_BWD
#undef CK_ACT_PANEL
#undef POLY
#undef S1
#undef LD
#undef ST
#undef LDM
#undef STM
#undef KEEP
#undef ADD
#undef SUB
#undef MUL
#undef DIV
#undef FMA
#undef MAX
#undef MIN
#undef ABS
#undef NABS
#undef WITHSIGN
#undef QUOT
#undef LT
#undef LE
#undef GT
#undef GE
#undef MAND
#undef MANDNOT
#undef SEL
#undef ADD_IF
#undef FMA_IF
#undef EXP
#undef EXPM1
#undef LOG
#undef PHI
#undef RSQRT
#undef RCP
#undef HSUM
#undef ZERO
#undef ONE
#undef V
#undef M
#undef W
#undef FN
#undef NAME
#undef ATTR
#undef SFX
#undef CK_ACT_ISA
