/* auto-batch.h - what acrnnclassify's batch=0 (automatic, the default)
 * chooses when a stream starts (internal to the plugin).
 *
 * Batching segments is faster, but a segment's label then waits for the
 * last segment of its batch. 16 segments (12 s of audio more) are worth it
 * only when nothing waits for the labels; otherwise the batch is 1:
 * - a live source (a LATENCY query upstream answers live);
 * - a pipeline that plays in real time: one of its sinks syncs to the
 *   clock (an audio or video sink; every branch then runs at its pace);
 * - labels that feed another element than a sink that does not sync
 *   (textoverlay, a muxer: they wait for the text, and a video queue
 *   smaller than the batch's delay would stall the pipeline).
 * So 16 is chosen for a file classified as fast as it can be, its labels
 * going to fakesink or nowhere. */
#ifndef GST_ACRNN_AUTO_BATCH_H
#define GST_ACRNN_AUTO_BATCH_H

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_ACRNN_AUTO_BATCH_WAITED 1
#define GST_ACRNN_AUTO_BATCH_UNWAITED 16

/* Whether the source upstream of sinkpad is live (LATENCY query); a query
 * nobody answers counts as live. */
gboolean gst_acrnn_upstream_is_live(GstPad *sinkpad);

/* The batch for `element` (acrnnclassify), whose labels leave by srcpad,
 * upstream being live or not; *reason (static) says why. */
guint gst_acrnn_auto_batch(GstElement *element, GstPad *srcpad, gboolean live,
                           const char **reason);

G_END_DECLS

#endif
