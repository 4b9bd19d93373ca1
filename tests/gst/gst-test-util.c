/* gst-test-util.c - helpers shared by the gst suite (see gst-test-util.h). */
#include "gst-test-util.h"

#include <acrnn/model.h>
#include <acrnn/network.h>
#include <glib/gstdio.h>
#include <string.h>

const char *const test_labels[TEST_N_LABELS + 1] = {"dog", "rain", "siren",
                                                    NULL};

static char *make_model(const char *dir, const char *name, int bands,
                        int sample_rate, AcrnnFilterbank filterbank,
                        guint64 seed) {
  AcrnnModelInfo info;
  acrnn_model_info_init(&info);
  info.features.filterbank = filterbank;
  info.labels = g_strdupv((char **)test_labels);
  info.n_labels = TEST_N_LABELS;
  info.features.bands = bands;
  info.features.sample_rate = sample_rate;
  info.features.fmax = sample_rate / 2.0;
  info.mean[0] = -12.0f;
  info.std[0] = 6.0f;
  info.mean[1] = 0.0f;
  info.std[1] = 0.5f;
  AcrnnNetConfig cfg;
  acrnn_model_info_net_config(&info, &cfg);
  GError *error = NULL;
  AcrnnNet *net = acrnn_net_new(&cfg, &error);
  g_assert_no_error(error);
  acrnn_net_init_random(net, seed);
  char *path = g_build_filename(dir, name, NULL);
  gboolean ok = acrnn_model_save(path, net, &info, &error);
  g_assert_no_error(error);
  g_assert_true(ok);
  acrnn_net_free(net);
  acrnn_model_info_clear(&info);
  return path;
}

char *test_make_model(const char *dir, const char *name, int bands,
                      guint64 seed) {
  return make_model(dir, name, bands, 44100, ACRNN_FILTERBANK_GAMMATONE, seed);
}

char *test_make_model_at_rate(const char *dir, const char *name, int bands,
                              int sample_rate, guint64 seed) {
  return make_model(dir, name, bands, sample_rate, ACRNN_FILTERBANK_GAMMATONE,
                    seed);
}

char *test_make_mel_model(const char *dir, const char *name, int bands,
                          guint64 seed) {
  return make_model(dir, name, bands, 44100, ACRNN_FILTERBANK_MEL, seed);
}

static char *scratch;

const char *test_init(int *argc, char ***argv) {
  gst_init(argc, argv);
  g_test_init(argc, argv, NULL);
  scratch = test_tmpdir();
  return scratch;
}

int test_run_tests(void) {
  int rc = g_test_run();
  test_rmdir(scratch);
  g_free(scratch);
  gst_deinit();
  return rc;
}

GstClockTime test_frame_time(guint64 frame) {
  return gst_util_uint64_scale_int(frame * 512, GST_SECOND, TEST_FEATURE_RATE);
}

GstBuffer *test_feature_frames(guint n, GstClockTime pts, double lo, double hi,
                               guint32 seed) {
  const int bands = TEST_FEATURE_BANDS;
  GRand *rand = g_rand_new_with_seed(seed);
  size_t len = (size_t)n * 2 * bands;
  float *x = g_new(float, len);
  for (size_t i = 0; i < len; i++)
    x[i] = (float)(i % (2 * bands) < (size_t)bands
                       ? g_rand_double_range(rand, lo, hi)
                       : g_rand_double_range(rand, -1, 1));
  g_rand_free(rand);
  GstBuffer *buf = gst_buffer_new_wrapped(x, len * sizeof(float));
  GST_BUFFER_PTS(buf) = pts;
  return buf;
}

GPtrArray *test_pop_messages(GstBus *bus, const char *name) {
  GPtrArray *out =
      g_ptr_array_new_with_free_func((GDestroyNotify)gst_structure_free);
  GstMessage *msg;
  while ((msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT)) != NULL) {
    const GstStructure *s = gst_message_get_structure(msg);
    if (gst_structure_has_name(s, name))
      g_ptr_array_add(out, gst_structure_copy(s));
    gst_message_unref(msg);
  }
  return out;
}

