/* test_train_checks.c - what acrnn-train says before it works: output paths
 * in missing folders, and an --augment-cache that is a file, are refused
 * before training starts, naming the path;
 * no data is skipped silently (.opus and .m4a clips are taken, other files,
 * empty class folders and folds CSV rows naming no file are warnings, ESC-50
 * rows naming missing files and --threads 0 are errors); a model records
 * its training split and eval holds out the same clips; a stray argument
 * is refused by every command. */
#include "train_test_util.h"
#include <glib/gstdio.h>
#include <string.h>

static const char *data, *folds_csv;

/* Runs acrnn-train CMD with the tiny network's options and extra; returns
 * the status, stdout and stderr (g_free). */
static int run(const char *cmd, const char *const *extra, char **out,
               char **err) {
  return tt_run(cmd, TT_FAST, extra, NULL, out, err);
}

/* --out, --checkpoint, --log in a folder that does not exist: an error
 * naming the path at once, and nothing trained or written (the best model
 * would be written after the first epoch). */
static void test_output_folders(void) {
  char *missing = tt_path("no-such-folder");
  char *model = tt_path("out-check.safetensors");
  char *in_missing = g_build_filename(missing, "x.safetensors", NULL);
  const char *options[] = {"--out", "--checkpoint", "--log", "--plot"};
  for (size_t i = 0; i < G_N_ELEMENTS(options); i++) {
    const gboolean out = i == 0;
    const char *extra[] = {"--data",
                           data,
                           "--folds-csv",
                           folds_csv,
                           "--val-fold",
                           "3",
                           "--epochs",
                           "2",
                           "--batch-size",
                           "8",
                           "--checkpoint-every",
                           "0",
                           "--out",
                           out ? in_missing : model,
                           out ? NULL : options[i],
                           in_missing,
                           NULL};
    char *err = NULL;
    int rc = run("train", extra, NULL, &err);
    g_test_message("%s: %s", options[i], err);
    g_assert_cmpint(rc, !=, 0);
    char *want = g_strdup_printf("%s %s: the folder %s does not exist",
                                 options[i], in_missing, missing);
    g_assert_nonnull(strstr(err, want));
    g_free(want);
    g_assert_false(g_file_test(model, G_FILE_TEST_EXISTS));
    g_free(err);
  }
  /* --out naming a folder */
  const char *extra[] = {"--data", data,     "--folds-csv", folds_csv,
                         "--out",  tt_tmp(), NULL};
  char *err = NULL;
  g_assert_cmpint(run("train", extra, NULL, &err), !=, 0);
  g_assert_nonnull(strstr(err, "is a folder, expected a file name"));
  g_free(err);
  /* eval --report in a missing folder: refused before evaluating */
  const char *eval_extra[] = {
      "--data",   data,       "--model", "/nonexistent-model.safetensors",
      "--report", in_missing, NULL};
  g_assert_cmpint(run("eval", eval_extra, NULL, &err), !=, 0);
  g_assert_nonnull(strstr(err, "--report"));
  g_assert_nonnull(strstr(err, "does not exist"));
  g_free(err);
  /* --augment-cache naming a file: refused before training */
  const char *cache_extra[] = {"--data",          data,      "--folds-csv",
                               folds_csv,         "--out",   model,
                               "--augment-cache", folds_csv, NULL};
  g_assert_cmpint(run("train", cache_extra, NULL, &err), !=, 0);
  g_test_message("--augment-cache: %s", err);
  g_assert_nonnull(strstr(err, "--augment-cache"));
  g_assert_nonnull(strstr(err, "cannot create the folder"));
  g_assert_false(g_file_test(model, G_FILE_TEST_EXISTS));
  g_free(err);
  g_free(in_missing);
  g_free(model);
  g_free(missing);
}

/* Encodes a 1 s clip of class c into path with the first GStreamer
 * encoder (a gst-launch tail) that works; FALSE if none is installed. */
