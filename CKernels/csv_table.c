// The survey and write passes of the tabular CSV loader (see "Tabular CSV" in CKernels.h).
#define _GNU_SOURCE
#include "internal.h"
#include "parse_float.h"
#include "value_table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
// MARK: - Rows and fields

/// One thread's view of the current row, and its scratch space for value texts.
typedef struct {
    const ck_table_spec *s;
    int64_t line, next, stop;  // the row's line start; the next line's start; the chunk's end
    int64_t n;                 // fields
    int64_t *ranges;           // 2 * (fields + 1)
    uint8_t *quoted;
    char *scratch;
    int64_t scratch_cap;
    int64_t next_release, chunk_begin;
    uint64_t na_lengths;       // bit n: a missing-value token has n bytes (n < 64)
    uint64_t na_first[4];      // bit b: a missing-value token starts with byte b
    int isa;                   // the calling thread's choice (ck_isa_force): which splitter and scanner
} ck_row;

static int ck_row_init(ck_row *r, const ck_table_spec *s) {
    memset(r, 0, sizeof *r);
    r->s = s;
    r->isa = ck_isa_active();
    for (int64_t i = 0; i < s->na_count; i++) {
        int64_t n = s->na_offsets[i + 1] - s->na_offsets[i];
        r->na_lengths |= n < 64 ? (uint64_t)1 << n : 0;
        if (n > 0) {
            uint8_t b = (uint8_t)s->na_text[s->na_offsets[i]];
            r->na_first[b >> 6] |= (uint64_t)1 << (b & 63);
        }
    }
    r->ranges = malloc((size_t)(s->fields + 1) * 2 * sizeof *r->ranges);
    r->quoted = malloc((size_t)(s->fields + 1));
    return r->ranges && r->quoted ? 0 : -1;
}

static void ck_row_free(ck_row *r) {
    free(r->ranges);
    free(r->quoted);
    free(r->scratch);
}

static void ck_row_start(ck_row *r, int64_t a, int64_t b) {
    r->next = r->chunk_begin = a;
    r->stop = b;
    r->next_release = a + CK_CSV_RELEASE_BYTES;
}

static void ck_table_fail(ck_table_error *e, int status, int64_t line, int64_t column, int64_t b, int64_t end, int quoted) {
    *e = (ck_table_error){status, line, column, b, end, quoted};
}

/// A field that ck_csv_split_line would trim or unquote: it starts with a quote, or starts or ends
/// with a space, a tab (unless the delimiter is one) or a CR.
static inline int ck_needs_general_split(const char *f, int64_t n, char delim) {
    if (n == 0) return 0;
    char a = f[0], z = f[n - 1];
    return a == '"' || a == ' ' || z == ' ' || z == '\r' || (delim != '\t' && (a == '\t' || z == '\t'));
}

#if CK_HAVE_X86
/// What the split needs of 64 bytes of a line, bit i for byte i: the delimiters; the bytes that may
/// make a field need the general rules (ck_needs_general_split: quotes, spaces, CRs, tabs unless
/// they delimit); the control bytes the general rules refuse (below 0x20 but tabs, CK_CSV_ERR_CONTROL).
typedef struct {
    uint64_t delims, odd, control;
} ck_split_masks;

typedef ck_split_masks (*ck_split_masks_fn)(const char *p, char delim);

CK_TARGET_AVX2 static inline __attribute__((always_inline)) uint32_t ck_split_half_avx2(__m256i x, char c) {
    return (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, _mm256_set1_epi8(c)));
}

/// ck_split_masks of the 64 bytes at p, as two 32-byte halves.
CK_TARGET_AVX2 static inline __attribute__((always_inline)) ck_split_masks ck_split_masks_avx2(const char *p, char delim) {
    ck_split_masks m = {0, 0, 0};
    const char tab = delim == '\t' ? '"' : '\t';
    for (int h = 0; h < 2; h++) {
        const __m256i x = _mm256_loadu_si256((const __m256i *)(p + 32 * h));
        const uint64_t odd = ck_split_half_avx2(x, '"') | ck_split_half_avx2(x, ' ') | ck_split_half_avx2(x, '\r') |
                             ck_split_half_avx2(x, tab);
        const __m256i below_space = _mm256_cmpeq_epi8(_mm256_min_epu8(x, _mm256_set1_epi8(0x1f)), x);
        const uint64_t control = (uint32_t)_mm256_movemask_epi8(below_space) & ~ck_split_half_avx2(x, '\t');
        m.delims |= (uint64_t)ck_split_half_avx2(x, delim) << (32 * h);
        m.odd |= odd << (32 * h);
        m.control |= control << (32 * h);
    }
    return m;
}

/// ck_split_masks of the 64 bytes at p in one register.
CK_TARGET_AVX512 static inline __attribute__((always_inline)) ck_split_masks ck_split_masks_avx512(const char *p,
                                                                                                 char delim) {
    const __m512i x = _mm512_loadu_si512((const void *)p);
    const char tab = delim == '\t' ? '"' : '\t';
    const uint64_t odd = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('"')) | _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(' ')) |
                         _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('\r')) | _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(tab));
    const uint64_t control = _mm512_cmplt_epu8_mask(x, _mm512_set1_epi8(0x20)) & ~_mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('\t'));
    return (ck_split_masks){_mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(delim)), odd, control};
}

/// ck_csv_split_line for a line of plain fields (none needs trimming or unquoting, none holds a
/// control character), finding the delimiters 64 bytes at a time with `masks`: the number of fields,
/// or -1 when the line needs the general rules (or has more than max_fields fields). Reads up to 63
/// bytes past the line when they lie before `limit` (the mapping's end).
static inline __attribute__((always_inline)) int64_t ck_split_plain_body(const char *line, const char *end,
                                                                        const char *limit, char delim, int64_t *ranges,
                                                                        uint8_t *quoted, int64_t max_fields,
                                                                        ck_split_masks_fn masks) {
    if (end > line && end[-1] == '\r') end--;
    const int64_t len = end - line;
    int64_t n = 0, start = 0;
    uint64_t odd = 0;  // bytes that may make a field need the general rules
    for (int64_t i = 0; i < len; i += 64) {
        char tail[64];
        const char *p = line + i;
        if (p + 64 > limit) {  // the line ends the mapping
            memset(tail, 0, sizeof tail);
            p = memcpy(tail, p, (size_t)(len - i < 64 ? len - i : 64));
        }
        const uint64_t in = len - i < 64 ? ((uint64_t)1 << (len - i)) - 1 : ~(uint64_t)0;
        const ck_split_masks m = masks(p, delim);
        if (m.control & in) return -1;
        odd |= m.odd & in;
        for (uint64_t d = m.delims & in; d; d &= d - 1) {
            int64_t at = i + __builtin_ctzll(d);
            if (n + 1 >= max_fields) return -1;
            ranges[2 * n] = start;
            ranges[2 * n + 1] = at;
            n++;
            start = at + 1;
        }
    }
    ranges[2 * n] = start;
    ranges[2 * n + 1] = len;
    n++;
    for (int64_t i = 0; odd && i < n; i++)
        if (ck_needs_general_split(line + ranges[2 * i], ranges[2 * i + 1] - ranges[2 * i], delim)) return -1;
    memset(quoted, 0, (size_t)n);
    return n;
}