GError *test_pop_error(GstBus *bus) {
  GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  g_assert_nonnull(msg);
  GError *error = NULL;
  gst_message_parse_error(msg, &error, NULL);
  g_assert_nonnull(error);
  gst_message_unref(msg);
  return error;
}

void test_check_labels(GstElement *element) {
  char **labels = NULL;
  g_object_get(element, "labels", &labels, NULL);
  g_assert_nonnull(labels);
  g_assert_cmpuint(g_strv_length(labels), ==, TEST_N_LABELS);
  for (int i = 0; i < TEST_N_LABELS; i++)
    g_assert_cmpstr(labels[i], ==, test_labels[i]);
  g_strfreev(labels);
}

void test_play_to_eos(GstElement *pipeline, guint timeout_s,
                      GstMessageType fail_on) {
  g_assert_cmpint(gst_element_set_state(pipeline, GST_STATE_PLAYING), !=,
                  GST_STATE_CHANGE_FAILURE);
  GstBus *bus = gst_element_get_bus(pipeline);
  GstMessage *msg = gst_bus_timed_pop_filtered(bus, timeout_s * GST_SECOND,
                                               GST_MESSAGE_EOS | fail_on);
  g_assert_nonnull(msg);
  if (GST_MESSAGE_TYPE(msg) != GST_MESSAGE_EOS) {
    GError *error = NULL;
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR)
      gst_message_parse_error(msg, &error, NULL);
    else
      gst_message_parse_warning(msg, &error, NULL);
    g_error("%s before EOS: %s", GST_MESSAGE_TYPE_NAME(msg), error->message);
  }
  gst_message_unref(msg);
  gst_object_unref(bus);
}

GError *test_refuse_model_change(GstElement *pipeline, GstElement *element,
                                 const char *model, const char *other,
                                 GstObject **source) {
  GstBus *bus = gst_element_get_bus(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PAUSED);
  g_assert_cmpint(gst_element_get_state(pipeline, NULL, NULL, 30 * GST_SECOND),
                  ==, GST_STATE_CHANGE_SUCCESS);
  g_object_set(element, "model", other, NULL);
  char *now = NULL;
  g_object_get(element, "model", &now, NULL);
  g_assert_cmpstr(now, ==, model);
  g_free(now);
  GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING);
  g_assert_nonnull(msg);
  GError *error = NULL;
  gst_message_parse_warning(msg, &error, NULL);
  g_assert_nonnull(error);
  *source = gst_object_ref(GST_MESSAGE_SRC(msg));
  gst_message_unref(msg);
  gst_object_unref(bus);
  return error;
}

char *test_tmpdir(void) {
  GError *error = NULL;
  char *dir = g_dir_make_tmp("acrnn-gst-XXXXXX", &error);
  g_assert_no_error(error);
  return dir;
}

void test_rmdir(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  if (d == NULL)
    return;
  const char *name;
  while ((name = g_dir_read_name(d)) != NULL) {
    char *p = g_build_filename(dir, name, NULL);
    g_unlink(p);
    g_free(p);
  }
  g_dir_close(d);
  g_rmdir(dir);
}

GstElement *test_parse(const char *description, const char *name,
                       GstElement **element) {
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch(description, &error);
  g_assert_no_error(error);
  g_assert_nonnull(pipeline);
  if (name != NULL) {
    *element = gst_bin_get_by_name(GST_BIN(pipeline), name);
    g_assert_nonnull(*element);
  }
  return pipeline;
}

TestRun *test_run_pipeline(const char *description, guint timeout_s,
                           guint stop_after) {
  return test_run_pipeline_messages(description, timeout_s, stop_after,
                                    "acrnn");
}

