/* acrnn/level.h - the sound level of feature frames: how loud the audio
 * behind log band energies was, in dB relative to full scale, without the
 * audio itself. */
#ifndef ACRNN_LEVEL_H
#define ACRNN_LEVEL_H

#include <acrnn/features.h>

G_BEGIN_DECLS

/** Lowest level a meter reports, in dBFS (digital silence and anything
 * quieter). */
#define ACRNN_LEVEL_FLOOR_DB (-200.0)

typedef struct AcrnnLevelMeter AcrnnLevelMeter;

/** A meter for feature frames of parameters p. The power of a frame is
 * estimated as a weighted sum of its band energies exp(L_t(i)), with
 * weights fitted once (least squares over the FFT bins) so that the sum
 * approximates Parseval's sum over the bins of the frame's power spectrum,
 * divided by the window's power: the mean square of the frame's samples.
 * With the default parameters (128 gammatone bands, 50 Hz to 22.05 kHz) a
 * sine or noise anywhere from 40 Hz to 21 kHz is measured to within 0.5 dB;
 * with fewer bands or the mel filterbank the estimate is coarser near the
 * band edges, and sound below fmin or above fmax, which the features do not
 * see, is not measured. NULL with an error for invalid p. */
AcrnnLevelMeter *acrnn_level_meter_new(const AcrnnFeatureParams *p,
                                       GError **error);
void acrnn_level_meter_free(AcrnnLevelMeter *meter);

/** Level in dBFS of n_frames feature frames (2*bands floats each; only the
 * log band energies are read): 10 log10 of the mean of their powers, so a
 * full-scale sine is -3.01 dB and full-scale white noise 0 dB, as the rms
 * of GStreamer's `level` element. ACRNN_LEVEL_FLOOR_DB for no frames,
 * digital silence or below. */
double acrnn_level_meter_db(const AcrnnLevelMeter *meter, const float *frames,
                            size_t n_frames);

G_END_DECLS

#endif
