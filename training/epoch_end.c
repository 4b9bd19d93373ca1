/* epoch_end.c - the end of a training epoch: clip-level validation, the
 * epoch's record (progress line and log), the best model so far, the
 * checkpoint and the curves. */
#include "dist.h"
#include "epoch_record.h"
#include "plot.h"
#include "predict.h"
#include "train_run.h"

/* Clip accuracy on the validation clips; in a data-parallel run each rank
 * predicts every world-th clip (the weights and running statistics are the
 * same on all ranks by then). */
static double validate(TrRun *r) {
  const GArray *val = r->clips.val;
  if (val->len == 0)
    return -1;
  double correct = 0;
  float *p = g_new(float, r->info.n_labels);
  for (guint i = (guint)r->rank; i < val->len; i += (guint)r->world) {
    const TrClipFeat *cf = &g_array_index(val, TrClipFeat, i);
    int pred = tr_predict_clip(r->net, &r->info, cf->frames, cf->n,
                               r->c->batch_size, p);
    correct += pred == cf->label;
  }
  g_free(p);
  if (r->world > 1)
    tr_dist_sum_doubles(&correct, 1);
  return correct / val->len;
}

static TrEpochRecord epoch_record(TrRun *r) {
  const TrCheckpointState *st = &r->st;
  gint64 now = g_get_monotonic_time();
  TrEpochRecord e = {0};
  e.epoch = st->epoch + 1;
  e.train_loss = st->ep_seen > 0 ? st->ep_loss / st->ep_seen : 0;
  e.train_acc = st->ep_seen > 0 ? st->ep_correct / st->ep_seen : 0;
  e.val_acc = validate(r);
  e.lr = r->ep.lr;
  e.time_s = st->ep_elapsed + (now - r->ep.start_us) / 1e6;
  r->st.total_s = r->total_at_start + (now - r->start_us) / 1e6;
  e.total_s = r->st.total_s;
  return e;
}

/* The best model so far: the epoch's when its validation accuracy beats
 * the best's. */
static gboolean keep_best(TrRun *r, const TrEpochRecord *e, GError **error) {
  if (r->clips.val->len == 0 || !(e->val_acc > r->st.best_acc))
    return TRUE;
  r->st.best_acc = e->val_acc;
  r->st.best_epoch = e->epoch;
  return r->rank != 0 ||
         acrnn_model_save(r->paths->model, r->net, &r->info, error);
}

static void plot(TrRun *r) {
  if (r->rank != 0)
    return;
  GError *err = NULL;
  if (!tr_plot_curves(r->paths->plot, (TrEpochRecord *)r->history->data,
                      r->history->len, &err)) {
    if (r->history->len == 1 || err->code != 2)
      tr_progress_message(&r->progress, "note: %s", err->message);
    g_error_free(err);
  }
}

/* The next epoch starts from step 0 with its own figures. */
static void next_epoch(TrCheckpointState *st) {
  st->epoch++;
  st->step = 0;
  st->ep_loss = st->ep_correct = st->ep_seen = st->ep_elapsed = 0;
}

gboolean tr_run_end_epoch(TrRun *r, GError **error) {
  const TrTrainConfig *c = r->c;
  TrEpochRecord e = epoch_record(r);
  g_array_append_val(r->history, e);
  tr_progress_epoch(&r->progress, &e, c->epochs);
  gboolean ok = r->rank != 0 || tr_log_write(r->history, r->paths->log, error);
  if (ok)
    ok = keep_best(r, &e, error);
  r->epochs_run++;
  next_epoch(&r->st);
  int epoch = r->st.epoch;
  gboolean last = epoch >= c->epochs;
  if (!last && c->stop_after_epochs > 0 &&
      r->epochs_run >= c->stop_after_epochs)
    r->stop = TRUE;
  if (ok && (r->stop || last ||
             (c->checkpoint_every > 0 && epoch % c->checkpoint_every == 0)))
    ok = tr_run_save_checkpoint(r, error);
  if (ok && (last || r->stop || r->epochs_run == 1 || epoch % 10 == 0))
    plot(r);
  return ok;
}
