/* trainer.c - a training run as the paper describes it: segments of the
 * training clips' features, shuffled batches without repetition each epoch,
 * mixup, SGD with Nesterov momentum and a step schedule, clip-level
 * validation each epoch, JSON-lines log, curves, checkpoints and a
 * bit-identical resume; data-parallel over the ranks of an MPI job (each
 * computes its share of every global batch; one all-reduce of the summed
 * gradients per step; rank 0 writes the outputs).
 *
 * The loop: each epoch, each step builds its batch, computes, reduces,
 * updates and records (train_step.c); the epoch then ends (epoch_end.c). */
#include "dist.h"
#include "epoch_record.h"
#include "run_rng.h"
#include "split_record.h"
#include "train_run.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

/* acrnn_net_init_random() draws every N(0, std) tensor of the table with
 * the table's std: scale those to --init-std. */
static void scale_init(AcrnnNet *net, double std) {
  for (size_t i = 0; i < acrnn_net_n_tensors(net); i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(net, i);
    if (t->init != ACRNN_INIT_NORMAL || fabs(std - t->init_std) < 1e-12)
      continue;
    float f = (float)(std / t->init_std);
    float *d = acrnn_net_tensor_data(net, t);
    for (size_t k = 0; k < t->numel; k++)
      d[k] *= f;
  }
}

/* A fresh network, its optimizer and the mixup generator. */
static gboolean new_model(TrRun *r, GError **error) {
  const TrTrainConfig *c = r->c;
  acrnn_model_info_init(&r->info);
  r->info.labels = g_strdupv(r->ds->labels);
  r->info.n_labels = r->ds->n_labels;
  r->info.features = c->features;
  r->info.segment_frames = c->segment_frames;
  r->info.segment_hop = c->segment_hop;
  r->info.attention = c->attention;
  AcrnnNetConfig cfg;
  acrnn_model_info_net_config(&r->info, &cfg);
  r->net = acrnn_net_new(&cfg, error);
  if (!r->net)
    return FALSE;
  acrnn_net_init_random(r->net, (uint64_t)c->seed);
  scale_init(r->net, c->init_std);
  acrnn_net_set_dropout(r->net, (float)c->dropout);
  acrnn_net_set_precision(r->net, c->precision);
  r->opt = acrnn_sgd_new(&c->sgd, acrnn_net_n_params(r->net));
  tr_derive_rng(&r->st.rng, c->seed, TR_RNG_MIXUP, -1);
  return TRUE;
}

/* The features and their normalisation. Rank 0 computes them first (and
 * fills the cache), the others then read them from the cache where they
 * share it. */
static gboolean load_data(TrRun *r, const int *train_folds, int n_train,
                          int val_fold, GError **error) {
  gboolean ok = TRUE;
  if (r->rank == 0)
    ok = tr_clips_load(&r->clips, r->c, r->ds, train_folds, n_train, val_fold,
                       &r->progress, error);
  if (r->world > 1 && (ok || r->rank != 0))
    tr_dist_barrier();
  if (ok && r->rank != 0)
    ok = tr_clips_load(&r->clips, r->c, r->ds, train_folds, n_train, val_fold,
                       &r->progress, error);
  if (!ok)
    return FALSE;
  tr_clips_norm(&r->clips, r->info.features.bands, r->info.mean, r->info.std);
  return tr_clips_check_ranks(&r->clips, r->rank, r->world, r->info.mean,
                              r->info.std, error);
}