static gboolean encode_clip(int c, const char *path,
                            const char *const *encoders) {
  char *wav = g_strconcat(path, ".tmp.wav", NULL);
  float *x = g_new(float, SYNTH_RATE);
  synth_clip(c, 0, x, SYNTH_RATE);
  synth_write_wav(wav, x, SYNTH_RATE, SYNTH_RATE);
  g_free(x);
  gboolean ok = FALSE;
  for (size_t i = 0; !ok && encoders[i]; i++) {
    char *cmd = g_strdup_printf("gst-launch-1.0 -q filesrc location=\"%s\" ! "
                                "wavparse ! audioconvert ! audioresample ! "
                                "%s ! filesink location=\"%s\"",
                                wav, encoders[i], path);
    int status = -1;
    ok = g_spawn_command_line_sync(cmd, NULL, NULL, &status, NULL) &&
         g_spawn_check_wait_status(status, NULL);
    g_free(cmd);
  }
  g_unlink(wav);
  g_free(wav);
  if (!ok)
    g_unlink(path);
  return ok;
}

/* A dataset with one of each thing the folder layout used to skip in
 * silence: an .opus and an .m4a clip, a text file in a class folder, an
 * empty class folder, and a folds CSV row naming no file. */
static char *odd_dataset(gboolean *have_opus, gboolean *have_m4a) {
  char *root = tt_path("odd");
  synth_folder_dataset(root, 3, 3);
  const char *opus[] = {"opusenc ! oggmux", NULL};
  const char *m4a[] = {"avenc_aac ! mp4mux", "lamemp3enc ! mp4mux", NULL};
  char *p = g_build_filename(root, "tone", "extra.opus", NULL);
  *have_opus = encode_clip(0, p, opus);
  g_free(p);
  p = g_build_filename(root, "noise", "extra.m4a", NULL);
  *have_m4a = encode_clip(1, p, m4a);
  g_free(p);
  p = g_build_filename(root, "click", "notes.txt", NULL);
  g_assert_true(g_file_set_contents(p, "recorded on a Tuesday", -1, NULL));
  g_free(p);
  p = g_build_filename(root, "wind", NULL);
  g_mkdir_with_parents(p, 0755);
  g_free(p);
  /* every clip in fold 1 or 2, and a row for a file that is not there */
  GString *csv = g_string_new("file,fold\n");
  const char *names[] = {
      "tone/clip0.wav",  "tone/clip1.flac",  "tone/clip2.wav",
      "noise/clip0.wav", "noise/clip1.flac", "noise/clip2.wav",
      "click/clip0.wav", "click/clip1.flac", "click/clip2.wav",
      "tone/extra.opus", "noise/extra.m4a",  "tone/ghost.wav"};
  for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
    g_string_append_printf(csv, "%s,%zu\n", names[i], i % 2 + 1);
  p = g_build_filename(root, "folds.csv", NULL);
  g_assert_true(g_file_set_contents(p, csv->str, -1, NULL));
  g_free(p);
  g_string_free(csv, TRUE);
  return root;
}

/* What acrnn-train features says of the odd dataset: the .opus and .m4a
 * clips are decoded with the others, and each thing left out is a warning
 * naming it. */
