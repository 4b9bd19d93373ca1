/* scratch_file.h - a file holding the fuzzer's input, for loaders that take
 * a path: one memfd per process, rewritten for every input. */
#ifndef ACRNN_FUZZ_SCRATCH_FILE_H
#define ACRNN_FUZZ_SCRATCH_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Replaces the scratch file's contents with data and returns its path
 * (/proc/self/fd/N); aborts when it cannot. */
const char *fuzz_scratch_file(const uint8_t *data, size_t size);

#endif
