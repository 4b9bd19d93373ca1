/* cmd_export.c - "acrnn-train export": rewrites a model (or the network of
 * a training checkpoint) as a plain model file in F32, F16 or BF16, written
 * atomically. */
#include "commands.h"
#include "options.h"
#include "reporter.h"
#include <acrnn/acrnn.h>
#include <stdio.h>
#include <string.h>

static const char summary[] =
    "Loads the model IN (a model file or a training checkpoint, whose\n"
    "optimizer state is dropped) and writes its network and metadata to OUT\n"
    "with every tensor in the chosen dtype:\n"
    "  f32   4 bytes a value, exact (the default)\n"
    "  f16   IEEE half: half the size, 11 significant bits; refused when a\n"
    "        value is too large for it (beyond 65504, rounding to Inf)\n"
    "  bf16  bfloat16: half the size, 8 significant bits, F32's range\n"
    "Values are rounded to nearest (ties to even). OUT is replaced\n"
    "atomically (written to a temporary file next to it, then renamed), so\n"
    "it may be IN itself. Every acrnn tool loads all three dtypes.";

static gboolean parse_dtype(const char *s, AcrnnModelDtype *out,
                            GError **error) {
  if (s == NULL || g_ascii_strcasecmp(s, "f32") == 0)
    *out = ACRNN_MODEL_DTYPE_F32;
  else if (g_ascii_strcasecmp(s, "f16") == 0)
    *out = ACRNN_MODEL_DTYPE_F16;
  else if (g_ascii_strcasecmp(s, "bf16") == 0)
    *out = ACRNN_MODEL_DTYPE_BF16;
  else {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "--dtype \"%s\": expected f32, f16 or bf16", s);
    return FALSE;
  }
  return TRUE;
}

static const char *dtype_name(AcrnnModelDtype d) {
  return d == ACRNN_MODEL_DTYPE_F16    ? "F16"
         : d == ACRNN_MODEL_DTYPE_BF16 ? "BF16"
                                       : "F32";
}

int tr_cmd_export(int argc, char **argv) {
  TrOptions o;
  tr_options_init(&o);
  GError *error = NULL;
  AcrnnModelInfo info;
  acrnn_model_info_init(&info);
  AcrnnNet *net = NULL;
  AcrnnModelDtype dtype = ACRNN_MODEL_DTYPE_F32;
  int rc = 1;
  gboolean ok =
      tr_options_parse(&o, TR_CMD_EXPORT, summary, &argc, &argv, &error);
  if (ok && o.model == NULL) {
    g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "no input: give --model IN.safetensors");
    ok = FALSE;
  }
  if (ok && o.out == NULL) {
    g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "no output: give --out OUT.safetensors");
    ok = FALSE;
  }
  if (ok)
    ok = parse_dtype(o.dtype, &dtype, &error);
  if (ok) {
    acrnn_model_info_clear(&info);
    ok = (net = acrnn_model_load(o.model, &info, &error)) != NULL;
  }
  if (ok)
    ok = acrnn_model_save_as(o.out, net, &info, dtype, &error);
  if (ok) {
    if (!o.quiet)
      printf("wrote %s (%s, %zu values, %d labels)\n", o.out, dtype_name(dtype),
             acrnn_net_n_params(net) + acrnn_net_n_buffers(net), info.n_labels);
    rc = 0;
  } else {
    tr_report_error("export", error);
    g_clear_error(&error);
  }
  acrnn_net_free(net);
  acrnn_model_info_clear(&info);
  tr_options_clear(&o);
  return rc;
}
