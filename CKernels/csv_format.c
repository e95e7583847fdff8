// Exact float -> decimal text for writing CSV files (datagen): ck_format_e18 and ck_format_short.
#include "internal.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef unsigned __int128 u128;

static const uint64_t ck_p10[20] = {1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
                                    10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
                                    100000000000ULL, 1000000000000ULL, 10000000000000ULL,
                                    100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
                                    100000000000000000ULL, 1000000000000000000ULL,
                                    10000000000000000000ULL};

static const struct { uint64_t hi, lo; } ck_pow5[45] = {
    {0x0000000000000000ULL, 0x0000000000000001ULL},
    {0x0000000000000000ULL, 0x0000000000000005ULL},
    {0x0000000000000000ULL, 0x0000000000000019ULL},
    {0x0000000000000000ULL, 0x000000000000007dULL},
    {0x0000000000000000ULL, 0x0000000000000271ULL},
    {0x0000000000000000ULL, 0x0000000000000c35ULL},
    {0x0000000000000000ULL, 0x0000000000003d09ULL},
    {0x0000000000000000ULL, 0x000000000001312dULL},
    {0x0000000000000000ULL, 0x000000000005f5e1ULL},
    {0x0000000000000000ULL, 0x00000000001dcd65ULL},
    {0x0000000000000000ULL, 0x00000000009502f9ULL},
    {0x0000000000000000ULL, 0x0000000002e90eddULL},
    {0x0000000000000000ULL, 0x000000000e8d4a51ULL},
    {0x0000000000000000ULL, 0x0000000048c27395ULL},
    {0x0000000000000000ULL, 0x000000016bcc41e9ULL},
    {0x0000000000000000ULL, 0x000000071afd498dULL},
    {0x0000000000000000ULL, 0x0000002386f26fc1ULL},
    {0x0000000000000000ULL, 0x000000b1a2bc2ec5ULL},
    {0x0000000000000000ULL, 0x000003782dace9d9ULL},
    {0x0000000000000000ULL, 0x00001158e460913dULL},
    {0x0000000000000000ULL, 0x000056bc75e2d631ULL},
    {0x0000000000000000ULL, 0x0001b1ae4d6e2ef5ULL},
    {0x0000000000000000ULL, 0x000878678326eac9ULL},
    {0x0000000000000000ULL, 0x002a5a058fc295edULL},
    {0x0000000000000000ULL, 0x00d3c21bcecceda1ULL},
    {0x0000000000000000ULL, 0x0422ca8b0a00a425ULL},
    {0x0000000000000000ULL, 0x14adf4b7320334b9ULL},
    {0x0000000000000000ULL, 0x6765c793fa10079dULL},
    {0x0000000000000002ULL, 0x04fce5e3e2502611ULL},
    {0x000000000000000aULL, 0x18f07d736b90be55ULL},
    {0x0000000000000032ULL, 0x7cb2734119d3b7a9ULL},
    {0x00000000000000fcULL, 0x6f7c40458122964dULL},
    {0x00000000000004eeULL, 0x2d6d415b85acef81ULL},
    {0x00000000000018a6ULL, 0xe32246c99c60ad85ULL},
    {0x0000000000007b42ULL, 0x6fab61f00de36399ULL},
    {0x000000000002684cULL, 0x2e58e9b04570f1fdULL},
    {0x00000000000c097cULL, 0xe7bc90715b34b9f1ULL},
    {0x00000000003c2f70ULL, 0x86aed236c807a1b5ULL},
    {0x00000000012ced32ULL, 0xa16a1b11e8262889ULL},
    {0x0000000005e0a1fdULL, 0x2712875988becaadULL},
    {0x000000001d6329f1ULL, 0xc35ca4bfabb9f561ULL},
    {0x0000000092efd1b8ULL, 0xd0cf37be5aa1cae5ULL},
    {0x00000002deaf189cULL, 0x140c16b7c528f679ULL},
    {0x0000000e596b7b0cULL, 0x643c7196d9ccd05dULL},
    {0x00000047bf19673dULL, 0xf52e37f2410011d1ULL},
};

