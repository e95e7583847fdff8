// Vectorised elementary functions for the activation kernels: exp, expm1, log, erf (AVX2) or the
// normal CDF (AVX-512), and 1/sqrt on
// 8 (AVX2+FMA) and 16 (AVX-512) float lanes, so the fast paths make no per-element libm calls.
// Internal, not part of the public interface. The scalar reference kernels use libm instead, and
// the tests compare every vector version with it.
//
// Accuracy, measured against double-precision libm (dense sweeps of [-104, 89] for exp/expm1,
// [FLT_MIN, 1e30] for log, [-6, 6] for erf, [1e-30, 1e30] for rsqrt), in units in the last place of
// the float result (ActivationTests.transcendentalsAgainstDoubleReferences checks them through the
// activations):
//   ck_exp8     <= 1.1 ulp (degree-6 minimax polynomial by Estrin's scheme, Cody-Waite reduction
//               by ln 2, 2^n from n's bits). Overflows to +inf above ~88.72; results below
//               ~1.7e-38 (x < ~-86.99) are +0, not subnormal.
//   ck_exp16    <= 1.4 ulp (32-entry table of 2^(j/32) and a degree-2 polynomial); overflows
//               above ~88.72, underflows gradually through the subnormals to +0 below ~-103.9.
//   ck_expm1_8  <= 2.5 ulp, including near 0 (no cancellation: 2^n (e^r - 1) + (2^n - 1) with
//               e^r - 1 = r Q(r) from the polynomial), -> -1 for x -> -inf; overflows to +inf
//               above ~88.72 (one ulp low from ~88.38, where 2^n - 1 = 2^128 - 1 is FLT_MAX).
//   ck_expm1_16 <= 2.7 ulp, including near 0 (ck_exp16's reduction, a degree-3 polynomial);
//               overflows above ~88.72.
//   ck_log8     <= 1 ulp for normal positive x (Cephes polynomial on the mantissa in
//               [sqrt(1/2), sqrt(2))); subnormal x is treated as FLT_MIN (log ~ -87.34).
//   ck_log16    <= 1.5 ulp for positive x, subnormals included (32-entry table, degree-5
//               polynomial). Both: log(0) = -inf, log(x < 0) = NaN, log(+inf) = +inf.
//   ck_erf8     <= 7.5 ulp, absolute error < 4e-7 (Eigen's rational approximation on [-4, 4],
//               +-1 outside, which is exact in float; divides by a reciprocal, 6 ulp).
//   ck_phi16    Phi(x) = (1 + erf(x/sqrt 2))/2 by the same rational function, absolute error
//               < 3e-7 (gelu needs Phi, not erf).
//   ck_rcp*     <= 2.5 ulp (AVX2) for normal finite |x| < 2^126; AVX-512 divides (0.5 ulp).
//   ck_rsqrt*   <= 2.5 ulp (AVX2), <= 2 ulp (AVX-512) for normal positive finite x (hardware
//               estimate + one Newton step; 1/x likewise on AVX2).
// NaN inputs give NaN outputs for exp, expm1, log, erf and Phi. The AVX2 versions evaluate their
// polynomials by Estrin's scheme: the activation loops are bound by the latency of these chains.
// The AVX-512 versions are written for the fewest multiply/FMA instructions: on Zen 5 the
// activation loops keep its two FMA pipes busy (one 512-bit operation a cycle), while permutes,
// vgetexp/vgetmant, logic, additions and the divider have room beside them.
#ifndef CKERNELS_VECMATH_H
#define CKERNELS_VECMATH_H

#include "internal.h"

#if CK_HAVE_X86

