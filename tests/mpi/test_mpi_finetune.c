/* test_mpi_finetune.c - fine-tuning over MPI: 3 ranks training from a model
 * (--init-from) with its conv blocks frozen (--freeze-conv) give the weights
 * of one process with --bn-groups 3, the ranks stay in step
 * (--check-sync), and every conv and batch norm tensor is the model's bit
 * for bit: 3 ranks average 3 equal running statistics, which can round. */
#include "mpi_helpers.h"
#include <acrnn/acrnn.h>
#include <string.h>

static MpiEnv env;

#define COMMON                                                                 \
  "--val-fold", "3", "--epochs", "2", "--batch-size", "5", "--seed", "7",      \
      "--checkpoint-every", "0", "--dropout", "0", "--mixup-alpha", "0"

/* conv.* and bn.* of model equal base's bit for bit. */
static void assert_frozen(const char *base, const char *model) {
  AcrnnModelInfo ib, im;
  GError *error = NULL;
  AcrnnNet *b = acrnn_model_load(base, &ib, &error);
  g_assert_no_error(error);
  AcrnnNet *m = acrnn_model_load(model, &im, &error);
  g_assert_no_error(error);
  int n = 0;
  for (size_t i = 0; i < acrnn_net_n_tensors(b); i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(b, i);
    if (!g_str_has_prefix(t->name, "conv.") &&
        !g_str_has_prefix(t->name, "bn."))
      continue;
    const AcrnnTensorInfo *u = acrnn_net_find_tensor(m, t->name);
    g_assert_cmpmem(acrnn_net_tensor_data(b, t), t->numel * sizeof(float),
                    acrnn_net_tensor_data(m, u), u->numel * sizeof(float));
    n++;
  }
  g_assert_cmpint(n, ==, 48);
  acrnn_net_free(b);
  acrnn_net_free(m);
  acrnn_model_info_clear(&ib);
  acrnn_model_info_clear(&im);
}

static void test_frozen_ranks(void) {
  const char *base_opts[] = {"--val-fold", "0", "--epochs", "2",
                             "--seed",     "5", NULL};
  char *base = mpi_train_ok(&env, 0, "base.safetensors", base_opts);
  const char *opts[] = {COMMON,          "--init-from",  base,
                        "--freeze-conv", "--check-sync", NULL};
  char *ranks = mpi_train_ok(&env, 3, "ranks.safetensors", opts);
  const char *grouped_opts[] = {
      COMMON, "--init-from", base, "--freeze-conv", "--bn-groups", "3", NULL};
  char *grouped = mpi_train_ok(&env, 0, "grouped.safetensors", grouped_opts);
  char *ranks_last = mpi_path(&env, "ranks.last.safetensors");
  char *grouped_last = mpi_path(&env, "grouped.last.safetensors");
  double d = mpi_model_rel_diff(ranks_last, grouped_last);
  g_test_message("3 ranks vs --bn-groups 3: max relative difference %.3g", d);
  g_assert_cmpfloat(d, <, 1e-5);
  assert_frozen(base, ranks_last);
  assert_frozen(base, grouped_last);
  /* the rest trained: the weights are not base's */
  g_assert_cmpfloat(mpi_model_rel_diff(base, ranks_last), >, 1e-4);
  g_free(base);
  g_free(ranks);
  g_free(grouped);
  g_free(ranks_last);
  g_free(grouped_last);
}

int main(int argc, char **argv) {
  mpi_env_init(&env, &argc, &argv, 3, 3);
  g_test_add_func("/mpi/finetune/frozen-ranks", test_frozen_ranks);
  return mpi_env_run(&env);
}
