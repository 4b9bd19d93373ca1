/* feature_extractor.c - the streaming log-gammatone extractor
 * (docs/features.md) and the offline acrnn_features_compute(), which is the
 * same extractor fed the whole signal and flushed.
 *
 * Samples collect in a window buffer; each complete window gives a log frame
 * L_t, kept in a ring of the last delta_width log frames. Frame t is finished
 * (its delta computed, [L_t, D_t] appended to the output queue) as soon as
 * L_{t+half} exists, or at flush() with end-of-stream clamping. Each frame is
 * computed from its own samples only, so buffer sizes never change a float. */
#include "band_energy.h"
#include "feature_error.h"
#include "stft.h"
#include <acrnn/features.h>
#include <math.h>
#include <string.h>

struct AcrnnFeatureExtractor {
  AcrnnFeatureParams p;
  int bins, half;
  double delta_denom; /* 2 * sum_{n=1..half} n^2 */
  AcrnnStft *stft;
  AcrnnBandEnergy *energy_of;
  float *power;  /* bins */
  float *energy; /* bands */

  float *window; /* n_fft samples of the next frame, window_len present */
  int window_len;

  float *ring;    /* [delta_width][bands] log frames, frame t at t % width */
  guint64 n_logs; /* log frames computed */
  guint64 n_done; /* frames finished (delta known) */
  guint64 n_pulled;
  gboolean flushed;

  float
      *out; /* finished frames [out_cap][2*bands], ready ones from out_start */
  size_t out_start, out_len, out_cap;
};

AcrnnFeatureExtractor *acrnn_feature_extractor_new(const AcrnnFeatureParams *p,
                                                   GError **error) {
  if (!acrnn_feature_params_validate(p, error))
    return NULL;
  AcrnnFeatureExtractor *fx = g_new0(AcrnnFeatureExtractor, 1);
  fx->p = *p;
  fx->bins = p->n_fft / 2 + 1;
  fx->half = p->delta_width / 2;
  for (int n = 1; n <= fx->half; n++)
    fx->delta_denom += 2.0 * n * n;
  fx->stft = acrnn_stft_new(p->n_fft);
  fx->energy_of = acrnn_band_energy_new(p);
  fx->power = g_new(float, fx->bins);
  fx->energy = g_new(float, p->bands);
  fx->window = g_new(float, p->n_fft);
  fx->ring = g_new(float, (size_t)p->delta_width * p->bands);
  return fx;
}

void acrnn_feature_extractor_free(AcrnnFeatureExtractor *fx) {
  if (fx == NULL)
    return;
  acrnn_stft_free(fx->stft);
  acrnn_band_energy_free(fx->energy_of);
  g_free(fx->power);
  g_free(fx->energy);
  g_free(fx->window);
  g_free(fx->ring);
  g_free(fx->out);
  g_free(fx);
}

void acrnn_feature_extractor_reset(AcrnnFeatureExtractor *fx) {
  fx->window_len = 0;
  fx->n_logs = fx->n_done = fx->n_pulled = 0;
  fx->flushed = FALSE;
  fx->out_start = fx->out_len = 0;
}

static float *log_frame(AcrnnFeatureExtractor *fx, guint64 t) {
  return fx->ring + (size_t)(t % (guint64)fx->p.delta_width) * fx->p.bands;
}

/* Room for one more finished frame at the end of the output queue. */
static float *out_slot(AcrnnFeatureExtractor *fx) {
  const size_t fs = 2 * (size_t)fx->p.bands;
  if (fx->out_len == fx->out_cap) {
    if (fx->out_start > 0) {
      memmove(fx->out, fx->out + fx->out_start * fs,
              (fx->out_len - fx->out_start) * fs * sizeof(float));
      fx->out_len -= fx->out_start;
      fx->out_start = 0;
    }
    if (fx->out_len == fx->out_cap) {
      fx->out_cap = fx->out_cap ? 2 * fx->out_cap : 64;
      fx->out = g_renew(float, fx->out, fx->out_cap *fs);
    }
  }
  return fx->out + fx->out_len++ * fs;
}

/* Finishes frame t: last is the index edge frames clamp to at the end (only
 * reached after flush). */
static void finish_frame(AcrnnFeatureExtractor *fx, guint64 t, guint64 last) {
  const int bands = fx->p.bands;
  float *dst = out_slot(fx);
  memcpy(dst, log_frame(fx, t), sizeof(float) * bands);
  float *delta = dst + bands;
  double acc[1024]; /* bands <= 1024 (validated) */
  for (int i = 0; i < bands; i++)
    acc[i] = 0.0;
  for (int n = 1; n <= fx->half; n++) {
    guint64 ahead = t + n > last ? last : t + n;
    guint64 behind = t < (guint64)n ? 0 : t - n;
    const float *la = log_frame(fx, ahead), *lb = log_frame(fx, behind);
    for (int i = 0; i < bands; i++)
      acc[i] += n * ((double)la[i] - (double)lb[i]);
  }
  for (int i = 0; i < bands; i++)
    delta[i] = (float)(acc[i] / fx->delta_denom);
  fx->n_done = t + 1;
}

/* The window buffer is full: computes the next log frame, finishes the
 * frames whose delta context is now complete and slides the window. */
