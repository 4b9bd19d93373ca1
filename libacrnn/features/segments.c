/* segments.c - cutting a stream of feature frames into network inputs
 * (docs/features.md): segment s covers frames [s*hop, s*hop + S); a stream
 * shorter than S frames gives one segment padded with silence frames
 * (L = ln(1e-10), D = 0). To classify a stream, frames after the last whole
 * segment get one more segment, the stream's last S frames. Each segment is
 * laid out [2][bands][S] and normalised per channel: (x - mean[c]) /
 * std[c]. */
#include <acrnn/features.h>

size_t acrnn_segment_count(size_t n_frames, int segment_frames,
                           int segment_hop) {
  if (n_frames == 0 || segment_frames <= 0 || segment_hop <= 0)
    return 0;
  if (n_frames < (size_t)segment_frames)
    return 1;
  return (n_frames - (size_t)segment_frames) / (size_t)segment_hop + 1;
}

size_t acrnn_segment_count_covering(size_t n_frames, int segment_frames,
                                    int segment_hop) {
  size_t whole = acrnn_segment_count(n_frames, segment_frames, segment_hop);
  if (whole == 0 || n_frames <= (size_t)segment_frames)
    return whole;
  size_t covered = (whole - 1) * (size_t)segment_hop + (size_t)segment_frames;
  return covered < n_frames ? whole + 1 : whole;
}

size_t acrnn_segment_first_frame(size_t n_frames, int segment_frames,
                                 int segment_hop, size_t s) {
  size_t first = s * (size_t)segment_hop;
  if (n_frames >= (size_t)segment_frames &&
      first + (size_t)segment_frames > n_frames)
    return n_frames - (size_t)segment_frames;
  return first;
}

void acrnn_segment_extract(const float *frames, size_t n_frames, int bands,
                           int segment_frames, int segment_hop, size_t s,
                           const float mean[2], const float std[2],
                           float *out) {
  const size_t fs = 2 * (size_t)bands;
  const size_t first =
      acrnn_segment_first_frame(n_frames, segment_frames, segment_hop, s);
  for (int c = 0; c < 2; c++) {
    const float silence = c == 0 ? ACRNN_LOG_FLOOR : 0.0f;
    const float m = mean != NULL ? mean[c] : 0.0f;
    const float sd = std != NULL ? std[c] : 1.0f;
    for (int b = 0; b < bands; b++) {
      float *row = out + ((size_t)c * bands + b) * segment_frames;
      for (int j = 0; j < segment_frames; j++) {
        size_t f = first + (size_t)j;
        float x =
            f < n_frames ? frames[f * fs + (size_t)c * bands + b] : silence;
        row[j] = (x - m) / sd;
      }
    }
  }
}
