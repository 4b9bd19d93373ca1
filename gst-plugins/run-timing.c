/* run-timing.c - run start, unit times, the DISCONT rule and the latency
 * answer of gammatonespec and acrnnclassify. */
#include "run-timing.h"

GstClockTime gst_acrnn_run_start(GstClockTime pts, GstClockTime prev_end,
                                 const GstSegment *segment) {
  if (GST_CLOCK_TIME_IS_VALID(pts))
    return pts;
  if (GST_CLOCK_TIME_IS_VALID(prev_end))
    return prev_end;
  if (segment->format == GST_FORMAT_TIME &&
      GST_CLOCK_TIME_IS_VALID(segment->start))
    return segment->start;
  return 0;
}

GstClockTime gst_acrnn_run_time(GstClockTime run_start, guint64 samples,
                                int rate) {
  return run_start + gst_util_uint64_scale_int(samples, GST_SECOND, rate);
}

gboolean gst_acrnn_run_breaks(GstBuffer *buf, GstClockTime expected, int rate) {
  if (!GST_BUFFER_IS_DISCONT(buf))
    return FALSE;
  GstClockTime pts = GST_BUFFER_PTS(buf);
  if (!GST_CLOCK_TIME_IS_VALID(pts))
    return TRUE;
  GstClockTimeDiff tolerance =
      (GstClockTimeDiff)gst_util_uint64_scale_int(1, GST_SECOND, rate);
  return GST_CLOCK_DIFF(expected, pts) > tolerance ||
         GST_CLOCK_DIFF(pts, expected) > tolerance;
}

gboolean gst_acrnn_answer_latency(GstElement *element, GstPad *sinkpad,
                                  GstQuery *query, GstAcrnnOwnLatency own) {
  if (!gst_pad_peer_query(sinkpad, query))
    return FALSE;
  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency(query, &live, &min, &max);
  GstClockTime ours = own(element, live);
  if (GST_CLOCK_TIME_IS_VALID(ours)) {
    min += ours;
    if (GST_CLOCK_TIME_IS_VALID(max))
      max += ours;
  }
  GST_DEBUG_OBJECT(element,
                   "latency: ours %" GST_TIME_FORMAT
                   ", total min %" GST_TIME_FORMAT,
                   GST_TIME_ARGS(ours), GST_TIME_ARGS(min));
  gst_query_set_latency(query, live, min, max);
  return TRUE;
}
