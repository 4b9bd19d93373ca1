/* classify-pads.c - acrnnclassify's pads: feature buffers, events, the
 * caps check against the model, and the caps and latency queries. */
#include "acrnnclassify-private.h"
#include "auto-batch.h"
#include "features-caps.h"
#include "run-timing.h"

#include <math.h>

GstFlowReturn gst_acrnn_classify_chain(GstPad *pad, GstObject *parent,
                                       GstBuffer *buf) {
  GstAcrnnClassify *self = GST_ACRNN_CLASSIFY(parent);
  if (!self->negotiated) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, (NULL),
                      ("received features before their caps"));
    gst_buffer_unref(buf);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  if (gst_buffer_get_size(buf) == 0) { /* no frames, nothing to do */
    gst_buffer_unref(buf);
    return GST_FLOW_OK;
  }
  GstFlowReturn ret = GST_FLOW_OK;
  GstClockTime pts = GST_BUFFER_PTS(buf);
  if (!self->need_start &&
      gst_acrnn_run_breaks(
          buf, gst_acrnn_classify_frame_time(self, self->run_frames),
          self->fp.sample_rate)) {
    GST_DEBUG_OBJECT(self, "discontinuity: new run at %" GST_TIME_FORMAT,
                     GST_TIME_ARGS(pts));
    ret = gst_acrnn_classify_end_run(self);
  }
  if (self->need_start) {
    self->run_start =
        gst_acrnn_run_start(pts, self->stream_end, &self->segment);
    if (!GST_CLOCK_TIME_IS_VALID(self->stream_start))
      self->stream_start = self->run_start;
    self->need_start = FALSE;
    /* No label before the first segment is complete: tell downstream (a
     * live sink can preroll, textoverlay need not wait). */
    gst_pad_push_event(self->srcpad, gst_event_new_gap(self->run_start, 0));
  }

  gsize size = gst_buffer_get_size(buf);
  size_t frame_bytes = self->frame_floats * sizeof(float);
  if (size % frame_bytes != 0) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                      ("Feature buffers must hold whole frames"),
                      ("buffer of %" G_GSIZE_FORMAT " bytes, frames of %zu "
                       "bytes (2*%d float32)",
                       size, frame_bytes, self->fp.bands));
    gst_buffer_unref(buf);
    return GST_FLOW_ERROR;
  }
  guint64 n = size / frame_bytes;
  guint64 held = self->run_frames - self->buf_first;
  if (held + n > self->buf_cap) {
    self->buf_cap = MAX(held + n, 2 * self->buf_cap);
    self->frames = g_realloc_n(self->frames, self->buf_cap, frame_bytes);
  }
  gst_buffer_extract(buf, 0, self->frames + held * self->frame_floats, size);
  gst_buffer_unref(buf);
  self->run_frames += n;
  GstClockTime end =
      self->run_start +
      gst_acrnn_classify_samples_time(
          self, (self->run_frames - 1) * self->fp.hop + self->fp.n_fft);
  if (!GST_CLOCK_TIME_IS_VALID(self->stream_end) || end > self->stream_end)
    self->stream_end = end;
  if (ret == GST_FLOW_OK)
    ret = gst_acrnn_classify_process_ready(self);
  return ret;
}

static void ensure_text_caps(GstAcrnnClassify *self) {
  if (self->text_caps_sent)
    return;
  GstCaps *caps = gst_pad_get_pad_template_caps(self->srcpad);
  gst_pad_set_caps(self->srcpad, caps);
  gst_caps_unref(caps);
  self->text_caps_sent = TRUE;
}

static gboolean params_close(double a, double b) {
  return fabs(a - b) <= 1e-6 * MAX(fabs(a), fabs(b)) + 1e-9;
}

/* Posts the error that features do not fit the model, once for the sticky
 * caps retried on every buffer; returns FALSE. */
static gboolean refuse_caps(GstAcrnnClassify *self, GstCaps *caps,
                            const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static gboolean refuse_caps(GstAcrnnClassify *self, GstCaps *caps,
                            const char *fmt, ...) {
  if (self->caps_refused)
    return FALSE;
  self->caps_refused = TRUE;
  va_list ap;
  va_start(ap, fmt);
  char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("%s", msg),
                    ("caps %" GST_PTR_FORMAT, caps));
  g_free(msg);
  return FALSE;
}

/* Whether features p fit the loaded model: another band count or filterbank
 * is refused (an ERROR saying what to set), other feature parameters only
 * warned about. */
