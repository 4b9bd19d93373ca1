/* conv2d_direct_run.h - how the direct convolutions (conv2d_direct.c,
 * conv2d_direct_bf16.c) share their work out among threads (internal to
 * libacrnn). */
#ifndef ACRNN_CONV2D_DIRECT_RUN_H
#define ACRNN_CONV2D_DIRECT_RUN_H

#include <stddef.h>

/* Computes output rows [r0, r1) of sample s of the convolution work, with
 * band, a padded band buffer of the calling thread. */
typedef void (*AcrnnDirectItemFn)(const void *work, void *band, int s, int r0,
                                  int r1);

/* Runs item over all n samples of h output rows on up to
 * acrnn_get_threads() threads. Items are whole samples when there are at
 * least as many as threads, else blocks of rows, four per thread; threads
 * take them in turn from a shared counter, so that a thread on a busy core
 * takes fewer. The calling thread uses band0; each other thread allocates
 * band_bytes of its own. item must compute every output the same way
 * whichever thread runs it: results then do not depend on the thread
 * count. */
void acrnn_conv2d_direct_run(int n, int h, const void *work,
                             AcrnnDirectItemFn item, void *band0,
                             size_t band_bytes);

#endif
