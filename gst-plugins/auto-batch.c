/* auto-batch.c - what acrnnclassify's batch=0 chooses (auto-batch.h). */
#include "auto-batch.h"

gboolean gst_acrnn_upstream_is_live(GstPad *sinkpad) {
  GstQuery *query = gst_query_new_latency();
  gboolean live = TRUE;
  if (gst_pad_peer_query(sinkpad, query))
    gst_query_parse_latency(query, &live, NULL, NULL);
  gst_query_unref(query);
  return live;
}

/* A sink that synchronises its buffers to the clock. */
static gboolean syncs(GstElement *e) {
  if (!GST_OBJECT_FLAG_IS_SET(e, GST_ELEMENT_FLAG_SINK) || GST_IS_BIN(e))
    return FALSE;
  GParamSpec *p = g_object_class_find_property(G_OBJECT_GET_CLASS(e), "sync");
  if (p == NULL || p->value_type != G_TYPE_BOOLEAN)
    return FALSE;
  gboolean sync = FALSE;
  g_object_get(e, "sync", &sync, NULL);
  return sync;
}

/* Whether a sink of the bin that holds e at the top syncs to the clock. */
static gboolean pipeline_syncs(GstElement *e) {
  GstObject *top = gst_object_ref(GST_OBJECT(e)), *parent;
  while ((parent = gst_object_get_parent(top)) != NULL) {
    gst_object_unref(top);
    top = parent;
  }
  gboolean found = FALSE;
  if (GST_IS_BIN(top)) {
    GstIterator *it = gst_bin_iterate_recurse(GST_BIN(top));
    GValue v = G_VALUE_INIT;
    gboolean done = FALSE;
    while (!done && !found) {
      switch (gst_iterator_next(it, &v)) {
      case GST_ITERATOR_OK:
        found = syncs(g_value_get_object(&v));
        g_value_reset(&v);
        break;
      case GST_ITERATOR_RESYNC:
        gst_iterator_resync(it);
        break;
      default:
        done = TRUE;
        break;
      }
    }
    g_value_unset(&v);
    gst_iterator_free(it);
  }
  gst_object_unref(top);
  return found;
}

/* The element that takes what srcpad pushes, through ghost pads; NULL when
 * srcpad is not linked or its peer belongs to no element. */
static GstElement *consumer(GstPad *srcpad) {
  GstPad *pad = gst_pad_get_peer(srcpad);
  while (pad != NULL) {
    GstPad *next = NULL;
    if (GST_IS_GHOST_PAD(pad)) {
      /* a bin's sink pad: on to its target inside */
      next = gst_ghost_pad_get_target(GST_GHOST_PAD(pad));
    } else if (GST_IS_PROXY_PAD(pad)) {
      /* the inside of a bin's src pad: on to the bin's peer */
      GstProxyPad *ghost = gst_proxy_pad_get_internal(GST_PROXY_PAD(pad));
      if (ghost != NULL) {
        next = gst_pad_get_peer(GST_PAD(ghost));
        gst_object_unref(ghost);
      }
    } else {
      break;
    }
    gst_object_unref(pad);
    pad = next;
  }
  if (pad == NULL)
    return NULL;
  GstElement *e = gst_pad_get_parent_element(pad);
  gst_object_unref(pad);
  return e;
}

guint gst_acrnn_auto_batch(GstElement *element, GstPad *srcpad, gboolean live,
                           const char **reason) {
  if (live) {
    *reason = "the source is live";
    return GST_ACRNN_AUTO_BATCH_WAITED;
  }
  GstElement *next = consumer(srcpad);
  gboolean waits =
      next != NULL && (!GST_OBJECT_FLAG_IS_SET(next, GST_ELEMENT_FLAG_SINK) ||
                       GST_IS_BIN(next) || syncs(next));
  if (next != NULL)
    gst_object_unref(next);
  if (waits) {
    *reason = "the labels go to an element that waits for them";
    return GST_ACRNN_AUTO_BATCH_WAITED;
  }
  if (pipeline_syncs(element)) {
    *reason = "a sink of the pipeline syncs to the clock (real-time play)";
    return GST_ACRNN_AUTO_BATCH_WAITED;
  }
  *reason = "nothing waits for the labels";
  return GST_ACRNN_AUTO_BATCH_UNWAITED;
}
