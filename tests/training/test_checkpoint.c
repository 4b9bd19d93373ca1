/* test_checkpoint.c - the training state of a checkpoint: one JSON entry
 * that reads back bit for bit (NaN and Inf included), refused with an
 * error naming the file and the entry when it is malformed; and the
 * checkpoints of acrnn 0.3.0 (one acrnn-train.* entry per field) still
 * read and resume. The 0.3.0 checkpoint is rebuilt from the header of one
 * written by that version (data/ckpt-0.3.0.header.json: its tensor list
 * and metadata verbatim, from a run stopped after 4 steps of
 * test_train_resume's recipe), with all-zero tensor data. */
#include "checkpoint_state.h"
#include "train_test_util.h"
#include <math.h>
#include <string.h>

static const char *header_path;

/* Writes the 0.3.0 checkpoint: the stored header, padded to 8 bytes, and
 * zeros for the tensors' data. */
static char *legacy_checkpoint(void) {
  char *text = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(header_path, &text, &len, NULL));
  g_strchomp(text);
  GString *h = g_string_new(text);
  while (h->len % 8)
    g_string_append_c(h, ' ');
  JsonNode *root = json_from_string(text, NULL);
  g_assert_nonnull(root);
  JsonObject *o = json_node_get_object(root);
  guint64 data = 0;
  GList *names = json_object_get_members(o);
  for (GList *l = names; l; l = l->next) {
    if (strcmp(l->data, "__metadata__") == 0)
      continue;
    JsonArray *off = json_object_get_array_member(
        json_object_get_object_member(o, l->data), "data_offsets");
    data = MAX(data, (guint64)json_array_get_int_element(off, 1));
  }
  g_list_free(names);
  json_node_unref(root);
  gsize total = 8 + h->len + data;
  guint8 *file = g_malloc0(total);
  guint64 n = GUINT64_TO_LE((guint64)h->len);
  memcpy(file, &n, 8);
  memcpy(file + 8, h->str, h->len);
  char *ckpt = tt_path("old.ckpt.safetensors");
  g_assert_true(g_file_set_contents(ckpt, (const char *)file, total, NULL));
  g_free(file);
  g_string_free(h, TRUE);
  g_free(text);
  return ckpt;
}

static TrCheckpointState read_state(const char *file, GError **error) {
  TrCheckpointState st;
  tr_checkpoint_state_init(&st);
  AcrnnModelFile *f = acrnn_model_file_open(file, error);
  g_assert_nonnull(f);
  tr_checkpoint_state_read(f, &st, error);
  acrnn_model_file_close(f);
  return st;
}

/* The values the 0.3.0 checkpoint holds (its acrnn-train.* entries). */
static void test_legacy_state(void) {
  char *ckpt = legacy_checkpoint();
  GError *error = NULL;
  TrCheckpointState st = read_state(ckpt, &error);
  g_assert_no_error(error);
  g_assert_cmpint(st.epoch, ==, 1);
  g_assert_cmpint(st.step, ==, 1);
  g_assert_cmpint(st.best_epoch, ==, 1);
  g_assert_cmpfloat(st.best_acc, ==, 0x1.5555555555555p-2);
  g_assert_cmpfloat(st.ep_loss, ==, 0x1.cab3dp+1);
  g_assert_cmpfloat(st.ep_correct, ==, 2);
  g_assert_cmpfloat(st.ep_seen, ==, 4);
  g_assert_cmpfloat(st.ep_elapsed, ==, 0x1.7cf80dc33721dp-5);
  g_assert_cmpfloat(st.total_s, ==, 0x1.7f4f0d844d014p-2);
  g_assert_cmpuint(st.rng.s[0], ==, 0x1034d421ac951d71ULL);
  g_assert_cmpuint(st.rng.s[3], ==, 0xa479326fa2eaccabULL);
  g_assert_nonnull(strstr(st.options, "\"seed\":11"));
  tr_checkpoint_state_clear(&st);
  char *opts = tr_checkpoint_read_options(ckpt, &error);
  g_assert_no_error(error);
  g_assert_nonnull(strstr(opts, "\"batch-size\":4"));
  g_free(opts);
  g_free(ckpt);
}

