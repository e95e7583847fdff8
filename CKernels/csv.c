// CSV parsing: one parallel pass over line-aligned chunks (see "CSV parsing" in CKernels.h).
#define _GNU_SOURCE
#include "internal.h"
#include "parse_float.h"
#include "value_table.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define CK_CSV_MAX_LABELS (1 << 20)

// MARK: - File mapping

static const char ck_csv_empty[1] = {0};

const char *ck_csv_map(const char *path, int64_t *size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        errno = EISDIR;
        return NULL;
    }
    *size = (int64_t)st.st_size;
    if (st.st_size == 0) {
        close(fd);
        return ck_csv_empty;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) {
        errno = e;
        return NULL;
    }
    madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
    return (const char *)p;
}

void ck_csv_unmap(const char *data, int64_t size) {
    if (!data || data == ck_csv_empty || size <= 0) return;
    ck_cleanup_unwatch_mapping(data);
    munmap((void *)data, (size_t)size);
}

/// Drops the whole pages inside [begin, end) of the mapping from this process's resident set (they
/// stay in the page cache; touching them again maps them back).
void ck_csv_release(const char *data, int64_t size, int64_t begin, int64_t end) {
    if (data == ck_csv_empty || size == 0) return;
    const int64_t page = 4096;
    int64_t a = (begin + page - 1) / page * page, b = end / page * page;
    if (end >= size) b = (size + page - 1) / page * page;  // the tail page may be partial
    if (b > a) madvise((void *)(data + a), (size_t)(b - a), MADV_DONTNEED);
}

// MARK: - Newline counting (SIMD)

/// Counts non-blank lines in 64 bytes: nl/cr are the masks of '\n' and '\r'; *carry holds bit 0 =
/// byte -1 was '\n' (or the chunk start), bit 1 = byte -2 was '\n', bit 2 = byte -1 was '\r'.
static inline int64_t ck_csv_block_lines(uint64_t nl, uint64_t cr, uint64_t *carry) {
    uint64_t c = *carry;
    uint64_t prev_nl = (nl << 1) | (c & 1);
    uint64_t prev2_nl = (nl << 2) | ((c & 1) << 1) | ((c >> 1) & 1);
    uint64_t prev_cr = (cr << 1) | ((c >> 2) & 1);
    uint64_t blank = nl & (prev_nl | (prev_cr & prev2_nl));
    *carry = (nl >> 63) | ((nl >> 62) & 1) << 1 | (cr >> 63) << 2;
    return __builtin_popcountll(nl) - __builtin_popcountll(blank);
}

static inline void ck_csv_masks_scalar(const char *p, uint64_t *nl, uint64_t *cr) {
    uint64_t n = 0, r = 0;
    for (int i = 0; i < 64; i++) {
        n |= (uint64_t)(p[i] == '\n') << i;
        r |= (uint64_t)(p[i] == '\r') << i;
    }
    *nl = n;
    *cr = r;
}

#define CK_CSV_COUNT_BODY(MASKS)                                                           \
    int64_t lines = 0;                                                                     \
    uint64_t carry = 1, nl, cr;                                                            \
    int64_t i = a, next_release = a + CK_CSV_RELEASE_BYTES;                                \
    for (; i + 64 <= b; i += 64) {                                                         \
        MASKS(data + i, &nl, &cr);                                                         \
        lines += ck_csv_block_lines(nl, cr, &carry);                                       \
        if (i >= next_release) {                                                           \
            ck_csv_release(data, size, a, i);                                              \
            next_release = i + CK_CSV_RELEASE_BYTES;                                       \
        }                                                                                  \
    }                                                                                      \
    if (i < b) {                                                                           \
        char tail[64] = {0};                                                               \
        memcpy(tail, data + i, (size_t)(b - i));                                           \
        MASKS(tail, &nl, &cr);                                                             \
        lines += ck_csv_block_lines(nl, cr, &carry);                                       \
    }                                                                                      \
    /* A last line without '\n' counts unless it is only "\r". */                          \
    if (b > a && data[b - 1] != '\n' && !(data[b - 1] == '\r' && (b - 1 == a || data[b - 2] == '\n'))) \
        lines++;                                                                           \
    return lines;

static int64_t ck_csv_count_scalar(const char *data, int64_t size, int64_t a, int64_t b) {
    CK_CSV_COUNT_BODY(ck_csv_masks_scalar)
}

