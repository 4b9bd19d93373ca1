/* test_train_folder.c - acrnn-train on a synthetic folder-per-class dataset
 * (WAV + FLAC, folds from a CSV), on log-gammatone and on log-mel features:
 * training reaches 100% on the training clips and beats chance on held-out
 * ones; eval writes its CSV, PNG and JSON report; the log and curves are
 * written; the model records its filterbank; bad input gives a clear
 * error. */
#include "train_test_util.h"
#include <glib/gstdio.h>
#include <string.h>

/* Enough epochs that the training clips are learnt with a wide margin on
 * every kernel path, build and CPU (12 left the mel model at the edge:
 * 4 of 6 training clips on one path, 6 of 6 on another). */
#define EPOCHS "24"

static const char *data, *folds_csv;

/* Accuracy on fold; training folds need --allow-training-clips. */
static double eval_accuracy(const char *model, const char *fold,
                            const char *report, gboolean training_fold) {
  const char *extra[] = {"--model",
                         model,
                         "--data",
                         data,
                         "--folds-csv",
                         folds_csv,
                         "--fold",
                         fold,
                         "--report",
                         report,
                         training_fold ? "--allow-training-clips" : NULL,
                         NULL};
  char *out = NULL;
  tt_run_ok("eval", TT_FAST, extra, NULL, &out, NULL);
  char *json = g_strconcat(report, ".json", NULL);
  JsonObject *o = tt_json_file(json);
  g_assert_nonnull(o);
  double acc = json_object_get_double_member(o, "accuracy");
  g_assert_cmpint(json_object_get_int_member(o, "clips"), ==, 6);
  g_assert_cmpint(
      json_array_get_length(json_object_get_array_member(o, "per_class")), ==,
      3);
  g_test_message("fold %s: accuracy %.3f (%s)", fold, acc, out);
  json_object_unref(o);
  g_free(json);
  g_free(out);
  return acc;
}

/* The "filterbank" of the acrnn metadata of a model file. */
static char *model_filterbank(const char *path) {
  JsonObject *acrnn = tt_model_acrnn(path);
  char *fb = g_strdup(json_object_get_string_member(acrnn, "filterbank"));
  json_object_unref(acrnn);
  return fb;
}

static void train_and_eval(const char *filterbank) {
  char *name = g_strdup_printf("model-%s.safetensors", filterbank);
  char *model = tt_path(name);
  g_free(name);
  const char *extra[] = {
      "--data",   data,   "--folds-csv",  folds_csv,  "--val-fold", "3",
      "--epochs", EPOCHS, "--batch-size", "8",        "--lr",       "0.02",
      "--out",    model,  "--filterbank", filterbank, NULL};
  tt_run_ok("train", TT_FAST, extra, NULL, NULL, NULL);

  /* outputs of a run */
  char *stem = g_strndup(model, strlen(model) - strlen(".safetensors"));
  const char *suffixes[] = {".last.safetensors", ".ckpt.safetensors",
                            ".log.jsonl", ".curves.png"};
  for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++) {
    char *p = g_strconcat(stem, suffixes[i], NULL);
    g_assert_true(g_file_test(p, G_FILE_TEST_EXISTS));
    g_free(p);
  }
  g_assert_true(g_file_test(model, G_FILE_TEST_EXISTS));
  char *fb = model_filterbank(model);
  g_assert_cmpstr(fb, ==, filterbank);
  g_free(fb);
  char *log = g_strconcat(stem, ".log.jsonl", NULL);
  char **lines = tt_log_lines(log);
  g_assert_cmpuint(g_strv_length(lines), ==, atoi(EPOCHS));
  JsonNode *n = json_from_string(lines[atoi(EPOCHS) - 1], NULL);
  g_assert_nonnull(n);
  JsonObject *o = json_node_get_object(n);
  g_assert_cmpint(json_object_get_int_member(o, "epoch"), ==, atoi(EPOCHS));
  g_test_message("%s: last epoch train loss %.4f", filterbank,
                 json_object_get_double_member(o, "train_loss"));
  g_assert_true(json_object_has_member(o, "train_loss"));
  g_assert_true(json_object_has_member(o, "val_acc"));
  g_assert_true(json_object_has_member(o, "lr"));
  g_assert_true(json_object_has_member(o, "time_s"));
  json_node_unref(n);
  g_strfreev(lines);
  g_free(log);

  /* the last model: 100% on its training folds, better than chance on the
   * held-out fold */
  g_free(model);
  model = g_strconcat(stem, ".last.safetensors", NULL);
  char *report = tt_path("report");
  g_assert_cmpfloat(eval_accuracy(model, "1", report, TRUE), ==, 1.0);
  g_assert_cmpfloat(eval_accuracy(model, "2", report, TRUE), ==, 1.0);
  g_assert_cmpfloat(eval_accuracy(model, "3", report, FALSE), >, 0.5);

  /* the report files */
  char *csv = g_strconcat(report, "-confusion.csv", NULL);
  char *text = NULL;
  g_assert_true(g_file_get_contents(csv, &text, NULL, NULL));
  g_assert_true(g_str_has_prefix(text, "true\\predicted,click,noise,tone\n"));
  g_free(text);
  char *png = g_strconcat(report, "-confusion.png", NULL);
  GBytes *b = tt_file_bytes(png);
  g_assert_cmpuint(g_bytes_get_size(b), >, 8);
  g_assert_cmpint(memcmp(g_bytes_get_data(b, NULL), "\x89PNG", 4), ==, 0);
  g_bytes_unref(b);
  g_free(png);
  g_free(csv);
  g_free(report);
  g_free(stem);
  g_free(model);
}

