// A reusable barrier for the worker pool: spin briefly (a training step passes two barriers per
// BatchNorm layer, so waits are short when every thread has a core), then sleep on a futex so
// oversubscribed runs (more threads than cores) do not burn the cores the others need.
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "internal.h"

static void futex_wait(atomic_uint *addr, unsigned expected) {
    syscall(SYS_futex, (unsigned *)addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake_all(atomic_uint *addr) {
    syscall(SYS_futex, (unsigned *)addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

struct ck_barrier {
    _Alignas(64) atomic_uint arrived;
    _Alignas(64) atomic_uint generation;  // own cache line: waiters poll it while others arrive
    int parties;
    int spin;
};

ck_barrier *ck_barrier_create(int parties, int spin) {
    ck_barrier *b = aligned_alloc(64, sizeof(ck_barrier));
    if (!b) return NULL;
    atomic_init(&b->arrived, 0);
    atomic_init(&b->generation, 0);
    b->parties = parties;
    b->spin = spin;
    return b;
}

void ck_barrier_destroy(ck_barrier *b) { free(b); }

void ck_barrier_wait(ck_barrier *b) {
    unsigned gen = atomic_load_explicit(&b->generation, memory_order_acquire);
    if (atomic_fetch_add_explicit(&b->arrived, 1, memory_order_acq_rel) + 1 == (unsigned)b->parties) {
        atomic_store_explicit(&b->arrived, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&b->generation, 1, memory_order_release);
        futex_wake_all(&b->generation);
        return;
    }
    for (int i = 0; i < b->spin; i++) {
        if (atomic_load_explicit(&b->generation, memory_order_acquire) != gen) return;
#if CK_HAVE_X86
        _mm_pause();
#endif
    }
    while (atomic_load_explicit(&b->generation, memory_order_acquire) == gen) futex_wait(&b->generation, gen);
}
