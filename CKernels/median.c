// Exact medians of matrix columns (CKernels.h, ck_column_medians) by radix selection: a float maps
// to a 32-bit key in the floats' order, and three passes over the rows find the keys of the two
// middle values 14, 9 and 9 bits at a time, each pass a histogram of the next bits of the values
// that share the bits found so far (14 bits first: the sign, the exponent and 5 bits of mantissa,
// so that few values share the middle ones' first bits and the later passes skip most rows). The rows are read in place, row after row (no copy of a column,
// which would read the whole matrix once per column), and the counts are integers, so any thread
// count gives the same answer.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

enum { PASSES = 3, MIDDLES = 2, HISTOGRAM_BYTES = 64 << 20 };

static const int shifts[PASSES] = {18, 9, 0}, widths[PASSES] = {14, 9, 9};
/// Counts per column in a pass: the first pass's bins (for one middle), or the later passes' for both.
enum { BINS = 1 << 14 };

/// The key of a float: greater keys for greater floats (-0 before +0). Branch-free, so that loops
/// over it vectorise.
static inline uint32_t ck_order_key(float v) {
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    return b ^ ((uint32_t)((int32_t)b >> 31) | 0x80000000u);
}

static inline float ck_key_value(uint32_t key) {
    uint32_t b = key & 0x80000000u ? key & 0x7fffffffu : ~key;
    float v;
    memcpy(&v, &b, sizeof v);
    return v;
}

/// What is known of a group's columns: their counts of values, and for each middle value its rank
/// among the values that share the key bits found so far, prefix[m][j] (middle m, column j).
typedef struct {
    int64_t count;  // columns
    int64_t *values;
    int64_t *rank[MIDDLES];
    uint32_t *prefix[MIDDLES];
} ck_median_state;

/// Whether some value of `row` (the group's columns at `row`, `row + 1`, ...) shares a middle's
/// known bits: a loop the compiler vectorises, so that the rows without one (nearly all, after the
/// first pass) cost a few instructions per value.
static inline int ck_row_may_count(const float *row, const ck_median_state *s, int known_shift) {
    uint32_t hit = 0;
    for (int64_t j = 0; j < s->count; j++) {
        const uint32_t known = ck_order_key(row[j]) >> known_shift;
        hit |= (known == s->prefix[0][j]) | (known == s->prefix[1][j]);
    }
    return hit != 0;
}

/// One pass's histograms of rows [a, b): column j's count of bin `bin` for middle m is
/// hist[((m << widths[pass]) + bin) * count + j] (the columns of a bin side by side: a row's values land on few
/// cache lines, where a histogram per column, 64 KiB apart, would put them all in one cache set). The
/// first pass counts every value for middle 0 only (both middles then read it). `contiguous`: the
/// columns are columns[0], columns[0] + 1, ...
static void ck_median_count(const float *X, int64_t a, int64_t b, int64_t width, const int64_t *columns, int contiguous,
                            const ck_median_state *s, int pass, uint32_t *hist) {
    const int64_t count = s->count;
    const int shift = shifts[pass];
    for (int64_t r = a; r < b; r++) {
        const float *row = X + r * width;
        if (pass == 0) {
            for (int64_t j = 0; j < count; j++) {
                const float v = row[columns[j]];
                if (!isnan(v)) hist[(int64_t)(ck_order_key(v) >> shift) * count + j]++;
            }
            continue;
        }
        const int known_shift = shifts[pass - 1];
        const uint32_t mask = (1u << widths[pass]) - 1;
        if (contiguous && !ck_row_may_count(row + columns[0], s, known_shift)) continue;
        for (int64_t j = 0; j < count; j++) {
            const float v = row[columns[j]];
            if (isnan(v)) continue;
            const uint32_t key = ck_order_key(v), known = key >> known_shift, bin = (key >> shift) & mask;
            for (int m = 0; m < MIDDLES; m++)
                if (known == s->prefix[m][j]) hist[(((int64_t)m << widths[pass]) + bin) * count + j]++;
        }
    }
}

