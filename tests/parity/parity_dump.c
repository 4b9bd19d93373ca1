/* parity_dump.c - runs the C network on data written by the PyTorch parity
 * test (test_parity.py) and dumps what the test compares.
 *
 *   parity_dump MODEL INPUT.bin TARGETS.bin OUT_DIR [--train]
 *     INPUT.bin: float32 [B][2][bands][frames]; TARGETS.bin: float32 [B][K].
 *     Writes OUT_DIR/logits.bin (inference forward, [B][K]) and, when the
 *     model has attention, attention.bin. With --train it then runs a
 *     training forward with dropout 0 (batch statistics) and writes
 *     logits_train.bin, loss.txt, grads.safetensors (d loss / d parameter,
 *     under the parameter names) and buffers.safetensors (the batch norm
 *     running statistics after that forward).
 *
 *   With ACRNN_PARITY_PRECISION=bf16 in the environment the network runs
 *   in bf16 (acrnn_net_set_precision), for test_parity_bf16.py.
 *
 *   parity_dump --new ATTENTION N_CLASSES SEED OUT.safetensors
 *     Writes a model made by the C code (random weights, biases, batch norm
 *     parameters and running statistics) with acrnn_model_save().
 */
#include <acrnn/model.h>
#include <acrnn/network.h>
#include <acrnn/rng.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes the tensors of one kind as an F32 safetensors file whose data come
 * from block (the gradient block for parameters, the buffer block for
 * buffers). */
static gboolean write_block(const char *path, AcrnnNet *net,
                            AcrnnTensorKind kind, const float *block,
                            GError **error) {
  GString *hdr = g_string_new("{");
  size_t offset = 0;
  size_t n = acrnn_net_n_tensors(net);
  for (size_t i = 0; i < n; i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(net, i);
    if (t->kind != kind)
      continue;
    if (hdr->len > 1)
      g_string_append_c(hdr, ',');
    g_string_append_printf(hdr, "\"%s\":{\"dtype\":\"F32\",\"shape\":[",
                           t->name);
    for (int d = 0; d < t->ndim; d++)
      g_string_append_printf(hdr, "%s%d", d ? "," : "", t->shape[d]);
    g_string_append_printf(hdr, "],\"data_offsets\":[%zu,%zu]}", offset,
                           offset + t->numel * sizeof(float));
    offset += t->numel * sizeof(float);
  }
  g_string_append_c(hdr, '}');
  while (hdr->len % 8)
    g_string_append_c(hdr, ' ');

  GByteArray *out = g_byte_array_new();
  guint64 len = GUINT64_TO_LE((guint64)hdr->len);
  g_byte_array_append(out, (const guint8 *)&len, 8);
  g_byte_array_append(out, (const guint8 *)hdr->str, hdr->len);
  for (size_t i = 0; i < n; i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(net, i);
    if (t->kind == kind)
      g_byte_array_append(out, (const guint8 *)(block + t->offset),
                          t->numel * sizeof(float));
  }
  gboolean ok = g_file_set_contents(path, (const char *)out->data,
                                    (gssize)out->len, error);
  g_byte_array_unref(out);
  g_string_free(hdr, TRUE);
  return ok;
}

static gboolean write_floats(const char *dir, const char *name,
                             const float *data, size_t n, GError **error) {
  char *path = g_build_filename(dir, name, NULL);
  gboolean ok = g_file_set_contents(path, (const char *)data,
                                    (gssize)(n * sizeof(float)), error);
  g_free(path);
  return ok;
}

/* Reads a float32 file whose size is a positive multiple of row floats;
 * returns the number of rows, 0 on error. */
static size_t read_rows(const char *path, size_t row, float **data,
                        GError **error) {
  char *raw = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &raw, &len, error))
    return 0;
  if (len == 0 || len % (row * sizeof(float)) != 0) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "%s: %zu bytes is not a whole number of rows of %zu float32",
                path, (size_t)len, row);
    g_free(raw);
    return 0;
  }
  *data = (float *)raw; /* g_malloc memory is aligned for floats */
  return len / (row * sizeof(float));
}

static gboolean dump_attention(const AcrnnNet *net, const char *dir,
                               const char *name, int batch, GError **error) {
  int length = 0;
  const float *w = acrnn_net_attention_weights(net, &length);
  if (!w)
    return TRUE;
  return write_floats(dir, name, w, (size_t)batch * (size_t)length, error);
}

