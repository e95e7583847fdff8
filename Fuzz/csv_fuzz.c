// libFuzzer target for the CSV parser (CKernels/csv.c), the tabular passes (csv_table.c) and the
// number parser (parse_float.c): any bytes, any spec, any chunking. Input: 4 bytes of spec (fields,
// target, delimiter and flags, chunk size), then the file. Checks, besides the sanitizers: every
// chunking, the one pass into the sampled capacity and the scalar version give the same result as
// one chunk (for the tabular passes: the same survey, matrix, labels and errors), and every number
// ck_parse_float accepts is bit for bit strtof's.
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

/// Parses into a matrix of the counted rows (`counted`), or of ck_csv_row_capacity's.
static parsed parse(const ck_csv_spec *spec, int counted) {
    parsed p = {0};
    int64_t chunks = ck_csv_chunk_count(spec);
    int64_t *rows = calloc((size_t)(chunks > 0 ? chunks : 1), sizeof *rows);
    int64_t upper = counted ? ck_csv_count_rows(spec, rows) : ck_csv_row_capacity(spec);
    int64_t f = spec->min_fields - (spec->target >= 0);
    p.features = malloc((size_t)(upper * f > 0 ? upper * f : 1) * sizeof(float));
    p.labels = calloc((size_t)(upper > 0 ? upper : 1), sizeof(int32_t));
    p.status = ck_csv_parse(spec, counted ? rows : NULL, p.features, spec->target >= 0 ? p.labels : NULL, &p.result);
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
    CHECK(a->result.line_offset == b->result.line_offset && a->result.column == b->result.column);
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

// MARK: - Tabular passes (csv_table.c)

/// Line starts about every `nominal` bytes: the chunks of [0, n) (at most 4096).
static int64_t cut_chunks(const char *data, int64_t n, int64_t nominal, int64_t *starts) {
    int64_t k = 0;
    starts[k++] = 0;
    for (int64_t at = nominal; at < n && k < 4096;) {
        const char *nl = memchr(data + at - 1, '\n', (size_t)(n - at + 1));
        if (!nl || nl + 1 - data >= n) break;
        starts[k++] = nl + 1 - data;
        at = nl + 1 - data + nominal;
    }
    starts[k] = n;
    return k;
}

static void check_same_values(const ck_table_values *a, const ck_table_values *b);

typedef struct {
    int survey_status, write_status;
    ck_table_survey_result survey;
    ck_table_written written;
    int64_t missing[8], non_numbers[8], unseen[8], chunk_rows[4096];
    ck_table_values values[8];
    float *x;
    int32_t *y;
} table_run;

/// The plan's rows from the kept rows of a survey that counts its one-hot columns only (as the trainer
/// surveys): the same survey figures, and unless the rows cannot serve, the same as the write.
static void check_expand(const ck_table_spec *spec, const ck_table_plan *plan, int64_t rows, const table_run *t) {
    uint8_t modes[8] = {0};
    for (int64_t j = 0; j < plan->input_count; j++)
        modes[plan->inputs[j].column] = CK_TABLE_SURVEY | (plan->inputs[j].categorical ? CK_TABLE_COUNT : 0);
    static int64_t chunk_rows[4096];
    int64_t missing[8] = {0}, non_numbers[8] = {0}, unseen[8] = {0};
    ck_table_values values[8] = {{0}};
    ck_table_survey_result survey = {.chunk_rows = chunk_rows, .missing = missing, .non_numbers = non_numbers, .values = values};
    memset(chunk_rows, 0, sizeof chunk_rows);
    ck_table_rows *kept = NULL;
    // Rows split for their labels alone meet the ragged rows that a survey without columns skips.
    if (ck_table_survey_keeping(spec, modes, 5, plan->target, plan->label_limit, &survey, &kept) != CK_CSV_OK) {
        CHECK(t->write_status != CK_CSV_OK);
        return;
    }
    CHECK(memcmp(missing, t->missing, sizeof missing) == 0 && memcmp(non_numbers, t->non_numbers, sizeof non_numbers) == 0);
    float *x = malloc((size_t)(rows * plan->width > 0 ? rows * plan->width : 1) * sizeof(float));
    int32_t *y = calloc((size_t)(rows > 0 ? rows : 1), sizeof(int32_t));
    ck_table_written w = {.unseen = unseen};
    int status = ck_table_expand(kept, plan, x, y, &w);
    if (status != CK_TABLE_REWRITE) {
        CHECK(status == t->write_status);
        if (!status) {
            CHECK(w.rows == t->written.rows && w.invalid_rows == t->written.invalid_rows);
            CHECK(memcmp(unseen, t->unseen, sizeof unseen) == 0);
            check_same_values(&w.labels, &t->written.labels);
            CHECK(memcmp(x, t->x, (size_t)(w.rows * plan->width) * sizeof(float)) == 0);
            CHECK(memcmp(y, t->y, (size_t)w.rows * sizeof(int32_t)) == 0);
        }
    }
    ck_table_values_free(&w.labels);
    for (int c = 0; c < 8; c++) ck_table_values_free(&values[c]);
    ck_table_rows_free(kept);
    free(x);
    free(y);
}

/// Survey, then a plan from it (numeric columns without non-numbers, with an indicator when they have
/// missing values unless flag 4 leaves it out of the odd columns; the others one-hot over their
/// first 3 values and an "other" slot), then the write (flag 8: refusing missing values that no
/// indicator expects).
static int has_indicator(const table_run *t, int64_t c, int flags) {
    return t->missing[c] > 0 && !((flags & 4) && c % 2);
}

static void run_table(ck_table_spec *spec, int64_t target, int flags, table_run *t) {
    memset(t, 0, sizeof *t);
    uint8_t modes[8] = {0};
    for (int64_t c = 0; c < spec->min_fields; c++) modes[c] = c == target ? 0 : CK_TABLE_SURVEY | CK_TABLE_COUNT;
    t->survey.chunk_rows = t->chunk_rows;
    t->survey.missing = t->missing;
    t->survey.non_numbers = t->non_numbers;
    t->survey.values = t->values;
    t->survey_status = ck_table_survey(spec, modes, 5, &t->survey);
    if (t->survey_status) return;
    ck_table_input inputs[8];
    int64_t text = 1;
    for (int64_t c = 0; c < spec->min_fields; c++) text += t->values[c].count ? t->values[c].offsets[t->values[c].count] : 0;
    char *keys = malloc((size_t)text);
    int64_t key_offsets[32] = {0}, width = 0, count = 0, nkeys = 0, rows = 0;
    int32_t slots[32];
    for (int64_t i = 0; i < spec->chunks; i++) rows += t->chunk_rows[i];
    for (int64_t c = 0; c < spec->min_fields; c++) {
        if (c == target) continue;
        ck_table_input in = {.column = c, .offset = width, .indicator = has_indicator(t, c, flags), .fill = 0.5f};
        in.categorical = t->non_numbers[c] > 0;
        in.keys_begin = nkeys;
        if (in.categorical) {
            const ck_table_values *v = &t->values[c];
            for (int64_t i = 0; i < v->count && i < 3; i++) {
                int64_t a = v->offsets[i], len = v->offsets[i + 1] - a;
                memcpy(keys + key_offsets[nkeys], v->text + a, (size_t)len);
                key_offsets[nkeys + 1] = key_offsets[nkeys] + len;
                slots[nkeys++] = (int32_t)i;
            }
            in.width = nkeys - in.keys_begin + 1;
            in.other = in.width - 1;
        }
        in.keys_end = nkeys;
        width += in.categorical ? in.width : 1 + in.indicator;
        inputs[count++] = in;
    }
    ck_table_plan plan = {inputs, count, width, target, flags & 1, (flags >> 1) & 1, keys, key_offsets, slots, 3, (flags >> 3) & 1};
    t->x = malloc((size_t)(rows * width > 0 ? rows * width : 1) * sizeof(float));
    t->y = calloc((size_t)(rows > 0 ? rows : 1), sizeof(int32_t));
    t->written.unseen = t->unseen;
    t->write_status = ck_table_write(spec, &plan, t->chunk_rows, t->x, t->y, &t->written);
    if (!t->write_status) CHECK(t->written.rows <= rows);
    check_expand(spec, &plan, rows, t);
    free(keys);
}

static void check_same_values(const ck_table_values *a, const ck_table_values *b) {
    CHECK(a->count == b->count && a->overflow == b->overflow);
    if (a->count == 0) return;
    CHECK(memcmp(a->offsets, b->offsets, (size_t)(a->count + 1) * sizeof(int64_t)) == 0);
    CHECK(memcmp(a->text, b->text, (size_t)a->offsets[a->count]) == 0);
    CHECK(memcmp(a->counts, b->counts, (size_t)a->count * sizeof(int64_t)) == 0);
    CHECK(memcmp(a->first, b->first, (size_t)a->count * sizeof(int64_t)) == 0);
}

static void check_same_error(const ck_table_error *a, const ck_table_error *b) {
    CHECK(a->status == b->status && a->line_offset == b->line_offset && a->column == b->column);
    CHECK(a->text_begin == b->text_begin && a->text_end == b->text_end && a->quoted == b->quoted);
}

static void check_same_table(const table_run *a, const table_run *b, int64_t fields) {
    CHECK(a->survey_status == b->survey_status);
    check_same_error(&a->survey.error, &b->survey.error);
    if (a->survey_status) return;
    CHECK(memcmp(a->missing, b->missing, sizeof a->missing) == 0);
    CHECK(memcmp(a->non_numbers, b->non_numbers, sizeof a->non_numbers) == 0);
    CHECK(a->survey.strays == b->survey.strays && a->survey.first_stray == b->survey.first_stray);
    for (int64_t c = 0; c < fields; c++) check_same_values(&a->values[c], &b->values[c]);
    CHECK(a->write_status == b->write_status);
    check_same_error(&a->written.error, &b->written.error);
    if (a->write_status) return;
    CHECK(a->written.rows == b->written.rows && a->written.invalid_rows == b->written.invalid_rows);
    CHECK(memcmp(a->unseen, b->unseen, sizeof a->unseen) == 0);
    check_same_values(&a->written.labels, &b->written.labels);
    CHECK(memcmp(a->y, b->y, (size_t)a->written.rows * sizeof(int32_t)) == 0);
}

static void check_same_matrix(const table_run *a, const table_run *b, int64_t width) {
    if (a->survey_status || a->write_status) return;
    CHECK(memcmp(a->x, b->x, (size_t)(a->written.rows * width) * sizeof(float)) == 0);
}

static void release_table(table_run *t) {
    for (int c = 0; c < 8; c++) ck_table_values_free(&t->values[c]);
    ck_table_values_free(&t->written.labels);
    free(t->x);
    free(t->y);
}

/// The width of run_table's plan.
static int64_t plan_width(const table_run *t, const ck_csv_spec *csv, int flags) {
    int64_t width = 0;
    for (int64_t c = 0; !t->survey_status && c < csv->min_fields; c++) {
        if (c == csv->target) continue;
        int64_t keys = t->values[c].count < 3 ? t->values[c].count : 3;
        width += t->non_numbers[c] > 0 ? keys + 1 : 1 + has_indicator(t, c, flags);
    }
    return width;
}

static void check_tables(const char *data, int64_t n, const ck_csv_spec *csv, int chunk, int missing_flags) {
    static const char na_text[] = "NA?";
    static const int64_t na_offsets[] = {0, 2, 3};
    int64_t starts[4097];
    ck_table_spec spec = {data, n, starts, 0, csv->fields, csv->min_fields, csv->delimiter, 1, na_text, na_offsets, 2};
    static table_run whole, chunked, scalar;
    int flags = csv->allow_nonfinite | csv->drop_invalid << 1 | missing_flags << 2;
    spec.chunks = cut_chunks(data, n, n + 1, starts);
    run_table(&spec, csv->target, flags, &whole);
    spec.chunks = cut_chunks(data, n, chunk, starts);
    run_table(&spec, csv->target, flags, &chunked);
    check_same_table(&whole, &chunked, csv->fields);
    check_same_matrix(&whole, &chunked, plan_width(&whole, csv, flags));
    release_table(&chunked);
    // The scalar version (general splitting, scalar number scans) gives the same as the best one.
    ck_isa_force(CK_ISA_SCALAR);
    spec.chunks = cut_chunks(data, n, n + 1, starts);
    run_table(&spec, csv->target, flags, &scalar);
    ck_isa_force(ck_isa_best());
    check_same_table(&whole, &scalar, csv->fields);
    check_same_matrix(&whole, &scalar, plan_width(&whole, csv, flags));
    release_table(&whole);
    release_table(&scalar);
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
    parsed whole = parse(&spec, 1);
    if (whole.status == CK_CSV_OK && whole.result.label_count > 0)
        for (int64_t k = 0; k < whole.result.label_offsets[whole.result.label_count]; k++)
            CHECK((uint8_t)whole.result.label_text[k] >= 0x20 || whole.result.label_text[k] == '\t');
    spec.chunk_bytes = 1 + bytes[3] % 64;
    parsed chunked = parse(&spec, 1);
    check_same(&whole, &chunked, spec.min_fields - (spec.target >= 0));
    // One pass into the sampled capacity: the same, unless a chunk outgrew its share.
    parsed sampled = parse(&spec, 0);
    if (sampled.status != CK_CSV_ERR_CAPACITY) check_same(&whole, &sampled, spec.min_fields - (spec.target >= 0));
    // The scalar version (no SIMD number scanner) gives the same as the best one.
    ck_isa_force(CK_ISA_SCALAR);
    spec.chunk_bytes = n + 1;
    parsed scalar = parse(&spec, 1);
    ck_isa_force(ck_isa_best());
    check_same(&whole, &scalar, spec.min_fields - (spec.target >= 0));
    release(&whole);
    release(&chunked);
    release(&sampled);
    release(&scalar);
    check_tables(data, n, &spec, 1 + bytes[3] % 64, (bytes[2] >> 4) & 3);

    // Every line splits without reading past it, and no field it gives holds a control character.
    int64_t ranges[16];
    for (const char *line = data, *end = data + n; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *stop = nl ? nl : end;
        int64_t fields = ck_csv_split_line(line, stop, spec.delimiter, ranges, NULL, 8);
        for (int64_t i = 0; i < (fields < 8 ? fields : 0); i++) {
            CHECK(0 <= ranges[2 * i] && ranges[2 * i] <= ranges[2 * i + 1] && ranges[2 * i + 1] <= stop - line);
            for (int64_t k = ranges[2 * i]; k < ranges[2 * i + 1]; k++) CHECK((uint8_t)line[k] >= 0x20 || line[k] == '\t');
        }
        // A malformed field is a quoted one (its text from the opening quote) or one control character.
        if (fields < 0) CHECK(line[ranges[0]] == '"' || (ranges[1] == ranges[0] + 1 && (uint8_t)line[ranges[0]] < 0x20));
        line = stop + 1;
    }
    ck_csv_unmap(data, mapped);
    close(fd);
    return 0;
}
