// The worker pool's synchronisation: a reusable barrier and a per-worker start gate. A training step
// passes two barriers per BatchNorm layer, so waits are short: with a core per thread a waiter spins;
// with more threads than cores it yields its core to the threads still working. Only after that does
// it sleep on a futex, and the last arrival (or the opener) makes the wake-up system call only when
// someone sleeps.
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

void ck_barrier_set_parties(ck_barrier *b, int parties) { b->parties = parties; }

/// Spins (or yields) up to `spin` times while `*word` is `seen`; true if it changed meanwhile.
static int poll_word(atomic_uint *word, unsigned seen, int spin, int yield) {
    for (int i = 0; i < spin; i++) {
        if (atomic_load_explicit(word, memory_order_acquire) != seen) return 1;
        if (yield) {
            sched_yield();
        } else {
#if CK_HAVE_X86
            _mm_pause();
#endif
        }
    }
    return 0;
}

/// Sleeps on `*word` until it is no longer `seen`, counted in `*sleepers` so wakers know to call.
static void sleep_on_word(atomic_uint *word, atomic_uint *sleepers, unsigned seen) {
    atomic_fetch_add_explicit(sleepers, 1, memory_order_seq_cst);
    while (atomic_load_explicit(word, memory_order_seq_cst) == seen) futex_wait(word, seen);
    atomic_fetch_sub_explicit(sleepers, 1, memory_order_relaxed);
}

/// Moves `*word` on and wakes its sleepers, if any. Sequentially consistent with the sleepers'
/// count: either this load sees a sleeper, or that sleeper's own load sees the new value.
static void advance_word(atomic_uint *word, atomic_uint *sleepers) {
    atomic_fetch_add_explicit(word, 1, memory_order_seq_cst);
    if (atomic_load_explicit(sleepers, memory_order_seq_cst) > 0) futex_wake_all(word);
}

void ck_barrier_wait(ck_barrier *b) {
    unsigned gen = atomic_load_explicit(&b->generation, memory_order_acquire);
    // Read before arriving: once this thread has arrived the round may end and the pool may set the
    // parties of the next run (ThreadSanitizer found the read after the increment racing with that).
    unsigned parties = (unsigned)b->parties;
    if (atomic_fetch_add_explicit(&b->arrived, 1, memory_order_acq_rel) + 1 == parties) {
        atomic_store_explicit(&b->arrived, 0, memory_order_relaxed);
        advance_word(&b->generation, &b->sleepers);
        return;
    }
    if (poll_word(&b->generation, gen, b->spin, b->yield)) return;
    sleep_on_word(&b->generation, &b->sleepers, gen);
}

struct ck_gate {
    _Alignas(64) atomic_uint opened;
    _Alignas(64) atomic_uint sleepers;
    int spin;
    int yield;
};

ck_gate *ck_gate_create(int spin, int yield) {
    ck_gate *g = aligned_alloc(64, sizeof(ck_gate));
    if (!g) return NULL;
    atomic_init(&g->opened, 0);
    atomic_init(&g->sleepers, 0);
    g->spin = spin;
    g->yield = yield;
    return g;
}

void ck_gate_destroy(ck_gate *g) { free(g); }

void ck_gate_open(ck_gate *g) { advance_word(&g->opened, &g->sleepers); }

void ck_gate_wait(ck_gate *g, unsigned *passed) {
    unsigned seen = *passed;
    if (!poll_word(&g->opened, seen, g->spin, g->yield)) sleep_on_word(&g->opened, &g->sleepers, seen);
    *passed = seen + 1;
}