static void complete_window(AcrnnFeatureExtractor *fx) {
  const int bands = fx->p.bands;
  acrnn_stft_power(fx->stft, fx->window, fx->power);
  acrnn_band_energy_apply(fx->energy_of, fx->power, fx->energy);
  float *l = log_frame(fx, fx->n_logs);
  for (int i = 0; i < bands; i++) {
    double e = fx->energy[i];
    l[i] = e > 1e-10 ? (float)log(e) : ACRNN_LOG_FLOOR;
  }
  fx->n_logs++;
  while (fx->n_done + fx->half < fx->n_logs)
    finish_frame(fx, fx->n_done, G_MAXUINT64);
  const int keep = fx->p.n_fft - fx->p.hop;
  memmove(fx->window, fx->window + fx->p.hop, sizeof(float) * keep);
  fx->window_len = keep;
}

gboolean acrnn_feature_extractor_push(AcrnnFeatureExtractor *fx,
                                      const float *samples, size_t n,
                                      GError **error) {
  if (n == 0)
    return TRUE;
  if (samples == NULL) {
    g_set_error(error, ACRNN_FEATURES_ERROR, ACRNN_FEATURES_ERROR_INPUT,
                "feature extractor: NULL sample pointer for %zu samples", n);
    return FALSE;
  }
  if (fx->flushed) {
    g_set_error_literal(error, ACRNN_FEATURES_ERROR, ACRNN_FEATURES_ERROR_STATE,
                        "feature extractor: samples pushed after flush(); "
                        "call acrnn_feature_extractor_reset() to start a new "
                        "stream");
    return FALSE;
  }
  for (size_t i = 0; i < n; i++)
    if (!isfinite(samples[i])) {
      g_set_error(error, ACRNN_FEATURES_ERROR, ACRNN_FEATURES_ERROR_INPUT,
                  "sample %zu (counted from the start of this block of %zu) "
                  "is %s: audio samples must be finite; the block was "
                  "refused",
                  i, n, isnan(samples[i]) ? "NaN" : "infinite");
      return FALSE;
    }
  const int n_fft = fx->p.n_fft;
  while (n > 0) {
    size_t take = (size_t)(n_fft - fx->window_len);
    if (take > n)
      take = n;
    memcpy(fx->window + fx->window_len, samples, sizeof(float) * take);
    fx->window_len += (int)take;
    samples += take;
    n -= take;
    if (fx->window_len == n_fft)
      complete_window(fx);
  }
  return TRUE;
}

void acrnn_feature_extractor_flush(AcrnnFeatureExtractor *fx) {
  if (fx->flushed)
    return;
  fx->flushed = TRUE;
  while (fx->n_done < fx->n_logs)
    finish_frame(fx, fx->n_done, fx->n_logs - 1);
}

size_t acrnn_feature_extractor_available(const AcrnnFeatureExtractor *fx) {
  return fx->out_len - fx->out_start;
}

size_t acrnn_feature_extractor_pull(AcrnnFeatureExtractor *fx, float *frames,
                                    size_t max_frames) {
  size_t n = acrnn_feature_extractor_available(fx);
  if (n > max_frames)
    n = max_frames;
  if (n == 0)
    return 0;
  const size_t fs = 2 * (size_t)fx->p.bands;
  memcpy(frames, fx->out + fx->out_start * fs, n * fs * sizeof(float));
  fx->out_start += n;
  fx->n_pulled += n;
  if (fx->out_start == fx->out_len)
    fx->out_start = fx->out_len = 0;
  return n;
}

guint64 acrnn_feature_extractor_next_frame(const AcrnnFeatureExtractor *fx) {
  return fx->n_pulled;
}

size_t
acrnn_feature_extractor_latency_samples(const AcrnnFeatureExtractor *fx) {
  return (size_t)fx->p.n_fft + (size_t)fx->half * fx->p.hop;
}

float *acrnn_features_compute(const AcrnnFeatureParams *p, const float *x,
                              size_t n, size_t *n_frames, GError **error) {
  if (n_frames != NULL)
    *n_frames = 0;
  if (!acrnn_feature_params_validate(p, error))
    return NULL;
  if (n == 0) {
    g_set_error(error, ACRNN_FEATURES_ERROR, ACRNN_FEATURES_ERROR_INPUT,
                "the signal is empty (0 samples): at least one window of "
                "n_fft = %d samples is needed",
                p->n_fft);
    return NULL;
  }
  if (x == NULL) {
    g_set_error(error, ACRNN_FEATURES_ERROR, ACRNN_FEATURES_ERROR_INPUT,
                "the signal of %zu samples is a NULL pointer", n);
    return NULL;
  }
  if (n < (size_t)p->n_fft) {
    g_set_error(error, ACRNN_FEATURES_ERROR, ACRNN_FEATURES_ERROR_INPUT,
                "signal has %zu samples, fewer than one window of %d", n,
                p->n_fft);
    return NULL;
  }
  AcrnnFeatureExtractor *fx = acrnn_feature_extractor_new(p, error);
  if (fx == NULL)
    return NULL;
  if (!acrnn_feature_extractor_push(fx, x, n, error)) {
    acrnn_feature_extractor_free(fx);
    return NULL;
  }
  acrnn_feature_extractor_flush(fx);
  size_t t = acrnn_feature_extractor_available(fx);
  float *frames = g_new(float, t * 2 * (size_t)p->bands);
  acrnn_feature_extractor_pull(fx, frames, t);
  acrnn_feature_extractor_free(fx);
  if (n_frames != NULL)
    *n_frames = t;
  return frames;
}
