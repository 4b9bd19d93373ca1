/* step.c - forward/backward of a batch shard into the gradient block, and
 * the separate parameter update (see step.h). */
#include "step.h"

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

void tr_step_update(AcrnnSgd *opt, AcrnnNet *net, float lr) {
  acrnn_sgd_step(opt, acrnn_net_params(net), acrnn_net_grads(net), lr);
}
