/* classify-segments.c - acrnnclassify's segments: the frames of a run
 * cut into segments, batched, run through the network and reported; the
 * end of a run and of a stream. */
#include "acrnnclassify-private.h"

#include <string.h>

static GstFlowReturn run_batch(GstAcrnnClassify *self) {
  if (self->n_pending == 0)
    return GST_FLOW_OK;
  int n = self->info.n_labels;
  if (self->n_inputs > 0)
    gst_acrnn_classify_forward(self);
  GST_OBJECT_LOCK(self);
  double threshold = self->threshold;
  gboolean post = self->post_messages;
  GST_OBJECT_UNLOCK(self);
  GstFlowReturn ret = GST_FLOW_OK;
  for (guint b = 0; b < self->n_pending; b++) {
    const PendingSegment *seg = &self->pending[b];
    if (seg->silent) {
      self->n_silent++;
      gst_acrnn_classify_events_push(self, seg, NULL);
      if (post)
        gst_acrnn_classify_post_result(self, NULL, seg->start, seg->duration,
                                       FALSE, seg->index, seg->level);
      gst_acrnn_classify_push_text(self, NULL, seg->text_start,
                                   seg->text_duration);
      continue;
    }
    const float *p = self->probs + (size_t)seg->input * n;
    int best = acrnn_argmax(p, n);
    acrnn_clip_score_add(self->score, p, 1);
    gst_acrnn_classify_events_push(self, seg, p);
    gboolean pass = p[best] >= threshold;
    if (post && pass)
      gst_acrnn_classify_post_result(self, p, seg->start, seg->duration, FALSE,
                                     seg->index, seg->level);
    GstFlowReturn r = gst_acrnn_classify_push_text(
        self, pass ? self->info.labels[best] : NULL, seg->text_start,
        seg->text_duration);
    /* An unlinked or flushing text pad does not stop the classification. */
    if (r != GST_FLOW_OK && r != GST_FLOW_NOT_LINKED && ret == GST_FLOW_OK)
      ret = r;
  }
  self->n_pending = 0;
  self->n_inputs = 0;
  return ret;
}

/* Adds the segment of the run that starts at frame first (frames [first,
 * first + S), fewer when the run is short) to the batch; its text starts at
 * text_from (a frame) and lasts until text_to (a frame, or the end of the
 * run's audio when G_MAXUINT64). */
static GstFlowReturn queue_segment(GstAcrnnClassify *self, guint64 first,
                                   guint64 text_from, guint64 text_to) {
  int S = self->info.segment_frames, H = self->seg_hop;
  g_assert(first >= self->buf_first);
  guint64 have = self->run_frames - first;
  guint64 used = MIN(have, (guint64)S);
  size_t in_floats = 2 * (size_t)self->fp.bands * S;
  const float *frames =
      self->frames + (first - self->buf_first) * self->frame_floats;
  PendingSegment *seg = &self->pending[self->n_pending++];
  GST_OBJECT_LOCK(self);
  double silence_threshold = self->silence_threshold;
  GST_OBJECT_UNLOCK(self);
  seg->level = self->meter != NULL
                   ? acrnn_level_meter_db(self->meter, frames, (size_t)used)
                   : 0.0;
  seg->silent = seg->level < silence_threshold;
  if (!seg->silent) {
    seg->input = self->n_inputs++;
    /* its first frame in the run: a batch never outlasts its run
     * (gst_acrnn_classify_end_run()) */
    self->batch_starts[seg->input] = (gint64)first;
    acrnn_segment_extract(frames, (size_t)have, self->fp.bands, S, H, 0,
                          self->info.mean, self->info.std,
                          self->batch_in + seg->input * in_floats);
    gst_acrnn_classify_input_ready(self);
  }
  gst_acrnn_classify_events_measure(self, seg, frames, first, used);
  seg->index = self->next_index++;
  seg->start = gst_acrnn_classify_frame_time(self, first);
  seg->duration = gst_acrnn_classify_samples_time(
      self, (used - 1) * self->fp.hop + self->fp.n_fft);
  seg->text_start = gst_acrnn_classify_frame_time(self, text_from);
  guint64 end_sample = (first + used - 1) * self->fp.hop + self->fp.n_fft;
  GstClockTime text_end =
      text_to == G_MAXUINT64
          ? self->run_start + gst_acrnn_classify_samples_time(self, end_sample)
          : gst_acrnn_classify_frame_time(self, text_to);
  seg->text_duration = text_end - seg->text_start;
  if (self->n_pending == self->batch_size)
    return run_batch(self);
  return GST_FLOW_OK;
}

/* Queues every whole segment of the run and drops frames no segment needs:
 * the next whole segment's, and the last S for the segment aligned to the
 * end of the run. */
GstFlowReturn gst_acrnn_classify_process_ready(GstAcrnnClassify *self) {
  int S = self->info.segment_frames, H = self->seg_hop;
  GstFlowReturn ret = GST_FLOW_OK;
  while (ret == GST_FLOW_OK && self->run_frames >= self->run_segments * H + S) {
    guint64 first = self->run_segments * H;
    self->run_segments++;
    ret = queue_segment(self, first, first, first + H);
  }
  guint64 keep_from = self->run_segments * H;
  if (self->run_frames >= (guint64)S)
    keep_from = MIN(keep_from, self->run_frames - S);
  if (keep_from > self->buf_first) {
    guint64 drop = MIN(keep_from, self->run_frames) - self->buf_first;
    guint64 left = self->run_frames - self->buf_first - drop;
    memmove(self->frames, self->frames + drop * self->frame_floats,
            left * self->frame_floats * sizeof(float));
    self->buf_first += drop;
  }
  return ret;
}

/* Ends the run so that every frame is classified: a run with frames but no
 * whole segment gives one padded with silence; frames after the last whole
 * segment give one more segment, the run's last S frames (its text follows
 * the last whole segment's, up to the end of the audio). */
GstFlowReturn gst_acrnn_classify_end_run(GstAcrnnClassify *self) {
  GstFlowReturn ret = GST_FLOW_OK;
  int S = self->info.segment_frames, H = self->seg_hop;
  if (self->have_model && self->run_frames > 0) {
    if (self->run_segments == 0)
      ret = queue_segment(self, 0, 0, G_MAXUINT64);
    else if (self->run_frames > (self->run_segments - 1) * H + S)
      ret = queue_segment(self, self->run_frames - S, self->run_segments * H,
                          G_MAXUINT64);
  }
  if (ret == GST_FLOW_OK)
    ret = run_batch(self);
  gst_acrnn_classify_events_end(self);
  if (self->run_frames > 0)
    self->classified += gst_acrnn_classify_samples_time(
        self, (self->run_frames - 1) * self->fp.hop + self->fp.n_fft);
  gst_acrnn_classify_reset_run(self);
  return ret;
}

void gst_acrnn_classify_post_final(GstAcrnnClassify *self) {
  GST_OBJECT_LOCK(self);
  gboolean post = self->post_messages;
  GST_OBJECT_UNLOCK(self);
  guint64 n_segments =
      self->score != NULL ? acrnn_clip_score_count(self->score) : 0;
  if (!post || (n_segments == 0 && self->n_silent == 0))
    return;
  float *mean = NULL; /* silence: every segment was silent */
  if (n_segments > 0) {
    mean = g_new(float, self->info.n_labels);
    acrnn_clip_score_mean(self->score, mean);
  }
  /* what was classified: after a non-flushing seek, not the file's extent */
  gst_acrnn_classify_post_result(self, mean, self->stream_start,
                                 self->classified, TRUE, n_segments, 0.0);
  g_free(mean);
}