#define CK_SPLIT_PLAIN_PARAMS \
    (const char *line, const char *end, const char *limit, char delim, int64_t *ranges, uint8_t *quoted, int64_t max_fields)
CK_TARGET_AVX2 static int64_t ck_split_plain_avx2 CK_SPLIT_PLAIN_PARAMS {
    return ck_split_plain_body(line, end, limit, delim, ranges, quoted, max_fields, ck_split_masks_avx2);
}
CK_TARGET_AVX512 static int64_t ck_split_plain_avx512 CK_SPLIT_PLAIN_PARAMS {
    return ck_split_plain_body(line, end, limit, delim, ranges, quoted, max_fields, ck_split_masks_avx512);
}
#endif

/// ck_csv_split_line of the row's line [p, end) into r's fields.
static inline int64_t ck_row_split(ck_row *r, const char *p, const char *end) {
    const ck_table_spec *s = r->s;
#if CK_HAVE_X86
    if (r->isa >= CK_ISA_AVX2) {
        const char *limit = s->data + s->size;
        int64_t n = r->isa >= CK_ISA_AVX512
                        ? ck_split_plain_avx512(p, end, limit, s->delimiter, r->ranges, r->quoted, s->fields + 1)
                        : ck_split_plain_avx2(p, end, limit, s->delimiter, r->ranges, r->quoted, s->fields + 1);
        if (n >= 0) return n;
    }
#endif
    return ck_csv_split_line(p, end, s->delimiter, r->ranges, r->quoted, s->fields + 1);
}

/// Moves to the next non-blank line of the chunk and splits it: 1, 0 at the chunk's end, -1 for a
/// ragged row or a malformed quoted field (in *e).
static inline __attribute__((always_inline)) int ck_row_next(ck_row *r, ck_table_error *e) {
    const ck_table_spec *s = r->s;
    const char *d = s->data;
    while (r->next < r->stop) {
        int64_t a = r->next;
        const char *nl = memchr(d + a, '\n', (size_t)(r->stop - a));
        int64_t end = nl ? nl - d : r->stop;
        r->next = nl ? end + 1 : r->stop;
        if (end == a || (end == a + 1 && d[a] == '\r')) continue;
        if (a >= r->next_release) {
            ck_csv_release(d, s->size, r->chunk_begin, a);
            r->next_release = a + CK_CSV_RELEASE_BYTES;
        }
        int64_t n = ck_row_split(r, d + a, d + end);
        if (n < 0) {
            ck_table_fail(e, ck_csv_malformed_status(d + a + r->ranges[0]), a, -1 - n, a + r->ranges[0], a + r->ranges[1], 0);
            return -1;
        }
        if (n < s->min_fields || n > s->fields) {
            ck_table_fail(e, CK_CSV_ERR_FIELDS, a, n, a, a, 0);
            return -1;
        }
        r->line = a;
        r->n = n;
        return 1;
    }
    return 0;
}

static inline const char *ck_field(const ck_row *r, int64_t c, int64_t *n) {
    *n = r->ranges[2 * c + 1] - r->ranges[2 * c];
    return r->s->data + r->line + r->ranges[2 * c];
}

static inline int ck_is_missing(const ck_row *r, const char *p, int64_t n) {
    const ck_table_spec *s = r->s;
    if (n == 0) return 1;
    if (n < 64 && !(r->na_lengths >> n & 1)) return 0;  // no token is that long
    // Nor starts so: short categories and labels ("v7", "0") pass here, not through the tokens.
    const uint8_t b = (uint8_t)p[0];
    if (!(r->na_first[b >> 6] >> (b & 63) & 1)) return 0;
    for (int64_t i = 0; i < s->na_count; i++) {
        int64_t a = s->na_offsets[i];
        if (s->na_offsets[i + 1] - a == n && ck_same_bytes(s->na_text + a, p, n)) return 1;
    }
    return 0;
}

/// ck_parse_float, with the number scan inlined for the common case.
static inline int ck_table_number(const char *p, const char *end, float *v) {
    const char *q = p;
    if (ck_parse_float_scan(&q, end, v) == 0 && q == end) return 0;
    return ck_parse_float(p, end, v);
}

/// Whether ck_parse_float accepts [p, end), without converting it.
static inline int ck_is_number(const char *p, const char *end) {
    const char *q = p;
    ck_decimal d;
    if (ck_scan_decimal(&q, end, &d) == 0 && q == end) return 1;
    q = p;
    if (q < end && (*q == '+' || *q == '-')) q++;
    if (q == end || ((*q | 0x20) != 'i' && (*q | 0x20) != 'n')) return 0;  // no inf/nan word either
    float v;
    return ck_parse_float(p, end, &v) >= 0;
}

/// ck_table_number of the row's field [p, p + n), trying `fast` first (it reads the chunk's bytes
/// around the field).
static inline __attribute__((always_inline)) int ck_row_number_with(const ck_row *r, const char *p, int64_t n, float *v,
                                                                   ck_fast_scan fast) {
    const char *q = p;
    ck_decimal d;
    if (fast(&q, r->s->data + r->chunk_begin, r->s->data + r->stop, &d) == 0 && q == p + n) {
        *v = ck_decimal_to_float(d, p, q);
        return 0;
    }
    return ck_table_number(p, p + n, v);
}

#if CK_HAVE_X86
CK_TARGET_AVX2 static int ck_row_number_avx2(const ck_row *r, const char *p, int64_t n, float *v) {
    return ck_row_number_with(r, p, n, v, ck_scan_decimal_avx2);
}

/// ck_is_number, scanning the digits 32 bytes at a time (ck_scan_decimal_avx2 reads the chunk's
/// bytes [lo, hi) around the field).
CK_TARGET_AVX2 static int ck_is_number_avx2(const char *p, const char *end, const char *lo, const char *hi) {
    const char *q = p;
    ck_decimal d;
    return (ck_scan_decimal_avx2(&q, lo, hi, &d) == 0 && q == end) || ck_is_number(p, end);
}
#endif

/// ck_parse_float of the row's field [p, p + n) (its status), scanning as the row splits.
static inline int ck_row_number(const ck_row *r, const char *p, int64_t n, float *v) {
#if CK_HAVE_X86
    if (r->isa >= CK_ISA_AVX2) return ck_row_number_avx2(r, p, n, v);
#endif
    return ck_table_number(p, p + n, v);
}

/// Whether ck_parse_float accepts the row's field [p, p + n).
static inline int ck_row_is_number(const ck_row *r, const char *p, int64_t n) {
#if CK_HAVE_X86
    if (r->isa >= CK_ISA_AVX2) return ck_is_number_avx2(p, p + n, r->s->data + r->chunk_begin, r->s->data + r->stop);
#endif
    return ck_is_number(p, p + n);
}

