// GEMM and the Linear layer's three products.
//
// ck_sgemm follows BLIS: C is cut into NC-wide column blocks and K into KC-deep slices; for each
// slice a KC x NC block of op(B) is packed into NR-wide micro-panels, and for each MC-high row
// block of op(A) an MC x KC block is packed into MR-high micro-panels. The micro-kernel then
// multiplies one A micro-panel by one B micro-panel into an MR x NR register tile of C. Packing
// makes every micro-kernel read contiguous and aligned whatever the transposes and leading
// dimensions, and keeps the A block in L2 while B micro-panels stream through L1.
//
// Packing costs O(MK + KN) per call, which dominates when N or M is tiny (the trainer's 2-class
// output layer, the seed network's widths of 2..9). Such products take a direct path that reads
// A and B in place (see "Small products").
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

// MARK: - Scalar reference (also the version for CPUs without AVX2)

static void sgemm_scalar(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                         const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                         float *C, int64_t ldc) {
    for (int64_t i = 0; i < M; i++) {
        for (int64_t j = 0; j < N; j++) {
            float acc = 0.0f;
            for (int64_t k = 0; k < K; k++) {
                float a = trans_a ? A[k * lda + i] : A[i * lda + k];
                float b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
                acc += a * b;
            }
            C[i * ldc + j] = alpha * acc + (beta == 0.0f ? 0.0f : beta * C[i * ldc + j]);
        }
    }
}

// MARK: - Packing buffers

// One A block and one B block per thread, grown on demand and kept for the thread's lifetime, so
// the hot path never allocates (the trainer calls GEMM from a fixed pool of worker threads).
typedef struct {
    float *ptr;
    size_t cap;  // in floats
} pack_buffer;

static _Thread_local pack_buffer pack_a_buf, pack_b_buf;

// A thread-exit destructor frees the thread's buffers: the worker pools' threads end with their
// run, and each run would otherwise leave its buffers behind (LeakSanitizer, `make test-sanitize`).
static pthread_key_t pack_key;
static pthread_once_t pack_key_once = PTHREAD_ONCE_INIT;

static void pack_buffers_free(void *unused) {
    (void)unused;
    free(pack_a_buf.ptr);
    free(pack_b_buf.ptr);
    pack_a_buf = pack_b_buf = (pack_buffer){0};
}

static void pack_key_create(void) { pthread_key_create(&pack_key, pack_buffers_free); }

static float *pack_buffer_get(pack_buffer *buf, size_t floats) {
    if (floats > buf->cap) {
        if (!pack_a_buf.ptr && !pack_b_buf.ptr) {
            // The thread's first buffer: register the destructor (a non-NULL value makes it run).
            pthread_once(&pack_key_once, pack_key_create);
            pthread_setspecific(pack_key, &pack_a_buf);
        }
        free(buf->ptr);
        // 64-byte alignment for aligned vector loads; aligned_alloc needs a multiple of it.
        size_t bytes = (floats * sizeof(float) + 63) & ~(size_t)63;
        buf->ptr = aligned_alloc(64, bytes);
        if (!buf->ptr) abort();
        buf->cap = bytes / sizeof(float);
    }
    return buf->ptr;
}

// MARK: - Packing of partial panels (full panels: each ISA's vector code below)

/// Packs the last, partial micro-panel of op(A): rows [0, mr) (mr < MR) by kc columns, element
/// (i,k) at A[i*rs + k*cs], k-major with MR values per k; rows mr..MR-1 are zero, so the
/// micro-kernel needs no row tests.
static void pack_a_tail(int64_t MR, int64_t mr, int64_t kc, const float *A, int64_t rs,
                        int64_t cs, float *restrict dst) {
    memset(dst, 0, (size_t)(MR * kc) * sizeof(float));
    for (int64_t i = 0; i < mr; i++)
        for (int64_t k = 0; k < kc; k++) dst[k * MR + i] = A[i * rs + k * cs];
}

/// Packs the last, partial micro-panel of op(B): columns [0, nr) (nr < NR) by kc rows, element
/// (k,j) at B[k*rs + j*cs], k-major with NR values per k; columns nr..NR-1 are zero.
static void pack_b_tail(int64_t NR, int64_t kc, int64_t nr, const float *B, int64_t rs,
                        int64_t cs, float *restrict dst) {
    memset(dst, 0, (size_t)(NR * kc) * sizeof(float));
    for (int64_t j = 0; j < nr; j++)
        for (int64_t k = 0; k < kc; k++) dst[k * NR + j] = B[k * rs + j * cs];
}

// MARK: - Blocked driver

/// The micro-kernel contract: C[0:m, 0:n] = alpha * Ap * Bp + beta * C[0:m, 0:n] for packed
/// micro-panels Ap (MR x kc) and Bp (kc x NR), m <= MR, n <= NR; beta == 0 does not read C.
typedef void (*ukernel_fn)(int64_t kc, const float *restrict a, const float *restrict b, float *c,
                           int64_t ldc, float alpha, float beta, int64_t m, int64_t n);

typedef void (*pack_fn)(int64_t rows, int64_t cols, const float *src, int64_t rs, int64_t cs,
                        float *restrict dst);

typedef struct {
    int64_t MR, NR, MC, KC, NC;
    ukernel_fn kernel;
    pack_fn pack_a, pack_b;
} gemm_blocking;

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

static void sgemm_packed(const gemm_blocking *g, int trans_a, int trans_b, int64_t M, int64_t N,
                         int64_t K, float alpha, const float *A, int64_t lda, const float *B,
                         int64_t ldb, float beta, float *C, int64_t ldc) {
    // Element (i,k) of op(A) is A[i*a_rs + k*a_cs]; element (k,j) of op(B) is B[k*b_rs + j*b_cs].
    int64_t a_rs = trans_a ? 1 : lda, a_cs = trans_a ? lda : 1;
    int64_t b_rs = trans_b ? 1 : ldb, b_cs = trans_b ? ldb : 1;
    int64_t MR = g->MR, NR = g->NR;
    int64_t kc_max = min64(K, g->KC);
    float *bp = pack_buffer_get(&pack_b_buf, (size_t)(kc_max * round_up(min64(N, g->NC), NR)));
    float *ap = pack_buffer_get(&pack_a_buf, (size_t)(kc_max * round_up(min64(M, g->MC), MR)));
    for (int64_t jc = 0; jc < N; jc += g->NC) {
        int64_t nc = min64(N - jc, g->NC);
        for (int64_t pc = 0; pc < K; pc += g->KC) {
            int64_t kc = min64(K - pc, g->KC);
            // Later K slices add to what the first one wrote.
            float beta_p = pc == 0 ? beta : 1.0f;
            g->pack_b(kc, nc, B + pc * b_rs + jc * b_cs, b_rs, b_cs, bp);
            for (int64_t ic = 0; ic < M; ic += g->MC) {
                int64_t mc = min64(M - ic, g->MC);
                g->pack_a(mc, kc, A + ic * a_rs + pc * a_cs, a_rs, a_cs, ap);
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    int64_t nr = min64(nc - jr, NR);
                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        g->kernel(kc, ap + ir * kc, bp + jr * kc, C + (ic + ir) * ldc + jc + jr, ldc,
                                  alpha, beta_p, min64(mc - ir, MR), nr);
                    }
                }
            }
        }
    }
}

// MARK: - Small products

// Kernels specialised for K = 1 ... 16 (their K rows of B held in registers): EACH_K(X) instantiates
// X(1) ... X(16); with X(KK) expanding to `name_##KK,` it lists them for a table indexed by K - 1.
#define EACH_K(X) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15) X(16)

// When N, M or K is tiny the packed path spends most of its time packing and in zero-padded tile
// lanes. Two unpacked kernels cover the trainer's skinny products instead:
// - "direct": register tiles read op(A) in place (broadcasts with any strides) and B's rows in
//   place (masked vector loads), so nothing is copied; op(B) = B^T is first transposed into the
//   B buffer, which is cheap because K * N is small on this path.
// - "dot": for C = A B^T with only a few columns (the 2-class output layer), each element is a
//   dot product along K of contiguous rows of A and B, vectorised along K.
typedef enum { PATH_PACKED, PATH_DIRECT, PATH_DOT } gemm_path;

