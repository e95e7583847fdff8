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
    if (data && data != ck_csv_empty && size > 0) munmap((void *)data, (size_t)size);
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

int64_t ck_csv_count_rows(const ck_csv_spec *s, int64_t *chunk_rows) {
    int64_t n = ck_csv_chunk_count(s), total = 0, next = 0;
    // Chunks are handed out in order through an atomic counter (a dynamic schedule without the
    // OpenMP runtime's dispatch calls, which differ between compiler and libomp versions).
    ck_csv_sleep_when_idle();
#pragma omp parallel num_threads(ck_csv_threads(s))
    for (;;) {
        int64_t i = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED);
        if (i >= n) break;
        int64_t a = ck_csv_chunk_start(s, i), b = ck_csv_chunk_start(s, i + 1);
        chunk_rows[i] = b > a ? ck_csv_count_lines(s->data, s->size, a, b) : 0;
        ck_csv_release(s->data, s->size, a, b);
    }
    for (int64_t i = 0; i < n; i++) total += chunk_rows[i];
    return total;
}

// MARK: - Fields

static inline int ck_csv_space(char c, char delim) { return c == ' ' || (c == '\t' && delim != '\t'); }

/// Parses the field at p (p < end or p == end for an empty last field). Sets its content
/// [*cb, *ce) and *quoted; returns the terminator: the delimiter, the '\n' (a CR before it is not
/// content), or end. Returns NULL for a malformed quoted field (unterminated, or text after the
/// closing quote); *ce then points at the problem.
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
    while (q < end && *q != delim && *q != '\n') q++;
    const char *e = q;
    if (e > p && e[-1] == '\r' && (q == end || *q == '\n')) e--;
    while (e > p && ck_csv_space(e[-1], delim)) e--;
    *cb = p;
    *ce = e;
    return q;
}

