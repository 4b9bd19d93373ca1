/* train_clips.c - the training and validation features of a run. */
#include "train_clips.h"
#include "decode.h"
#include "dist.h"
#include "feature_cache.h"
#include "run_rng.h"
#include <acrnn/acrnn.h>
#include <math.h>
#include <string.h>

#define CLIPS_ERROR (g_quark_from_static_string("acrnn-train-error"))

static void clipfeat_clear(gpointer p) {
  g_free(((TrClipFeat *)p)->frames);
}

static GArray *clip_array(void) {
  GArray *a = g_array_new(FALSE, TRUE, sizeof(TrClipFeat));
  g_array_set_clear_func(a, clipfeat_clear);
  return a;
}

void tr_clips_init(TrClips *cl) {
  memset(cl, 0, sizeof *cl);
  cl->train = clip_array();
  cl->val = clip_array();
  cl->online = clip_array();
}

void tr_clips_clear(TrClips *cl) {
  g_clear_pointer(&cl->train, g_array_unref);
  g_clear_pointer(&cl->val, g_array_unref);
  g_clear_pointer(&cl->online, g_array_unref);
  if (cl->waves)
    for (size_t i = 0; i < cl->n_orig; i++)
      g_free(cl->waves[i]);
  g_clear_pointer(&cl->waves, g_free);
  g_clear_pointer(&cl->wave_keys, g_strfreev);
  g_clear_pointer(&cl->wave_n, g_free);
}

static gboolean in_list(int f, const int *list, int n) {
  for (int i = 0; i < n; i++)
    if (list[i] == f)
      return TRUE;
  return FALSE;
}

/* The waveforms of the training clips, for augmentation, and their keys
 * with --augment-cache. */
typedef struct {
  GPtrArray *waves;
  GArray *n;
  GPtrArray *keys; /* NULL without the cache */
} Waves;

/* Appends to set one augmented copy of each waves[i] (n[i] samples,
 * labelled labels[i], key keys[i] when c->augment_cache is set): the draws
 * are taken from rng in order, then the copies are made on c->threads
 * threads or read from the cache; cl counts both. */
static gboolean add_augmented(TrClips *cl, GArray *set, const TrTrainConfig *c,
                              const float *const *waves, const size_t *n,
                              const char *const *keys, const int *labels,
                              size_t count, AcrnnRng *rng, GError **error) {
  TrAugmentDraw *draws = g_new(TrAugmentDraw, count ? count : 1);
  for (size_t i = 0; i < count; i++)
    draws[i] = tr_augment_draw(c->augment_range, rng);
  float **frames = g_new(float *, count ? count : 1);
  size_t *n_frames = g_new0(size_t, count ? count : 1);
  TrAugmentCache cache = {c->augment_cache, keys, 0};
  gboolean ok = tr_augment_features(
      waves, n, draws, count, &c->features, c->threads,
      c->augment_cache ? &cache : NULL, frames, n_frames, error);
  if (ok) {
    cl->copies_made += count - cache.hits;
    cl->copies_cached += cache.hits;
  }
  for (size_t i = 0; ok && i < count; i++) {
    TrClipFeat cf = {.label = labels[i], .frames = frames[i], .n = n_frames[i]};
    g_array_append_val(set, cf);
  }
  g_free(n_frames);
  g_free(frames);
  g_free(draws);
  return ok;
}

/* Offline augmentation: augment_copies copies of each original. */
static gboolean add_offline_copies(TrClips *cl, const TrTrainConfig *c,
                                   const Waves *w, GError **error) {
  AcrnnRng ar;
  tr_derive_rng(&ar, c->seed, TR_RNG_OFFLINE, -1);
  size_t count = cl->n_orig * (size_t)c->augment_copies;
  const float **waves = g_new(const float *, count ? count : 1);
  size_t *n = g_new(size_t, count ? count : 1);
  const char **keys = g_new0(const char *, count ? count : 1);
  int *labels = g_new(int, count ? count : 1);
  for (size_t i = 0, j = 0; i < cl->n_orig; i++)
    for (int k = 0; k < c->augment_copies; k++, j++) {
      waves[j] = g_ptr_array_index(w->waves, i);
      n[j] = g_array_index(w->n, size_t, i);
      if (w->keys)
        keys[j] = g_ptr_array_index(w->keys, i);
      labels[j] = g_array_index(cl->train, TrClipFeat, i).label;
    }
  gboolean ok = add_augmented(cl, cl->train, c, waves, n, keys, labels, count,
                              &ar, error);
  g_free(labels);
  g_free(keys);
  g_free(n);
  g_free(waves);
  return ok;
}