/// `direct_max_n`: up to this N the direct path beats packing at any M and K (measured: 48 with
/// AVX-512's 32 registers and mask registers, 16 with AVX2).
static gemm_path choose_path(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K,
                             int64_t direct_max_n) {
    if (trans_b && !trans_a && N <= 4 && K >= 32) return PATH_DOT;
    if (trans_b && K * N > 16384) return PATH_PACKED;
    if (N <= direct_max_n || M <= 8 || K <= 16) return PATH_DIRECT;
    return PATH_PACKED;
}

/// op(B) = B^T (B is N x K) copied to a K x N row-major buffer for the direct path.
static const float *transpose_small_b(int64_t K, int64_t N, const float *B, int64_t ldb) {
    float *t = pack_buffer_get(&pack_b_buf, (size_t)(K * N));
    for (int64_t j = 0; j < N; j++)
        for (int64_t k = 0; k < K; k++) t[k * N + j] = B[j * ldb + k];
    return t;
}

#if CK_HAVE_X86

// MARK: - AVX2 + FMA: 6 x 16 micro-kernel (12 accumulators + 2 B vectors + 1 broadcast of 16 ymm)

enum { MR2 = 6, NV2 = 2, NR2 = 8 * NV2 };

/// Lanes [0, n) of 8 set (n clamped to [0, 8]), for maskload/maskstore.
CK_TARGET_AVX2 static inline __m256i mask8(int64_t n) {
    int lanes = n < 0 ? 0 : n > 8 ? 8 : (int)n;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

CK_TARGET_AVX2 static void ukernel_avx2(int64_t kc, const float *restrict a, const float *restrict b,
                                        float *c, int64_t ldc, float alpha, float beta, int64_t m,
                                        int64_t n) {
    __m256 acc[MR2][NV2];
    for (int i = 0; i < MR2; i++)
        for (int v = 0; v < NV2; v++) acc[i][v] = _mm256_setzero_ps();
    for (int64_t k = 0; k < kc; k++, a += MR2, b += NR2) {
        __m256 bv[NV2];
        for (int v = 0; v < NV2; v++) bv[v] = _mm256_load_ps(b + 8 * v);
        for (int i = 0; i < MR2; i++) {
            __m256 ai = _mm256_broadcast_ss(a + i);
            for (int v = 0; v < NV2; v++) acc[i][v] = _mm256_fmadd_ps(ai, bv[v], acc[i][v]);
        }
    }
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    if (m == MR2 && n == NR2) {
        for (int i = 0; i < MR2; i++)
            for (int v = 0; v < NV2; v++) {
                float *p = c + i * ldc + 8 * v;
                __m256 r = _mm256_mul_ps(va, acc[i][v]);
                if (beta != 0.0f) r = _mm256_fmadd_ps(vb, _mm256_loadu_ps(p), r);
                _mm256_storeu_ps(p, r);
            }
        return;
    }
    __m256i mask[NV2];
    for (int v = 0; v < NV2; v++) mask[v] = mask8(n - 8 * v);
    for (int i = 0; i < MR2; i++) {
        if (i >= m) break;
        for (int v = 0; v < NV2; v++) {
            float *p = c + i * ldc + 8 * v;
            __m256 r = _mm256_mul_ps(va, acc[i][v]);
            if (beta != 0.0f) r = _mm256_fmadd_ps(vb, _mm256_maskload_ps(p, mask[v]), r);
            _mm256_maskstore_ps(p, mask[v], r);
        }
    }
}

/// Interleaves 8 or MR2 (6) rows of 8 floats: dst[t*dst_stride + r] = src[r*src_stride + t], as an
/// 8x8 transpose in registers (see interleave16_avx512 for why).
CK_TARGET_AVX2 static inline void interleave8_avx2(const float *src, int64_t src_stride, int rows,
                                                   float *dst, int64_t dst_stride) {
    __m256 r[8], t[8], u[8];
    for (int i = 0; i < 8; i++) r[i] = i < rows ? _mm256_loadu_ps(src + i * src_stride) : _mm256_setzero_ps();
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4)
        for (int h = 0; h < 2; h++) {
            u[i + 2 * h] = _mm256_shuffle_ps(t[i + h], t[i + h + 2], _MM_SHUFFLE(1, 0, 1, 0));
            u[i + 2 * h + 1] = _mm256_shuffle_ps(t[i + h], t[i + h + 2], _MM_SHUFFLE(3, 2, 3, 2));
        }
    // u[j] (rows 0..3) and u[4+j] (rows 4..7) hold column j in their low 128-bit halves and
    // column 4+j in their high halves.
    for (int c = 0; c < 8; c++) {
        __m256 col = c < 4 ? _mm256_permute2f128_ps(u[c], u[4 + c], 0x20)
                           : _mm256_permute2f128_ps(u[c - 4], u[c], 0x31);
        float *p = dst + c * dst_stride;
        if (rows == 8) {
            _mm256_storeu_ps(p, col);
        } else {
            // 6 rows: 4 + 2 lanes (no vmaskmovps, which is slow on AMD).
            _mm_storeu_ps(p, _mm256_castps256_ps128(col));
            _mm_storel_pi((__m64 *)(p + 4), _mm256_extractf128_ps(col, 1));
        }
    }
}

// Full panels by vector code, as pack_a_avx512 / pack_b_avx512.
CK_TARGET_AVX2 static void pack_a_avx2(int64_t mc, int64_t kc, const float *A, int64_t rs, int64_t cs,
                                       float *restrict dst) {
    int64_t full = mc / MR2 * MR2;
    for (int64_t i0 = 0; i0 < full; i0 += MR2, dst += MR2 * kc) {
        const float *src = A + i0 * rs;
        if (rs == 1) {
            // A^T: each k is a contiguous run of MR2 = 6 rows (4 + 2 lanes).
            for (int64_t k = 0; k < kc; k++) {
                _mm_storeu_ps(dst + k * MR2, _mm_loadu_ps(src + k * cs));
                __m128 last2 = _mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)(src + k * cs + 4));
                _mm_storel_pi((__m64 *)(dst + k * MR2 + 4), last2);
            }
            continue;
        }
        int64_t k = 0;
        for (; k + 8 <= kc; k += 8) interleave8_avx2(src + k, rs, MR2, dst + k * MR2, MR2);
        for (; k < kc; k++)
            for (int i = 0; i < MR2; i++) dst[k * MR2 + i] = src[i * rs + k];
    }
    if (full < mc) pack_a_tail(MR2, mc - full, kc, A + full * rs, rs, cs, dst);
}

CK_TARGET_AVX2 static void pack_b_avx2(int64_t kc, int64_t nc, const float *B, int64_t rs, int64_t cs,
                                       float *restrict dst) {
    int64_t full = nc / NR2 * NR2;
    for (int64_t j0 = 0; j0 < full; j0 += NR2, dst += NR2 * kc) {
        const float *src = B + j0 * cs;
        if (cs == 1) {
            // B not transposed: each k is a contiguous run of NR2 columns.
            for (int64_t k = 0; k < kc; k++)
                for (int v = 0; v < NV2; v++)
                    _mm256_store_ps(dst + k * NR2 + 8 * v, _mm256_loadu_ps(src + k * rs + 8 * v));
            continue;
        }
        int64_t k = 0;
        for (; k + 8 <= kc; k += 8)
            for (int h = 0; h < NR2; h += 8)
                interleave8_avx2(src + h * cs + k, cs, 8, dst + k * NR2 + h, NR2);
        for (; k < kc; k++)
            for (int j = 0; j < NR2; j++) dst[k * NR2 + j] = src[j * cs + k];
    }
    if (full < nc) pack_b_tail(NR2, kc, nc - full, B + full * cs, rs, cs, dst);
}