// Constants (Cephes: ln 2 in two parts, the log polynomial).
#define CK_EXP_LO (-104.0f)               // below: result 0 (or -1 for expm1)
#define CK_EXP_HI (89.0f)                 // above: result +inf
#define CK_LOG2E 1.44269504088896341f
#define CK_LN2_HI 0.693359375f            // ln 2 = CK_LN2_HI + CK_LN2_LO, HI exact in 8 bits
#define CK_LN2_LO (-2.12194440e-4f)
// AVX2 exp and expm1: e^r - 1 = r Q(r), Q(r) = 1 + c2 r + ... + c6 r^5 fitted for the least
// maximum relative error of (e^r - 1)/r on |r| <= ln2/2 (0.22 ulp before float rounding), and the
// clamp range of the bit trick that builds 2^(n-1) (ck_exp_reduce8).
#define CK_EXP8_C2 0.49999997f
#define CK_EXP8_C3 0.16666543f
#define CK_EXP8_C4 0.0416672f
#define CK_EXP8_C5 0.008366513f
#define CK_EXP8_C6 0.0013882517f
#define CK_EXP8_LO (-87.3f)               // n = -126: results below ~1.7e-38 are 0
#define CK_EXP8_HI 88.73f                 // n = 128: e^x overflows to +inf from ~88.72
#define CK_EXP8_SHIFTER 12583038.0f       // 1.5 2^23 + 126
#define CK_SQRTHF 0.707106781186547524f
#define CK_LOG_P0 7.0376836292e-2f
#define CK_LOG_P1 (-1.1514610310e-1f)
#define CK_LOG_P2 1.1676998740e-1f
#define CK_LOG_P3 (-1.2420140846e-1f)
#define CK_LOG_P4 1.4249322787e-1f
#define CK_LOG_P5 (-1.6668057665e-1f)
#define CK_LOG_P6 2.0000714765e-1f
#define CK_LOG_P7 (-2.4999993993e-1f)
#define CK_LOG_P8 3.3333331174e-1f
// erf(x) ~ x * P(x^2) / Q(x^2) on [-4, 4] (Eigen's generic_fast_erf_float).
#define CK_ERF_A1 (-2.72614225801306e-10f)
#define CK_ERF_A3 2.77068142495902e-08f
#define CK_ERF_A5 (-2.10102402082508e-06f)
#define CK_ERF_A7 (-5.69250639462346e-05f)
#define CK_ERF_A9 (-7.34990630326855e-04f)
#define CK_ERF_A11 (-2.95459980854025e-03f)
#define CK_ERF_A13 (-1.60960333262415e-02f)
#define CK_ERF_B0 (-1.45660718464996e-05f)
#define CK_ERF_B2 (-2.13374055278905e-04f)
#define CK_ERF_B4 (-1.68282697438203e-03f)
#define CK_ERF_B6 (-7.37332916720468e-03f)
#define CK_ERF_B8 (-1.42647390514189e-02f)

// MARK: AVX2 + FMA, 8 lanes

/// Shared by exp and expm1 (AVX2): x = n ln2 + r, |r| <= ln2/2, with x clamped to
/// [CK_EXP8_LO, CK_EXP8_HI]; returns r and s = 2^(n-1), built from n's bits directly. n runs from
/// -126 (s = 2^-127 would be subnormal: its bits are 0, so s = 0) to 128 (s = 2^127).
CK_TARGET_AVX2 static inline __m256 ck_exp_reduce8(__m256 x, __m256 *s_out) {
    // max/min return their second operand when one is NaN: this order keeps NaN.
    x = _mm256_min_ps(_mm256_set1_ps(CK_EXP8_HI), _mm256_max_ps(_mm256_set1_ps(CK_EXP8_LO), x));
    // t = 1.5 2^23 + 126 + x log2(e) rounds x log2(e) to the nearest integer n: the low bits of
    // t's mantissa are n + 126, shifted into the exponent field they make 2^(n-1).
    __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(CK_LOG2E), _mm256_set1_ps(CK_EXP8_SHIFTER));
    __m256 n = _mm256_sub_ps(t, _mm256_set1_ps(CK_EXP8_SHIFTER));
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(CK_LN2_HI), x);
    *s_out = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(t), 23));
    return _mm256_fnmadd_ps(n, _mm256_set1_ps(CK_LN2_LO), r);
}

