/* acrnn/augment.h - data augmentation of the paper: time stretch and pitch
 * shift of the waveform (Rubber Band), and mixup of features and targets.
 */
#ifndef ACRNN_AUGMENT_H
#define ACRNN_AUGMENT_H

#include <acrnn/rng.h>
#include <glib.h>
#include <stddef.h>

G_BEGIN_DECLS

/** Time stretch by factor (output length = round(n * factor)), keeping the
 * pitch. Returns a new g_malloc'd signal and its length in out_n. */
float *acrnn_time_stretch(const float *x, size_t n, int sample_rate,
                          double factor, size_t *out_n, GError **error);

/** Pitch shift by semitones, keeping the duration (same length n). */
float *acrnn_pitch_shift(const float *x, size_t n, int sample_rate,
                         double semitones, GError **error);

/** Both at once, in one pass of Rubber Band (one phase vocoder, then its
 * resampler): the duration scaled by factor (output length round(n *
 * factor), in out_n) and the pitch shifted by semitones. About 1.5 times as
 * fast as acrnn_time_stretch() followed by acrnn_pitch_shift(), and one
 * phase vocoder's smearing instead of two. */
float *acrnn_time_pitch(const float *x, size_t n, int sample_rate,
                        double factor, double semitones, size_t *out_n,
                        GError **error);

/** What makes acrnn_time_pitch()'s output, as text that changes whenever
 * its output could (e.g. "rubberband 3.1.2 offline faster"), for caches of
 * augmented copies to key on; NULL in a build without Rubber Band. */
const char *acrnn_time_pitch_engine(void);

/** Mixup in place over a batch: for each i, x[i] = lam x[i] + (1-lam)
 * x[perm[i]] and the same for the targets, with lam ~ Beta(alpha, alpha) and
 * perm a random permutation. x is [batch][dim], y is [batch][n_classes].
 * alpha <= 0 leaves the batch unchanged. Returns lam. */
float acrnn_mixup(AcrnnRng *rng, float alpha, float *x, size_t dim, float *y,
                  int n_classes, int batch);

G_END_DECLS

#endif
