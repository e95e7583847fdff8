// Temporary files that must not outlive the process, and a clear message when a mapped input file
// shrinks under the reader (SIGBUS). See "Cleanup on signals" in include/CKernels.h.
#include "CKernels.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#define CK_CLEANUP_SLOTS 16
#define CK_CLEANUP_PATH 4096

static char ck_cleanup_paths[CK_CLEANUP_SLOTS][CK_CLEANUP_PATH];
static volatile sig_atomic_t ck_cleanup_used[CK_CLEANUP_SLOTS];
static char ck_bus_message[1024];

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

/// Removes the registered files, then dies of the same signal (default action), so the exit status
/// says which signal it was.
static void ck_cleanup_on_signal(int sig) {
    ck_cleanup_now();
    if (sig == SIGBUS && ck_bus_message[0]) {
        ssize_t unused = write(2, ck_bus_message, strlen(ck_bus_message));
        (void)unused;
        _exit(1);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void ck_cleanup_handle(int sig) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = ck_cleanup_on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(sig, &action, NULL);
}

void ck_cleanup_install(int interrupts) {
    int signals[] = {SIGBUS, SIGINT, SIGTERM, SIGHUP};
    sigset_t handled;
    sigemptyset(&handled);
    for (int i = 0; i < (interrupts ? 4 : 1); i++) {
        ck_cleanup_handle(signals[i]);
        sigaddset(&handled, signals[i]);
    }
    // A process started with these signals blocked (inherited from its parent) could not be stopped.
    sigprocmask(SIG_UNBLOCK, &handled, NULL);
}

void ck_cleanup_bus_message(const char *message) {
    size_t n = strlen(message);
    if (n >= sizeof ck_bus_message) n = sizeof ck_bus_message - 1;
    memcpy(ck_bus_message, message, n);
    ck_bus_message[n] = 0;
}