#if CK_HAVE_X86
CK_TARGET_AVX2 static inline void ck_csv_masks_avx2(const char *p, uint64_t *nl, uint64_t *cr) {
    __m256i lo = _mm256_loadu_si256((const __m256i *)p), hi = _mm256_loadu_si256((const __m256i *)(p + 32));
    __m256i n = _mm256_set1_epi8('\n'), r = _mm256_set1_epi8('\r');
    *nl = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, n)) |
          (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, n)) << 32;
    *cr = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, r)) |
          (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, r)) << 32;
}
CK_TARGET_AVX2 static int64_t ck_csv_count_avx2(const char *data, int64_t size, int64_t a, int64_t b) {
    CK_CSV_COUNT_BODY(ck_csv_masks_avx2)
}
CK_TARGET_AVX512 static inline void ck_csv_masks_avx512(const char *p, uint64_t *nl, uint64_t *cr) {
    __m512i v = _mm512_loadu_si512((const void *)p);
    *nl = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\n'));
    *cr = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\r'));
}
CK_TARGET_AVX512 static int64_t ck_csv_count_avx512(const char *data, int64_t size, int64_t a, int64_t b) {
    CK_CSV_COUNT_BODY(ck_csv_masks_avx512)
}
#endif

/// Non-blank lines in [a, b), a being a line start.
static int64_t ck_csv_count_lines(const char *data, int64_t size, int64_t a, int64_t b) {
    int64_t n = 0;
    CK_DISPATCH(n = ck_csv_count, (data, size, a, b));
    return n;
}

int64_t ck_csv_line_number(const char *data, int64_t offset) {
    int64_t n = 1;
    const char *p = data, *end = data + offset;
    while (p < end) {
        const char *q = memchr(p, '\n', (size_t)(end - p));
        if (!q) break;
        n++;
        p = q + 1;
    }
    return n;
}

// MARK: - Chunks

static int ck_csv_threads(const ck_csv_spec *s) { return s->threads > 0 ? s->threads : 1; }

static int64_t ck_csv_chunk_size(const ck_csv_spec *s) {
    if (s->chunk_bytes > 0) return s->chunk_bytes;
    int64_t len = s->size - s->begin;
    int64_t c = len / (ck_csv_threads(s) * 8);
    if (c < (1 << 20)) c = 1 << 20;
    if (c > (64 << 20)) c = 64 << 20;
    return c;
}

int64_t ck_csv_chunk_count(const ck_csv_spec *s) {
    int64_t len = s->size - s->begin;
    if (len <= 0) return 0;
    int64_t c = ck_csv_chunk_size(s);
    return (len + c - 1) / c;
}

/// The first line start at or after `offset` (begin at most).
static int64_t ck_csv_line_start(const ck_csv_spec *s, int64_t offset) {
    if (offset <= s->begin) return s->begin;
    if (offset >= s->size) return s->size;
    const char *q = memchr(s->data + offset - 1, '\n', (size_t)(s->size - offset + 1));
    return q ? (int64_t)(q - s->data) + 1 : s->size;
}

/// Start of chunk i: the first line start at or after its nominal start.
static int64_t ck_csv_chunk_start(const ck_csv_spec *s, int64_t i) {
    return ck_csv_line_start(s, s->begin + i * ck_csv_chunk_size(s));
}

/// What ck_csv_count_one needs of ck_csv_count_rows.
typedef struct {
    const ck_csv_spec *s;
    int64_t *chunk_rows;
} ck_csv_count_job;

/// Counts chunk i's rows (ck_csv_chunk_job).
static int ck_csv_count_one(void *context, int64_t i, int tid, int64_t *begin, int64_t *end) {
    (void)tid;
    ck_csv_count_job *j = context;
    int64_t a = *begin = ck_csv_chunk_start(j->s, i), b = *end = ck_csv_chunk_start(j->s, i + 1);
    j->chunk_rows[i] = b > a ? ck_csv_count_lines(j->s->data, j->s->size, a, b) : 0;
    return 0;
}

int64_t ck_csv_count_rows(const ck_csv_spec *s, int64_t *chunk_rows) {
    int64_t n = ck_csv_chunk_count(s), total = 0;
    ck_csv_count_job job = {s, chunk_rows};
    ck_csv_for_each_chunk(s->data, s->size, n, ck_csv_threads(s), ck_csv_count_one, &job);
    for (int64_t i = 0; i < n; i++) total += chunk_rows[i];
    return total;
}

// MARK: - Fields

static inline int ck_csv_space(char c, char delim) { return c == ' ' || (c == '\t' && delim != '\t'); }

/// The first control character (C0 but tab) in [p, end), or NULL.
static const char *ck_csv_find_control(const char *p, const char *end) {
    for (; p < end; p++)
        if ((uint8_t)*p < 0x20 && *p != '\t') return p;
    return NULL;
}