TestRun *test_run_pipeline_messages(const char *description, guint timeout_s,
                                    guint stop_after, const char *name) {
  TestRun *run = g_new0(TestRun, 1);
  run->results =
      g_ptr_array_new_with_free_func((GDestroyNotify)gst_structure_free);
  run->sources = g_ptr_array_new_with_free_func(g_free);
  GstElement *pipeline = test_parse(description, NULL, NULL);
  GstBus *bus = gst_element_get_bus(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);

  gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
  for (;;) {
    gint64 left = deadline - g_get_monotonic_time();
    if (left <= 0) {
      run->timed_out = TRUE;
      break;
    }
    GstMessage *msg = gst_bus_timed_pop_filtered(
        bus, left * GST_USECOND,
        GST_MESSAGE_ERROR | GST_MESSAGE_EOS | GST_MESSAGE_ELEMENT |
            GST_MESSAGE_STATE_CHANGED);
    if (msg == NULL)
      continue;
    gboolean done = FALSE;
    switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ERROR:
      gst_message_parse_error(msg, &run->error, &run->error_debug);
      g_test_message("error from %s: %s (%s)", GST_MESSAGE_SRC_NAME(msg),
                     run->error->message, GST_STR_NULL(run->error_debug));
      done = TRUE;
      break;
    case GST_MESSAGE_EOS:
      run->eos = TRUE;
      done = TRUE;
      break;
    case GST_MESSAGE_STATE_CHANGED:
      if (GST_MESSAGE_SRC(msg) == GST_OBJECT(pipeline)) {
        GstState state;
        gst_message_parse_state_changed(msg, NULL, &state, NULL);
        if (state == GST_STATE_PLAYING)
          run->was_playing = TRUE;
      }
      break;
    case GST_MESSAGE_ELEMENT: {
      const GstStructure *s = gst_message_get_structure(msg);
      if (gst_structure_has_name(s, name)) {
        GstState state;
        gst_element_get_state(pipeline, &state, NULL, 0);
        if (state == GST_STATE_PLAYING)
          run->result_while_playing = TRUE;
        g_ptr_array_add(run->results, gst_structure_copy(s));
        g_ptr_array_add(run->sources, g_strdup(GST_MESSAGE_SRC_NAME(msg)));
        if (stop_after > 0 && run->results->len >= stop_after)
          done = TRUE;
      }
      break;
    }
    default:
      break;
    }
    gst_message_unref(msg);
    if (done)
      break;
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  return run;
}

TestRun *test_run_to_eos(const char *description, guint timeout_s) {
  TestRun *run = test_run_pipeline(description, timeout_s, 0);
  g_assert_no_error(run->error);
  g_assert_false(run->timed_out);
  g_assert_true(run->eos);
  return run;
}

void test_run_free(TestRun *run) {
  g_ptr_array_unref(run->results);
  g_ptr_array_unref(run->sources);
  g_clear_error(&run->error);
  g_free(run->error_debug);
  g_free(run);
}

const GstStructure *test_final_result(const TestRun *run) {
  const GstStructure *final = NULL;
  for (guint i = 0; i < run->results->len; i++) {
    const GstStructure *s = g_ptr_array_index(run->results, i);
    gboolean is_final = FALSE;
    g_assert_true(gst_structure_get_boolean(s, "final", &is_final));
    if (is_final) {
      g_assert_null(final);
      g_assert_cmpuint(i, ==, run->results->len - 1);
      final = s;
    }
  }
  return final;
}