/* Loads one clip into the training or validation set (and its waveform
 * into w when augmenting). */
static gboolean load_clip(TrClips *cl, const TrTrainConfig *c,
                          const TrClip *clip, gboolean train, Waves *w,
                          GError **error) {
  TrClipFeat cf = {0};
  cf.label = clip->label;
  cf.frames = tr_features_for_file(clip->path, &c->features, c->cache, &cf.n,
                                   NULL, error);
  if (!cf.frames)
    return FALSE;
  g_array_append_val(train ? cl->train : cl->val, cf);
  if (train && c->augment != TR_AUGMENT_NONE) {
    size_t n = 0;
    float *x = tr_decode_file(clip->path, c->features.sample_rate, &n, error);
    if (!x)
      return FALSE;
    g_ptr_array_add(w->waves, x);
    g_array_append_val(w->n, n);
    if (w->keys)
      g_ptr_array_add(w->keys, tr_wave_key(x, n));
  }
  return TRUE;
}

gboolean tr_clips_load(TrClips *cl, const TrTrainConfig *c, const TrDataset *ds,
                       const int *train_folds, int n_train, int val_fold,
                       TrProgress *progress, GError **error) {
  Waves w = {g_ptr_array_new(), g_array_new(FALSE, FALSE, sizeof(size_t)),
             c->augment_cache ? g_ptr_array_new_with_free_func(g_free) : NULL};
  gboolean ok = TRUE;
  size_t done = 0, total = 0;
  for (size_t i = 0; i < ds->n_clips; i++) {
    int f = ds->clips[i].fold;
    total += in_list(f, train_folds, n_train) || (val_fold && f == val_fold);
  }
  for (size_t i = 0; i < ds->n_clips && ok; i++) {
    const TrClip *clip = &ds->clips[i];
    gboolean tr = in_list(clip->fold, train_folds, n_train);
    if (!tr && !(val_fold > 0 && clip->fold == val_fold))
      continue;
    ok = load_clip(cl, c, clip, tr, &w, error);
    if (ok)
      done++;
    if (ok)
      tr_progress_count(progress, done == total, "features %zu/%zu", done,
                        total);
  }
  tr_progress_end_line(progress);
  cl->n_orig = cl->train->len;
  if (ok && cl->train->len == 0) {
    g_set_error(error, CLIPS_ERROR, 1,
                "no training clips: no clip of %s is in the training folds",
                ds->root);
    ok = FALSE;
  }
  if (ok && c->augment == TR_AUGMENT_OFFLINE)
    ok = add_offline_copies(cl, c, &w, error);
  if (ok && c->augment == TR_AUGMENT_ONLINE) {
    cl->wave_n = (size_t *)g_array_free(w.n, FALSE);
    cl->waves = (float **)g_ptr_array_free(w.waves, FALSE);
    if (w.keys) { /* NULL-terminated for g_strfreev() */
      g_ptr_array_add(w.keys, NULL);
      cl->wave_keys =
          (char **)g_ptr_array_free(g_steal_pointer(&w.keys), FALSE);
    }
  } else {
    g_array_unref(w.n);
    g_ptr_array_set_free_func(w.waves, g_free);
    g_ptr_array_unref(w.waves);
  }
  if (w.keys)
    g_ptr_array_unref(w.keys);
  return ok;
}

