// Which OpenMP runtime the kernels run on, for benchmark headers (bench's machine line).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include "internal.h"
#ifdef _OPENMP
#include <omp.h>
#endif

const char *ck_openmp_runtime(void) {
#ifdef _OPENMP
    static char text[512];
    Dl_info info;
    const char *library = dladdr((void *)omp_get_max_threads, &info) && info.dli_fname ? info.dli_fname : "unknown library";
    snprintf(text, sizeof text, "OpenMP %d (%s), %d threads by default", _OPENMP, library, omp_get_max_threads());
    return text;
#else
    return "none (built without OpenMP)";
#endif
}
