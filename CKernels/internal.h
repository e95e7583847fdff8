// Shared by the kernel files, not part of the public interface.
#ifndef CKERNELS_INTERNAL_H
#define CKERNELS_INTERNAL_H

#include "include/CKernels.h"

// Each kernel family compiles one function per instruction set with these attributes, so the
// binary runs on any x86-64 (no host-specific -march flag) and picks the best version at run time.
#if defined(__x86_64__)
#define CK_HAVE_X86 1
#define CK_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define CK_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
#include <immintrin.h>
#else
#define CK_HAVE_X86 0
#endif

/// Calls NAME##_avx512, NAME##_avx2 or NAME##_scalar with ARGS by the active instruction set.
#if CK_HAVE_X86
#define CK_DISPATCH(NAME, ARGS)                      \
    do {                                             \
        switch (ck_isa_active()) {                   \
        case CK_ISA_AVX512: NAME##_avx512 ARGS; break; \
        case CK_ISA_AVX2: NAME##_avx2 ARGS; break;     \
        default: NAME##_scalar ARGS; break;            \
        }                                            \
    } while (0)
#else
#define CK_DISPATCH(NAME, ARGS) NAME##_scalar ARGS
#endif

/// For kernels whose plain C loops vectorise well: one always-inline body NAME##_body, compiled
/// three times, as the portable reference and under the AVX2 and AVX-512 target attributes (the
/// compiler vectorises the inlined body for each target). Explicit intrinsics are kept for kernels
/// where the compiler cannot vectorise on its own (reductions into registers, GEMM).
#define CK_INLINE static inline __attribute__((always_inline))
/// Before a loop whose output may be its input (y == x, never a partial overlap): each iteration
/// reads element i before writing element i, so it is safe to vectorise, but the compiler's run-time
/// overlap check would send exactly the in-place case to the scalar loop.
#define CK_INPLACE_SAFE _Pragma("clang loop vectorize(assume_safety)")
#if CK_HAVE_X86
#define CK_VERSIONS(NAME, PARAMS, ARGS)                            \
    static void NAME##_scalar PARAMS { NAME##_body ARGS; }         \
    CK_TARGET_AVX2 static void NAME##_avx2 PARAMS { NAME##_body ARGS; } \
    CK_TARGET_AVX512 static void NAME##_avx512 PARAMS { NAME##_body ARGS; }
#else
#define CK_VERSIONS(NAME, PARAMS, ARGS) static void NAME##_scalar PARAMS { NAME##_body ARGS; }
#endif

#if CK_HAVE_X86
/// Horizontal sum of 16 floats.
CK_TARGET_AVX512 static inline float ck_hsum512(__m512 v) { return _mm512_reduce_add_ps(v); }
/// Horizontal sum of 8 floats.
CK_TARGET_AVX2 static inline float ck_hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
/// Mask of the first n (< 16) lanes.
static inline __mmask16 ck_tail_mask16(int64_t n) { return (__mmask16)((1u << n) - 1u); }
#endif

// MARK: - Shared by BatchNorm (batchnorm.c) and the fused narrow blocks (narrow_block.c)

/// Repeats each of `count` arrays of `cols` values `times` times into consecutive slices of `out`
/// (per-channel coefficients for the flat loops over blocks of narrow rows).
void ck_repeat_pattern(const float *const *in, int count, int64_t cols, int64_t times, float *out);

/// BatchNorm's backward as dx = scale * dy - shift - slope * xhat: scale = gamma * invstd,
/// shift = scale * mean(dy), slope = scale * mean(dy * xhat), from the whole batch's sums over `count` rows.
void ck_bn_backward_coefficients(const float *gamma, const float *invstd, const double *sum_dy,
                                 const double *sum_dy_xhat, int64_t count, int64_t cols, float *scale,
                                 float *shift, float *slope);

// MARK: - Shared by the parallel CSV passes of csv.c and csv_table.c

#ifdef _OPENMP
#include <omp.h>
#endif

#define CK_CSV_RELEASE_BYTES (4 << 20)  // drop consumed pages every 4 MiB

/// Drops the whole pages inside [begin, end) of a mapping from the resident set (csv.c; the pages stay
/// in the page cache).
void ck_csv_release(const char *data, int64_t size, int64_t begin, int64_t end);

/// OpenMP's idle workers spin for 200 ms after a parallel region by default; the trainer's own worker
/// pool starts right after a parse, so ours go to sleep at once instead.
static inline void ck_csv_sleep_when_idle(void) {
#ifdef _OPENMP
    kmp_set_blocktime(0);
#endif
}

/// The calling thread's index in the parallel region (0 without OpenMP).
static inline int ck_csv_thread(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/// One chunk's work in ck_csv_for_each_chunk: chunk i on thread `tid` (0 .. threads - 1), reading the
/// mapping's bytes [*begin, *end) (set by the job; their pages are dropped after it; left empty, none
/// are). Returns nonzero when the chunk failed.
typedef int (*ck_csv_chunk_job)(void *context, int64_t i, int tid, int64_t *begin, int64_t *end);

/// Runs `job` on chunks 0 .. chunks - 1 on `threads` threads, each chunk once, taken in file order as
/// threads come free; chunks after the first failed one are skipped (those before it all run, so
/// the first error in file order is always found).
void ck_csv_for_each_chunk(const char *data, int64_t size, int64_t chunks, int threads, ck_csv_chunk_job job,
                           void *context);

/// The status of a malformed field that ck_csv_split_line reports, by its text: a malformed quoted
/// field's starts with its opening quote; any other is a control character.
static inline int ck_csv_malformed_status(const char *text) {
    return *text == '"' ? CK_CSV_ERR_QUOTE : CK_CSV_ERR_CONTROL;
}

#endif