/// 2 Q(r) = 2 (e^r - 1) / r, the part exp and expm1 share. Estrin's scheme: the activation loops
/// are bound by the latency of their dependency chains, and this one takes 3 FMAs in a row instead
/// of Horner's 5.
CK_TARGET_AVX2 static inline __m256 ck_exp_poly8(__m256 r) {
    __m256 r2 = _mm256_mul_ps(r, r);
    __m256 p01 = _mm256_fmadd_ps(_mm256_set1_ps(2 * CK_EXP8_C2), r, _mm256_set1_ps(2.0f));
    __m256 p23 = _mm256_fmadd_ps(_mm256_set1_ps(2 * CK_EXP8_C4), r, _mm256_set1_ps(2 * CK_EXP8_C3));
    __m256 p45 = _mm256_fmadd_ps(_mm256_set1_ps(2 * CK_EXP8_C6), r, _mm256_set1_ps(2 * CK_EXP8_C5));
    return _mm256_fmadd_ps(_mm256_fmadd_ps(p45, r2, p23), r2, p01);
}

/// e^x.
CK_TARGET_AVX2 static inline __m256 ck_exp8(__m256 x) {
    __m256 s;
    __m256 r = ck_exp_reduce8(x, &s);
    // 2 e^r, times 2^(n-1).
    return _mm256_mul_ps(_mm256_fmadd_ps(ck_exp_poly8(r), r, _mm256_set1_ps(2.0f)), s);
}

/// e^x - 1, accurate near 0: 2^(n-1) 2 (e^r - 1) + (2^n - 1), exact for n = 0. At n = 128 (x above
/// ~88.38) 2^n - 1 is no float: FLT_MAX = 2^128 - 2^104 stands in for it, which puts the sum one ulp
/// (2^104) low before its rounding there, and e^x - 1 overflows where e^x does.
CK_TARGET_AVX2 static inline __m256 ck_expm1_8(__m256 x) {
    __m256 s;
    __m256 r = ck_exp_reduce8(x, &s);
    __m256 two_em1 = _mm256_mul_ps(ck_exp_poly8(r), r);
    __m256 pow2m1 = _mm256_min_ps(_mm256_fmsub_ps(s, _mm256_set1_ps(2.0f), _mm256_set1_ps(1.0f)), _mm256_set1_ps(0x1.fffffep127f));
    return _mm256_fmadd_ps(two_em1, s, pow2m1);
}

/// Natural logarithm.
CK_TARGET_AVX2 static inline __m256 ck_log8(__m256 x) {
    __m256 xc = _mm256_max_ps(x, _mm256_set1_ps(1.17549435e-38f));  // FLT_MIN
    __m256i xi = _mm256_castps_si256(xc);
    __m256 e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(xi, 23), _mm256_set1_epi32(126)));
    __m256 m = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(xi, _mm256_set1_epi32(0x007fffff)),
                                                   _mm256_set1_epi32(0x3f000000)));  // [0.5, 1)
    __m256 small = _mm256_cmp_ps(m, _mm256_set1_ps(CK_SQRTHF), _CMP_LT_OQ);
    e = _mm256_sub_ps(e, _mm256_and_ps(small, _mm256_set1_ps(1.0f)));
    m = _mm256_sub_ps(_mm256_add_ps(m, _mm256_and_ps(small, m)), _mm256_set1_ps(1.0f));
    // P(m) = P0 m^8 + ... + P8 by Estrin's scheme (4 FMAs in a row instead of 8; see ck_exp_poly8).
    __m256 z = _mm256_mul_ps(m, m), z2 = _mm256_mul_ps(z, z);
    __m256 e0 = _mm256_fmadd_ps(_mm256_set1_ps(CK_LOG_P7), m, _mm256_set1_ps(CK_LOG_P8));
    __m256 e1 = _mm256_fmadd_ps(_mm256_set1_ps(CK_LOG_P5), m, _mm256_set1_ps(CK_LOG_P6));
    __m256 e2 = _mm256_fmadd_ps(_mm256_set1_ps(CK_LOG_P3), m, _mm256_set1_ps(CK_LOG_P4));
    __m256 e3 = _mm256_fmadd_ps(_mm256_set1_ps(CK_LOG_P1), m, _mm256_set1_ps(CK_LOG_P2));
    __m256 f0 = _mm256_fmadd_ps(e1, z, e0), f1 = _mm256_fmadd_ps(e3, z, e2);
    __m256 p = _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(CK_LOG_P0), z2, f1), z2, f0);
    __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, m), z);
    y = _mm256_fmadd_ps(e, _mm256_set1_ps(CK_LN2_LO), y);
    y = _mm256_fnmadd_ps(z, _mm256_set1_ps(0.5f), y);
    y = _mm256_add_ps(m, y);
    y = _mm256_fmadd_ps(e, _mm256_set1_ps(CK_LN2_HI), y);
    // Special values: x < 0 or NaN -> NaN, 0 -> -inf, +inf -> +inf.
    y = _mm256_blendv_ps(y, _mm256_set1_ps(-__builtin_inff()), _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_EQ_OQ));
    y = _mm256_blendv_ps(y, _mm256_set1_ps(__builtin_inff()), _mm256_cmp_ps(x, _mm256_set1_ps(__builtin_inff()), _CMP_EQ_OQ));
    return _mm256_blendv_ps(y, _mm256_set1_ps(__builtin_nanf("")), _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_NGE_UQ));
}

