/* plugin.c - the "acrnn" GStreamer plugin: gammatonespec, acrnnclassify,
 * soundclassifier and soundanalyzer. */
#include "acrnnclassify.h"
#include "gammatonespec.h"
#include "soundanalyzer.h"
#include "soundclassifier.h"

#include <gst/gst.h>

static gboolean plugin_init(GstPlugin *plugin) {
  gboolean ok = TRUE;
  ok &= GST_ELEMENT_REGISTER(gammatonespec, plugin);
  ok &= GST_ELEMENT_REGISTER(acrnnclassify, plugin);
  ok &= GST_ELEMENT_REGISTER(soundclassifier, plugin);
  ok &= GST_ELEMENT_REGISTER(soundanalyzer, plugin);
  return ok;
}

/* GST_PLUGIN_DEFINE leaves the descriptor's padding to the zero default. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, acrnn,
                  "ACRNN environmental sound classification: log-gammatone "
                  "features and the attention-based convolutional recurrent "
                  "network",
                  plugin_init, PACKAGE_VERSION, "LGPL", "acrnn",
                  "acrnn source distribution (no public home yet)")