/* acrnn-train resumes the 0.3.0 checkpoint (epoch 2 step 2 of 3 epochs)
 * to the end, with its options, and writes the new layout. */
static void test_legacy_resume(void) {
  char *ckpt = legacy_checkpoint();
  char *data = tt_path("data"),
       *csv = g_build_filename(data, "folds.csv", NULL);
  char *out = tt_path("resumed.safetensors");
  char *last = tt_path("resumed.last.safetensors");
  char *new_ckpt = tt_path("resumed.ckpt.safetensors");
  char *log = tt_path("resumed.log.jsonl");
  synth_folder_dataset(data, 3, 3);
  const char *rest[] = {"--data", data,    "--folds-csv", csv, "--resume",
                        ckpt,     "--out", out,           NULL};
  tt_run_ok("train", TT_FAST, rest, NULL, NULL, NULL);
  g_assert_true(g_file_test(last, G_FILE_TEST_EXISTS));
  /* the epochs run after the resume: 2 and 3 */
  char **lines = tt_log_lines(log);
  g_assert_cmpuint(g_strv_length(lines), ==, 2);
  g_assert_true(g_str_has_prefix(lines[0], "{\"epoch\": 2,"));
  g_strfreev(lines);
  /* the new checkpoint: one acrnn-train entry, the stored options kept */
  GError *error = NULL;
  AcrnnModelFile *f = acrnn_model_file_open(new_ckpt, &error);
  g_assert_no_error(error);
  g_assert_nonnull(acrnn_model_file_meta(f, TR_CHECKPOINT_STATE_KEY));
  g_assert_null(acrnn_model_file_meta(f, "acrnn-train.epoch"));
  g_assert_null(acrnn_model_file_meta(f, "acrnn-train.options"));
  acrnn_model_file_close(f);
  TrCheckpointState st = read_state(new_ckpt, &error);
  g_assert_no_error(error);
  g_assert_cmpint(st.epoch, ==, 3);
  g_assert_cmpint(st.step, ==, 0);
  g_assert_nonnull(strstr(st.options, "\"seed\":11"));
  tr_checkpoint_state_clear(&st);
  g_free(ckpt);
  g_free(csv);
  g_free(data);
  g_free(out);
  g_free(last);
  g_free(new_ckpt);
  g_free(log);
}

/* Saves the network of the 0.3.0 checkpoint with state as the
 * acrnn-train entry. */
static char *with_state(const char *name, const char *state) {
  char *src = legacy_checkpoint(), *dst = tt_path(name);
  GError *error = NULL;
  AcrnnModelInfo info;
  AcrnnNet *net = acrnn_model_load(src, &info, &error);
  g_assert_no_error(error);
  size_t n = acrnn_net_n_params(net);
  float *vel = g_new0(float, n);
  AcrnnModelTensor t = {"optimizer.velocity", vel, n};
  AcrnnModelMeta m = {TR_CHECKPOINT_STATE_KEY, state};
  AcrnnModelExtras x = {&t, 1, &m, 1};
  g_assert_true(acrnn_model_save_full(dst, net, &info, &x, &error));
  g_assert_no_error(error);
  g_free(vel);
  acrnn_net_free(net);
  acrnn_model_info_clear(&info);
  g_free(src);
  return dst;
}

