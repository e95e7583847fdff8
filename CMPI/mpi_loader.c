// Open MPI through dlopen (include/CMPI.h). The declarations follow Open MPI's ABI (libmpi.so.40,
// Debian's libopenmpi3): handles are pointers to the library's predefined objects, MPI_IN_PLACE is
// (void *)1 and MPI_THREAD_FUNNELED is 1.
#include <dlfcn.h>
#include <stdio.h>
#include "CMPI.h"

typedef void *Handle;

static struct {
    int (*init_thread)(int *, char ***, int, int *);
    int (*comm_rank)(Handle, int *);
    int (*comm_size)(Handle, int *);
    int (*bcast)(void *, int, Handle, int, Handle);
    int (*allgatherv)(const void *, int, Handle, void *, const int *, const int *, Handle, Handle);
    int (*alltoallv)(const void *, const int *, const int *, Handle, void *, const int *, const int *, Handle, Handle);
    int (*abort)(Handle, int);
    int (*finalize)(void);
    Handle world, byte;
} mpi;

enum { THREAD_FUNNELED = 1 };
#define IN_PLACE ((void *)1)

static void *resolve(void *library, const char *name, int *missing, char *error, size_t error_size) {
    void *symbol = dlsym(library, name);
    if (!symbol && !*missing) {
        *missing = 1;
        snprintf(error, error_size, "libmpi.so.40 has no %s: --distributed mpi needs Open MPI", name);
    }
    return symbol;
}

int cmpi_init(int *rank, int *size, char *error, size_t error_size) {
    // RTLD_GLOBAL: Open MPI's own plugins, loaded later, look up libmpi's symbols.
    void *library = dlopen("libmpi.so.40", RTLD_NOW | RTLD_GLOBAL);
    if (!library) {
        snprintf(error, error_size, "--distributed mpi needs Open MPI (libmpi.so.40), which is not installed: "
                 "apt-get install openmpi-bin (%s)", dlerror());
        return -1;
    }
    int missing = 0;
    mpi.init_thread = resolve(library, "MPI_Init_thread", &missing, error, error_size);
    mpi.comm_rank = resolve(library, "MPI_Comm_rank", &missing, error, error_size);
    mpi.comm_size = resolve(library, "MPI_Comm_size", &missing, error, error_size);
    mpi.bcast = resolve(library, "MPI_Bcast", &missing, error, error_size);
    mpi.allgatherv = resolve(library, "MPI_Allgatherv", &missing, error, error_size);
    mpi.alltoallv = resolve(library, "MPI_Alltoallv", &missing, error, error_size);
    mpi.abort = resolve(library, "MPI_Abort", &missing, error, error_size);
    mpi.finalize = resolve(library, "MPI_Finalize", &missing, error, error_size);
    mpi.world = resolve(library, "ompi_mpi_comm_world", &missing, error, error_size);
    mpi.byte = resolve(library, "ompi_mpi_byte", &missing, error, error_size);
    if (missing) return -1;
    int provided = 0;
    if (mpi.init_thread(NULL, NULL, THREAD_FUNNELED, &provided) != 0) {
        snprintf(error, error_size, "MPI_Init_thread failed");
        return -1;
    }
    if (provided < THREAD_FUNNELED) {
        snprintf(error, error_size, "this MPI library does not support MPI_THREAD_FUNNELED");
        mpi.abort(mpi.world, 1);
    }
    mpi.comm_rank(mpi.world, rank);
    mpi.comm_size(mpi.world, size);
    return 0;
}

void cmpi_bcast(void *bytes, int count, int root) { mpi.bcast(bytes, count, mpi.byte, root, mpi.world); }

void cmpi_allgatherv(void *bytes, const int *counts, const int *displacements) {
    mpi.allgatherv(IN_PLACE, 0, mpi.byte, bytes, counts, displacements, mpi.byte, mpi.world);
}

void cmpi_alltoallv(const void *send, const int *send_counts, const int *send_displacements, void *receive,
                    const int *receive_counts, const int *receive_displacements) {
    mpi.alltoallv(send, send_counts, send_displacements, mpi.byte, receive, receive_counts, receive_displacements,
                  mpi.byte, mpi.world);
}

void cmpi_abort(int code) { mpi.abort(mpi.world, code); }

void cmpi_finalize(void) { mpi.finalize(); }
