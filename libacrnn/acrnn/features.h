/* acrnn/features.h - log-gammatone features (docs/features.md), and log-mel
 * features as an alternative filterbank (the paper's baseline input).
 *
 * One implementation, two entry points: acrnn_features_compute() for a whole
 * signal, and AcrnnFeatureExtractor for streams (push samples, pull the frames
 * that are ready, flush at end of stream). Both give the same floats for the
 * same samples whatever the buffer sizes.
 *
 * A feature frame is 2*bands floats: the log band energies (band 0, the
 * lowest, first) followed by their deltas.
 */
#ifndef ACRNN_FEATURES_H
#define ACRNN_FEATURES_H

#include <glib.h>
#include <stddef.h>

G_BEGIN_DECLS

/** The filterbank applied to the power spectrum. */
typedef enum {
  /** docs/features.md: 4th-order gammatone power responses, centres on the ERB
   * scale from fmin to fmax (the default, the paper's Log-GTs). */
  ACRNN_FILTERBANK_GAMMATONE = 0,
  /** Triangular filters on the Slaney mel scale with Slaney area
   * normalisation, edges from fmin to fmax: librosa.filters.mel()'s default
   * (htk=False, norm="slaney"), the log-mel input of the paper's baseline. */
  ACRNN_FILTERBANK_MEL = 1,
} AcrnnFilterbank;

/** Feature parameters; acrnn_feature_params_init() fills the defaults of
 * docs/features.md. */
typedef struct {
  int sample_rate; /**< Hz, default 44100 */
  int n_fft;   /**< window length N in samples, power of two, default 1024 */
  int hop;     /**< hop H in samples, 1..n_fft, default 512 */
  int bands;   /**< filterbank bands B, default 128 */
  double fmin; /**< lowest centre frequency (mel: lowest edge) in Hz, default
                  50 */
  double fmax; /**< highest centre frequency (mel: highest edge) in Hz,
                  default sample_rate/2 */
  int delta_width;            /**< regression width (odd, >= 3), default 9 */
  AcrnnFilterbank filterbank; /**< default ACRNN_FILTERBANK_GAMMATONE */
} AcrnnFeatureParams;

/** The log value of a silent band, ln(1e-10). */
#define ACRNN_LOG_FLOOR (-23.025850929940457f)

void acrnn_feature_params_init(AcrnnFeatureParams *p);

/** Checks every field; on failure sets an error naming the field, its value
 * and what was expected. */
gboolean acrnn_feature_params_validate(const AcrnnFeatureParams *p,
                                       GError **error);

/** "gammatone" or "mel" (a static string; NULL for an unknown value). */
const char *acrnn_filterbank_to_string(AcrnnFilterbank fb);

/** Parses "gammatone" or "mel"; on failure sets an error saying what is
 * expected. */
gboolean acrnn_filterbank_parse(const char *text, AcrnnFilterbank *fb,
                                GError **error);

/** The gammatone centre frequencies in Hz, ascending (bands values). */
void acrnn_gammatone_centres(const AcrnnFeatureParams *p, double *centres);

typedef struct AcrnnFeatureExtractor AcrnnFeatureExtractor;

AcrnnFeatureExtractor *acrnn_feature_extractor_new(const AcrnnFeatureParams *p,
                                                   GError **error);
void acrnn_feature_extractor_free(AcrnnFeatureExtractor *fx);

/** Forgets all buffered samples and frames (a new stream starts). */
void acrnn_feature_extractor_reset(AcrnnFeatureExtractor *fx);

/** Appends n samples. Refuses (and keeps its state unchanged) a block with
 * NaN or Inf samples. */
gboolean acrnn_feature_extractor_push(AcrnnFeatureExtractor *fx,
                                      const float *samples, size_t n,
                                      GError **error);

/** Ends the stream: the frames still waiting for their delta context become
 * ready (edge frames are repeated as docs/features.md says). */
void acrnn_feature_extractor_flush(AcrnnFeatureExtractor *fx);

/** Number of whole frames ready to pull. */
size_t acrnn_feature_extractor_available(const AcrnnFeatureExtractor *fx);

/** Copies up to max_frames ready frames (2*bands floats each) into frames and
 * returns how many were copied. */
size_t acrnn_feature_extractor_pull(AcrnnFeatureExtractor *fx, float *frames,
                                    size_t max_frames);

/** Index (from the stream start) of the next frame pull() returns. Frame t
 * starts at sample t*hop. */
guint64 acrnn_feature_extractor_next_frame(const AcrnnFeatureExtractor *fx);

/** Delay in samples between a sample entering push() and the last frame that
 * needs it becoming ready: n_fft + (delta_width/2) * hop. */
size_t acrnn_feature_extractor_latency_samples(const AcrnnFeatureExtractor *fx);

/** Offline: all frames of a whole signal. Returns a newly allocated
 * [n_frames][2*bands] array (free with g_free), or NULL with an error for an
 * empty signal, one shorter than a window, or NaN/Inf samples. */
float *acrnn_features_compute(const AcrnnFeatureParams *p, const float *x,
                              size_t n, size_t *n_frames, GError **error);

/** Number of whole segments a stream of n_frames frames gives, segment s
 * covering frames [s*hop, s*hop + segment_frames) (docs/features.md: at least
 * one; a short stream is padded with silence frames). 0 for 0 frames. These
 * are the segments training draws from. */
size_t acrnn_segment_count(size_t n_frames, int segment_frames,
                           int segment_hop);

/** Number of segments that classify a stream of n_frames frames, so that
 * every frame is in one: the whole segments, plus one last segment of the
 * stream's last segment_frames frames when frames after the last whole
 * segment exist (a 5 s clip: 429 frames, 5 whole segments ending at frame
 * 384, and a sixth of frames [301, 429)). 0 for 0 frames. */
size_t acrnn_segment_count_covering(size_t n_frames, int segment_frames,
                                    int segment_hop);

/** First frame of segment s of acrnn_segment_count_covering(): s*hop, or
 * n_frames - segment_frames for the last segment when it is the one aligned
 * to the end. */
size_t acrnn_segment_first_frame(size_t n_frames, int segment_frames,
                                 int segment_hop, size_t s);

/** Writes segment s of frames (numbered as in acrnn_segment_count_covering,
 * starting at acrnn_segment_first_frame) as a network input
 * [2][bands][segment_frames] (channel 0 log, channel 1 delta; rows bands,
 * columns frames), normalised per channel: (x - mean[c]) / std[c]. Missing
 * frames are silence. */
void acrnn_segment_extract(const float *frames, size_t n_frames, int bands,
                           int segment_frames, int segment_hop, size_t s,
                           const float mean[2], const float std[2], float *out);

G_END_DECLS

#endif
