// The parallel loop over a CSV file's chunks that the passes of csv.c and csv_table.c share.
#include "internal.h"

/// Lowers *first_error_chunk to i: chunks after the first failed one need not run.
static void ck_csv_note_failed_chunk(int64_t *first_error_chunk, int64_t i) {
    int64_t cur = __atomic_load_n(first_error_chunk, __ATOMIC_RELAXED);
    while (i < cur && !__atomic_compare_exchange_n(first_error_chunk, &cur, i, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}

void ck_csv_for_each_chunk(const char *data, int64_t size, int64_t chunks, int threads, ck_csv_chunk_job job,
                           void *context) {
    int64_t next = 0, first_error_chunk = chunks;
    // Chunks are handed out in order through an atomic counter (a dynamic schedule without the
    // OpenMP runtime's dispatch calls, which differ between compiler and libomp versions).
    ck_csv_sleep_when_idle();
#pragma omp parallel num_threads(threads)
    {
        const int tid = ck_csv_thread();
        for (;;) {
            int64_t i = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED);
            if (i >= chunks) break;
            if (__atomic_load_n(&first_error_chunk, __ATOMIC_RELAXED) < i) continue;  // need not run
            int64_t begin = 0, end = 0;
            int failed = job(context, i, tid, &begin, &end);
            if (end > begin) ck_csv_release(data, size, begin, end);
            if (failed) ck_csv_note_failed_chunk(&first_error_chunk, i);
        }
    }
}
