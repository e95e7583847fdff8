// A reusable barrier for the worker pool. A training step passes two barriers per BatchNorm layer,
// so waits are short: with a core per thread a waiter spins; with more threads than cores it yields
// its core to the threads still working. Only after that does it sleep on a futex, and the last
// arrival makes the wake-up system call only when someone sleeps.
#include <sched.h>
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
    _Alignas(64) atomic_uint sleepers;
    int parties;
    int spin;
    int yield;
};

ck_barrier *ck_barrier_create(int parties, int spin, int yield) {
    ck_barrier *b = aligned_alloc(64, sizeof(ck_barrier));
    if (!b) return NULL;
    atomic_init(&b->arrived, 0);
    atomic_init(&b->generation, 0);
    atomic_init(&b->sleepers, 0);
    b->parties = parties;
    b->spin = spin;
    b->yield = yield;
    return b;
}

void ck_barrier_destroy(ck_barrier *b) { free(b); }

void ck_barrier_wait(ck_barrier *b) {
    unsigned gen = atomic_load_explicit(&b->generation, memory_order_acquire);
    if (atomic_fetch_add_explicit(&b->arrived, 1, memory_order_acq_rel) + 1 == (unsigned)b->parties) {
        atomic_store_explicit(&b->arrived, 0, memory_order_relaxed);
        // Sequentially consistent with the sleepers' count below: either this load sees a
        // sleeper, or that sleeper's own load sees the new generation and does not sleep.
        atomic_fetch_add_explicit(&b->generation, 1, memory_order_seq_cst);
        if (atomic_load_explicit(&b->sleepers, memory_order_seq_cst) > 0) futex_wake_all(&b->generation);
        return;
    }
    for (int i = 0; i < b->spin; i++) {
        if (atomic_load_explicit(&b->generation, memory_order_acquire) != gen) return;
        if (b->yield) {
            sched_yield();
        } else {
#if CK_HAVE_X86
            _mm_pause();
#endif
        }
    }
    atomic_fetch_add_explicit(&b->sleepers, 1, memory_order_seq_cst);
    while (atomic_load_explicit(&b->generation, memory_order_seq_cst) == gen) futex_wait(&b->generation, gen);
    atomic_fetch_sub_explicit(&b->sleepers, 1, memory_order_relaxed);
}