/// Parses the field at p (p < end or p == end for an empty last field). Sets its content
/// [*cb, *ce) and *quoted; returns the terminator: the delimiter, the '\n' (a CR before it is not
/// content), or end. Returns NULL for a malformed field: a quoted field unterminated or with text
/// after its closing quote ([*cb, *ce) from the opening quote to the problem), or a field with a
/// control character, C0 but tab, in its content ([*cb, *ce) that one byte; a lone CR is one, the CR
/// of a CRLF line end is not). ck_csv_malformed_status tells which.
static const char *ck_csv_field(const char *p, const char *end, char delim, const char **cb,
                                const char **ce, int *quoted) {
    while (p < end && ck_csv_space(*p, delim)) p++;
    if (p < end && *p == '"') {
        const char *q = p + 1;
        for (;;) {
            while (q < end && *q != '"' && *q != '\n') q++;
            if (q >= end || *q == '\n') {
                *cb = p;
                *ce = q > p && q[-1] == '\r' ? q - 1 : q;
                return NULL;
            }
            if (q + 1 < end && q[1] == '"') {
                q += 2;
                continue;
            }
            break;
        }
        const char *control = ck_csv_find_control(p + 1, q);
        if (control) {
            *cb = control;
            *ce = control + 1;
            return NULL;
        }
        *cb = p + 1;
        *ce = q;
        *quoted = 1;
        q++;
        while (q < end && ck_csv_space(*q, delim)) q++;
        if (q < end && *q == '\r' && (q + 1 == end || q[1] == '\n')) q++;
        if (q < end && *q != delim && *q != '\n') {
            const char *nl = memchr(q, '\n', (size_t)(end - q));
            if (!nl) nl = end;
            *cb = p;
            *ce = nl > q && nl[-1] == '\r' ? nl - 1 : nl;
            return NULL;
        }
        return q;
    }
    *quoted = 0;
    const char *q = p;
    while (q < end && *q != delim && ((uint8_t)*q >= 0x20 || *q == '\t')) q++;
    const char *e = q;
    if (q < end && *q == '\r' && (q + 1 == end || q[1] == '\n')) q++;
    if (q < end && *q != delim && *q != '\n') {
        *cb = q;
        *ce = q + 1;
        return NULL;
    }
    while (e > p && ck_csv_space(e[-1], delim)) e--;
    *cb = p;
    *ce = e;
    return q;
}

int64_t ck_csv_split_line(const char *begin, const char *end, char delimiter, int64_t *ranges,
                          uint8_t *quoted, int64_t max_fields) {
    int64_t n = 0;
    const char *p = begin;
    for (;;) {
        const char *cb, *ce;
        int q = 0;
        const char *t = ck_csv_field(p, end, delimiter, &cb, &ce, &q);
        if (!t) {
            if (max_fields > 0) {
                ranges[0] = cb - begin;
                ranges[1] = ce - begin;
            }
            return -1 - n;
        }
        if (n < max_fields) {
            ranges[2 * n] = cb - begin;
            ranges[2 * n + 1] = ce - begin;
            if (quoted) quoted[n] = (uint8_t)q;
        }
        n++;
        if (t >= end || *t != delimiter) return n;
        p = t + 1;
    }
}

// MARK: - Label tables (one per thread)

/// One thread's class labels: their unescaped texts and first line offsets in a value table (the
/// same byte-keyed table as the tabular loader's categories), and a direct lookup for one-byte labels.
typedef struct {
    ck_value_table *values;
    int32_t byte_ids[256];  // id + 1 of each one-byte label seen, 0 for none (class columns "0", "1", ...)
} ck_label_table;

/// Unescapes "" in a quoted label into dst; returns the length.
static int64_t ck_unescape(const char *p, int64_t n, int quoted, char *dst) {
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        dst[k++] = p[i];
        if (quoted && p[i] == '"' && i + 1 < n && p[i + 1] == '"') i++;
    }
    return k;
}

/// The id of label text [p, p + n) (raw field content), adding it when new; -1 beyond
/// CK_CSV_MAX_LABELS or out of memory.
static int32_t ck_label_id(ck_label_table *t, const char *p, int64_t n, int quoted, int64_t line_offset) {
    const int one_byte = n == 1 && !quoted;
    if (one_byte && t->byte_ids[(uint8_t)*p]) {
        int32_t id = t->byte_ids[(uint8_t)*p] - 1;
        if (line_offset < t->values->v.first[id]) t->values->v.first[id] = line_offset;
        return id;
    }
    char small[256];
    char *text = NULL;
    if (quoted && memchr(p, '"', (size_t)n)) {
        text = n <= (int64_t)sizeof small ? small : malloc((size_t)n);
        if (!text) return -1;
        n = ck_unescape(p, n, 1, text);
        p = text;
    }
    int32_t id = ck_value_add(t->values, p, n, ck_value_hash(p, n), 1, line_offset);
    if (text != small) free(text);
    if (one_byte && id >= 0) t->byte_ids[(uint8_t)*p] = id + 1;
    return id;
}

// MARK: - Chunk parsing

typedef struct {
    int64_t row0;  // where the chunk's rows went: its slot, or right after the chunks before it
    int64_t rows;  // valid rows written
    int64_t invalid;
    int status;
    int64_t line_offset, column, text_begin, text_end, found_fields;
    int tid;  // the thread that parsed the chunk: its label ids are that thread's table's
} ck_chunk_state;

static inline int ck_csv_row_end(const char *q, const char *end) {
    return q == end || *q == '\n' || (*q == '\r' && (q + 1 == end || q[1] == '\n'));
}

