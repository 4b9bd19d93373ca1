/* gammatonespec-frames.c - gammatonespec's stream: samples in, feature
 * frames out, timed by runs (run-timing.h). */
#include "gammatonespec-private.h"
#include "run-timing.h"

#include <math.h>

static GstClockTime frame_time(GstGammatoneSpec *self, guint64 frame) {
  return gst_acrnn_run_time(self->run_start, frame * self->params.hop,
                            self->params.sample_rate);
}

/* Pushes every frame the extractor has ready as one buffer. */
static GstFlowReturn push_ready(GstGammatoneSpec *self) {
  size_t avail = acrnn_feature_extractor_available(self->fx);
  if (avail == 0)
    return GST_FLOW_OK;
  size_t frame_floats = 2 * (size_t)self->params.bands;
  guint64 first = acrnn_feature_extractor_next_frame(self->fx);
  GstBuffer *out =
      gst_buffer_new_allocate(NULL, avail * frame_floats * sizeof(float), NULL);
  GstMapInfo map;
  gst_buffer_map(out, &map, GST_MAP_WRITE);
  size_t got = acrnn_feature_extractor_pull(self->fx, (float *)map.data, avail);
  gst_buffer_unmap(out, &map);
  g_assert(got == avail);
  GstClockTime start = frame_time(self, first);
  GST_BUFFER_PTS(out) = start;
  GST_BUFFER_DURATION(out) = frame_time(self, first + got) - start;
  GST_BUFFER_OFFSET(out) = first;
  GST_BUFFER_OFFSET_END(out) = first + got;
  if (self->discont) {
    GST_BUFFER_FLAG_SET(out, GST_BUFFER_FLAG_DISCONT);
    self->discont = FALSE;
  }
  GST_LOG_OBJECT(
      self, "pushing frames %" G_GUINT64_FORMAT "..+%zu at %" GST_TIME_FORMAT,
      first, got, GST_TIME_ARGS(start));
  return gst_pad_push(self->srcpad, out);
}

/* Ends the current run: its tail frames become ready and are pushed; the
 * next buffer starts a new run. */
GstFlowReturn gst_gammatone_spec_drain(GstGammatoneSpec *self) {
  GstFlowReturn ret = GST_FLOW_OK;
  if (self->samples_in > 0 && self->params.sample_rate > 0)
    self->run_end = self->run_start +
                    gst_util_uint64_scale_int(self->samples_in, GST_SECOND,
                                              self->params.sample_rate);
  if (self->fx != NULL && self->samples_in > 0) {
    acrnn_feature_extractor_flush(self->fx);
    ret = push_ready(self);
  }
  if (self->fx != NULL)
    acrnn_feature_extractor_reset(self->fx);
  self->samples_in = 0;
  self->need_start = TRUE;
  return ret;
}

void gst_gammatone_spec_reset_run(GstGammatoneSpec *self) {
  if (self->fx != NULL)
    acrnn_feature_extractor_reset(self->fx);
  self->samples_in = 0;
  self->need_start = TRUE;
}

/* Index of the first NaN or Inf of x[0..n), or n. */
static size_t first_non_finite(const float *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i]))
      return i;
  return n;
}

/* Posts the error for the non-finite sample `index` of a buffer of the run
 * whose first sample is sample `first` of the run: its stream time
 * (h:mm:ss.mmm, truncated to the millisecond) in the message. */
static void post_non_finite(GstGammatoneSpec *self, float value, guint64 first,
                            size_t index, GstClockTime pts) {
  GstClockTime at =
      self->run_start + gst_util_uint64_scale_int(first + index, GST_SECOND,
                                                  self->params.sample_rate);
  GstClockTime stream = at;
  const char *base = "stream time";
  if (self->segment.format == GST_FORMAT_TIME) {
    stream = gst_segment_to_stream_time(&self->segment, GST_FORMAT_TIME, at);
    if (!GST_CLOCK_TIME_IS_VALID(stream)) {
      stream = at; /* outside the segment */
      base = "timestamp";
    }
  }
  guint64 ms = stream / GST_MSECOND;
  const char *kind = isnan(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
  GST_ELEMENT_ERROR(
      self, STREAM, FORMAT,
      ("The input audio has a non-finite sample (%s) at %u:%02u:%02u.%03u %s: "
       "audio samples must be finite numbers; check the source or the "
       "elements before gammatonespec.",
       kind, (guint)(ms / 3600000), (guint)(ms / 60000 % 60),
       (guint)(ms / 1000 % 60), (guint)(ms % 1000), base),
      ("sample %zu of the buffer with PTS %" GST_TIME_FORMAT
       ", timestamp %" GST_TIME_FORMAT ", segment %" GST_SEGMENT_FORMAT,
       index, GST_TIME_ARGS(pts), GST_TIME_ARGS(at), &self->segment));
}

GstFlowReturn gst_gammatone_spec_chain(GstPad *pad, GstObject *parent,
                                       GstBuffer *buf) {
  GstGammatoneSpec *self = GST_GAMMATONE_SPEC(parent);
  GstFlowReturn ret = GST_FLOW_OK;

  if (self->fx == NULL) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, (NULL),
                      ("received audio before its caps"));
    gst_buffer_unref(buf);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  int rate = self->params.sample_rate;
  GstClockTime pts = GST_BUFFER_PTS(buf);

  if (!self->need_start) {
    GstClockTime expected =
        gst_acrnn_run_time(self->run_start, self->samples_in, rate);
    if (gst_acrnn_run_breaks(buf, expected, rate)) {
      GST_DEBUG_OBJECT(self,
                       "discontinuity at %" GST_TIME_FORMAT
                       " (expected %" GST_TIME_FORMAT "): new run",
                       GST_TIME_ARGS(pts), GST_TIME_ARGS(expected));
      ret = gst_gammatone_spec_drain(self);
      if (ret != GST_FLOW_OK) {
        gst_buffer_unref(buf);
        return ret;
      }
    }
  }
  if (self->need_start) {
    self->run_start = gst_acrnn_run_start(pts, self->run_end, &self->segment);
    self->need_start = FALSE;
    self->discont = TRUE;
  }

  GstMapInfo map;
  if (!gst_buffer_map(buf, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR(self, RESOURCE, READ, (NULL),
                      ("could not map an input buffer"));
    gst_buffer_unref(buf);
    return GST_FLOW_ERROR;
  }
  size_t n = map.size / sizeof(float);
  size_t bad = first_non_finite((const float *)map.data, n);
  if (bad < n) {
    post_non_finite(self, ((const float *)map.data)[bad], self->samples_in, bad,
                    pts);
    gst_buffer_unmap(buf, &map);
    gst_buffer_unref(buf);
    return GST_FLOW_ERROR;
  }
  GError *error = NULL;
  gboolean ok = acrnn_feature_extractor_push(self->fx, (const float *)map.data,
                                             n, &error);
  gst_buffer_unmap(buf, &map);
  gst_buffer_unref(buf);
  if (!ok) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                      ("The input audio is not usable: %s", error->message),
                      ("buffer at %" GST_TIME_FORMAT " of %zu samples",
                       GST_TIME_ARGS(pts), n));
    g_error_free(error);
    return GST_FLOW_ERROR;
  }
  self->samples_in += n;
  return push_ready(self);
}
