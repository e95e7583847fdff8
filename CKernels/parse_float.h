// Internal: the inlinable core of ck_parse_float, shared by parse_float.c and csv.c.
#ifndef CKERNELS_PARSE_FLOAT_H
#define CKERNELS_PARSE_FLOAT_H

#include "internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t m;  // 10^q = (m + d) * 2^e, 0 <= d < 1, 2^63 <= m < 2^64
    int32_t e;
} ck_pow10_entry;
/// 10^q for q in [CK_POW10_MIN, CK_POW10_MAX], truncated to 64 bits (parse_float.c).
extern const ck_pow10_entry ck_pow10_tab[];
#define CK_POW10_MIN (-65)
#define CK_POW10_MAX 38
/// strtof of the text [begin, end) (copied to add the terminating NUL).
float ck_strtof_range(const char *begin, const char *end);

/// 10^k for k in [-22, 22] at index k + 22: the nearest doubles (exact for k >= 0).
static const double ck_pow10d[] = {1e-22, 1e-21, 1e-20, 1e-19, 1e-18, 1e-17, 1e-16, 1e-15, 1e-14, 1e-13, 1e-12,
                                   1e-11, 1e-10, 1e-9,  1e-8,  1e-7,  1e-6,  1e-5,  1e-4,  1e-3,  1e-2,  1e-1,
                                   1e0,   1e1,   1e2,   1e3,   1e4,   1e5,   1e6,   1e7,   1e8,   1e9,   1e10,
                                   1e11,  1e12,  1e13,  1e14,  1e15,  1e16,  1e17,  1e18,  1e19,  1e20,  1e21,
                                   1e22};

static inline int ck_is_digit(char c) { return (unsigned)(c - '0') < 10u; }

/// Case-insensitive match of the literal `word` (lower case) at [p, end).
static inline int ck_match_word(const char *p, const char *end, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(end - p) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if ((p[i] | 0x20) != word[i]) return 0;
    return 1;
}

