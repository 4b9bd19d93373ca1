/* trainer.c - a training run as the paper describes it: segments of the
 * training clips' features, shuffled batches without repetition each epoch,
 * mixup, SGD with Nesterov momentum and a step schedule, clip-level
 * validation each epoch, JSON-lines log, curves, checkpoints and a
 * bit-identical resume; data-parallel over the ranks of an MPI job (each
 * computes its share of every global batch; one all-reduce of the summed
 * gradients per step; rank 0 writes the outputs). */
#include "trainer.h"
#include "augment_clip.h"
#include "checkpoint_state.h"
#include "decode.h"
#include "dist.h"
#include "feature_cache.h"
#include "init_from.h"
#include "plot.h"
#include "predict.h"
#include "progress.h"
#include "split_record.h"
#include "step.h"
#include <acrnn/acrnn.h>
#include <errno.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define TRAIN_ERROR (g_quark_from_static_string("acrnn-train-error"))
#define VELOCITY_NAME "optimizer.velocity"

typedef struct {
  float *frames;
  size_t n;
  int label;
} ClipFeat;

typedef struct {
  uint32_t clip;
  uint32_t seg;
} SegRef;

typedef struct {
  const TrOptions *o;
  const TrDataset *ds;
  AcrnnFeatureParams fp;
  AcrnnModelInfo info;
  AcrnnNet *net;
  AcrnnSgd *opt;
  GArray *train; /* ClipFeat: the originals, then offline copies */
  size_t n_orig;
  GArray *val;   /* ClipFeat */
  float **waves; /* online augmentation: the original waveforms */
  size_t *wave_n;
  GArray *online;  /* ClipFeat of this epoch's augmented originals */
  AcrnnRng rng;    /* mixup (the same on every rank); in a single-group run
                     also dropout */
  int rank, world; /* of this run (0 and 1 unless data-parallel) */
  float *grads;    /* the summed gradients (+ step statistics), or NULL */
  int epoch, step; /* the next step to run */
  double best_acc;
  int best_epoch;
  double ep_loss, ep_correct, ep_seen, ep_elapsed, total_s;
  GArray *history; /* TrEpochRecord */
  TrProgress progress;
} Run;

void tr_run_paths_init(TrRunPaths *p, const char *out, const TrOptions *o) {
  char *stem = g_str_has_suffix(out, ".safetensors")
                   ? g_strndup(out, strlen(out) - strlen(".safetensors"))
                   : g_strdup(out);
  p->model = g_strdup(out);
  p->last = g_strconcat(stem, ".last.safetensors", NULL);
  p->checkpoint = o && o->checkpoint
                      ? g_strdup(o->checkpoint)
                      : g_strconcat(stem, ".ckpt.safetensors", NULL);
  p->log =
      o && o->log ? g_strdup(o->log) : g_strconcat(stem, ".log.jsonl", NULL);
  p->plot =
      o && o->plot ? g_strdup(o->plot) : g_strconcat(stem, ".curves.png", NULL);
  g_free(stem);
}

void tr_run_paths_clear(TrRunPaths *p) {
  g_clear_pointer(&p->model, g_free);
  g_clear_pointer(&p->last, g_free);
  g_clear_pointer(&p->checkpoint, g_free);
  g_clear_pointer(&p->log, g_free);
  g_clear_pointer(&p->plot, g_free);
}

static void clipfeat_clear(gpointer p) {
  g_free(((ClipFeat *)p)->frames);
}

static gboolean in_list(int f, const int *list, int n) {
  for (int i = 0; i < n; i++)
    if (list[i] == f)
      return TRUE;
  return FALSE;
}

/* Seeds a generator for one purpose and epoch from the run's seed. */
static void derive_rng(AcrnnRng *r, gint64 seed, guint64 purpose, int epoch) {
  acrnn_rng_seed(r, (guint64)seed ^ (purpose * 0x9e3779b97f4a7c15ULL) ^
                        ((guint64)(epoch + 1) * 0xd1b54a32d192ed03ULL));
}

