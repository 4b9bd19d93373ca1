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
 * least as many as threads, else blocks of rows (a multiple of row_step
 * rows each, row_step >= 1), four per thread; threads
 * take them in turn from a shared counter, so that a thread on a busy core
 * takes fewer. The calling thread uses band0; each other thread allocates
 * band_bytes of its own. item must compute every output the same way
 * whichever thread runs it: results then do not depend on the thread
 * count. */
void acrnn_conv2d_direct_run(int n, int h, int row_step, const void *work,
                             AcrnnDirectItemFn item, void *band0,
                             size_t band_bytes);

/* Max pooling fused into a direct convolution (inference): the ph output
 * rows of a window are computed one after the other into a scratch of one
 * row of w columns per output channel, in cache, the first stored, the
 * others max-ed into it by the tile's epilogue (after its ReLU, so no NaN
 * and no -0: the max is exact in any order), and that row is pooled
 * across columns; the full map is never written. y is the pooled output
 * [cout][n][h / ph][w / pw] (floor mode). */
typedef struct {
  float *y;
  int ph, pw;
} AcrnnDirectPool;

/* Pools the scratch rows of output channels cb .. cb + nco - 1 (channel o's
 * at scratch + o * w) across columns into output row i / ph of sample s; i
 * is the first of the window's rows, a multiple of ph. The same values as
 * acrnn_maxpool_forward() over the whole map. */
void acrnn_conv2d_direct_pool_rows(const AcrnnDirectPool *p,
                                   const float *scratch, int cb, int nco, int n,
                                   int s, int h, int w, int i);

#endif
