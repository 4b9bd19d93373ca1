/* train_step.c - the parts of one training step of a run: the batch (with
 * mixup), this process's shards' forward and backward, the all-reduce of
 * a data-parallel run and the optimizer's update. */
#include "dist.h"
#include "label_smoothing.h"
#include "run_rng.h"
#include "spec_mask.h"
#include "train_run.h"
#include <math.h>
#include <string.h>

int tr_run_build_batch(TrRun *r) {
  const TrTrainConfig *c = r->c;
  int bs = c->batch_size, C = r->info.n_labels, B = r->info.features.bands;
  int S = r->info.segment_frames;
  size_t dim = 2 * (size_t)B * (size_t)S, first = (size_t)r->st.step * bs;
  int b = (int)MIN((size_t)bs, r->ep.n_refs - first);
  /* mixup pairs over the whole global batch, so every rank builds it;
   * without mixup only this rank's shards are needed */
  int lo = 0, hi = b;
  if (!(c->mixup_alpha > 0)) {
    lo = tr_shard_start(b, r->n_shards, r->first_shard);
    hi = tr_shard_start(b, r->n_shards, r->first_shard + r->groups);
  }
  const GArray *set = tr_clips_current(&r->clips);
  memset(r->y + (size_t)lo * C, 0, sizeof(float) * (size_t)C * (hi - lo));
  for (int i = lo; i < hi; i++) {
    TrSegRef ref = r->ep.refs[first + i];
    const TrClipFeat *cf = &g_array_index(set, TrClipFeat, ref.clip);
    acrnn_segment_extract(cf->frames, cf->n, B, S, r->info.segment_hop, ref.seg,
                          r->info.mean, r->info.std, r->x + (size_t)i * dim);
    tr_spec_mask_segment(&c->mask, c->seed, r->st.epoch, first + i,
                         r->x + (size_t)i * dim, B, S);
    r->y[(size_t)i * C + cf->label] = 1.0f;
  }
  if (c->mixup_alpha > 0)
    acrnn_mixup(&r->st.rng, (float)c->mixup_alpha, r->x, dim, r->y, C, b);
  tr_label_smooth(r->y + (size_t)lo * C, hi - lo, C, c->label_smoothing);
  return b;
}

/* Seed of the dropout generators of a step split into shards: from the
 * seed, the epoch and the step alone, so a resumed run draws the same;
 * tr_step_groups() mixes in each shard's index (each rank has its own
 * streams, and the mixup stream stays the same on every rank). */
static guint64 dropout_seed(gint64 seed, int epoch, int step) {
  AcrnnRng d;
  tr_derive_rng(&d, seed, TR_RNG_DROPOUT, epoch);
  for (int i = 0; i < 4; i++)
    d.s[i] ^= (guint64)(step + 1) * 0x94d049bb133111ebULL;
  return acrnn_rng_next(&d);
}

void tr_run_compute(TrRun *r, int b, TrStepStats *st) {
  float *grads = r->grads ? r->grads : acrnn_net_grads(r->net);
  if (r->n_shards == 1) { /* one process, one group: dropout after mixup */
    tr_step_shard(r->net, r->x, r->y, b, &r->st.rng, st);
    return;
  }
  guint64 seed = dropout_seed(r->c->seed, r->st.epoch, r->st.step);
  if (r->reps)
    tr_step_groups_replicas(r->reps, r->net, r->x, r->y, b, r->n_shards,
                            r->first_shard, r->groups, seed, grads, st);
  else
    tr_step_groups(r->net, r->x, r->y, b, r->n_shards, r->first_shard,
                   r->groups, seed, grads, st);
}

/* One all-reduce per step: the sum of the size-weighted gradients is the
 * gradient of the global batch's mean loss; the running statistics become
 * the mean of the ranks' (each rank's follow its own shards), so every
 * rank holds the same. */
gboolean tr_run_reduce(TrRun *r, TrStepStats *st, gboolean interrupted) {
  if (r->world <= 1)
    return interrupted;
  size_t np = acrnn_net_n_params(r->net), nb = acrnn_net_n_buffers(r->net);
  float *grads = r->grads, *buf = acrnn_net_buffers(r->net);
  float *stats = grads + np + nb;
  memcpy(grads + np, buf, nb * sizeof(float));
  stats[0] = (float)st->loss_sum;
  stats[1] = (float)st->correct;
  stats[2] = (float)st->n;
  stats[3] = interrupted ? 1.0f : 0.0f;
  tr_dist_sum_floats(grads, np + nb + 4);
  for (size_t i = 0; i < nb; i++)
    buf[i] = grads[np + i] / (float)r->world;
  st->loss_sum = stats[0];
  st->correct = stats[1];
  st->n = (int)lrintf(stats[2]);
  return stats[3] > 0;
}

/* --check-sync: every rank's weights and running statistics must be
 * bit-identical after a step. */
static gboolean check_sync(TrRun *r, GError **error) {
  guint64 h = tr_hash_bytes(0, acrnn_net_params(r->net),
                            acrnn_net_n_params(r->net) * sizeof(float));
  h = tr_hash_bytes(h, acrnn_net_buffers(r->net),
                    acrnn_net_n_buffers(r->net) * sizeof(float));
  const char *what[] = {"weights"};
  if (tr_dist_check_same(what, &h, 1, error))
    return TRUE;
  g_prefix_error(error, "--check-sync after step %d: ", r->steps_run + 1);
  return FALSE;
}

gboolean tr_run_update(TrRun *r, GError **error) {
  tr_step_update(r->opt, r->net, r->grads, r->ep.lr);
  tr_fine_tune_after_step(r->ft, r->net);
  tr_run_fault(r, TR_FAULT_AFTER_UPDATE, NULL);
  if (r->c->check_sync && r->world > 1)
    return check_sync(r, error);
  return TRUE;
}