/// What one chunk's parse reads: the spec's fields, the chunk's bounds, its thread's labels, its state.
typedef struct {
    const char *data, *lo, *end;  // the file, and the chunk [lo, end)
    char delim;
    int64_t nf, minf, target;
    int allow_nonfinite, drop;  // drop: drop_invalid
    ck_label_table *lt;
    ck_chunk_state *st;
} ck_chunk_input;

/// The line being parsed: where it starts, the next column, its label, and its first value error (to
/// report, or to drop the row for).
typedef struct {
    const char *line;
    int64_t col;
    int32_t label;
    int bad;
    int64_t bad_col;
    const char *bad_b, *bad_e;
} ck_csv_row;

/// How a field's parse left the line: at the next field, at the line's end, not taken (the fast
/// paths: the general path decides), or failed (the chunk's error is recorded).
enum { CK_FIELD_NEXT, CK_FIELD_LINE_END, CK_FIELD_NOT_TAKEN, CK_FIELD_FAILED };

/// Records the chunk's error: its status, line, 1-based column and the offending text [tb, te).
static void ck_csv_fail(ck_chunk_state *st, int status, const char *data, const char *line, int64_t column,
                        const char *tb, const char *te) {
    st->status = status;
    st->line_offset = line - data;
    st->column = column;
    st->text_begin = tb - data;
    st->text_end = te - data;
}

/// Remembers the row's first value error (0 for none).
static inline void ck_csv_note_bad(ck_csv_row *row, int err, const char *cb, const char *ce) {
    if (!err || row->bad) return;
    row->bad = err;
    row->bad_col = row->col;
    row->bad_b = cb;
    row->bad_e = ce;
}

/// The fast path: the run of feature columns from row->col up to the target or the last column, each
/// an unquoted number straight followed by the delimiter or the line end, into x. CK_FIELD_LINE_END
/// when a number ended the line (*pp at its end), else CK_FIELD_NEXT at the column the run stopped at.
static inline __attribute__((always_inline)) int ck_csv_number_run(const ck_chunk_input *in, const char **pp,
                                                                   float *x, ck_csv_row *row, ck_fast_scan fast) {
    const char *p = *pp, *end = in->end;
    int64_t col = row->col;
    const int64_t run_end = in->target >= col ? in->target : in->minf;
    float *out = x + col - (in->target >= 0 && col > in->target);
    int outcome = CK_FIELD_NEXT;
    while (col < run_end) {
        const char *q = p;
        ck_decimal d;
        float v;
        if (!(fast(&q, in->lo, end, &d) == 0 || ck_scan_decimal(&q, end, &d) == 0) ||
            __builtin_expect(isinf(v = ck_decimal_to_float(d, p, q)), 0))
            break;
        if (q < end && *q == in->delim) {
            *out++ = v;
            col++;
            p = q + 1;
            continue;
        }
        if (!ck_csv_row_end(q, end)) break;
        *out = v;
        col++;
        p = q;
        outcome = CK_FIELD_LINE_END;
        break;
    }
    *pp = p;
    row->col = col;
    return outcome;
}

/// The fast path of the target column: a label of plain characters straight followed by the
/// delimiter or the line end. CK_FIELD_NOT_TAKEN when it is not one (or out of label ids).
static inline __attribute__((always_inline)) int ck_csv_plain_label(const ck_chunk_input *in, const char **pp, ck_csv_row *row) {
    const char *p = *pp, *q = p, *end = in->end;
    const char delim = in->delim;
    while (q < end && *q != delim && (uint8_t)*q > ' ' && *q != '"') q++;  // not a space, tab or control
    int32_t id;
    if (!(q > p && (ck_csv_row_end(q, end) || *q == delim) &&
          (id = ck_label_id(in->lt, p, q - p, 0, row->line - in->data)) >= 0))
        return CK_FIELD_NOT_TAKEN;
    row->label = id;
    row->col++;
    if (q < end && *q == delim) {
        *pp = q + 1;
        return CK_FIELD_NEXT;
    }
    *pp = q;
    return CK_FIELD_LINE_END;
}

/// The value of a feature field's content [cb, ce) into *v; returns its error for the row (0 for none).
static inline int ck_csv_feature_value(const ck_chunk_input *in, const char *cb, const char *ce, float *v) {
    int rc = ce == cb ? -2 : ck_parse_float(cb, ce, v);
    return rc == -2 ? CK_CSV_ERR_MISSING
           : rc < 0 ? CK_CSV_ERR_NUMBER
           : rc == 1 ? (in->allow_nonfinite ? 0 : CK_CSV_ERR_NONFINITE)
           : isinf(*v) ? CK_CSV_ERR_RANGE : 0;
}