/// 1/x for normal finite x with |x| < 2^126 (hardware estimate + one Newton step).
CK_TARGET_AVX2 static inline __m256 ck_rcp8(__m256 x) {
    __m256 r = _mm256_rcp_ps(x);  // 12-bit estimate
    return _mm256_mul_ps(r, _mm256_fnmadd_ps(x, r, _mm256_set1_ps(2.0f)));
}

/// erf(x). P and Q by Estrin's scheme (see ck_exp_poly8).
CK_TARGET_AVX2 static inline __m256 ck_erf8(__m256 x) {
    x = _mm256_min_ps(_mm256_set1_ps(4.0f), _mm256_max_ps(_mm256_set1_ps(-4.0f), x));
    __m256 x2 = _mm256_mul_ps(x, x), x4 = _mm256_mul_ps(x2, x2), x8 = _mm256_mul_ps(x4, x4);
    __m256 p0 = _mm256_fmadd_ps(_mm256_set1_ps(CK_ERF_A11), x2, _mm256_set1_ps(CK_ERF_A13));
    __m256 p1 = _mm256_fmadd_ps(_mm256_set1_ps(CK_ERF_A7), x2, _mm256_set1_ps(CK_ERF_A9));
    __m256 p2 = _mm256_fmadd_ps(_mm256_set1_ps(CK_ERF_A3), x2, _mm256_set1_ps(CK_ERF_A5));
    __m256 p = _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(CK_ERF_A1), x4, p2), x8,
                               _mm256_fmadd_ps(p1, x4, p0));
    __m256 q0 = _mm256_fmadd_ps(_mm256_set1_ps(CK_ERF_B6), x2, _mm256_set1_ps(CK_ERF_B8));
    __m256 q1 = _mm256_fmadd_ps(_mm256_set1_ps(CK_ERF_B2), x2, _mm256_set1_ps(CK_ERF_B4));
    __m256 q = _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(CK_ERF_B0), x4, q1), x4, q0);
    return _mm256_mul_ps(_mm256_mul_ps(x, p), ck_rcp8(q));
}

/// 1/sqrt(x) for normal positive finite x.
CK_TARGET_AVX2 static inline __m256 ck_rsqrt8(__m256 x) {
    __m256 r = _mm256_rsqrt_ps(x);  // 12-bit estimate
    __m256 hr = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), r);
    return _mm256_mul_ps(r, _mm256_fnmadd_ps(hr, r, _mm256_set1_ps(1.5f)));
}

// MARK: AVX-512, 16 lanes

/// 2^(j/32) for j = 0..31 rounded to float, in two registers for vpermt2ps (entries 0-15, 16-31).
#define CK_EXP2_32NDS_LO                                                                          \
    _mm512_setr_ps(1.0f, 1.0218972f, 1.04427373f, 1.06714046f, 1.09050775f, 1.1143868f,          \
                   1.13878858f, 1.1637249f, 1.18920708f, 1.21524739f, 1.24185777f, 1.26905096f,   \
                   1.29683959f, 1.32523668f, 1.35425556f, 1.38390994f)
#define CK_EXP2_32NDS_HI                                                                          \
    _mm512_setr_ps(1.41421354f, 1.44518077f, 1.47682619f, 1.50916445f, 1.54221082f, 1.5759809f,  \
                   1.61049032f, 1.64575553f, 1.68179286f, 1.71861935f, 1.75625217f, 1.79470909f,  \
                   1.8340081f, 1.87416768f, 1.91520655f, 1.95714414f)
