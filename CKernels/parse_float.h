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

static const float ck_pow10f[] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f, 1e10f};
static const double ck_pow10d[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

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

/// Parses the longest number at *pp (before end): returns 0 and advances *pp past it, or -1 when no
/// number starts there or its exponent has no digits (*pp then unspecified). inf/nan words are not
/// handled here (ck_parse_float does). *out is the correctly rounded float32.
static inline __attribute__((always_inline)) int ck_parse_float_scan(const char **pp, const char *end, float *out) {
    const char *begin = *pp;
    const char *p = begin;
    if (p == end) return -1;
    int neg = 0;
    if (*p == '-' || *p == '+') {
        neg = *p == '-';
        p++;
    }
    uint64_t w = 0;
    int ndig = 0;       // digits in w counted from the first nonzero one (at most 19)
    int64_t exp10 = 0;  // value = w * 10^exp10 (up to the dropped digits)
    int truncated = 0;  // a nonzero digit after the 19th significant one was dropped
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

    if (w == 0) {
        *out = ck_make_float(neg, 0);
        return 0;
    }
    if (!truncated) {
        if (w <= (1u << 24) && exp10 >= -10 && exp10 <= 10) {
            float v = (float)w;
            v = exp10 < 0 ? v / ck_pow10f[-exp10] : v * ck_pow10f[exp10];
            *out = neg ? -v : v;
            return 0;
        }
        if (w < (1ULL << 53) && exp10 >= -22 && exp10 <= 22) {
            double d = (double)w;
            d = exp10 < 0 ? d / ck_pow10d[-exp10] : d * ck_pow10d[exp10];
            uint64_t bits;
            memcpy(&bits, &d, 8);
            // 1e-22 <= d < 2^53 * 1e22 < FLT_MAX: a normal float's range, so the float rounding point
            // is bit 29 of the double's significand.
            if ((bits & 0x1FFFFFFFULL) != 0x10000000ULL) {
                float v = (float)d;
                *out = neg ? -v : v;
                return 0;
            }
        }
    }
    if (exp10 < CK_POW10_MIN) {  // value < 1e19 * 1e-66, below half the smallest subnormal
        *out = ck_make_float(neg, 0);
        return 0;
    }
    if (exp10 > CK_POW10_MAX) {  // value >= 1e39 > FLT_MAX
        *out = ck_make_float(neg, 0x7F800000u);
        return 0;
    }
    int lz = __builtin_clzll(w);
    uint64_t wn = w << lz;
    unsigned __int128 prod = (unsigned __int128)wn * ck_pow10_tab[exp10 - CK_POW10_MIN].m;
    uint64_t hi = (uint64_t)(prod >> 64);
    int nb = 64 - __builtin_clzll(hi);  // 63 or 64
    int E = nb - 1 + 64 + ck_pow10_tab[exp10 - CK_POW10_MIN].e - lz;
    if (E > 127) {
        *out = ck_make_float(neg, 0x7F800000u);
        return 0;
    }
    if (E >= -126) {
        int shift = nb - 24;
        uint64_t r = hi & ((1ULL << shift) - 1), half = 1ULL << (shift - 1);
        // The true value lies in [hi, hi + 32) units of hi; decide unless that straddles half.
        if (!(r <= half && r + 40 >= half)) {
            uint64_t m = (hi >> shift) + (r > half);
            if (m == (1u << 24)) {
                m >>= 1;
                if (++E > 127) {
                    *out = ck_make_float(neg, 0x7F800000u);
                    return 0;
                }
            }
            *out = ck_make_float(neg, ((uint32_t)(E + 127) << 23) | ((uint32_t)m & 0x7FFFFFu));
            return 0;
        }
    }
    *out = ck_strtof_range(begin, p);  // subnormal result, or too close to a rounding boundary
    return 0;
}

#endif