static const gemm_blocking blocking_avx2 = {
    .MR = MR2, .NR = NR2, .MC = 96, .KC = 512, .NC = 4096,
    .kernel = ukernel_avx2, .pack_a = pack_a_avx2, .pack_b = pack_b_avx2,
};

/// Stores lanes [0, n) of r (n clamped to [0, 8]) at p. vmaskmovps stores are microcoded on AMD,
/// and a loop of scalar stores compiles to a memmove call per row (a quarter of the seed's small
/// products' time went there): 4-, 2- and 1-lane stores instead.
CK_TARGET_AVX2 static inline void store_first8(float *p, __m256 r, int64_t n) {
    if (n >= 8) {
        _mm256_storeu_ps(p, r);
        return;
    }
    __m128 part = _mm256_castps256_ps128(r);
    if (n >= 4) {
        _mm_storeu_ps(p, part);
        part = _mm256_extractf128_ps(r, 1);
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        _mm_storel_pi((__m64 *)p, part);
        part = _mm_movehl_ps(part, part);
        p += 2;
        n -= 2;
    }
    if (n >= 1) _mm_store_ss(p, part);
}

// MARK: - AVX2 small products (as the AVX-512 ones further down, with 8 lanes and 16 registers)

/// One MRD x (8*NVD) tile at (i0, j0) of C = alpha * op(A) * B + beta * C, op(A)(i,k) at
/// A[i*a_rs + k*a_cs], B row-major; KU accumulator sets over k hide the FMA latency of small
/// tiles; missing rows of the last row tile re-read row M-1 and are not stored. AVX2 masks take
/// vector registers (16 in all), so only edge tiles (MASKED) use them.
CK_TARGET_AVX2 CK_INLINE void direct256_tile(const int MRD, const int NVD, const int KU,
                                             const int MASKED, int64_t i0, int64_t j0, int64_t M,
                                             int64_t N, int64_t K, float alpha, const float *A,
                                             int64_t a_rs, int64_t a_cs, const float *B,
                                             int64_t ldb, float beta, float *C, int64_t ldc,
                                             const float *Cin, int64_t ldcin) {
    __m256i mask[2];
    for (int v = 0; v < NVD; v++) mask[v] = MASKED ? mask8(N - j0 - 8 * v) : _mm256_set1_epi32(-1);
    const float *arow[12];
    for (int i = 0; i < MRD; i++) arow[i] = A + (i0 + i < M ? i0 + i : M - 1) * a_rs;
    __m256 acc[4][12][2];
    for (int u = 0; u < KU; u++)
        for (int i = 0; i < MRD; i++)
            for (int v = 0; v < NVD; v++) acc[u][i][v] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + KU <= K; k += KU)
        for (int u = 0; u < KU; u++) {
            __m256 bv[2];
            for (int v = 0; v < NVD; v++) {
                const float *p = B + (k + u) * ldb + j0 + 8 * v;
                bv[v] = MASKED ? _mm256_maskload_ps(p, mask[v]) : _mm256_loadu_ps(p);
            }
            for (int i = 0; i < MRD; i++) {
                __m256 ai = _mm256_broadcast_ss(arow[i] + (k + u) * a_cs);
                for (int v = 0; v < NVD; v++) acc[u][i][v] = _mm256_fmadd_ps(ai, bv[v], acc[u][i][v]);
            }
        }
    for (; k < K; k++)
        for (int v = 0; v < NVD; v++) {
            const float *p = B + k * ldb + j0 + 8 * v;
            __m256 bk = MASKED ? _mm256_maskload_ps(p, mask[v]) : _mm256_loadu_ps(p);
            for (int i = 0; i < MRD; i++)
                acc[0][i][v] = _mm256_fmadd_ps(_mm256_broadcast_ss(arow[i] + k * a_cs), bk, acc[0][i][v]);
        }
    for (int u = 1; u < KU; u++)
        for (int i = 0; i < MRD; i++)
            for (int v = 0; v < NVD; v++) acc[0][i][v] = _mm256_add_ps(acc[0][i][v], acc[u][i][v]);
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    // All old values of C are read before the first store: see direct512_body.
    _Alignas(32) float old_c[12][16];
    if (beta != 0.0f)
        for (int i = 0; i < MRD && i0 + i < M; i++)
            for (int v = 0; v < NVD; v++) {
                const float *p = Cin + (i0 + i) * ldcin + j0 + 8 * v;
                _mm256_store_ps(old_c[i] + 8 * v, MASKED ? _mm256_maskload_ps(p, mask[v]) : _mm256_loadu_ps(p));
            }
    for (int i = 0; i < MRD && i0 + i < M; i++)
        for (int v = 0; v < NVD; v++) {
            __m256 r = _mm256_mul_ps(va, acc[0][i][v]);
            if (beta != 0.0f) r = _mm256_fmadd_ps(vb, _mm256_load_ps(old_c[i] + 8 * v), r);
            float *p = C + (i0 + i) * ldc + j0 + 8 * v;
            if (MASKED) {
                store_first8(p, r, N - j0 - 8 * v);
            } else {
                _mm256_storeu_ps(p, r);
            }
        }
}

CK_TARGET_AVX2 CK_INLINE void direct256_body(const int MRD, const int NVD, const int KU, int64_t M,
                                             int64_t N, int64_t K, float alpha, const float *A,
                                             int64_t a_rs, int64_t a_cs, const float *B,
                                             int64_t ldb, float beta, float *C, int64_t ldc,
                                             const float *Cin, int64_t ldcin) {
    // Row tiles outermost: C is written in address order (column strips of C write far slower
    // when it spills out of L2).
    for (int64_t i0 = 0; i0 < M; i0 += MRD)
        for (int64_t j0 = 0; j0 < N; j0 += 8 * NVD) {
            if (j0 + 8 * NVD <= N)
                direct256_tile(MRD, NVD, KU, 0, i0, j0, M, N, K, alpha, A, a_rs, a_cs, B, ldb, beta, C, ldc, Cin, ldcin);
            else
                direct256_tile(MRD, NVD, KU, 1, i0, j0, M, N, K, alpha, A, a_rs, a_cs, B, ldb, beta, C, ldc, Cin, ldcin);
        }
}

#define DIRECT256(MRD, NVD, KU)                                                                    \
    CK_TARGET_AVX2 static void direct256_##MRD##x##NVD##x##KU(                                     \
        int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t a_rs, int64_t a_cs, \
        const float *B, int64_t ldb, float beta, float *C, int64_t ldc, const float *Cin,          \
        int64_t ldcin) {                                                                           \
        direct256_body(MRD, NVD, KU, M, N, K, alpha, A, a_rs, a_cs, B, ldb, beta, C, ldc, Cin, ldcin); \
    }
DIRECT256(6, 1, 2)
DIRECT256(6, 2, 1)
DIRECT256(2, 1, 4)
DIRECT256(2, 2, 2)
#undef DIRECT256

CK_TARGET_AVX2 CK_INLINE void dot256_body(const int NB, int64_t M, int64_t K, float alpha,
                                          const float *A, int64_t lda, const float *B, int64_t ldb,
                                          float beta, float *C, int64_t ldc) {
    for (int64_t i0 = 0; i0 < M; i0 += 3) {
        const float *arow[3];
        for (int i = 0; i < 3; i++) arow[i] = A + (i0 + i < M ? i0 + i : M - 1) * lda;
        __m256 acc[3][4];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < NB; j++) acc[i][j] = _mm256_setzero_ps();
        for (int64_t k = 0; k < K; k += 8) {
            __m256i m = mask8(K - k);
            __m256 bv[4];
            for (int j = 0; j < NB; j++) bv[j] = _mm256_maskload_ps(B + j * ldb + k, m);
            for (int i = 0; i < 3; i++) {
                __m256 ai = _mm256_maskload_ps(arow[i] + k, m);
                for (int j = 0; j < NB; j++) acc[i][j] = _mm256_fmadd_ps(ai, bv[j], acc[i][j]);
            }
        }
        for (int i = 0; i < 3 && i0 + i < M; i++)
            for (int j = 0; j < NB; j++) {
                float *p = C + (i0 + i) * ldc + j;
                float r = alpha * ck_hsum256(acc[i][j]);
                *p = beta == 0.0f ? r : r + beta * *p;
            }
    }
}

