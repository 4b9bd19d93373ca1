/* predict.h - clip-level prediction: the mean of the class probabilities
 * over a clip's segments (the paper's test rule). */
#ifndef TR_PREDICT_H
#define TR_PREDICT_H

#include <acrnn/acrnn.h>

/* probs (n_classes) = mean over the segments of frames of the softmax
 * outputs, segments normalised with info's mean/std; inference mode.
 * Returns the predicted class. */
int tr_predict_clip(AcrnnNet *net, const AcrnnModelInfo *info,
                    const float *frames, size_t n_frames, int max_batch,
                    float *probs);

#endif
