/* test_train_ensemble.c - acrnn-train eval --model A --model B: each
 * clip's probabilities are the mean of the two models' clip probabilities
 * (checked against that mean computed here, clip by clip, on synthetic
 * clips), the accuracy is the share of clips whose mean's top class is
 * their label; one --model is the single model's evaluation; a model with
 * other labels or other features is refused, naming its file. */
#include "dataset.h"
#include "feature_cache.h"
#include "options.h"
#include "predict.h"
#include "train_test_util.h"
#include <math.h>
#include <string.h>

static const char *data;
static TrDataset *ds;

/* A model of the synthetic features (synth_fast_options) with random
 * weights from seed, the given labels, and fmin (50: the default). */
static void write_model(const char *file, guint64 seed, char **labels,
                        double fmin) {
  AcrnnModelInfo info;
  acrnn_model_info_init(&info);
  acrnn_feature_params_init(&info.features);
  info.features.sample_rate = SYNTH_RATE;
  info.features.n_fft = 256;
  info.features.hop = 128;
  info.features.bands = 32;
  info.features.fmin = fmin;
  info.features.fmax = SYNTH_RATE / 2.0;
  info.segment_frames = 32;
  info.segment_hop = 16;
  info.labels = g_strdupv(labels);
  info.n_labels = (int)g_strv_length(labels);
  /* a normalisation that differs between the models */
  info.mean[0] = -10.0f + (float)seed;
  info.mean[1] = 0.0f;
  info.std[0] = 4.0f;
  info.std[1] = 0.5f + 0.1f * (float)seed;
  AcrnnNetConfig cfg;
  acrnn_model_info_net_config(&info, &cfg);
  GError *error = NULL;
  AcrnnNet *net = acrnn_net_new(&cfg, &error);
  g_assert_no_error(error);
  acrnn_net_init_random(net, seed);
  g_assert_true(acrnn_model_save(file, net, &info, &error));
  g_assert_no_error(error);
  acrnn_net_free(net);
  acrnn_model_info_clear(&info);
}

/* acrnn-train eval with the models (NULL-ended) and --report prefix. */
static int eval(const char *const *models, const char *prefix, char **err) {
  const char *base[] = {"--data", data, "--report", prefix, NULL};
  GPtrArray *m = g_ptr_array_new();
  for (int i = 0; models[i]; i++) {
    g_ptr_array_add(m, "--model");
    g_ptr_array_add(m, (char *)models[i]);
  }
  g_ptr_array_add(m, NULL);
  int rc =
      tt_run("eval", TT_FAST, base, (const char *const *)m->pdata, NULL, err);
  g_ptr_array_unref(m);
  return rc;
}

/* The report prefix.json (json_object_unref). */
static JsonObject *read_report(const char *prefix) {
  char *json = g_strconcat(prefix, ".json", NULL);
  JsonObject *r = tt_json_file(json);
  g_assert_nonnull(r);
  g_free(json);
  return r;
}