static int ck_row_reserve(ck_row *r, int64_t n) {
    if (n <= r->scratch_cap) return 0;
    char *x = realloc(r->scratch, (size_t)n);
    if (!x) return -1;
    r->scratch = x;
    r->scratch_cap = n;
    return 0;
}

/// The length of the well-formed UTF-8 sequence at p[0, n), or 0 when p starts an ill-formed one;
/// *consumed is then the bytes of its maximal subpart (Unicode's "best practice", which Swift follows).
static int64_t ck_utf8_sequence(const uint8_t *p, int64_t n, int64_t *consumed) {
    uint8_t b = p[0], lo = 0x80, hi = 0xBF;
    int64_t len;
    if (b >= 0xC2 && b <= 0xDF) len = 2;
    else if (b >= 0xE0 && b <= 0xEF) {
        len = 3;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        len = 4;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
    } else {
        *consumed = 1;
        return 0;
    }
    int64_t i = 1;
    for (; i < len && i < n; i++) {
        uint8_t c = p[i];
        if (c < (i == 1 ? lo : 0x80) || c > (i == 1 ? hi : 0xBF)) break;
    }
    *consumed = i;
    return i == len ? len : 0;
}

/// The text of field c as the tables key it (see "Tabular CSV" in CKernels.h); NULL when out of memory.
static const char *ck_row_value(ck_row *r, int64_t c, int64_t *len) {
    int64_t n;
    const char *p = ck_field(r, c, &n);
    int quoted = r->quoted[c] && memchr(p, '"', (size_t)n);
    uint8_t high = 0;
    for (int64_t i = 0; i < n; i++) high |= (uint8_t)p[i];
    *len = n;
    if (!quoted && high < 0x80) return p;
    if (ck_row_reserve(r, 4 * n) != 0) return NULL;
    char *out = r->scratch + 3 * n;  // unescaped first, then repaired into the front
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        out[k++] = p[i];
        if (quoted && p[i] == '"' && i + 1 < n && p[i + 1] == '"') i++;
    }
    const uint8_t *u = (const uint8_t *)out;
    int64_t m = 0;
    for (int64_t i = 0; i < k;) {
        int64_t step;
        if (u[i] < 0x80) step = 1;
        else if (ck_utf8_sequence(u + i, k - i, &step) == 0) {
            memcpy(r->scratch + m, "\xEF\xBF\xBD", 3);
            m += 3;
            i += step;
            continue;
        }
        memmove(r->scratch + m, out + i, (size_t)step);
        m += step;
        i += step;
    }
    *len = m;
    return r->scratch;
}

/// Adds field c's value (or "" when missing) to t: its id, or -1 when t is full or out of memory.
static int32_t ck_row_count(ck_row *r, int64_t c, int missing, ck_value_table *t) {
    int64_t n = 0;
    const char *p = missing ? "" : ck_row_value(r, c, &n);
    if (!p) {
        t->failed = 1;
        return -1;
    }
    return ck_value_add(t, p, n, ck_value_hash(p, n), 1, r->line);
}

/// ck_row_count of a present field, through the thread's cache of t when the field's raw bytes are
/// its short value (unquoted ASCII, not at the mapping's last 8 bytes).
static inline __attribute__((always_inline)) int32_t ck_row_count_cached(ck_row *r, int64_t c, ck_value_table *t,
                                                                        ck_value_cache *cache) {
    int64_t n;
    const char *p = ck_field(r, c, &n);
    uint64_t key = !r->quoted[c] && p + 8 <= r->s->data + r->s->size ? ck_value_short_key(p, n) : 0;
    if (!key) return ck_row_count(r, c, 0, t);
    int slot = ck_value_cache_slot(key);
    if (cache->keys[slot] == key) {
        int32_t id = cache->ids[slot];
        t->v.counts[id]++;
        if (r->line < t->v.first[id]) t->v.first[id] = r->line;
        return id;
    }
    int32_t id = ck_row_count(r, c, 0, t);
    if (id >= 0) {
        cache->keys[slot] = key;
        cache->ids[slot] = id;
    }
    return id;
}

/// The first error of the chunks in file order into *e; returns its status.
static int ck_first_error(const ck_table_error *errors, int64_t chunks, ck_table_error *e) {
    for (int64_t i = 0; i < chunks; i++)
        if (errors[i].status) {
            *e = errors[i];
            return e->status;
        }
    return CK_CSV_OK;
}

// MARK: - Kept rows

/// A kept row's cell: a number, or a value's id in its thread's table.
typedef union {
    float number;
    int32_t id;
} ck_cell;

struct ck_table_rows {
    int threads;
    int64_t fields, cells;        // cells per row
    int64_t *cell_of;             // [fields]: column c's cell, or -1
    uint8_t *modes;               // [fields]
    int64_t *unclean;             // [fields]: values of a number column kept as NaN that are not missing
    int64_t target, label_cell;   // label_cell -1 when the labels are not kept
    int64_t missing_labels;
    int64_t chunks;
    ck_cell **chunk_cells;        // [chunks], mapped (chunk_bytes[i] bytes) until expanded
    size_t *chunk_bytes;
    int64_t *chunk_rows;
    int *chunk_thread;            // the thread that read chunk i: its ids are that thread's tables'
    ck_value_table *tables;       // [threads][fields]: the threads' value tables
    ck_value_table *labels;       // [threads]
};

void ck_table_rows_free(ck_table_rows *k) {
    if (!k) return;
    for (int64_t i = 0; k->chunk_cells && i < k->chunks; i++)
        if (k->chunk_cells[i]) munmap(k->chunk_cells[i], k->chunk_bytes[i]);
    for (int64_t i = 0; k->tables && i < k->threads * k->fields; i++) ck_value_free(&k->tables[i]);
    for (int t = 0; k->labels && t < k->threads; t++) ck_value_free(&k->labels[t]);
    free(k->cell_of);
    free(k->modes);
    free(k->unclean);
    free(k->chunk_cells);
    free(k->chunk_bytes);
    free(k->chunk_rows);
    free(k->chunk_thread);
    free(k->tables);
    free(k->labels);
    free(k);
}

