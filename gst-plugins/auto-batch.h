/* auto-batch.h - what acrnnclassify's batch=0 (automatic, the default)
 * chooses when a stream starts: 1 segment per network forward for a live
 * source, so that each label leaves as soon as its segment is complete;
 * 16 otherwise (a file: several times real time, where batching is faster).
 * Internal to the plugin. */
#ifndef ACRNN_AUTO_BATCH_H
#define ACRNN_AUTO_BATCH_H

#include <gst/gst.h>

#define ACRNN_AUTO_BATCH_LIVE 1
#define ACRNN_AUTO_BATCH_NOT_LIVE 16

static inline guint acrnn_auto_batch(gboolean live) {
  return live ? ACRNN_AUTO_BATCH_LIVE : ACRNN_AUTO_BATCH_NOT_LIVE;
}

/* Whether the source upstream of sinkpad is live, from a LATENCY query; a
 * query nobody answers counts as live (the batch that never delays a
 * label). */
static inline gboolean acrnn_upstream_is_live(GstPad *sinkpad) {
  GstQuery *query = gst_query_new_latency();
  gboolean live = TRUE;
  if (gst_pad_peer_query(sinkpad, query))
    gst_query_parse_latency(query, &live, NULL, NULL);
  else
    GST_DEBUG_OBJECT(sinkpad, "no answer to the latency query: live");
  gst_query_unref(query);
  return live;
}

#endif
