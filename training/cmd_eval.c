/* cmd_eval.c - "acrnn-train eval": clip-level accuracy of a model on a
 * dataset (or one fold), per-class precision/recall/F1, the confusion
 * matrix as CSV and PNG, and everything in a JSON report. */
#include "commands.h"
#include "dataset.h"
#include "feature_cache.h"
#include "options.h"
#include "plot.h"
#include "predict.h"
#include <acrnn/acrnn.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char summary[] =
    "Evaluates a model on the clips of a dataset (or of --fold N): the\n"
    "clip decision is the class with the highest mean probability over the\n"
    "clip's segments. Prints the accuracy and per-class figures, writes\n"
    "PREFIX.json, PREFIX-confusion.csv and PREFIX-confusion.png.";

static gboolean write_csv(const char *path, const int *cm, int n,
                          char *const *labels, GError **error) {
  GString *s = g_string_new("true\\predicted");
  for (int p = 0; p < n; p++)
    g_string_append_printf(s, ",%s", labels[p]);
  g_string_append_c(s, '\n');
  for (int t = 0; t < n; t++) {
    g_string_append(s, labels[t]);
    for (int p = 0; p < n; p++)
      g_string_append_printf(s, ",%d", cm[t * n + p]);
    g_string_append_c(s, '\n');
  }
  gboolean ok = g_file_set_contents(path, s->str, (gssize)s->len, error);
  g_string_free(s, TRUE);
  return ok;
}