static gboolean load_clips(Run *r, const int *train_folds, int n_train,
                           int val_fold, GError **error) {
  const TrOptions *o = r->o;
  char *cache = o->no_cache ? NULL : tr_cache_dir(o->cache);
  gboolean online = g_strcmp0(o->augment, "online") == 0;
  gboolean offline = g_strcmp0(o->augment, "offline") == 0;
  GPtrArray *waves = g_ptr_array_new();
  GArray *wave_n = g_array_new(FALSE, FALSE, sizeof(size_t));
  gboolean ok = TRUE;
  size_t done = 0, total = 0;
  for (size_t i = 0; i < r->ds->n_clips; i++) {
    int f = r->ds->clips[i].fold;
    total += in_list(f, train_folds, n_train) || (val_fold && f == val_fold);
  }
  for (size_t i = 0; i < r->ds->n_clips && ok; i++) {
    const TrClip *c = &r->ds->clips[i];
    gboolean tr = in_list(c->fold, train_folds, n_train);
    gboolean va = val_fold > 0 && c->fold == val_fold;
    if (!tr && !va)
      continue;
    ClipFeat cf = {0};
    cf.label = c->label;
    cf.frames =
        tr_features_for_file(c->path, &r->fp, cache, &cf.n, NULL, error);
    if (!cf.frames) {
      ok = FALSE;
      break;
    }
    g_array_append_val(tr ? r->train : r->val, cf);
    if (tr && (online || offline)) {
      size_t n = 0;
      float *w = tr_decode_file(c->path, r->fp.sample_rate, &n, error);
      if (!w) {
        ok = FALSE;
        break;
      }
      g_ptr_array_add(waves, w);
      g_array_append_val(wave_n, n);
    }
    done++;
    tr_progress_count(&r->progress, done == total, "features %zu/%zu", done,
                      total);
  }
  tr_progress_end_line(&r->progress);
  r->n_orig = r->train->len;
  g_free(cache);
  if (ok && r->train->len == 0) {
    g_set_error(error, TRAIN_ERROR, 1,
                "no training clips: no clip of %s is in the training folds",
                r->ds->root);
    ok = FALSE;
  }
  if (ok && offline) {
    AcrnnRng ar;
    derive_rng(&ar, o->seed, 3, -1);
    for (size_t i = 0; i < r->n_orig && ok; i++)
      for (int k = 0; k < o->augment_copies && ok; k++) {
        ClipFeat cf = {0};
        cf.label = g_array_index(r->train, ClipFeat, i).label;
        cf.frames = tr_augment_features(
            g_ptr_array_index(waves, i), g_array_index(wave_n, size_t, i),
            &r->fp, tr_options_augment(o), &ar, &cf.n, error);
        if (!cf.frames)
          ok = FALSE;
        else
          g_array_append_val(r->train, cf);
      }
  }
  if (online && ok) {
    r->wave_n = (size_t *)g_array_free(wave_n, FALSE);
    r->waves = (float **)g_ptr_array_free(waves, FALSE);
  } else {
    g_array_unref(wave_n);
    g_ptr_array_set_free_func(waves, g_free);
    g_ptr_array_unref(waves);
  }
  return ok;
}

/* Per-channel mean and standard deviation over the frames of the original
 * training clips. */
static void compute_norm(Run *r) {
  int b = r->fp.bands;
  double sum[2] = {0, 0}, sq[2] = {0, 0}, cnt = 0;
  for (size_t i = 0; i < r->n_orig; i++) {
    const ClipFeat *c = &g_array_index(r->train, ClipFeat, i);
    for (size_t t = 0; t < c->n; t++)
      for (int ch = 0; ch < 2; ch++) {
        const float *f = c->frames + t * 2 * (size_t)b + (size_t)ch * b;
        for (int k = 0; k < b; k++) {
          sum[ch] += f[k];
          sq[ch] += (double)f[k] * f[k];
        }
      }
    cnt += (double)c->n * b;
  }
  for (int ch = 0; ch < 2; ch++) {
    double m = cnt > 0 ? sum[ch] / cnt : 0;
    double v = cnt > 0 ? sq[ch] / cnt - m * m : 1;
    r->info.mean[ch] = (float)m;
    r->info.std[ch] = (float)(v > 1e-12 ? sqrt(v) : 1.0);
  }
}

static gboolean make_online(Run *r, int epoch, GError **error) {
  AcrnnRng ar;
  derive_rng(&ar, r->o->seed, 4, epoch);
  g_array_set_size(r->online, 0);
  for (size_t i = 0; i < r->n_orig; i++) {
    ClipFeat cf = {0};
    cf.label = g_array_index(r->train, ClipFeat, i).label;
    cf.frames =
        tr_augment_features(r->waves[i], r->wave_n[i], &r->fp,
                            tr_options_augment(r->o), &ar, &cf.n, error);
    if (!cf.frames)
      return FALSE;
    g_array_append_val(r->online, cf);
  }
  return TRUE;
}

static GArray *current_set(Run *r) {
  return r->waves ? r->online : r->train;
}

static size_t count_segments(Run *r) {
  size_t n = 0;
  for (guint i = 0; i < r->train->len; i++)
    n += acrnn_segment_count(g_array_index(r->train, ClipFeat, i).n,
                             r->info.segment_frames, r->info.segment_hop);
  return n;
}

static SegRef *epoch_segments(Run *r, int epoch, size_t *n_out) {
  GArray *set = current_set(r);
  int sf = r->info.segment_frames, sh = r->info.segment_hop;
  size_t n = 0;
  for (guint i = 0; i < set->len; i++)
    n += acrnn_segment_count(g_array_index(set, ClipFeat, i).n, sf, sh);
  SegRef *refs = g_new(SegRef, n);
  size_t k = 0;
  for (guint i = 0; i < set->len; i++) {
    size_t m = acrnn_segment_count(g_array_index(set, ClipFeat, i).n, sf, sh);
    for (size_t s = 0; s < m; s++)
      refs[k++] = (SegRef){i, (uint32_t)s};
  }
  uint32_t *perm = g_new(uint32_t, n > 0 ? n : 1);
  for (size_t i = 0; i < n; i++)
    perm[i] = (uint32_t)i;
  AcrnnRng sr;
  derive_rng(&sr, r->o->seed, 1, epoch);
  acrnn_rng_shuffle(&sr, perm, n);
  SegRef *out = g_new(SegRef, n > 0 ? n : 1);
  for (size_t i = 0; i < n; i++)
    out[i] = refs[perm[i]];
  g_free(perm);
  g_free(refs);
  *n_out = n;
  return out;
}

