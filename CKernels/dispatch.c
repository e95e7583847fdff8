// Run-time CPU dispatch: detect once, let tests force a lower level.
#include <stdatomic.h>
#include "internal.h"

static ck_isa detect(void) {
#if CK_HAVE_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        return CK_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CK_ISA_AVX2;
#endif
    return CK_ISA_SCALAR;
}

// -1 until first use. Threads may detect concurrently; they all store the same value.
static _Atomic int best_isa = -1;
// Per thread, so a test that forces a version on its thread does not change the kernels other
// threads (other tests, a training run's workers) are using.
static _Thread_local int active_isa = -1;

ck_isa ck_isa_best(void) {
    int best = atomic_load_explicit(&best_isa, memory_order_relaxed);
    if (best < 0) {
        best = (int)detect();
        atomic_store_explicit(&best_isa, best, memory_order_relaxed);
    }
    return (ck_isa)best;
}

int ck_isa_supported(ck_isa isa) { return (int)isa <= (int)ck_isa_best(); }

ck_isa ck_isa_active(void) {
    if (active_isa < 0) active_isa = (int)ck_isa_best();
    return (ck_isa)active_isa;
}

ck_isa ck_isa_force(ck_isa isa) {
    active_isa = ck_isa_supported(isa) ? (int)isa : (int)ck_isa_best();
    return (ck_isa)active_isa;
}

const char *ck_isa_name(ck_isa isa) {
    switch (isa) {
    case CK_ISA_AVX512: return "avx512";
    case CK_ISA_AVX2: return "avx2";
    default: return "scalar";
    }
}
