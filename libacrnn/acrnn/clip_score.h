/* acrnn/clip_score.h - the clip decision: the class of highest mean
 * probability over a clip's (or a stream's) segments, and the top k classes
 * of a probability vector. The one implementation used by acrnnclassify
 * (per segment and for the final message) and by acrnn-train's eval, so
 * that they cannot drift apart (docs/network.md).
 */
#ifndef ACRNN_CLIP_SCORE_H
#define ACRNN_CLIP_SCORE_H

#include <glib.h>
#include <stddef.h>

G_BEGIN_DECLS

/** An accumulator of segment probabilities (sums in double precision, in
 * the order the segments are added). */
typedef struct AcrnnClipScore AcrnnClipScore;

/** An empty accumulator for n_classes (>= 1) classes. */
AcrnnClipScore *acrnn_clip_score_new(int n_classes);
void acrnn_clip_score_free(AcrnnClipScore *score);
/** Forgets every segment added. */
void acrnn_clip_score_reset(AcrnnClipScore *score);
/** Adds n segments' probabilities, probs [n][n_classes]. */
void acrnn_clip_score_add(AcrnnClipScore *score, const float *probs, size_t n);
/** The number of segments added since the last reset. */
guint64 acrnn_clip_score_count(const AcrnnClipScore *score);
/** Writes the mean probability of each class over the segments into
 * mean [n_classes] (zeros when there are none) and returns the decision,
 * acrnn_argmax() of it. */
int acrnn_clip_score_mean(const AcrnnClipScore *score, float *mean);

/** The index of the largest of x[0..n), the lowest one among equals. */
int acrnn_argmax(const float *x, int n);

/** Orders the n classes of probs so that order[0..k) are the k most
 * probable, most probable first (order[0] is acrnn_argmax()); order has n
 * entries and the rest of it is left in no useful order. k <= n. */
void acrnn_top_k(const float *probs, int n, int k, int *order);

G_END_DECLS

#endif