/// A field's content [cb, ce) by its column: a trailing column's, the label's or a feature's.
/// 0 when the chunk failed (out of label ids), else 1.
static int ck_csv_field_value(const ck_chunk_input *in, float *x, ck_csv_row *row, const char *cb, const char *ce,
                              int quoted) {
    const int64_t col = row->col, target = in->target;
    if (col >= in->minf) {
        if (ce > cb) ck_csv_note_bad(row, CK_CSV_ERR_TRAILING, cb, ce);
    } else if (col == target) {
        if (ce == cb) {
            ck_csv_note_bad(row, CK_CSV_ERR_MISSING, cb, ce);
            return 1;
        }
        int32_t id = ck_label_id(in->lt, cb, ce - cb, quoted, row->line - in->data);
        if (id < 0) {
            ck_csv_fail(in->st, CK_CSV_ERR_LABELS, in->data, row->line, col + 1, cb, ce);
            return 0;
        }
        row->label = id;
    } else {
        float v = 0;
        ck_csv_note_bad(row, ck_csv_feature_value(in, cb, ce, &v), cb, ce);
        x[col - (col > target && target >= 0)] = v;
    }
    return 1;
}

/// The general path: any field (quoted, spaced, trailing, wrong); CK_FIELD_NEXT, CK_FIELD_LINE_END
/// (*pp at the line's '\n' or the end) or CK_FIELD_FAILED.
static int ck_csv_any_field(const ck_chunk_input *in, const char **pp, float *x, ck_csv_row *row) {
    const char *p = *pp, *end = in->end, *cb, *ce;
    int quoted = 0;
    const char *t = ck_csv_field(p, end, in->delim, &cb, &ce, &quoted);
    if (!t) {
        ck_csv_fail(in->st, ck_csv_malformed_status(cb), in->data, row->line, row->col + 1, cb, ce);
        return CK_FIELD_FAILED;
    }
    if (row->col >= in->nf) {
        // Too many fields: count them all for the message (or report a malformed one among them).
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        int64_t bad[2];
        int64_t rest = ck_csv_split_line(p, nl ? nl : end, in->delim, bad, NULL, 1);
        if (rest < 0) {
            ck_csv_fail(in->st, ck_csv_malformed_status(p + bad[0]), in->data, row->line, row->col - rest, p + bad[0],
                        p + bad[1]);
        } else {
            ck_csv_fail(in->st, CK_CSV_ERR_FIELDS, in->data, row->line, row->col + 1, row->line, row->line);
            in->st->found_fields = row->col + rest;
        }
        return CK_FIELD_FAILED;
    }
    if (!ck_csv_field_value(in, x, row, cb, ce, quoted)) return CK_FIELD_FAILED;
    row->col++;
    if (t < end && *t == in->delim) {
        *pp = t + 1;
        return CK_FIELD_NEXT;
    }
    *pp = t;
    return CK_FIELD_LINE_END;
}

/// The fields of the line at *pp into x and row->label, each through a fast path when it can;
/// leaves *pp after the line. 0 when the chunk failed.
static inline __attribute__((always_inline)) int ck_csv_line_fields(const ck_chunk_input *in, const char **pp,
                                                                    float *x, ck_csv_row *row, ck_fast_scan fast) {
    int outcome;
    do {
        outcome = ck_csv_number_run(in, pp, x, row, fast);
        if (outcome == CK_FIELD_NEXT) {
            outcome = row->col == in->target ? ck_csv_plain_label(in, pp, row) : CK_FIELD_NOT_TAKEN;
            if (outcome == CK_FIELD_NOT_TAKEN) outcome = ck_csv_any_field(in, pp, x, row);
        }
    } while (outcome == CK_FIELD_NEXT);
    if (outcome == CK_FIELD_FAILED) return 0;
    const char *p = *pp;
    if (p < in->end && *p == '\r') p++;
    if (p < in->end) p++;
    *pp = p;
    return 1;
}

/// Steps over a blank line ("\n", "\r\n", or a last "\r") at *pp; 1 when there was one.
static inline int ck_csv_skip_blank_line(const char **pp, const char *end) {
    const char *p = *pp;
    if (*p == '\n') {
        *pp = p + 1;
        return 1;
    }
    if (*p == '\r' && (p + 1 == end || p[1] == '\n')) {
        *pp = p + (p + 1 == end ? 1 : 2);
        return 1;
    }
    return 0;
}

/// What becomes of a parsed line: 1 a row, 0 dropped (drop_invalid), -1 the chunk's error (too few
/// fields, or a value error without drop_invalid).
static int ck_csv_row_verdict(const ck_chunk_input *in, const ck_csv_row *row) {
    if (row->col < in->minf) {
        ck_csv_fail(in->st, CK_CSV_ERR_FIELDS, in->data, row->line, row->col, row->line, row->line);
        in->st->found_fields = row->col;
        return -1;
    }
    if (!row->bad) return 1;
    if (in->drop) {
        in->st->invalid++;
        return 0;
    }
    ck_csv_fail(in->st, row->bad, in->data, row->line, row->bad_col + 1, row->bad_b, row->bad_e);
    return -1;
}