/// floor(x * 10^t) for x = m * 2^e, with the rounding bit: *q = floor, returns -1 / 0 / 1 when the
/// remainder is below / at / above one half; -2 when it does not fit 128-bit arithmetic.
static int ck_scaled(uint32_t m, int e, int t, uint64_t *q) {
    if (t >= 0) {
        if (t > 44) return -2;
        u128 p = (u128)m * (((u128)ck_pow5[t].hi << 64) | ck_pow5[t].lo);  // < 2^24 * 5^44 < 2^127
        int k = t + e;                       // x * 10^t = p * 2^k
        if (k >= 0) {
            if (k >= 64) return -2;
            u128 v = p << k;
            if (v >> 64) return -2;
            *q = (uint64_t)v;
            return -1;
        }
        int s = -k;
        if (s >= 127) return -2;
        u128 v = p >> s, r = p & (((u128)1 << s) - 1), half = (u128)1 << (s - 1);
        if (v >> 64) return -2;
        *q = (uint64_t)v;
        return r < half ? -1 : r == half ? 0 : 1;
    }
    if (e > 103 || -t > 38) return -2;
    u128 p = e >= 0 ? (u128)m << e : (u128)m;  // < 2^128
    u128 d = 1;
    for (int i = 0; i < -t; i++) d *= 10;
    if (e < 0) {  // x * 10^t = m / (10^-t * 2^-e)
        for (int i = 0; i < -e; i++) {
            if (d >> 125) return -2;
            d <<= 1;
        }
    }
    if (d >> 126) return -2;
    u128 v = p / d, r = p % d;
    if (v >> 64) return -2;
    *q = (uint64_t)v;
    u128 twice = r << 1;  // r < d <= 10^38 < 2^127: no overflow
    return twice < d ? -1 : twice == d ? 0 : 1;
}

/// The `digits` (1..19) significant decimal digits of x = m * 2^e > 0, correctly rounded (ties to
/// even): *n in [10^(digits-1), 10^digits) and *exp10 with x ~ n * 10^(exp10 - digits + 1).
/// Returns 0, or -1 when the exact computation does not fit (then the caller uses snprintf).
static int ck_decimal(uint32_t m, int e, int digits, uint64_t *n, int *exp10) {
    // floor(log10(x)) or one less: the binary exponent times log10(2) (78913 / 2^18).
    int b = e + 31 - __builtin_clz(m);  // 2^b <= x < 2^(b+1)
    int E = (b * 78913) >> 18;
    for (int attempt = 0; attempt < 4; attempt++) {
        uint64_t q;
        int half = ck_scaled(m, e, digits - 1 - E, &q);
        if (half == -2) return -1;
        if (q < ck_p10[digits - 1]) { E--; continue; }
        if (digits < 20 && q >= (digits == 19 ? 10000000000000000000ULL : ck_p10[digits])) { E++; continue; }
        if (half > 0 || (half == 0 && (q & 1))) q++;
        if (q == (digits == 19 ? 10000000000000000000ULL : ck_p10[digits])) {
            q = ck_p10[digits - 1];
            E++;
        }
        *n = q;
        *exp10 = E;
        return 0;
    }
    return -1;
}

static int ck_write_exp(char *o, int e) {
    int k = 0;
    o[k++] = 'e';
    o[k++] = e < 0 ? '-' : '+';
    if (e < 0) e = -e;
    if (e >= 100) o[k++] = (char)('0' + e / 100);
    o[k++] = (char)('0' + e / 10 % 10);
    o[k++] = (char)('0' + e % 10);
    return k;
}

/// Splits |v| (finite, nonzero) into m * 2^e with m an integer below 2^24.
static void ck_split(float v, uint32_t *m, int *e) {
    uint32_t bits;
    memcpy(&bits, &v, 4);
    uint32_t be = (bits >> 23) & 0xFF, frac = bits & 0x7FFFFF;
    if (be == 0) {
        *m = frac;
        *e = -149;
    } else {
        *m = frac | 0x800000;
        *e = (int)be - 150;
    }
}

