/* test_train_folder.c - acrnn-train on a synthetic folder-per-class dataset
 * (WAV + FLAC, folds from a CSV), on log-gammatone and on log-mel features:
 * training reaches 100% on the training clips and beats chance on held-out
 * ones; eval writes its CSV, PNG and JSON report; the log and curves are
 * written; the model records its filterbank; bad input gives a clear
 * error. */
#include "synth_dataset.h"
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

/* Enough epochs that the training clips are learnt with a wide margin on
 * every kernel path, build and CPU (12 left the mel model at the edge:
 * 4 of 6 training clips on one path, 6 of 6 on another). */
#define EPOCHS "24"

static const char *train_exe;
static char *tmp, *data, *folds_csv;

static char **argv_new(const char *cmd, const char *const *extra) {
  GPtrArray *a = g_ptr_array_new();
  g_ptr_array_add(a, g_strdup(train_exe));
  g_ptr_array_add(a, g_strdup(cmd));
  for (int i = 0; synth_fast_options[i]; i++)
    if (strcmp(cmd, "eval") != 0 ||
        strcmp(synth_fast_options[i], "--quiet") == 0 ||
        strcmp(synth_fast_options[i], "--no-cache") == 0)
      g_ptr_array_add(a, g_strdup(synth_fast_options[i]));
  for (int i = 0; extra[i]; i++)
    g_ptr_array_add(a, g_strdup(extra[i]));
  g_ptr_array_add(a, NULL);
  return (char **)g_ptr_array_free(a, FALSE);
}

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
  char **argv = argv_new("eval", extra);
  char *out = NULL, *err = NULL;
  int rc = synth_run(argv, &out, &err);
  if (rc != 0)
    g_printerr("eval failed: %s\n%s\n", out, err);
  g_assert_cmpint(rc, ==, 0);
  g_strfreev(argv);
  char *json = g_strconcat(report, ".json", NULL);
  JsonParser *p = json_parser_new();
  GError *error = NULL;
  g_assert_true(json_parser_load_from_file(p, json, &error));
  g_assert_no_error(error);
  JsonObject *o = json_node_get_object(json_parser_get_root(p));
  double acc = json_object_get_double_member(o, "accuracy");
  g_assert_cmpint(json_object_get_int_member(o, "clips"), ==, 6);
  g_assert_cmpint(
      json_array_get_length(json_object_get_array_member(o, "per_class")), ==,
      3);
  g_test_message("fold %s: accuracy %.3f (%s)", fold, acc, out);
  g_object_unref(p);
  g_free(json);
  g_free(out);
  g_free(err);
  return acc;
}

/* The "filterbank" of the acrnn metadata of a model file. */
static char *model_filterbank(const char *path) {
  GBytes *b = synth_read(path);
  g_assert_nonnull(b);
  gsize size;
  const guint8 *d = g_bytes_get_data(b, &size);
  guint64 len = 0;
  for (int i = 7; i >= 0; i--)
    len = (len << 8) | d[i];
  g_assert_cmpuint(8 + len, <=, size);
  char *header = g_strndup((const char *)d + 8, len);
  JsonNode *h = json_from_string(header, NULL);
  g_free(header);
  g_assert_nonnull(h);
  JsonObject *meta =
      json_object_get_object_member(json_node_get_object(h), "__metadata__");
  JsonNode *a =
      json_from_string(json_object_get_string_member(meta, "acrnn"), NULL);
  char *fb = g_strdup(
      json_object_get_string_member(json_node_get_object(a), "filterbank"));
  json_node_unref(a);
  json_node_unref(h);
  g_bytes_unref(b);
  return fb;
}