/* Every field reads back bit for bit, NaN and Inf included. */
static void test_round_trip(void) {
  TrCheckpointState st;
  tr_checkpoint_state_init(&st);
  st.epoch = 7;
  st.step = 3;
  st.best_epoch = 5;
  st.best_acc = 1.0 / 3.0;
  st.ep_loss = 0.1 + 0.2;
  st.ep_correct = 1e-300;
  st.ep_seen = 64;
  st.ep_elapsed = INFINITY;
  st.total_s = NAN;
  st.rng.s[0] = 1;
  st.rng.s[1] = G_MAXUINT64;
  st.rng.s[2] = 0x0123456789abcdefULL;
  st.rng.s[3] = 0;
  st.options = g_strdup("{\"seed\":3,\"lr\":0.01}");
  char *json = tr_checkpoint_state_to_json(&st);
  char *file = with_state("state.safetensors", json);
  GError *error = NULL;
  TrCheckpointState back = read_state(file, &error);
  g_assert_no_error(error);
  g_assert_cmpint(back.epoch, ==, 7);
  g_assert_cmpint(back.step, ==, 3);
  g_assert_cmpint(back.best_epoch, ==, 5);
  g_assert_cmpmem(&back.best_acc, sizeof(double), &st.best_acc, sizeof(double));
  g_assert_cmpmem(&back.ep_loss, sizeof(double), &st.ep_loss, sizeof(double));
  g_assert_cmpmem(&back.ep_correct, sizeof(double), &st.ep_correct,
                  sizeof(double));
  g_assert_cmpfloat(back.ep_seen, ==, 64);
  g_assert_true(isinf(back.ep_elapsed) && back.ep_elapsed > 0);
  g_assert_true(isnan(back.total_s));
  g_assert_cmpmem(&back.rng, sizeof back.rng, &st.rng, sizeof st.rng);
  g_assert_cmpstr(back.options, ==, st.options);
  tr_checkpoint_state_clear(&back);
  tr_checkpoint_state_clear(&st);
  g_free(json);
  g_free(file);
}

/* A malformed entry: an error naming the file, the entry and what was
 * expected. */
static void test_bad_state(void) {
  static const struct {
    const char *state, *expect;
  } cases[] = {
      {"[1]", "acrnn-train is not a JSON object"},
      {"{\"epoch\": 1}", "has no \"step\""},
      {"{\"epoch\": 1, \"step\": -2}", "acrnn-train.step = -2: expected a "
                                       "whole number"},
      {"{\"epoch\": \"x\"}", "acrnn-train.epoch = \"x\" is not a number"},
      {"{\"epoch\": 1, \"step\": 0, \"best_accuracy\": 0, \"best_epoch\": 0, "
       "\"epoch_loss\": 0, \"epoch_correct\": 0, \"epoch_seen\": 0, "
       "\"epoch_elapsed\": 0, \"elapsed\": 0, \"rng\": \"12\"}",
       "acrnn-train.rng is not 64 hex digits"},
      {"{\"epoch\": 1, \"step\": 0, \"best_accuracy\": 0, \"best_epoch\": 0, "
       "\"epoch_loss\": 0, \"epoch_correct\": 0, \"epoch_seen\": 0, "
       "\"epoch_elapsed\": 0, \"elapsed\": 0, \"rng\": "
       "\"00000000000000000000000000000000000000000000000000000000000000ff\"}",
       "acrnn-train.options is not a JSON object"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    char *file = with_state("bad.safetensors", cases[i].state);
    GError *error = NULL;
    TrCheckpointState st = read_state(file, &error);
    g_assert_nonnull(error);
    g_test_message("%s -> %s", cases[i].state, error->message);
    g_assert_true(g_str_has_prefix(error->message, file));
    g_assert_nonnull(strstr(error->message, cases[i].expect));
    g_clear_error(&error);
    tr_checkpoint_state_clear(&st);
    g_free(file);
  }
}

int main(int argc, char **argv) {
  if (!tt_init(&argc, &argv, "test_checkpoint") || argc < 3) {
    g_printerr("usage: test_checkpoint ACRNN-TRAIN CKPT-0.3.0-HEADER\n");
    return 1;
  }
  header_path = argv[2];
  g_test_add_func("/training/checkpoint/round-trip", test_round_trip);
  g_test_add_func("/training/checkpoint/bad-state", test_bad_state);
  g_test_add_func("/training/checkpoint/0.3.0-state", test_legacy_state);
  g_test_add_func("/training/checkpoint/0.3.0-resume", test_legacy_resume);
  return tt_run_tests();
}