/// Room for the kept rows of the columns with a mode (and the label) of a survey; NULL when out of memory.
static ck_table_rows *ck_rows_new(const ck_table_spec *s, const uint8_t *modes, int64_t target, int threads) {
    ck_table_rows *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    int64_t n = s->chunks > 0 ? s->chunks : 1;
    k->threads = threads;
    k->fields = s->fields;
    k->target = target;
    k->label_cell = -1;
    k->chunks = s->chunks;
    k->cell_of = malloc((size_t)s->fields * sizeof *k->cell_of);
    k->modes = calloc((size_t)s->fields, 1);
    k->unclean = calloc((size_t)s->fields, sizeof *k->unclean);
    k->chunk_cells = calloc((size_t)n, sizeof *k->chunk_cells);
    k->chunk_bytes = calloc((size_t)n, sizeof *k->chunk_bytes);
    k->chunk_rows = calloc((size_t)n, sizeof *k->chunk_rows);
    k->chunk_thread = calloc((size_t)n, sizeof *k->chunk_thread);
    k->tables = calloc((size_t)threads * (size_t)s->fields, sizeof *k->tables);
    k->labels = calloc((size_t)threads, sizeof *k->labels);
    if (!k->cell_of || !k->modes || !k->unclean || !k->chunk_cells || !k->chunk_bytes || !k->chunk_rows ||
        !k->chunk_thread || !k->tables || !k->labels) {
        ck_table_rows_free(k);
        return NULL;
    }
    for (int64_t c = 0; c < s->fields; c++) {
        k->modes[c] = c < s->min_fields ? modes[c] : 0;
        k->cell_of[c] = k->modes[c] ? k->cells++ : -1;
    }
    if (target >= 0 && target < s->min_fields) k->label_cell = k->cells++;
    return k;
}

/// Maps room for chunk i = [a, b)'s kept rows: a line has at least min_fields - 1 delimiters and,
/// unless it ends the file, its newline. NULL when out of memory (or when rows have no cells).
static ck_cell *ck_rows_map(ck_table_rows *k, const ck_table_spec *s, int64_t i, int64_t a, int64_t b) {
    int64_t rows = (b - a + 1) / (s->min_fields > 1 ? s->min_fields : 1) + 1;
    size_t bytes = (size_t)(rows * k->cells) * sizeof(ck_cell);
    if (bytes == 0) return NULL;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return NULL;
    k->chunk_cells[i] = p;
    k->chunk_bytes[i] = bytes;
    return p;
}

// MARK: - Pass 1: survey

typedef struct {
    ck_row row;
    int64_t *missing, *non_numbers, *unclean;
    int64_t strays, first_stray, missing_labels;
    ck_value_table *tables;  // per column (only counted ones grow)
    ck_value_cache *caches;  // per column, of `tables`
    ck_value_table labels;   // when the rows are kept
    ck_value_cache label_cache;
} ck_survey_thread;

static int64_t ck_count_lines(const ck_table_spec *s, int64_t a, int64_t b) {
    int64_t n = 0;
    for (int64_t p = a; p < b;) {
        const char *nl = memchr(s->data + p, '\n', (size_t)(b - p));
        int64_t end = nl ? nl - s->data : b;
        n += !(end == p || (end == p + 1 && s->data[p] == '\r'));
        p = nl ? end + 1 : b;
    }
    return n;
}

/// Field c's survey: counts it as missing or as a non-number; with a cell (a number column of kept
/// rows) parses it, keeping NaN for a value that is not a clean finite number (counted in unclean).
static inline __attribute__((always_inline)) void ck_survey_number(ck_survey_thread *t, int64_t c, const char *p,
                                                                  int64_t n, int missing, ck_cell *cell,
                                                                  ck_fast_scan fast) {
    const ck_row *r = &t->row;
    float v = NAN;
    if (missing) {
        t->missing[c]++;
    } else if (cell) {
        int rc = ck_row_number_with(r, p, n, &v, fast);
        t->non_numbers[c] += rc < 0;
        if (rc != 0 || isinf(v)) {
            t->unclean[c]++;
            v = NAN;
        }
    } else if (!ck_row_is_number(r, p, n)) {
        t->non_numbers[c]++;
    }
    if (cell) cell->number = v;
}

/// Keeps the row's label in the thread's label table; -1 when out of memory.
static int ck_survey_label(ck_survey_thread *t, int64_t target, ck_cell *cell) {
    ck_row *r = &t->row;
    cell->id = -1;
    if (r->ranges[2 * target] == r->ranges[2 * target + 1]) {
        t->missing_labels++;
        return 0;
    }
    cell->id = ck_row_count_cached(r, target, &t->labels, &t->label_cache);
    return t->labels.failed ? -1 : 0;
}

/// Surveys chunk i; compiled once per instruction set with its `fast` scanner, which the number
/// columns' conversion inlines (a call per field was a fifth of its instructions; ck_row_next and
/// ck_row_count_cached are inlined for the same reason).
static inline __attribute__((always_inline)) void ck_survey_chunk_body(const ck_table_spec *s, const uint8_t *modes,
                                                                      ck_survey_thread *t, ck_table_rows *keep,
                                                                      int64_t i, int64_t *rows, ck_table_error *e,
                                                                      ck_fast_scan fast) {
    ck_row *r = &t->row;
    ck_row_start(r, s->chunk_starts[i], s->chunk_starts[i + 1]);
    ck_cell *cells = keep ? ck_rows_map(keep, s, i, s->chunk_starts[i], s->chunk_starts[i + 1]) : NULL;
    if (keep && !cells && keep->cells) {
        ck_table_fail(e, CK_CSV_ERR_MEMORY, r->chunk_begin, -1, r->chunk_begin, r->chunk_begin, 0);
        return;
    }
    int got;
    while ((got = ck_row_next(r, e)) > 0) {
        ck_cell *row = cells ? cells + *rows * keep->cells : NULL;
        ++*rows;
        for (int64_t c = 0; c < s->min_fields; c++) {
            if (!modes[c]) continue;
            int64_t n;
            const char *p = ck_field(r, c, &n);
            int missing = ck_is_missing(r, p, n);
            ck_cell *cell = row ? row + keep->cell_of[c] : NULL;
            if (!(modes[c] & CK_TABLE_COUNT)) {
                ck_survey_number(t, c, p, n, missing, cell, fast);
                continue;
            }
            int32_t id = missing ? ck_row_count(r, c, 1, &t->tables[c])
                                 : ck_row_count_cached(r, c, &t->tables[c], &t->caches[c]);
            if (t->tables[c].failed) {
                ck_table_fail(e, CK_CSV_ERR_MEMORY, r->line, c, r->line, r->line, 0);
                return;
            }
            if (cell) cell->id = id;
            // A counted value is a number or not once for all its rows (ck_survey_non_numbers).
            if ((modes[c] & CK_TABLE_SURVEY) && (missing || id < 0)) ck_survey_number(t, c, p, n, missing, NULL, fast);
        }
        if (row && keep->label_cell >= 0 && ck_survey_label(t, keep->target, row + keep->label_cell) != 0) {
            ck_table_fail(e, CK_CSV_ERR_MEMORY, r->line, keep->target, r->line, r->line, 0);
            return;
        }
        for (int64_t c = s->min_fields; c < r->n; c++) {
            if (r->ranges[2 * c + 1] == r->ranges[2 * c]) continue;
            t->strays++;
            if (r->line < t->first_stray) t->first_stray = r->line;
        }
    }
}

#define CK_SURVEY_CHUNK_PARAMS                                                                                   \
    (const ck_table_spec *s, const uint8_t *modes, ck_survey_thread *t, ck_table_rows *keep, int64_t i, int64_t *rows, \
     ck_table_error *e)
