/* time_pitch.c - time stretch and pitch shift of a mono signal for data
 * augmentation, through Rubber Band's C API (offline mode) when the build
 * has it; otherwise both return an error saying so. */
#include <acrnn/augment.h>
#include <math.h>
#include <string.h>

#define AUGMENT_ERROR (g_quark_from_static_string("acrnn-augment-error-quark"))

#ifdef ACRNN_HAVE_RUBBERBAND
#include <rubberband/rubberband-c.h>

/* Runs x through Rubber Band with the given ratios and returns exactly
 * want samples (the tail is cut or filled with zeros). */
static float *rubberband_run(const float *x, size_t n, int sample_rate,
                             double time_ratio, double pitch_scale,
                             size_t want) {
  RubberBandOptions opts = RubberBandOptionProcessOffline |
                           RubberBandOptionThreadingNever |
                           RubberBandOptionEngineFaster;
  RubberBandState rb =
      rubberband_new((unsigned)sample_rate, 1, opts, time_ratio, pitch_scale);
  rubberband_set_expected_input_duration(rb, (unsigned)n);
  const size_t block = 4096;
  for (size_t pos = 0; pos < n; pos += block) {
    size_t len = MIN(block, n - pos);
    const float *in = x + pos;
    rubberband_study(rb, &in, (unsigned)len, pos + len >= n);
  }
  size_t cap = want + block, got = 0;
  float *out = g_new0(float, cap);
  float *tmp = g_new(float, block);
  for (size_t pos = 0; pos < n; pos += block) {
    size_t len = MIN(block, n - pos);
    const float *in = x + pos;
    rubberband_process(rb, &in, (unsigned)len, pos + len >= n);
    int avail;
    while ((avail = rubberband_available(rb)) > 0) {
      unsigned r =
          rubberband_retrieve(rb, &tmp, (unsigned)MIN((size_t)avail, block));
      if (got + r > cap) {
        cap = (got + r) * 2;
        out = g_renew(float, out, cap);
      }
      memcpy(out + got, tmp, r * sizeof(float));
      got += r;
    }
  }
  int avail;
  while ((avail = rubberband_available(rb)) > 0) {
    unsigned r =
        rubberband_retrieve(rb, &tmp, (unsigned)MIN((size_t)avail, block));
    if (got + r > cap) {
      cap = (got + r) * 2;
      out = g_renew(float, out, cap);
    }
    memcpy(out + got, tmp, r * sizeof(float));
    got += r;
  }
  g_free(tmp);
  rubberband_delete(rb);
  if (got < want)
    memset(out + got, 0, (want - got) * sizeof(float));
  out = g_renew(float, out, want > 0 ? want : 1);
  return out;
}
#endif

static gboolean check_input(const float *x, size_t n, int sample_rate,
                            GError **error) {
  if (x == NULL || n == 0) {
    g_set_error(error, AUGMENT_ERROR, 1, "augmentation: empty signal");
    return FALSE;
  }
  if (sample_rate < 1000 || sample_rate > 384000) {
    g_set_error(error, AUGMENT_ERROR, 1,
                "augmentation: sample rate %d Hz: expected 1000 to 384000 Hz",
                sample_rate);
    return FALSE;
  }
  if (n > G_MAXUINT / 2) {
    g_set_error(error, AUGMENT_ERROR, 1,
                "augmentation: signal of %zu samples is too long", n);
    return FALSE;
  }
  return TRUE;
}

static gboolean check_factor(double factor, GError **error) {
  if (!isfinite(factor) || factor < 0.05 || factor > 20.0) {
    g_set_error(error, AUGMENT_ERROR, 1,
                "time stretch factor %g: expected 0.05 to 20", factor);
    return FALSE;
  }
  return TRUE;
}

static gboolean check_semitones(double semitones, GError **error) {
  if (!isfinite(semitones) || fabs(semitones) > 48.0) {
    g_set_error(error, AUGMENT_ERROR, 1,
                "pitch shift of %g semitones: expected -48 to 48", semitones);
    return FALSE;
  }
  return TRUE;
}

float *acrnn_time_pitch(const float *x, size_t n, int sample_rate,
                        double factor, double semitones, size_t *out_n,
                        GError **error) {
  if (!check_input(x, n, sample_rate, error) || !check_factor(factor, error) ||
      !check_semitones(semitones, error))
    return NULL;
#ifdef ACRNN_HAVE_RUBBERBAND
  size_t want = (size_t)llround((double)n * factor);
  if (want == 0)
    want = 1;
  if (out_n)
    *out_n = want;
  return rubberband_run(x, n, sample_rate, factor, pow(2.0, semitones / 12.0),
                        want);
#else
  (void)out_n;
  g_set_error(error, AUGMENT_ERROR, 2,
              "time stretch and pitch shift: this build of libacrnn has no "
              "Rubber Band (rebuild with -Drubberband=enabled)");
  return NULL;
#endif
}

const char *acrnn_time_pitch_engine(void) {
#ifdef ACRNN_HAVE_RUBBERBAND
  /* the library's version as built against, and rubberband_run()'s
   * options; the 1 counts changes to rubberband_run() itself */
  return "rubberband " RUBBERBAND_VERSION " offline faster 1";
#else
  return NULL;
#endif
}

float *acrnn_time_stretch(const float *x, size_t n, int sample_rate,
                          double factor, size_t *out_n, GError **error) {
  return acrnn_time_pitch(x, n, sample_rate, factor, 0.0, out_n, error);
}

float *acrnn_pitch_shift(const float *x, size_t n, int sample_rate,
                         double semitones, GError **error) {
  return acrnn_time_pitch(x, n, sample_rate, 1.0, semitones, NULL, error);
}
