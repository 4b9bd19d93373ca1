/* fuzz_checkpoint.c - libFuzzer target: a checkpoint given to --resume or
 * found by cv --continue. The input is a whole file; it is read the way the
 * trainer reads a checkpoint, from one open file: the model, the
 * optimizer's velocity, the training state (the acrnn-train entry, or the
 * acrnn-train.* entries of 0.3.0) and its options (turned back into
 * feature parameters). Each must succeed or fail with an error. */
#include "../../training/checkpoint_state.h"
#include "../../training/options.h"
#include "scratch_file.h"
#include <acrnn/acrnn.h>
#include <stdlib.h>

static void check_error(GError *error) {
  if (!error || !error->message || !*error->message)
    abort();
}

static void read_options(const char *json) {
  GError *error = NULL;
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
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_scratch_file(data, size);
  GError *error = NULL;
  AcrnnModelFile *f = acrnn_model_file_open(path, &error);
  if (!f) {
    check_error(error);
    g_clear_error(&error);
    return 0;
  }
  AcrnnModelInfo info;
  AcrnnNet *net = acrnn_model_file_load(f, &info, &error);
  if (net) {
    acrnn_net_free(net);
    acrnn_model_info_clear(&info);
  } else {
    check_error(error);
    g_clear_error(&error);
  }
  size_t numel = 0;
  float *vel =
      acrnn_model_file_read_extra(f, "optimizer.velocity", &numel, &error);
  if (!vel)
    check_error(error);
  g_clear_error(&error);
  g_free(vel);
  TrCheckpointState st;
  tr_checkpoint_state_init(&st);
  if (tr_checkpoint_state_read(f, &st, &error))
    read_options(st.options);
  else
    check_error(error);
  g_clear_error(&error);
  tr_checkpoint_state_clear(&st);
  acrnn_model_file_close(f);
  return 0;
}