static void train_and_eval(const char *filterbank) {
  char *name = g_strdup_printf("model-%s.safetensors", filterbank);
  char *model = g_build_filename(tmp, name, NULL);
  g_free(name);
  const char *extra[] = {
      "--data",   data,   "--folds-csv",  folds_csv,  "--val-fold", "3",
      "--epochs", EPOCHS, "--batch-size", "8",        "--lr",       "0.02",
      "--out",    model,  "--filterbank", filterbank, NULL};
  char **argv = argv_new("train", extra);
  char *out = NULL, *err = NULL;
  int rc = synth_run(argv, &out, &err);
  if (rc != 0)
    g_printerr("train failed: %s\n%s\n", out, err);
  g_assert_cmpint(rc, ==, 0);
  g_strfreev(argv);
  g_free(out);
  g_free(err);

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
  char *text = NULL;
  g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
  char **lines = g_strsplit(g_strstrip(text), "\n", -1);
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
  g_free(text);
  g_free(log);

  /* the last model: 100% on its training folds, better than chance on the
   * held-out fold */
  g_free(model);
  model = g_strconcat(stem, ".last.safetensors", NULL);
  char *report = g_build_filename(tmp, "report", NULL);
  g_assert_cmpfloat(eval_accuracy(model, "1", report, TRUE), ==, 1.0);
  g_assert_cmpfloat(eval_accuracy(model, "2", report, TRUE), ==, 1.0);
  g_assert_cmpfloat(eval_accuracy(model, "3", report, FALSE), >, 0.5);

  /* the report files */
  char *csv = g_strconcat(report, "-confusion.csv", NULL);
  g_assert_true(g_file_get_contents(csv, &text, NULL, NULL));
  g_assert_true(g_str_has_prefix(text, "true\\predicted,click,noise,tone\n"));
  g_free(text);
  char *png = g_strconcat(report, "-confusion.png", NULL);
  GBytes *b = synth_read(png);
  g_assert_nonnull(b);
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
  char *bad = g_build_filename(tmp, "bad", NULL);
  char *cls = g_build_filename(bad, "a", NULL);
  g_mkdir_with_parents(cls, 0755);
  char *f = g_build_filename(cls, "broken.wav", NULL);
  g_assert_true(g_file_set_contents(f, "this is not audio at all", -1, NULL));
  const char *extra[] = {"--data", bad, NULL};
  char **argv = argv_new("features", extra);
  char *err = NULL;
  int rc = synth_run(argv, NULL, &err);
  g_assert_cmpint(rc, !=, 0);
  g_assert_nonnull(strstr(err, "broken.wav"));
  g_assert_nonnull(strstr(err, "cannot decode"));
  g_free(err);
  g_strfreev(argv);
  /* a missing dataset and an unknown option */
  char *model = g_build_filename(tmp, "never.safetensors", NULL);
  const char *extra2[] = {"--data", "/nonexistent/acrnn", "--out", model, NULL};
  argv = argv_new("train", extra2);
  rc = synth_run(argv, NULL, &err);
  g_assert_cmpint(rc, !=, 0);
  g_assert_nonnull(strstr(err, "/nonexistent/acrnn"));
  g_free(err);
  g_strfreev(argv);
  /* an unknown filterbank: nothing is trained or written */
  const char *extra3[] = {"--data",  data,           "--folds-csv",
                          folds_csv, "--filterbank", "bark",
                          "--out",   model,          NULL};
  argv = argv_new("train", extra3);
  rc = synth_run(argv, NULL, &err);
  g_assert_cmpint(rc, !=, 0);
  g_assert_nonnull(strstr(err, "--filterbank"));
  g_assert_nonnull(strstr(err, "\"bark\""));
  g_assert_false(g_file_test(model, G_FILE_TEST_EXISTS));
  g_free(err);
  g_strfreev(argv);
  g_free(model);
  g_free(f);
  g_free(cls);
  g_free(bad);
}

static void test_help(void) {
  char *argv[] = {(char *)train_exe, "train", "--help", NULL};
  char *out = NULL;
  g_assert_cmpint(synth_run(argv, &out, NULL), ==, 0);
  g_assert_nonnull(strstr(out, "--mixup-alpha"));
  g_assert_nonnull(strstr(out, "(default: 0.2)"));
  g_assert_nonnull(strstr(out, "(default: 300)"));
  g_assert_nonnull(strstr(out, "(default: 0.01)"));
  g_assert_nonnull(strstr(out, "--filterbank"));
  g_free(out);
  char *version[] = {(char *)train_exe, "--version", NULL};
  g_assert_cmpint(synth_run(version, &out, NULL), ==, 0);
  g_assert_true(g_str_has_prefix(out, "acrnn-train "));
  g_assert_true(g_ascii_isdigit(out[strlen("acrnn-train ")]));
  g_free(out);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  train_exe = synth_train_exe(argc, argv, "test_train_folder");
  if (!train_exe)
    return 1;
  tmp = g_dir_make_tmp("acrnn-train-test-XXXXXX", NULL);
  g_assert_nonnull(tmp);
  data = g_build_filename(tmp, "data", NULL);
  synth_folder_dataset(data, 6, 3);
  folds_csv = g_build_filename(data, "folds.csv", NULL);
  g_test_add_func("/training/cli/help", test_help);
  g_test_add_func("/training/cli/train-eval", test_train_and_eval);
  g_test_add_func("/training/cli/train-eval-mel", test_train_and_eval_mel);
  g_test_add_func("/training/cli/bad-input", test_bad_input);
  int rc = g_test_run();
  if (rc == 0)
    synth_remove_tree(tmp);
  g_free(folds_csv);
  g_free(data);
  g_free(tmp);
  return rc;
}