/* How the batches are split, the replicas of --threads and the buffers. */
static gboolean plan_shards(TrRun *r, GError **error) {
  const TrTrainConfig *c = r->c;
  /* the global batch is split into world * groups shards; this rank
   * computes groups consecutive ones */
  r->groups = c->bn_groups;
  /* --threads N: N replicas of the network compute this process's shards
   * side by side, at least N of them (the semantics of --bn-groups N) */
  if (c->threads > 1) {
    r->groups = MAX(r->groups, c->threads);
    r->reps = tr_replicas_new(r->net, c->threads, r->groups, (float)c->dropout,
                              error);
    if (!r->reps)
      return FALSE;
  }
  r->n_shards = r->world * r->groups;
  r->first_shard = r->rank * r->groups;
  size_t np = acrnn_net_n_params(r->net), nb = acrnn_net_n_buffers(r->net);
  if (r->n_shards > 1)
    r->grads = g_new0(float, np + nb + 4);
  size_t dim = 2 * (size_t)r->info.features.bands * r->info.segment_frames;
  r->x = g_new(float, dim *(size_t)c->batch_size);
  r->y = g_new(float, (size_t)r->info.n_labels *(size_t)c->batch_size);
  return TRUE;
}

static void run_clear(TrRun *r) {
  tr_clips_clear(&r->clips);
  g_free(r->grads);
  g_free(r->x);
  g_free(r->y);
  g_free(r->ep.refs);
  if (r->history)
    g_array_unref(r->history);
  tr_replicas_free(r->reps);
  tr_fine_tune_free(r->ft);
  acrnn_net_free(r->net);
  acrnn_sgd_free(r->opt);
  acrnn_model_info_clear(&r->info);
  tr_checkpoint_state_clear(&r->st);
  tr_progress_clear(&r->progress);
}

/* Everything before the first step: the model, the data, the checkpoint
 * to resume from and the layout of the batches. */
static gboolean run_open(TrRun *r, const int *train_folds, int n_train,
                         int val_fold, const char *resume, GError **error) {
  const TrTrainConfig *c = r->c;
  r->world = c->local_run ? 1 : tr_dist_size();
  r->rank = c->local_run ? 0 : tr_dist_rank();
  tr_clips_init(&r->clips);
  tr_checkpoint_state_init(&r->st);
  r->st.options = g_strdup(c->options);
  r->history = g_array_new(FALSE, TRUE, sizeof(TrEpochRecord));
  char *prefix =
      c->name_fold && val_fold ? g_strdup_printf("fold %d: ", val_fold) : NULL;
  tr_progress_init(&r->progress, c->quiet || tr_dist_rank() != 0, prefix);
  g_free(prefix);
  acrnn_set_threads(c->threads);
  if (!new_model(r, error) ||
      !load_data(r, train_folds, n_train, val_fold, error))
    return FALSE;
  if (resume) {
    if (!tr_run_load_checkpoint(r, resume, error))
      return FALSE;
    tr_log_restore(r->history, r->paths->log, r->st.epoch);
  }
  /* --init-from's weights (a fresh run) and --freeze-conv */
  if (!tr_fine_tune_start(c, r->net, &r->info, r->opt, resume != NULL,
                          &r->progress, &r->ft, error))
    return FALSE;
  /* every model and checkpoint of the run says which clips it learnt from
   * (a resumed run's checkpoint says the same) */
  g_free(r->info.split);
  r->info.split =
      tr_split_record(&c->dataset, r->ds, train_folds, n_train, val_fold);
  if (!plan_shards(r, error))
    return FALSE;
  r->start_us = g_get_monotonic_time();
  r->total_at_start = r->st.total_s;
  return TRUE;
}

static void announce(TrRun *r) {
  if (r->progress.quiet)
    return;
  tr_progress_message(
      &r->progress,
      "training on %zu clips (%zu segments per epoch, augmented copies "
      "included), validating on %u; %d classes; %zu parameters%s",
      r->clips.n_orig,
      tr_clips_count_segments(&r->clips, r->info.segment_frames,
                              r->info.segment_hop),
      r->clips.val->len, r->info.n_labels, acrnn_net_n_params(r->net),
      r->world > 1 ? "; data-parallel" : "");
  if (r->world > 1)
    tr_progress_message(&r->progress,
                        "%d ranks, each computing %d of the %d shards of "
                        "every batch of %d",
                        r->world, r->groups, r->n_shards, r->c->batch_size);
}