static inline float ck_make_float(int neg, uint32_t bits) {
    bits |= (uint32_t)neg << 31;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/// -v when neg, else v, for v >= 0 (+0 included): the sign bit set, not a branch on the sign.
static inline float ck_negate_if(float v, int neg) {
    uint32_t bits;
    memcpy(&bits, &v, 4);
    return ck_make_float(0, bits | (uint32_t)neg << 31);
}

/// Reads 8 bytes; 1 when all are digits, with their value in *value (SWAR, little endian).
static inline int ck_eight_digits(const char *p, uint64_t *value) {
    uint64_t v;
    memcpy(&v, p, 8);
    if (((v & 0xF0F0F0F0F0F0F0F0ULL) | (((v + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4)) !=
        0x3333333333333333ULL)
        return 0;
    v -= 0x3030303030303030ULL;
    v = (v * 10) + (v >> 8);
    v = (((v & 0x000000FF000000FFULL) * 0x000F424000000064ULL) +
         (((v >> 16) & 0x000000FF000000FFULL) * 0x0000271000000001ULL)) >> 32;
    *value = v;
    return 1;
}

/// A scanned decimal number: (-1)^neg * (w + a fraction below 1 when truncated) * 10^exp10.
typedef struct {
    uint64_t w;         // the first 19 significant digits at most
    int64_t exp10;
    int neg;
    int truncated;      // a nonzero digit after the 19th significant one was dropped
} ck_decimal;

/// Scans the longest number at *pp (before end): returns 0 and advances *pp past it, or -1 when no
/// number starts there or its exponent has no digits (*pp then unspecified). inf/nan words are not
/// handled here (ck_parse_float does).
static inline __attribute__((always_inline)) int ck_scan_decimal(const char **pp, const char *end, ck_decimal *d) {
    const char *p = *pp;
    if (p == end) return -1;
    int neg = 0;
    if (*p == '-' || *p == '+') {
        neg = *p == '-';
        p++;
    }
    uint64_t w = 0;
    int ndig = 0;       // digits in w counted from the first nonzero one (at most 19)
    int64_t exp10 = 0;  // value = w * 10^exp10 (up to the dropped digits)
    int truncated = 0;
    int any = 0;
    while (p < end && *p == '0') { p++; any = 1; }
    while (p < end && ck_is_digit(*p)) {
        if (ndig < 19) { w = w * 10 + (uint64_t)(*p - '0'); ndig++; }
        else { exp10++; truncated |= *p != '0'; }
        p++;
        any = 1;
    }
    if (p < end && *p == '.') {
        p++;
        if (ndig == 0)
            while (p < end && *p == '0') { p++; exp10--; any = 1; }
        // Eight digits at a time while they fit in w (ndig + 8 <= 19).
        uint64_t eight;
        while (ndig <= 11 && end - p >= 8 && ck_eight_digits(p, &eight)) {
            w = w * 100000000ULL + eight;
            ndig += 8;  // leading zeros were skipped: the first of these digits is significant
            exp10 -= 8;
            p += 8;
            any = 1;
        }
        while (p < end && ck_is_digit(*p)) {
            if (ndig < 19) {
                w = w * 10 + (uint64_t)(*p - '0');
                ndig++;
                exp10--;
            } else truncated |= *p != '0';
            p++;
            any = 1;
        }
    }
    if (!any) return -1;
    if (p < end && (*p | 0x20) == 'e') {
        p++;
        int eneg = 0;
        if (p < end && (*p == '-' || *p == '+')) {
            eneg = *p == '-';
            p++;
        }
        if (p == end || !ck_is_digit(*p)) return -1;
        int64_t ev = 0;
        while (p < end && ck_is_digit(*p)) {
            if (ev < 1000000) ev = ev * 10 + (*p - '0');
            p++;
        }
        exp10 += eneg ? -ev : ev;
    }
    *pp = p;
    *d = (ck_decimal){w, exp10, neg, truncated};
    return 0;
}

/// The correctly rounded float32 of d, scanned from the text [begin, end) (read only in the rare
/// cases handed to strtof).
static inline __attribute__((always_inline)) float ck_decimal_to_float(ck_decimal d, const char *begin, const char *end) {
    const uint64_t w = d.w;
    const int64_t exp10 = d.exp10;
    const int neg = d.neg;
    if (w == 0) return ck_make_float(neg, 0);
    if (!d.truncated) {
        // One path for short and long mantissas alike: a float-only one for w <= 2^24 made this
        // branch depend on the digit count, mispredicted on about half of the 7-9 digit numbers of
        // a shortest-form float column (twice the time per number).
        if (exp10 >= -22 && exp10 <= 22) {
            // x rounds at most three times ((double)w when w > 2^53, the table's 10^exp10 when exp10 < 0,
            // the product), each by a factor within 1 +- 2^-53, so it lies less than 3 units in its last
            // place from the value (a product: the quotient by an exact 10^-exp10 it replaced took a
            // divider's latency per field). x >= 1e-22, a normal float's range, so bit 29 of the double's
            // significand is the float rounding point; unless x lies within 4 units of a float midpoint,
            // the value rounds to the same float as x.
            const double x = (double)w * ck_pow10d[exp10 + 22];
            uint64_t bits;
            memcpy(&bits, &x, 8);
            if ((bits & 0x1FFFFFFFULL) - (0x10000000ULL - 4) > 8) {
                float v = (float)x;
                return ck_negate_if(v, neg);
            }
        }
    }
    // value < 1e19 * 1e-66, below half the smallest subnormal
    if (exp10 < CK_POW10_MIN) return ck_make_float(neg, 0);
    if (exp10 > CK_POW10_MAX) return ck_make_float(neg, 0x7F800000u);  // value >= 1e39 > FLT_MAX
    int lz = __builtin_clzll(w);
    uint64_t wn = w << lz;
    unsigned __int128 prod = (unsigned __int128)wn * ck_pow10_tab[exp10 - CK_POW10_MIN].m;
    uint64_t hi = (uint64_t)(prod >> 64);
    int nb = 64 - __builtin_clzll(hi);  // 63 or 64
    int E = nb - 1 + 64 + ck_pow10_tab[exp10 - CK_POW10_MIN].e - lz;
    if (E > 127) return ck_make_float(neg, 0x7F800000u);
    if (E >= -126) {
        int shift = nb - 24;
        uint64_t r = hi & ((1ULL << shift) - 1), half = 1ULL << (shift - 1);
        // The true value lies in [hi, hi + 32) units of hi; decide unless that straddles half.
        if (!(r <= half && r + 40 >= half)) {
            uint64_t m = (hi >> shift) + (r > half);
            if (m == (1u << 24)) {
                m >>= 1;
                if (++E > 127) return ck_make_float(neg, 0x7F800000u);
            }
            return ck_make_float(neg, ((uint32_t)(E + 127) << 23) | ((uint32_t)m & 0x7FFFFFu));
        }
    }
    return ck_strtof_range(begin, end);  // subnormal result, or too close to a rounding boundary
}

/// Parses the longest number at *pp (before end), as ck_scan_decimal; *out is the correctly rounded
/// float32.
static inline __attribute__((always_inline)) int ck_parse_float_scan(const char **pp, const char *end, float *out) {
    const char *begin = *pp;
    ck_decimal d;
    if (ck_scan_decimal(pp, end, &d) != 0) return -1;
    *out = ck_decimal_to_float(d, begin, *pp);
    return 0;
}

/// A faster ck_scan_decimal for the common shapes, reading [*pp - 32, *pp + 40) inside [lo, end):
/// -1 when it does not apply (ck_scan_decimal then decides), else as ck_scan_decimal. Passed to an
/// always-inline body compiled once per instruction set, so the call is inlined in each.
typedef int (*ck_fast_scan)(const char **pp, const char *lo, const char *end, ck_decimal *d);

static inline __attribute__((always_inline)) int ck_scan_decimal_none(const char **pp, const char *lo, const char *end,
                                                                      ck_decimal *d) {
    (void)pp, (void)lo, (void)end, (void)d;
    return -1;
}

#if CK_HAVE_X86
/// ck_scan_decimal with AVX2 for the usual shapes: at most 19 digits in all (leading zeros count),
/// at most 4 exponent digits, the whole number inside the 32 bytes after its sign. Reads
/// [*pp - 32, *pp + 40), which must lie in [lo, end). Returns -1 when it does not apply (the caller
/// then runs ck_scan_decimal, which decides), else as ck_scan_decimal. Same result as ck_scan_decimal
/// wherever it applies: w is the value of all the digits, exp10 minus the fraction digits plus the
/// exponent.
CK_TARGET_AVX2 static inline __attribute__((always_inline)) int ck_scan_decimal_avx2(const char **pp, const char *lo,
                                                                                    const char *end, ck_decimal *d) {
    const char *p = *pp;
    if (end - p < 40 || p - lo < 32) return -1;
    const int neg = *p == '-';
    const char *q = p + (neg | (*p == '+'));
    // Bit i of `other`: q[i] is not a digit (bits 32 and up: beyond the window).
    __m256i v = _mm256_sub_epi8(_mm256_loadu_si256((const __m256i *)q), _mm256_set1_epi8('0'));
    __m256i nine = _mm256_set1_epi8(9);
    uint64_t other = ~(uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_max_epu8(v, nine), nine));
    // printf's %.18e, "d.dddddddddddddddddde+dd" (24 bytes): digits everywhere but at bytes 1, 20 and
    // 21 and the terminator at 24; the 19 digits are the first three and two groups of eight. The
    // exponent's sign is tested as one byte in {'+', '-'} (c - '+' is 0 or 2), not with a branch on
    // which one: it is data (about half the values of a HIGGS column are below 1), and that branch
    // mispredicted on about every other field (a fifth of the parser's time).
    if ((other & 0x1FFFFFF) == 0x1300002 && q[1] == '.' && (q[20] | 0x20) == 'e' &&
        ((uint8_t)(q[21] - '+') & 0xFD) == 0) {
        __m128i x = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(q + 4)), _mm_set1_epi8('0'));
        x = _mm_maddubs_epi16(x, _mm_set1_epi16(0x010A));
        x = _mm_madd_epi16(x, _mm_set1_epi32(0x00010064));
        x = _mm_packus_epi32(x, x);
        x = _mm_madd_epi16(x, _mm_set1_epi32(0x00012710));
        const uint64_t eights = (uint64_t)_mm_cvtsi128_si64(x);
        const uint64_t lead = (uint64_t)(q[0] - '0') * 100 + (uint64_t)(q[2] - '0') * 10 + (uint64_t)(q[3] - '0');
        const int ev = (q[22] - '0') * 10 + (q[23] - '0');
        *d = (ck_decimal){lead * 10000000000000000ULL + (eights & 0xFFFFFFFFu) * 100000000ULL + (eights >> 32),
                          (q[21] == '-' ? -ev : ev) - 18, neg, 0};
        *pp = q + 24;
        return 0;
    }
    const int ip = __builtin_ctzll(other);  // integer digits
    const int dot = q[ip] == '.';
    const int de = dot ? ip + 1 + __builtin_ctzll(other >> (ip + 1)) : ip;  // end of the digits
    const int fd = de - ip - dot;                                           // fraction digits
    const int n = ip + fd;
    if (n == 0 || n > 19 || de >= 32) return -1;
    int64_t exp10 = -fd;
    const char *t = q + de;
    if ((*t | 0x20) == 'e') {
        int k = de + 1;
        const int eneg = q[k] == '-';
        k += eneg | (q[k] == '+');
        const int ed = __builtin_ctzll(other >> k);  // k <= 33
        if (ed == 0 || ed > 4 || k + ed >= 32) return -1;
        int ev = 0;
        for (int j = 0; j < ed; j++) ev = ev * 10 + (q[k + j] - '0');
        exp10 += eneg ? -ev : ev;
        t = q + k + ed;
    }
    // The digits right-aligned in 32 bytes ending at q + de, the point squeezed out: bytes before
    // the point come from one byte further left.
    const __m256i index = _mm256_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
                                           21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);
    __m256i at = _mm256_loadu_si256((const __m256i *)(q + de - 32));
    __m256i left = _mm256_loadu_si256((const __m256i *)(q + de - 33));
    __m256i shifted = _mm256_cmpgt_epi8(_mm256_set1_epi8((char)(dot ? 32 - fd : 0)), index);
    __m256i digit = _mm256_cmpgt_epi8(index, _mm256_set1_epi8((char)(31 - n)));
    __m256i x = _mm256_and_si256(_mm256_sub_epi8(_mm256_blendv_epi8(at, left, shifted), _mm256_set1_epi8('0')), digit);
    // Pairs, quadruples, then eight-digit groups: bytes 8-15, 16-23 and 24-31 (bytes 0-12 are zero).
    x = _mm256_maddubs_epi16(x, _mm256_set1_epi16(0x010A));
    x = _mm256_madd_epi16(x, _mm256_set1_epi32(0x00010064));
    x = _mm256_packus_epi32(x, x);
    x = _mm256_madd_epi16(x, _mm256_set1_epi32(0x00012710));
    uint64_t high = (uint64_t)_mm256_extract_epi64(x, 0) >> 32, low = (uint64_t)_mm256_extract_epi64(x, 2);
    *d = (ck_decimal){high * 10000000000000000ULL + (low & 0xFFFFFFFFu) * 100000000ULL + (low >> 32), exp10, neg, 0};
    *pp = t;
    return 0;
}
#endif

#endif
