/* test_features.c - the log-gammatone extractor (docs/features.md): streaming
 * equals offline bit for bit, frame counts, known values (sine, silence,
 * deltas of a linear log ramp), segments, reset, latency and every bad
 * input; the mel filterbank's tone peak and its names. The comparison with
 * an independent reference is test_features_ref.py. */
#include "feature_error.h"
#include <acrnn/features.h>
#include <acrnn/level.h>
#include <math.h>
#include <string.h>

#define SR 44100

static AcrnnFeatureParams defaults(void) {
  AcrnnFeatureParams p;
  acrnn_feature_params_init(&p);
  return p;
}

/* A rising sine sweep plus noise, deterministic. */
static float *test_signal(size_t n) {
  float *x = g_new(float, n);
  GRand *r = g_rand_new_with_seed(42);
  double phase = 0;
  for (size_t i = 0; i < n; i++) {
    double f = 100.0 + 8000.0 * i / n;
    phase += 2 * G_PI * f / SR;
    x[i] = (float)(0.5 * sin(phase) + 0.05 * g_rand_double_range(r, -1, 1));
  }
  g_rand_free(r);
  return x;
}

/* Streams x through an extractor in blocks of block samples (0: random
 * sizes), pulling a random number of frames in between; returns all frames. */
static float *stream(AcrnnFeatureExtractor *fx, const float *x, size_t n,
                     size_t block, size_t *n_frames, GRand *r) {
  size_t fs = 2 * 128;
  GArray *all = g_array_new(FALSE, FALSE, sizeof(float));
  float *tmp = g_new(float, 64 * fs);
  size_t i = 0;
  GError *error = NULL;
  g_assert_cmpuint(acrnn_feature_extractor_next_frame(fx), ==, 0);
  while (i < n) {
    size_t m = block ? block : (size_t)g_rand_int_range(r, 0, 5000);
    if (m > n - i)
      m = n - i;
    g_assert_true(acrnn_feature_extractor_push(fx, x + i, m, &error));
    g_assert_no_error(error);
    i += m;
    size_t want = (size_t)g_rand_int_range(r, 0, 65);
    guint64 next = acrnn_feature_extractor_next_frame(fx);
    size_t got = acrnn_feature_extractor_pull(fx, tmp, want);
    g_assert_cmpuint(got, <=, want);
    g_assert_cmpuint(acrnn_feature_extractor_next_frame(fx), ==, next + got);
    g_array_append_vals(all, tmp, got * fs);
  }
  acrnn_feature_extractor_flush(fx);
  size_t got;
  while ((got = acrnn_feature_extractor_pull(fx, tmp, 64)) > 0)
    g_array_append_vals(all, tmp, got * fs);
  g_assert_cmpuint(acrnn_feature_extractor_available(fx), ==, 0);
  g_free(tmp);
  *n_frames = all->len / fs;
  return (float *)g_array_free(all, FALSE);
}