static void ck_survey_chunk_scalar CK_SURVEY_CHUNK_PARAMS {
    ck_survey_chunk_body(s, modes, t, keep, i, rows, e, ck_scan_decimal_none);
}
#if CK_HAVE_X86
CK_TARGET_AVX2 static void ck_survey_chunk_avx2 CK_SURVEY_CHUNK_PARAMS {
    ck_survey_chunk_body(s, modes, t, keep, i, rows, e, ck_scan_decimal_avx2);
}
CK_TARGET_AVX512 static void ck_survey_chunk_avx512 CK_SURVEY_CHUNK_PARAMS {
    ck_survey_chunk_body(s, modes, t, keep, i, rows, e, ck_scan_decimal_avx2);
}
#endif

/// The version of the row's instruction set (chosen on the calling thread, as its splitter's).
static void ck_survey_chunk CK_SURVEY_CHUNK_PARAMS {
#if CK_HAVE_X86
    if (t->row.isa >= CK_ISA_AVX512) ck_survey_chunk_avx512(s, modes, t, keep, i, rows, e);
    else if (t->row.isa >= CK_ISA_AVX2) ck_survey_chunk_avx2(s, modes, t, keep, i, rows, e);
    else
#endif
        ck_survey_chunk_scalar(s, modes, t, keep, i, rows, e);
}

/// Adds to non_numbers the rows of the counted values that are not numbers (a value's text is a number
/// exactly when its field's raw text is: unescaping and UTF-8 repair touch only texts that are not).
static void ck_survey_non_numbers(ck_survey_thread *t, int64_t c) {
    const ck_table_values *v = &t->tables[c].v;
    for (int64_t j = 0; j < v->count; j++) {
        const char *p = v->text + v->offsets[j], *end = v->text + v->offsets[j + 1];
        if (end > p && !ck_is_number(p, end)) t->non_numbers[c] += v->counts[j];  // "" is the missing value
    }
}

/// Merges the threads' tables of column c into values[c].
static int ck_survey_merge(ck_survey_thread *th, int threads, int64_t c, int64_t limit, ck_table_values *values) {
    ck_value_table *tables = malloc((size_t)threads * sizeof *tables);
    int32_t **maps = calloc((size_t)threads, sizeof *maps);
    ck_value_table out;
    int64_t overflow_first = 0;
    int overflow = 0, status = CK_CSV_ERR_MEMORY;
    if (tables && maps) {
        for (int k = 0; k < threads; k++) {
            tables[k] = th[k].tables[c];
            overflow |= tables[k].v.overflow;
        }
        int rc = ck_value_merge(tables, threads, limit, &out, maps, &overflow_first);
        if (rc == 0 || out.v.overflow) {
            ck_value_drop_index(&out);
            *values = out.v;
            values->overflow |= overflow;
            status = CK_CSV_OK;
        } else {
            ck_value_free(&out);
        }
    }
    for (int k = 0; maps && k < threads; k++) free(maps[k]);
    free(maps);
    free(tables);
    return status;
}

/// Hands the threads' tables and counts over to the kept rows.
static void ck_survey_keep(ck_survey_thread *th, int threads, const int64_t *chunk_rows, ck_table_rows *k) {
    for (int64_t i = 0; i < k->chunks; i++) k->chunk_rows[i] = chunk_rows[i];
    for (int t = 0; t < threads; t++) {
        for (int64_t c = 0; c < k->fields; c++) {
            k->unclean[c] += th[t].unclean[c];
            k->tables[t * k->fields + c] = th[t].tables[c];
            memset(&th[t].tables[c], 0, sizeof th[t].tables[c]);
        }
        k->labels[t] = th[t].labels;
        memset(&th[t].labels, 0, sizeof th[t].labels);
        k->missing_labels += th[t].missing_labels;
    }
}

/// What ck_survey_one needs of ck_table_survey_keeping.
typedef struct {
    const ck_table_spec *s;
    const uint8_t *modes;
    ck_survey_thread *th;
    ck_table_rows *keep;
    int split;  // whether rows are read at all (else only counted)
    ck_table_survey_result *res;
    ck_table_error *errors;
} ck_survey_job;

/// Surveys chunk i (ck_csv_chunk_job).
static int ck_survey_one(void *context, int64_t i, int tid, int64_t *begin, int64_t *end) {
    ck_survey_job *j = context;
    const ck_table_spec *s = j->s;
    int64_t a = *begin = s->chunk_starts[i], b = *end = s->chunk_starts[i + 1];
    if (j->keep) j->keep->chunk_thread[i] = tid;
    if (j->split) ck_survey_chunk(s, j->modes, &j->th[tid], j->keep, i, &j->res->chunk_rows[i], &j->errors[i]);
    else j->res->chunk_rows[i] = ck_count_lines(s, a, b);
    return j->errors[i].status;
}

int ck_table_survey_keeping(const ck_table_spec *s, const uint8_t *modes, int64_t limit, int64_t target,
                            int64_t label_limit, ck_table_survey_result *res, ck_table_rows **rows) {
    const int threads = s->threads > 0 ? s->threads : 1;
    const int64_t n = s->chunks;
    ck_survey_thread *th = calloc((size_t)threads, sizeof *th);
    ck_table_error *errors = calloc((size_t)(n > 0 ? n : 1), sizeof *errors);
    ck_table_rows *keep = rows ? ck_rows_new(s, modes, target, threads) : NULL;
    int split = keep && keep->cells > 0;
    for (int64_t c = 0; c < s->min_fields; c++) split |= modes[c] != 0;
    int status = th && errors && (keep || !rows) ? CK_CSV_OK : CK_CSV_ERR_MEMORY;
    for (int k = 0; status == CK_CSV_OK && k < threads; k++) {
        th[k].missing = calloc((size_t)s->fields, sizeof(int64_t));
        th[k].non_numbers = calloc((size_t)s->fields, sizeof(int64_t));
        th[k].unclean = calloc((size_t)s->fields, sizeof(int64_t));
        th[k].tables = calloc((size_t)s->fields, sizeof(ck_value_table));
        th[k].caches = calloc((size_t)s->fields, sizeof(ck_value_cache));
        th[k].first_stray = INT64_MAX;
        th[k].labels.limit = label_limit;
        if (!th[k].missing || !th[k].non_numbers || !th[k].unclean || !th[k].tables || !th[k].caches ||
            ck_row_init(&th[k].row, s) != 0)
            status = CK_CSV_ERR_MEMORY;
        for (int64_t c = 0; th[k].tables && c < s->fields; c++) th[k].tables[c].limit = limit;
    }
    if (status == CK_CSV_OK) {
        ck_survey_job job = {s, modes, th, keep, split, res, errors};
        ck_csv_for_each_chunk(s->data, s->size, n, threads, ck_survey_one, &job);
        status = ck_first_error(errors, n, &res->error);
    }
    res->first_stray = INT64_MAX;
    for (int k = 0; status == CK_CSV_OK && k < threads; k++) {
        for (int64_t c = 0; c < s->min_fields; c++)
            if (modes[c] == (CK_TABLE_SURVEY | CK_TABLE_COUNT)) ck_survey_non_numbers(&th[k], c);
        for (int64_t c = 0; c < s->fields; c++) {
            res->missing[c] += th[k].missing[c];
            res->non_numbers[c] += th[k].non_numbers[c];
        }
        res->strays += th[k].strays;
        if (th[k].first_stray < res->first_stray) res->first_stray = th[k].first_stray;
    }
    for (int64_t c = 0; status == CK_CSV_OK && c < s->min_fields; c++)
        if (modes[c] & CK_TABLE_COUNT) status = ck_survey_merge(th, threads, c, limit, &res->values[c]);
    if (status == CK_CSV_ERR_MEMORY && !res->error.status) res->error.status = status;
    if (status == CK_CSV_OK && keep) {
        ck_survey_keep(th, threads, res->chunk_rows, keep);
        *rows = keep;
    } else {
        ck_table_rows_free(keep);
        if (rows) *rows = NULL;
    }
    for (int k = 0; th && k < threads; k++) {
        for (int64_t c = 0; th[k].tables && c < s->fields; c++) ck_value_free(&th[k].tables[c]);
        ck_value_free(&th[k].labels);
        free(th[k].tables);
        free(th[k].caches);
        free(th[k].missing);
        free(th[k].non_numbers);
        free(th[k].unclean);
        ck_row_free(&th[k].row);
    }
    free(th);
    free(errors);
    return status;
}

