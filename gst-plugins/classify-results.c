/* classify-results.c - what acrnnclassify tells: the "acrnn" element
 * message of a segment or of the stream, and the label text buffers. */
#include "acrnnclassify-private.h"

#include <string.h>

static void take_array(GstStructure *s, const char *field, GValue *array) {
  gst_structure_take_value(s, field, array);
}

/* Stream and running time of position: converted through the segment,
 * the position clipped to it first; a segment in another format (not from
 * gammatonespec), or a reverse one without a stop, counts as the default
 * TIME segment. */
void gst_acrnn_classify_segment_times(GstAcrnnClassify *self,
                                      GstClockTime position,
                                      GstClockTime *stream_time,
                                      GstClockTime *running_time) {
  GstSegment def;
  const GstSegment *seg = &self->segment;
  /* reverse playback without a stop has no running time either */
  if (seg->format != GST_FORMAT_TIME ||
      (seg->rate < 0 && !GST_CLOCK_TIME_IS_VALID(seg->stop))) {
    gst_segment_init(&def, GST_FORMAT_TIME);
    seg = &def;
  }
  if (!GST_CLOCK_TIME_IS_VALID(position))
    position = seg->start;
  if (position < seg->start)
    position = seg->start;
  if (GST_CLOCK_TIME_IS_VALID(seg->stop) && position > seg->stop)
    position = seg->stop;
  *stream_time = gst_segment_to_stream_time(seg, GST_FORMAT_TIME, position);
  *running_time = gst_segment_to_running_time(seg, GST_FORMAT_TIME, position);
}

/* Posts an "acrnn" message for probabilities probs, or for silence when
 * probs is NULL (label "silence", class-id -1, confidence 1, silent=TRUE).
 * A segment's message has its level (dBFS); the final one the count of
 * silent segments. */
void gst_acrnn_classify_post_result(GstAcrnnClassify *self, const float *probs,
                                    GstClockTime start, GstClockTime duration,
                                    gboolean final, guint64 index_or_count,
                                    double level) {
  static const float silence_prob = 1.0f;
  static const char *const silence_labels[] = {SILENCE_LABEL};
  const char *const *names = (const char *const *)self->info.labels;
  int n = self->info.n_labels, offset = 0;
  GST_OBJECT_LOCK(self);
  int k = MIN((int)self->top_k, n);
  GST_OBJECT_UNLOCK(self);
  if (probs == NULL) {
    probs = &silence_prob;
    names = silence_labels;
    n = k = 1;
    offset = SILENCE_CLASS_ID;
  }
  int *order = g_new(int, n);
  acrnn_top_k(probs, n, k, order);
  int best = order[0];

  GValue labels = G_VALUE_INIT, scores = G_VALUE_INIT;
  g_value_init(&labels, GST_TYPE_ARRAY);
  g_value_init(&scores, GST_TYPE_ARRAY);
  GString *top = g_string_new(NULL); /* "dog:0.5700,rain:0.2300" */
  for (int i = 0; i < k; i++) {
    char score[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append_printf(
        top, "%s%s:%s", i > 0 ? "," : "", names[order[i]],
        g_ascii_formatd(score, sizeof score, "%.4f", probs[order[i]]));
    GValue v = G_VALUE_INIT;
    g_value_init(&v, G_TYPE_STRING);
    g_value_set_string(&v, names[order[i]]);
    gst_value_array_append_and_take_value(&labels, &v);
    GValue d = G_VALUE_INIT;
    g_value_init(&d, G_TYPE_DOUBLE);
    g_value_set_double(&d, probs[order[i]]);
    gst_value_array_append_and_take_value(&scores, &d);
  }
  GstClockTime stream_time, running_time;
  gst_acrnn_classify_segment_times(self, start, &stream_time, &running_time);
  GstStructure *s = gst_structure_new(
      "acrnn", "label", G_TYPE_STRING, names[best], "class-id", G_TYPE_INT,
      best + offset, "confidence", G_TYPE_DOUBLE, (double)probs[best],
      "timestamp", G_TYPE_UINT64, start, "stream-time", G_TYPE_UINT64,
      stream_time, "running-time", G_TYPE_UINT64, running_time, "duration",
      G_TYPE_UINT64, duration, "final", G_TYPE_BOOLEAN, final, NULL);
  take_array(s, "labels", &labels);
  take_array(s, "scores", &scores);
  gst_structure_set(s, "top-k", G_TYPE_STRING, top->str, "silent",
                    G_TYPE_BOOLEAN, offset == SILENCE_CLASS_ID, NULL);
  g_string_free(top, TRUE);
  if (final)
    gst_structure_set(s, "silent-segments", G_TYPE_UINT64, self->n_silent,
                      NULL);
  else
    gst_structure_set(s, "level", G_TYPE_DOUBLE, level, NULL);
  gst_structure_set(s, final ? "segments" : "segment", G_TYPE_UINT64,
                    index_or_count, NULL);
  g_free(order);
  GST_DEBUG_OBJECT(self, "%" GST_PTR_FORMAT, s);
  gst_element_post_message(GST_ELEMENT(self),
                           gst_message_new_element(GST_OBJECT(self), s));
}

GstFlowReturn gst_acrnn_classify_push_text(GstAcrnnClassify *self,
                                           const char *text, GstClockTime start,
                                           GstClockTime duration) {
  if (text == NULL) {
    gst_pad_push_event(self->srcpad, gst_event_new_gap(start, duration));
    return GST_FLOW_OK;
  }
  /* one line per label, so that a file of the text stream reads as lines */
  size_t len = strlen(text);
  GstBuffer *buf = gst_buffer_new_allocate(NULL, len + 1, NULL);
  gst_buffer_fill(buf, 0, text, len);
  gst_buffer_memset(buf, len, '\n', 1);
  GST_BUFFER_PTS(buf) = start;
  GST_BUFFER_DURATION(buf) = duration;
  return gst_pad_push(self->srcpad, buf);
}
