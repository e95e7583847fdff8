// Vectorised elementary functions for the activation kernels: exp, expm1, log, erf and 1/sqrt on
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
//   ck_exp16    <= 1.1 ulp (Cephes polynomial); overflows above ~88.72, underflows gradually
//               through the subnormals to +0 below ~-103.9.
//   ck_expm1_8  <= 2.5 ulp, including near 0 (no cancellation: 2^n (e^r - 1) + (2^n - 1) with
//               e^r - 1 = r Q(r) from the polynomial), -> -1 for x -> -inf; overflows to +inf
//               above ~88.38 (where 2^n = 2^128).
//   ck_expm1_16 <= 1.5 ulp, as ck_expm1_8 with the Cephes polynomial; overflows above ~88.72.
//   ck_log*     <= 1 ulp for normal positive x (Cephes polynomial on the mantissa in
//               [sqrt(1/2), sqrt(2))); log(0) = -inf, log(x < 0) = NaN, log(+inf) = +inf.
//               Subnormal x is treated as FLT_MIN (log ~ -87.34): the kernels never pass one.
//   ck_erf*     <= 7.5 ulp, absolute error < 4e-7 (Eigen's rational approximation on [-4, 4],
//               +-1 outside, which is exact in float; AVX2 divides by a reciprocal, 6 ulp).
//   ck_rcp*     <= 2.5 ulp (AVX2), <= 1.5 ulp (AVX-512) for normal finite |x| < 2^126.
//   ck_rsqrt*   <= 2.5 ulp (AVX2), <= 2 ulp (AVX-512) for normal positive finite x (hardware
//               estimate + one Newton step; 1/x likewise).
// NaN inputs give NaN outputs for exp, expm1, log and erf. The AVX2 versions evaluate their
// polynomials by Estrin's scheme: the activation loops are bound by the latency of these chains.
#ifndef CKERNELS_VECMATH_H
#define CKERNELS_VECMATH_H

#include "internal.h"

#if CK_HAVE_X86

// Cephes constants.
#define CK_EXP_LO (-104.0f)               // below: result 0 (or -1 for expm1)
#define CK_EXP_HI (89.0f)                 // above: result +inf
#define CK_LOG2E 1.44269504088896341f
#define CK_LN2_HI 0.693359375f            // ln 2 = CK_LN2_HI + CK_LN2_LO, HI exact in 8 bits
#define CK_LN2_LO (-2.12194440e-4f)
#define CK_EXP_P0 1.9875691500e-4f
#define CK_EXP_P1 1.3981999507e-3f
#define CK_EXP_P2 8.3334519073e-3f
#define CK_EXP_P3 4.1665795894e-2f
#define CK_EXP_P4 1.6666665459e-1f
#define CK_EXP_P5 5.0000001201e-1f
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

/// e^x - 1, accurate near 0: 2^(n-1) 2 (e^r - 1) + (2^n - 1), exact for n = 0.
CK_TARGET_AVX2 static inline __m256 ck_expm1_8(__m256 x) {
    __m256 s;
    __m256 r = ck_exp_reduce8(x, &s);
    __m256 two_em1 = _mm256_mul_ps(ck_exp_poly8(r), r);
    return _mm256_fmadd_ps(two_em1, s, _mm256_fmsub_ps(s, _mm256_set1_ps(2.0f), _mm256_set1_ps(1.0f)));
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

CK_TARGET_AVX512 static inline __m512 ck_pow2i16(__m512i k) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(k, _mm512_set1_epi32(127)), 23));
}