static void test_train_and_eval(void) {
  train_and_eval("gammatone");
}

static void test_train_and_eval_mel(void) {
  train_and_eval("mel");
}

static void test_bad_input(void) {
  char *bad = tt_path("bad");
  char *cls = g_build_filename(bad, "a", NULL);
  g_mkdir_with_parents(cls, 0755);
  char *f = g_build_filename(cls, "broken.wav", NULL);
  g_assert_true(g_file_set_contents(f, "this is not audio at all", -1, NULL));
  const char *extra[] = {"--data", bad, NULL};
  char *err = NULL;
  int rc = tt_run("features", TT_FAST, extra, NULL, NULL, &err);
  g_assert_cmpint(rc, !=, 0);
  g_assert_nonnull(strstr(err, "broken.wav"));
  g_assert_nonnull(strstr(err, "cannot decode"));
  g_free(err);
  /* a missing dataset and an unknown option */
  char *model = tt_path("never.safetensors");
  const char *extra2[] = {"--data", "/nonexistent/acrnn", "--out", model, NULL};
  rc = tt_run("train", TT_FAST, extra2, NULL, NULL, &err);
  g_assert_cmpint(rc, !=, 0);
  g_assert_nonnull(strstr(err, "/nonexistent/acrnn"));
  g_free(err);
  /* an unknown filterbank: nothing is trained or written */
  const char *extra3[] = {"--data",  data,           "--folds-csv",
                          folds_csv, "--filterbank", "bark",
                          "--out",   model,          NULL};
  rc = tt_run("train", TT_FAST, extra3, NULL, NULL, &err);
  g_assert_cmpint(rc, !=, 0);
  g_assert_nonnull(strstr(err, "--filterbank"));
  g_assert_nonnull(strstr(err, "\"bark\""));
  g_assert_false(g_file_test(model, G_FILE_TEST_EXISTS));
  g_free(err);
  g_free(model);
  g_free(f);
  g_free(cls);
  g_free(bad);
}

static void test_help(void) {
  char *argv[] = {(char *)tt_exe(), "train", "--help", NULL};
  char *out = NULL;
  g_assert_cmpint(synth_run(argv, &out, NULL), ==, 0);
  g_assert_nonnull(strstr(out, "--mixup-alpha"));
  g_assert_nonnull(strstr(out, "(default: 0.2)"));
  g_assert_nonnull(strstr(out, "(default: 300)"));
  g_assert_nonnull(strstr(out, "(default: 0.01)"));
  g_assert_nonnull(strstr(out, "--filterbank"));
  g_free(out);
  char *version[] = {(char *)tt_exe(), "--version", NULL};
  g_assert_cmpint(synth_run(version, &out, NULL), ==, 0);
  g_assert_true(g_str_has_prefix(out, "acrnn-train "));
  g_assert_true(g_ascii_isdigit(out[strlen("acrnn-train ")]));
  g_free(out);
}

int main(int argc, char **argv) {
  if (!tt_init(&argc, &argv, "test_train_folder"))
    return 1;
  data = tt_folder_dataset("data", 6, 3, &folds_csv);
  g_test_add_func("/training/cli/help", test_help);
  g_test_add_func("/training/cli/train-eval", test_train_and_eval);
  g_test_add_func("/training/cli/train-eval-mel", test_train_and_eval_mel);
  g_test_add_func("/training/cli/bad-input", test_bad_input);
  return tt_run_tests();
}
