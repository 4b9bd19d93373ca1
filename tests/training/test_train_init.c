/* test_train_init.c - --init-std S draws every tensor the network's table
 * initialises from N(0, 0.05) (its init and init_std fields) from N(0, S)
 * instead, and leaves the others (biases, batch norm) as they are: with a
 * learning rate of 1e-30, one epoch moves no parameter by more than 1e-20,
 * so the models of --init-std 0.1 and 0.05 differ by a factor 2 on those
 * tensors and nowhere else. */
#include "synth_dataset.h"
#include <acrnn/acrnn.h>
#include <math.h>
#include <string.h>

static const char *train_exe;
static char *tmp, *data, *folds_csv;

static AcrnnNet *train(const char *name, const char *init_std) {
  char *out = g_build_filename(tmp, name, NULL);
  GPtrArray *a = g_ptr_array_new();
  g_ptr_array_add(a, (char *)train_exe);
  g_ptr_array_add(a, "train");
  for (int i = 0; synth_fast_options[i]; i++)
    g_ptr_array_add(a, (char *)synth_fast_options[i]);
  const char *rest[] = {"--data",     data,         "--folds-csv",
                        folds_csv,    "--val-fold", "0",
                        "--epochs",   "1",          "--batch-size",
                        "16",         "--lr",       "1e-30",
                        "--momentum", "0",          "--weight-decay",
                        "0",          "--init-std", init_std,
                        "--out",      out,          NULL};
  for (int i = 0; rest[i]; i++)
    g_ptr_array_add(a, (char *)rest[i]);
  g_ptr_array_add(a, NULL);
  char *err = NULL;
  int rc = synth_run((char **)a->pdata, NULL, &err);
  if (rc != 0)
    g_error("acrnn-train --init-std %s failed (%d): %s", init_std, rc, err);
  g_free(err);
  g_ptr_array_unref(a);
  GError *error = NULL;
  AcrnnModelInfo info;
  AcrnnNet *net = acrnn_model_load(out, &info, &error);
  g_assert_no_error(error);
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
  g_test_init(&argc, &argv, NULL);
  train_exe = synth_train_exe(argc, argv, "test_train_init");
  if (!train_exe)
    return 1;
  tmp = g_dir_make_tmp("acrnn-train-init-XXXXXX", NULL);
  data = g_build_filename(tmp, "data", NULL);
  synth_folder_dataset(data, 2, 2);
  folds_csv = g_build_filename(data, "folds.csv", NULL);
  g_test_add_func("/training/init/std", test_init_std);
  int rc = g_test_run();
  if (rc == 0)
    synth_remove_tree(tmp);
  g_free(folds_csv);
  g_free(data);
  g_free(tmp);
  return rc;
}
