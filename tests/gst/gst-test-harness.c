/* gst-test-harness.c - elements of the gst suite in a GstHarness (see
 * gst-test-harness.h). */
#include "gst-test-harness.h"

static GstStaticPadTemplate harness_src = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate harness_sink = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

GstHarness *test_harness_new(GstElement *element) {
  GstHarness *h = gst_harness_new_empty();
  gst_harness_add_element_full(h, element, &harness_src, "sink", &harness_sink,
                               "src");
  return h;
}

void test_classifier_start(TestClassifier *c, const char *model,
                           const char *props) {
  GstElement *e = gst_element_factory_make("acrnnclassify", NULL);
  g_assert_nonnull(e);
  g_object_set(e, "model", model, NULL);
  char **kv = g_strsplit(props ? props : "", " ", -1);
  for (char **p = kv; *p != NULL; p++) {
    if (**p == '\0')
      continue;
    char **nv = g_strsplit(*p, "=", 2);
    g_assert_nonnull(nv[1]);
    gst_util_set_object_arg(G_OBJECT(e), nv[0], nv[1]);
    g_strfreev(nv);
  }
  g_strfreev(kv);
  c->bus = gst_bus_new();
  gst_element_set_bus(e, c->bus);
  c->h = test_harness_new(e);
  gst_object_unref(e);
  gst_harness_set_src_caps_str(c->h, TEST_FEATURE_CAPS);
}

void test_classifier_stop(TestClassifier *c) {
  gst_element_set_bus(c->h->element, NULL);
  gst_object_unref(c->bus);
  gst_harness_teardown(c->h);
}
