/* test_mpi_faults.c - a failing rank ends the whole job quickly with a
 * message naming it: a rank killed mid-run (SIGKILL) and a rank whose step
 * fails; the last checkpoint survives the kill and --resume under mpirun
 * ends with the weights of an uninterrupted run. A plain start of the MPI
 * build prints nothing of MPI. */
#include "mpi_helpers.h"
#include <acrnn/acrnn.h>
#include <json-glib/json-glib.h>
#include <string.h>

static MpiEnv env;

/* 9 training clips x 2 segments, batches of 5: 4 steps per epoch */
#define COMMON                                                                 \
  "--val-fold", "3", "--epochs", "3", "--batch-size", "5", "--seed", "3",      \
      "--checkpoint-every", "1"

static void test_plain_start(void) {
  char *model = mpi_path(&env, "plain.safetensors");
  const char *opts[] = {"--val-fold", "3",   "--epochs", "1",
                        "--out",      model, NULL};
  char *out = NULL, *err = NULL;
  g_assert_cmpint(mpi_train(&env, 0, "train", opts, 60, &out, &err, NULL), ==,
                  0);
  /* --quiet: no output at all, in particular nothing from MPI */
  g_assert_cmpstr(out, ==, "");
  g_assert_cmpstr(err, ==, "");
  g_free(out);
  g_free(err);
  g_free(model);
}

static void test_failing_step(void) {
  char *model = mpi_path(&env, "error.safetensors");
  const char *opts[] = {COMMON,  "--debug-fault",
                        "error", "--debug-fault-rank",
                        "1",     "--debug-fault-step",
                        "2",     "--out",
                        model,   NULL};
  char *err = NULL;
  double secs = 0;
  int rc = mpi_train(&env, 2, "train", opts, 60, NULL, &err, &secs);
  g_test_message("failing step: exit %d after %.1f s", rc, secs);
  g_assert_cmpint(rc, !=, 0);
  g_assert_cmpfloat(secs, <, 30);
  g_assert_nonnull(strstr(err, "rank 1 of 2: train: epoch 1 step 2: "
                               "simulated failure"));
  g_free(err);
  g_free(model);
}

/* A number of the training state of the checkpoint path. */
static double state_number(const char *path, const char *name) {
  GError *error = NULL;
  AcrnnModelFile *f = acrnn_model_file_open(path, &error);
  g_assert_no_error(error);
  const char *state = acrnn_model_file_meta(f, "acrnn-train");
  g_assert_nonnull(state);
  JsonNode *n = json_from_string(state, &error);
  g_assert_no_error(error);
  double v = json_object_get_double_member(json_node_get_object(n), name);
  json_node_unref(n);
  acrnn_model_file_close(f);
  return v;
}

static void test_killed_rank(void) {
  char *ref = mpi_path(&env, "ref.safetensors");
  const char *ref_opts[] = {COMMON, "--out", ref, NULL};
  g_assert_cmpint(mpi_train(&env, 2, "train", ref_opts, 60, NULL, NULL, NULL),
                  ==, 0);

  /* rank 1 dies at step 7 (epoch 2): the job ends, the checkpoint of
   * epoch 1 is intact */
  char *model = mpi_path(&env, "killed.safetensors");
  char *ckpt = mpi_path(&env, "killed.ckpt.safetensors");
  const char *opts[] = {COMMON, "--debug-fault",
                        "kill", "--debug-fault-rank",
                        "1",    "--debug-fault-step",
                        "7",    "--out",
                        model,  NULL};
  char *err = NULL;
  double secs = 0;
  int rc = mpi_train(&env, 2, "train", opts, 60, NULL, &err, &secs);
  g_test_message("killed rank: exit %d after %.1f s", rc, secs);
  g_assert_cmpint(rc, !=, 0);
  g_assert_cmpint(rc, !=, 124); /* not ended by the time limit */
  g_assert_cmpfloat(secs, <, 30);
  g_assert_nonnull(strstr(err, "rank 1"));
  g_assert_nonnull(strstr(err, "signal 9"));
  g_free(err);
  AcrnnModelInfo info;
  GError *error = NULL;
  AcrnnNet *net = acrnn_model_load(ckpt, &info, &error);
  g_assert_no_error(error);
  acrnn_net_free(net);
  acrnn_model_info_clear(&info);
  g_assert_cmpfloat(state_number(ckpt, "epoch"), ==, 1);
  g_assert_cmpfloat(state_number(ckpt, "step"), ==, 0);

  /* every rank resumes from it and ends where the uninterrupted run did */
  const char *resume[] = {"--resume", ckpt, NULL};
  g_assert_cmpint(mpi_train(&env, 2, "train", resume, 60, NULL, NULL, NULL), ==,
                  0);
  double d = mpi_model_rel_diff(ref, model);
  g_test_message("resumed vs uninterrupted: %.3g", d);
  g_assert_cmpfloat(d, ==, 0);
  char *log = mpi_path(&env, "killed.log.jsonl"), *text = NULL;
  g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
  char **lines = g_strsplit(g_strstrip(text), "\n", -1);
  g_assert_cmpuint(g_strv_length(lines), ==, 3);
  g_strfreev(lines);
  g_free(text);
  g_free(log);
  g_free(ref);
  g_free(model);
  g_free(ckpt);
}

int main(int argc, char **argv) {
  mpi_env_init(&env, &argc, &argv, 4, 3);
  g_test_add_func("/mpi/faults/plain-start", test_plain_start);
  g_test_add_func("/mpi/faults/failing-step", test_failing_step);
  g_test_add_func("/mpi/faults/killed-rank", test_killed_rank);
  return mpi_env_run(&env);
}
