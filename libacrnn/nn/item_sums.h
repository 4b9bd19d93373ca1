/* item_sums.h - a sum over independent items on libacrnn's threads, added
 * in a fixed order so that the result does not depend on the thread count
 * (internal). The weight-gradient kernels use it: an item is a sample or a
 * group of samples, and its block is its share of the gradient. */
#ifndef ACRNN_ITEM_SUMS_H
#define ACRNN_ITEM_SUMS_H

#include <glib.h>

/* Fills block (per floats, zeroed before the call) with item's sums, using
 * scratch (the calling thread's own). */
typedef void (*AcrnnItemFn)(gpointer ctx, int item, float *block,
                            gpointer scratch);

/* out[0 .. per) += the blocks of items 0 .. items - 1, added in item order.
 * fn makes each block; the items run on up to acrnn_get_threads() threads,
 * which take them from a shared counter, each with scratch_bytes of
 * scratch of its own (64-byte aligned). */
void acrnn_item_sums(float *out, size_t per, int items, size_t scratch_bytes,
                     AcrnnItemFn fn, gpointer ctx);

#endif
