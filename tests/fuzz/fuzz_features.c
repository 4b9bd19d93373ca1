/* fuzz_features.c - libFuzzer target: the streaming feature extractor. The
 * input picks the feature parameters (the defaults, or small random ones
 * that the validator judges), then a sequence of operations: push a block
 * of floats of any bit pattern (NaN, Inf, denormals, huge values) or of
 * special values, in random sizes; pull a random number of frames; flush;
 * reset. Checks: a block with NaN or Inf, or pushed after a flush, is
 * refused and changes nothing; everything else is accepted; pull never gives
 * more than available; and the frames of a stream equal, bit for bit,
 * acrnn_features_compute() on the same samples (docs/features.md). */
#include "fuzz_input.h"
#include <acrnn/features.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SAMPLES (1 << 16)

static void pick_params(FuzzInput *in, AcrnnFeatureParams *p) {
  acrnn_feature_params_init(p);
  uint8_t how = fuzz_u8(in);
  if (how & 1)
    return; /* the defaults, as gammatonespec runs */
  p->sample_rate = fuzz_range(in, 0, 48000);
  p->n_fft = 1 << fuzz_range(in, 0, 9);
  if (how & 2)
    p->n_fft += fuzz_range(in, -1, 1);
  p->hop = fuzz_range(in, 0, p->n_fft + 1);
  p->bands = fuzz_range(in, 0, 40);
  p->delta_width = fuzz_range(in, 0, 12);
  p->filterbank = (how & 4) ? ACRNN_FILTERBANK_MEL : ACRNN_FILTERBANK_GAMMATONE;
  if (how & 8)
    p->fmin = fuzz_float_bits(in);
  else
    p->fmin = fuzz_range(in, 0, 30000);
  if (how & 16)
    p->fmax = fuzz_float_bits(in);
  else
    p->fmax = fuzz_range(in, 0, 30000);
}

static float special(FuzzInput *in) {
  static const float values[] = {0.0f,     -0.0f,     1.0f,  -1.0f, 1e-45f,
                                 1e-38f,   1e-30f,    1e30f, 3e38f, -3e38f,
                                 INFINITY, -INFINITY, NAN,   0.5f,  1e-10f};
  return values[fuzz_u8(in) % G_N_ELEMENTS(values)];
}

static void fill_block(FuzzInput *in, float *x, size_t n) {
  uint8_t kind = fuzz_u8(in) % 4;
  for (size_t i = 0; i < n; i++) {
    switch (kind) {
    case 0: /* raw bit patterns */
      x[i] = fuzz_float_bits(in);
      break;
    case 1: /* specials */
      x[i] = special(in);
      break;
    case 2: /* a tone, with a special now and then */
      x[i] = (i % 97 == 13 && fuzz_u8(in) < 8) ? special(in)
                                               : 0.5f * sinf(0.05f * i);
      break;
    default: /* silence */
      x[i] = 0.0f;
    }
  }
}

static gboolean all_finite(const float *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i]))
      return FALSE;
  return TRUE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzInput in = {data, size};
  AcrnnFeatureParams p;
  pick_params(&in, &p);
  GError *error = NULL;
  AcrnnFeatureExtractor *fx = acrnn_feature_extractor_new(&p, &error);
  if (!fx) {
    if (!error || acrnn_feature_params_validate(&p, NULL))
      abort(); /* refused parameters the validator accepts */
    g_error_free(error);
    return 0;
  }
  size_t dim = 2 * (size_t)p.bands;
  float *signal = g_new(float, MAX_SAMPLES);
  size_t n_signal = 0;
  GArray *frames = g_array_new(FALSE, FALSE, sizeof(float));
  float *block = g_new(float, MAX_SAMPLES);
  float *out = g_new(float, 64 * dim);
  gboolean compare = TRUE, flushed = FALSE;
  while (in.n > 0) {
    uint8_t op = fuzz_u8(&in) % 8;
    if (op < 4) { /* push */
      size_t n = (size_t)fuzz_range(&in, 0, op == 0 ? 4 * p.n_fft : 300);
      if (n > MAX_SAMPLES - n_signal)
        n = MAX_SAMPLES - n_signal;
      fill_block(&in, block, n);
      size_t before = acrnn_feature_extractor_available(fx);
      /* refused: non-finite samples, and samples after a flush */
      gboolean expect = n == 0 || (all_finite(block, n) && !flushed);
      gboolean ok = acrnn_feature_extractor_push(fx, block, n, &error);
      if (ok != expect || (ok && error) || (!ok && !error))
        abort();
      g_clear_error(&error);
      if (!ok && acrnn_feature_extractor_available(fx) != before)
        abort();
      if (ok) {
        memcpy(signal + n_signal, block, n * sizeof(float));
        n_signal += n;
      }
    } else if (op < 6) { /* pull */
      size_t want = (size_t)fuzz_range(&in, 0, 64);
      size_t avail = acrnn_feature_extractor_available(fx);
      size_t got = acrnn_feature_extractor_pull(fx, out, want);
      if (got > want || got > avail ||
          acrnn_feature_extractor_available(fx) != avail - got)
        abort();
      g_array_append_vals(frames, out, (guint)(got * dim));
    } else if (op == 6) {
      acrnn_feature_extractor_flush(fx);
      flushed = TRUE;
    } else {
      acrnn_feature_extractor_reset(fx);
      if (acrnn_feature_extractor_available(fx) != 0)
        abort();
      flushed = FALSE;
      compare = FALSE;
    }
  }
  if (compare) {
    acrnn_feature_extractor_flush(fx);
    size_t got;
    while ((got = acrnn_feature_extractor_pull(fx, out, 64)) > 0)
      g_array_append_vals(frames, out, (guint)(got * dim));
    size_t n_frames = 0;
    float *ref =
        acrnn_features_compute(&p, signal, n_signal, &n_frames, &error);
    size_t have = frames->len / dim;
    if (ref ? (n_frames != have ||
               memcmp(ref, frames->data, n_frames * dim * sizeof(float)))
            : have != 0)
      abort(); /* streaming and offline differ */
    g_clear_error(&error);
    g_free(ref);
  }
  g_array_unref(frames);
  g_free(out);
  g_free(block);
  g_free(signal);
  acrnn_feature_extractor_free(fx);
  return 0;
}