static void test_nothing_skipped_silently(void) {
  gboolean have_opus, have_m4a;
  char *root = odd_dataset(&have_opus, &have_m4a);
  char *csv = g_build_filename(root, "folds.csv", NULL);
  /* FLAC may be missing too: then the .flac names are .wav */
  char *flac = g_build_filename(root, "tone", "clip1.flac", NULL);
  if (!g_file_test(flac, G_FILE_TEST_EXISTS))
    tt_file_replace(csv, ".flac", ".wav");
  g_free(flac);
  const char *extra[] = {"--data", root, "--folds-csv", csv, NULL};
  char *out = NULL, *err = NULL;
  int rc = run("features", extra, &out, &err);
  g_test_message("stdout: %s\nstderr: %s", out, err);
  g_assert_cmpint(rc, ==, 0);
  /* 9 WAV/FLAC clips, and the .opus and .m4a ones */
  char *want = g_strdup_printf("%d clips,", 9 + have_opus + have_m4a);
  g_assert_true(g_str_has_prefix(out, want));
  g_free(want);
  if (!have_opus || !have_m4a)
    g_test_message("no %s encoder: that clip was not made",
                   have_opus ? "AAC or MP3" : "Opus");
  const char *warnings[] = {
      "notes.txt: not a sound or video file extension",
      "wind: no sound files, the class \"wind\" is left out",
      "folds.csv line 13: no file \"tone/ghost.wav\""};
  for (size_t i = 0; i < G_N_ELEMENTS(warnings); i++) {
    g_test_message("want warning: %s", warnings[i]);
    g_assert_nonnull(strstr(err, warnings[i]));
  }
  g_assert_nonnull(strstr(err, "acrnn-train: warning: "));
  g_free(out);
  g_free(err);
  g_free(csv);
  g_free(root);
}

/* ESC-50 layout: a CSV row whose file is missing is an error naming it,
 * before anything is decoded or trained. */
static void test_esc50_missing_file(void) {
  char *root = tt_path("esc50-missing");
  synth_esc50_dataset(root, 2, 2);
  char *audio = g_build_filename(root, "audio", NULL);
  GDir *d = g_dir_open(audio, 0, NULL);
  g_assert_nonnull(d);
  char *gone = g_build_filename(audio, g_dir_read_name(d), NULL);
  g_dir_close(d);
  g_assert_cmpint(g_unlink(gone), ==, 0);
  char *model = tt_path("esc50-missing.safetensors");
  const char *extra[] = {"--data", root, "--out", model, NULL};
  char *err = NULL;
  g_assert_cmpint(run("train", extra, NULL, &err), !=, 0);
  g_test_message("%s", err);
  g_assert_nonnull(strstr(err, "esc50.csv names 1 file that is not in"));
  g_assert_nonnull(strstr(err, gone));
  g_assert_false(g_file_test(model, G_FILE_TEST_EXISTS));
  g_free(err);
  g_free(model);
  g_free(gone);
  g_free(audio);
  g_free(root);
}

/* --threads 0 (or less) is an error, not one thread in silence. */
static void test_threads_zero(void) {
  const char *cmds[] = {"train", "eval", "features"};
  for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++) {
    const char *extra[] = {"--data", data, "--threads", "0", NULL};
    char *err = NULL;
    g_assert_cmpint(run(cmds[i], extra, NULL, &err), !=, 0);
    g_assert_nonnull(
        strstr(err, "--threads 0: expected at least 1 compute thread"));
    g_free(err);
  }
}

/* A word that is not an option is refused by every command, named, before
 * any work; export takes its options (short ones too) from the same table.
 */
static void test_stray_argument(void) {
  const char *cmds[] = {"train", "cv", "eval", "features"};
  for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++) {
    const char *extra[] = {"--data", data, "stray", NULL};
    char *err = NULL;
    g_assert_cmpint(run(cmds[i], extra, NULL, &err), ==, 1);
    char *want = g_strdup_printf(
        "acrnn-train %s: unexpected argument \"stray\"", cmds[i]);
    g_assert_nonnull(strstr(err, want));
    g_free(want);
    g_free(err);
  }
  char *in = tt_path("no-such-model.safetensors");
  char *out = tt_path("exported.safetensors");
  char *argv[] = {(char *)tt_exe(), "export", "-m",    in,  "-o", out,
                  "--dtype",        "f16",    "stray", NULL};
  char *err = NULL;
  g_assert_cmpint(synth_run(argv, NULL, &err), ==, 1);
  g_assert_nonnull(
      strstr(err, "acrnn-train export: unexpected argument \"stray\""));
  g_free(err);
  argv[8] = NULL; /* the short options reach the model loader */
  g_assert_cmpint(synth_run(argv, NULL, &err), ==, 1);
  g_assert_nonnull(strstr(err, "acrnn-train export: "));
  g_assert_nonnull(strstr(err, in));
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
  g_free(err);
  g_free(in);
  g_free(out);
}

