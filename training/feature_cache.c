/* feature_cache.c - features cached as one file per key: an audio file's
 * under the SHA-1 of its path, size, mtime and the feature parameters, so a
 * changed file or changed parameters are noticed; an augmented copy's under
 * the SHA-1 of its waveform's contents, its draw, the augmentation engine
 * and the feature parameters. */
#include "feature_cache.h"
#include "decode.h"
#include <gio/gio.h>
#include <string.h>

#define CACHE_MAGIC "ACRNNFC1"

char *tr_cache_dir(const char *opt) {
  if (opt)
    return g_strdup(opt);
  return g_build_filename(g_get_user_cache_dir(), "acrnn", "features", NULL);
}

/* The feature parameters as key text. */
static char *params_text(const AcrnnFeatureParams *p) {
  return g_strdup_printf(
      "%d|%d|%d|%d|%.17g|%.17g|%d%s", p->sample_rate, p->n_fft, p->hop,
      p->bands, p->fmin, p->fmax, p->delta_width,
      /* gammatone keys are those from before the filterbank choice */
      p->filterbank == ACRNN_FILTERBANK_GAMMATONE ? "" : "|mel");
}

static char *cache_key(const char *path, const AcrnnFeatureParams *p,
                       GError **error) {
  GFile *f = g_file_new_for_path(path);
  GFileInfo *fi = g_file_query_info(f,
                                    G_FILE_ATTRIBUTE_STANDARD_SIZE
                                    "," G_FILE_ATTRIBUTE_TIME_MODIFIED
                                    "," G_FILE_ATTRIBUTE_TIME_MODIFIED_USEC,
                                    G_FILE_QUERY_INFO_NONE, NULL, error);
  g_object_unref(f);
  if (!fi)
    return NULL;
  char *abs = g_canonicalize_filename(path, NULL);
  char *params = params_text(p);
  char *text = g_strdup_printf(
      "v1|%s|%" G_GINT64_FORMAT "|%" G_GUINT64_FORMAT ".%u|%s", abs,
      g_file_info_get_size(fi),
      g_file_info_get_attribute_uint64(fi, G_FILE_ATTRIBUTE_TIME_MODIFIED),
      g_file_info_get_attribute_uint32(fi, G_FILE_ATTRIBUTE_TIME_MODIFIED_USEC),
      params);
  char *key = g_compute_checksum_for_string(G_CHECKSUM_SHA1, text, -1);
  g_free(text);
  g_free(params);
  g_free(abs);
  g_object_unref(fi);
  return key;
}

char *tr_wave_key(const float *x, size_t n) {
  return g_compute_checksum_for_data(G_CHECKSUM_SHA1, (const guchar *)x,
                                     n * sizeof(float));
}

char *tr_augment_key(const char *wave_key, double factor, double semitones,
                     const char *engine, const AcrnnFeatureParams *p) {
  char *params = params_text(p);
  char *text = g_strdup_printf("aug1|%s|%.17g|%.17g|%s|%s", wave_key, factor,
                               semitones, engine, params);
  char *key = g_compute_checksum_for_string(G_CHECKSUM_SHA1, text, -1);
  g_free(text);
  g_free(params);
  return key;
}

static float *cache_read(const char *file, int width, size_t *n_frames) {
  char *buf = NULL;
  gsize len = 0;
  if (!g_file_get_contents(file, &buf, &len, NULL))
    return NULL;
  float *out = NULL;
  guint64 n;
  guint32 w;
  if (len >= 20 && memcmp(buf, CACHE_MAGIC, 8) == 0) {
    memcpy(&n, buf + 8, 8);
    memcpy(&w, buf + 16, 4);
    if ((int)w == width && n > 0 && n < (1ULL << 32) &&
        len == 20 + n * w * sizeof(float)) {
      out = g_new(float, n *w);
      memcpy(out, buf + 20, n * w * sizeof(float));
      *n_frames = (size_t)n;
    }
  }
  g_free(buf);
  return out;
}

static void cache_write(const char *dir, const char *file, const float *f,
                        size_t n, int width) {
  if (g_mkdir_with_parents(dir, 0755) != 0)
    return;
  gsize len = 20 + n * (size_t)width * sizeof(float);
  char *buf = g_malloc(len);
  guint64 n64 = n;
  guint32 w = (guint32)width;
  memcpy(buf, CACHE_MAGIC, 8);
  memcpy(buf + 8, &n64, 8);
  memcpy(buf + 16, &w, 4);
  memcpy(buf + 20, f, n * (size_t)width * sizeof(float));
  GError *err = NULL;
  if (!g_file_set_contents(file, buf, (gssize)len, &err)) {
    g_warning("feature cache: cannot write %s: %s", file, err->message);
    g_error_free(err);
  }
  g_free(buf);
}

static char *key_file(const char *dir, const char *key) {
  char *name = g_strconcat(key, ".feat", NULL);
  char *file = g_build_filename(dir, name, NULL);
  g_free(name);
  return file;
}

float *tr_cache_load(const char *dir, const char *key, int width,
                     size_t *n_frames) {
  char *file = key_file(dir, key);
  float *f = cache_read(file, width, n_frames);
  g_free(file);
  return f;
}

void tr_cache_store(const char *dir, const char *key, const float *f,
                    size_t n_frames, int width) {
  char *file = key_file(dir, key);
  cache_write(dir, file, f, n_frames, width);
  g_free(file);
}

float *tr_features_for_file(const char *path, const AcrnnFeatureParams *p,
                            const char *cache_dir, size_t *n_frames,
                            gboolean *hit, GError **error) {
  int width = 2 * p->bands;
  char *key = cache_dir ? cache_key(path, p, NULL) : NULL;
  if (hit)
    *hit = FALSE;
  if (key) {
    float *f = tr_cache_load(cache_dir, key, width, n_frames);
    if (f) {
      if (hit)
        *hit = TRUE;
      g_free(key);
      return f;
    }
  }
  size_t n = 0;
  float *x = tr_decode_file(path, p->sample_rate, &n, error);
  float *f = NULL;
  if (x && n < (size_t)p->n_fft) { /* shorter than one window: pad */
    x = g_renew(float, x, p->n_fft);
    memset(x + n, 0, ((size_t)p->n_fft - n) * sizeof(float));
    n = (size_t)p->n_fft;
  }
  if (x) {
    GError *err = NULL;
    f = acrnn_features_compute(p, x, n, n_frames, &err);
    if (!f) {
      g_set_error(error, err->domain, err->code, "%s: %s", path, err->message);
      g_error_free(err);
    }
    g_free(x);
  }
  if (f && key)
    tr_cache_store(cache_dir, key, f, *n_frames, width);
  g_free(key);
  return f;
}