/* Clip accuracy on the validation clips; in a data-parallel run each rank
 * predicts every world-th clip (the weights and running statistics are the
 * same on all ranks by then). */
static double validate(Run *r) {
  if (r->val->len == 0)
    return -1;
  int c = r->info.n_labels;
  double correct = 0;
  float *p = g_new(float, c);
  for (guint i = (guint)r->rank; i < r->val->len; i += (guint)r->world) {
    const ClipFeat *cf = &g_array_index(r->val, ClipFeat, i);
    int pred = tr_predict_clip(r->net, &r->info, cf->frames, cf->n,
                               r->o->batch_size, p);
    correct += pred == cf->label;
  }
  g_free(p);
  if (r->world > 1)
    tr_dist_sum_doubles(&correct, 1);
  return correct / r->val->len;
}

/* Refuses to train when the ranks' features differ (the file list was
 * compared before loading): the same counts of frames and segments, and
 * normalisation statistics equal to 1e-5 (exact equality would refuse
 * nodes whose FFT code paths round differently). */
static gboolean check_features(Run *r, GError **error) {
  if (r->world <= 1)
    return TRUE;
  guint64 h = 0;
  for (guint i = 0; i < r->train->len; i++) {
    guint64 n = g_array_index(r->train, ClipFeat, i).n;
    h = tr_hash_bytes(h, &n, sizeof n);
  }
  for (guint i = 0; i < r->val->len; i++) {
    guint64 n = g_array_index(r->val, ClipFeat, i).n;
    h = tr_hash_bytes(h, &n, sizeof n);
  }
  const char *what[] = {"feature frame counts"};
  if (!tr_dist_check_same(what, &h, 1, error))
    return FALSE;
  double *all = g_new0(double, 4 * (size_t)r->world);
  for (int ch = 0; ch < 2; ch++) {
    all[4 * r->rank + ch] = r->info.mean[ch];
    all[4 * r->rank + 2 + ch] = r->info.std[ch];
  }
  tr_dist_sum_doubles(all, 4 * (size_t)r->world);
  gboolean ok = TRUE;
  for (int k = 1; ok && k < r->world; k++)
    for (int i = 0; ok && i < 4; i++)
      if (fabs(all[4 * k + i] - all[i]) > 1e-5 * (fabs(all[i]) + 1e-3)) {
        g_set_error(error, TR_DIST_ERROR, 1,
                    "rank %d's features differ from rank 0's (feature %s "
                    "%.9g against %.9g): the ranks must read the same audio "
                    "files",
                    k, i < 2 ? "mean" : "std", all[4 * k + i], all[i]);
        ok = FALSE;
      }
  g_free(all);
  return ok;
}

static char *hex_double(double v) {
  return g_strdup_printf("%a", v);
}

static gboolean save_checkpoint(Run *r, const char *path, GError **error) {
  if (r->rank != 0)
    return TRUE;
  char *opts = tr_options_to_json(r->o);
  char rng[80];
  g_snprintf(rng, sizeof rng,
             "%016" G_GINT64_MODIFIER "x%016" G_GINT64_MODIFIER
             "x%016" G_GINT64_MODIFIER "x%016" G_GINT64_MODIFIER "x",
             (guint64)r->rng.s[0], (guint64)r->rng.s[1], (guint64)r->rng.s[2],
             (guint64)r->rng.s[3]);
  char *vals[] = {
      g_strdup_printf("%d", r->epoch), g_strdup_printf("%d", r->step),
      hex_double(r->best_acc),         g_strdup_printf("%d", r->best_epoch),
      hex_double(r->ep_loss),          hex_double(r->ep_correct),
      hex_double(r->ep_seen),          hex_double(r->ep_elapsed),
      hex_double(r->total_s)};
  const char *meta[] = {"acrnn-train.epoch",
                        vals[0],
                        "acrnn-train.step",
                        vals[1],
                        "acrnn-train.rng",
                        rng,
                        "acrnn-train.best_accuracy",
                        vals[2],
                        "acrnn-train.best_epoch",
                        vals[3],
                        "acrnn-train.epoch_loss",
                        vals[4],
                        "acrnn-train.epoch_correct",
                        vals[5],
                        "acrnn-train.epoch_seen",
                        vals[6],
                        "acrnn-train.epoch_elapsed",
                        vals[7],
                        "acrnn-train.elapsed",
                        vals[8],
                        "acrnn-train.options",
                        opts,
                        NULL};
  const char *names[] = {VELOCITY_NAME, NULL}; /* NULL-terminated */
  const float *data[] = {r->opt->velocity};
  size_t numel[] = {r->opt->n};
  gboolean ok = acrnn_model_save_full(path, r->net, &r->info, names, data,
                                      numel, meta, error);
  for (size_t i = 0; i < G_N_ELEMENTS(vals); i++)
    g_free(vals[i]);
  g_free(opts);
  return ok;
}