/* The "split" object of the acrnn metadata of a model file (unref). */
static JsonObject *model_split(const char *path) {
  JsonObject *acrnn = tt_model_acrnn(path);
  g_assert_true(json_object_has_member(acrnn, "split"));
  JsonObject *split =
      json_object_ref(json_object_get_object_member(acrnn, "split"));
  json_object_unref(acrnn);
  return split;
}

/* Runs eval; returns its status; the report's fold and clip count. */
static int eval_report(const char *model, const char *root,
                       const char *const *more, int *fold, int *clips,
                       char **err) {
  char *report = tt_path("split-eval");
  char *json = g_strconcat(report, ".json", NULL);
  g_unlink(json);
  const char *base[] = {"--model",  model,  "--data", root,
                        "--report", report, NULL};
  int rc = tt_run("eval", TT_FAST, base, more, NULL, err);
  g_test_message("eval: status %d\n%s", rc, *err);
  *fold = *clips = -1;
  JsonObject *o = rc == 0 ? tt_json_file(json) : NULL;
  if (o) {
    *fold = (int)json_object_get_int_member(o, "fold");
    *clips = (int)json_object_get_int_member(o, "clips");
    json_object_unref(o);
  }
  g_free(json);
  g_free(report);
  return rc;
}

/* A model trained with --random-folds 3 --val-fold 3 records its split;
 * eval without split options makes the same 3 folds and evaluates fold 3
 * (it used to make the default 5 folds, and score clips the model was
 * trained on); folds that overlap the training clips are refused. */
