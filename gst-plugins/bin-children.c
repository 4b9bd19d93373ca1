/* bin-children.c - the children of the bins, and the error when one is not
 * installed. */
#include "bin-children.h"

GstElement *gst_acrnn_bin_add_new(GstBin *bin, const char *factory,
                                  const char **missing) {
  GstElement *e = gst_element_factory_make(factory, NULL);
  if (e == NULL) {
    if (*missing == NULL)
      *missing = factory;
    return NULL;
  }
  gst_bin_add(bin, e);
  return e;
}

gboolean gst_acrnn_bin_check_children(GstElement *bin, const char *missing) {
  if (missing == NULL)
    return TRUE;
  GST_ELEMENT_ERROR(bin, CORE, MISSING_PLUGIN,
                    ("The element \"%s\" is missing: install "
                     "gstreamer1.0-plugins-base.",
                     missing),
                    (NULL));
  return FALSE;
}
