/* predict.c - mean probability over a clip's segments (every frame in one:
 * the whole segments and the one aligned to the clip's end), in batches
 * whose overlapping segments share their first conv blocks
 * (acrnn_net_forward_stream(): the same results as one by one). */
#include "predict.h"
#include <acrnn/clip_score.h>

int tr_predict_clip(AcrnnNet *net, const AcrnnModelInfo *info,
                    const float *frames, size_t n_frames, int max_batch,
                    float *probs) {
  const AcrnnNetConfig *cfg = acrnn_net_config(net);
  int c = cfg->n_classes, bands = info->features.bands;
  int sf = info->segment_frames, sh = info->segment_hop;
  size_t n_seg = acrnn_segment_count_covering(n_frames, sf, sh);
  size_t dim = 2 * (size_t)bands * (size_t)sf;
  if (max_batch < 1)
    max_batch = 1;
  int bmax = (int)MIN((size_t)max_batch, MAX(n_seg, (size_t)1));
  float *x = g_new(float, dim *(size_t)bmax);
  float *p = g_new(float, (size_t)c *(size_t)bmax);
  gint64 *starts = g_new(gint64, bmax);
  AcrnnClipScore *score = acrnn_clip_score_new(c);
  for (size_t s0 = 0; s0 < n_seg; s0 += (size_t)bmax) {
    int b = (int)MIN((size_t)bmax, n_seg - s0);
    for (int i = 0; i < b; i++) {
      acrnn_segment_extract(frames, n_frames, bands, sf, sh, s0 + (size_t)i,
                            info->mean, info->std, x + (size_t)i * dim);
      starts[i] =
          (gint64)acrnn_segment_first_frame(n_frames, sf, sh, s0 + (size_t)i);
    }
    acrnn_net_forward_stream(net, x, starts, b);
    acrnn_net_probabilities(net, p);
    acrnn_clip_score_add(score, p, (size_t)b);
  }
  int best = acrnn_clip_score_mean(score, probs);
  acrnn_clip_score_free(score);
  g_free(x);
  g_free(p);
  g_free(starts);
  return best;
}
