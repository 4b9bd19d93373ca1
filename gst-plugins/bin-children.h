/* bin-children.h - making the children of the bins (soundclassifier,
 * soundanalyzer) and reporting one that is not installed (internal to the
 * plugin). */
#ifndef GST_ACRNN_BIN_CHILDREN_H
#define GST_ACRNN_BIN_CHILDREN_H

#include <gst/gst.h>

G_BEGIN_DECLS

/* A new element of factory, added to bin; NULL when the factory is not
 * installed, with *missing set to it (the first one missing). */
GstElement *gst_acrnn_bin_add_new(GstBin *bin, const char *factory,
                                  const char **missing);

/* For NULL to READY: FALSE, with a CORE/MISSING_PLUGIN error saying what to
 * install, when a child could not be made (missing not NULL). */
gboolean gst_acrnn_bin_check_children(GstElement *bin, const char *missing);

G_END_DECLS

#endif
