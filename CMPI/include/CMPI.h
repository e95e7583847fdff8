// Open MPI, loaded at run time (ARCHITECTURE.md, "Several processes: MPI"): the trainer links no MPI
// library, so the default build and a single-process `train` need none installed. `train
// --distributed mpi` calls cmpi_init, which opens Open MPI's libmpi.so.40 and resolves the few
// functions and handles below. Every call works on bytes (MPI_BYTE) over MPI_COMM_WORLD: MPI only
// moves data, it never adds floating-point numbers. MPI's default error handler ends the whole job on
// a failed call. Only the main thread may call these (MPI_THREAD_FUNNELED).
#ifndef CMPI_H
#define CMPI_H

#include <stddef.h>

/// Opens libmpi.so.40 and calls MPI_Init_thread with MPI_THREAD_FUNNELED. Returns 0 and this
/// process's rank and the job's size, or -1 with a one-line reason in `error`.
int cmpi_init(int *rank, int *size, char *error, size_t error_size);
/// MPI_Bcast of `count` bytes from `root`.
void cmpi_bcast(void *bytes, int count, int root);
/// MPI_Allgatherv in place: process p has filled bytes[displacements[p] ..< + counts[p]].
void cmpi_allgatherv(void *bytes, const int *counts, const int *displacements);
/// MPI_Alltoallv: process p sends send[send_displacements[q] ..< + send_counts[q]] to process q,
/// which receives it at receive[receive_displacements[p] ..< + receive_counts[p]].
void cmpi_alltoallv(const void *send, const int *send_counts, const int *send_displacements, void *receive,
                    const int *receive_counts, const int *receive_displacements);
/// MPI_Abort: ends every process of the job with `code`.
void cmpi_abort(int code);
/// MPI_Finalize.
void cmpi_finalize(void);

#endif
