/* test-classify-shared-model.c - acrnnclassify elements of one process that
 * load the same model file share one copy of its weights
 * (acrnn_model_load_shared()), classify exactly as an element with a copy
 * of its own does, and a touched file is loaded anew by the next element. */
#include "gst-test-util.h"
#include "model_cache.h"

#include <fcntl.h>
#include <gst/gst.h>
#include <sys/stat.h>

#define BANDS 32

static const char *tmpdir;
static char *model, *model_copy;

static char *chain(const char *name, const char *path, const char *props) {
  return g_strdup_printf(
      "audiotestsrc num-buffers=200 samplesperbuffer=1024 wave=saw freq=270 ! "
      "audio/x-raw,rate=44100,channels=1 ! audioconvert ! "
      "gammatonespec bands=%d ! acrnnclassify name=%s model=\"%s\" top-k=%d "
      "%s ! fakesink",
      BANDS, name, path, TEST_N_LABELS, props);
}

/* A pipeline of the given chains, brought to READY: every acrnnclassify has
 * loaded its model. */
static GstElement *ready_pipeline(const char *desc) {
  GstElement *p = test_parse(desc, NULL, NULL);
  g_assert_cmpint(gst_element_set_state(p, GST_STATE_READY), ==,
                  GST_STATE_CHANGE_SUCCESS);
  return p;
}

static void stop_pipeline(GstElement *p) {
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
}

/* Two elements on one file: one block in memory; a third on a copy of the
 * file (another inode): a second block; all gone with the elements. */
static void test_one_block(void) {
  g_assert_cmpuint(acrnn_model_cache_n_entries(), ==, 0);
  char *a = chain("a", model, ""), *b = chain("b", model, "threads=2");
  char *c = chain("c", model_copy, "");
  char *desc = g_strdup_printf("%s %s", a, b);
  GstElement *p = ready_pipeline(desc);
  g_assert_cmpuint(acrnn_model_cache_n_entries(), ==, 1);
  GstElement *q = ready_pipeline(c);
  g_assert_cmpuint(acrnn_model_cache_n_entries(), ==, 2);
  stop_pipeline(q);
  g_assert_cmpuint(acrnn_model_cache_n_entries(), ==, 1);
  stop_pipeline(p);
  g_assert_cmpuint(acrnn_model_cache_n_entries(), ==, 0);
  g_free(desc);
  g_free(a);
  g_free(b);
  g_free(c);
}

/* The messages of one source element, in order. */
static GPtrArray *results_of(const TestRun *run, const char *name) {
  GPtrArray *out = g_ptr_array_new();
  for (guint i = 0; i < run->results->len; i++)
    if (g_strcmp0(g_ptr_array_index(run->sources, i), name) == 0)
      g_ptr_array_add(out, g_ptr_array_index(run->results, i));
  return out;
}

static void assert_same(GPtrArray *x, GPtrArray *y, double tolerance) {
  g_assert_cmpuint(x->len, ==, y->len);
  for (guint i = 0; i < x->len; i++) {
    const GstStructure *sx = g_ptr_array_index(x, i);
    const GstStructure *sy = g_ptr_array_index(y, i);
    g_assert_cmpstr(gst_structure_get_string(sx, "label"), ==,
                    gst_structure_get_string(sy, "label"));
    const GValue *px = gst_structure_get_value(sx, "scores");
    const GValue *py = gst_structure_get_value(sy, "scores");
    for (guint k = 0; k < TEST_N_LABELS; k++) {
      double vx = g_value_get_double(gst_value_array_get_value(px, k));
      double vy = g_value_get_double(gst_value_array_get_value(py, k));
      if (tolerance == 0.0)
        g_assert_cmpfloat(vx, ==, vy);
      else
        g_assert_cmpfloat_with_epsilon(vx, vy, tolerance);
    }
  }
}

/* Sharing elements (one on two threads, whose second copy shares too)
 * classify as the element with weights of its own: the same labels and
 * scores, exactly where the batches are split alike. */
static void test_same_results(void) {
  char *a = chain("a", model, ""), *b = chain("b", model, "threads=2");
  char *c = chain("c", model_copy, "");
  char *desc = g_strdup_printf("%s %s %s", a, b, c);
  TestRun *run = test_run_to_eos(desc, 60);
  GPtrArray *ra = results_of(run, "a"), *rb = results_of(run, "b");
  GPtrArray *rc = results_of(run, "c");
  /* 5 whole segments, the one of the last 128 frames, the final */
  g_assert_cmpuint(ra->len, ==, 7);
  assert_same(ra, rc, 0.0);
  assert_same(rb, rc, 1e-6);
  g_ptr_array_unref(ra);
  g_ptr_array_unref(rb);
  g_ptr_array_unref(rc);
  test_run_free(run);
  g_assert_cmpuint(acrnn_model_cache_n_entries(), ==, 0);
  g_free(desc);
  g_free(a);
  g_free(b);
  g_free(c);
}

/* A model file touched while an element uses it: the next element loads it
 * anew, the first keeps its copy until it stops. */
static void test_touched_file(void) {
  char *a = chain("a", model, ""), *b = chain("b", model, "");
  GstElement *p = ready_pipeline(a);
  g_assert_cmpuint(acrnn_model_cache_n_entries(), ==, 1);
  struct stat st;
  g_assert_cmpint(stat(model, &st), ==, 0);
  struct timespec t[2] = {st.st_atim, st.st_mtim};
  t[1].tv_sec += 1;
  g_assert_cmpint(utimensat(AT_FDCWD, model, t, 0), ==, 0);
  GstElement *q = ready_pipeline(b);
  g_assert_cmpuint(acrnn_model_cache_n_entries(), ==, 2);
  stop_pipeline(p);
  g_assert_cmpuint(acrnn_model_cache_n_entries(), ==, 1);
  stop_pipeline(q);
  g_assert_cmpuint(acrnn_model_cache_n_entries(), ==, 0);
  g_free(a);
  g_free(b);
}

int main(int argc, char **argv) {
  tmpdir = test_init(&argc, &argv);
  model = test_make_model(tmpdir, "model.safetensors", BANDS, 7);
  model_copy = test_make_model(tmpdir, "copy.safetensors", BANDS, 7);
  g_test_add_func("/classify-shared/one-block", test_one_block);
  g_test_add_func("/classify-shared/same-results", test_same_results);
  g_test_add_func("/classify-shared/touched-file", test_touched_file);
  int rc = test_run_tests();
  g_free(model);
  g_free(model_copy);
  return rc;
}
