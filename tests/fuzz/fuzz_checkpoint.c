/* fuzz_checkpoint.c - libFuzzer target: a checkpoint given to --resume or
 * found by cv --continue. The input is a whole file; it is read the way the
 * trainer reads a checkpoint: the model, the optimizer's velocity, the
 * training state (acrnn-train.epoch, .rng, ...) and the stored options
 * (acrnn-train.options, turned back into feature parameters). Each must
 * succeed or fail with an error. */
#include "../../training/checkpoint_state.h"
#include "../../training/options.h"
#include "scratch_file.h"
#include <acrnn/acrnn.h>
#include <stdlib.h>

static void check_error(GError *error) {
  if (!error || !error->message || !*error->message)
    abort();
}

static void read_options(const char *path) {
  GError *error = NULL;
  char *json = acrnn_model_read_meta(path, "acrnn-train.options", &error);
  if (!json) {
    check_error(error);
    g_clear_error(&error);
    return;
  }
  TrOptions o;
  tr_options_init(&o);
  if (tr_options_from_json(&o, json, &error)) {
    AcrnnFeatureParams fp;
    if (!tr_options_feature_params(&o, &fp, &error))
      check_error(error);
    char *again = tr_options_to_json(&o);
    g_free(again);
  } else {
    check_error(error);
  }
  g_clear_error(&error);
  tr_options_clear(&o);
  g_free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_scratch_file(data, size);
  GError *error = NULL;
  AcrnnModelInfo info;
  AcrnnNet *net = acrnn_model_load(path, &info, &error);
  if (net) {
    acrnn_net_free(net);
    acrnn_model_info_clear(&info);
  } else {
    check_error(error);
    g_clear_error(&error);
  }
  size_t numel = 0;
  float *vel =
      acrnn_model_read_extra(path, "optimizer.velocity", &numel, &error);
  if (!vel)
    check_error(error);
  g_clear_error(&error);
  g_free(vel);
  TrCheckpointState st;
  if (!tr_checkpoint_state_read(path, &st, &error))
    check_error(error);
  g_clear_error(&error);
  read_options(path);
  return 0;
}