int ck_table_survey(const ck_table_spec *s, const uint8_t *modes, int64_t limit, ck_table_survey_result *res) {
    return ck_table_survey_keeping(s, modes, limit, -1, 0, res, NULL);
}

// MARK: - Pass 2: write

typedef struct {
    ck_row row;
    ck_value_table labels;
    int64_t *unseen;
} ck_write_thread;

typedef struct {
    int64_t rows, invalid;
    int tid;  // the thread that wrote it: its labels are that thread's table's ids
} ck_write_chunk;

/// Writes one row's inputs; returns its first problem's status (0 for none) into *e.
static int ck_write_row(const ck_table_spec *s, const ck_table_plan *plan, const ck_value_table *keys, ck_row *r,
                        float *x, int64_t *unseen, ck_table_error *e) {
    int problem = 0;
    for (int64_t k = 0; k < plan->input_count; k++) {
        const ck_table_input *in = &plan->inputs[k];
        float *at = x + in->offset;
        int64_t n = 0;
        const char *p = in->column < r->n ? ck_field(r, in->column, &n) : NULL;
        int missing = !p || ck_is_missing(r, p, n);
        if (!in->categorical) {
            float v = 0;
            int bad = 0;
            if (!missing) {
                int rc = ck_row_number(r, p, n, &v);
                bad = rc < 0 ? CK_CSV_ERR_NUMBER
                      : rc == 1 && isinf(v) && !plan->allow_nonfinite ? CK_CSV_ERR_NONFINITE
                      : rc == 0 && isinf(v) ? CK_CSV_ERR_RANGE : 0;
            }
            if (bad && !problem) {
                problem = bad;
                ck_table_fail(e, bad, r->line, in->column, p - s->data, p + n - s->data, r->quoted[in->column]);
            }
            int absent = missing || isnan(v);
            at[0] = absent ? in->fill : v;
            if (in->indicator) at[1] = absent ? 1.0f : 0.0f;
            if (absent && !in->indicator) {
                if (!plan->refuse_missing) {
                    unseen[k]++;
                } else if (!problem) {
                    problem = CK_CSV_ERR_MISSING;
                    const int64_t at_text = p ? p - s->data : r->line;
                    ck_table_fail(e, problem, r->line, in->column, at_text, at_text + (p ? n : 0), p ? r->quoted[in->column] : 0);
                }
            }
            continue;
        }
        memset(at, 0, (size_t)in->width * sizeof *at);
        int64_t len = 0;
        const char *value = missing ? "" : ck_row_value(r, in->column, &len);
        if (!value) {
            ck_table_fail(e, CK_CSV_ERR_MEMORY, r->line, in->column, r->line, r->line, 0);
            return CK_CSV_ERR_MEMORY;
        }
        int32_t id = ck_value_find(&keys[k], value, len, ck_value_hash(value, len));
        if (id >= 0) {
            at[plan->key_slots[keys[k].v.first[id]]] = 1;  // `first` holds the key's index
        } else {
            if (in->other >= 0) at[in->other] = 1;
            unseen[k]++;
        }
    }
    return problem;
}

static void ck_write_chunk_rows(const ck_table_spec *s, const ck_table_plan *plan, const ck_value_table *keys,
                                ck_write_thread *t, int64_t a, int64_t b, float *X, int32_t *Y, ck_write_chunk *out,
                                ck_table_error *e) {
    ck_row *r = &t->row;
    ck_row_start(r, a, b);
    int got;
    while ((got = ck_row_next(r, e)) > 0) {
        ck_table_error problem = {0};
        int bad = ck_write_row(s, plan, keys, r, X + out->rows * plan->width, t->unseen, &problem);
        if (bad == CK_CSV_ERR_MEMORY) {
            *e = problem;
            return;
        }
        int64_t target = plan->target;
        if (!bad && target >= 0 && r->ranges[2 * target] == r->ranges[2 * target + 1]) {
            bad = CK_CSV_ERR_MISSING;
            ck_table_fail(&problem, bad, r->line, target, r->line, r->line, 0);
        }
        if (bad) {
            if (plan->drop_invalid) {
                out->invalid++;
                continue;
            }
            *e = problem;
            return;
        }
        if (target >= 0) {
            int64_t n = 0;
            const char *label = ck_row_value(r, target, &n);
            int32_t id = label ? ck_value_add(&t->labels, label, n, ck_value_hash(label, n), 1, r->line) : -1;
            if (id < 0) {
                int64_t m;
                const char *p = ck_field(r, target, &m);
                ck_table_fail(e, t->labels.v.overflow ? CK_CSV_ERR_LABELS : CK_CSV_ERR_MEMORY, r->line, target,
                              p - s->data, p + m - s->data, 0);
                return;
            }
            Y[out->rows] = id;
        }
        out->rows++;
    }
}

/// The plan's keys of each input as a lookup table; a key's `first` is its index in the plan.
static ck_value_table *ck_plan_keys(const ck_table_plan *plan) {
    ck_value_table *keys = calloc((size_t)(plan->input_count > 0 ? plan->input_count : 1), sizeof *keys);
    for (int64_t k = 0; keys && k < plan->input_count; k++) {
        const ck_table_input *in = &plan->inputs[k];
        keys[k].limit = INT64_MAX;
        for (int64_t i = in->keys_begin; in->categorical && i < in->keys_end; i++) {
            const char *p = plan->key_text + plan->key_offsets[i];
            int64_t n = plan->key_offsets[i + 1] - plan->key_offsets[i];
            if (ck_value_add(&keys[k], p, n, ck_value_hash(p, n), 1, i) < 0) {
                for (int64_t j = 0; j <= k; j++) ck_value_free(&keys[j]);
                free(keys);
                return NULL;
            }
        }
    }
    return keys;
}