static void test_mean_of_two(void) {
  char *a = tt_path("a.safetensors"), *b = tt_path("b.safetensors");
  write_model(a, 1, ds->labels, 50);
  write_model(b, 2, ds->labels, 50);
  char *prefix = tt_path("ab"), *err = NULL;
  const char *models[] = {a, b, NULL};
  g_assert_cmpint(eval(models, prefix, &err), ==, 0);
  g_free(err);
  JsonObject *r = read_report(prefix);
  JsonArray *ens = json_object_get_array_member(r, "ensemble");
  g_assert_cmpuint(json_array_get_length(ens), ==, 2);
  g_assert_cmpstr(json_array_get_string_element(ens, 1), ==, b);
  JsonArray *preds = json_object_get_array_member(r, "predictions");
  g_assert_cmpuint(json_array_get_length(preds), ==, ds->n_clips);

  /* the same, by hand: each model's clip probabilities, then their mean */
  AcrnnModelInfo ia, ib;
  GError *error = NULL;
  AcrnnNet *na = tt_load(a, &ia), *nb = tt_load(b, &ib);
  int C = ds->n_labels, correct = 0, differ = 0;
  float *pa = g_new(float, C), *pb = g_new(float, C);
  for (guint i = 0; i < json_array_get_length(preds); i++) {
    JsonObject *pr = json_array_get_object_element(preds, i);
    const char *file = json_object_get_string_member(pr, "file");
    const TrClip *clip = NULL;
    for (size_t c = 0; c < ds->n_clips; c++)
      if (strcmp(ds->clips[c].name, file) == 0)
        clip = &ds->clips[c];
    g_assert_nonnull(clip);
    size_t nf = 0;
    float *f =
        tr_features_for_file(clip->path, &ia.features, NULL, &nf, NULL, &error);
    g_assert_no_error(error);
    int ka = tr_predict_clip(na, &ia, f, nf, 64, pa);
    int kb = tr_predict_clip(nb, &ib, f, nf, 64, pb);
    differ += ka != kb;
    int best = 0;
    for (int k = 1; k < C; k++)
      if ((double)pa[k] + pb[k] > (double)pa[best] + pb[best])
        best = k;
    g_assert_cmpstr(json_object_get_string_member(pr, "predicted"), ==,
                    ds->labels[best]);
    double conf = ((double)pa[best] + pb[best]) / 2;
    g_assert_cmpfloat(
        fabs(json_object_get_double_member(pr, "confidence") - conf), <, 1e-6);
    correct += best == clip->label;
    g_free(f);
  }
  g_assert_cmpfloat(json_object_get_double_member(r, "accuracy"), ==,
                    (double)correct / ds->n_clips);
  g_test_message("%d of %zu clips where the models disagree", differ,
                 ds->n_clips);
  g_free(pa);
  g_free(pb);
  acrnn_net_free(na);
  acrnn_net_free(nb);
  acrnn_model_info_clear(&ia);
  acrnn_model_info_clear(&ib);
  json_object_unref(r);

  /* one model: no ensemble, its own figures */
  char *prefix_a = tt_path("a-only");
  const char *one[] = {a, NULL};
  g_assert_cmpint(eval(one, prefix_a, NULL), ==, 0);
  r = read_report(prefix_a);
  g_assert_false(json_object_has_member(r, "ensemble"));
  g_assert_cmpstr(json_object_get_string_member(r, "model"), ==, a);
  json_object_unref(r);
  g_free(prefix_a);
  g_free(prefix);
  g_free(a);
  g_free(b);
}

static void test_refused(void) {
  char *a = tt_path("a.safetensors"),
       *other = tt_path("other-labels.safetensors"),
       *fewer = tt_path("fewer-labels.safetensors"),
       *feat = tt_path("other-features.safetensors");
  write_model(a, 1, ds->labels, 50);
  /* the same names in another order */
  char **swapped = g_strdupv(ds->labels);
  char *t = swapped[0];
  swapped[0] = swapped[1];
  swapped[1] = t;
  write_model(other, 3, swapped, 50);
  g_strfreev(swapped);
  char *two[] = {ds->labels[0], ds->labels[1], NULL};
  write_model(fewer, 4, two, 50);
  write_model(feat, 5, ds->labels, 100);
  struct {
    const char *model, *message;
  } bad[] = {
      {other, "label 0 is"},
      {fewer, "it has 2 labels, not 3"},
      {feat, "its features ("},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    char *prefix = tt_path("bad"), *err = NULL;
    const char *models[] = {a, bad[i].model, NULL};
    g_assert_cmpint(eval(models, prefix, &err), ==, 1);
    char *named = g_strdup_printf("--model %s: ", bad[i].model);
    if (!strstr(err, named) || !strstr(err, bad[i].message))
      g_error("expected \"%s\" and \"%s\" in: %s", named, bad[i].message, err);
    g_free(named);
    g_free(err);
    char *json = g_strconcat(prefix, ".json", NULL);
    g_assert_false(g_file_test(json, G_FILE_TEST_EXISTS));
    g_free(json);
    g_free(prefix);
  }
  g_free(a);
  g_free(other);
  g_free(fewer);
  g_free(feat);
}

int main(int argc, char **argv) {
  if (!tt_init(&argc, &argv, "test_train_ensemble"))
    return 1;
  data = tt_folder_dataset("data", 3, 3, NULL);
  TrOptions o;
  tr_options_init(&o);
  o.data = g_strdup(data);
  TrDatasetConfig dc = tr_options_dataset(&o);
  GError *error = NULL;
  ds = tr_dataset_load(&dc, &error);
  g_assert_no_error(error);
  tr_options_clear(&o);
  g_test_add_func("/train/ensemble/mean", test_mean_of_two);
  g_test_add_func("/train/ensemble/refused", test_refused);
  int rc = tt_run_tests();
  tr_dataset_free(ds);
  return rc;
}