#define DOT256(NB)                                                                                 \
    CK_TARGET_AVX2 static void dot256_##NB(int64_t M, int64_t K, float alpha, const float *A,      \
                                           int64_t lda, const float *B, int64_t ldb, float beta,   \
                                           float *C, int64_t ldc) {                                \
        dot256_body(NB, M, K, alpha, A, lda, B, ldb, beta, C, ldc);                                \
    }
DOT256(1)
DOT256(2)
DOT256(3)
DOT256(4)
#undef DOT256

// Weight gradients of narrow layers, dW = dY^T X: C = op(A) B with op(A) = A^T, M and N both small
// and K (the rows) long. Each k adds the outer product of row k of A (M values, contiguous) and
// row k of B (N values) into C, so one of the two rows can be the vector (up to 8 lanes) and the
// other's R values the broadcasts: R FMAs per k, with nothing packed and no padding FMAs beyond the
// vector's empty lanes. The vector runs along the wider of M and N that fits 8 lanes (C is then
// stored transposed when it runs along M); KU accumulator sets over k hide the FMA latency.
enum { OUTER_MAX_R = 12, OUTER_MIN_K = 64 };

/// acc[r][lane] = sum over k of S[k*lds + r] * V[k*ldv + lane], for lanes [0, nv) (nv <= 8).
CK_TARGET_AVX2 CK_INLINE void outer256_body(const int R, const int KU, int64_t K, const float *V,
                                            int64_t ldv, int64_t nv, const float *S, int64_t lds,
                                            float acc_out[OUTER_MAX_R][8]) {
    __m256i mask = mask8(nv);
    __m256 acc[4][OUTER_MAX_R];
    for (int u = 0; u < KU; u++)
        for (int r = 0; r < R; r++) acc[u][r] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + KU <= K; k += KU)
        for (int u = 0; u < KU; u++) {
            __m256 v = _mm256_maskload_ps(V + (k + u) * ldv, mask);
            for (int r = 0; r < R; r++)
                acc[u][r] = _mm256_fmadd_ps(_mm256_broadcast_ss(S + (k + u) * lds + r), v, acc[u][r]);
        }
    for (; k < K; k++) {
        __m256 v = _mm256_maskload_ps(V + k * ldv, mask);
        for (int r = 0; r < R; r++)
            acc[0][r] = _mm256_fmadd_ps(_mm256_broadcast_ss(S + k * lds + r), v, acc[0][r]);
    }
    for (int r = 0; r < R; r++) {
        for (int u = 1; u < KU; u++) acc[0][r] = _mm256_add_ps(acc[0][r], acc[u][r]);
        _mm256_storeu_ps(acc_out[r], acc[0][r]);
    }
}

#define OUTER256(R, KU)                                                                            \
    CK_TARGET_AVX2 static void outer256_##R(int64_t K, const float *V, int64_t ldv, int64_t nv,   \
                                            const float *S, int64_t lds,                          \
                                            float acc_out[OUTER_MAX_R][8]) {                      \
        outer256_body(R, KU, K, V, ldv, nv, S, lds, acc_out);                                     \
    }
OUTER256(1, 4)
OUTER256(2, 4)
OUTER256(3, 4)
OUTER256(4, 3)
OUTER256(5, 2)
OUTER256(6, 2)
OUTER256(7, 1)
OUTER256(8, 1)
OUTER256(9, 1)
OUTER256(10, 1)
OUTER256(11, 1)
OUTER256(12, 1)
#undef OUTER256

/// Whether C = A^T B (M x N, K long) takes the outer-product kernel.
static int outer_fits(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K) {
    if (!trans_a || trans_b || K < OUTER_MIN_K) return 0;
    return (M <= 8 && N <= OUTER_MAX_R) || (N <= 8 && M <= OUTER_MAX_R);
}

CK_TARGET_AVX2 static void outer_avx2(int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                                      int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                                      int64_t ldc) {
    static void (*const kernels[OUTER_MAX_R])(int64_t, const float *, int64_t, int64_t, const float *,
                                              int64_t, float[OUTER_MAX_R][8]) = {
        outer256_1, outer256_2, outer256_3, outer256_4, outer256_5, outer256_6,
        outer256_7, outer256_8, outer256_9, outer256_10, outer256_11, outer256_12};
    // The vector along M (rows of A) when M fits 8 lanes and is the wider one, else along N.
    int along_m = M <= 8 && (M >= N || N > 8);
    int64_t nv = along_m ? M : N, R = along_m ? N : M;
    _Alignas(32) float acc[OUTER_MAX_R][8];
    if (along_m) kernels[R - 1](K, A, lda, nv, B, ldb, acc);
    else kernels[R - 1](K, B, ldb, nv, A, lda, acc);
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            float v = alpha * (along_m ? acc[j][i] : acc[i][j]);
            C[i * ldc + j] = beta == 0.0f ? v : v + beta * C[i * ldc + j];
        }
}

/// C = alpha * op(A) * B + beta * C for rows of exactly 8 columns, as direct256_body with one vector
/// of columns and KU = 2 (the same arithmetic: even and odd k in two sums, added, times alpha, plus
/// beta times the old value in one rounding), for KK <= 16 rows of B held in registers, one row of C
/// at a time (as rows512: no tile set-up per 6 rows; beta = 0 or ldcin = 0 only).
CK_TARGET_AVX2 CK_INLINE void rows256_body(const int KK, int64_t M, float alpha, const float *A, int64_t a_rs,
                                           int64_t a_cs, const float *B, int64_t ldb, float beta, float *C,
                                           int64_t ldc, const float *Cin) {
    __m256 b[16];
    for (int k = 0; k < KK; k++) b[k] = _mm256_loadu_ps(B + k * ldb);
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    __m256 old = beta != 0.0f ? _mm256_loadu_ps(Cin) : _mm256_setzero_ps();
    for (int64_t i = 0; i < M; i++) {
        const float *a = A + i * a_rs;
        __m256 even = _mm256_setzero_ps(), odd = _mm256_setzero_ps();
        for (int k = 0; k + 2 <= KK; k += 2) {
            even = _mm256_fmadd_ps(_mm256_broadcast_ss(a + k * a_cs), b[k], even);
            odd = _mm256_fmadd_ps(_mm256_broadcast_ss(a + (k + 1) * a_cs), b[k + 1], odd);
        }
        if (KK % 2) even = _mm256_fmadd_ps(_mm256_broadcast_ss(a + (KK - 1) * a_cs), b[KK - 1], even);
        __m256 r = _mm256_mul_ps(va, _mm256_add_ps(even, odd));
        if (beta != 0.0f) r = _mm256_fmadd_ps(vb, old, r);
        _mm256_storeu_ps(C + i * ldc, r);
    }
}

#define ROWS256(KK)                                                                                \
    CK_TARGET_AVX2 static void rows256_##KK(int64_t M, float alpha, const float *A, int64_t a_rs,  \
                                            int64_t a_cs, const float *B, int64_t ldb, float beta, \
                                            float *C, int64_t ldc, const float *Cin) {             \
        rows256_body(KK, M, alpha, A, a_rs, a_cs, B, ldb, beta, C, ldc, Cin);                      \
    }
EACH_K(ROWS256)
#undef ROWS256

/// rows256 for K = 1 ... 16, indexed by K - 1.
#define ROWS256_ENTRY(KK) rows256_##KK,
static void (*const rows256[])(int64_t, float, const float *, int64_t, int64_t, const float *, int64_t, float, float *,
                               int64_t, const float *) = {
    EACH_K(ROWS256_ENTRY)};
#undef ROWS256_ENTRY