static gboolean fits_model(GstAcrnnClassify *self, GstCaps *caps,
                           const AcrnnFeatureParams *pp) {
  const AcrnnFeatureParams p = *pp;
  const AcrnnFeatureParams *m = &self->info.features;
  if (p.bands != m->bands)
    return refuse_caps(
        self, caps,
        "The features have %d bands but the model \"%s\" expects %d: set "
        "bands=%d on gammatonespec (or use soundclassifier, which takes its "
        "feature parameters from the model).",
        p.bands, self->loaded_path, m->bands, m->bands);
  if (p.filterbank != m->filterbank) {
    const char *want = acrnn_filterbank_to_string(m->filterbank);
    return refuse_caps(
        self, caps,
        "The features come from the %s filterbank but the model \"%s\" was "
        "trained on %s features: set filterbank=%s on gammatonespec (or use "
        "soundclassifier, which takes its feature parameters from the "
        "model).",
        acrnn_filterbank_to_string(p.filterbank), self->loaded_path, want,
        want);
  }
  if (p.sample_rate != m->sample_rate || p.n_fft != m->n_fft ||
      p.hop != m->hop || p.delta_width != m->delta_width ||
      !params_close(p.fmin, m->fmin) || !params_close(p.fmax, m->fmax))
    GST_ELEMENT_WARNING(
        self, STREAM, FORMAT,
        ("The features differ from those the model \"%s\" was trained on "
         "(sample rate %d Hz, n-fft %d, hop %d, fmin %g Hz, fmax %g Hz, "
         "delta width %d); results may be wrong.",
         self->loaded_path, m->sample_rate, m->n_fft, m->hop, m->fmin, m->fmax,
         m->delta_width),
        ("caps %" GST_PTR_FORMAT, caps));
  return TRUE;
}

/* The batch and its buffers for features p; batch=0 chooses it now. */
static void allocate_batch(GstAcrnnClassify *self,
                           const AcrnnFeatureParams *p) {
  gst_acrnn_classify_workers_drain(self);
  GST_OBJECT_LOCK(self);
  guint batch = self->batch;
  GST_OBJECT_UNLOCK(self);
  if (batch == 0) {
    const char *why;
    batch =
        gst_acrnn_auto_batch(GST_ELEMENT(self), self->srcpad,
                             gst_acrnn_upstream_is_live(self->sinkpad), &why);
    GST_INFO_OBJECT(self, "batch=0: batches of %u (%s)", batch, why);
  }
  GST_OBJECT_LOCK(self);
  self->batch_size = batch;
  self->seg_hop =
      self->segment_hop > 0 ? (int)self->segment_hop : self->info.segment_hop;
  GST_OBJECT_UNLOCK(self);
  size_t in_floats = 2 * (size_t)p->bands * self->info.segment_frames;
  int n = self->info.n_labels;
  g_free(self->batch_in);
  self->batch_in = g_new(float, self->batch_size *in_floats);
  g_free(self->batch_starts);
  self->batch_starts = g_new(gint64, self->batch_size);
  g_free(self->pending);
  self->pending = g_new0(PendingSegment, self->batch_size);
  g_free(self->probs);
  self->probs = g_new(float, (size_t)self->batch_size *n);
  if (self->score == NULL)
    self->score = acrnn_clip_score_new(n);
  acrnn_level_meter_free(self->meter);
  GError *error = NULL;
  self->meter = acrnn_level_meter_new(p, &error);
  if (self->meter == NULL) { /* the caps were checked: not expected */
    GST_WARNING_OBJECT(self, "no level meter, no silence gate: %s",
                       error->message);
    g_error_free(error);
  }
  self->n_pending = 0;
  self->n_inputs = 0;
}

static gboolean set_caps(GstAcrnnClassify *self, GstCaps *caps) {
  AcrnnFeatureParams p;
  if (!gst_acrnn_features_caps_parse(caps, &p)) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                      ("The input is not a feature stream of gammatonespec"),
                      ("caps %" GST_PTR_FORMAT, caps));
    return FALSE;
  }
  if (!self->have_model) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("No model is loaded"), (NULL));
    return FALSE;
  }
  if (!fits_model(self, caps, &p))
    return FALSE;
  if (self->negotiated && p.hop == self->fp.hop &&
      p.sample_rate == self->fp.sample_rate && p.n_fft == self->fp.n_fft) {
    self->fp = p; /* same frame layout and timing */
    return TRUE;
  }
  if (self->negotiated)
    gst_acrnn_classify_end_run(self);
  self->fp = p;
  self->frame_floats = 2 * p.bands;
  allocate_batch(self, &p);
  self->negotiated = TRUE;
  ensure_text_caps(self);
  return TRUE;
}

/* The end of a stream: its last segments, then its final message. */
static void end_stream(GstAcrnnClassify *self) {
  if (self->negotiated)
    gst_acrnn_classify_end_run(self);
  gst_acrnn_classify_post_final(self);
  gst_acrnn_classify_reset_stream(self);
}

