/* feature_params.c - the docs/features.md default feature parameters and their
 * validation. */
#include "fail.h"
#include "feature_error.h"
#include <acrnn/features.h>
#include <math.h>

GQuark acrnn_features_error_quark(void) {
  return g_quark_from_static_string("acrnn-features-error-quark");
}

void acrnn_feature_params_init(AcrnnFeatureParams *p) {
  p->sample_rate = 44100;
  p->n_fft = 1024;
  p->hop = 512;
  p->bands = 128;
  p->fmin = 50.0;
  p->fmax = p->sample_rate / 2.0;
  p->delta_width = 9;
  p->filterbank = ACRNN_FILTERBANK_GAMMATONE;
}

/* A feature parameter error; FALSE. */
#define bad(error, ...)                                                        \
  acrnn_fail(error, ACRNN_FEATURES_ERROR, ACRNN_FEATURES_ERROR_PARAMS, NULL,   \
             __VA_ARGS__)

gboolean acrnn_feature_params_validate(const AcrnnFeatureParams *p,
                                       GError **error) {
  if (p == NULL)
    return bad(error, "feature parameters: NULL pointer");
  if (p->sample_rate < 1000 || p->sample_rate > 384000)
    return bad(error,
               "feature parameter sample_rate = %d Hz: expected 1000 to "
               "384000 Hz",
               p->sample_rate);
  if (p->n_fft < 16 || p->n_fft > 65536 || (p->n_fft & (p->n_fft - 1)) != 0)
    return bad(error,
               "feature parameter n_fft = %d: expected a power of two from "
               "16 to 65536",
               p->n_fft);
  if (p->hop < 1 || p->hop > p->n_fft)
    return bad(error,
               "feature parameter hop = %d: expected 1 to n_fft (%d) samples",
               p->hop, p->n_fft);
  if (p->bands < 1 || p->bands > 1024)
    return bad(error, "feature parameter bands = %d: expected 1 to 1024",
               p->bands);
  double nyquist = p->sample_rate / 2.0;
  if (!isfinite(p->fmin) || p->fmin <= 0.0)
    return bad(error,
               "feature parameter fmin = %g Hz: expected a frequency above 0 "
               "Hz",
               p->fmin);
  if (!isfinite(p->fmax) || p->fmax <= p->fmin || p->fmax > nyquist)
    return bad(error,
               "feature parameter fmax = %g Hz: expected above fmin (%g Hz) "
               "and at most the Nyquist frequency sample_rate/2 = %g Hz",
               p->fmax, p->fmin, nyquist);
  if (p->delta_width < 3 || p->delta_width % 2 == 0 || p->delta_width > 1025)
    return bad(error,
               "feature parameter delta_width = %d: expected an odd number "
               "from 3 to 1025",
               p->delta_width);
  if (acrnn_filterbank_to_string(p->filterbank) == NULL)
    return bad(error,
               "feature parameter filterbank = %d: expected gammatone (%d) or "
               "mel (%d)",
               (int)p->filterbank, ACRNN_FILTERBANK_GAMMATONE,
               ACRNN_FILTERBANK_MEL);
  return TRUE;
}