/// The direct and dot products; the direct ones read C's old values (beta != 0) from Cin, row stride
/// ldcin: C itself, or for ck_linear_forward one bias row for every row (ldcin = 0). The dot path
/// reads C (callers pass Cin = C, ldcin = ldc to it).
static void small_avx2(gemm_path path, int trans_a, int trans_b, int64_t M, int64_t N, int64_t K,
                       float alpha, const float *A, int64_t lda, const float *B, int64_t ldb,
                       float beta, float *C, int64_t ldc, const float *Cin, int64_t ldcin) {
    if (path == PATH_DOT) {
        void (*dot[])(int64_t, int64_t, float, const float *, int64_t, const float *, int64_t, float,
                      float *, int64_t) = {dot256_1, dot256_2, dot256_3, dot256_4};
        dot[N - 1](M, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    if (trans_b) {
        B = transpose_small_b(K, N, B, ldb);
        ldb = N;
    }
    int64_t a_rs = trans_a ? 1 : lda, a_cs = trans_a ? lda : 1;
    if (M < 6 || (M <= 16 && K >= 64)) {
        if (N <= 8) direct256_2x1x4(M, N, K, alpha, A, a_rs, a_cs, B, ldb, beta, C, ldc, Cin, ldcin);
        else direct256_2x2x2(M, N, K, alpha, A, a_rs, a_cs, B, ldb, beta, C, ldc, Cin, ldcin);
    } else if (N == 8 && K <= 16 && (beta == 0.0f || ldcin == 0)) {
        rows256[K - 1](M, alpha, A, a_rs, a_cs, B, ldb, beta, C, ldc, Cin);
    } else if (N <= 8) {
        direct256_6x1x2(M, N, K, alpha, A, a_rs, a_cs, B, ldb, beta, C, ldc, Cin, ldcin);
    } else {
        direct256_6x2x1(M, N, K, alpha, A, a_rs, a_cs, B, ldb, beta, C, ldc, Cin, ldcin);
    }
}

static void sgemm_avx2(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                       const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                       float *C, int64_t ldc) {
    if (outer_fits(trans_a, trans_b, M, N, K)) {
        outer_avx2(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    gemm_path path = choose_path(trans_a, trans_b, M, N, K, 16);
    if (path != PATH_PACKED)
        small_avx2(path, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, C, ldc);
    else
        sgemm_packed(&blocking_avx2, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// MARK: - AVX-512: 12 x 32 micro-kernel (24 accumulators + 2 B vectors of 32 zmm)
// Measured on Zen 5 against 14x32, 8x48 and 6x64 at several MC/KC: 12x32 with KC = 512 was the
// fastest at 1024^3 and at the trainer's 512-wide layers (long KC halves the passes over C).

enum { MR5 = 12, NV5 = 2, NR5 = 16 * NV5 };

/// Mask of the first n lanes, n clamped to [0, 16].
static inline __mmask16 mask16(int64_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : ck_tail_mask16(n);
}

CK_TARGET_AVX512 static void ukernel_avx512(int64_t kc, const float *restrict a,
                                            const float *restrict b, float *c, int64_t ldc,
                                            float alpha, float beta, int64_t m, int64_t n) {
    __m512 acc[MR5][NV5];
    for (int i = 0; i < MR5; i++)
        for (int v = 0; v < NV5; v++) acc[i][v] = _mm512_setzero_ps();
    for (int64_t k = 0; k < kc; k++, a += MR5, b += NR5) {
        __m512 bv[NV5];
        for (int v = 0; v < NV5; v++) bv[v] = _mm512_load_ps(b + 16 * v);
        for (int i = 0; i < MR5; i++) {
            __m512 ai = _mm512_set1_ps(a[i]);
            for (int v = 0; v < NV5; v++) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
        }
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    __mmask16 mask[NV5];
    for (int v = 0; v < NV5; v++) mask[v] = mask16(n - 16 * v);
    for (int i = 0; i < MR5; i++) {
        if (i >= m) break;
        for (int v = 0; v < NV5; v++) {
            float *p = c + i * ldc + 16 * v;
            __m512 r = _mm512_mul_ps(va, acc[i][v]);
            if (beta != 0.0f) r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mask[v], p), r);
            _mm512_mask_storeu_ps(p, mask[v], r);
        }
    }
}

/// Interleaves `rows` (<= 16) rows of 16 floats: dst[t*dst_stride + r] = src[r*src_stride + t]
/// for t < 16, r < rows, as a 16x16 transpose in registers (lanes past `rows` are not written).
/// Packing A (not transposed) and B^T is this interleave, which element by element took 4-9% of
/// a 512..1024-sized product.
CK_TARGET_AVX512 static inline void interleave16_avx512(const float *src, int64_t src_stride,
                                                        int rows, float *dst, int64_t dst_stride) {
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++) r[i] = i < rows ? _mm512_loadu_ps(src + i * src_stride) : _mm512_setzero_ps();
    // Pairs, then quads of rows: afterwards lane group L of r[4g + j] is column 4L + j of rows 4g..4g+3.
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4)
        for (int h = 0; h < 2; h++) {
            __m512d lo = _mm512_castps_pd(t[i + h]), hi = _mm512_castps_pd(t[i + h + 2]);
            r[i + 2 * h] = _mm512_castpd_ps(_mm512_unpacklo_pd(lo, hi));
            r[i + 2 * h + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(lo, hi));
        }
    // Then a 4x4 transpose of 128-bit lane groups across r[j], r[4+j], r[8+j], r[12+j].
    __mmask16 mask = mask16(rows);
    for (int j = 0; j < 4; j++) {
        __m512 u0 = _mm512_shuffle_f32x4(r[j], r[4 + j], _MM_SHUFFLE(1, 0, 1, 0));
        __m512 u1 = _mm512_shuffle_f32x4(r[j], r[4 + j], _MM_SHUFFLE(3, 2, 3, 2));
        __m512 u2 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], _MM_SHUFFLE(1, 0, 1, 0));
        __m512 u3 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], _MM_SHUFFLE(3, 2, 3, 2));
        _mm512_mask_storeu_ps(dst + (0 + j) * dst_stride, mask, _mm512_shuffle_f32x4(u0, u2, _MM_SHUFFLE(2, 0, 2, 0)));
        _mm512_mask_storeu_ps(dst + (4 + j) * dst_stride, mask, _mm512_shuffle_f32x4(u0, u2, _MM_SHUFFLE(3, 1, 3, 1)));
        _mm512_mask_storeu_ps(dst + (8 + j) * dst_stride, mask, _mm512_shuffle_f32x4(u1, u3, _MM_SHUFFLE(2, 0, 2, 0)));
        _mm512_mask_storeu_ps(dst + (12 + j) * dst_stride, mask, _mm512_shuffle_f32x4(u1, u3, _MM_SHUFFLE(3, 1, 3, 1)));
    }
}

// Full panels by vector code (plain loops compile to a memcpy call per k or to scalar gathers);
// the partial last panel by pack_a_tail / pack_b_tail.
CK_TARGET_AVX512 static void pack_a_avx512(int64_t mc, int64_t kc, const float *A, int64_t rs,
                                           int64_t cs, float *restrict dst) {
    int64_t full = mc / MR5 * MR5;
    __mmask16 panel = mask16(MR5);
    for (int64_t i0 = 0; i0 < full; i0 += MR5, dst += MR5 * kc) {
        const float *src = A + i0 * rs;
        if (rs == 1) {
            // A^T: each k is a contiguous run of MR5 rows.
            for (int64_t k = 0; k < kc; k++)
                _mm512_mask_storeu_ps(dst + k * MR5, panel, _mm512_maskz_loadu_ps(panel, src + k * cs));
            continue;
        }
        int64_t k = 0;
        for (; k + 16 <= kc; k += 16) interleave16_avx512(src + k, rs, MR5, dst + k * MR5, MR5);
        for (; k < kc; k++)
            for (int i = 0; i < MR5; i++) dst[k * MR5 + i] = src[i * rs + k];
    }
    if (full < mc) pack_a_tail(MR5, mc - full, kc, A + full * rs, rs, cs, dst);
}