/* The step's figures into the epoch's, the progress line, and whether the
 * run stops after it (a signal, --stop-after-steps). */
static void record_step(TrRun *r, const TrStepStats *st, gboolean interrupted) {
  const TrTrainConfig *c = r->c;
  TrCheckpointState *s = &r->st;
  s->ep_loss += st->loss_sum;
  s->ep_correct += st->correct;
  s->ep_seen += st->n;
  r->steps_run++;
  double secs = (g_get_monotonic_time() - r->start_us) / 1e6;
  int steps = r->ep.steps;
  double left =
      ((double)(c->epochs - s->epoch - 1) * steps + (steps - s->step - 1)) *
      (secs / r->steps_run);
  tr_progress_step(&r->progress, s->epoch + 1, c->epochs, s->step + 1, steps,
                   s->ep_loss / s->ep_seen, s->ep_correct / s->ep_seen,
                   r->steps_run * (double)c->batch_size / MAX(secs, 1e-9),
                   left);
  if (interrupted ||
      (c->stop_after_steps > 0 && r->steps_run >= c->stop_after_steps)) {
    r->stop = TRUE;
    r->interrupted = interrupted;
  }
}

/* One step: build the batch, compute, reduce, update, record. */
static gboolean run_step(TrRun *r, GError **error) {
  gint64 t0 = g_get_monotonic_time();
  int b = tr_run_build_batch(r);
  if (!tr_run_fault(r, TR_FAULT_BEFORE_STEP, error))
    return FALSE;
  gint64 t1 = g_get_monotonic_time();
  TrStepStats st;
  tr_run_compute(r, b, &st);
  gint64 t2 = g_get_monotonic_time();
  gboolean interrupted = tr_run_reduce(r, &st, tr_interrupt_requested());
  gint64 t3 = g_get_monotonic_time();
  if (!tr_run_update(r, error))
    return FALSE;
  r->times.step_s += (g_get_monotonic_time() - t0) / 1e6;
  r->times.compute_s += (t2 - t1) / 1e6;
  r->times.reduce_s += (t3 - t2) / 1e6;
  r->times.segments += b;
  record_step(r, &st, interrupted);
  r->st.step++;
  return TRUE;
}

/* Stopped within an epoch: the checkpoint resumes at the next step. */
static gboolean stop_mid_epoch(TrRun *r, GError **error) {
  gint64 now = g_get_monotonic_time();
  r->st.ep_elapsed += (now - r->ep.start_us) / 1e6;
  r->st.total_s = r->total_at_start + (now - r->start_us) / 1e6;
  return tr_run_save_checkpoint(r, error);
}

static gboolean run_epoch(TrRun *r, GError **error) {
  const TrTrainConfig *c = r->c;
  r->ep.start_us = g_get_monotonic_time();
  if (!tr_clips_begin_epoch(&r->clips, c, r->st.epoch, error))
    return FALSE;
  r->ep.refs = tr_clips_epoch_segments(&r->clips, r->info.segment_frames,
                                       r->info.segment_hop, c->seed,
                                       r->st.epoch, &r->ep.n_refs);
  size_t bs = (size_t)c->batch_size;
  r->ep.steps = (int)((r->ep.n_refs + bs - 1) / bs);
  r->ep.lr = tr_lr_at_epoch(&c->sgd, c->lr_schedule, c->lr_min, r->st.epoch,
                            c->epochs);
  gboolean ok = TRUE;
  while (ok && !r->stop && r->st.step < r->ep.steps)
    ok = run_step(r, error);
  g_clear_pointer(&r->ep.refs, g_free);
  if (!ok)
    return FALSE;
  return r->stop ? stop_mid_epoch(r, error) : tr_run_end_epoch(r, error);
}