static void check_streaming_equals_offline(const AcrnnFeatureParams *params) {
  AcrnnFeatureParams p = *params;
  size_t n = 3 * SR + 123;
  float *x = test_signal(n);
  GError *error = NULL;
  size_t t_off = 0;
  float *off = acrnn_features_compute(&p, x, n, &t_off, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(t_off, ==, (n - 1024) / 512 + 1);
  AcrnnFeatureExtractor *fx = acrnn_feature_extractor_new(&p, &error);
  g_assert_no_error(error);
  GRand *r = g_rand_new_with_seed(7);
  const size_t blocks[] = {1, 7, 1024, 44100, 0, 0, 0};
  for (size_t b = 0; b < G_N_ELEMENTS(blocks); b++) {
    acrnn_feature_extractor_reset(fx);
    size_t t = 0;
    float *s = stream(fx, x, n, blocks[b], &t, r);
    g_assert_cmpuint(t, ==, t_off);
    if (memcmp(s, off, t * 256 * sizeof(float)) != 0)
      g_error("block size %zu: streamed frames differ from offline", blocks[b]);
    g_assert_cmpuint(acrnn_feature_extractor_next_frame(fx), ==, t);
    g_free(s);
  }
  /* flush twice is harmless, push after flush is refused */
  acrnn_feature_extractor_flush(fx);
  g_assert_false(acrnn_feature_extractor_push(fx, x, 10, &error));
  g_assert_nonnull(error);
  g_assert_nonnull(strstr(error->message, "reset"));
  g_clear_error(&error);
  g_rand_free(r);
  acrnn_feature_extractor_free(fx);
  g_free(off);
  g_free(x);
}

static void test_streaming_equals_offline(void) {
  AcrnnFeatureParams p = defaults();
  check_streaming_equals_offline(&p);
  p.filterbank = ACRNN_FILTERBANK_MEL;
  check_streaming_equals_offline(&p);
}

static void test_frame_count(void) {
  AcrnnFeatureParams p = defaults();
  const size_t ns[] = {1024, 1025, 1535, 1536, 1537, 5000, 44100};
  float *x = test_signal(44100);
  for (size_t i = 0; i < G_N_ELEMENTS(ns); i++) {
    size_t t = 0;
    GError *error = NULL;
    float *f = acrnn_features_compute(&p, x, ns[i], &t, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(t, ==, (ns[i] - 1024) / 512 + 1);
    g_free(f);
  }
  /* other parameters: N 16, H 3 */
  p.n_fft = 16;
  p.hop = 3;
  p.bands = 8;
  for (size_t n = 16; n < 40; n++) {
    size_t t = 0;
    float *f = acrnn_features_compute(&p, x, n, &t, NULL);
    g_assert_nonnull(f);
    g_assert_cmpuint(t, ==, (n - 16) / 3 + 1);
    g_free(f);
  }
  g_free(x);
}

/* Half a second of a 1 kHz tone at amplitude 0.5. */
static float *tone(size_t *n) {
  *n = SR / 2;
  float *x = g_new(float, *n);
  for (size_t i = 0; i < *n; i++)
    x[i] = (float)(0.5 * sin(2 * G_PI * 1000.0 * i / SR));
  return x;
}

/* The band with the largest log value of a frame (128 bands). */
static int loudest_band(const float *frame) {
  int best = 0;
  for (int i = 0; i < 128; i++)
    if (frame[i] > frame[best])
      best = i;
  return best;
}

static void test_sine_peak(void) {
  AcrnnFeatureParams p = defaults();
  size_t n;
  float *x = tone(&n);
  size_t t = 0;
  float *f = acrnn_features_compute(&p, x, n, &t, NULL);
  g_assert_nonnull(f);
  double centres[128];
  acrnn_gammatone_centres(&p, centres);
  g_assert_cmpfloat_with_epsilon(centres[0], 50.0, 1e-9);
  for (int i = 1; i < 128; i++)
    g_assert_cmpfloat(centres[i], >, centres[i - 1]);
  g_assert_cmpfloat(centres[127], <, SR / 2.0);
  int closest = 0;
  for (int i = 0; i < 128; i++)
    if (fabs(centres[i] - 1000) < fabs(centres[closest] - 1000))
      closest = i;
  for (size_t k = 0; k < t; k++) {
    const float *l = f + k * 256;
    int best = loudest_band(l);
    g_assert_cmpint(abs(best - closest), <=, 1);
    /* a strong tone is far above the floor and its steady deltas are ~0 */
    g_assert_cmpfloat(l[best], >, 5.0f);
    g_assert_cmpfloat(fabsf(l[128 + best]), <, 1e-3f);
  }
  g_free(f);
  g_free(x);
}

/* Slaney mel scale, written here independently of mel.c. */
static double slaney_mel(double f) {
  return f < 1000 ? f * 3 / 200 : 15 + 27 * log(f / 1000) / log(6.4);
}

/* A 1 kHz tone peaks in the mel band centred nearest 1 kHz; band centres are
 * bands + 2 points equally spaced in mel from fmin to fmax, less the ends. */
static void test_mel_tone(void) {
  AcrnnFeatureParams p = defaults();
  p.filterbank = ACRNN_FILTERBANK_MEL;
  size_t n;
  float *x = tone(&n);
  size_t t = 0;
  GError *error = NULL;
  float *f = acrnn_features_compute(&p, x, n, &t, &error);
  g_assert_no_error(error);
  double m0 = slaney_mel(p.fmin), step = (slaney_mel(p.fmax) - m0) / 129;
  int closest = (int)lround((slaney_mel(1000.0) - m0) / step) - 1;
  g_assert_cmpint(closest, >, 20);
  for (size_t k = 0; k < t; k++) {
    const float *l = f + k * 256;
    int best = loudest_band(l);
    g_assert_cmpint(abs(best - closest), <=, 1);
    g_assert_cmpfloat(fabsf(l[128 + best]), <, 1e-3f);
    /* triangles end: bands far above the tone hold only window leakage,
     * more than 65 dB (15 nepers of power) down */
    g_assert_cmpfloat(l[best] - l[127], >, 15.0f);
  }
  /* the same tone through the gammatone bank gives other values */
  p.filterbank = ACRNN_FILTERBANK_GAMMATONE;
  size_t t2 = 0;
  float *g = acrnn_features_compute(&p, x, n, &t2, NULL);
  g_assert_cmpuint(t2, ==, t);
  g_assert_true(memcmp(f, g, t * 256 * sizeof(float)) != 0);
  g_free(g);
  g_free(f);
  g_free(x);
}

static void test_filterbank_names(void) {
  AcrnnFilterbank fb = ACRNN_FILTERBANK_MEL;
  GError *error = NULL;
  g_assert_true(acrnn_filterbank_parse("gammatone", &fb, &error));
  g_assert_no_error(error);
  g_assert_cmpint(fb, ==, ACRNN_FILTERBANK_GAMMATONE);
  g_assert_true(acrnn_filterbank_parse("mel", &fb, &error));
  g_assert_cmpint(fb, ==, ACRNN_FILTERBANK_MEL);
  g_assert_cmpstr(acrnn_filterbank_to_string(fb), ==, "mel");
  g_assert_cmpstr(acrnn_filterbank_to_string(ACRNN_FILTERBANK_GAMMATONE), ==,
                  "gammatone");
  g_assert_null(acrnn_filterbank_to_string((AcrnnFilterbank)7));
  const char *bad[] = {"Mel", "log-mel", "", NULL};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_assert_false(acrnn_filterbank_parse(bad[i], &fb, &error));
    g_assert_error(error, ACRNN_FEATURES_ERROR, ACRNN_FEATURES_ERROR_PARAMS);
    g_assert_nonnull(strstr(error->message, "expected \"gammatone\" or"));
    g_clear_error(&error);
  }
  g_assert_cmpint(fb, ==, ACRNN_FILTERBANK_MEL);
}

static void test_silence(void) {
  AcrnnFeatureParams p = defaults();
  size_t n = 10000;
  float *x = g_new0(float, n);
  size_t t = 0;
  float *f = acrnn_features_compute(&p, x, n, &t, NULL);
  g_assert_nonnull(f);
  g_assert_cmpuint(t, ==, 18);
  for (size_t k = 0; k < t; k++)
    for (int i = 0; i < 128; i++) {
      g_assert_cmpfloat(f[k * 256 + i], ==, ACRNN_LOG_FLOOR);
      g_assert_cmpfloat(f[k * 256 + 128 + i], ==, 0.0f);
    }
  g_assert_cmpfloat(fabs(ACRNN_LOG_FLOOR - log(1e-10)), <, 1e-5);
  g_free(f);
  g_free(x);
}

/* x(n) = exp(a n) s(n) with s of period dividing the hop: frame t is frame 0
 * times exp(a t H), so L_t = L_0 + t * slope with slope = 2 a H exactly. */
static void test_delta_of_linear_ramp(void) {
  AcrnnFeatureParams p = defaults();
  const double slope = 0.1, a = slope / (2.0 * p.hop);
  const size_t frames = 30, n = (frames - 1) * 512 + 1024;
  float *x = g_new(float, n);
  for (size_t i = 0; i < n; i++)
    x[i] = (float)(0.01 * exp(a * i) * sin(2 * G_PI * 8 * (i % 512) / 512.0));
  size_t t = 0;
  float *f = acrnn_features_compute(&p, x, n, &t, NULL);
  g_assert_nonnull(f);
  g_assert_cmpuint(t, ==, frames);
  /* the bands within 40 dB of the strongest */
  float top = ACRNN_LOG_FLOOR;
  for (int i = 0; i < 128; i++)
    top = MAX(top, f[i]);
  int checked = 0;
  for (int i = 0; i < 128; i++) {
    if (f[i] < top - 9.2f)
      continue;
    checked++;
    for (size_t k = 1; k < t; k++)
      g_assert_cmpfloat_with_epsilon(f[k * 256 + i] - f[(k - 1) * 256 + i],
                                     slope, 1e-3);
    /* interior: the slope; edges: the clamped regression */
    for (size_t k = 4; k + 4 < t; k++)
      g_assert_cmpfloat_with_epsilon(f[k * 256 + 128 + i], slope, 1e-3);
    /* t=0: sum n*n*s/60 = s/2; t=1: (1*2 + 2*3 + 3*4 + 4*5) s / 60 */
    g_assert_cmpfloat_with_epsilon(f[128 + i], slope * 30 / 60, 1e-3);
    g_assert_cmpfloat_with_epsilon(f[256 + 128 + i], slope * 40 / 60, 1e-3);
    g_assert_cmpfloat_with_epsilon(f[(t - 1) * 256 + 128 + i], slope * 30 / 60,
                                   1e-3);
    g_assert_cmpfloat_with_epsilon(f[(t - 2) * 256 + 128 + i], slope * 40 / 60,
                                   1e-3);
  }
  g_assert_cmpint(checked, >=, 3);
  g_free(f);
  g_free(x);
}

static void test_segments(void) {
  g_assert_cmpuint(acrnn_segment_count(0, 128, 64), ==, 0);
  g_assert_cmpuint(acrnn_segment_count(1, 128, 64), ==, 1);
  g_assert_cmpuint(acrnn_segment_count(127, 128, 64), ==, 1);
  g_assert_cmpuint(acrnn_segment_count(128, 128, 64), ==, 1);
  g_assert_cmpuint(acrnn_segment_count(191, 128, 64), ==, 1);
  g_assert_cmpuint(acrnn_segment_count(192, 128, 64), ==, 2);
  g_assert_cmpuint(acrnn_segment_count(431, 128, 64), ==, 5);
  g_assert_cmpuint(acrnn_segment_count(100, 0, 64), ==, 0);
  g_assert_cmpuint(acrnn_segment_count(300, 128, 0), ==, 0);
  /* classifying: one more segment when frames follow the last whole one */
  g_assert_cmpuint(acrnn_segment_count_covering(0, 128, 64), ==, 0);
  g_assert_cmpuint(acrnn_segment_count_covering(100, 128, 64), ==, 1);
  g_assert_cmpuint(acrnn_segment_count_covering(128, 128, 64), ==, 1);
  g_assert_cmpuint(acrnn_segment_count_covering(129, 128, 64), ==, 2);
  g_assert_cmpuint(acrnn_segment_count_covering(192, 128, 64), ==, 2);
  g_assert_cmpuint(acrnn_segment_count_covering(193, 128, 64), ==, 3);
  g_assert_cmpuint(acrnn_segment_count_covering(429, 128, 64), ==, 6);
  g_assert_cmpuint(acrnn_segment_count_covering(100, 0, 64), ==, 0);
  g_assert_cmpuint(acrnn_segment_first_frame(429, 128, 64, 4), ==, 256);
  g_assert_cmpuint(acrnn_segment_first_frame(429, 128, 64, 5), ==, 301);
  g_assert_cmpuint(acrnn_segment_first_frame(192, 128, 64, 1), ==, 64);
  g_assert_cmpuint(acrnn_segment_first_frame(100, 128, 64, 0), ==, 0);
  /* every frame of a stream is in a classified segment, which are whole
   * (but for a short stream), in order, and start on the segment hop but
   * for the last */
  for (size_t n = 1; n < 700; n++) {
    size_t count = acrnn_segment_count_covering(n, 128, 64);
    size_t end = 0;
    for (size_t s = 0; s < count; s++) {
      size_t first = acrnn_segment_first_frame(n, 128, 64, s);
      g_assert_cmpuint(first, <=, end);
      if (s + 1 < count)
        g_assert_cmpuint(first, ==, s * 64);
      g_assert_true(n < 128 || first + 128 <= n);
      end = first + 128;
    }
    g_assert_cmpuint(end, >=, n);
  }

  const int bands = 4, S = 8, hop = 4;
  const size_t T = 21;
  float *frames = g_new(float, T * 2 * bands);
  for (size_t t = 0; t < T; t++)
    for (int c = 0; c < 2; c++)
      for (int b = 0; b < bands; b++)
        frames[t * 2 * bands + c * bands + b] = (float)(1000 * c + 10 * b + t);
  const float mean[2] = {1.0f, -2.0f}, sd[2] = {2.0f, 4.0f};
  float out[2 * 4 * 8];
  g_assert_cmpuint(acrnn_segment_count(T, S, hop), ==, 4);
  acrnn_segment_extract(frames, T, bands, S, hop, 3, mean, sd, out);
  for (int c = 0; c < 2; c++)
    for (int b = 0; b < bands; b++)
      for (int j = 0; j < S; j++) {
        float x = (float)(1000 * c + 10 * b + 12 + j);
        g_assert_cmpfloat(out[(c * bands + b) * S + j], ==,
                          (x - mean[c]) / sd[c]);
      }
  /* the segment aligned to the end: frames [13, 21) */
  g_assert_cmpuint(acrnn_segment_count_covering(T, S, hop), ==, 5);
  acrnn_segment_extract(frames, T, bands, S, hop, 4, mean, sd, out);
  for (int c = 0; c < 2; c++)
    for (int b = 0; b < bands; b++)
      for (int j = 0; j < S; j++) {
        float x = (float)(1000 * c + 10 * b + 13 + j);
        g_assert_cmpfloat(out[(c * bands + b) * S + j], ==,
                          (x - mean[c]) / sd[c]);
      }
  /* a short stream: one segment, padded with silence frames */
  acrnn_segment_extract(frames, 5, bands, S, hop, 0, mean, sd, out);
  for (int c = 0; c < 2; c++)
    for (int b = 0; b < bands; b++)
      for (int j = 0; j < S; j++) {
        float x = j < 5 ? (float)(1000 * c + 10 * b + j)
                        : (c == 0 ? ACRNN_LOG_FLOOR : 0.0f);
        g_assert_cmpfloat(out[(c * bands + b) * S + j], ==,
                          (x - mean[c]) / sd[c]);
      }
  g_free(frames);
}

/* Level in dBFS the meter gives for 1 s of x (n samples) under p. */
static double meter_db(const AcrnnFeatureParams *p, const float *x, size_t n) {
  GError *error = NULL;
  AcrnnLevelMeter *meter = acrnn_level_meter_new(p, &error);
  g_assert_no_error(error);
  size_t n_frames = 0;
  float *f = acrnn_features_compute(p, x, n, &n_frames, &error);
  g_assert_no_error(error);
  double db = acrnn_level_meter_db(meter, f, n_frames);
  g_free(f);
  acrnn_level_meter_free(meter);
  return db;
}

static double true_db(const float *x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += (double)x[i] * x[i];
  return 10 * log10(s / n);
}

/* The level read from the features is the level of the audio: sines from
 * 60 Hz to 20 kHz at -3 to -83 dBFS and white noise, to 0.5 dB with the
 * default features; 1.5 dB with the mel filterbank or 32 bands in the
 * middle of the range; digital silence is the floor. */
static void test_level(void) {
  const size_t n = 44100;
  float *x = g_new(float, n);
  AcrnnFeatureParams p = defaults();
  const double freqs[] = {60, 250, 1000, 4000, 11000, 20000};
  const double amps[] = {1.0, 0.01, 1e-4};
  for (size_t fi = 0; fi < G_N_ELEMENTS(freqs); fi++)
    for (size_t ai = 0; ai < G_N_ELEMENTS(amps); ai++) {
      for (size_t i = 0; i < n; i++)
        x[i] = (float)(amps[ai] * sin(2 * G_PI * freqs[fi] * i / 44100.0));
      double got = meter_db(&p, x, n), want = true_db(x, n);
      g_test_message("sine %g Hz x %g: %.2f dB, meter %.2f dB", freqs[fi],
                     amps[ai], want, got);
      g_assert_cmpfloat(fabs(got - want), <, 0.5);
    }
  GRand *rand = g_rand_new_with_seed(5);
  for (size_t i = 0; i < n; i++)
    x[i] = (float)g_rand_double_range(rand, -0.01, 0.01);
  g_rand_free(rand);
  g_assert_cmpfloat(fabs(meter_db(&p, x, n) - true_db(x, n)), <, 0.5);
  AcrnnFeatureParams mel = defaults(), few = defaults();
  mel.filterbank = ACRNN_FILTERBANK_MEL;
  few.bands = 32;
  for (size_t i = 0; i < n; i++)
    x[i] = (float)(0.1 * sin(2 * G_PI * 1500 * i / 44100.0));
  g_assert_cmpfloat(fabs(meter_db(&mel, x, n) - true_db(x, n)), <, 1.5);
  g_assert_cmpfloat(fabs(meter_db(&few, x, n) - true_db(x, n)), <, 1.5);
  memset(x, 0, n * sizeof(float));
  g_assert_cmpfloat(meter_db(&p, x, n), <, -100);
  GError *error = NULL;
  AcrnnLevelMeter *meter = acrnn_level_meter_new(&p, &error);
  g_assert_cmpfloat(acrnn_level_meter_db(meter, x, 0), ==,
                    ACRNN_LEVEL_FLOOR_DB);
  acrnn_level_meter_free(meter);
  p.bands = 0;
  g_assert_null(acrnn_level_meter_new(&p, &error));
  g_assert_error(error, ACRNN_FEATURES_ERROR, ACRNN_FEATURES_ERROR_PARAMS);
  g_error_free(error);
  g_free(x);
}

static void test_reset_and_latency(void) {
  AcrnnFeatureParams p = defaults();
  GError *error = NULL;
  AcrnnFeatureExtractor *fx = acrnn_feature_extractor_new(&p, &error);
  g_assert_no_error(error);
  size_t lat = acrnn_feature_extractor_latency_samples(fx);
  g_assert_cmpuint(lat, ==, 1024 + 4 * 512);
  size_t n = SR;
  float *x = test_signal(n);
  /* frame 0 becomes ready exactly when latency samples have arrived */
  g_assert_true(acrnn_feature_extractor_push(fx, x, lat - 1, &error));
  g_assert_cmpuint(acrnn_feature_extractor_available(fx), ==, 0);
  g_assert_true(acrnn_feature_extractor_push(fx, x + lat - 1, 1, &error));
  g_assert_cmpuint(acrnn_feature_extractor_available(fx), ==, 1);
  g_assert_true(acrnn_feature_extractor_push(fx, x + lat, 512, &error));
  g_assert_cmpuint(acrnn_feature_extractor_available(fx), ==, 2);
  float junk[256];
  g_assert_cmpuint(acrnn_feature_extractor_pull(fx, junk, 1), ==, 1);
  g_assert_cmpuint(acrnn_feature_extractor_next_frame(fx), ==, 1);
  /* NaN and Inf blocks are refused and change nothing */
  float bad[600];
  memcpy(bad, x + lat + 512, sizeof bad);
  bad[599] = NAN;
  g_assert_false(acrnn_feature_extractor_push(fx, bad, 600, &error));
  g_assert_error(error, ACRNN_FEATURES_ERROR, ACRNN_FEATURES_ERROR_INPUT);
  g_assert_nonnull(strstr(error->message, "NaN"));
  g_clear_error(&error);
  bad[599] = x[lat + 512 + 599];
  bad[3] = -INFINITY;
  g_assert_false(acrnn_feature_extractor_push(fx, bad, 600, &error));
  g_assert_nonnull(strstr(error->message, "infinite"));
  g_clear_error(&error);
  g_assert_cmpuint(acrnn_feature_extractor_available(fx), ==, 1);
  g_assert_cmpuint(acrnn_feature_extractor_next_frame(fx), ==, 1);
  /* after a reset the extractor gives the offline frames of a new stream */
  acrnn_feature_extractor_reset(fx);
  g_assert_cmpuint(acrnn_feature_extractor_available(fx), ==, 0);
  g_assert_cmpuint(acrnn_feature_extractor_next_frame(fx), ==, 0);
  const size_t second = 20000;
  g_assert_true(acrnn_feature_extractor_push(fx, x + 5, second, &error));
  acrnn_feature_extractor_flush(fx);
  size_t t_off = 0;
  float *off = acrnn_features_compute(&p, x + 5, second, &t_off, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(acrnn_feature_extractor_available(fx), ==, t_off);
  float *s = g_new(float, t_off * 256);
  g_assert_cmpuint(acrnn_feature_extractor_pull(fx, s, t_off + 10), ==, t_off);
  g_assert_cmpmem(s, t_off * 256 * sizeof(float), off,
                  t_off * 256 * sizeof(float));
  /* pushing nothing is fine, a NULL block of samples is not */
  acrnn_feature_extractor_reset(fx);
  g_assert_true(acrnn_feature_extractor_push(fx, NULL, 0, &error));
  g_assert_false(acrnn_feature_extractor_push(fx, NULL, 10, &error));
  g_clear_error(&error);
  /* a stream shorter than a window gives no frame even when flushed */
  g_assert_true(acrnn_feature_extractor_push(fx, x, 1000, &error));
  acrnn_feature_extractor_flush(fx);
  g_assert_cmpuint(acrnn_feature_extractor_available(fx), ==, 0);
  g_free(s);
  g_free(off);
  g_free(x);
  acrnn_feature_extractor_free(fx);
  acrnn_feature_extractor_free(NULL);
}

/* Offline compute with bad input: NULL, an error that mentions all of
 * needles, and n_frames set to 0. */
static void expect_compute_error(const AcrnnFeatureParams *p, const float *x,
                                 size_t n, const char *needle1,
                                 const char *needle2) {
  GError *error = NULL;
  size_t t = 99;
  float *f = acrnn_features_compute(p, x, n, &t, &error);
  g_assert_null(f);
  g_assert_nonnull(error);
  g_assert_cmpuint(t, ==, 0);
  if (strstr(error->message, needle1) == NULL ||
      (needle2 && strstr(error->message, needle2) == NULL))
    g_error("error \"%s\" does not mention \"%s\"", error->message, needle1);
  g_test_message("expected error: %s", error->message);
  g_error_free(error);
}

static void test_bad_input(void) {
  AcrnnFeatureParams p = defaults();
  float *x = test_signal(4096);
  expect_compute_error(&p, x, 0, "empty", NULL);
  expect_compute_error(&p, NULL, 0, "empty", NULL);
  expect_compute_error(&p, NULL, 4096, "NULL", NULL);
  expect_compute_error(&p, x, 100, "signal has 100 samples",
                       "fewer than one window of 1024");
  x[3000] = NAN;
  expect_compute_error(&p, x, 4096, "sample 3000", "NaN");
  x[3000] = INFINITY;
  expect_compute_error(&p, x, 4096, "sample 3000", "infinite");
  g_free(x);
}

/* One bad parameter: validate, new() and compute() all refuse it with an
 * error naming the field. */
static void expect_param_error(const AcrnnFeatureParams *p, const char *field) {
  GError *error = NULL;
  g_assert_false(acrnn_feature_params_validate(p, &error));
  g_assert_nonnull(error);
  g_test_message("expected error: %s", error->message);
  if (strstr(error->message, field) == NULL)
    g_error("error \"%s\" does not name %s", error->message, field);
  g_clear_error(&error);
  g_assert_null(acrnn_feature_extractor_new(p, &error));
  g_assert_nonnull(error);
  g_clear_error(&error);
  float x[2048] = {0};
  expect_compute_error(p, x, 2048, field, NULL);
}

static void test_bad_params(void) {
  AcrnnFeatureParams p = defaults();
  g_assert_true(acrnn_feature_params_validate(&p, NULL));
  g_assert_cmpint(p.sample_rate, ==, 44100);
  g_assert_cmpint(p.n_fft, ==, 1024);
  g_assert_cmpint(p.hop, ==, 512);
  g_assert_cmpint(p.bands, ==, 128);
  g_assert_cmpfloat(p.fmin, ==, 50.0);
  g_assert_cmpfloat(p.fmax, ==, 22050.0);
  g_assert_cmpint(p.delta_width, ==, 9);
  g_assert_cmpint(p.filterbank, ==, ACRNN_FILTERBANK_GAMMATONE);
  g_assert_false(acrnn_feature_params_validate(NULL, NULL));
#define BAD(field, value)                                                      \
  do {                                                                         \
    AcrnnFeatureParams q = defaults();                                         \
    q.field = value;                                                           \
    expect_param_error(&q, #field);                                            \
  } while (0)
  BAD(bands, 0);
  BAD(bands, 2000);
  BAD(hop, 0);
  BAD(hop, 2048);
  BAD(n_fft, 1000);
  BAD(n_fft, 8);
  BAD(n_fft, 0);
  BAD(sample_rate, 0);
  BAD(sample_rate, 500000);
  BAD(fmax, 30000.0);
  BAD(fmax, 40.0);
  BAD(fmax, NAN);
  BAD(fmin, 0.0);
  BAD(fmin, -5.0);
  BAD(fmin, INFINITY);
  BAD(delta_width, 8);
  BAD(delta_width, 1);
  BAD(filterbank, (AcrnnFilterbank)2);
  BAD(filterbank, (AcrnnFilterbank)-1);
#undef BAD
  /* fmax must fit the sample rate actually used */
  p.sample_rate = 16000;
  expect_param_error(&p, "fmax");
  p.fmax = 8000.0;
  g_assert_true(acrnn_feature_params_validate(&p, NULL));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/features/streaming-equals-offline",
                  test_streaming_equals_offline);
  g_test_add_func("/features/frame-count", test_frame_count);
  g_test_add_func("/features/sine-peak", test_sine_peak);
  g_test_add_func("/features/mel-tone", test_mel_tone);
  g_test_add_func("/features/filterbank-names", test_filterbank_names);
  g_test_add_func("/features/silence", test_silence);
  g_test_add_func("/features/delta-linear-ramp", test_delta_of_linear_ramp);
  g_test_add_func("/features/segments", test_segments);
  g_test_add_func("/features/level", test_level);
  g_test_add_func("/features/reset-latency-nan", test_reset_and_latency);
  g_test_add_func("/features/bad-input", test_bad_input);
  g_test_add_func("/features/bad-params", test_bad_params);
  return g_test_run();
}