CK_TARGET_AVX512 static void pack_b_avx512(int64_t kc, int64_t nc, const float *B, int64_t rs,
                                           int64_t cs, float *restrict dst) {
    int64_t full = nc / NR5 * NR5;
    for (int64_t j0 = 0; j0 < full; j0 += NR5, dst += NR5 * kc) {
        const float *src = B + j0 * cs;
        if (cs == 1) {
            // B not transposed: each k is a contiguous run of NR5 columns.
            for (int64_t k = 0; k < kc; k++)
                for (int v = 0; v < NV5; v++)
                    _mm512_store_ps(dst + k * NR5 + 16 * v, _mm512_loadu_ps(src + k * rs + 16 * v));
            continue;
        }
        int64_t k = 0;
        for (; k + 16 <= kc; k += 16)
            for (int h = 0; h < NR5; h += 16)
                interleave16_avx512(src + h * cs + k, cs, 16, dst + k * NR5 + h, NR5);
        for (; k < kc; k++)
            for (int j = 0; j < NR5; j++) dst[k * NR5 + j] = src[j * cs + k];
    }
    if (full < nc) pack_b_tail(NR5, kc, nc - full, B + full * cs, rs, cs, dst);
}

static const gemm_blocking blocking_avx512 = {
    .MR = MR5, .NR = NR5, .MC = 96, .KC = 512, .NC = 4096,
    .kernel = ukernel_avx512, .pack_a = pack_a_avx512, .pack_b = pack_b_avx512,
};

// MARK: - AVX-512 small products

/// C = alpha * op(A) * B + beta * C with op(A)(i,k) = A[i*a_rs + k*a_cs] and B row-major (ldb).
/// Tiles of MRD rows x NVD vectors; KU independent accumulator sets over k hide the FMA latency
/// when the tile is small. The last row tile re-reads row M-1 for its missing rows (no branches
/// in the k loop, no reads past A) and does not store them.
CK_TARGET_AVX512 CK_INLINE void direct512_body(const int MRD, const int NVD, const int KU,
                                               int64_t M, int64_t N, int64_t K, float alpha,
                                               const float *A, int64_t a_rs, int64_t a_cs,
                                               const float *B, int64_t ldb, float beta, float *C,
                                               int64_t ldc, const float *Cin, int64_t ldcin) {
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    // Row tiles outermost: C is written in address order (column strips of C write far slower
    // when it spills out of L2).
    for (int64_t i0 = 0; i0 < M; i0 += MRD) {
        for (int64_t j0 = 0; j0 < N; j0 += 16 * NVD) {
            __mmask16 mask[4];
            for (int v = 0; v < NVD; v++) mask[v] = mask16(N - j0 - 16 * v);
            const float *arow[16];
            for (int i = 0; i < MRD; i++) arow[i] = A + (i0 + i < M ? i0 + i : M - 1) * a_rs;
            __m512 acc[4][16][4];
            for (int u = 0; u < KU; u++)
                for (int i = 0; i < MRD; i++)
                    for (int v = 0; v < NVD; v++) acc[u][i][v] = _mm512_setzero_ps();
            int64_t k = 0;
            for (; k + KU <= K; k += KU)
                for (int u = 0; u < KU; u++) {
                    __m512 bv[4];
                    for (int v = 0; v < NVD; v++)
                        bv[v] = _mm512_maskz_loadu_ps(mask[v], B + (k + u) * ldb + j0 + 16 * v);
                    for (int i = 0; i < MRD; i++) {
                        __m512 ai = _mm512_set1_ps(arow[i][(k + u) * a_cs]);
                        for (int v = 0; v < NVD; v++) acc[u][i][v] = _mm512_fmadd_ps(ai, bv[v], acc[u][i][v]);
                    }
                }
            for (; k < K; k++)
                for (int v = 0; v < NVD; v++) {
                    __m512 bk = _mm512_maskz_loadu_ps(mask[v], B + k * ldb + j0 + 16 * v);
                    for (int i = 0; i < MRD; i++)
                        acc[0][i][v] = _mm512_fmadd_ps(_mm512_set1_ps(arow[i][k * a_cs]), bk, acc[0][i][v]);
                }
            for (int u = 1; u < KU; u++)
                for (int i = 0; i < MRD; i++)
                    for (int v = 0; v < NVD; v++) acc[0][i][v] = _mm512_add_ps(acc[0][i][v], acc[u][i][v]);
            // Narrow rows: a masked load of row i+1 overlaps the masked store to row i, and such a
            // load waits for the store to retire (no forwarding). So C's old values are all read
            // (into a stack tile) before the first store.
            _Alignas(64) float old_c[16][64];
            if (beta != 0.0f)
                for (int i = 0; i < MRD && i0 + i < M; i++)
                    for (int v = 0; v < NVD; v++)
                        _mm512_store_ps(old_c[i] + 16 * v,
                                        _mm512_maskz_loadu_ps(mask[v], Cin + (i0 + i) * ldcin + j0 + 16 * v));
            for (int i = 0; i < MRD && i0 + i < M; i++)
                for (int v = 0; v < NVD; v++) {
                    __m512 r = _mm512_mul_ps(va, acc[0][i][v]);
                    if (beta != 0.0f) r = _mm512_fmadd_ps(vb, _mm512_load_ps(old_c[i] + 16 * v), r);
                    _mm512_mask_storeu_ps(C + (i0 + i) * ldc + j0 + 16 * v, mask[v], r);
                }
        }
    }
}

#define DIRECT512(MRD, NVD, KU)                                                                    \
    CK_TARGET_AVX512 static void direct512_##MRD##x##NVD##x##KU(                                   \
        int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t a_rs, int64_t a_cs, \
        const float *B, int64_t ldb, float beta, float *C, int64_t ldc, const float *Cin,          \
        int64_t ldcin) {                                                                           \
        direct512_body(MRD, NVD, KU, M, N, K, alpha, A, a_rs, a_cs, B, ldb, beta, C, ldc, Cin, ldcin); \
    }
DIRECT512(16, 1, 1)
DIRECT512(6, 1, 4)
DIRECT512(6, 2, 2)
DIRECT512(8, 3, 1)
DIRECT512(6, 4, 1)
DIRECT512(2, 1, 4)
DIRECT512(2, 2, 4)
DIRECT512(2, 4, 2)
#undef DIRECT512

/// C = alpha * op(A) * B + beta * C, as direct512_body with one vector of columns and KU = 1 (the
/// same arithmetic: each row's products added over k in order, times alpha, plus beta times the old
/// value in one rounding), for KK <= 16 rows of B: those are held in registers for the whole call and
/// C is made one row at a time, without a tile's set-up per 16 rows (the seed's narrow products have
/// 2 to 9 of them). Only where C's old value is not C itself (beta = 0, or the one bias row, ldcin =
/// 0), so no row's load waits for the previous row's store.
CK_TARGET_AVX512 CK_INLINE void rows512_body(const int KK, int64_t M, int64_t N, float alpha, const float *A,
                                             int64_t a_rs, int64_t a_cs, const float *B, int64_t ldb, float beta,
                                             float *C, int64_t ldc, const float *Cin) {
    __mmask16 mask = mask16(N);
    __m512 b[16];
    for (int k = 0; k < KK; k++) b[k] = _mm512_maskz_loadu_ps(mask, B + k * ldb);
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    __m512 old = beta != 0.0f ? _mm512_maskz_loadu_ps(mask, Cin) : _mm512_setzero_ps();
    for (int64_t i = 0; i < M; i++) {
        const float *a = A + i * a_rs;
        __m512 acc = _mm512_setzero_ps();
        for (int k = 0; k < KK; k++) acc = _mm512_fmadd_ps(_mm512_set1_ps(a[k * a_cs]), b[k], acc);
        __m512 r = _mm512_mul_ps(va, acc);
        if (beta != 0.0f) r = _mm512_fmadd_ps(vb, old, r);
        _mm512_mask_storeu_ps(C + i * ldc, mask, r);
    }
}