static gboolean load_checkpoint(Run *r, const char *path, GError **error) {
  AcrnnModelInfo info;
  AcrnnNet *net = acrnn_model_load(path, &info, error);
  if (!net)
    return FALSE;
  gboolean same = info.n_labels == r->info.n_labels;
  for (int i = 0; same && i < info.n_labels; i++)
    same = strcmp(info.labels[i], r->info.labels[i]) == 0;
  if (!same) {
    g_set_error(error, TRAIN_ERROR, 1,
                "%s: the checkpoint's labels differ from those of the "
                "dataset %s",
                path, r->ds->root);
    acrnn_model_info_clear(&info);
    acrnn_net_free(net);
    return FALSE;
  }
  acrnn_model_info_clear(&r->info);
  r->info = info;
  acrnn_net_set_precision(net, acrnn_net_get_precision(r->net));
  acrnn_net_free(r->net);
  r->net = net;
  acrnn_net_set_dropout(net, (float)r->o->dropout);
  size_t numel = 0;
  float *vel = acrnn_model_read_extra(path, VELOCITY_NAME, &numel, error);
  if (!vel)
    return FALSE;
  if (numel != acrnn_net_n_params(net)) {
    g_set_error(error, TRAIN_ERROR, 1, "%s: %s has %zu values, expected %zu",
                path, VELOCITY_NAME, numel, acrnn_net_n_params(net));
    g_free(vel);
    return FALSE;
  }
  memcpy(r->opt->velocity, vel, numel * sizeof(float));
  g_free(vel);
  TrCheckpointState st;
  if (!tr_checkpoint_state_read(path, &st, error))
    return FALSE;
  r->epoch = st.epoch;
  r->step = st.step;
  r->best_epoch = st.best_epoch;
  r->best_acc = st.best_acc;
  r->ep_loss = st.ep_loss;
  r->ep_correct = st.ep_correct;
  r->ep_seen = st.ep_seen;
  r->ep_elapsed = st.ep_elapsed;
  r->total_s = st.total_s;
  memcpy(r->rng.s, st.rng, sizeof r->rng.s);
  return TRUE;
}

static void record_to_json(const TrEpochRecord *e, GString *s) {
  g_string_append_printf(s,
                         "{\"epoch\": %d, \"train_loss\": %.9g, "
                         "\"train_acc\": %.9g, ",
                         e->epoch, e->train_loss, e->train_acc);
  if (e->val_acc >= 0)
    g_string_append_printf(s, "\"val_acc\": %.9g, ", e->val_acc);
  else
    g_string_append(s, "\"val_acc\": null, ");
  g_string_append_printf(s,
                         "\"lr\": %.9g, \"time_s\": %.3f, "
                         "\"total_s\": %.3f}\n",
                         e->lr, e->time_s, e->total_s);
}

/* On resume: keeps the log's records of the epochs done, drops later ones. */
static void restore_history(Run *r, const char *log) {
  char *text = NULL;
  if (!g_file_get_contents(log, &text, NULL, NULL))
    return;
  char **lines = g_strsplit(text, "\n", -1);
  g_free(text);
  for (int i = 0; lines[i]; i++) {
    JsonNode *n = *lines[i] ? json_from_string(lines[i], NULL) : NULL;
    if (n && JSON_NODE_HOLDS_OBJECT(n)) {
      JsonObject *o = json_node_get_object(n);
      TrEpochRecord e = {0};
      e.epoch = (int)json_object_get_int_member_with_default(o, "epoch", 0);
      e.train_loss =
          json_object_get_double_member_with_default(o, "train_loss", 0);
      e.train_acc =
          json_object_get_double_member_with_default(o, "train_acc", 0);
      JsonNode *v = json_object_get_member(o, "val_acc");
      e.val_acc = v && !JSON_NODE_HOLDS_NULL(v) ? json_node_get_double(v) : -1;
      e.lr = json_object_get_double_member_with_default(o, "lr", 0);
      e.time_s = json_object_get_double_member_with_default(o, "time_s", 0);
      e.total_s = json_object_get_double_member_with_default(o, "total_s", 0);
      if (e.epoch >= 1 && e.epoch <= r->epoch)
        g_array_append_val(r->history, e);
    }
    if (n)
      json_node_unref(n);
  }
  g_strfreev(lines);
}

static gboolean write_log(Run *r, const char *log, GError **error) {
  if (r->rank != 0)
    return TRUE;
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < r->history->len; i++)
    record_to_json(&g_array_index(r->history, TrEpochRecord, i), s);
  gboolean ok = g_file_set_contents(log, s->str, (gssize)s->len, error);
  g_string_free(s, TRUE);
  return ok;
}

static void scale_init(AcrnnNet *net, double std) {
  if (fabs(std - 0.05) < 1e-12)
    return;
  float f = (float)(std / 0.05);
  for (size_t i = 0; i < acrnn_net_n_tensors(net); i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(net, i);
    const char *last = strrchr(t->name, '.');
    last = last ? last + 1 : t->name;
    if (t->kind != ACRNN_TENSOR_PARAM || g_str_has_prefix(t->name, "bn.") ||
        !g_str_has_prefix(last, "weight"))
      continue;
    float *d = acrnn_net_tensor_data(net, t);
    for (size_t k = 0; k < t->numel; k++)
      d[k] *= f;
  }
}

