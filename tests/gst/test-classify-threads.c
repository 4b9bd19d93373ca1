/* test-classify-threads.c - acrnnclassify's threads property: a batch split
 * over several copies of the network on several threads gives the same
 * messages, in the same order, as one thread; more threads than segments
 * and changing threads while playing work; soundclassifier proxies it; with
 * a batch of at least twice the threads, helper threads start on a batch
 * before it is complete. */
#include "gst-test-util.h"

#include <gst/gst.h>
#include <string.h>

#define BANDS 32

static const char *tmpdir;
static char *model;

/* 300 buffers of 1024 samples at 44100 Hz: 599 frames, 8 whole segments
 * and the one of the last 128 frames. */
static TestRun *run_with(const char *classifier_props) {
  char *desc = g_strdup_printf(
      "audiotestsrc num-buffers=300 samplesperbuffer=1024 wave=saw freq=270 ! "
      "audio/x-raw,rate=44100,channels=1 ! audioconvert ! "
      "gammatonespec bands=%d ! "
      "acrnnclassify model=\"%s\" top-k=%d %s ! fakesink",
      BANDS, model, TEST_N_LABELS, classifier_props);
  TestRun *run = test_run_to_eos(desc, 50);
  g_free(desc);
  return run;
}

/* The same messages (labels, scores, times), within float noise. */
static void assert_same_results(const TestRun *a, const TestRun *b) {
  g_assert_cmpuint(a->results->len, ==, b->results->len);
  for (guint i = 0; i < a->results->len; i++) {
    const GstStructure *sa = g_ptr_array_index(a->results, i);
    const GstStructure *sb = g_ptr_array_index(b->results, i);
    test_check_result_fields(sb, TEST_N_LABELS);
    g_assert_cmpstr(gst_structure_get_string(sa, "label"), ==,
                    gst_structure_get_string(sb, "label"));
    guint64 ta = 0, tb = 1;
    gst_structure_get_uint64(sa, "timestamp", &ta);
    gst_structure_get_uint64(sb, "timestamp", &tb);
    g_assert_cmpuint(ta, ==, tb);
    const GValue *la = gst_structure_get_value(sa, "labels");
    const GValue *lb = gst_structure_get_value(sb, "labels");
    const GValue *pa = gst_structure_get_value(sa, "scores");
    const GValue *pb = gst_structure_get_value(sb, "scores");
    for (guint k = 0; k < TEST_N_LABELS; k++) {
      g_assert_cmpstr(g_value_get_string(gst_value_array_get_value(la, k)), ==,
                      g_value_get_string(gst_value_array_get_value(lb, k)));
      g_assert_cmpfloat_with_epsilon(
          g_value_get_double(gst_value_array_get_value(pa, k)),
          g_value_get_double(gst_value_array_get_value(pb, k)), 1e-6);
    }
  }
}

static void test_same_results(void) {
  TestRun *one = run_with("batch=5 threads=1");
  /* 9 segments and the final */
  g_assert_cmpuint(one->results->len, ==, 10);
  g_assert_nonnull(test_final_result(one));
  /* batches of 5 and 4: parts 2+2+1 and 2+1+1; 8 threads > any batch;
   * helpers taking chunks of 1 (batch=5 threads=2) or 2 as they come */
  const char *variants[] = {"batch=5 threads=2", "batch=5 threads=3",
                            "batch=5 threads=8", "batch=1 threads=4",
                            "batch=8 threads=2", "batch=16 threads=2",
                            "batch=6 threads=3"};
  for (size_t i = 0; i < G_N_ELEMENTS(variants); i++) {
    g_test_message("%s", variants[i]);
    TestRun *other = run_with(variants[i]);
    assert_same_results(one, other);
    test_run_free(other);
  }
  test_run_free(one);
}

/* In a subprocess, whose stderr test_early_helpers() reads: a run with
 * acrnnclassify's debug log on. */
static void run_logged(gconstpointer props) {
  if (!g_test_subprocess()) {
    g_test_skip("run in a subprocess by early-helpers");
    return;
  }
  gst_debug_set_threshold_for_name("acrnnclassify", GST_LEVEL_DEBUG);
  test_run_free(run_with(props));
}

/* batch=8 threads=2: a helper starts on a batch before it is complete (the
 * element's debug log says so); batch=3 threads=2 (fewer than 2 inputs a
 * thread) splits each batch once it is complete, as before. The results
 * are those of one thread (test_same_results). */
static void test_early_helpers(void) {
  g_test_trap_subprocess("/acrnnclassify/threads/logged/batch8", 0,
                         G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed();
  g_test_trap_assert_stderr(
      "*helper 0 starts at input * of 8, before the batch is complete*");
  g_test_trap_subprocess("/acrnnclassify/threads/logged/batch3", 0,
                         G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed();
  g_test_trap_assert_stderr_unmatched("*before the batch is complete*");
}

static void test_properties(void) {
  GstElement *c = gst_element_factory_make("acrnnclassify", NULL);
  guint threads = 0;
  g_object_get(c, "threads", &threads, NULL);
  g_assert_cmpuint(threads, ==, 1);
  g_object_set(c, "threads", 4, NULL);
  g_object_get(c, "threads", &threads, NULL);
  g_assert_cmpuint(threads, ==, 4);
  GParamSpec *spec =
      g_object_class_find_property(G_OBJECT_GET_CLASS(c), "threads");
  g_assert_cmpuint(G_PARAM_SPEC_UINT(spec)->minimum, ==, 1);
  gst_object_unref(c);

  GstElement *bin = gst_element_factory_make("soundclassifier", NULL);
  g_object_set(bin, "threads", 3, NULL);
  g_object_get(bin, "threads", &threads, NULL);
  g_assert_cmpuint(threads, ==, 3);
  gst_object_unref(bin);
}

int main(int argc, char **argv) {
  tmpdir = test_init(&argc, &argv);
  model = test_make_model(tmpdir, "threads.safetensors", BANDS, 9);
  g_test_add_func("/acrnnclassify/threads/same-results", test_same_results);
  g_test_add_func("/acrnnclassify/threads/properties", test_properties);
  g_test_add_func("/acrnnclassify/threads/early-helpers", test_early_helpers);
  g_test_add_data_func("/acrnnclassify/threads/logged/batch8",
                       "batch=8 threads=2", run_logged);
  g_test_add_data_func("/acrnnclassify/threads/logged/batch3",
                       "batch=3 threads=2", run_logged);
  int ret = test_run_tests();
  g_free(model);
  return ret;
}