/// Parses the chunk [a, b) into its rows X and labels Y, at most `cap` of them (one more is
/// CK_CSV_ERR_CAPACITY); compiled once per instruction set with its `fast` scanner.
static inline __attribute__((always_inline)) void ck_csv_parse_chunk_body(const ck_csv_spec *s, int64_t a, int64_t b,
                                                                         float *X, int32_t *Y, int64_t cap,
                                                                         ck_label_table *lt, ck_chunk_state *st,
                                                                         ck_fast_scan fast) {
    const ck_chunk_input in = {s->data, s->data + a, s->data + b, s->delimiter, s->fields, s->min_fields,
                               s->target, s->allow_nonfinite, s->drop_invalid, lt, st};
    const int64_t F = in.minf - (in.target >= 0);
    int64_t r = 0, next_release = a + CK_CSV_RELEASE_BYTES;
    const char *p = in.lo;
    while (p < in.end) {
        if (ck_csv_skip_blank_line(&p, in.end)) continue;
        if (p - in.data >= next_release) {
            ck_csv_release(in.data, s->size, a, p - in.data);
            next_release = (p - in.data) + CK_CSV_RELEASE_BYTES;
        }
        if (__builtin_expect(r == cap, 0)) {
            ck_csv_fail(st, CK_CSV_ERR_CAPACITY, in.data, p, 0, in.data, in.data);
            return;
        }
        ck_csv_row row = {p, 0, 0, 0, 0, NULL, NULL};
        if (!ck_csv_line_fields(&in, &p, X + r * F, &row, fast)) return;
        const int verdict = ck_csv_row_verdict(&in, &row);
        if (verdict < 0) return;
        if (verdict == 0) continue;
        if (Y) Y[r] = row.label;
        st->rows = ++r;
    }
}

#define CK_CSV_PARSE_CHUNK_PARAMS                                                                           \
    (const ck_csv_spec *s, int64_t a, int64_t b, float *X, int32_t *Y, int64_t cap, ck_label_table *lt, \
     ck_chunk_state *st)
static void ck_csv_parse_chunk_scalar CK_CSV_PARSE_CHUNK_PARAMS {
    ck_csv_parse_chunk_body(s, a, b, X, Y, cap, lt, st, ck_scan_decimal_none);
}
#if CK_HAVE_X86
CK_TARGET_AVX2 static void ck_csv_parse_chunk_avx2 CK_CSV_PARSE_CHUNK_PARAMS {
    ck_csv_parse_chunk_body(s, a, b, X, Y, cap, lt, st, ck_scan_decimal_avx2);
}
CK_TARGET_AVX512 static void ck_csv_parse_chunk_avx512 CK_CSV_PARSE_CHUNK_PARAMS {
    ck_csv_parse_chunk_body(s, a, b, X, Y, cap, lt, st, ck_scan_decimal_avx2);
}
#endif

// MARK: - Placing the chunks' rows

#define CK_CSV_SAMPLES 16
#define CK_CSV_SAMPLE_BYTES (64 << 10)

/// Rows per byte of [begin, size): the non-blank lines in 16 windows of 64 KiB spread over it (in all
/// of it when it is smaller).
static double ck_csv_rows_per_byte(const ck_csv_spec *s) {
    int64_t len = s->size - s->begin, lines = 0, bytes = 0;
    if (len <= (int64_t)CK_CSV_SAMPLES * CK_CSV_SAMPLE_BYTES) {
        lines = ck_csv_count_lines(s->data, s->size, s->begin, s->size);
        bytes = len;
    } else {
        for (int k = 0; k < CK_CSV_SAMPLES; k++) {
            int64_t a = ck_csv_line_start(s, s->begin + len / CK_CSV_SAMPLES * k);
            int64_t b = ck_csv_line_start(s, a + CK_CSV_SAMPLE_BYTES);
            if (b > a) lines += ck_csv_count_lines(s->data, s->size, a, b);
            bytes += b - a;
        }
    }
    return bytes > 0 ? (double)lines / (double)bytes : 0;
}

/// The first row of each chunk's slot into slot[n + 1]: chunk i may write the rows
/// [slot[i], slot[i + 1]). From the counted rows when given, else from the sampled rows per byte with
/// 1/16 and 64 rows to spare per chunk.
static void ck_csv_slots(const ck_csv_spec *s, const int64_t *chunk_rows, int64_t n, int64_t *slot) {
    const double per_byte = chunk_rows ? 0 : ck_csv_rows_per_byte(s) * (1 + 1.0 / 16);
    slot[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t bytes = ck_csv_chunk_start(s, i + 1) - ck_csv_chunk_start(s, i);
        slot[i + 1] = slot[i] + (chunk_rows ? chunk_rows[i] : (int64_t)(per_byte * (double)bytes) + 64);
    }
}