/// Merges the threads' label tables into written->labels and rewrites each chunk's label ids.
static int ck_write_labels(const ck_table_spec *s, ck_write_thread *th, int threads, const ck_write_chunk *chunks,
                           const int64_t *row0, int64_t limit, int32_t *Y, ck_table_written *w) {
    ck_value_table *tables = malloc((size_t)threads * sizeof *tables);
    int32_t **maps = calloc((size_t)threads, sizeof *maps);
    ck_value_table out;
    int64_t overflow_first = 0;
    int status = CK_CSV_ERR_MEMORY;
    if (tables && maps) {
        for (int k = 0; k < threads; k++) tables[k] = th[k].labels;
        if (ck_value_merge(tables, threads, limit, &out, maps, &overflow_first) == 0) {
            for (int64_t i = 0; i < s->chunks; i++) {
                const int32_t *m = maps[chunks[i].tid];
                for (int64_t r = row0[i]; r < row0[i] + chunks[i].rows; r++) Y[r] = m[Y[r]];
            }
            ck_value_drop_index(&out);
            w->labels = out.v;
            status = CK_CSV_OK;
        } else {
            if (out.v.overflow) {
                status = CK_CSV_ERR_LABELS;
                ck_table_fail(&w->error, status, overflow_first, -1, overflow_first, overflow_first, 0);
            }
            ck_value_free(&out);
        }
    }
    for (int k = 0; maps && k < threads; k++) free(maps[k]);
    free(maps);
    free(tables);
    return status;
}

/// What ck_write_one needs of ck_table_write.
typedef struct {
    const ck_table_spec *s;
    const ck_table_plan *plan;
    const ck_value_table *keys;
    ck_write_thread *th;
    const int64_t *row0;
    float *X;
    int32_t *Y;
    ck_write_chunk *chunks;
    ck_table_error *errors;
} ck_write_job;

/// Writes chunk i's rows into its place (ck_csv_chunk_job).
static int ck_write_one(void *context, int64_t i, int tid, int64_t *begin, int64_t *end) {
    ck_write_job *j = context;
    int64_t a = *begin = j->s->chunk_starts[i], b = *end = j->s->chunk_starts[i + 1];
    j->chunks[i].tid = tid;
    ck_write_chunk_rows(j->s, j->plan, j->keys, &j->th[tid], a, b, j->X + j->row0[i] * j->plan->width,
                        j->Y ? j->Y + j->row0[i] : NULL, &j->chunks[i], &j->errors[i]);
    return j->errors[i].status;
}

int ck_table_write(const ck_table_spec *s, const ck_table_plan *plan, const int64_t *chunk_rows, float *X, int32_t *Y,
                   ck_table_written *w) {
    const int threads = s->threads > 0 ? s->threads : 1;
    const int64_t n = s->chunks;
    ck_write_thread *th = calloc((size_t)threads, sizeof *th);
    ck_write_chunk *chunks = calloc((size_t)(n > 0 ? n : 1), sizeof *chunks);
    ck_table_error *errors = calloc((size_t)(n > 0 ? n : 1), sizeof *errors);
    int64_t *row0 = malloc((size_t)(n + 1) * sizeof *row0);
    ck_value_table *keys = ck_plan_keys(plan);
    int status = th && chunks && errors && row0 && keys ? CK_CSV_OK : CK_CSV_ERR_MEMORY;
    for (int k = 0; status == CK_CSV_OK && k < threads; k++) {
        th[k].labels.limit = plan->label_limit;
        th[k].unseen = calloc((size_t)(plan->input_count > 0 ? plan->input_count : 1), sizeof(int64_t));
        if (!th[k].unseen || ck_row_init(&th[k].row, s) != 0) status = CK_CSV_ERR_MEMORY;
    }
    if (status == CK_CSV_OK) {
        row0[0] = 0;
        for (int64_t i = 0; i < n; i++) row0[i + 1] = row0[i] + chunk_rows[i];
        ck_write_job job = {s, plan, keys, th, row0, X, Y, chunks, errors};
        ck_csv_for_each_chunk(s->data, s->size, n, threads, ck_write_one, &job);
        status = ck_first_error(errors, n, &w->error);
    }
    if (status == CK_CSV_OK && plan->target >= 0 && Y)
        status = ck_write_labels(s, th, threads, chunks, row0, plan->label_limit, Y, w);
    if (status == CK_CSV_OK) {
        // Squeeze out the room left by dropped rows (chunks in order, moving rows down).
        int64_t dst = 0;
        for (int64_t i = 0; i < n; i++) {
            if (dst != row0[i] && chunks[i].rows > 0) {
                memmove(X + dst * plan->width, X + row0[i] * plan->width,
                        (size_t)(chunks[i].rows * plan->width) * sizeof *X);
                if (Y) memmove(Y + dst, Y + row0[i], (size_t)chunks[i].rows * sizeof *Y);
            }
            dst += chunks[i].rows;
            w->invalid_rows += chunks[i].invalid;
        }
        w->rows = dst;
        for (int k = 0; k < threads; k++)
            for (int64_t j = 0; j < plan->input_count; j++) w->unseen[j] += th[k].unseen[j];
    } else if (!w->error.status) {
        w->error.status = status;
    }
    for (int k = 0; th && k < threads; k++) {
        ck_value_free(&th[k].labels);
        free(th[k].unseen);
        ck_row_free(&th[k].row);
    }
    for (int64_t k = 0; keys && k < plan->input_count; k++) ck_value_free(&keys[k]);
    free(keys);
    free(th);
    free(chunks);
    free(errors);
    free(row0);
    return status;
}

// MARK: - Pass 2 from the kept rows

/// Whether the kept rows hold what the plan reads (see CK_TABLE_REWRITE).
static int ck_rows_serve(const ck_table_rows *k, const ck_table_plan *plan) {
    if (plan->refuse_missing || plan->target != k->target || (k->target >= 0 && (k->label_cell < 0 || k->missing_labels > 0)))
        return 0;
    for (int t = 0; t < k->threads; t++)
        if (k->labels[t].v.overflow) return 0;
    for (int64_t j = 0; j < plan->input_count; j++) {
        int64_t c = plan->inputs[j].column;
        if (c < 0 || c >= k->fields || k->cell_of[c] < 0) return 0;
        int counted = (k->modes[c] & CK_TABLE_COUNT) != 0;
        if (plan->inputs[j].categorical ? !counted : counted || k->unclean[c] > 0) return 0;
        for (int t = 0; counted && t < k->threads; t++)
            if (k->tables[t * k->fields + c].v.overflow) return 0;
    }
    return 1;
}