/// (2^(j/32) - t_j)/t_j for those floats t_j: their rounding (up to 5.6e-8), added back.
#define CK_EXP2_32NDS_CORRECTION_LO                                                               \
    _mm512_setr_ps(0.0f, -4.70845762e-08f, 4.62854715e-08f, -5.56042252e-08f, -1.19921575e-08f,  \
                   -4.87760623e-08f, 4.72978243e-08f, -3.48144269e-08f, 3.19341815e-08f,          \
                   -2.68866653e-08f, 3.62105723e-08f, 1.11842102e-09f, -3.09907193e-08f,          \
                   -2.63830096e-08f, -7.47521334e-09f, -4.24563567e-08f)
#define CK_EXP2_32NDS_CORRECTION_HI                                                               \
    _mm512_setr_ps(1.71142709e-08f, 2.30019666e-08f, -3.04768335e-08f, -1.65385377e-08f,         \
                   5.23333421e-09f, -3.5920646e-08f, 6.10759177e-09f, -3.11405444e-08f,           \
                   -1.47196051e-08f, -2.82181016e-08f, -5.25879518e-09f, -6.36038733e-09f,        \
                   -6.12825968e-09f, -2.48804088e-08f, 5.14060927e-09f, -8.69726691e-09f)
#define CK_EXP32_SHIFTER 393216.0f  // 1.5 2^18: adding it rounds to a multiple of 1/32

/// Shared by exp and expm1 (AVX-512): x (clamped to [CK_EXP_LO, CK_EXP_HI], NaN kept) = n ln2 + r,
/// n = k/32, |r| <= ln2/64; returns r, the table entry t = 2^(k mod 32 / 32), its correction c
/// (2^(k mod 32 / 32) = t (1 + c)), and n (vscalefps multiplies by 2^floor(n)).
CK_TARGET_AVX512 static inline __m512 ck_exp_reduce16(__m512 x, __m512 *n, __m512 *t, __m512 *c) {
    x = _mm512_min_ps(_mm512_set1_ps(CK_EXP_HI), _mm512_max_ps(_mm512_set1_ps(CK_EXP_LO), x));
    // The last bit of s's mantissa weighs 1/32: its low 5 bits are k mod 32, and n = k/32 exactly.
    __m512 s = _mm512_fmadd_ps(x, _mm512_set1_ps(CK_LOG2E), _mm512_set1_ps(CK_EXP32_SHIFTER));
    __m512i j = _mm512_castps_si512(s);
    *n = _mm512_sub_ps(s, _mm512_set1_ps(CK_EXP32_SHIFTER));
    *t = _mm512_permutex2var_ps(CK_EXP2_32NDS_LO, j, CK_EXP2_32NDS_HI);
    *c = _mm512_permutex2var_ps(CK_EXP2_32NDS_CORRECTION_LO, j, CK_EXP2_32NDS_CORRECTION_HI);
    __m512 r = _mm512_fnmadd_ps(*n, _mm512_set1_ps(CK_LN2_HI), x);
    return _mm512_fnmadd_ps(*n, _mm512_set1_ps(CK_LN2_LO), r);
}

/// e^x = 2^floor(n) t (1 + c) e^r with e^r - 1 ~ r (c1 + c2 r), fitted for the least maximum
/// relative error of e^r on |r| <= ln2/64 (5.4e-8): 6 multiply/FMA-class instructions besides
/// vscalefps, against 10 for a degree-6 polynomial on |r| <= ln2/2. vscalefps overflows to +inf and
/// underflows through the subnormals to +0.
CK_TARGET_AVX512 static inline __m512 ck_exp16(__m512 x) {
    __m512 n, t, c;
    __m512 r = ck_exp_reduce16(x, &n, &t, &c);
    __m512 q = _mm512_fmadd_ps(_mm512_set1_ps(0.50000453f), r, _mm512_set1_ps(1.00001466f));
    return _mm512_scalef_ps(_mm512_fmadd_ps(t, _mm512_fmadd_ps(r, q, c), t), n);
}

