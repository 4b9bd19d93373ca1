/* gst-test-harness.h - elements of the gst suite in a GstHarness: any
 * element between two pads that take any caps, and acrnnclassify fed the
 * test models' features with a bus of its own. In an object file of its
 * own, so that what links gst-test-util without libgstcheck still links. */
#ifndef GST_TEST_HARNESS_H
#define GST_TEST_HARNESS_H

#include "gst-test-util.h"

#include <gst/check/gstharness.h>

/* A harness around element (its "sink" and "src" pads, any caps). */
GstHarness *test_harness_new(GstElement *element);

/* An acrnnclassify in a harness, posting its messages on a bus of its own
 * (they stay there until popped). */
typedef struct {
  GstHarness *h;
  GstBus *bus;
} TestClassifier;

/* Starts c: acrnnclassify with model and props ("name=value ...", as
 * gst-launch sets them; NULL for none), fed TEST_FEATURE_CAPS. */
void test_classifier_start(TestClassifier *c, const char *model,
                           const char *props);
void test_classifier_stop(TestClassifier *c);

#endif
