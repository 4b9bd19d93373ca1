/* test_options.c - acrnn-train's option table, linked from the trainer's
 * library: the defaults are the library's own (features, segments,
 * attention, optimizer) with float defaults read as the decimals they were
 * written as; the parser refuses stray arguments and gives export its short
 * options; the dataset loader and the augmentation get their own small
 * configurations. */
#include "options.h"
#include <acrnn/acrnn.h>
#include <string.h>

static void test_library_defaults(void) {
  TrOptions o;
  tr_options_init(&o);
  AcrnnFeatureParams fp;
  acrnn_feature_params_init(&fp);
  g_assert_cmpint(o.sample_rate, ==, fp.sample_rate);
  g_assert_cmpint(o.n_fft, ==, fp.n_fft);
  g_assert_cmpint(o.hop, ==, fp.hop);
  g_assert_cmpint(o.bands, ==, fp.bands);
  g_assert_cmpfloat(o.fmin, ==, fp.fmin);
  g_assert_cmpstr(o.filterbank, ==, acrnn_filterbank_to_string(fp.filterbank));
  /* --fmax 0 is sample-rate/2, the library's default for any rate */
  AcrnnFeatureParams got;
  g_assert_true(tr_options_feature_params(&o, &got, NULL));
  g_assert_cmpfloat(got.fmax, ==, fp.fmax);
  AcrnnModelInfo info;
  acrnn_model_info_init(&info);
  g_assert_cmpint(o.segment_frames, ==, info.segment_frames);
  g_assert_cmpint(o.segment_hop, ==, info.segment_hop);
  char att[8];
  g_assert_cmpstr(o.attention, ==,
                  acrnn_attention_to_string(&info.attention, att));
  acrnn_model_info_clear(&info);
  AcrnnSgdParams sgd;
  acrnn_sgd_params_init(&sgd);
  g_assert_cmpint(o.lr_step, ==, sgd.step_epochs);
  g_assert_cmpint(!o.no_nesterov, ==, sgd.nesterov);
  /* the same floats, as the decimals of the recipe (stored as such in
   * checkpoints and compared by cv --continue) */
  g_assert_true((float)o.lr == sgd.lr && o.lr == 0.01);
  g_assert_true((float)o.momentum == sgd.momentum && o.momentum == 0.9);
  g_assert_true((float)o.weight_decay == sgd.weight_decay &&
                o.weight_decay == 1e-4);
  g_assert_true((float)o.lr_gamma == sgd.step_gamma && o.lr_gamma == 0.1);
  char *json = tr_options_to_json(&o);
  g_assert_nonnull(strstr(json, "\"lr\":0.01,"));
  g_free(json);
  tr_options_clear(&o);
}

/* Parses the NULL-ended words for cmd; the error in *error. */
static gboolean parse(TrOptions *o, int cmd, const char *const *words,
                      GError **error) {
  char **argv = g_strdupv((char **)words);
  char **owned = g_memdup2(argv, sizeof(char *) * (g_strv_length(argv) + 1));
  int argc = (int)g_strv_length(argv);
  gboolean ok = tr_options_parse(o, cmd, "test", &argc, &argv, error);
  g_strfreev(owned);
  g_free(argv);
  return ok;
}

static void test_parse(void) {
  TrOptions o;
  tr_options_init(&o);
  GError *error = NULL;
  const char *stray[] = {"train", "--epochs", "3", "extra", NULL};
  g_assert_false(parse(&o, TR_CMD_TRAIN, stray, &error));
  g_assert_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
  g_assert_cmpstr(error->message, ==, "unexpected argument \"extra\"");
  g_clear_error(&error);
  const char *export[] = {"export",
                          "-m",
                          "in.safetensors",
                          "-o",
                          "out.safetensors",
                          "--dtype",
                          "bf16",
                          "-q",
                          NULL};
  g_assert_true(parse(&o, TR_CMD_EXPORT, export, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(o.model, ==, "in.safetensors");
  g_assert_cmpstr(o.out, ==, "out.safetensors");
  g_assert_cmpstr(o.dtype, ==, "bf16");
  g_assert_true(o.quiet);
  /* export's options are not train's, nor the reverse */
  const char *lr[] = {"export", "--lr", "0.1", NULL};
  g_assert_false(parse(&o, TR_CMD_EXPORT, lr, &error));
  g_assert_error(error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION);
  g_clear_error(&error);
  const char *dtype[] = {"train", "--dtype", "f16", NULL};
  g_assert_false(parse(&o, TR_CMD_TRAIN, dtype, &error));
  g_assert_error(error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION);
  g_clear_error(&error);
  tr_options_clear(&o);
}

static void test_configs(void) {
  TrOptions o;
  tr_options_init(&o);
  const char *words[] = {"cv",
                         "--data",
                         "/d",
                         "--esc10",
                         "--split-by-source",
                         "4",
                         "--seed",
                         "9",
                         "--stretch-min",
                         "0.9",
                         "--pitch-range",
                         "2",
                         NULL};
  g_assert_true(parse(&o, TR_CMD_CV, words, NULL));
  TrDatasetConfig dc = tr_options_dataset(&o);
  g_assert_cmpstr(dc.data, ==, "/d");
  g_assert_true(dc.esc10);
  g_assert_null(dc.folds_csv);
  g_assert_cmpint(dc.split_by_source, ==, 4);
  g_assert_cmpint(dc.random_folds, ==, 5);
  g_assert_cmpint(dc.seed, ==, 9);
  TrAugmentRange ar = tr_options_augment(&o);
  g_assert_cmpfloat(ar.stretch_min, ==, 0.9);
  g_assert_cmpfloat(ar.stretch_max, ==, 1.3);
  g_assert_cmpfloat(ar.pitch_range, ==, 2.0);
  tr_options_clear(&o);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/training/options/library-defaults", test_library_defaults);
  g_test_add_func("/training/options/parse", test_parse);
  g_test_add_func("/training/options/configs", test_configs);
  return g_test_run();
}
