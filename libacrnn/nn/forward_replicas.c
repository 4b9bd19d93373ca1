/* forward_replicas.c - inference over a batch split across copies of one
 * network, one part per thread (acrnn/replicas.h). */
#include "parallel.h"

#include <acrnn/acrnn.h>
#include <acrnn/replicas.h>
#include <string.h>

/* At most this many parts. */
#define MAX_PARTS 64

typedef struct {
  AcrnnNet *net;
  const float *x;
  const gint64 *starts; /* or NULL */
  int count;
  float *logits, *probs; /* where its rows go, or NULL */
  int alone;             /* on its thread alone: other parts run beside it */
} Part;

static void run_part(gpointer data) {
  Part *p = data;
  const int classes = acrnn_net_config(p->net)->n_classes;
  if (p->alone)
    acrnn_single_thread_begin();
  const float *logits =
      p->starts ? acrnn_net_forward_stream(p->net, p->x, p->starts, p->count)
                : acrnn_net_forward(p->net, p->x, p->count, FALSE, NULL);
  if (p->logits)
    memcpy(p->logits, logits, sizeof(float) * (size_t)p->count * classes);
  if (p->probs)
    acrnn_net_probabilities(p->net, p->probs);
  if (p->alone)
    acrnn_single_thread_end();
}

void acrnn_net_forward_replicas(AcrnnNet *const *nets, int n_nets,
                                const float *x, int batch, float *logits,
                                float *probs) {
  acrnn_net_forward_replicas_stream(nets, n_nets, x, NULL, batch, logits,
                                    probs);
}

void acrnn_net_forward_replicas_stream(AcrnnNet *const *nets, int n_nets,
                                       const float *x, const gint64 *starts,
                                       int batch, float *logits, float *probs) {
  g_return_if_fail(nets != NULL && n_nets >= 1 && batch >= 0);
  if (batch == 0)
    return;
  const AcrnnNetConfig *cfg = acrnn_net_config(nets[0]);
  const size_t in = (size_t)2 * cfg->bands * cfg->frames;
  const size_t out = (size_t)cfg->n_classes;
  const AcrnnPrecision precision = acrnn_net_get_precision(nets[0]);
  int parts = MIN(MIN(n_nets, batch), MAX_PARTS);
  Part part[MAX_PARTS];
  for (int p = 0, first = 0; p < parts; p++) {
    const int count = batch / parts + (p < batch % parts);
    part[p] = (Part){nets[p],
                     x + (size_t)first * in,
                     starts ? starts + first : NULL,
                     count,
                     logits ? logits + (size_t)first * out : NULL,
                     probs ? probs + (size_t)first * out : NULL,
                     parts > 1};
    acrnn_net_set_precision(nets[p], precision);
    first += count;
  }
  acrnn_parallel_run(parts, run_part, part, sizeof part[0]);
}