/// e^x - 1 as ck_exp16 reduces x: with h = 2^floor(n) t (exact), e^x - 1 = (h - 1) + h (p + c),
/// p = e^r - 1 = r + r^2 (1/2 + r/6) (relative error < 5.3e-8). Evaluated at half scale, h/2 - 1/2
/// + (h/2) (p + c), and doubled: h/2 - 1/2 is exact wherever the result is small (h/2 in [1/4, 1]),
/// so nothing cancels near 0, and h/2 stays finite up to x = 89 (h itself is +inf from ~88.71, where
/// the result may still be finite), which spares an overflow path (2 of 10 multiply-pipe
/// instructions). Doubling is exact but for subnormal results (|x| < 2^-125: 1 subnormal ulp).
CK_TARGET_AVX512 static inline __m512 ck_expm1_16(__m512 x) {
    __m512 n, t, c;
    __m512 r = ck_exp_reduce16(x, &n, &t, &c);
    __m512 h = _mm512_scalef_ps(t, _mm512_sub_ps(n, _mm512_set1_ps(1.0f)));
    __m512 p = _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_set1_ps(1.0f / 6), r, _mm512_set1_ps(0.5f)),
                               _mm512_mul_ps(r, r), r);
    __m512 y = _mm512_fmadd_ps(h, _mm512_add_ps(p, c), _mm512_sub_ps(h, _mm512_set1_ps(0.5f)));
    return _mm512_add_ps(y, y);
}

/// ck_log16's tables, 32 entries in two registers each: for the mantissa m in [3/4, 3/2) (vgetmantps),
/// entry i covers m in [1 + i/32, 1 + (i+1)/32) for i < 16 and [1/2 + i/64, 1/2 + (i+1)/64) for
/// i >= 16 (i = m's top 5 mantissa bits); 1/c rounded to float for the interval's midpoint c (c = 1
/// for the two intervals beside 1, so that log stays relatively accurate there), and -log(1/c).
#define CK_LOG_INVC_LO                                                                            \
    _mm512_setr_ps(1.0f, 0.955223858f, 0.927536249f, 0.901408434f, 0.876712322f, 0.853333354f,   \
                   0.83116883f, 0.810126603f, 0.790123463f, 0.771084309f, 0.752941191f,           \
                   0.735632181f, 0.719101131f, 0.703296721f, 0.688172042f, 0.673684239f)
#define CK_LOG_INVC_HI                                                                            \
    _mm512_setr_ps(1.31958759f, 1.29292929f, 1.26732671f, 1.24271846f, 1.21904767f, 1.19626164f, \
                   1.17431188f, 1.15315318f, 1.13274336f, 1.11304343f, 1.09401715f, 1.07563031f,  \
                   1.0578512f, 1.04065037f, 1.02400005f, 1.0f)
#define CK_LOG_LOGC_LO                                                                            \
    _mm512_setr_ps(0.0f, 0.0458095595f, 0.0752234012f, 0.10379681f, 0.131576359f, 0.158605009f,  \
                   0.184922338f, 0.210564747f, 0.235566065f, 0.259957552f, 0.283768147f,          \
                   0.307025045f, 0.32975328f, 0.351976395f, 0.373716414f, 0.394993752f)
#define CK_LOG_LOGC_HI                                                                            \
    _mm512_setr_ps(-0.277319252f, -0.256910414f, -0.236909732f, -0.217301279f, -0.198069945f,    \
                   -0.179201394f, -0.160682335f, -0.142500088f, -0.124642439f, -0.107098088f,     \
                   -0.0898563787f, -0.072906822f, -0.0562396757f, -0.0398458727f,                 \
                   -0.0237165745f, 0.0f)