int ck_format_e18(float v, char *out) {
    if (isnan(v)) return (int)strlen(strcpy(out, signbit(v) ? "-nan" : "nan"));
    if (isinf(v)) return (int)strlen(strcpy(out, v < 0 ? "-inf" : "inf"));
    int k = 0;
    if (signbit(v)) out[k++] = '-';
    if (v == 0) {
        memcpy(out + k, "0.000000000000000000e+00", 24);
        return k + 24;
    }
    uint32_t m;
    int e, E;
    uint64_t n;
    ck_split(v, &m, &e);
    if (ck_decimal(m, e, 19, &n, &E) != 0) return snprintf(out, 32, "%.18e", (double)v);
    char digits[19];
    for (int i = 18; i >= 0; i--) {
        digits[i] = (char)('0' + n % 10);
        n /= 10;
    }
    out[k++] = digits[0];
    out[k++] = '.';
    memcpy(out + k, digits + 1, 18);
    k += 18;
    return k + ck_write_exp(out + k, E);
}

// Does c * 10^exponent (c's digits, then the exponent) read back to a?
static bool ck_reads_back(uint64_t c, int exponent, float a) {
    char tmp[40], rev[20];
    int t = 0, r = 0;
    for (uint64_t x = c; x; x /= 10) rev[r++] = (char)('0' + x % 10);
    while (r) tmp[t++] = rev[--r];
    t += ck_write_exp(tmp + t, exponent);
    float back;
    return ck_parse_float(tmp, tmp + t, &back) == 0 && back == a;
}

// The fewest significant digits that read back to a > 0: *n holds them (no trailing zeros), the
// first at 10^*E; returns their count, or 0 when the nine-digit decimal cannot be formed. Nine
// digits always read back; fewer are tried, rounded from those nine (a rare double rounding can only
// make the result longer than the shortest, never wrong: each candidate is checked).
static int ck_shortest_decimal(float a, uint64_t *n, int *E) {
    uint32_t m;
    int e, E9;
    uint64_t n9;
    ck_split(a, &m, &e);
    if (ck_decimal(m, e, 9, &n9, &E9) != 0) return 0;
    int digits = 9;
    *n = n9;
    *E = E9;
    for (int d = 1; d < 9; d++) {
        uint64_t div = ck_p10[9 - d], c = (n9 + div / 2) / div;
        int ce = E9;
        if (c == ck_p10[d]) {
            c /= 10;
            ce++;
        }
        if (ck_reads_back(c, ce - d + 1, a)) {
            digits = d;
            *n = c;
            *E = ce;
            break;
        }
    }
    while (digits > 1 && *n % 10 == 0) {
        *n /= 10;
        digits--;
    }
    return digits;
}

// Writes n's `digits` digits, the first at 10^E, as %g does: plain notation for -4 <= E < 9,
// otherwise d.ddde+XX.
static int ck_write_decimal(char *out, uint64_t n, int digits, int E) {
    char d[10];
    int k = 0;
    for (int i = digits - 1; i >= 0; i--) {
        d[i] = (char)('0' + n % 10);
        n /= 10;
    }
    if (E >= -4 && E < 9) {
        if (E < 0) {
            out[k++] = '0';
            out[k++] = '.';
            for (int i = 0; i < -E - 1; i++) out[k++] = '0';
            memcpy(out + k, d, (size_t)digits);
            return k + digits;
        }
        for (int i = 0; i <= E || i < digits; i++) {
            if (i == E + 1) out[k++] = '.';
            out[k++] = i < digits ? d[i] : '0';
        }
        return k;
    }
    out[k++] = d[0];
    if (digits > 1) {
        out[k++] = '.';
        memcpy(out + k, d + 1, (size_t)(digits - 1));
        k += digits - 1;
    }
    return k + ck_write_exp(out + k, E);
}

int ck_format_short(float v, char *out) {
    if (isnan(v)) return (int)strlen(strcpy(out, "nan"));
    if (isinf(v)) return (int)strlen(strcpy(out, v < 0 ? "-inf" : "inf"));
    int k = 0;
    if (signbit(v)) out[k++] = '-';
    if (v == 0) {
        out[k++] = '0';
        return k;
    }
    uint64_t n;
    int E;
    int digits = ck_shortest_decimal(fabsf(v), &n, &E);
    if (digits == 0) return snprintf(out, 32, "%.9g", (double)v);
    return k + ck_write_decimal(out + k, n, digits, E);
}