int64_t ck_csv_split_line(const char *begin, const char *end, char delimiter, int64_t *ranges,
                          uint8_t *quoted, int64_t max_fields) {
    if (end > begin && end[-1] == '\r') end--;
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

/// Counts the fields of the rest of the line from p (at a field start); sets *line_end to the
/// position after the line. Returns -1 for a malformed quoted field.
static int64_t ck_csv_rest_fields(const char *p, const char *end, char delim, const char **line_end) {
    int64_t n = 0;
    for (;;) {
        const char *cb, *ce;
        int q;
        const char *t = ck_csv_field(p, end, delim, &cb, &ce, &q);
        if (!t) {
            const char *nl = memchr(ce, '\n', (size_t)(end - ce));
            *line_end = nl ? nl + 1 : end;
            return -1;
        }
        n++;
        if (t >= end) {
            *line_end = end;
            return n;
        }
        if (*t == '\n') {
            *line_end = t + 1;
            return n;
        }
        p = t + 1;
    }
}

static inline int ck_csv_row_end(const char *q, const char *end) {
    return q == end || *q == '\n' || (*q == '\r' && (q + 1 == end || q[1] == '\n'));
}

/// A faster ck_scan_decimal for the common shapes, reading [*pp - 32, *pp + 40) inside [lo, end):
/// -1 when it does not apply (ck_scan_decimal then decides), else as ck_scan_decimal.
typedef int (*ck_fast_scan)(const char **pp, const char *lo, const char *end, ck_decimal *d);

static inline __attribute__((always_inline)) int ck_scan_decimal_none(const char **pp, const char *lo, const char *end,
                                                                      ck_decimal *d) {
    (void)pp, (void)lo, (void)end, (void)d;
    return -1;
}

/// Parses the chunk [a, b) into its rows X and labels Y, at most `cap` of them (one more is
/// CK_CSV_ERR_CAPACITY); compiled once per instruction set with its `fast` scanner.
static inline __attribute__((always_inline)) void ck_csv_parse_chunk_body(const ck_csv_spec *s, int64_t a, int64_t b,
                                                                         float *X, int32_t *Y, int64_t cap,
                                                                         ck_label_table *lt, ck_chunk_state *st,
                                                                         ck_fast_scan fast) {
    const char *data = s->data, *end = data + b, *lo = data + a;
    const char delim = s->delimiter;
    const int64_t nf = s->fields, minf = s->min_fields, target = s->target;
    const int64_t F = minf - (target >= 0);
    const int allow_nonfinite = s->allow_nonfinite, drop = s->drop_invalid;
    int64_t r = 0;
    int64_t next_release = a + CK_CSV_RELEASE_BYTES;
    const char *p = data + a;
    while (p < end) {
        const char *line = p;
        if (*p == '\n') {
            p++;
            continue;
        }
        if (*p == '\r' && (p + 1 == end || p[1] == '\n')) {
            p += p + 1 == end ? 1 : 2;
            continue;
        }
        if (p - data >= next_release) {
            ck_csv_release(data, s->size, a, p - data);
            next_release = (p - data) + CK_CSV_RELEASE_BYTES;
        }
        if (__builtin_expect(r == cap, 0)) {
            st->status = CK_CSV_ERR_CAPACITY;
            st->line_offset = line - data;
            return;
        }
        float *x = X + r * F;
        int32_t label = 0;
        int64_t col = 0;
        int bad = 0;  // the row's first value error, to report or to drop the row for
        int64_t bad_col = 0;
        const char *bad_b = NULL, *bad_e = NULL;
        for (;;) {
            // Fast path: the run of feature columns up to the target or the last column, each an
            // unquoted number straight followed by the delimiter or the line end.
            const int64_t run_end = target >= col ? target : minf;
            float *out = x + col - (target >= 0 && col > target);
            while (col < run_end) {
                const char *q = p;
                ck_decimal d;
                float v;
                if (!(fast(&q, lo, end, &d) == 0 || ck_scan_decimal(&q, end, &d) == 0) ||
                    __builtin_expect(isinf(v = ck_decimal_to_float(d, p, q)), 0))
                    break;
                if (q < end && *q == delim) {
                    *out++ = v;
                    col++;
                    p = q + 1;
                    continue;
                }
                if (!ck_csv_row_end(q, end)) break;
                *out = v;
                col++;
                p = q;
                goto line_done;
            }
            // A label of plain characters straight followed by the delimiter or the line end.
            if (col == target) {
                const char *q = p;
                while (q < end && *q != delim && *q != '\n' && *q != '\r' && *q != '"' && !ck_csv_space(*q, delim)) q++;
                int32_t id;
                if (q > p && (ck_csv_row_end(q, end) || *q == delim) &&
                    (id = ck_label_id(lt, p, q - p, 0, line - data)) >= 0) {
                    label = id;
                    col++;
                    if (q < end && *q == delim) {
                        p = q + 1;
                        continue;
                    }
                    p = q;
                    goto line_done;
                }
            }
            // General path: quotes, spaces, trailing columns, errors.
            {
                const char *cb, *ce;
                int quoted = 0;
                const char *t = ck_csv_field(p, end, delim, &cb, &ce, &quoted);
                if (!t) {
                    st->status = CK_CSV_ERR_QUOTE;
                    st->line_offset = line - data;
                    st->column = col + 1;
                    st->text_begin = cb - data;
                    st->text_end = ce - data;
                    return;
                }
                if (col >= nf) {
                    // Too many fields: count them all for the message.
                    const char *le;
                    int64_t rest = ck_csv_rest_fields(p, end, delim, &le);
                    st->status = rest < 0 ? CK_CSV_ERR_QUOTE : CK_CSV_ERR_FIELDS;
                    st->line_offset = line - data;
                    st->column = col + 1;
                    st->found_fields = col + (rest < 0 ? 0 : rest);
                    st->text_begin = st->text_end = line - data;
                    return;
                }
                if (col >= minf) {
                    if (ce > cb && !bad) {
                        bad = CK_CSV_ERR_TRAILING;
                        bad_col = col;
                        bad_b = cb;
                        bad_e = ce;
                    }
                } else if (col == target) {
                    if (ce == cb) {
                        if (!bad) {
                            bad = CK_CSV_ERR_MISSING;
                            bad_col = col;
                            bad_b = cb;
                            bad_e = ce;
                        }
                    } else {
                        int32_t id = ck_label_id(lt, cb, ce - cb, quoted, line - data);
                        if (id < 0) {
                            st->status = CK_CSV_ERR_LABELS;
                            st->line_offset = line - data;
                            st->column = col + 1;
                            st->text_begin = cb - data;
                            st->text_end = ce - data;
                            return;
                        }
                        label = id;
                    }
                } else {
                    float v = 0;
                    int rc = ce == cb ? -2 : ck_parse_float(cb, ce, &v);
                    int err = rc == -2 ? CK_CSV_ERR_MISSING
                              : rc < 0 ? CK_CSV_ERR_NUMBER
                              : rc == 1 ? (allow_nonfinite ? 0 : CK_CSV_ERR_NONFINITE)
                              : isinf(v) ? CK_CSV_ERR_RANGE : 0;
                    if (err && !bad) {
                        bad = err;
                        bad_col = col;
                        bad_b = cb;
                        bad_e = ce;
                    }
                    x[col - (col > target && target >= 0)] = v;
                }
                col++;
                if (t < end && *t == delim) {
                    p = t + 1;
                    continue;
                }
                p = t < end ? t + 1 : end;  // past the '\n'
                goto row_checked;
            }
        line_done:
            // p is at the line end of a number that ended the line.
            if (p < end && *p == '\r') p++;
            if (p < end) p++;
        row_checked:
            break;
        }
        if (col < minf) {
            st->status = CK_CSV_ERR_FIELDS;
            st->line_offset = line - data;
            st->column = col;
            st->found_fields = col;
            st->text_begin = st->text_end = line - data;
            return;
        }
        if (bad) {
            if (drop) {
                st->invalid++;
                continue;
            }
            st->status = bad;
            st->line_offset = line - data;
            st->column = bad_col + 1;
            st->text_begin = bad_b - data;
            st->text_end = bad_e - data;
            return;
        }
        if (Y) Y[r] = label;
        r++;
        st->rows = r;
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

int ck_csv_parse(const ck_csv_spec *s, const int64_t *chunk_rows, float *features, int32_t *labels,
                 ck_csv_result *result) {
    memset(result, 0, sizeof *result);
    const int64_t n = ck_csv_chunk_count(s);
    const int threads = ck_csv_threads(s);
    const int64_t F = s->min_fields - (s->target >= 0);
    int64_t *slot = malloc((size_t)(n + 1) * sizeof *slot);
    uint8_t *finished = calloc((size_t)(n > 0 ? n : 1), 1);
    ck_chunk_state *st = calloc((size_t)(n > 0 ? n : 1), sizeof *st);
    ck_label_table *tables = calloc((size_t)threads, sizeof *tables);
    ck_value_table *values = calloc((size_t)threads, sizeof *values);
    if (!slot || !finished || !st || !tables || !values) {
        free(slot);
        free(finished);
        free(st);
        free(tables);
        free(values);
        return result->status = CK_CSV_ERR_MEMORY;
    }
    for (int t = 0; t < threads; t++) {
        values[t].limit = CK_CSV_MAX_LABELS;
        tables[t].values = &values[t];
    }
    ck_csv_slots(s, chunk_rows, n, slot);
    ck_csv_places places = {slot, finished, 0, 0};
    int64_t first_error_chunk = n;  // chunks after the first failed one need not run
    int64_t next = 0;

    ck_csv_sleep_when_idle();
#pragma omp parallel num_threads(threads)
    {
        const int tid = ck_csv_thread();
        for (;;) {
            int64_t i = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED);
            if (i >= n) break;
            if (__atomic_load_n(&first_error_chunk, __ATOMIC_RELAXED) < i) continue;
            int64_t a = ck_csv_chunk_start(s, i), b = ck_csv_chunk_start(s, i + 1);
            int64_t row0 = st[i].row0 = ck_csv_place(&places, i);
            if (b > a)
                CK_DISPATCH(ck_csv_parse_chunk, (s, a, b, features + row0 * F, labels ? labels + row0 : NULL,
                                                 slot[i + 1] - row0, &tables[tid], &st[i]));
            st[i].tid = tid;
            ck_csv_release(s->data, s->size, a, b);
            ck_csv_finished(&places, st, i, n);
            if (st[i].status) ck_csv_note_failed_chunk(&first_error_chunk, i);
        }
    }

    int status = CK_CSV_OK;
    for (int64_t i = 0; i < n; i++) {
        if (st[i].status) {
            ck_chunk_state *e = &st[i];
            status = e->status;
            result->status = e->status;
            result->line = ck_csv_line_number(s->data, e->line_offset);
            result->column = e->column;
            result->text_begin = e->text_begin;
            result->text_end = e->text_end;
            result->found_fields = e->found_fields;
            break;
        }
    }
    if (status == CK_CSV_OK && labels && s->target >= 0) {
        // Merge the thread tables into one, ordered by first appearance in the file.
        int32_t **map = calloc((size_t)threads, sizeof *map);
        ck_value_table g = {0};
        int64_t overflow = -1;  // where the first label beyond CK_CSV_MAX_LABELS appears
        int ok = map && ck_value_merge(values, threads, CK_CSV_MAX_LABELS, &g, map, &overflow) == 0;
        if (ok) {
            // Remap each chunk's rows with its thread's map.
            int64_t next_remap = 0;
            ck_csv_sleep_when_idle();
#pragma omp parallel num_threads(threads)
            for (;;) {
                int64_t i = __atomic_fetch_add(&next_remap, 1, __ATOMIC_RELAXED);
                if (i >= n) break;
                const int32_t *m = map[st[i].tid];
                for (int64_t r = st[i].row0; r < st[i].row0 + st[i].rows; r++) labels[r] = m[labels[r]];
            }
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
                result->line = ck_csv_line_number(s->data, overflow);
                result->column = s->target + 1;
                result->text_begin = result->text_end = overflow;
            }
        }
        if (map)
            for (int t = 0; t < threads; t++) free(map[t]);
        free(map);
    }
    if (status == CK_CSV_OK) {
        result->rows = ck_csv_compact(st, n, F, features, labels, slot[n]);
        for (int64_t i = 0; i < n; i++) result->invalid_rows += st[i].invalid;
    }
    for (int t = 0; t < threads; t++) ck_value_free(&values[t]);
    free(values);
    free(tables);
    free(st);
    free(finished);
    free(slot);
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