/// Per input and thread, the slot of each value in that thread's table of the input's column (-1:
/// outside the plan's keys); NULL when out of memory.
static int32_t **ck_rows_slots(const ck_table_rows *k, const ck_table_plan *plan, const ck_value_table *keys) {
    int64_t n = plan->input_count * k->threads;
    int32_t **slots = calloc((size_t)(n > 0 ? n : 1), sizeof *slots);
    for (int64_t j = 0; slots && j < plan->input_count; j++) {
        if (!plan->inputs[j].categorical) continue;
        for (int t = 0; t < k->threads; t++) {
            const ck_table_values *v = &k->tables[t * k->fields + plan->inputs[j].column].v;
            int32_t *m = slots[j * k->threads + t] = malloc((size_t)(v->count > 0 ? v->count : 1) * sizeof *m);
            if (!m) return slots;  // the caller finds the NULL
            for (int64_t i = 0; i < v->count; i++) {
                const char *p = v->text + v->offsets[i];
                int64_t len = v->offsets[i + 1] - v->offsets[i];
                int32_t id = ck_value_find(&keys[j], p, len, ck_value_hash(p, len));
                m[i] = id >= 0 ? plan->key_slots[keys[j].v.first[id]] : -1;
            }
        }
    }
    return slots;
}

static void ck_free_maps(int32_t **maps, int64_t n) {
    for (int64_t i = 0; maps && i < n; i++) free(maps[i]);
    free(maps);
}

/// Chunk i's kept rows into X (its first row) and Y, as ck_write_row writes them; then unmaps them.
static void ck_expand_chunk(ck_table_rows *k, const ck_table_plan *plan, int32_t *const *slots, int32_t *const *labels,
                            int64_t i, float *X, int32_t *Y, int64_t *unseen) {
    const int tid = k->chunk_thread[i];
    const ck_cell *cells = k->chunk_cells[i];
    int one_hot = 0;  // rows are zeroed first, once, when they have one-hot inputs
    for (int64_t j = 0; j < plan->input_count; j++) one_hot |= plan->inputs[j].categorical;
    for (int64_t r = 0; cells && r < k->chunk_rows[i]; r++, cells += k->cells) {
        float *x = X + r * plan->width;
        if (one_hot) memset(x, 0, (size_t)plan->width * sizeof *x);
        for (int64_t j = 0; j < plan->input_count; j++) {
            const ck_table_input *in = &plan->inputs[j];
            const ck_cell cell = cells[k->cell_of[in->column]];
            float *at = x + in->offset;
            if (!in->categorical) {
                int absent = isnan(cell.number);
                at[0] = absent ? in->fill : cell.number;
                if (in->indicator) at[1] = absent ? 1.0f : 0.0f;
                if (absent && !in->indicator) unseen[j]++;
                continue;
            }
            int32_t slot = cell.id >= 0 ? slots[j * k->threads + tid][cell.id] : -1;
            if (slot >= 0) {
                at[slot] = 1;
            } else {
                if (in->other >= 0) at[in->other] = 1;
                unseen[j]++;
            }
        }
        if (Y && k->target >= 0) Y[r] = labels[tid][cells[k->label_cell].id];
    }
    if (k->chunk_cells[i]) munmap(k->chunk_cells[i], k->chunk_bytes[i]);
    k->chunk_cells[i] = NULL;
}

/// Merges the threads' label tables into w->labels (maps: each thread's ids in it); CK_TABLE_REWRITE
/// when they hold more than the limit together.
static int ck_rows_labels(ck_table_rows *k, int64_t limit, int32_t **maps, ck_table_written *w) {
    ck_value_table out;
    int64_t overflow_first = 0;
    if (ck_value_merge(k->labels, k->threads, limit, &out, maps, &overflow_first) != 0) {
        int status = out.v.overflow ? CK_TABLE_REWRITE : CK_CSV_ERR_MEMORY;
        ck_value_free(&out);
        return status;
    }
    ck_value_drop_index(&out);
    w->labels = out.v;
    return CK_CSV_OK;
}

/// What ck_expand_one needs of ck_table_expand.
typedef struct {
    ck_table_rows *k;
    const ck_table_plan *plan;
    int32_t *const *slots, *const *labels;
    const int64_t *row0;
    float *X;
    int32_t *Y;
    int64_t *unseen;  // [threads][inputs]
} ck_expand_job;

/// Expands chunk i's kept rows (ck_csv_chunk_job; no text read, none released).
static int ck_expand_one(void *context, int64_t i, int tid, int64_t *begin, int64_t *end) {
    (void)begin, (void)end;
    ck_expand_job *j = context;
    ck_expand_chunk(j->k, j->plan, j->slots, j->labels, i, j->X + j->row0[i] * j->plan->width,
                    j->Y ? j->Y + j->row0[i] : NULL, j->unseen + tid * j->plan->input_count);
    return 0;
}

int ck_table_expand(ck_table_rows *k, const ck_table_plan *plan, float *X, int32_t *Y, ck_table_written *w) {
    if (!ck_rows_serve(k, plan)) return CK_TABLE_REWRITE;
    const int threads = k->threads;
    const int64_t n = k->chunks, maps = plan->input_count * threads;
    int32_t **labels = calloc((size_t)threads, sizeof *labels);
    int64_t *row0 = malloc((size_t)(n + 1) * sizeof *row0);
    int64_t *unseen = calloc((size_t)threads * (size_t)(plan->input_count > 0 ? plan->input_count : 1), sizeof *unseen);
    ck_value_table *keys = ck_plan_keys(plan);
    int32_t **slots = keys ? ck_rows_slots(k, plan, keys) : NULL;
    int status = labels && row0 && unseen && slots ? CK_CSV_OK : CK_CSV_ERR_MEMORY;
    for (int64_t j = 0; status == CK_CSV_OK && j < maps; j++)
        if (plan->inputs[j / threads].categorical && !slots[j]) status = CK_CSV_ERR_MEMORY;
    if (status == CK_CSV_OK && k->target >= 0) status = ck_rows_labels(k, plan->label_limit, labels, w);
    if (status == CK_CSV_OK) {
        row0[0] = 0;
        for (int64_t i = 0; i < n; i++) row0[i + 1] = row0[i] + k->chunk_rows[i];
        ck_expand_job job = {k, plan, slots, labels, row0, X, Y, unseen};
        ck_csv_for_each_chunk(NULL, 0, n, threads, ck_expand_one, &job);
        w->rows = row0[n];
        for (int t = 0; t < threads; t++)
            for (int64_t j = 0; j < plan->input_count; j++) w->unseen[j] += unseen[t * plan->input_count + j];
    } else if (status != CK_TABLE_REWRITE && !w->error.status) {
        w->error.status = status;
    }
    ck_free_maps(slots, maps);
    ck_free_maps(labels, threads);
    for (int64_t j = 0; keys && j < plan->input_count; j++) ck_value_free(&keys[j]);
    free(keys);
    free(unseen);
    free(row0);
    return status;
}