int tr_cmd_eval(int argc, char **argv) {
  TrOptions o;
  tr_options_init(&o);
  GError *error = NULL;
  int rc = 1;
  TrDataset *ds = NULL;
  AcrnnNet *net = NULL;
  AcrnnModelInfo info;
  acrnn_model_info_init(&info);
  int *map = NULL, *cm = NULL;
  char *prefix = NULL;
  JsonBuilder *b = NULL;
  gboolean ok =
      tr_options_parse(&o, TR_CMD_EVAL, summary, &argc, &argv, &error);
  if (ok && argc > 1) {
    g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "unexpected argument \"%s\"", argv[1]);
    ok = FALSE;
  }
  if (ok && !o.model) {
    g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "no model: give --model FILE.safetensors");
    ok = FALSE;
  }
  AcrnnPrecision precision = ACRNN_PRECISION_FP32;
  if (ok && !acrnn_precision_parse(o.precision, &precision, &error)) {
    g_prefix_error(&error, "--precision: ");
    ok = FALSE;
  }
  if (ok) {
    acrnn_model_info_clear(&info);
    ok = (net = acrnn_model_load(o.model, &info, &error)) != NULL;
  }
  if (ok)
    acrnn_net_set_precision(net, precision);
  if (ok)
    ok = (ds = tr_dataset_load(&o, &error)) != NULL;
  if (ok && o.fold > 0 && tr_dataset_fold_size(ds, o.fold) == 0) {
    g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "--fold %d: the dataset %s has no clip in fold %d (its folds "
                "are 1..%d)",
                o.fold, ds->root, o.fold, ds->n_folds);
    ok = FALSE;
  }
  int n = info.n_labels;
  if (ok) {
    map = g_new(int, ds->n_labels);
    for (int i = 0; ok && i < ds->n_labels; i++) {
      map[i] = -1;
      for (int k = 0; k < n; k++)
        if (strcmp(ds->labels[i], info.labels[k]) == 0)
          map[i] = k;
      if (map[i] < 0 && tr_dataset_fold_size(ds, 0) > 0) {
        gboolean used = FALSE;
        for (size_t c = 0; c < ds->n_clips; c++)
          used |= ds->clips[c].label == i &&
                  (o.fold == 0 || ds->clips[c].fold == o.fold);
        if (used) {
          g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                      "the dataset's class \"%s\" is not one of the %d "
                      "labels of the model %s",
                      ds->labels[i], n, o.model);
          ok = FALSE;
        }
      }
    }
  }
  if (ok) {
    acrnn_set_threads(o.threads);
    char *cache = o.no_cache ? NULL : tr_cache_dir(o.cache);
    cm = g_new0(int, (size_t)n *n);
    float *probs = g_new(float, n);
    b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "predictions");
    json_builder_begin_array(b);
    int total = 0, correct = 0;
    for (size_t c = 0; ok && c < ds->n_clips; c++) {
      const TrClip *clip = &ds->clips[c];
      if (o.fold > 0 && clip->fold != o.fold)
        continue;
      size_t nf = 0;
      float *f = tr_features_for_file(clip->path, &info.features, cache, &nf,
                                      NULL, &error);
      if (!f) {
        ok = FALSE;
        break;
      }
      int pred = tr_predict_clip(net, &info, f, nf, o.batch_size, probs);
      g_free(f);
      int t = map[clip->label];
      cm[t * n + pred]++;
      total++;
      correct += t == pred;
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "file");
      json_builder_add_string_value(b, clip->name);
      json_builder_set_member_name(b, "fold");
      json_builder_add_int_value(b, clip->fold);
      json_builder_set_member_name(b, "label");
      json_builder_add_string_value(b, info.labels[t]);
      json_builder_set_member_name(b, "predicted");
      json_builder_add_string_value(b, info.labels[pred]);
      json_builder_set_member_name(b, "confidence");
      json_builder_add_double_value(b, probs[pred]);
      json_builder_end_object(b);
      if (!o.quiet && isatty(2))
        fprintf(stderr, "\r%d clips\033[K", total);
    }
    if (!o.quiet && isatty(2))
      fputc('\n', stderr);
    json_builder_end_array(b);
    g_free(probs);
    g_free(cache);
    if (ok) {
      double acc = total ? (double)correct / total : 0;
      char foldtxt[32] = "";
      if (o.fold)
        g_snprintf(foldtxt, sizeof foldtxt, " fold %d", o.fold);
      printf("model %s on %s%s: %d clips, accuracy %.4f\n", o.model, ds->root,
             foldtxt, total, acc);
      printf("%-28s %9s %9s %9s %8s\n", "class", "precision", "recall", "F1",
             "support");
      json_builder_set_member_name(b, "model");
      json_builder_add_string_value(b, o.model);
      json_builder_set_member_name(b, "dataset");
      json_builder_add_string_value(b, ds->root);
      json_builder_set_member_name(b, "fold");
      json_builder_add_int_value(b, o.fold);
      json_builder_set_member_name(b, "clips");
      json_builder_add_int_value(b, total);
      json_builder_set_member_name(b, "accuracy");
      json_builder_add_double_value(b, acc);
      json_builder_set_member_name(b, "per_class");
      json_builder_begin_array(b);
      double macro_f1 = 0;
      int classes_with_support = 0;
      for (int k = 0; k < n; k++) {
        int tp = cm[k * n + k], row = 0, col = 0;
        for (int j = 0; j < n; j++) {
          row += cm[k * n + j];
          col += cm[j * n + k];
        }
        double prec = col ? (double)tp / col : 0;
        double rec = row ? (double)tp / row : 0;
        double f1 = prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0;
        if (row) {
          macro_f1 += f1;
          classes_with_support++;
          printf("%-28s %9.4f %9.4f %9.4f %8d\n", info.labels[k], prec, rec, f1,
                 row);
        }
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "label");
        json_builder_add_string_value(b, info.labels[k]);
        json_builder_set_member_name(b, "precision");
        json_builder_add_double_value(b, prec);
        json_builder_set_member_name(b, "recall");
        json_builder_add_double_value(b, rec);
        json_builder_set_member_name(b, "f1");
        json_builder_add_double_value(b, f1);
        json_builder_set_member_name(b, "support");
        json_builder_add_int_value(b, row);
        json_builder_end_object(b);
      }
      json_builder_end_array(b);
      macro_f1 = classes_with_support ? macro_f1 / classes_with_support : 0;
      json_builder_set_member_name(b, "macro_f1");
      json_builder_add_double_value(b, macro_f1);
      json_builder_set_member_name(b, "labels");
      json_builder_begin_array(b);
      for (int k = 0; k < n; k++)
        json_builder_add_string_value(b, info.labels[k]);
      json_builder_end_array(b);
      json_builder_set_member_name(b, "confusion");
      json_builder_begin_array(b);
      for (int t = 0; t < n; t++) {
        json_builder_begin_array(b);
        for (int p = 0; p < n; p++)
          json_builder_add_int_value(b, cm[t * n + p]);
        json_builder_end_array(b);
      }
      json_builder_end_array(b);
      json_builder_end_object(b);
    }
  }
  if (ok) {
    if (o.report)
      prefix = g_strdup(o.report);
    else if (g_str_has_suffix(o.model, ".safetensors"))
      prefix = g_strdup_printf("%.*s-eval",
                               (int)(strlen(o.model) - strlen(".safetensors")),
                               o.model);
    else
      prefix = g_strconcat(o.model, "-eval", NULL);
    char *json_path = g_strconcat(prefix, ".json", NULL);
    char *csv_path = g_strconcat(prefix, "-confusion.csv", NULL);
    char *png_path = g_strconcat(prefix, "-confusion.png", NULL);
    JsonNode *root = json_builder_get_root(b);
    char *text = json_to_string(root, TRUE);
    json_node_unref(root);
    ok = g_file_set_contents(json_path, text, -1, &error) &&
         write_csv(csv_path, cm, n, info.labels, &error);
    g_free(text);
    if (ok) {
      GError *perr = NULL;
      if (!tr_plot_confusion(png_path, cm, n, info.labels, &perr)) {
        fprintf(stderr, "note: %s\n", perr->message);
        g_error_free(perr);
      }
      printf("report: %s, %s, %s\n", json_path, csv_path, png_path);
      rc = 0;
    }
    g_free(json_path);
    g_free(csv_path);
    g_free(png_path);
  }
  if (!ok) {
    tr_print_error("eval", error);
    g_clear_error(&error);
  }
  if (b)
    g_object_unref(b);
  g_free(prefix);
  g_free(map);
  g_free(cm);
  acrnn_net_free(net);
  acrnn_model_info_clear(&info);
  tr_dataset_free(ds);
  tr_options_clear(&o);
  return rc;
}
