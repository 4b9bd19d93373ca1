/* run-start.h - where a run of output timestamps starts, shared by
 * gammatonespec and acrnnclassify (internal to the plugin). */
#ifndef ACRNN_RUN_START_H
#define ACRNN_RUN_START_H

#include <gst/gst.h>

/* The start of a new run: the first buffer's PTS; without one, where the
 * previous run ended (prev_end); else the TIME segment's start; else 0. */
static inline GstClockTime acrnn_run_start(GstClockTime pts,
                                           GstClockTime prev_end,
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

#endif
