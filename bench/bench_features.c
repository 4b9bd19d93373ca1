/* bench_features.c - speed of the log-gammatone feature extractor on one
 * core: extracts the features of a 60 s, 44.1 kHz signal (offline and
 * streamed in 4096-sample blocks) and prints seconds of audio per second and
 * the real-time factor. Target: >= 1000x real time. The same for log-mel
 * features (the same work but for the weights), offline. */
#include <acrnn/features.h>
#include <stdio.h>

static double best_of(const AcrnnFeatureParams *p, const float *x, size_t n,
                      gboolean streamed, int repeats) {
  double best = G_MAXDOUBLE;
  for (int r = 0; r < repeats; r++) {
    GError *error = NULL;
    gint64 t0 = g_get_monotonic_time();
    if (streamed) {
      AcrnnFeatureExtractor *fx = acrnn_feature_extractor_new(p, &error);
      g_assert_no_error(error);
      float *frames = g_new(float, 64 * 2 * (size_t)p->bands);
      for (size_t i = 0; i < n; i += 4096) {
        size_t m = n - i < 4096 ? n - i : 4096;
        if (!acrnn_feature_extractor_push(fx, x + i, m, &error))
          g_error("%s", error->message);
        while (acrnn_feature_extractor_pull(fx, frames, 64) > 0)
          ;
      }
      acrnn_feature_extractor_flush(fx);
      while (acrnn_feature_extractor_pull(fx, frames, 64) > 0)
        ;
      g_free(frames);
      acrnn_feature_extractor_free(fx);
    } else {
      size_t t = 0;
      float *f = acrnn_features_compute(p, x, n, &t, &error);
      if (f == NULL)
        g_error("%s", error->message);
      g_free(f);
    }
    double s = (g_get_monotonic_time() - t0) / 1e6;
    if (s < best)
      best = s;
  }
  return best;
}

int main(void) {
  AcrnnFeatureParams p;
  acrnn_feature_params_init(&p);
  const double seconds = 60.0;
  const size_t n = (size_t)(seconds * p.sample_rate);
  float *x = g_new(float, n);
  /* a sawtooth chirp (100 Hz to 10 kHz) plus noise; no libm needed */
  guint32 state = 12345;
  double phase = 0.0;
  for (size_t i = 0; i < n; i++) {
    state = state * 1664525u + 1013904223u;
    double noise = (state >> 8) / 16777216.0 - 0.5;
    phase += (100.0 + 9900.0 * i / n) / p.sample_rate;
    phase -= (int)phase;
    x[i] = (float)(0.4 * (phase - 0.5) + 0.1 * noise);
  }
  const char *mode[3] = {"offline", "streamed", "offline"};
  for (int s = 0; s < 3; s++) {
    p.filterbank = s < 2 ? ACRNN_FILTERBANK_GAMMATONE : ACRNN_FILTERBANK_MEL;
    double t = best_of(&p, x, n, s == 1, 3);
    printf("features %-9s %-8s: %.1f s of %d Hz audio in %.4f s: %.0f s of "
           "audio per second, real-time factor %.0fx (target >= 1000x)\n",
           acrnn_filterbank_to_string(p.filterbank), mode[s], seconds,
           p.sample_rate, t, seconds / t, seconds / t);
  }
  g_free(x);
  return 0;
}
