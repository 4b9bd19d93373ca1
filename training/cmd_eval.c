/* cmd_eval.c - "acrnn-train eval": clip-level accuracy of a model on a
 * dataset (or one fold), per-class precision/recall/F1, the confusion
 * matrix as CSV and PNG, and everything in a JSON report. */
#include "commands.h"
#include "dataset.h"
#include "feature_cache.h"
#include "options.h"
#include "output_path.h"
#include "plot.h"
#include "predict.h"
#include "progress.h"
#include "reporter.h"
#include "split_record.h"
#include <acrnn/acrnn.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

static const char summary[] =
    "Evaluates a model on the clips of a dataset (or of --fold N): the\n"
    "clip decision is the class with the highest mean probability over the\n"
    "clip's segments. Prints the accuracy and per-class figures, writes\n"
    "PREFIX.json, PREFIX-confusion.csv and PREFIX-confusion.png.\n"
    "\n"
    "A model trained by acrnn-train records its split (layout, folds, seed,\n"
    "held-out fold, a hash of its training clips). By default eval makes\n"
    "the same folds and evaluates the held-out fold; the split options\n"
    "given here override the recorded ones, and clips the model was\n"
    "trained on are refused (--allow-training-clips to evaluate them).";

/* TRUE when argv names option --name (as "--name" or "--name=value"). */
static gboolean given(int argc, char **argv, const char *name) {
  char *eq = g_strdup_printf("--%s=", name);
  gboolean found = FALSE;
  for (int i = 1; i < argc && !found; i++)
    found =
        (g_str_has_prefix(argv[i], "--") && strcmp(argv[i] + 2, name) == 0) ||
        g_str_has_prefix(argv[i], eq);
  g_free(eq);
  return found;
}

/* The model's recorded split, made again on the dataset: the dataset
 * options the command line does not give come from the split, and --fold
 * defaults to the held-out fold. Returns the training clips (a set of
 * names) when the dataset holds exactly the clips the model was trained
 * on, else NULL (with a warning: another dataset, or the folds cannot be
 * made again, e.g. the folds CSV is gone). */
static GHashTable *use_split(TrOptions *o, const TrSplit *split, int argc,
                             char **argv) {
  /* the folds the model was trained on */
  TrOptions m;
  tr_options_init(&m);
  g_free(m.data);
  m.data = g_strdup(o->data);
  tr_split_apply(split, &m);
  GError *err = NULL;
  TrDataset *ds = tr_dataset_load(&m, &err);
  tr_options_clear(&m);
  GHashTable *train = ds ? tr_split_training_clips(split, ds) : NULL;
  tr_dataset_free(ds);
  char *what = tr_split_describe(split);
  if (err)
    tr_report_warning("eval",
                      "cannot make the model's folds (%s) on %s again: %s; "
                      "training clips cannot be told apart",
                      what, o->data, err->message);
  else if (!train)
    tr_report_warning("eval",
                      "the clips of %s under the model's split (%s) are not "
                      "those it was trained on (another dataset, or clips "
                      "added or removed): training clips cannot be told apart",
                      o->data, what);
  g_clear_error(&err);
  /* the evaluation's folds: the model's, with the options given here on
   * top (parsed again over the recorded ones) */
  gboolean own = given(argc, argv, "esc10") ||
                 given(argc, argv, "split-by-source") ||
                 given(argc, argv, "random-folds") ||
                 given(argc, argv, "folds-csv") || given(argc, argv, "seed");
  tr_split_apply(split, o);
  if (own) {
    char **copy = g_memdup2(argv, sizeof(char *) * (size_t)(argc + 1));
    char **cp = copy;
    int cargc = argc;
    /* the same options parsed before: cannot fail */
    tr_options_parse(o, TR_CMD_EVAL, summary, &cargc, &cp, NULL);
    g_free(copy);
  }
  if (!given(argc, argv, "fold"))
    o->fold = split->val_fold;
  if (!o->quiet)
    tr_report_note("eval: the model's split: %s; evaluating %s%s", what,
                   own ? "with the fold options given here" : "the same folds",
                   o->fold > 0 ? "" : ", all clips");
  g_free(what);
  return train;
}

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
  TrSplit split = {0};
  GHashTable *train_clips = NULL;
  /* the options given (tr_options_parse takes them out of argv) */
  int argc0 = argc;
  char **argv0 = g_memdup2(argv, sizeof(char *) * (size_t)(argc + 1));
  gboolean ok =
      tr_options_parse(&o, TR_CMD_EVAL, summary, &argc, &argv, &error);
  if (ok && !o.model) {
    g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "no model: give --model FILE.safetensors");
    ok = FALSE;
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
    ok = tr_output_path_check("--report", json_path, &error);
    g_free(json_path);
  }
  if (ok) {
    acrnn_model_info_clear(&info);
    ok = (net = acrnn_model_load(o.model, &info, &error)) != NULL;
  }
  if (ok && info.split && o.data) {
    ok = tr_split_parse(o.model, info.split, &split, &error);
    if (ok)
      train_clips = use_split(&o, &split, argc0, argv0);
  }
  if (ok)
    ok = (ds = tr_dataset_load(&o, &error)) != NULL;
  if (ok)
    tr_dataset_print_warnings(ds);
  if (ok && o.fold > 0 && tr_dataset_fold_size(ds, o.fold) == 0) {
    g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "--fold %d: the dataset %s has no clip in fold %d (its folds "
                "are 1..%d)",
                o.fold, ds->root, o.fold, ds->n_folds);
    ok = FALSE;
  }
  /* clips the model learnt from say nothing of how it generalises */
  if (ok && train_clips) {
    size_t seen = 0, n_eval = 0;
    const char *first = NULL;
    for (size_t c = 0; c < ds->n_clips; c++) {
      if (o.fold > 0 && ds->clips[c].fold != o.fold)
        continue;
      n_eval++;
      if (g_hash_table_contains(train_clips, ds->clips[c].name)) {
        seen++;
        first = first ? first : ds->clips[c].name;
      }
    }
    char *folds = o.fold > 0 ? g_strdup_printf("fold %d", o.fold)
                             : g_strdup("all the folds");
    if (seen > 0 && !o.allow_training_clips) {
      g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                  "%s of %s holds %zu of %zu clips that the model %s was "
                  "trained on (e.g. %s): evaluate its held-out fold (--fold "
                  "%d, the default) or give --allow-training-clips",
                  folds, ds->root, seen, n_eval, o.model, first,
                  split.val_fold);
      ok = FALSE;
    } else if (seen > 0) {
      tr_report_warning("eval",
                        "%zu of the %zu clips evaluated were used to train "
                        "the model: this is not a held-out accuracy",
                        seen, n_eval);
    }
    g_free(folds);
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
    size_t n_eval = tr_dataset_fold_size(ds, o.fold);
    TrProgress progress;
    tr_progress_init(&progress, o.quiet, NULL);
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
      tr_progress_count(&progress, (size_t)total == n_eval, "%d clips", total);
    }
    tr_progress_clear(&progress);
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
        tr_report_note("note: %s", perr->message);
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
    tr_report_error("eval", error);
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
  tr_split_clear(&split);
  if (train_clips)
    g_hash_table_unref(train_clips);
  g_free(argv0);
  return rc;
}
