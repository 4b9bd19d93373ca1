/* ensemble.c - the checks and the mean probabilities of an ensemble. */
#include "ensemble.h"
#include "predict.h"
#include <acrnn/clip_score.h>
#include <string.h>

#define ENSEMBLE_ERROR (g_quark_from_static_string("acrnn-train-error"))

static char *describe_features(const AcrnnFeatureParams *f) {
  return g_strdup_printf("%s, %d Hz, n-fft %d, hop %d, %d bands, %g-%g Hz, "
                         "delta width %d",
                         acrnn_filterbank_to_string(f->filterbank),
                         f->sample_rate, f->n_fft, f->hop, f->bands, f->fmin,
                         f->fmax, f->delta_width);
}

static gboolean same_features(const AcrnnFeatureParams *a,
                              const AcrnnFeatureParams *b) {
  return a->sample_rate == b->sample_rate && a->n_fft == b->n_fft &&
         a->hop == b->hop && a->bands == b->bands && a->fmin == b->fmin &&
         a->fmax == b->fmax && a->delta_width == b->delta_width &&
         a->filterbank == b->filterbank;
}

gboolean tr_ensemble_check(const AcrnnModelInfo *first, const char *first_path,
                           const AcrnnModelInfo *other, const char *path,
                           GError **error) {
  int diff = -1;
  for (int k = 0; diff < 0 && k < MIN(first->n_labels, other->n_labels); k++)
    if (strcmp(first->labels[k], other->labels[k]) != 0)
      diff = k;
  if (diff >= 0 || first->n_labels != other->n_labels) {
    char *what = diff >= 0
                     ? g_strdup_printf("label %d is \"%s\", not \"%s\"", diff,
                                       other->labels[diff], first->labels[diff])
                     : g_strdup_printf("it has %d labels, not %d",
                                       other->n_labels, first->n_labels);
    g_set_error(error, ENSEMBLE_ERROR, 1,
                "--model %s: %s: the models of an ensemble must have the "
                "labels of %s, in the same order",
                path, what, first_path);
    g_free(what);
    return FALSE;
  }
  if (!same_features(&first->features, &other->features)) {
    char *a = describe_features(&other->features),
         *b = describe_features(&first->features);
    g_set_error(error, ENSEMBLE_ERROR, 1,
                "--model %s: its features (%s) are not those of %s (%s): "
                "the models of an ensemble must compute the same features",
                path, a, first_path, b);
    g_free(a);
    g_free(b);
    return FALSE;
  }
  return TRUE;
}

int tr_ensemble_predict(AcrnnNet *const *nets, const AcrnnModelInfo *infos,
                        int n, const float *frames, size_t n_frames,
                        int max_batch, float *probs) {
  int c = infos[0].n_labels;
  if (n == 1)
    return tr_predict_clip(nets[0], &infos[0], frames, n_frames, max_batch,
                           probs);
  float *p = g_new(float, c);
  memset(probs, 0, sizeof(float) * (size_t)c);
  for (int m = 0; m < n; m++) {
    tr_predict_clip(nets[m], &infos[m], frames, n_frames, max_batch, p);
    for (int k = 0; k < c; k++)
      probs[k] += p[k];
  }
  for (int k = 0; k < c; k++)
    probs[k] /= (float)n;
  g_free(p);
  return acrnn_argmax(probs, c);
}