void test_check_result_fields(const GstStructure *s, guint top_k) {
  const char *label = gst_structure_get_string(s, "label");
  g_assert_nonnull(label);
  int class_id = -2;
  g_assert_true(gst_structure_get_int(s, "class-id", &class_id));
  gboolean silent = FALSE;
  g_assert_true(gst_structure_get_boolean(s, "silent", &silent));
  double confidence = -1;
  g_assert_true(gst_structure_get_double(s, "confidence", &confidence));
  if (silent) { /* one label, "silence", of probability 1 */
    g_assert_cmpint(class_id, ==, -1);
    g_assert_cmpstr(label, ==, "silence");
    g_assert_cmpfloat(confidence, ==, 1.0);
    top_k = 1;
  } else {
    g_assert_cmpint(class_id, >=, 0);
    g_assert_cmpint(class_id, <, TEST_N_LABELS);
    g_assert_cmpstr(label, ==, test_labels[class_id]);
    g_assert_cmpfloat(confidence, >=, 1.0 / TEST_N_LABELS - 1e-6);
    g_assert_cmpfloat(confidence, <=, 1.0 + 1e-6);
  }
  const char *times[] = {"timestamp", "stream-time", "running-time",
                         "duration"};
  for (size_t i = 0; i < G_N_ELEMENTS(times); i++) {
    guint64 t = GST_CLOCK_TIME_NONE;
    g_assert_true(gst_structure_get_uint64(s, times[i], &t));
    g_assert_true(GST_CLOCK_TIME_IS_VALID(t));
  }
  const GValue *labels = gst_structure_get_value(s, "labels");
  const GValue *scores = gst_structure_get_value(s, "scores");
  g_assert_nonnull(labels);
  g_assert_nonnull(scores);
  g_assert_true(GST_VALUE_HOLDS_ARRAY(labels));
  g_assert_true(GST_VALUE_HOLDS_ARRAY(scores));
  g_assert_cmpuint(gst_value_array_get_size(labels), ==, top_k);
  g_assert_cmpuint(gst_value_array_get_size(scores), ==, top_k);
  g_assert_cmpstr(g_value_get_string(gst_value_array_get_value(labels, 0)), ==,
                  label);
  double prev = 2.0, sum = 0.0;
  for (guint i = 0; i < top_k; i++) {
    double v = g_value_get_double(gst_value_array_get_value(scores, i));
    g_assert_cmpfloat(v, <=, prev);
    g_assert_cmpfloat(v, >=, 0.0);
    prev = v;
    sum += v;
  }
  g_assert_cmpfloat(sum, <=, 1.0 + 1e-5);
  g_assert_cmpfloat_with_epsilon(
      g_value_get_double(gst_value_array_get_value(scores, 0)), confidence,
      1e-9);
  /* top-k: the same labels and scores as one plain string */
  const char *top = gst_structure_get_string(s, "top-k");
  g_assert_nonnull(top);
  char **items = g_strsplit(top, ",", -1);
  g_assert_cmpuint(g_strv_length(items), ==, top_k);
  for (guint i = 0; i < top_k; i++) {
    const char *colon = strrchr(items[i], ':');
    g_assert_nonnull(colon);
    char *name = g_strndup(items[i], colon - items[i]);
    g_assert_cmpstr(name, ==,
                    g_value_get_string(gst_value_array_get_value(labels, i)));
    g_free(name);
    char *end = NULL;
    double v = g_ascii_strtod(colon + 1, &end);
    g_assert_cmpstr(end, ==, "");
    g_assert_cmpuint(strlen(colon + 1), ==, strlen("0.0000"));
    g_assert_cmpfloat_with_epsilon(
        v, g_value_get_double(gst_value_array_get_value(scores, i)), 5.1e-5);
  }
  g_strfreev(items);
  gboolean final;
  g_assert_true(gst_structure_get_boolean(s, "final", &final));
  guint64 count;
  g_assert_true(
      gst_structure_get_uint64(s, final ? "segments" : "segment", &count));
  if (final) {
    guint64 n_silent;
    g_assert_true(gst_structure_get_uint64(s, "silent-segments", &n_silent));
    g_assert_true(silent == (count == 0 && n_silent > 0));
  } else {
    double level;
    g_assert_true(gst_structure_get_double(s, "level", &level));
    g_assert_cmpfloat(level, >=, -200.0);
  }
}
