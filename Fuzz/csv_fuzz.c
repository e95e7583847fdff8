// libFuzzer target for the CSV parser (CKernels/csv.c) and the number parser (parse_float.c):
// any bytes, any spec, any chunking. Input: 4 bytes of spec (fields, target, delimiter and flags,
// chunk size), then the file. Checks, besides the sanitizers: every chunking and the scalar version
// give the same result as one chunk, and every number ck_parse_float accepts is bit for bit strtof's.
#define _GNU_SOURCE
#include "CKernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct {
    int status;
    ck_csv_result result;
    float *features;
    int32_t *labels;
} parsed;

static parsed parse(const ck_csv_spec *spec) {
    parsed p = {0};
    int64_t chunks = ck_csv_chunk_count(spec);
    int64_t *rows = calloc((size_t)(chunks > 0 ? chunks : 1), sizeof *rows);
    int64_t upper = ck_csv_count_rows(spec, rows);
    int64_t f = spec->min_fields - (spec->target >= 0);
    p.features = malloc((size_t)(upper * f > 0 ? upper * f : 1) * sizeof(float));
    p.labels = calloc((size_t)(upper > 0 ? upper : 1), sizeof(int32_t));
    p.status = ck_csv_parse(spec, rows, p.features, spec->target >= 0 ? p.labels : NULL, &p.result);
    free(rows);
    return p;
}

static void release(parsed *p) {
    ck_csv_result_free(&p->result);
    free(p->features);
    free(p->labels);
}

#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "check failed: %s (line %d)\n", #cond, __LINE__); abort(); } } while (0)

static void check_same(const parsed *a, const parsed *b, int64_t features) {
    CHECK(a->status == b->status);
    CHECK(a->result.line == b->result.line && a->result.column == b->result.column);
    if (a->status != CK_CSV_OK) return;
    CHECK(a->result.rows == b->result.rows && a->result.invalid_rows == b->result.invalid_rows);
    CHECK(memcmp(a->features, b->features, (size_t)(a->result.rows * features) * sizeof(float)) == 0);
    CHECK(memcmp(a->labels, b->labels, (size_t)a->result.rows * sizeof(int32_t)) == 0);
    CHECK(a->result.label_count == b->result.label_count);
    if (a->result.label_count > 0) {
        int64_t n = a->result.label_count;
        CHECK(memcmp(a->result.label_offsets, b->result.label_offsets, (size_t)(n + 1) * sizeof(int64_t)) == 0);
        CHECK(memcmp(a->result.label_text, b->result.label_text, (size_t)a->result.label_offsets[n]) == 0);
        CHECK(memcmp(a->result.label_first_offset, b->result.label_first_offset, (size_t)n * sizeof(int64_t)) == 0);
    }
}

/// ck_parse_float on the first field-like run of bytes against strtof on the same text.
static void check_number(const char *text, size_t n) {
    if (n > 80) n = 80;
    char copy[81];
    memcpy(copy, text, n);
    copy[n] = 0;
    if (strlen(copy) != n) return;
    float mine = 0;
    int kind = ck_parse_float(copy, copy + n, &mine);
    if (kind != 0) return;
    char *end = NULL;
    float libc = strtof(copy, &end);
    CHECK(end == copy + n);
    CHECK(memcmp(&mine, &libc, sizeof mine) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size) {
    if (size < 4) return 0;
    const char *text = (const char *)bytes + 4;
    int64_t n = (int64_t)size - 4;
    size_t field = 0;
    while (field < (size_t)n && text[field] != ',' && text[field] != '\n') field++;
    check_number(text, field);

    // The parser drops consumed pages of its (file-backed) input, as the trainer maps files: hand it
    // a memory file, not the heap.
    int fd = memfd_create("csv", 0);
    CHECK(fd >= 0);
    CHECK(write(fd, text, (size_t)n) == n);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int64_t mapped = 0;
    const char *data = ck_csv_map(path, &mapped);
    CHECK(data != NULL && mapped == n);

    ck_csv_spec spec = {0};
    spec.data = data;
    spec.size = n;
    spec.fields = 1 + bytes[0] % 6;
    spec.min_fields = 1 + (bytes[0] / 6) % spec.fields;
    spec.target = (int64_t)(bytes[1] % (spec.min_fields + 1)) - 1;
    spec.delimiter = ",;\t|"[bytes[2] & 3];
    spec.allow_nonfinite = (bytes[2] >> 2) & 1;
    spec.drop_invalid = (bytes[2] >> 3) & 1;
    spec.threads = 1;
    spec.chunk_bytes = n + 1;
    parsed whole = parse(&spec);
    spec.chunk_bytes = 1 + bytes[3] % 64;
    parsed chunked = parse(&spec);
    check_same(&whole, &chunked, spec.min_fields - (spec.target >= 0));
    // The scalar version (no SIMD number scanner) gives the same as the best one.
    ck_isa_force(CK_ISA_SCALAR);
    spec.chunk_bytes = n + 1;
    parsed scalar = parse(&spec);
    ck_isa_force(ck_isa_best());
    check_same(&whole, &scalar, spec.min_fields - (spec.target >= 0));
    release(&whole);
    release(&chunked);
    release(&scalar);

    // Every line splits without reading past it.
    int64_t ranges[16];
    for (const char *line = data, *end = data + n; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *stop = nl ? nl : end;
        int64_t fields = ck_csv_split_line(line, stop, spec.delimiter, ranges, NULL, 8);
        for (int64_t i = 0; i < (fields < 8 ? fields : 0); i++) CHECK(0 <= ranges[2 * i] && ranges[2 * i] <= ranges[2 * i + 1] && ranges[2 * i + 1] <= stop - line);
        line = stop + 1;
    }
    ck_csv_unmap(data, mapped);
    close(fd);
    return 0;
}