/// After a pass over the histograms' sum `total` (laid out as ck_median_count's): the bin holding
/// each middle's rank becomes the next bits of its prefix.
static void ck_median_narrow(ck_median_state *s, const int64_t *total, int pass) {
    const int64_t count = s->count;
    for (int64_t j = 0; j < count; j++) {
        if (pass == 0) {
            s->values[j] = 0;
            for (int i = 0; i < 1 << widths[0]; i++) s->values[j] += total[i * count + j];
            s->rank[0][j] = (s->values[j] - 1) / 2;
            s->rank[1][j] = s->values[j] / 2;
        }
        if (s->values[j] == 0) continue;
        for (int m = 0; m < MIDDLES; m++) {
            const int64_t *h = total + (pass == 0 ? 0 : ((int64_t)m << widths[pass]) * count) + j;
            int bin = 0;
            while (s->rank[m][j] >= h[bin * count]) s->rank[m][j] -= h[bin++ * count];
            s->prefix[m][j] = pass == 0 ? (uint32_t)bin : s->prefix[m][j] << widths[pass] | (uint32_t)bin;
        }
    }
}

/// The medians of the state's columns, with `team` blocks of rows counted in parallel into `hist`
/// (team x BINS x count) and summed into `total`.
static void ck_medians_of_group(const float *X, int64_t rows, int64_t width, const int64_t *columns, int team,
                                uint32_t *hist, int64_t *total, ck_median_state *s, float *medians) {
    const int64_t count = s->count;
    const size_t per_block = (size_t)count * BINS;
    int contiguous = 1;
    for (int64_t j = 0; j < count; j++) contiguous &= columns[j] == columns[0] + j;
    // Before the first pass, no value matches a prefix (keys >> 18 are below 2^14).
    for (int m = 0; m < MIDDLES; m++)
        for (int64_t j = 0; j < count; j++) s->prefix[m][j] = UINT32_MAX;
    for (int pass = 0; pass < PASSES; pass++) {
        memset(hist, 0, (size_t)team * per_block * sizeof *hist);
        // Block t of the rows into histogram t, whichever thread runs it (the team may be smaller).
        int64_t next = 0;
#pragma omp parallel num_threads(team)
        for (;;) {
            const int64_t t = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED);
            if (t >= team) break;
            ck_median_count(X, rows * t / team, rows * (t + 1) / team, width, columns, contiguous, s, pass,
                            hist + (size_t)t * per_block);
        }
        for (size_t i = 0; i < per_block; i++) {
            total[i] = 0;
            for (int t = 0; t < team; t++) total[i] += hist[(size_t)t * per_block + i];
        }
        ck_median_narrow(s, total, pass);
    }
    for (int64_t j = 0; j < count; j++) {
        const double lower = ck_key_value(s->prefix[0][j]), upper = ck_key_value(s->prefix[1][j]);
        medians[j] = s->values[j] == 0 ? NAN : (float)((lower + upper) / 2);
    }
}

int ck_column_medians(const float *X, int64_t rows, int64_t width, const int64_t *columns, int64_t count, int threads,
                      float *medians) {
    if (count <= 0) return CK_CSV_OK;
    const int team = threads > 0 ? threads : 1;
    const size_t column_bytes = (size_t)team * BINS * sizeof(uint32_t);
    // Columns in groups whose histograms fit HISTOGRAM_BYTES: each group reads the rows three times.
    int64_t group = (int64_t)(HISTOGRAM_BYTES / column_bytes);
    if (group < 1) group = 1;
    if (group > count) group = count;
    uint32_t *hist = malloc((size_t)group * column_bytes);
    int64_t *total = malloc((size_t)group * BINS * sizeof *total);
    int64_t *numbers = malloc((size_t)group * (1 + 2 * MIDDLES) * sizeof *numbers);
    int ok = hist && total && numbers;
    for (int64_t j = 0; ok && j < count; j += group) {
        ck_median_state s = {count - j < group ? count - j : group, numbers, {numbers + group, numbers + 2 * group},
                             {(uint32_t *)(numbers + 3 * group), (uint32_t *)(numbers + 4 * group)}};
        ck_medians_of_group(X, rows, width, columns + j, team, hist, total, &s, medians + j);
    }
    free(hist);
    free(total);
    free(numbers);
    return ok ? CK_CSV_OK : CK_CSV_ERR_MEMORY;
}
