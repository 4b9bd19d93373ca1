/* filterbank.c - the filterbank names and the choice between the gammatone
 * (docs/features.md) and mel weights. */
#include "filterbank.h"
#include "feature_error.h"
#include "gammatone.h"
#include "mel.h"
#include <string.h>

const char *acrnn_filterbank_to_string(AcrnnFilterbank fb) {
  switch (fb) {
  case ACRNN_FILTERBANK_GAMMATONE:
    return "gammatone";
  case ACRNN_FILTERBANK_MEL:
    return "mel";
  }
  return NULL;
}

gboolean acrnn_filterbank_parse(const char *text, AcrnnFilterbank *fb,
                                GError **error) {
  for (int i = ACRNN_FILTERBANK_GAMMATONE; i <= ACRNN_FILTERBANK_MEL; i++)
    if (text != NULL && strcmp(text, acrnn_filterbank_to_string(i)) == 0) {
      *fb = (AcrnnFilterbank)i;
      return TRUE;
    }
  g_set_error(error, ACRNN_FEATURES_ERROR, ACRNN_FEATURES_ERROR_PARAMS,
              "unknown filterbank \"%s\": expected \"gammatone\" or \"mel\"",
              text ? text : "(null)");
  return FALSE;
}

void acrnn_filterbank_weights(const AcrnnFeatureParams *p, float *weights) {
  if (p->filterbank == ACRNN_FILTERBANK_MEL)
    acrnn_mel_weights(p, weights);
  else
    acrnn_gammatone_weights(p, weights);
}