int64_t ck_csv_row_capacity(const ck_csv_spec *s) {
    int64_t n = ck_csv_chunk_count(s);
    int64_t *slot = malloc((size_t)(n + 1) * sizeof *slot);
    if (!slot) return -1;
    ck_csv_slots(s, NULL, n, slot);
    int64_t rows = slot[n];
    free(slot);
    return rows;
}

/// Which rows the chunks take. A chunk starts right after the rows of the chunks before it when those
/// have all finished (so one thread writes every row in place), else at its slot; ck_csv_compact then
/// closes the gaps. Either way it has room up to the next chunk's slot.
typedef struct {
    const int64_t *slot;
    uint8_t *finished;
    int64_t done;      // the leading chunks that have finished
    int64_t done_end;  // the row after theirs
} ck_csv_places;

static int64_t ck_csv_place(ck_csv_places *pl, int64_t i) {
    int64_t row0;
#pragma omp critical(ck_csv_places)
    row0 = pl->done == i ? pl->done_end : pl->slot[i];
    return row0;
}

static void ck_csv_finished(ck_csv_places *pl, const ck_chunk_state *st, int64_t i, int64_t n) {
#pragma omp critical(ck_csv_places)
    {
        pl->finished[i] = 1;
        for (; pl->done < n && pl->finished[pl->done]; pl->done++)
            pl->done_end = st[pl->done].row0 + st[pl->done].rows;
    }
}

/// Moves each chunk's rows down to follow the previous chunk's (in file order), and hands back the
/// whole pages left behind beyond the last row.
static int64_t ck_csv_compact(const ck_chunk_state *st, int64_t n, int64_t F, float *features, int32_t *labels,
                              int64_t capacity) {
    int64_t dst = 0;
    for (int64_t i = 0; i < n; i++) {
        if (dst != st[i].row0 && st[i].rows > 0) {
            memmove(features + dst * F, features + st[i].row0 * F, (size_t)(st[i].rows * F) * sizeof(float));
            if (labels) memmove(labels + dst, labels + st[i].row0, (size_t)st[i].rows * sizeof(int32_t));
        }
        dst += st[i].rows;
    }
    const uintptr_t page = 4096;
    uintptr_t a = ((uintptr_t)(features + dst * F) + page - 1) & ~(page - 1);
    uintptr_t b = (uintptr_t)(features + capacity * F) & ~(page - 1);
    if (b > a) madvise((void *)a, b - a, MADV_DONTNEED);
    return dst;
}

// MARK: - Parsing

/// ck_csv_parse's working memory: the chunk plan (slots), the chunks' states, the threads' labels.
typedef struct {
    int64_t *slot;
    uint8_t *finished;
    ck_chunk_state *st;
    ck_label_table *tables;
    ck_value_table *values;
} ck_csv_work;

static void ck_csv_work_free(ck_csv_work *w, int threads) {
    if (w->values)
        for (int t = 0; t < threads; t++) ck_value_free(&w->values[t]);
    free(w->values);
    free(w->tables);
    free(w->st);
    free(w->finished);
    free(w->slot);
}

/// Allocates the working memory for n chunks on `threads` threads; 0 when out of memory.
static int ck_csv_work_alloc(ck_csv_work *w, int64_t n, int threads) {
    w->slot = malloc((size_t)(n + 1) * sizeof *w->slot);
    w->finished = calloc((size_t)(n > 0 ? n : 1), 1);
    w->st = calloc((size_t)(n > 0 ? n : 1), sizeof *w->st);
    w->tables = calloc((size_t)threads, sizeof *w->tables);
    w->values = calloc((size_t)threads, sizeof *w->values);
    if (!w->slot || !w->finished || !w->st || !w->tables || !w->values) return 0;
    for (int t = 0; t < threads; t++) {
        w->values[t].limit = CK_CSV_MAX_LABELS;
        w->tables[t].values = &w->values[t];
    }
    return 1;
}

/// What ck_csv_parse_one needs of ck_csv_parse_chunks.
typedef struct {
    const ck_csv_spec *s;
    ck_csv_work *w;
    ck_csv_places places;
    int64_t n;
    float *features;
    int32_t *labels;
} ck_csv_parse_job;

/// Parses chunk i into its place (ck_csv_chunk_job).
static int ck_csv_parse_one(void *context, int64_t i, int tid, int64_t *begin, int64_t *end) {
    ck_csv_parse_job *j = context;
    const ck_csv_spec *s = j->s;
    const int64_t F = s->min_fields - (s->target >= 0);
    ck_chunk_state *st = &j->w->st[i];
    int64_t a = *begin = ck_csv_chunk_start(s, i), b = *end = ck_csv_chunk_start(s, i + 1);
    int64_t row0 = st->row0 = ck_csv_place(&j->places, i);
    if (b > a)
        CK_DISPATCH(ck_csv_parse_chunk, (s, a, b, j->features + row0 * F, j->labels ? j->labels + row0 : NULL,
                                         j->w->slot[i + 1] - row0, &j->w->tables[tid], st));
    st->tid = tid;
    ck_csv_finished(&j->places, j->w->st, i, j->n);
    return st->status;
}

