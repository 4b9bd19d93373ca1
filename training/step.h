/* step.h - one training step: tr_step_shard() computes the gradients of a
 * shard of the batch into the network's gradient block, tr_step_groups()
 * the weighted sum of the gradients of several shards, each with its own
 * batch norm statistics (what the ranks of a data-parallel run, or
 * --bn-groups in one process, do), and tr_step_update() applies the
 * optimizer to the summed gradients. */
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

/* The first example of shard i when n examples are split into k shards as
 * evenly as possible: the first n % k shards hold one example more than the
 * others (n / k + 1, then n / k); i = k gives n. */
int tr_shard_start(int n, int k, int i);

/* A batch of n examples split into k shards (tr_shard_start); this process
 * computes shards [first, first + count) of it: x and y hold the whole
 * batch. Each non-empty shard is a separate training forward/backward (its
 * own batch statistics; dropout from a generator seeded with
 * dropout_seed and the shard's index), and its gradient, weighted by its
 * size / n, is summed into grads (acrnn_net_n_params floats), so the sum
 * over all k shards is the gradient of the mean loss over the batch. The
 * batch norm running statistics become the mean over the shards of each
 * shard's update (an empty shard leaves them as they were), as averaging
 * them over ranks gives. stats: the sums over this process's shards. */
void tr_step_groups(AcrnnNet *net, const float *x, const float *y, int n, int k,
                    int first, int count, guint64 dropout_seed, float *grads,
                    TrStepStats *stats);

/* Copies of a network that compute the shards of tr_step_groups() at the
 * same time, one thread each (--threads N). */
typedef struct TrReplicas TrReplicas;

/* n replicas of net's configuration, with its dropout, for batches of up
 * to count shards per step; NULL (error set) if a network cannot be made. */
TrReplicas *tr_replicas_new(AcrnnNet *net, int n, int count, float dropout,
                            GError **error);
void tr_replicas_free(TrReplicas *reps);

/* tr_step_groups() with the count shards spread over the replicas (shard
 * first + i on replica i mod n), each replica computing on one thread with
 * net's parameters, running statistics and precision; the gradients,
 * statistics and batch norm averages are then summed in shard order, so
 * the result is tr_step_groups()'s bit for bit (the layers give the same
 * bits whatever their thread count). */
void tr_step_groups_replicas(TrReplicas *reps, AcrnnNet *net, const float *x,
                             const float *y, int n, int k, int first, int count,
                             guint64 dropout_seed, float *grads,
                             TrStepStats *stats);

/* One optimizer update of the parameters with grads (NULL: the network's
 * gradient block). */
void tr_step_update(AcrnnSgd *opt, AcrnnNet *net, const float *grads, float lr);

#endif
