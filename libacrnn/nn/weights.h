/* weights.h - (internal) a network's parameters and batch norm statistics
 * as one reference-counted block.
 *
 * A block is either private to one net, which may write it, or sealed:
 * read-only from then on and shared by any number of nets
 * (acrnn_net_seal(), acrnn_net_copy(), acrnn_model_load_shared()). A net
 * about to write a sealed block first takes a private copy of it, so a write
 * never reaches another net. The model cache holds no reference to the
 * blocks it hands out: acrnn_weights_watch() tells it, under its lock, when
 * the last net using one is gone.
 *
 * A sealed block also keeps, from the first bf16 pass that asks for it,
 * its weight matrices rounded and packed for the bf16 products
 * (packed_weights.h), shared by all its nets and freed with it; a private
 * block, whose weights change, has none.
 */
#ifndef ACRNN_WEIGHTS_H
#define ACRNN_WEIGHTS_H

#include "packed_weights.h"

#include <acrnn/network.h>
#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gatomicrefcount ref; /* the nets using the block */
  gboolean sealed;     /* read-only and shareable */
  float *params;       /* n_params floats, then the n_buffers of buffers */
  float *buffers;
  size_t n_params, n_buffers;
  GMutex *lock;        /* acrnn_weights_watch(): taken for the last unref */
  GDestroyNotify gone; /* called under lock when the last user is gone */
  gpointer gone_data;
  AcrnnPackedWeights *packed; /* acrnn_weights_packed(), made once */
} AcrnnWeights;

/* A private block of zeros, one reference. */
AcrnnWeights *acrnn_weights_new(size_t n_params, size_t n_buffers);
/* A private copy of w's values, one reference. */
AcrnnWeights *acrnn_weights_copy(const AcrnnWeights *w);
AcrnnWeights *acrnn_weights_ref(AcrnnWeights *w);
void acrnn_weights_unref(AcrnnWeights *w);
/* Calls gone(data) with lock held when the last reference to the sealed
 * block w is dropped, then frees w. Set once, while the caller holds the
 * only reference and before w is visible to another thread; every new
 * reference taken from gone's owner (not from a net that already uses w)
 * must be taken with lock held. */
void acrnn_weights_watch(AcrnnWeights *w, GMutex *lock, GDestroyNotify gone,
                         gpointer data);

/* The packed weights of the sealed block w: made by make(w, data) at the
 * first call (one caller makes them while any others wait), then kept
 * until w is freed. */
const AcrnnPackedWeights *acrnn_weights_packed(
    AcrnnWeights *w,
    AcrnnPackedWeights *(*make)(const AcrnnWeights *w, gconstpointer data),
    gconstpointer data);

/* The block net uses (borrowed). */
AcrnnWeights *acrnn_net_weights(const AcrnnNet *net);
/* A net of configuration cfg (that of the nets w was made for) using the
 * sealed block w, with a new reference to it; no activations yet. */
AcrnnNet *acrnn_net_new_with_weights(const AcrnnNetConfig *cfg,
                                     AcrnnWeights *w);

G_END_DECLS

#endif
