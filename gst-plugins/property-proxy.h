/* property-proxy.h - copies of a child element's property specs, for the
 * bins (soundclassifier, soundanalyzer) that offer their child's properties
 * as their own (internal to the plugin). */
#ifndef GST_ACRNN_PROPERTY_PROXY_H
#define GST_ACRNN_PROPERTY_PROXY_H

#include <glib-object.h>

G_BEGIN_DECLS

/* A new spec with the name, nick, blurb, type, range, default and flags of
 * src (string, int, uint, uint64, double, boolean, enum and boxed specs);
 * NULL for another kind. */
GParamSpec *gst_acrnn_param_spec_copy(GParamSpec *src);

G_END_DECLS

#endif