/* After the last epoch: the last model (and the best one if no epoch beat
 * the others). */
static gboolean save_final_models(TrRun *r, GError **error) {
  if (r->rank != 0)
    return TRUE;
  gboolean with_val = r->clips.val->len > 0;
  const TrRunPaths *p = r->paths;
  if (!acrnn_model_save(with_val ? p->last : p->model, r->net, &r->info, error))
    return FALSE;
  if (with_val && r->st.best_epoch == 0)
    return acrnn_model_save(p->model, r->net, &r->info, error);
  return TRUE;
}

/* --timings: the mean over the ranks of each rank's times. */
static void print_timings(TrRun *r) {
  double t[3] = {r->times.step_s, r->times.compute_s, r->times.reduce_s};
  if (r->world > 1)
    tr_dist_sum_doubles(t, 3);
  for (int i = 0; i < 3; i++)
    t[i] /= r->world;
  int n = MAX(r->steps_run, 1);
  double segs = r->times.segments;
  if (tr_dist_rank() == 0)
    printf("timings: ranks %d threads %d steps %d segments %.0f "
           "step_s %.6f seg_per_s %.3f compute_ms_per_step %.3f "
           "allreduce_ms_per_step %.3f\n",
           r->world, r->c->threads, r->steps_run, segs, t[0],
           segs / MAX(t[0], 1e-9), 1e3 * t[1] / n, 1e3 * t[2] / n);
  fflush(stdout);
}

static void fill_result(const TrRun *r, TrRunResult *result) {
  const TrEpochRecord *e =
      r->history->len
          ? &g_array_index(r->history, TrEpochRecord, r->history->len - 1)
          : NULL;
  result->last_val_acc = e ? e->val_acc : -1;
  result->last_train_acc = e ? e->train_acc : 0;
  result->best_val_acc = r->st.best_acc;
  result->best_epoch = r->st.best_epoch;
  result->epochs_done = r->st.epoch;
  result->total_s = r->st.total_s;
  result->stopped = r->stop;
}

/* After the loop: the final models, or the stop's message; timings. */
static gboolean run_finish(TrRun *r, TrRunResult *result, GError **error) {
  result->interrupted = r->interrupted;
  if (!r->stop && !save_final_models(r, error))
    return FALSE;
  if (r->stop && tr_dist_rank() == 0) /* even with --quiet */
    tr_progress_message(&r->progress,
                        "%s at epoch %d step %d: checkpoint saved to %s; "
                        "continue with --resume %s",
                        r->interrupted ? "interrupted" : "stopped",
                        r->st.epoch + 1, r->st.step, r->paths->checkpoint,
                        r->paths->checkpoint);
  if (r->c->augment_cache && tr_dist_rank() == 0 && !r->progress.quiet)
    tr_progress_message(
        &r->progress, "augmented copies: %zu made, %zu read from %s",
        r->clips.copies_made, r->clips.copies_cached, r->c->augment_cache);
  if (r->c->timings)
    print_timings(r);
  fill_result(r, result);
  return TRUE;
}

gboolean tr_train_run(const TrTrainConfig *c, const TrDataset *ds,
                      const int *train_folds, int n_train_folds, int val_fold,
                      const TrRunPaths *paths, const char *resume,
                      TrRunResult *result, GError **error) {
  TrRun r;
  memset(&r, 0, sizeof r);
  r.c = c;
  r.ds = ds;
  r.paths = paths;
  memset(result, 0, sizeof *result);
  result->last_val_acc = -1;
  result->best_val_acc = -1;
  gboolean ok =
      run_open(&r, train_folds, n_train_folds, val_fold, resume, error);
  if (ok)
    announce(&r);
  while (ok && !r.stop && r.st.epoch < c->epochs)
    ok = run_epoch(&r, error);
  if (ok)
    ok = run_finish(&r, result, error);
  run_clear(&r);
  return ok;
}
