// Exact decimal -> float32 conversion (see "CSV parsing" in CKernels.h).
//
// The text is first scanned into digits and a power of ten (ck_decimal: ck_scan_decimal byte by
// byte, or ck_scan_decimal_avx2 32 bytes at a time in the CSV parser, with a shortcut for printf's
// %.18e), then converted (ck_decimal_to_float) along two paths, fastest first; each returns the
// correctly rounded float32 (round to nearest, ties to even), i.e. exactly what strtof returns:
// 1. Double path: all 19 digits at most (w, not truncated) and |exp10| <= 22, short mantissas too
//    (a separate float-only path for w <= 2^24 made the branch depend on the digit count and cost
//    more in mispredictions than it saved). w * 10^exp10 in double, with 10^exp10 the nearest double
//    (exact for exp10 >= 0), rounds at most three times ((double)w above 2^53, 10^exp10 below 0, the
//    product), each by a factor within 1 +- 2^-53, and lies less than 3 units in the double's last
//    place from the value; rounding it to float gives the value's rounding unless the double lies
//    within 4 units of a float midpoint, which is detected (bit 29 of its significand is the float
//    rounding point) and sent on to 2 (probability ~2^-26). HIGGS-style text (%.18e: 19 digits,
//    exponents near 0) takes this path.
// 2. Eisel-Lemire style: the first 19 significant digits (w) times a 64-bit truncated 10^q (table)
//    as a 128-bit product. The product is a lower bound of the true value with an error below 32
//    units of its high word; unless the bits below the rounding position lie within that distance of
//    the halfway point, the rounding decision is certain. Otherwise (probability ~2^-34), and for
//    results in float's subnormal range, the text is handed to strtof (correct, slower).
#include "parse_float.h"

