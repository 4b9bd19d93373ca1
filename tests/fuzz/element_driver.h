/* element_driver.h - drives one GStreamer element through a GstHarness from
 * a fuzzer's input: stream-start, caps, segments (TIME, BYTES, DEFAULT, any
 * rate), buffers of any size with any timestamps and flags, GAP, FLUSH,
 * EOS, queries, property changes and restarts, in any order. The element's
 * output is drained after every step. */
#ifndef ACRNN_FUZZ_ELEMENT_DRIVER_H
#define ACRNN_FUZZ_ELEMENT_DRIVER_H

#include "fuzz_input.h"
#include <gst/check/gstharness.h>

/* Makes caps for the element's sink pad from the input (mostly valid ones,
 * some not). */
typedef GstCaps *(*FuzzCapsFunc)(FuzzInput *in);

/* gst_init, and the build tree's plugin when GST_PLUGIN_PATH is unset. */
void fuzz_element_init(void);

/* The harness of factory, made on the first call (after set_up, when
 * given, configured the element) and kept: each input starts from READY
 * with the properties as set_up left them, then PLAYING, and a flush that
 * clears the pads. */
GstHarness *fuzz_element_harness(const char *factory,
                                 void (*set_up)(GstElement *element));

/* Runs the operations of in on h; frame_floats is the size of one frame of
 * the element's input (buffers are often whole frames, sometimes not). */
void fuzz_element_drive(GstHarness *h, FuzzInput *in, FuzzCapsFunc make_caps,
                        guint frame_floats);

#endif