static void test_eval_split(void) {
  char *model = tt_path("split.safetensors");
  const char *extra[] = {
      "--data",   data, "--random-folds", "3", "--val-fold", "3",
      "--epochs", "1",  "--batch-size",   "8", "--out",      model,
      NULL};
  char *err = NULL;
  g_assert_cmpint(run("train", extra, NULL, &err), ==, 0);
  g_free(err);
  JsonObject *split = model_split(model);
  g_assert_cmpstr(json_object_get_string_member(split, "layout"), ==,
                  "folders");
  g_assert_cmpstr(json_object_get_string_member(split, "method"), ==, "random");
  g_assert_cmpint(json_object_get_int_member(split, "k"), ==, 3);
  g_assert_cmpint(json_object_get_int_member(split, "seed"), ==, 1);
  g_assert_cmpint(json_object_get_int_member(split, "val_fold"), ==, 3);
  g_assert_cmpint(json_object_get_int_member(split, "train_clips"), ==, 12);
  g_assert_cmpuint(
      strlen(json_object_get_string_member(split, "train_clips_sha256")), ==,
      64);
  json_object_unref(split);

  int fold, clips;
  /* no options: the held-out fold of the same 3 folds, 6 clips */
  const char *none[] = {NULL};
  g_assert_cmpint(eval_report(model, data, none, &fold, &clips, &err), ==, 0);
  g_assert_cmpint(fold, ==, 3);
  g_assert_cmpint(clips, ==, 6);
  g_free(err);
  /* --fold 3 alone: the same (not fold 3 of 5 random folds) */
  const char *fold3[] = {"--fold", "3", NULL};
  g_assert_cmpint(eval_report(model, data, fold3, &fold, &clips, &err), ==, 0);
  g_assert_cmpint(clips, ==, 6);
  g_free(err);
  /* one split option given: the others stay the model's (3 folds) */
  const char *seed1[] = {"--seed", "1", NULL};
  g_assert_cmpint(eval_report(model, data, seed1, &fold, &clips, &err), ==, 0);
  g_assert_cmpint(fold, ==, 3);
  g_assert_cmpint(clips, ==, 6);
  g_free(err);
  /* a training fold, or other folds that mix in training clips: refused */
  const char *fold1[] = {"--fold", "1", NULL};
  const char *five[] = {"--fold", "3", "--random-folds", "5", NULL};
  const char *const *refused[] = {fold1, five};
  for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
    g_assert_cmpint(eval_report(model, data, refused[i], &fold, &clips, &err),
                    !=, 0);
    g_assert_nonnull(strstr(err, "clips that the model"));
    g_assert_nonnull(strstr(err, "--allow-training-clips"));
    g_free(err);
  }
  /* ... unless asked for, with a warning */
  const char *allowed[] = {"--fold", "1", "--allow-training-clips", NULL};
  g_assert_cmpint(eval_report(model, data, allowed, &fold, &clips, &err), ==,
                  0);
  g_assert_cmpint(fold, ==, 1);
  g_assert_nonnull(strstr(err, "were used to train the model"));
  g_free(err);

  /* another dataset (a clip added): said, and evaluated as asked */
  char *copy = tt_path("data-plus-one");
  char *cmd = g_strdup_printf("cp -r \"%s\" \"%s\"", data, copy);
  g_assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, NULL, NULL));
  g_free(cmd);
  char *extra_clip = g_build_filename(copy, "tone", "clip9.wav", NULL);
  float *x = g_new(float, SYNTH_RATE);
  synth_clip(0, 9, x, SYNTH_RATE);
  synth_write_wav(extra_clip, x, SYNTH_RATE, SYNTH_RATE);
  g_free(x);
  g_assert_cmpint(eval_report(model, copy, none, &fold, &clips, &err), ==, 0);
  g_assert_nonnull(strstr(err, "training clips cannot be told apart"));
  g_free(err);
  g_free(extra_clip);
  g_free(copy);

  /* a model trained with a folds CSV that is gone: eval with another copy
   * of it says that it cannot check, and evaluates */
  char *csv_copy = tt_path("folds-copy.csv");
  char *text = NULL;
  g_assert_true(g_file_get_contents(folds_csv, &text, NULL, NULL));
  g_assert_true(g_file_set_contents(csv_copy, text, -1, NULL));
  g_free(text);
  const char *csv_extra[] = {
      "--data", data,       "--folds-csv", csv_copy,       "--val-fold",
      "3",      "--epochs", "1",           "--batch-size", "8",
      "--out",  model,      NULL};
  g_assert_cmpint(run("train", csv_extra, NULL, &err), ==, 0);
  g_free(err);
  g_assert_cmpint(g_unlink(csv_copy), ==, 0);
  const char *with_csv[] = {"--folds-csv", folds_csv, NULL};
  g_assert_cmpint(eval_report(model, data, with_csv, &fold, &clips, &err), ==,
                  0);
  g_assert_cmpint(fold, ==, 3);
  g_assert_nonnull(strstr(err, "cannot make the model's folds"));
  g_free(err);
  g_free(csv_copy);
  g_free(model);
}

int main(int argc, char **argv) {
  if (!tt_init(&argc, &argv, "test_train_checks"))
    return 1;
  data = tt_folder_dataset("data", 6, 3, &folds_csv);
  g_test_add_func("/training/checks/output-folders", test_output_folders);
  g_test_add_func("/training/checks/nothing-skipped-silently",
                  test_nothing_skipped_silently);
  g_test_add_func("/training/checks/esc50-missing-file",
                  test_esc50_missing_file);
  g_test_add_func("/training/checks/threads-zero", test_threads_zero);
  g_test_add_func("/training/checks/eval-split", test_eval_split);
  g_test_add_func("/training/checks/stray-argument", test_stray_argument);
  return tt_run_tests();
}