const ck_pow10_entry ck_pow10_tab[] = {
    {0x86ccbb52ea94baeaULL, -279}, /* 1e-65 */
    {0xa87fea27a539e9a5ULL, -276}, /* 1e-64 */
    {0xd29fe4b18e88640eULL, -273}, /* 1e-63 */
    {0x83a3eeeef9153e89ULL, -269}, /* 1e-62 */
    {0xa48ceaaab75a8e2bULL, -266}, /* 1e-61 */
    {0xcdb02555653131b6ULL, -263}, /* 1e-60 */
    {0x808e17555f3ebf11ULL, -259}, /* 1e-59 */
    {0xa0b19d2ab70e6ed6ULL, -256}, /* 1e-58 */
    {0xc8de047564d20a8bULL, -253}, /* 1e-57 */
    {0xfb158592be068d2eULL, -250}, /* 1e-56 */
    {0x9ced737bb6c4183dULL, -246}, /* 1e-55 */
    {0xc428d05aa4751e4cULL, -243}, /* 1e-54 */
    {0xf53304714d9265dfULL, -240}, /* 1e-53 */
    {0x993fe2c6d07b7fabULL, -236}, /* 1e-52 */
    {0xbf8fdb78849a5f96ULL, -233}, /* 1e-51 */
    {0xef73d256a5c0f77cULL, -230}, /* 1e-50 */
    {0x95a8637627989aadULL, -226}, /* 1e-49 */
    {0xbb127c53b17ec159ULL, -223}, /* 1e-48 */
    {0xe9d71b689dde71afULL, -220}, /* 1e-47 */
    {0x9226712162ab070dULL, -216}, /* 1e-46 */
    {0xb6b00d69bb55c8d1ULL, -213}, /* 1e-45 */
    {0xe45c10c42a2b3b05ULL, -210}, /* 1e-44 */
    {0x8eb98a7a9a5b04e3ULL, -206}, /* 1e-43 */
    {0xb267ed1940f1c61cULL, -203}, /* 1e-42 */
    {0xdf01e85f912e37a3ULL, -200}, /* 1e-41 */
    {0x8b61313bbabce2c6ULL, -196}, /* 1e-40 */
    {0xae397d8aa96c1b77ULL, -193}, /* 1e-39 */
    {0xd9c7dced53c72255ULL, -190}, /* 1e-38 */
    {0x881cea14545c7575ULL, -186}, /* 1e-37 */
    {0xaa242499697392d2ULL, -183}, /* 1e-36 */
    {0xd4ad2dbfc3d07787ULL, -180}, /* 1e-35 */
    {0x84ec3c97da624ab4ULL, -176}, /* 1e-34 */
    {0xa6274bbdd0fadd61ULL, -173}, /* 1e-33 */
    {0xcfb11ead453994baULL, -170}, /* 1e-32 */
    {0x81ceb32c4b43fcf4ULL, -166}, /* 1e-31 */
    {0xa2425ff75e14fc31ULL, -163}, /* 1e-30 */
    {0xcad2f7f5359a3b3eULL, -160}, /* 1e-29 */
    {0xfd87b5f28300ca0dULL, -157}, /* 1e-28 */
    {0x9e74d1b791e07e48ULL, -153}, /* 1e-27 */
    {0xc612062576589ddaULL, -150}, /* 1e-26 */
    {0xf79687aed3eec551ULL, -147}, /* 1e-25 */
    {0x9abe14cd44753b52ULL, -143}, /* 1e-24 */
    {0xc16d9a0095928a27ULL, -140}, /* 1e-23 */
    {0xf1c90080baf72cb1ULL, -137}, /* 1e-22 */
    {0x971da05074da7beeULL, -133}, /* 1e-21 */
    {0xbce5086492111aeaULL, -130}, /* 1e-20 */
    {0xec1e4a7db69561a5ULL, -127}, /* 1e-19 */
    {0x9392ee8e921d5d07ULL, -123}, /* 1e-18 */
    {0xb877aa3236a4b449ULL, -120}, /* 1e-17 */
    {0xe69594bec44de15bULL, -117}, /* 1e-16 */
    {0x901d7cf73ab0acd9ULL, -113}, /* 1e-15 */
    {0xb424dc35095cd80fULL, -110}, /* 1e-14 */
    {0xe12e13424bb40e13ULL, -107}, /* 1e-13 */
    {0x8cbccc096f5088cbULL, -103}, /* 1e-12 */
    {0xafebff0bcb24aafeULL, -100}, /* 1e-11 */
    {0xdbe6fecebdedd5beULL, -97}, /* 1e-10 */
    {0x89705f4136b4a597ULL, -93}, /* 1e-9 */
    {0xabcc77118461cefcULL, -90}, /* 1e-8 */
    {0xd6bf94d5e57a42bcULL, -87}, /* 1e-7 */
    {0x8637bd05af6c69b5ULL, -83}, /* 1e-6 */
    {0xa7c5ac471b478423ULL, -80}, /* 1e-5 */
    {0xd1b71758e219652bULL, -77}, /* 1e-4 */
    {0x83126e978d4fdf3bULL, -73}, /* 1e-3 */
    {0xa3d70a3d70a3d70aULL, -70}, /* 1e-2 */
    {0xccccccccccccccccULL, -67}, /* 1e-1 */
    {0x8000000000000000ULL, -63}, /* 1e0 */
    {0xa000000000000000ULL, -60}, /* 1e1 */
    {0xc800000000000000ULL, -57}, /* 1e2 */
    {0xfa00000000000000ULL, -54}, /* 1e3 */
    {0x9c40000000000000ULL, -50}, /* 1e4 */
    {0xc350000000000000ULL, -47}, /* 1e5 */
    {0xf424000000000000ULL, -44}, /* 1e6 */
    {0x9896800000000000ULL, -40}, /* 1e7 */
    {0xbebc200000000000ULL, -37}, /* 1e8 */
    {0xee6b280000000000ULL, -34}, /* 1e9 */
    {0x9502f90000000000ULL, -30}, /* 1e10 */
    {0xba43b74000000000ULL, -27}, /* 1e11 */
    {0xe8d4a51000000000ULL, -24}, /* 1e12 */
    {0x9184e72a00000000ULL, -20}, /* 1e13 */
    {0xb5e620f480000000ULL, -17}, /* 1e14 */
    {0xe35fa931a0000000ULL, -14}, /* 1e15 */
    {0x8e1bc9bf04000000ULL, -10}, /* 1e16 */
    {0xb1a2bc2ec5000000ULL, -7}, /* 1e17 */
    {0xde0b6b3a76400000ULL, -4}, /* 1e18 */
    {0x8ac7230489e80000ULL, 0}, /* 1e19 */
    {0xad78ebc5ac620000ULL, 3}, /* 1e20 */
    {0xd8d726b7177a8000ULL, 6}, /* 1e21 */
    {0x878678326eac9000ULL, 10}, /* 1e22 */
    {0xa968163f0a57b400ULL, 13}, /* 1e23 */
    {0xd3c21bcecceda100ULL, 16}, /* 1e24 */
    {0x84595161401484a0ULL, 20}, /* 1e25 */
    {0xa56fa5b99019a5c8ULL, 23}, /* 1e26 */
    {0xcecb8f27f4200f3aULL, 26}, /* 1e27 */
    {0x813f3978f8940984ULL, 30}, /* 1e28 */
    {0xa18f07d736b90be5ULL, 33}, /* 1e29 */
    {0xc9f2c9cd04674edeULL, 36}, /* 1e30 */
    {0xfc6f7c4045812296ULL, 39}, /* 1e31 */
    {0x9dc5ada82b70b59dULL, 43}, /* 1e32 */
    {0xc5371912364ce305ULL, 46}, /* 1e33 */
    {0xf684df56c3e01bc6ULL, 49}, /* 1e34 */
    {0x9a130b963a6c115cULL, 53}, /* 1e35 */
    {0xc097ce7bc90715b3ULL, 56}, /* 1e36 */
    {0xf0bdc21abb48db20ULL, 59}, /* 1e37 */
    {0x96769950b50d88f4ULL, 63}, /* 1e38 */
};

float ck_strtof_range(const char *begin, const char *end) {
    char local[128];
    size_t n = (size_t)(end - begin);
    char *buf = n < sizeof local ? local : malloc(n + 1);
    if (!buf) return 0.0f;
    memcpy(buf, begin, n);
    buf[n] = 0;
    float v = strtof(buf, NULL);
    if (buf != local) free(buf);
    return v;
}

int ck_parse_float(const char *begin, const char *end, float *out) {
    const char *p = begin;
    float v;
    if (ck_parse_float_scan(&p, end, &v) == 0 && p == end) {
        *out = v;
        return 0;
    }
    p = begin;
    int neg = 0;
    if (p < end && (*p == '-' || *p == '+')) neg = *p++ == '-';
    if (ck_match_word(p, end, "inf") || ck_match_word(p, end, "infinity")) {
        *out = ck_make_float(neg, 0x7F800000u);
        return 1;
    }
    if (ck_match_word(p, end, "nan")) {
        *out = ck_make_float(neg, 0x7FC00000u);
        return 1;
    }
    return -1;
}