CK_TARGET_AVX512 static inline __m512 ck_exp_reduce16(__m512 x, __m512 *n_out) {
    x = _mm512_min_ps(_mm512_set1_ps(CK_EXP_HI), _mm512_max_ps(_mm512_set1_ps(CK_EXP_LO), x));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(CK_LOG2E)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(CK_LN2_HI), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(CK_LN2_LO), r);
    __m512 p = _mm512_set1_ps(CK_EXP_P0);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(CK_EXP_P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(CK_EXP_P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(CK_EXP_P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(CK_EXP_P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(CK_EXP_P5));
    *n_out = n;
    return _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r);
}

CK_TARGET_AVX512 static inline __m512 ck_exp16(__m512 x) {
    // No clamping: scalef handles any n (overflow to inf, subnormals, 0), and for |x| beyond the
    // float range r is meaningless but finite, so the result is still inf or 0. Horner down to
    // the constant term (1 + r (1 + r (1/2 + ...))): 11 instructions.
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(CK_LOG2E)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(CK_LN2_HI), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(CK_LN2_LO), r);
    __m512 p = _mm512_set1_ps(CK_EXP_P0);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(CK_EXP_P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(CK_EXP_P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(CK_EXP_P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(CK_EXP_P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(CK_EXP_P5));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

CK_TARGET_AVX512 static inline __m512 ck_expm1_16(__m512 x) {
    __m512 n;
    __m512 em1 = ck_exp_reduce16(x, &n);
    __m512i k = _mm512_cvtps_epi32(n), k1 = _mm512_srai_epi32(k, 1), k2 = _mm512_sub_epi32(k, k1);
    __m512 p1 = ck_pow2i16(k1), p2 = ck_pow2i16(k2), pm2 = ck_pow2i16(_mm512_sub_epi32(_mm512_setzero_si512(), k2));
    return _mm512_mul_ps(_mm512_fmadd_ps(em1, p1, _mm512_sub_ps(p1, pm2)), p2);
}

CK_TARGET_AVX512 static inline __m512 ck_log16(__m512 x) {
    __m512 xc = _mm512_max_ps(x, _mm512_set1_ps(1.17549435e-38f));
    __m512i xi = _mm512_castps_si512(xc);
    __m512 e = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_srli_epi32(xi, 23), _mm512_set1_epi32(126)));
    __m512 m = _mm512_castsi512_ps(_mm512_or_si512(_mm512_and_si512(xi, _mm512_set1_epi32(0x007fffff)),
                                                   _mm512_set1_epi32(0x3f000000)));
    __mmask16 small = _mm512_cmp_ps_mask(m, _mm512_set1_ps(CK_SQRTHF), _CMP_LT_OQ);
    e = _mm512_mask_sub_ps(e, small, e, _mm512_set1_ps(1.0f));
    m = _mm512_sub_ps(_mm512_mask_add_ps(m, small, m, m), _mm512_set1_ps(1.0f));
    __m512 z = _mm512_mul_ps(m, m);
    __m512 p = _mm512_set1_ps(CK_LOG_P0);
    p = _mm512_fmadd_ps(p, m, _mm512_set1_ps(CK_LOG_P1));
    p = _mm512_fmadd_ps(p, m, _mm512_set1_ps(CK_LOG_P2));
    p = _mm512_fmadd_ps(p, m, _mm512_set1_ps(CK_LOG_P3));
    p = _mm512_fmadd_ps(p, m, _mm512_set1_ps(CK_LOG_P4));
    p = _mm512_fmadd_ps(p, m, _mm512_set1_ps(CK_LOG_P5));
    p = _mm512_fmadd_ps(p, m, _mm512_set1_ps(CK_LOG_P6));
    p = _mm512_fmadd_ps(p, m, _mm512_set1_ps(CK_LOG_P7));
    p = _mm512_fmadd_ps(p, m, _mm512_set1_ps(CK_LOG_P8));
    __m512 y = _mm512_mul_ps(_mm512_mul_ps(p, m), z);
    y = _mm512_fmadd_ps(e, _mm512_set1_ps(CK_LN2_LO), y);
    y = _mm512_fnmadd_ps(z, _mm512_set1_ps(0.5f), y);
    y = _mm512_add_ps(m, y);
    y = _mm512_fmadd_ps(e, _mm512_set1_ps(CK_LN2_HI), y);
    y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_EQ_OQ), _mm512_set1_ps(-__builtin_inff()));
    y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, _mm512_set1_ps(__builtin_inff()), _CMP_EQ_OQ), _mm512_set1_ps(__builtin_inff()));
    return _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_NGE_UQ), _mm512_set1_ps(__builtin_nanf("")));
}

CK_TARGET_AVX512 static inline __m512 ck_erf16(__m512 x) {
    x = _mm512_min_ps(_mm512_set1_ps(4.0f), _mm512_max_ps(_mm512_set1_ps(-4.0f), x));
    __m512 x2 = _mm512_mul_ps(x, x);
    __m512 p = _mm512_set1_ps(CK_ERF_A1);
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(CK_ERF_A3));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(CK_ERF_A5));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(CK_ERF_A7));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(CK_ERF_A9));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(CK_ERF_A11));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(CK_ERF_A13));
    __m512 q = _mm512_set1_ps(CK_ERF_B0);
    q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(CK_ERF_B2));
    q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(CK_ERF_B4));
    q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(CK_ERF_B6));
    q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(CK_ERF_B8));
    return _mm512_div_ps(_mm512_mul_ps(x, p), q);
}

CK_TARGET_AVX512 static inline __m512 ck_rcp16(__m512 x) {
    __m512 r = _mm512_rcp14_ps(x);  // 14-bit estimate
    return _mm512_mul_ps(r, _mm512_fnmadd_ps(x, r, _mm512_set1_ps(2.0f)));
}

CK_TARGET_AVX512 static inline __m512 ck_rsqrt16(__m512 x) {
    __m512 r = _mm512_rsqrt14_ps(x);  // 14-bit estimate
    __m512 hr = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), r);
    return _mm512_mul_ps(r, _mm512_fnmadd_ps(hr, r, _mm512_set1_ps(1.5f)));
}

#endif  // CK_HAVE_X86
#endif