#define ROWS512(KK)                                                                                 \
    CK_TARGET_AVX512 static void rows512_##KK(int64_t M, int64_t N, float alpha, const float *A,   \
                                              int64_t a_rs, int64_t a_cs, const float *B,          \
                                              int64_t ldb, float beta, float *C, int64_t ldc,      \
                                              const float *Cin) {                                  \
        rows512_body(KK, M, N, alpha, A, a_rs, a_cs, B, ldb, beta, C, ldc, Cin);                   \
    }
EACH_K(ROWS512)
#undef ROWS512

/// rows512 for K = 1 ... 16, indexed by K - 1.
#define ROWS512_ENTRY(KK) rows512_##KK,
static void (*const rows512[])(int64_t, int64_t, float, const float *, int64_t, int64_t, const float *, int64_t,
                               float, float *, int64_t, const float *) = {
    EACH_K(ROWS512_ENTRY)};
#undef ROWS512_ENTRY

/// rows512 for rows of C narrower than 8 lanes: G = 2, 4 or 8 lanes a row (N rounded up), so 16 / G
/// rows of C in one vector, when A's rows are contiguous (lda = K) and C's too (ldc = N) and the
/// vector's rows' K values of A fit two vectors. Each k takes one permute of those values (row p's
/// a[k] into row p's lanes) and one FMA for all the vector's rows, instead of a broadcast and an FMA
/// per row. The same arithmetic as rows512 lane for lane (each row's products added over k in order
/// from zero, times alpha, plus beta times the old value, b's row, in one rounding), so the same bits.
static int packed512_fits(int trans_a, int64_t lda, int64_t ldc, int64_t N, int64_t K) {
    int64_t lanes = N <= 2 ? 2 : N <= 4 ? 4 : 8;
    return !trans_a && N < 8 && lda == K && ldc == N && (16 / lanes) * K <= 32;
}

CK_TARGET_AVX512 CK_INLINE void packed512_body(const int K, int64_t M, int64_t N, float alpha, const float *A,
                                              const float *B, int64_t ldb, float beta, float *C, const float *Cin) {
    const int64_t lanes = N <= 2 ? 2 : N <= 4 ? 4 : 8, per = 16 / lanes;
    _Alignas(64) float bk[16][16], old[16];
    _Alignas(64) int32_t pick[16][16], squeeze[16];
    for (int64_t l = 0; l < 16; l++) {
        int64_t p = l / lanes, j = l % lanes;
        for (int64_t k = 0; k < K; k++) {
            bk[k][l] = j < N ? B[k * ldb + j] : 0.0f;
            pick[k][l] = (int32_t)(p * K + k);
        }
        old[l] = j < N && beta != 0.0f ? Cin[j] : 0.0f;
        squeeze[l] = (int32_t)(l / N * lanes + l % N);  // C's lane l: row l / N, column l % N
    }
    __m512 b[16];
    __m512i at[16];
    for (int64_t k = 0; k < K; k++) {
        b[k] = _mm512_load_ps(bk[k]);
        at[k] = _mm512_load_si512(pick[k]);
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta), vold = _mm512_load_ps(old);
    __m512i compact = _mm512_load_si512(squeeze);
    for (int64_t i = 0; i < M; i += per) {
        int64_t rows = M - i < per ? M - i : per;
        const float *a = A + i * K;
        __m512 lo = _mm512_maskz_loadu_ps(mask16(rows * K), a), hi = _mm512_maskz_loadu_ps(mask16(rows * K - 16), a + 16);
        __m512 acc = _mm512_setzero_ps();
        for (int64_t k = 0; k < K; k++) acc = _mm512_fmadd_ps(_mm512_permutex2var_ps(lo, at[k], hi), b[k], acc);
        __m512 r = _mm512_mul_ps(va, acc);
        if (beta != 0.0f) r = _mm512_fmadd_ps(vb, vold, r);
        if (N != lanes) r = _mm512_permutexvar_ps(compact, r);
        _mm512_mask_storeu_ps(C + i * N, mask16(rows * N), r);
    }
}

#define PACKED512(KK)                                                                             \
    CK_TARGET_AVX512 static void packed512_##KK(int64_t M, int64_t N, float alpha, const float *A, \
                                                const float *B, int64_t ldb, float beta, float *C, \
                                                const float *Cin) {                                \
        packed512_body(KK, M, N, alpha, A, B, ldb, beta, C, Cin);                                 \
    }
EACH_K(PACKED512)
#undef PACKED512

/// packed512 for K = 1 ... 16, indexed by K - 1.
#define PACKED512_ENTRY(KK) packed512_##KK,
static void (*const packed512[])(int64_t, int64_t, float, const float *, const float *, int64_t, float, float *,
                                 const float *) = {
    EACH_K(PACKED512_ENTRY)};
#undef PACKED512_ENTRY

/// C = alpha * A * B^T + beta * C for NB (<= 4) columns: 4 rows x NB dot products along K at once.
CK_TARGET_AVX512 CK_INLINE void dot512_body(const int NB, int64_t M, int64_t K, float alpha,
                                            const float *A, int64_t lda, const float *B,
                                            int64_t ldb, float beta, float *C, int64_t ldc) {
    for (int64_t i0 = 0; i0 < M; i0 += 4) {
        const float *arow[4];
        for (int i = 0; i < 4; i++) arow[i] = A + (i0 + i < M ? i0 + i : M - 1) * lda;
        __m512 acc[4][4];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < NB; j++) acc[i][j] = _mm512_setzero_ps();
        for (int64_t k = 0; k < K; k += 16) {
            __mmask16 m = mask16(K - k);
            __m512 bv[4];
            for (int j = 0; j < NB; j++) bv[j] = _mm512_maskz_loadu_ps(m, B + j * ldb + k);
            for (int i = 0; i < 4; i++) {
                __m512 ai = _mm512_maskz_loadu_ps(m, arow[i] + k);
                for (int j = 0; j < NB; j++) acc[i][j] = _mm512_fmadd_ps(ai, bv[j], acc[i][j]);
            }
        }
        for (int i = 0; i < 4 && i0 + i < M; i++)
            for (int j = 0; j < NB; j++) {
                float *p = C + (i0 + i) * ldc + j;
                float r = alpha * _mm512_reduce_add_ps(acc[i][j]);
                *p = beta == 0.0f ? r : r + beta * *p;
            }
    }
}

#define DOT512(NB)                                                                                 \
    CK_TARGET_AVX512 static void dot512_##NB(int64_t M, int64_t K, float alpha, const float *A,    \
                                             int64_t lda, const float *B, int64_t ldb, float beta, \
                                             float *C, int64_t ldc) {                              \
        dot512_body(NB, M, K, alpha, A, lda, B, ldb, beta, C, ldc);                                \
    }
DOT512(1)
DOT512(2)
DOT512(3)
DOT512(4)
#undef DOT512