/// Parses the n chunks in parallel into their places in features/labels.
static void ck_csv_parse_chunks(const ck_csv_spec *s, ck_csv_work *w, int64_t n, float *features, int32_t *labels) {
    ck_csv_parse_job job = {s, w, {w->slot, w->finished, 0, 0}, n, features, labels};
    ck_csv_for_each_chunk(s->data, s->size, n, ck_csv_threads(s), ck_csv_parse_one, &job);
}

/// The first failed chunk's error (in file order) into result; its status, or CK_CSV_OK.
static int ck_csv_first_error(const ck_csv_spec *s, const ck_chunk_state *st, int64_t n, ck_csv_result *result) {
    for (int64_t i = 0; i < n; i++) {
        if (!st[i].status) continue;
        result->status = st[i].status;
        result->line_offset = st[i].line_offset;
        result->column = st[i].column;
        result->text_begin = st[i].text_begin;
        result->text_end = st[i].text_end;
        result->found_fields = st[i].found_fields;
        return st[i].status;
    }
    return CK_CSV_OK;
}

/// Renumbers each chunk's labels from its thread's ids to the merged table's (map[thread][id]).
static void ck_csv_remap_labels(const ck_csv_spec *s, const ck_chunk_state *st, int64_t n, int32_t *const *map,
                                int32_t *labels) {
    int64_t next = 0;
    ck_csv_sleep_when_idle();
#pragma omp parallel num_threads(ck_csv_threads(s))
    for (;;) {
        int64_t i = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED);
        if (i >= n) break;
        const int32_t *m = map[st[i].tid];
        for (int64_t r = st[i].row0; r < st[i].row0 + st[i].rows; r++) labels[r] = m[labels[r]];
    }
}

/// Merges the threads' label tables into one, ordered by first appearance in the file, renumbers the
/// labels and hands the table to result; its status (too many labels in all, or out of memory).
static int ck_csv_merge_labels(const ck_csv_spec *s, const ck_csv_work *w, int64_t n, int32_t *labels,
                               ck_csv_result *result) {
    const int threads = ck_csv_threads(s);
    int32_t **map = calloc((size_t)threads, sizeof *map);
    ck_value_table g = {0};
    int64_t overflow = -1;  // where the first label beyond CK_CSV_MAX_LABELS appears
    int status = CK_CSV_OK;
    if (map && ck_value_merge(w->values, threads, CK_CSV_MAX_LABELS, &g, map, &overflow) == 0) {
        ck_csv_remap_labels(s, w->st, n, map, labels);
        result->label_count = g.v.count;
        result->label_text = g.v.text ? g.v.text : malloc(1);
        result->label_offsets = g.v.offsets ? g.v.offsets : calloc(1, sizeof(int64_t));
        result->label_first_offset = g.v.first ? g.v.first : malloc(sizeof(int64_t));
        free(g.v.counts);
        ck_value_drop_index(&g);
    } else {
        ck_value_free(&g);
        // Each chunk stayed below the limit, the file's labels together did not.
        status = result->status = overflow >= 0 ? CK_CSV_ERR_LABELS : CK_CSV_ERR_MEMORY;
        if (overflow >= 0) {
            result->line_offset = overflow;
            result->column = s->target + 1;
            result->text_begin = result->text_end = overflow;
        }
    }
    if (map)
        for (int t = 0; t < threads; t++) free(map[t]);
    free(map);
    return status;
}

int ck_csv_parse(const ck_csv_spec *s, const int64_t *chunk_rows, float *features, int32_t *labels,
                 ck_csv_result *result) {
    memset(result, 0, sizeof *result);
    const int64_t n = ck_csv_chunk_count(s);
    const int threads = ck_csv_threads(s);
    ck_csv_work w = {0};
    if (!ck_csv_work_alloc(&w, n, threads)) {
        ck_csv_work_free(&w, 0);
        return result->status = CK_CSV_ERR_MEMORY;
    }
    ck_csv_slots(s, chunk_rows, n, w.slot);
    ck_csv_parse_chunks(s, &w, n, features, labels);
    int status = ck_csv_first_error(s, w.st, n, result);
    if (status == CK_CSV_OK && labels && s->target >= 0) status = ck_csv_merge_labels(s, &w, n, labels, result);
    if (status == CK_CSV_OK) {
        result->rows = ck_csv_compact(w.st, n, s->min_fields - (s->target >= 0), features, labels, w.slot[n]);
        for (int64_t i = 0; i < n; i++) result->invalid_rows += w.st[i].invalid;
    }
    ck_csv_work_free(&w, threads);
    return status;
}

void ck_csv_result_free(ck_csv_result *r) {
    free(r->label_text);
    free(r->label_offsets);
    free(r->label_first_offset);
    r->label_text = NULL;
    r->label_offsets = NULL;
    r->label_first_offset = NULL;
    r->label_count = 0;
}