static gboolean setup(Run *r, GError **error) {
  const TrOptions *o = r->o;
  if (!tr_options_feature_params(o, &r->fp, error))
    return FALSE;
  acrnn_model_info_init(&r->info);
  r->info.labels = g_strdupv(r->ds->labels);
  r->info.n_labels = r->ds->n_labels;
  r->info.features = r->fp;
  r->info.segment_frames = o->segment_frames;
  r->info.segment_hop = o->segment_hop;
  if (!acrnn_attention_parse(o->attention, &r->info.attention, error))
    return FALSE;
  /* fine-tuning: MODEL's features, segments and attention (init_from.c) */
  if (!tr_init_from_config(o, &r->fp, &r->info, error))
    return FALSE;
  AcrnnPrecision precision;
  if (!acrnn_precision_parse(o->precision, &precision, error)) {
    g_prefix_error(error, "--precision: ");
    return FALSE;
  }
  const char *bad = NULL;
  if (o->segment_frames < 1 || o->segment_hop < 1)
    bad = "--segment-frames and --segment-hop must be at least 1";
  else if (o->epochs < 1)
    bad = "--epochs must be at least 1";
  else if (o->batch_size < 1)
    bad = "--batch-size must be at least 1";
  else if (!(o->lr > 0) || !(o->momentum >= 0 && o->momentum < 1))
    bad = "--lr must be above 0 and --momentum in [0, 1)";
  else if (!(o->weight_decay >= 0) || !(o->init_std > 0))
    bad = "--weight-decay must be >= 0 and --init-std above 0";
  else if (!(o->dropout >= 0 && o->dropout < 1))
    bad = "--dropout must be in [0, 1)";
  else if (!(o->mixup_alpha >= 0))
    bad = "--mixup-alpha must be >= 0 (0 disables mixup)";
  else if (g_strcmp0(o->augment, "none") && g_strcmp0(o->augment, "offline") &&
           g_strcmp0(o->augment, "online"))
    bad = "--augment must be none, offline or online";
  else if (!(o->stretch_min > 0 && o->stretch_max >= o->stretch_min) ||
           !(o->pitch_range >= 0))
    bad = "expected 0 < --stretch-min <= --stretch-max and --pitch-range "
          ">= 0";
  if (bad) {
    g_set_error_literal(error, TRAIN_ERROR, 1, bad);
    return FALSE;
  }
  AcrnnNetConfig cfg;
  acrnn_model_info_net_config(&r->info, &cfg);
  r->net = acrnn_net_new(&cfg, error);
  if (!r->net)
    return FALSE;
  acrnn_net_init_random(r->net, (uint64_t)o->seed);
  scale_init(r->net, o->init_std);
  acrnn_net_set_dropout(r->net, (float)o->dropout);
  acrnn_net_set_precision(r->net, precision);
  AcrnnSgdParams sp;
  acrnn_sgd_params_init(&sp);
  sp.lr = (float)o->lr;
  sp.momentum = (float)o->momentum;
  sp.nesterov = !o->no_nesterov;
  sp.weight_decay = (float)o->weight_decay;
  sp.step_epochs = o->lr_step;
  sp.step_gamma = (float)o->lr_gamma;
  r->opt = acrnn_sgd_new(&sp, acrnn_net_n_params(r->net));
  derive_rng(&r->rng, o->seed, 2, -1);
  r->best_acc = -1;
  return TRUE;
}

static void run_clear(Run *r) {
  if (r->train)
    g_array_unref(r->train);
  if (r->val)
    g_array_unref(r->val);
  if (r->online)
    g_array_unref(r->online);
  if (r->waves)
    for (size_t i = 0; i < r->n_orig; i++)
      g_free(r->waves[i]);
  g_free(r->waves);
  g_free(r->wave_n);
  g_free(r->grads);
  if (r->history)
    g_array_unref(r->history);
  acrnn_net_free(r->net);
  acrnn_sgd_free(r->opt);
  acrnn_model_info_clear(&r->info);
  tr_progress_clear(&r->progress);
}

static gboolean save_outputs(Run *r, const TrRunPaths *paths, gboolean with_val,
                             GError **error) {
  if (r->rank != 0)
    return TRUE;
  if (!acrnn_model_save(with_val ? paths->last : paths->model, r->net, &r->info,
                        error))
    return FALSE;
  return TRUE;
}

static void plot(Run *r, const TrRunPaths *paths) {
  if (r->rank != 0)
    return;
  GError *err = NULL;
  if (!tr_plot_curves(paths->plot, (TrEpochRecord *)r->history->data,
                      r->history->len, &err)) {
    if (r->history->len == 1 || err->code != 2)
      tr_progress_message(&r->progress, "note: %s", err->message);
    g_error_free(err);
  }
}

/* Seed of the dropout generators of a step split into shards: from the
 * seed, the epoch and the step alone, so a resumed run draws the same;
 * tr_step_groups() mixes in each shard's index (each rank has its own
 * streams, and the mixup stream stays the same on every rank). */
static guint64 dropout_seed(gint64 seed, int epoch, int step) {
  AcrnnRng d;
  derive_rng(&d, seed, 5, epoch);
  for (int i = 0; i < 4; i++)
    d.s[i] ^= (guint64)(step + 1) * 0x94d049bb133111ebULL;
  return acrnn_rng_next(&d);
}

