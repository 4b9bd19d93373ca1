/* augment_clip.c - randomly time-stretched and pitch-shifted copies of
 * clips, as features, made on several threads. */
#include "augment_clip.h"
#include "feature_cache.h"
#include <string.h>

TrAugmentDraw tr_augment_draw(TrAugmentRange range, AcrnnRng *rng) {
  TrAugmentDraw d;
  d.factor = range.stretch_min + (range.stretch_max - range.stretch_min) *
                                     (double)acrnn_rng_uniform(rng);
  d.semitones = range.pitch_range * (2.0 * acrnn_rng_uniform(rng) - 1.0);
  return d;
}

static float *augment_one(const float *wave, size_t n, TrAugmentDraw d,
                          const AcrnnFeatureParams *p, size_t *n_frames,
                          GError **error) {
  size_t m = 0;
  float *t = acrnn_time_pitch(wave, n, p->sample_rate, d.factor, d.semitones,
                              &m, error);
  if (!t)
    return NULL;
  if (m < (size_t)p->n_fft) { /* too short for one frame: pad */
    t = g_renew(float, t, p->n_fft);
    memset(t + m, 0, ((size_t)p->n_fft - m) * sizeof(float));
    m = (size_t)p->n_fft;
  }
  float *f = acrnn_features_compute(p, t, m, n_frames, error);
  g_free(t);
  return f;
}

/* The work shared by the threads: each takes the next copy until none is
 * left or one has failed. */
typedef struct {
  const float *const *waves;
  const size_t *n;
  const TrAugmentDraw *draws;
  size_t count;
  const AcrnnFeatureParams *p;
  const TrAugmentCache *cache; /* or NULL */
  const char *engine;          /* acrnn_time_pitch_engine() with a cache */
  float **frames;
  size_t *n_frames;
  gint next;   /* atomic: the next copy to make */
  gint failed; /* atomic: set by the first failure */
  gint hits;   /* atomic: copies read from the cache */
  GMutex lock; /* guards error */
  GError *error;
} Work;

/* Copy i: from the cache when it has it, else made (and stored). */
static float *copy_features(Work *w, size_t i, GError **error) {
  const TrAugmentDraw d = w->draws[i];
  if (!w->cache)
    return augment_one(w->waves[i], w->n[i], d, w->p, &w->n_frames[i], error);
  const int width = 2 * w->p->bands;
  char *key = tr_augment_key(w->cache->wave_keys[i], d.factor, d.semitones,
                             w->engine, w->p);
  float *f = tr_cache_load(w->cache->dir, key, width, &w->n_frames[i]);
  if (f) {
    g_atomic_int_inc(&w->hits);
  } else {
    f = augment_one(w->waves[i], w->n[i], d, w->p, &w->n_frames[i], error);
    if (f)
      tr_cache_store(w->cache->dir, key, f, w->n_frames[i], width);
  }
  g_free(key);
  return f;
}

static gpointer worker(gpointer data) {
  Work *w = data;
  for (;;) {
    size_t i = (size_t)g_atomic_int_add(&w->next, 1);
    if (i >= w->count || g_atomic_int_get(&w->failed))
      break;
    GError *e = NULL;
    w->frames[i] = copy_features(w, i, &e);
    if (!w->frames[i]) {
      g_atomic_int_set(&w->failed, 1);
      g_mutex_lock(&w->lock);
      if (!w->error)
        w->error = e;
      else
        g_error_free(e);
      g_mutex_unlock(&w->lock);
      break;
    }
  }
  return NULL;
}

gboolean tr_augment_features(const float *const *waves, const size_t *n,
                             const TrAugmentDraw *draws, size_t count,
                             const AcrnnFeatureParams *p, int threads,
                             TrAugmentCache *cache, float **frames,
                             size_t *n_frames, GError **error) {
  if (count > G_MAXINT / 2) { /* the shared counter is an int */
    g_set_error(error, g_quark_from_static_string("acrnn-train-error"), 1,
                "augmentation: %zu copies at once: expected at most %d", count,
                G_MAXINT / 2);
    return FALSE;
  }
  Work w = {.waves = waves,
            .n = n,
            .draws = draws,
            .count = count,
            .p = p,
            /* without Rubber Band every copy fails: nothing to key on */
            .cache = acrnn_time_pitch_engine() ? cache : NULL,
            .engine = acrnn_time_pitch_engine(),
            .frames = frames,
            .n_frames = n_frames};
  g_mutex_init(&w.lock);
  memset(frames, 0, count * sizeof *frames);
  int extra = (int)MIN((size_t)MAX(threads, 1), count) - 1;
  GThread **th = g_new0(GThread *, extra > 0 ? extra : 1);
  for (int t = 0; t < extra; t++)
    th[t] = g_thread_new("acrnn-augment", worker, &w);
  worker(&w);
  for (int t = 0; t < extra; t++)
    g_thread_join(th[t]);
  g_free(th);
  g_mutex_clear(&w.lock);
  if (w.cache)
    cache->hits = (size_t)g_atomic_int_get(&w.hits);
  if (w.error) {
    for (size_t i = 0; i < count; i++)
      g_clear_pointer(&frames[i], g_free);
    g_propagate_error(error, w.error);
    return FALSE;
  }
  return TRUE;
}
