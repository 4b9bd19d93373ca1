/* step.c - forward/backward of batch shards into gradient blocks, and the
 * separate parameter update (see step.h). */
#include "step.h"
#include <string.h>

void tr_step_shard(AcrnnNet *net, const float *x, const float *y, int n,
                   AcrnnRng *rng, TrStepStats *stats) {
  int c = acrnn_net_config(net)->n_classes;
  acrnn_net_zero_grad(net);
  const float *logits = acrnn_net_forward(net, x, n, TRUE, rng);
  float loss = acrnn_net_loss(net, y);
  acrnn_net_backward(net);
  double correct = 0;
  for (int i = 0; i < n; i++) {
    const float *l = logits + (size_t)i * c, *t = y + (size_t)i * c;
    int bl = 0, bt = 0;
    for (int k = 1; k < c; k++) {
      if (l[k] > l[bl])
        bl = k;
      if (t[k] > t[bt])
        bt = k;
    }
    correct += bl == bt;
  }
  stats->loss_sum = (double)loss * n;
  stats->correct = correct;
  stats->n = n;
}

int tr_shard_start(int n, int k, int i) {
  int q = n / k, r = n % k;
  return i * q + MIN(i, r);
}

void tr_step_groups(AcrnnNet *net, const float *x, const float *y, int n, int k,
                    int first, int count, guint64 dropout_seed, float *grads,
                    TrStepStats *stats) {
  const AcrnnNetConfig *cfg = acrnn_net_config(net);
  size_t dim = 2 * (size_t)cfg->bands * (size_t)cfg->frames;
  size_t np = acrnn_net_n_params(net), nb = acrnn_net_n_buffers(net);
  float *g = acrnn_net_grads(net), *buf = acrnn_net_buffers(net);
  float *start = count > 1 ? g_memdup2(buf, nb * sizeof(float)) : NULL;
  float *sum = count > 1 ? g_new0(float, nb) : NULL;
  gboolean any = FALSE;
  memset(stats, 0, sizeof *stats);
  for (int s = first; s < first + count; s++) {
    int lo = tr_shard_start(n, k, s), m = tr_shard_start(n, k, s + 1) - lo;
    if (m > 0) {
      if (start && s > first)
        memcpy(buf, start, nb * sizeof(float));
      AcrnnRng rng;
      acrnn_rng_seed(&rng,
                     dropout_seed ^ ((guint64)(s + 1) * 0xbf58476d1ce4e5b9ULL));
      TrStepStats st;
      tr_step_shard(net, x + (size_t)lo * dim, y + (size_t)lo * cfg->n_classes,
                    m, &rng, &st);
      float w = (float)m / (float)n;
      if (!any)
        for (size_t i = 0; i < np; i++)
          grads[i] = g[i] * w;
      else
        for (size_t i = 0; i < np; i++)
          grads[i] += g[i] * w;
      any = TRUE;
      stats->loss_sum += st.loss_sum;
      stats->correct += st.correct;
      stats->n += st.n;
    }
    if (sum) {
      const float *b = m > 0 ? buf : start;
      for (size_t i = 0; i < nb; i++)
        sum[i] += b[i];
    }
  }
  if (!any)
    memset(grads, 0, np * sizeof(float));
  if (sum)
    for (size_t i = 0; i < nb; i++)
      buf[i] = sum[i] / (float)count;
  g_free(start);
  g_free(sum);
}

void tr_step_update(AcrnnSgd *opt, AcrnnNet *net, const float *grads,
                    float lr) {
  acrnn_sgd_step(opt, acrnn_net_params(net),
                 grads ? grads : acrnn_net_grads(net), lr);
}