gboolean gst_acrnn_classify_sink_event(GstPad *pad, GstObject *parent,
                                       GstEvent *event) {
  GstAcrnnClassify *self = GST_ACRNN_CLASSIFY(parent);
  switch (GST_EVENT_TYPE(event)) {
  case GST_EVENT_CAPS: {
    GstCaps *caps;
    gst_event_parse_caps(event, &caps);
    gboolean ok = set_caps(self, caps);
    gst_event_unref(event);
    return ok;
  }
  case GST_EVENT_SEGMENT:
    /* A new segment without a flush (a non-flushing seek): the frames after
     * it are a new run, timed from their own timestamps. */
    if (self->negotiated && !self->need_start)
      gst_acrnn_classify_end_run(self);
    gst_event_copy_segment(event, &self->segment);
    ensure_text_caps(self);
    break;
  case GST_EVENT_GAP: {
    GstClockTime timestamp, duration;
    gst_event_parse_gap(event, &timestamp, &duration);
    if (duration != 0 && self->negotiated)
      gst_acrnn_classify_end_run(
          self); /* no features for a while: the run ends */
    ensure_text_caps(self);
    break;
  }
  case GST_EVENT_STREAM_START: {
    const gchar *id = NULL;
    gst_event_parse_stream_start(event, &id);
    if (self->stream_id != NULL && g_strcmp0(id, self->stream_id) != 0) {
      GST_DEBUG_OBJECT(self, "new stream %s: ending %s", GST_STR_NULL(id),
                       self->stream_id);
      end_stream(self);
    }
    g_free(self->stream_id);
    self->stream_id = g_strdup(id);
    break;
  }
  case GST_EVENT_EOS:
    end_stream(self);
    break;
  case GST_EVENT_FLUSH_STOP:
    gst_acrnn_classify_reset_stream(self);
    break;
  default:
    break;
  }
  return gst_pad_event_default(pad, parent, event);
}

/* Any features of the template, those of the loaded model first (so that a
 * source before gammatonespec sample-rate=0 picks the model's rate; an
 * audioresample keeps its input rate when it can, as always); other ones
 * are refused or warned about in set_caps with a message that says what to
 * change. */
gboolean gst_acrnn_classify_sink_query(GstPad *pad, GstObject *parent,
                                       GstQuery *query) {
  GstAcrnnClassify *self = GST_ACRNN_CLASSIFY(parent);
  if (GST_QUERY_TYPE(query) != GST_QUERY_CAPS)
    return gst_pad_query_default(pad, parent, query);
  GstCaps *caps;
  GST_OBJECT_LOCK(self);
  if (self->have_model)
    caps = gst_acrnn_features_caps_build(&self->info.features,
                                         GST_ACRNN_FEATURES_SAMPLE_RATE);
  else
    caps = gst_caps_new_empty();
  GST_OBJECT_UNLOCK(self);
  GstCaps *templ = gst_pad_get_pad_template_caps(pad);
  GstCaps *model = gst_caps_intersect(caps, templ);
  gst_caps_unref(caps);
  caps = gst_caps_merge(model, templ);
  return gst_acrnn_answer_caps_query(query, caps);
}

/* A segment's label leaves when the last frame of the last segment of its
 * batch arrives. */
static GstClockTime own_latency(GstElement *element, gboolean live) {
  GstAcrnnClassify *self = GST_ACRNN_CLASSIFY(element);
  GST_OBJECT_LOCK(self);
  guint batch = self->batch_size > 0 ? self->batch_size : self->batch;
  GST_OBJECT_UNLOCK(self);
  if (batch == 0) {
    const char *why;
    batch = gst_acrnn_auto_batch(GST_ELEMENT(self), self->srcpad, live, &why);
  }
  GST_OBJECT_LOCK(self);
  guint64 hop = self->seg_hop > 0       ? (guint64)self->seg_hop
                : self->segment_hop > 0 ? self->segment_hop
                                        : (guint64)self->info.segment_hop;
  GstClockTime ours = 0;
  if (self->have_model && self->info.features.sample_rate > 0)
    ours =
        gst_util_uint64_scale_int(((guint64)(self->info.segment_frames - 1) +
                                   (guint64)(batch - 1) * hop) *
                                      self->info.features.hop,
                                  GST_SECOND, self->info.features.sample_rate);
  GST_OBJECT_UNLOCK(self);
  return ours;
}

gboolean gst_acrnn_classify_src_query(GstPad *pad, GstObject *parent,
                                      GstQuery *query) {
  GstAcrnnClassify *self = GST_ACRNN_CLASSIFY(parent);
  if (GST_QUERY_TYPE(query) != GST_QUERY_LATENCY)
    return gst_pad_query_default(pad, parent, query);
  return gst_acrnn_answer_latency(GST_ELEMENT(self), self->sinkpad, query,
                                  own_latency);
}
