/* ensemble.h - an ensemble of models (eval --model A --model B ...; ours,
 * not the paper's): each clip's probabilities are the mean of the models'
 * clip probabilities. */
#ifndef TR_ENSEMBLE_H
#define TR_ENSEMBLE_H

#include <acrnn/acrnn.h>

/* Whether the model of other (file path) can join an ensemble with first
 * (file first_path): the same labels in the same order and the same
 * feature parameters (each model keeps its own segments, normalisation and
 * attention). FALSE with an error naming path, what differs and what was
 * expected otherwise. */
gboolean tr_ensemble_check(const AcrnnModelInfo *first, const char *first_path,
                           const AcrnnModelInfo *other, const char *path,
                           GError **error);

/* probs (n_classes) = the mean over the n models of their clip
 * probabilities (tr_predict_clip(): the mean over the clip's segments),
 * summed in model order and divided by n, in float. Returns the class of
 * the highest mean (acrnn_argmax()). */
int tr_ensemble_predict(AcrnnNet *const *nets, const AcrnnModelInfo *infos,
                        int n, const float *frames, size_t n_frames,
                        int max_batch, float *probs);

#endif