/// log x = e ln2 + log(c) + log(1 + r), x = 2^e m with m in [3/4, 3/2) (vgetexpps, vgetmantps),
/// r = m/c - 1, |r| <= 1/32, log(1 + r) by a degree-5 Taylor polynomial (relative error < 5e-9),
/// c and log c from 32-entry tables (vpermt2ps). Subnormals are exact inputs; log(+-0) = -inf,
/// log(x < 0) = NaN (vgetmantps' sign control), log(+inf) = +inf.
CK_TARGET_AVX512 static inline __m512 ck_log16(__m512 x) {
    __m512 m = _mm512_getmant_ps(x, _MM_MANT_NORM_p75_1p5, _MM_MANT_SIGN_nan);
    __m512 e = _mm512_getexp_ps(x);  // floor(log2 x): one less where m came out below 1
    e = _mm512_mask_add_ps(e, _mm512_cmp_ps_mask(m, _mm512_set1_ps(1.0f), _CMP_LT_OQ), e, _mm512_set1_ps(1.0f));
    __m512i i = _mm512_srli_epi32(_mm512_castps_si512(m), 18);
    __m512 invc = _mm512_permutex2var_ps(CK_LOG_INVC_LO, i, CK_LOG_INVC_HI);
    __m512 logc = _mm512_permutex2var_ps(CK_LOG_LOGC_LO, i, CK_LOG_LOGC_HI);
    __m512 r = _mm512_fmsub_ps(m, invc, _mm512_set1_ps(1.0f)), r2 = _mm512_mul_ps(r, r);
    __m512 odd = _mm512_fmadd_ps(_mm512_set1_ps(1.0f / 3), r, _mm512_set1_ps(-0.5f));
    __m512 even = _mm512_fmadd_ps(_mm512_set1_ps(0.2f), r, _mm512_set1_ps(-0.25f));
    __m512 log1p = _mm512_fmadd_ps(_mm512_fmadd_ps(even, r2, odd), r2, r);
    return _mm512_fmadd_ps(e, _mm512_set1_ps(0.693147180559945309f), _mm512_add_ps(logc, log1p));
}

/// Phi(x) = (1 + erf(x/sqrt 2))/2, the standard normal CDF, for gelu: ck_erf8's rational function
/// with x/sqrt 2 and the halving folded into its coefficients, Phi(x) = 1/2 + x P(x^2)/Q(x^2) on
/// |x| <= 4 sqrt 2 (x clamped there: Phi rounds to 0 or 1 beyond), which saves the multiplications
/// by 1/sqrt 2 and 1/2 and an addition's FMA. The caller passes x^2 too (gelu's backward needs it).
CK_TARGET_AVX512 static inline __m512 ck_phi16(__m512 x, __m512 x2) {
    const float c = 0.353553391f;  // 1/(2 sqrt 2)
    x = _mm512_min_ps(_mm512_set1_ps(5.65685425f), _mm512_max_ps(_mm512_set1_ps(-5.65685425f), x));
    x2 = _mm512_min_ps(_mm512_set1_ps(32.0f), x2);  // x^2 of the clamped x (NaN kept)
    __m512 p = _mm512_set1_ps(CK_ERF_A1 * c / 64);
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(CK_ERF_A3 * c / 32));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(CK_ERF_A5 * c / 16));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(CK_ERF_A7 * c / 8));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(CK_ERF_A9 * c / 4));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(CK_ERF_A11 * c / 2));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(CK_ERF_A13 * c));
    __m512 q = _mm512_set1_ps(CK_ERF_B0 / 16);
    q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(CK_ERF_B2 / 8));
    q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(CK_ERF_B4 / 4));
    q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(CK_ERF_B6 / 2));
    q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(CK_ERF_B8));
    return _mm512_add_ps(_mm512_set1_ps(0.5f), _mm512_div_ps(_mm512_mul_ps(x, p), q));
}

/// 1/x, correctly rounded. A division, not vrcp14ps and a Newton step: on Zen 5 the divider works
/// beside the two FMA pipes the activation loops saturate, and sigmoid ran 10% faster with it.
CK_TARGET_AVX512 static inline __m512 ck_rcp16(__m512 x) { return _mm512_div_ps(_mm512_set1_ps(1.0f), x); }

CK_TARGET_AVX512 static inline __m512 ck_rsqrt16(__m512 x) {
    __m512 r = _mm512_rsqrt14_ps(x);  // 14-bit estimate
    __m512 hr = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), r);
    return _mm512_mul_ps(r, _mm512_fnmadd_ps(hr, r, _mm512_set1_ps(1.5f)));
}

#endif  // CK_HAVE_X86
#endif
