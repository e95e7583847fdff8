// The process's signal handlers: temporary files that must not outlive the process, a clear message
// when a mapped input file shrinks under the reader (SIGBUS), and train's stop request (SIGINT,
// SIGTERM). See "Signals" in include/CKernels.h.
#include "CKernels.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#define CK_CLEANUP_SLOTS 16
#define CK_CLEANUP_PATH 4096

static char ck_cleanup_paths[CK_CLEANUP_SLOTS][CK_CLEANUP_PATH];
static volatile sig_atomic_t ck_cleanup_used[CK_CLEANUP_SLOTS];

// The mapped input files being read, each with the line to print should reading it fault (SIGBUS: the
// file shrank under the mapping). A slot per mapping, not one global message, so loads running at
// the same time (tests do) neither race on it nor name each other's file: the handler picks the
// mapping that holds the faulting address.
#define CK_MAPPING_SLOTS 16
typedef struct {
    const char *base;
    size_t size;
    char message[1024];
} ck_watched_mapping;
static ck_watched_mapping ck_mappings[CK_MAPPING_SLOTS];
static volatile sig_atomic_t ck_mapping_used[CK_MAPPING_SLOTS];

int ck_cleanup_register(const char *path) {
    size_t n = strlen(path);
    if (n >= CK_CLEANUP_PATH) return -1;
    for (int i = 0; i < CK_CLEANUP_SLOTS; i++) {
        if (__atomic_exchange_n(&ck_cleanup_used[i], 2, __ATOMIC_ACQ_REL) == 0) {
            memcpy(ck_cleanup_paths[i], path, n + 1);
            __atomic_store_n(&ck_cleanup_used[i], 1, __ATOMIC_RELEASE);
            return i;
        }
    }
    return -1;
}

void ck_cleanup_unregister(int slot) {
    if (slot >= 0 && slot < CK_CLEANUP_SLOTS) __atomic_store_n(&ck_cleanup_used[slot], 0, __ATOMIC_RELEASE);
}

static void ck_cleanup_now(void) {
    for (int i = 0; i < CK_CLEANUP_SLOTS; i++)
        if (__atomic_load_n(&ck_cleanup_used[i], __ATOMIC_ACQUIRE) == 1) unlink(ck_cleanup_paths[i]);
}

/// The message of the watched mapping holding `address`, or NULL.
static const char *ck_mapping_message(const char *address) {
    for (int i = 0; i < CK_MAPPING_SLOTS; i++) {
        if (__atomic_load_n(&ck_mapping_used[i], __ATOMIC_ACQUIRE) != 1) continue;
        const ck_watched_mapping *m = &ck_mappings[i];
        const char *base = __atomic_load_n(&m->base, __ATOMIC_RELAXED);
        if (address >= base && address < base + m->size) return m->message;
    }
    return NULL;
}

/// Removes the registered files, then dies of the same signal (default action), so the exit status
/// says which signal it was; a SIGBUS in a watched mapping prints its message and exits with 1.
static void ck_cleanup_on_signal(int sig, siginfo_t *info, void *context) {
    (void)context;
    ck_cleanup_now();
    const char *message = sig == SIGBUS && info ? ck_mapping_message((const char *)info->si_addr) : NULL;
    if (message) {
        ssize_t unused = write(2, message, strlen(message));
        (void)unused;
        _exit(1);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void ck_cleanup_handle(int sig) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = ck_cleanup_on_signal;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    sigaction(sig, &action, NULL);
}

void ck_cleanup_install(void) {
    int signals[] = {SIGBUS, SIGINT, SIGTERM, SIGHUP};
    sigset_t handled;
    sigemptyset(&handled);
    for (int i = 0; i < 4; i++) {
        ck_cleanup_handle(signals[i]);
        sigaddset(&handled, signals[i]);
    }
    // A process started with these signals blocked (inherited from its parent) could not be stopped.
    sigprocmask(SIG_UNBLOCK, &handled, NULL);
}

void ck_cleanup_watch_mapping(const char *base, int64_t size, const char *message) {
    if (size <= 0) return;
    for (int i = 0; i < CK_MAPPING_SLOTS; i++) {
        if (__atomic_exchange_n(&ck_mapping_used[i], 2, __ATOMIC_ACQ_REL) == 0) {
            ck_watched_mapping *m = &ck_mappings[i];
            __atomic_store_n(&m->base, base, __ATOMIC_RELAXED);  // read by others' unwatch scans
            m->size = (size_t)size;
            size_t n = strlen(message);
            if (n >= sizeof m->message) n = sizeof m->message - 1;
            memcpy(m->message, message, n);
            m->message[n] = 0;
            __atomic_store_n(&ck_mapping_used[i], 1, __ATOMIC_RELEASE);
            return;
        }
    }
}

void ck_cleanup_unwatch_mapping(const char *base) {
    for (int i = 0; i < CK_MAPPING_SLOTS; i++)
        if (__atomic_load_n(&ck_mapping_used[i], __ATOMIC_ACQUIRE) == 1 &&
            __atomic_load_n(&ck_mappings[i].base, __ATOMIC_RELAXED) == base)
            __atomic_store_n(&ck_mapping_used[i], 0, __ATOMIC_RELEASE);
}

static atomic_int ck_stop_flag;

/// The first SIGINT/SIGTERM asks for the stop; any later one is handled as a process without a stop
/// request handles it (temporaries removed, death by that signal). An atomic exchange decides which
/// is first, so two signals taken by two threads at once still count as two. Only async-signal-safe
/// calls, and no dependence on which thread the kernel picked.
static void ck_stop_on_signal(int sig, siginfo_t *info, void *context) {
    if (atomic_exchange(&ck_stop_flag, 1)) ck_cleanup_on_signal(sig, info, context);
}

void ck_stop_on_interrupts(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = ck_stop_on_signal;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
}

int ck_stop_requested(void) { return atomic_load(&ck_stop_flag); }
