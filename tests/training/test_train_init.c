/* test_train_init.c - --init-std S draws every tensor the network's table
 * initialises from N(0, 0.05) (its init and init_std fields) from N(0, S)
 * instead, and leaves the others (biases, batch norm) as they are: with a
 * learning rate of 1e-30, one epoch moves no parameter by more than 1e-20,
 * so the models of --init-std 0.1 and 0.05 differ by a factor 2 on those
 * tensors and nowhere else. */
#include "train_test_util.h"
#include <math.h>

static const char *data, *folds_csv;

static AcrnnNet *train(const char *name, const char *init_std) {
  char *out = tt_path(name);
  const char *rest[] = {"--data",     data,         "--folds-csv",
                        folds_csv,    "--val-fold", "0",
                        "--epochs",   "1",          "--batch-size",
                        "16",         "--lr",       "1e-30",
                        "--momentum", "0",          "--weight-decay",
                        "0",          "--init-std", init_std,
                        "--out",      out,          NULL};
  tt_run_ok("train", TT_FAST, rest, NULL, NULL, NULL);
  AcrnnModelInfo info;
  AcrnnNet *net = tt_load(out, &info);
  acrnn_model_info_clear(&info);
  g_free(out);
  return net;
}

static void test_init_std(void) {
  AcrnnNet *a = train("a.safetensors", "0.05");
  AcrnnNet *b = train("b.safetensors", "0.1");
  int scaled = 0;
  for (size_t i = 0; i < acrnn_net_n_tensors(a); i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(a, i);
    if (t->kind != ACRNN_TENSOR_PARAM)
      continue;
    const float *x = acrnn_net_tensor_data(a, t);
    const float *y = acrnn_net_tensor_data(b, acrnn_net_tensor(b, i));
    gboolean normal = t->init == ACRNN_INIT_NORMAL;
    scaled += normal;
    for (size_t k = 0; k < t->numel; k++)
      if (fabsf(y[k] - (normal ? 2 * x[k] : x[k])) > 1e-20f)
        g_error("%s[%zu]: %g with --init-std 0.1, %g with 0.05: expected %s",
                t->name, k, y[k], x[k], normal ? "twice" : "the same");
  }
  g_assert_cmpint(scaled, >=, 5); /* conv, GRU, attention, classifier */
  acrnn_net_free(a);
  acrnn_net_free(b);
}

int main(int argc, char **argv) {
  if (!tt_init(&argc, &argv, "test_train_init"))
    return 1;
  data = tt_folder_dataset("data", 2, 2, &folds_csv);
  g_test_add_func("/training/init/std", test_init_std);
  return tt_run_tests();
}