void tr_clips_norm(const TrClips *cl, int bands, float mean[2], float std[2]) {
  int b = bands;
  double sum[2] = {0, 0}, sq[2] = {0, 0}, cnt = 0;
  for (size_t i = 0; i < cl->n_orig; i++) {
    const TrClipFeat *c = &g_array_index(cl->train, TrClipFeat, i);
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
    mean[ch] = (float)m;
    std[ch] = (float)(v > 1e-12 ? sqrt(v) : 1.0);
  }
}

static guint64 hash_frame_counts(guint64 h, const GArray *set) {
  for (guint i = 0; i < set->len; i++) {
    guint64 n = g_array_index(set, TrClipFeat, i).n;
    h = tr_hash_bytes(h, &n, sizeof n);
  }
  return h;
}

/* (Exact equality of the statistics would refuse nodes whose FFT code
 * paths round differently.) */
gboolean tr_clips_check_ranks(const TrClips *cl, int rank, int world,
                              const float mean[2], const float std[2],
                              GError **error) {
  if (world <= 1)
    return TRUE;
  guint64 h = hash_frame_counts(hash_frame_counts(0, cl->train), cl->val);
  const char *what[] = {"feature frame counts"};
  if (!tr_dist_check_same(what, &h, 1, error))
    return FALSE;
  double *all = g_new0(double, 4 * (size_t)world);
  for (int ch = 0; ch < 2; ch++) {
    all[4 * rank + ch] = mean[ch];
    all[4 * rank + 2 + ch] = std[ch];
  }
  tr_dist_sum_doubles(all, 4 * (size_t)world);
  gboolean ok = TRUE;
  for (int k = 1; ok && k < world; k++)
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

gboolean tr_clips_begin_epoch(TrClips *cl, const TrTrainConfig *c, int epoch,
                              GError **error) {
  if (!cl->waves)
    return TRUE;
  AcrnnRng ar;
  tr_derive_rng(&ar, c->seed, TR_RNG_ONLINE, epoch);
  g_array_set_size(cl->online, 0);
  int *labels = g_new(int, cl->n_orig ? cl->n_orig : 1);
  for (size_t i = 0; i < cl->n_orig; i++)
    labels[i] = g_array_index(cl->train, TrClipFeat, i).label;
  gboolean ok = add_augmented(
      cl, cl->online, c, (const float *const *)cl->waves, cl->wave_n,
      (const char *const *)cl->wave_keys, labels, cl->n_orig, &ar, error);
  g_free(labels);
  return ok;
}

GArray *tr_clips_current(const TrClips *cl) {
  return cl->waves ? cl->online : cl->train;
}

static size_t set_segments(const GArray *set, int frames, int hop) {
  size_t n = 0;
  for (guint i = 0; i < set->len; i++)
    n += acrnn_segment_count(g_array_index(set, TrClipFeat, i).n, frames, hop);
  return n;
}

size_t tr_clips_count_segments(const TrClips *cl, int frames, int hop) {
  return set_segments(cl->train, frames, hop);
}

TrSegRef *tr_clips_epoch_segments(const TrClips *cl, int frames, int hop,
                                  gint64 seed, int epoch, size_t *n_out) {
  const GArray *set = tr_clips_current(cl);
  size_t n = set_segments(set, frames, hop);
  TrSegRef *refs = g_new(TrSegRef, n);
  size_t k = 0;
  for (guint i = 0; i < set->len; i++) {
    size_t m =
        acrnn_segment_count(g_array_index(set, TrClipFeat, i).n, frames, hop);
    for (size_t s = 0; s < m; s++)
      refs[k++] = (TrSegRef){i, (uint32_t)s};
  }
  uint32_t *perm = g_new(uint32_t, n > 0 ? n : 1);
  for (size_t i = 0; i < n; i++)
    perm[i] = (uint32_t)i;
  AcrnnRng sr;
  tr_derive_rng(&sr, seed, TR_RNG_SHUFFLE, epoch);
  acrnn_rng_shuffle(&sr, perm, n);
  TrSegRef *out = g_new(TrSegRef, n > 0 ? n : 1);
  for (size_t i = 0; i < n; i++)
    out[i] = refs[perm[i]];
  g_free(perm);
  g_free(refs);
  *n_out = n;
  return out;
}