static gboolean run(const char *model, const char *input, const char *targets,
                    const char *dir, gboolean train, GError **error) {
  AcrnnModelInfo info;
  AcrnnNet *net = acrnn_model_load(model, &info, error);
  if (!net)
    return FALSE;
  if (g_strcmp0(g_getenv("ACRNN_PARITY_PRECISION"), "bf16") == 0)
    acrnn_net_set_precision(net, ACRNN_PRECISION_BF16);
  const AcrnnNetConfig *cfg = acrnn_net_config(net);
  size_t per = 2 * (size_t)cfg->bands * (size_t)cfg->frames;
  size_t k = (size_t)cfg->n_classes;
  float *x = NULL, *t = NULL;
  gboolean ok = FALSE;
  size_t batch = read_rows(input, per, &x, error);
  if (!batch)
    goto out;
  size_t tb = read_rows(targets, k, &t, error);
  if (!tb)
    goto out;
  if (tb != batch) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "%s has %zu rows of targets but %s has %zu inputs", targets, tb,
                input, batch);
    goto out;
  }
  if (g_mkdir_with_parents(dir, 0755) != 0) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                "cannot create the output folder %s", dir);
    goto out;
  }

  const float *logits = acrnn_net_forward(net, x, (int)batch, FALSE, NULL);
  if (!write_floats(dir, "logits.bin", logits, batch * k, error) ||
      !dump_attention(net, dir, "attention.bin", (int)batch, error))
    goto out;

  if (train) {
    AcrnnRng rng;
    acrnn_rng_seed(&rng, 1);
    acrnn_net_set_dropout(net, 0.0f);
    acrnn_net_zero_grad(net);
    logits = acrnn_net_forward(net, x, (int)batch, TRUE, &rng);
    if (!write_floats(dir, "logits_train.bin", logits, batch * k, error) ||
        !dump_attention(net, dir, "attention_train.bin", (int)batch, error))
      goto out;
    float loss = acrnn_net_loss(net, t);
    acrnn_net_backward(net);
    char *text = g_strdup_printf("%.9g\n", (double)loss);
    char *path = g_build_filename(dir, "loss.txt", NULL);
    gboolean wrote = g_file_set_contents(path, text, -1, error);
    g_free(path);
    g_free(text);
    if (!wrote)
      goto out;
    char *grads = g_build_filename(dir, "grads.safetensors", NULL);
    char *bufs = g_build_filename(dir, "buffers.safetensors", NULL);
    ok = write_block(grads, net, ACRNN_TENSOR_PARAM, acrnn_net_grads(net),
                     error) &&
         write_block(bufs, net, ACRNN_TENSOR_BUFFER, acrnn_net_buffers(net),
                     error);
    g_free(grads);
    g_free(bufs);
  } else {
    ok = TRUE;
  }
out:
  g_free(x);
  g_free(t);
  acrnn_net_free(net);
  acrnn_model_info_clear(&info);
  return ok;
}

/* Random values for every tensor, so that a saved model is not the
 * initialisation's zeros and ones. */
static void randomise(AcrnnNet *net, guint64 seed) {
  AcrnnRng rng;
  acrnn_rng_seed(&rng, seed ^ 0x9e3779b97f4a7c15ull);
  acrnn_net_init_random(net, seed);
  for (size_t i = 0; i < acrnn_net_n_tensors(net); i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(net, i);
    float *d = acrnn_net_tensor_data(net, t);
    gboolean bn = g_str_has_prefix(t->name, "bn.");
    for (size_t j = 0; j < t->numel; j++) {
      if (g_str_has_suffix(t->name, "running_mean"))
        d[j] = (float)(0.1 * acrnn_rng_normal(&rng));
      else if (g_str_has_suffix(t->name, "running_var"))
        d[j] = 0.5f + acrnn_rng_uniform(&rng);
      else if (bn && g_str_has_suffix(t->name, ".weight"))
        d[j] = 0.5f + acrnn_rng_uniform(&rng);
      else if (strstr(t->name, "bias"))
        d[j] = (float)(0.05 * acrnn_rng_normal(&rng));
    }
  }
}

static gboolean make_model(const char *attention, const char *classes,
                           const char *seed, const char *path, GError **error) {
  AcrnnModelInfo info;
  AcrnnNetConfig cfg;
  AcrnnAttention att;
  int n = atoi(classes);
  if (n < 1 || n > 1000) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "N_CLASSES %s: expected 1..1000", classes);
    return FALSE;
  }
  if (!acrnn_attention_parse(attention, &att, error))
    return FALSE;
  acrnn_model_info_init(&info);
  info.attention = att;
  info.n_labels = n;
  info.labels = g_new0(char *, n + 1);
  for (int i = 0; i < n; i++)
    info.labels[i] = g_strdup_printf("class%d", i);
  acrnn_model_info_net_config(&info, &cfg);
  AcrnnNet *net = acrnn_net_new(&cfg, error);
  gboolean ok = FALSE;
  if (net) {
    randomise(net, g_ascii_strtoull(seed, NULL, 10));
    ok = acrnn_model_save(path, net, &info, error);
    acrnn_net_free(net);
  }
  acrnn_model_info_clear(&info);
  return ok;
}

int main(int argc, char **argv) {
  GError *error = NULL;
  gboolean ok;
  if (argc == 6 && strcmp(argv[1], "--new") == 0) {
    ok = make_model(argv[2], argv[3], argv[4], argv[5], &error);
  } else if (argc == 5 || (argc == 6 && strcmp(argv[5], "--train") == 0)) {
    ok = run(argv[1], argv[2], argv[3], argv[4], argc == 6, &error);
  } else {
    fprintf(stderr,
            "usage: %s MODEL INPUT.bin TARGETS.bin OUT_DIR [--train]\n"
            "       %s --new ATTENTION N_CLASSES SEED OUT.safetensors\n",
            argv[0], argv[0]);
    return 2;
  }
  if (!ok) {
    fprintf(stderr, "parity_dump: %s\n", error ? error->message : "failed");
    g_clear_error(&error);
    return 1;
  }
  return 0;
}
