// The tools' standard output, set up before anything is printed.
#include "CKernels.h"

#include <stdio.h>

// C's stdout is fully buffered into a pipe or a file, so `train ... > log` showed nothing until the
// run ended, and a kill lost whatever was still in the buffer. Swift's print writes through it.
void ck_stdout_line_buffered(void) { setvbuf(stdout, NULL, _IOLBF, 0); }
