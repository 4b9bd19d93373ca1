/* test_mpi_equivalence.c - data-parallel training over 2 MPI ranks gives
 * the weights of one process that splits each batch into the same 2 batch
 * norm groups (--bn-groups 2), with an odd batch (uneven shards), with and
 * without dropout and mixup; the ranks hold identical weights after every
 * step (--check-sync), and --check-sync catches ranks that drift apart. */
#include "mpi_helpers.h"
#include <string.h>

static MpiEnv env;

#define COMMON                                                                 \
  "--val-fold", "3", "--epochs", "2", "--batch-size", "5", "--seed", "7",      \
      "--checkpoint-every", "0"

static char *last_of(const char *model) {
  char *stem = g_strndup(model, strlen(model) - strlen(".safetensors"));
  char *p = g_strconcat(stem, ".last.safetensors", NULL);
  g_free(stem);
  return p;
}

static void compare(const char *a, const char *b, double max_rel) {
  double d = mpi_model_rel_diff(a, b);
  g_test_message("%s vs %s: max relative difference %.3g", a, b, d);
  g_assert_cmpfloat(d, <, max_rel);
  char *la = last_of(a), *lb = last_of(b);
  d = mpi_model_rel_diff(la, lb);
  g_test_message("%s vs %s: max relative difference %.3g", la, lb, d);
  g_assert_cmpfloat(d, <, max_rel);
  g_free(la);
  g_free(lb);
}

static void test_plain_sgd(void) {
  const char *opts[] = {COMMON, "--dropout",    "0", "--mixup-alpha",
                        "0",    "--check-sync", NULL};
  char *ranks = mpi_train_ok(&env, 2, "ranks.safetensors", opts);
  const char *grouped_opts[] = {COMMON, "--dropout",   "0", "--mixup-alpha",
                                "0",    "--bn-groups", "2", NULL};
  char *grouped = mpi_train_ok(&env, 0, "grouped.safetensors", grouped_opts);
  compare(ranks, grouped, 1e-5);
  /* one process on whole batches has other batch statistics: different
   * weights (so the comparison above can fail) */
  const char *plain_opts[] = {COMMON,          "--dropout", "0",
                              "--mixup-alpha", "0",         NULL};
  char *plain = mpi_train_ok(&env, 0, "plain.safetensors", plain_opts);
  double d = mpi_model_rel_diff(plain, grouped);
  g_test_message("plain vs --bn-groups 2: %.3g", d);
  g_assert_cmpfloat(d, >, 1e-4);
  g_free(ranks);
  g_free(grouped);
  g_free(plain);
}

/* Mixup pairs over the global batch with the seed's stream, and dropout
 * draws per shard: the same equivalence holds with both on. */
static void test_dropout_mixup(void) {
  const char *opts[] = {COMMON, "--check-sync", NULL};
  char *ranks = mpi_train_ok(&env, 2, "ranks-dm.safetensors", opts);
  const char *grouped_opts[] = {COMMON, "--bn-groups", "2", NULL};
  char *grouped = mpi_train_ok(&env, 0, "grouped-dm.safetensors", grouped_opts);
  compare(ranks, grouped, 1e-5);
  g_free(ranks);
  g_free(grouped);
}

static void test_check_sync(void) {
  char *model = mpi_path(&env, "desync.safetensors");
  const char *opts[] = {COMMON,
                        "--check-sync",
                        "--debug-fault",
                        "desync",
                        "--debug-fault-rank",
                        "1",
                        "--debug-fault-step",
                        "2",
                        "--out",
                        model,
                        NULL};
  char *err = NULL;
  int rc = mpi_train(&env, 2, "train", opts, 60, NULL, &err, NULL);
  g_assert_cmpint(rc, !=, 0);
  g_assert_nonnull(strstr(err, "--check-sync after step 2"));
  g_assert_nonnull(
      strstr(err, "rank 1 does not match rank 0: different weights"));
  g_free(err);
  g_free(model);
}

int main(int argc, char **argv) {
  mpi_env_init(&env, &argc, &argv, 4, 3);
  g_test_add_func("/mpi/equivalence/plain-sgd", test_plain_sgd);
  g_test_add_func("/mpi/equivalence/dropout-mixup", test_dropout_mixup);
  g_test_add_func("/mpi/equivalence/check-sync", test_check_sync);
  return mpi_env_run(&env);
}
