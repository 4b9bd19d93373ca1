/* step.h - one training step, split so that data-parallel training can be
 * added later: tr_step_shard() computes the gradients of a shard of the
 * batch into the network's gradient block (an MPI version would then
 * average the blocks of all ranks, weighted by shard size), and
 * tr_step_update() applies the optimizer to the (averaged) gradients. */
#ifndef TR_STEP_H
#define TR_STEP_H

#include <acrnn/acrnn.h>

typedef struct {
  double loss_sum; /* sum over the shard of the per-example loss */
  double correct;  /* examples whose top logit is the top target class */
  int n;           /* examples */
} TrStepStats;

/* Zeroes the gradients, runs the training forward on x [n][input] with soft
 * targets y [n][n_classes] (dropout draws from rng), and accumulates the
 * gradients of the mean loss over the shard. */
void tr_step_shard(AcrnnNet *net, const float *x, const float *y, int n,
                   AcrnnRng *rng, TrStepStats *stats);

/* One optimizer update of the parameters with the gradient block. */
void tr_step_update(AcrnnSgd *opt, AcrnnNet *net, float lr);

#endif
