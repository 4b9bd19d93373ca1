/* test-classify-errors.c - bad input never blocks or crashes the pipeline:
 * a missing, truncated or non-model file, a band count or filterbank that
 * does not match the model, stereo or integer audio without a converter all
 * end in an ERROR message that says what is wrong. */
#include "gst-test-util.h"

#include <glib/gstdio.h>
#include <gst/gst.h>
#include <string.h>

static const char *tmpdir;
static char *model;

static TestRun *run_with(const char *model_path, const char *source,
                         const char *spec_props) {
  char *desc = g_strdup_printf(
      "%s ! gammatonespec %s ! acrnnclassify model=\"%s\" ! fakesink", source,
      spec_props, model_path);
  TestRun *run = test_run_pipeline(desc, 30, 0);
  g_free(desc);
  g_assert_false(run->timed_out);
  g_assert_false(run->eos);
  g_assert_nonnull(run->error);
  g_assert_cmpuint(run->results->len, ==, 0);
  return run;
}

static void assert_contains(const char *haystack, const char *needle) {
  if (strstr(haystack, needle) == NULL)
    g_error("\"%s\" does not mention \"%s\"", haystack, needle);
}

#define SOURCE "audiotestsrc num-buffers=100 ! audioconvert ! audioresample"

static void test_missing_model(void) {
  char *path = g_build_filename(tmpdir, "no-such-model.safetensors", NULL);
  TestRun *run = run_with(path, SOURCE, "bands=32");
  g_assert_true(run->error->domain == GST_RESOURCE_ERROR);
  assert_contains(run->error->message, path);
  g_assert_false(run->was_playing);
  test_run_free(run);
  g_free(path);
}

static void test_truncated_model(void) {
  char *data;
  gsize len;
  g_assert_true(g_file_get_contents(model, &data, &len, NULL));
  char *path = g_build_filename(tmpdir, "truncated.safetensors", NULL);
  g_assert_true(g_file_set_contents(path, data, len / 2, NULL));
  g_free(data);
  TestRun *run = run_with(path, SOURCE, "bands=32");
  g_assert_true(run->error->domain == GST_RESOURCE_ERROR);
  assert_contains(run->error->message, path);
  test_run_free(run);
  g_free(path);
}

static void test_not_a_model(void) {
  char *path = g_build_filename(tmpdir, "garbage.safetensors", NULL);
  g_assert_true(
      g_file_set_contents(path, "this is not a safetensors file\n", -1, NULL));
  TestRun *run = run_with(path, SOURCE, "bands=32");
  assert_contains(run->error->message, path);
  test_run_free(run);
  g_free(path);
}

static void test_band_mismatch(void) {
  TestRun *run = run_with(model, SOURCE, "bands=64");
  g_assert_true(
      g_error_matches(run->error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION));
  assert_contains(run->error->message, "64 bands");
  assert_contains(run->error->message, model);
  test_run_free(run);
}

/* Log-mel features into a log-gammatone model, and the other way round. */
static void test_filterbank_mismatch(void) {
  TestRun *run = run_with(model, SOURCE, "bands=32 filterbank=mel");
  g_assert_true(
      g_error_matches(run->error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION));
  assert_contains(run->error->message, "from the mel filterbank");
  assert_contains(run->error->message, "set filterbank=gammatone");
  assert_contains(run->error->message, model);
  test_run_free(run);
  char *mel = test_make_mel_model(tmpdir, "mel.safetensors", 32, 5);
  run = run_with(mel, SOURCE, "bands=32");
  assert_contains(run->error->message, "set filterbank=mel");
  assert_contains(run->error->message, mel);
  test_run_free(run);
  g_free(mel);
}

/* A WAV file of the given raw caps, 0.5 s of noise. */
static char *make_wav(const char *name, const char *caps) {
  char *path = g_build_filename(tmpdir, name, NULL);
  char *desc = g_strdup_printf(
      "audiotestsrc num-buffers=10 wave=pink-noise ! %s ! wavenc ! "
      "filesink location=\"%s\"",
      caps, path);
  TestRun *run = test_run_to_eos(desc, 30);
  g_free(desc);
  test_run_free(run);
  return path;
}

/* wavparse's pad appears at run time: gammatonespec refuses its caps there,
 * the pipeline stops with not-negotiated. */
static void check_refused(const char *caps) {
  char *wav = make_wav("input.wav", caps);
  char *source = g_strdup_printf("filesrc location=\"%s\" ! wavparse", wav);
  TestRun *run = run_with(model, source, "bands=32");
  assert_contains(run->error_debug, "not-negotiated");
  test_run_free(run);
  g_free(source);
  g_free(wav);
}

static void test_stereo_without_converter(void) {
  check_refused("audio/x-raw,format=F32LE,channels=2,rate=44100");
}

static void test_int_without_converter(void) {
  check_refused("audio/x-raw,format=S16LE,channels=1,rate=44100");
}

/* sample-rate=44100 (the default) refuses 16 kHz audio unless resampled. */
static void test_rate_without_resampler(void) {
  check_refused("audio/x-raw,format=F32LE,channels=1,rate=16000");
}

int main(int argc, char **argv) {
  tmpdir = test_init(&argc, &argv);
  model = test_make_model(tmpdir, "test.safetensors", 32, 2);
  g_test_add_func("/classify-errors/missing-model", test_missing_model);
  g_test_add_func("/classify-errors/truncated-model", test_truncated_model);
  g_test_add_func("/classify-errors/not-a-model", test_not_a_model);
  g_test_add_func("/classify-errors/band-mismatch", test_band_mismatch);
  g_test_add_func("/classify-errors/filterbank-mismatch",
                  test_filterbank_mismatch);
  g_test_add_func("/classify-errors/stereo", test_stereo_without_converter);
  g_test_add_func("/classify-errors/int", test_int_without_converter);
  g_test_add_func("/classify-errors/rate", test_rate_without_resampler);
  int ret = test_run_tests();
  g_free(model);
  return ret;
}
