/* classify-workers.c - acrnnclassify's network on one or more threads:
 * each batch split across copies of the network (acrnn_net_copy()), one
 * part per thread (acrnn_net_forward_replicas()). */
#include "acrnnclassify-private.h"

#include <acrnn/replicas.h>

/* At least n copies of the network (same weights and statistics). */
static void ensure_copies(GstAcrnnClassify *self, guint n) {
  if (self->n_copies >= n)
    return;
  GST_OBJECT_LOCK(self);
  self->copies = g_renew(AcrnnNet *, self->copies, n);
  while (self->n_copies < n)
    self->copies[self->n_copies++] = acrnn_net_copy(self->net);
  GST_OBJECT_UNLOCK(self);
}

/* Probabilities of the pending segments into self->probs: split over up to
 * `threads` copies of the network, each part but the first on one of
 * libacrnn's worker threads (this one runs the first). */
void gst_acrnn_classify_forward(GstAcrnnClassify *self) {
  GST_OBJECT_LOCK(self);
  guint threads = self->threads;
  GST_OBJECT_UNLOCK(self);
  const guint parts = MAX(1, MIN(threads, self->n_inputs));
  if (parts > 1)
    ensure_copies(self, parts - 1);
  AcrnnNet **nets = g_newa(AcrnnNet *, parts);
  nets[0] = self->net;
  for (guint p = 1; p < parts; p++)
    nets[p] = self->copies[p - 1];
  acrnn_net_set_precision(self->net, gst_acrnn_classify_precision(self));
  acrnn_net_forward_replicas(nets, (int)parts, self->batch_in,
                             (int)self->n_inputs, NULL, self->probs);
}

/* Runs the network on the pending segments that are not silent and reports
 * them all, in order; a silent one is reported as silence and left out of
 * the stream's decision. */
