/* fuzz_model.c - libFuzzer target: a model file from anywhere. The input is
 * a whole file: the safetensors header length and JSON, the tensor table,
 * the acrnn metadata JSON and the tensor data (F32, F16, BF16 and the other
 * dtypes). It goes through the generic reader (every tensor converted to
 * floats), the metadata parser and the model loader; each must either
 * succeed or fail with an error that names the file. */
#include "acrnn/model.h"
#include "model_meta.h"
#include "safetensors.h"
#include "scratch_file.h"
#include <stdlib.h>
#include <string.h>

/* Largest tensor converted (the whole input is smaller anyway). */
#define MAX_NUMEL (1u << 22)

static void check_error(const char *path, GError *error) {
  if (!error || !error->message || !strstr(error->message, path))
    abort(); /* a failure must say why, naming the file */
}

static void read_tensors(AcrnnStFile *f, const char *path) {
  for (size_t i = 0; i < acrnn_st_n_tensors(f); i++) {
    const AcrnnStTensor *t = acrnn_st_tensor(f, i);
    if (t->numel > MAX_NUMEL || t->end - t->begin > 4 * (size_t)MAX_NUMEL)
      continue;
    GError *error = NULL;
    void *raw = g_malloc(t->end - t->begin + 1);
    if (!acrnn_st_read_raw(f, t, raw, &error))
      check_error(path, error);
    g_clear_error(&error);
    g_free(raw);
    float *x = g_new(float, t->numel + 1);
    if (!acrnn_st_read_float(f, t, x, &error))
      check_error(path, error);
    g_clear_error(&error);
    g_free(x);
  }
}

static void parse_metadata(AcrnnStFile *f, const char *path) {
  guint n = 0;
  const char **keys = acrnn_st_meta_keys(f, &n);
  for (guint i = 0; i < n; i++)
    if (!acrnn_st_meta(f, keys[i]))
      abort(); /* every listed key has a value */
  g_free(keys);
  const char *json = acrnn_st_meta(f, "acrnn");
  if (!json)
    return;
  AcrnnModelInfo info;
  acrnn_model_info_init(&info);
  GError *error = NULL;
  if (acrnn_model_info_from_json(path, json, &info, &error)) {
    if (!acrnn_model_info_validate(path, &info, &error))
      check_error(path, error);
    char *again = acrnn_model_info_to_json(&info);
    g_free(again);
  } else {
    check_error(path, error);
  }
  g_clear_error(&error);
  acrnn_model_info_clear(&info);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_scratch_file(data, size);
  GError *error = NULL;
  AcrnnStFile *f = acrnn_st_open(path, &error);
  if (f) {
    read_tensors(f, path);
    parse_metadata(f, path);
    acrnn_st_close(f);
  } else {
    check_error(path, error);
    g_clear_error(&error);
  }
  AcrnnModelInfo info;
  AcrnnNet *net = acrnn_model_load(path, &info, &error);
  if (net) {
    acrnn_net_free(net);
    acrnn_model_info_clear(&info);
  } else {
    check_error(path, error);
    g_clear_error(&error);
  }
  return 0;
}