/* The hidden --debug-fault KIND of the tests, at its rank and step. */
static gboolean debug_fault(Run *r, const char *kind, int steps_run) {
  const TrOptions *o = r->o;
  return o->debug_fault && strcmp(o->debug_fault, kind) == 0 &&
         tr_dist_rank() == o->debug_fault_rank &&
         steps_run == o->debug_fault_step;
}

/* --check-sync: every rank's weights and running statistics must be
 * bit-identical after a step. */
static gboolean check_sync(Run *r, int step, GError **error) {
  guint64 h = tr_hash_bytes(0, acrnn_net_params(r->net),
                            acrnn_net_n_params(r->net) * sizeof(float));
  h = tr_hash_bytes(h, acrnn_net_buffers(r->net),
                    acrnn_net_n_buffers(r->net) * sizeof(float));
  const char *what[] = {"weights"};
  if (tr_dist_check_same(what, &h, 1, error))
    return TRUE;
  g_prefix_error(error, "--check-sync after step %d: ", step);
  return FALSE;
}

gboolean tr_train_run(const TrOptions *o, const TrDataset *ds,
                      const int *train_folds, int n_train_folds, int val_fold,
                      const TrRunPaths *paths, const char *resume,
                      TrRunResult *result, GError **error) {
  Run r;
  memset(&r, 0, sizeof r);
  r.o = o;
  r.ds = ds;
  r.world = o->local_run ? 1 : tr_dist_size();
  r.rank = o->local_run ? 0 : tr_dist_rank();
  r.train = g_array_new(FALSE, TRUE, sizeof(ClipFeat));
  r.val = g_array_new(FALSE, TRUE, sizeof(ClipFeat));
  r.online = g_array_new(FALSE, TRUE, sizeof(ClipFeat));
  g_array_set_clear_func(r.train, clipfeat_clear);
  g_array_set_clear_func(r.val, clipfeat_clear);
  g_array_set_clear_func(r.online, clipfeat_clear);
  r.history = g_array_new(FALSE, TRUE, sizeof(TrEpochRecord));
  char *prefix = NULL;
  if (o->out_dir && val_fold)
    prefix = g_strdup_printf("fold %d: ", val_fold);
  tr_progress_init(&r.progress, o->quiet || tr_dist_rank() != 0, prefix);
  g_free(prefix);
  memset(result, 0, sizeof *result);
  result->last_val_acc = -1;
  result->best_val_acc = -1;
  acrnn_set_threads(o->threads);

  gboolean ok = setup(&r, error);
  if (ok && o->bn_groups < 1) {
    g_set_error(error, TRAIN_ERROR, 1, "--bn-groups must be at least 1");
    ok = FALSE;
  }
  /* Rank 0 computes the features first (and fills the cache), the others
   * then read them from the cache where they share it. */
  if (ok && r.rank == 0)
    ok = load_clips(&r, train_folds, n_train_folds, val_fold, error);
  if (r.world > 1 && (ok || r.rank != 0))
    tr_dist_barrier();
  if (ok && r.rank != 0)
    ok = load_clips(&r, train_folds, n_train_folds, val_fold, error);
  if (ok) {
    compute_norm(&r);
    ok = check_features(&r, error);
  }
  if (ok && resume) {
    ok = load_checkpoint(&r, resume, error);
    if (ok)
      restore_history(&r, paths->log);
  }
  /* fine-tuning: MODEL's weights, --freeze-conv (init_from.c) */
  TrFineTune *ft = NULL;
  if (ok)
    ok = tr_fine_tune_start(o, r.net, &r.info, r.opt, resume != NULL,
                            &r.progress, &ft, error);
  if (!ok) {
    run_clear(&r);
    return FALSE;
  }
  /* every model and checkpoint of the run says which clips it learnt from
   * (a resumed run's checkpoint says the same) */
  g_free(r.info.split);
  r.info.split = tr_split_record(o, ds, train_folds, n_train_folds, val_fold);
  gboolean with_val = r.val->len > 0;
  int C = r.info.n_labels, B = r.fp.bands, S = r.info.segment_frames;
  size_t dim = 2 * (size_t)B * (size_t)S;
  size_t np = acrnn_net_n_params(r.net), nb = acrnn_net_n_buffers(r.net);
  int bs = o->batch_size;
  /* the global batch is split into world * bn_groups shards; this rank
   * computes bn_groups consecutive ones */
  int groups = o->bn_groups, n_shards = r.world * groups;
  /* --threads N: N replicas of the network compute this process's shards
   * side by side, at least N of them (the semantics of --bn-groups N) */
  TrReplicas *reps = NULL;
  if (o->threads > 1) {
    groups = MAX(groups, o->threads);
    n_shards = r.world * groups;
    reps = tr_replicas_new(r.net, o->threads, groups, (float)o->dropout, error);
    if (!reps) {
      tr_fine_tune_free(ft); /* fine-tuning */
      run_clear(&r);
      return FALSE;
    }
  }
  int first_shard = r.rank * groups;
  /* the all-reduced block: the gradients, the batch norm running
   * statistics, then loss, correct, seen and stop */
  if (n_shards > 1)
    r.grads = g_new0(float, np + nb + 4);
  float *x = g_new(float, dim *(size_t)bs);
  float *y = g_new(float, (size_t)C *(size_t)bs);
  int steps_run = 0, epochs_run = 0;
  gint64 run_start = g_get_monotonic_time();
  double total_at_start = r.total_s;
  double t_steps = 0, t_compute = 0, t_reduce = 0, segs_run = 0;
  gboolean stop = FALSE;
  if (!r.progress.quiet)
    tr_progress_message(
        &r.progress,
        "training on %zu clips (%zu segments per epoch, augmented copies "
        "included), validating on %u; %d classes; %zu parameters%s",
        r.n_orig, count_segments(&r), r.val->len, C, np,
        r.world > 1 ? "; data-parallel" : "");
  if (!r.progress.quiet && r.world > 1)
    tr_progress_message(&r.progress,
                        "%d ranks, each computing %d of the %d shards of "
                        "every batch of %d",
                        r.world, groups, n_shards, bs);

  gboolean stop_mid = FALSE;
  while (ok && !stop && r.epoch < o->epochs) {
    gint64 t0 = g_get_monotonic_time();
    if (r.waves && !make_online(&r, r.epoch, error)) {
      ok = FALSE;
      break;
    }
    size_t n_refs;
    SegRef *refs = epoch_segments(&r, r.epoch, &n_refs);
    int steps = (int)((n_refs + (size_t)bs - 1) / (size_t)bs);
    float lr = acrnn_sgd_lr(r.opt, r.epoch);
    GArray *set = current_set(&r);
    for (; r.step < steps; r.step++) {
      gint64 ts = g_get_monotonic_time();
      int b = (int)MIN((size_t)bs, n_refs - (size_t)r.step * bs);
      /* mixup pairs over the whole global batch, so every rank builds it;
       * without mixup only this rank's shards are needed */
      int lo = 0, hi = b;
      if (!(o->mixup_alpha > 0)) {
        lo = tr_shard_start(b, n_shards, first_shard);
        hi = tr_shard_start(b, n_shards, first_shard + groups);
      }
      memset(y + (size_t)lo * C, 0, sizeof(float) * (size_t)C * (hi - lo));
      for (int i = lo; i < hi; i++) {
        SegRef ref = refs[(size_t)r.step * bs + i];
        const ClipFeat *cf = &g_array_index(set, ClipFeat, ref.clip);
        acrnn_segment_extract(cf->frames, cf->n, B, S, r.info.segment_hop,
                              ref.seg, r.info.mean, r.info.std,
                              x + (size_t)i * dim);
        y[(size_t)i * C + cf->label] = 1.0f;
      }
      if (o->mixup_alpha > 0)
        acrnn_mixup(&r.rng, (float)o->mixup_alpha, x, dim, y, C, b);
      if (debug_fault(&r, "kill", steps_run + 1))
        raise(SIGKILL);
      if (debug_fault(&r, "error", steps_run + 1)) {
        g_set_error(error, TRAIN_ERROR, 1,
                    "epoch %d step %d: simulated failure (--debug-fault "
                    "error)",
                    r.epoch + 1, r.step + 1);
        ok = FALSE;
        break;
      }
      gint64 tc = g_get_monotonic_time();
      TrStepStats st;
      float *grads = r.grads ? r.grads : acrnn_net_grads(r.net);
      if (n_shards == 1) /* one process, one group: dropout after mixup */
        tr_step_shard(r.net, x, y, b, &r.rng, &st);
      else if (reps)
        tr_step_groups_replicas(reps, r.net, x, y, b, n_shards, first_shard,
                                groups, dropout_seed(o->seed, r.epoch, r.step),
                                grads, &st);
      else
        tr_step_groups(r.net, x, y, b, n_shards, first_shard, groups,
                       dropout_seed(o->seed, r.epoch, r.step), grads, &st);
      gint64 tr0 = g_get_monotonic_time();
      gboolean interrupted = tr_interrupt_requested();
      if (r.world > 1) {
        /* One all-reduce per step: the sum of the size-weighted gradients
         * is the gradient of the global batch's mean loss; the running
         * statistics become the mean of the ranks' (each rank's follow its
         * own shards), so every rank holds the same. */
        float *buf = acrnn_net_buffers(r.net), *stats = grads + np + nb;
        memcpy(grads + np, buf, nb * sizeof(float));
        stats[0] = (float)st.loss_sum;
        stats[1] = (float)st.correct;
        stats[2] = (float)st.n;
        stats[3] = interrupted ? 1.0f : 0.0f;
        tr_dist_sum_floats(grads, np + nb + 4);
        for (size_t i = 0; i < nb; i++)
          buf[i] = grads[np + i] / (float)r.world;
        st.loss_sum = stats[0];
        st.correct = stats[1];
        st.n = (int)lrintf(stats[2]);
        interrupted = stats[3] > 0;
      }
      gint64 tr1 = g_get_monotonic_time();
      tr_step_update(r.opt, r.net, grads, lr);
      tr_fine_tune_after_step(ft, r.net); /* fine-tuning */
      if (debug_fault(&r, "desync", steps_run + 1))
        acrnn_net_params(r.net)[0] += 1e-3f;
      if (o->check_sync && r.world > 1 &&
          !check_sync(&r, steps_run + 1, error)) {
        ok = FALSE;
        break;
      }
      gint64 te = g_get_monotonic_time();
      t_steps += (te - ts) / 1e6;
      t_compute += (tr0 - tc) / 1e6;
      t_reduce += (tr1 - tr0) / 1e6;
      segs_run += b;
      r.ep_loss += st.loss_sum;
      r.ep_correct += st.correct;
      r.ep_seen += st.n;
      steps_run++;
      double secs = (g_get_monotonic_time() - run_start) / 1e6;
      double per_step = secs / steps_run;
      double left =
          ((double)(o->epochs - r.epoch - 1) * steps + (steps - r.step - 1)) *
          per_step;
      tr_progress_step(&r.progress, r.epoch + 1, o->epochs, r.step + 1, steps,
                       r.ep_loss / r.ep_seen, r.ep_correct / r.ep_seen,
                       steps_run * (double)bs / MAX(secs, 1e-9), left);
      if (interrupted ||
          (o->stop_after_steps > 0 && steps_run >= o->stop_after_steps)) {
        r.step++;
        stop_mid = TRUE;
        result->interrupted = interrupted;
        break;
      }
    }
    g_free(refs);
    if (!ok)
      break;
    if (stop_mid) {
      r.ep_elapsed += (g_get_monotonic_time() - t0) / 1e6;
      r.total_s = total_at_start + (g_get_monotonic_time() - run_start) / 1e6;
      stop = TRUE;
      ok = save_checkpoint(&r, paths->checkpoint, error);
      break;
    }
    /* end of the epoch */
    TrEpochRecord e = {0};
    e.epoch = r.epoch + 1;
    e.train_loss = r.ep_seen > 0 ? r.ep_loss / r.ep_seen : 0;
    e.train_acc = r.ep_seen > 0 ? r.ep_correct / r.ep_seen : 0;
    e.val_acc = validate(&r);
    e.lr = lr;
    e.time_s = r.ep_elapsed + (g_get_monotonic_time() - t0) / 1e6;
    r.total_s = total_at_start + (g_get_monotonic_time() - run_start) / 1e6;
    e.total_s = r.total_s;
    g_array_append_val(r.history, e);
    tr_progress_epoch(&r.progress, &e, o->epochs);
    ok = write_log(&r, paths->log, error);
    if (ok && with_val && e.val_acc > r.best_acc) {
      r.best_acc = e.val_acc;
      r.best_epoch = e.epoch;
      if (r.rank == 0)
        ok = acrnn_model_save(paths->model, r.net, &r.info, error);
    }
    epochs_run++;
    r.epoch++;
    r.step = 0;
    r.ep_loss = r.ep_correct = r.ep_seen = r.ep_elapsed = 0;
    gboolean last = r.epoch >= o->epochs;
    if (!last && o->stop_after_epochs > 0 && epochs_run >= o->stop_after_epochs)
      stop = TRUE;
    if (ok && (stop || last ||
               (o->checkpoint_every > 0 && r.epoch % o->checkpoint_every == 0)))
      ok = save_checkpoint(&r, paths->checkpoint, error);
    if (ok && (last || stop || epochs_run == 1 || r.epoch % 10 == 0))
      plot(&r, paths);
  }
  if (ok && !stop) {
    ok = save_outputs(&r, paths, with_val, error);
    if (ok && with_val && r.best_epoch == 0 && r.rank == 0)
      ok = acrnn_model_save(paths->model, r.net, &r.info, error);
  }
  if (ok && stop && tr_dist_rank() == 0) /* even with --quiet */
    tr_progress_message(&r.progress,
                        "%s at epoch %d step %d: checkpoint saved to %s; "
                        "continue with --resume %s",
                        result->interrupted ? "interrupted" : "stopped",
                        r.epoch + 1, r.step, paths->checkpoint,
                        paths->checkpoint);
  if (ok && o->timings) {
    /* the mean over the ranks of each rank's times */
    double t[3] = {t_steps, t_compute, t_reduce};
    if (r.world > 1)
      tr_dist_sum_doubles(t, 3);
    for (int i = 0; i < 3; i++)
      t[i] /= r.world;
    int n = MAX(steps_run, 1);
    if (tr_dist_rank() == 0)
      printf("timings: ranks %d threads %d steps %d segments %.0f "
             "step_s %.6f seg_per_s %.3f compute_ms_per_step %.3f "
             "allreduce_ms_per_step %.3f\n",
             r.world, o->threads, steps_run, segs_run, t[0],
             segs_run / MAX(t[0], 1e-9), 1e3 * t[1] / n, 1e3 * t[2] / n);
    fflush(stdout);
  }
  if (ok) {
    const TrEpochRecord *e =
        r.history->len
            ? &g_array_index(r.history, TrEpochRecord, r.history->len - 1)
            : NULL;
    result->last_val_acc = e ? e->val_acc : -1;
    result->last_train_acc = e ? e->train_acc : 0;
    result->best_val_acc = r.best_acc;
    result->best_epoch = r.best_epoch;
    result->epochs_done = r.epoch;
    result->total_s = r.total_s;
    result->stopped = stop;
  }
  g_free(x);
  g_free(y);
  tr_replicas_free(reps);
  tr_fine_tune_free(ft); /* fine-tuning */
  run_clear(&r);
  return ok;
}
