/* run-timing.h - the timing of a run of output, shared by gammatonespec
 * (runs of samples) and acrnnclassify (runs of frames); internal to the
 * plugin.
 *
 * A run is a stretch of contiguous input: its output is timed from the run's
 * start, unit i (a sample, or frame i at sample i*hop) at
 * start + i/rate. Both elements end a run and start a new one on the same
 * events (flush, new stream, GAP, caps that change the timing) and on one
 * buffer rule, gst_acrnn_run_breaks().
 */
#ifndef GST_ACRNN_RUN_TIMING_H
#define GST_ACRNN_RUN_TIMING_H

#include <gst/gst.h>

G_BEGIN_DECLS

/* The start of a new run: the first buffer's PTS; without one, where the
 * previous run ended (prev_end); else the TIME segment's start; else 0. */
GstClockTime gst_acrnn_run_start(GstClockTime pts, GstClockTime prev_end,
                                 const GstSegment *segment);

/* The time of sample `samples` of a run that starts at run_start, at rate
 * samples per second. */
GstClockTime gst_acrnn_run_time(GstClockTime run_start, guint64 samples,
                                int rate);

/* The DISCONT rule: TRUE when buf, arriving in a run whose input should go on
 * at `expected`, starts a new run. That is a DISCONT buffer whose PTS is more
 * than one sample (1/rate) away from `expected`, or a DISCONT buffer without
 * PTS (nothing says that it continues the run; the new run is then timed
 * where the previous one ended, gst_acrnn_run_start()). A buffer without the
 * DISCONT flag never starts a run, whatever its PTS. */
gboolean gst_acrnn_run_breaks(GstBuffer *buf, GstClockTime expected, int rate);

/* Answers a LATENCY query on an element's src pad: upstream's latency,
 * queried through sinkpad, plus the element's own, own(element, live) (live:
 * whether upstream is live); FALSE when upstream does not answer. */
typedef GstClockTime (*GstAcrnnOwnLatency)(GstElement *element, gboolean live);
gboolean gst_acrnn_answer_latency(GstElement *element, GstPad *sinkpad,
                                  GstQuery *query, GstAcrnnOwnLatency own);

G_END_DECLS

#endif