/// As small_avx2 (Cin, ldcin likewise).
static void small_avx512(gemm_path path, int trans_a, int trans_b, int64_t M, int64_t N,
                         int64_t K, float alpha, const float *A, int64_t lda, const float *B,
                         int64_t ldb, float beta, float *C, int64_t ldc, const float *Cin,
                         int64_t ldcin) {
    if (path == PATH_DOT) {
        void (*dot[])(int64_t, int64_t, float, const float *, int64_t, const float *, int64_t, float,
                      float *, int64_t) = {dot512_1, dot512_2, dot512_3, dot512_4};
        dot[N - 1](M, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    // Rows of C of 8 columns, and the weight gradients' reductions over k with at most 8 columns,
    // run faster in 8-lane tiles than in half-empty 16-lane ones (measured on Zen 5).
    if (N == 8 || (trans_a && N <= 8)) {
        small_avx2(path, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, Cin, ldcin);
        return;
    }
    if (trans_b) {
        B = transpose_small_b(K, N, B, ldb);
        ldb = N;
    }
    int64_t a_rs = trans_a ? 1 : lda, a_cs = trans_a ? lda : 1;
    int64_t nv = (N + 15) / 16;
    if (M < 6 || (M <= 16 && K >= 64)) {
        // Few rows: 2-row tiles with split accumulators over k, so no FMA goes to a padding row.
        if (nv == 1) direct512_2x1x4(M, N, K, alpha, A, a_rs, a_cs, B, ldb, beta, C, ldc, Cin, ldcin);
        else if (nv == 2) direct512_2x2x4(M, N, K, alpha, A, a_rs, a_cs, B, ldb, beta, C, ldc, Cin, ldcin);
        else direct512_2x4x2(M, N, K, alpha, A, a_rs, a_cs, B, ldb, beta, C, ldc, Cin, ldcin);
    } else if (nv == 1) {
        // Tiles over many rows of A at once run slower at long K than fewer rows with split
        // accumulators (measured on Zen 5).
        if (K >= 32) direct512_6x1x4(M, N, K, alpha, A, a_rs, a_cs, B, ldb, beta, C, ldc, Cin, ldcin);
        else if (K <= 16 && (beta == 0.0f || ldcin == 0) && packed512_fits(trans_a, lda, ldc, N, K))
            packed512[K - 1](M, N, alpha, A, B, ldb, beta, C, Cin);
        else if (K <= 16 && (beta == 0.0f || ldcin == 0)) rows512[K - 1](M, N, alpha, A, a_rs, a_cs, B, ldb, beta, C, ldc, Cin);
        else direct512_16x1x1(M, N, K, alpha, A, a_rs, a_cs, B, ldb, beta, C, ldc, Cin, ldcin);
    } else if (nv == 2) {
        direct512_6x2x2(M, N, K, alpha, A, a_rs, a_cs, B, ldb, beta, C, ldc, Cin, ldcin);
    } else if (nv == 3) {
        direct512_8x3x1(M, N, K, alpha, A, a_rs, a_cs, B, ldb, beta, C, ldc, Cin, ldcin);
    } else {
        direct512_6x4x1(M, N, K, alpha, A, a_rs, a_cs, B, ldb, beta, C, ldc, Cin, ldcin);
    }
}

static void sgemm_avx512(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                         const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                         float *C, int64_t ldc) {
    if (outer_fits(trans_a, trans_b, M, N, K)) {
        outer_avx2(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    gemm_path path = choose_path(trans_a, trans_b, M, N, K, 48);
    if (path != PATH_PACKED)
        small_avx512(path, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, C, ldc);
    else
        sgemm_packed(&blocking_avx512, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

#endif

// MARK: - Public entry points

void ck_sgemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
              const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
              int64_t ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0 || alpha == 0.0f) {
        // Nothing to multiply: only the beta scaling remains (A and B are not read).
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++)
                C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
        return;
    }
    CK_DISPATCH(sgemm, (trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc));
}

// MARK: - Linear layer

// Plain loops the compiler vectorises for each ISA. Rows narrower than NARROW_OUT channels (the seed's
// widths are 2 to 9) would waste most of each vector, so those run flat over blocks of PATTERN_ROWS
// rows, whose length is a multiple of 16 floats. Each column sum adds in a fixed order, so db is the
// same for every ISA.
enum { PATTERN_ROWS = 16, NARROW_OUT = 32 };

CK_INLINE void bias_rows_body(float *restrict Y, const float *restrict b, int64_t n, int64_t out) {
    int64_t r = 0;
    if (out < NARROW_OUT && n >= PATTERN_ROWS) {
        float pattern[PATTERN_ROWS * NARROW_OUT];
        const int64_t block = PATTERN_ROWS * out;
        for (int64_t j = 0; j < block; j++) pattern[j] = b[j % out];
        for (; r + PATTERN_ROWS <= n; r += PATTERN_ROWS) {
            float *restrict y = Y + r * out;
            for (int64_t j = 0; j < block; j++) y[j] = pattern[j];
        }
    }
    for (; r < n; r++)
        for (int64_t j = 0; j < out; j++) Y[r * out + j] = b[j];
}
CK_VERSIONS(bias_rows, (float *restrict Y, const float *restrict b, int64_t n, int64_t out),
            (Y, b, n, out))

CK_INLINE void column_sums_body(const float *restrict dY, float *restrict db, int64_t n,
                                int64_t out) {
    int64_t r = 0;
    if (out < NARROW_OUT && n >= PATTERN_ROWS) {
        // Only the block's accumulators are cleared, and they are added without a division per
        // element (callers sum a block of 512 rows at a time, so this set-up counts).
        float acc[PATTERN_ROWS * NARROW_OUT];
        const int64_t block = PATTERN_ROWS * out;
        memset(acc, 0, sizeof(float) * (size_t)block);
        for (; r + PATTERN_ROWS <= n; r += PATTERN_ROWS) {
            const float *restrict g = dY + r * out;
            for (int64_t j = 0; j < block; j++) acc[j] += g[j];
        }
        for (int64_t t = 0; t < PATTERN_ROWS; t++)
            for (int64_t j = 0; j < out; j++) db[j] += acc[t * out + j];
    }
    for (; r < n; r++)
        for (int64_t j = 0; j < out; j++) db[j] += dY[r * out + j];
}
CK_VERSIONS(column_sums, (const float *restrict dY, float *restrict db, int64_t n, int64_t out),
            (dY, db, n, out))

/// Y = X W^T + b through the direct small products, which read b as the old value of every row of Y
/// (row stride 0) and add it in the one rounding they give C's old value: the same bits as copying b
/// into every row first, without that pass. 0 where ck_sgemm would take another path.
static int linear_forward_direct(const float *X, const float *W, const float *b, float *Y, int64_t n,
                                 int64_t in, int64_t out) {
#if CK_HAVE_X86
    if (n <= 0 || in <= 0 || out <= 0 || outer_fits(0, 1, n, out, in)) return 0;
    switch (ck_isa_active()) {
    case CK_ISA_AVX512:
        if (choose_path(0, 1, n, out, in, 48) != PATH_DIRECT) return 0;
        small_avx512(PATH_DIRECT, 0, 1, n, out, in, 1.0f, X, in, W, in, 1.0f, Y, out, b, 0);
        return 1;
    case CK_ISA_AVX2:
        if (choose_path(0, 1, n, out, in, 16) != PATH_DIRECT) return 0;
        small_avx2(PATH_DIRECT, 0, 1, n, out, in, 1.0f, X, in, W, in, 1.0f, Y, out, b, 0);
        return 1;
    default: return 0;
    }
#else
    (void)X, (void)W, (void)b, (void)Y, (void)n, (void)in, (void)out;
    return 0;
#endif
}

void ck_linear_forward(const float *X, const float *W, const float *b, float *Y, int64_t n,
                       int64_t in, int64_t out) {
    if (b && linear_forward_direct(X, W, b, Y, n, in, out)) return;
    if (b) {
        // Y starts as the bias in every row and the product accumulates onto it (beta = 1).
        CK_DISPATCH(bias_rows, (Y, b, n, out));
        ck_sgemm(0, 1, n, out, in, 1.0f, X, in, W, in, 1.0f, Y, out);
    } else {
        ck_sgemm(0, 1, n, out, in, 1.0f, X, in, W, in, 0.0f, Y, out);
    }
}

void ck_linear_backward(const float *X, const float *W, const float *dY, float *dX, float *dW,
                        float *db, int64_t n, int64_t in, int64_t out) {
    if (dX) ck_sgemm(0, 0, n, in, out, 1.0f, dY, out, W, in, 0.0f, dX, in);
    if (!dW) return;
    ck_sgemm(1, 0, out, in, n, 1.0f, dY, out, X, in, 1.0f, dW, in);
    if (db) CK_DISPATCH(column_sums, (dY, db, n, out));
}
