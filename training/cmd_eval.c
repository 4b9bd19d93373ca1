/* cmd_eval.c - "acrnn-train eval": clip-level accuracy of a model on a
 * dataset (or one fold), per-class precision/recall/F1, the confusion
 * matrix as CSV and PNG, and everything in a JSON report. */
#include "commands.h"
#include "dataset.h"
#include "ensemble.h"
#include "eval_report.h"
#include "feature_cache.h"
#include "options.h"
#include "output_path.h"
#include "plot.h"
#include "predict.h"
#include "progress.h"
#include "reporter.h"
#include "split_record.h"
#include <acrnn/acrnn.h>
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
    "trained on are refused (--allow-training-clips to evaluate them).\n"
    "\n"
    "Several --model options evaluate an ensemble (ours, not the paper's):\n"
    "each clip's probabilities are the mean of the models' clip\n"
    "probabilities. The models must share labels and feature parameters;\n"
    "the first model's split chooses the folds, and every model's training\n"
    "clips are refused.";

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

/* The training clips of a model under its recorded split, made again on
 * o's dataset (a set of names) when the dataset holds exactly the clips the
 * model was trained on, else NULL (with a warning: another dataset, or the
 * folds cannot be made again, e.g. the folds CSV is gone). model: NULL for
 * the first model, else the path that the warnings name. */
static GHashTable *training_clips(const TrOptions *o, const TrSplit *split,
                                  const char *model) {
  /* the folds the model was trained on */
  TrOptions m;
  tr_options_init(&m);
  g_free(m.data);
  m.data = g_strdup(o->data);
  tr_split_apply(split, &m);
  GError *err = NULL;
  TrDatasetConfig dc = tr_options_dataset(&m);
  TrDataset *ds = tr_dataset_load(&dc, &err);
  tr_options_clear(&m);
  GHashTable *train = ds ? tr_split_training_clips(split, ds) : NULL;
  tr_dataset_free(ds);
  char *what = tr_split_describe(split);
  /* an ensemble's later models are named */
  char *who = model ? g_strdup_printf("--model %s: ", model) : g_strdup("");
  if (err)
    tr_report_warning("eval",
                      "%scannot make the model's folds (%s) on %s again: %s; "
                      "training clips cannot be told apart",
                      who, what, o->data, err->message);
  else if (!train)
    tr_report_warning("eval",
                      "%sthe clips of %s under the model's split (%s) are not "
                      "those it was trained on (another dataset, or clips "
                      "added or removed): training clips cannot be told apart",
                      who, o->data, what);
  g_free(who);
  g_clear_error(&err);
  g_free(what);
  return train;
}

/* The (first) model's recorded split, made again on the dataset: the
 * dataset options the command line does not give come from the split, and
 * --fold defaults to the held-out fold. Returns the training clips, as
 * training_clips() does. */
static GHashTable *use_split(TrOptions *o, const TrSplit *split, int argc,
                             char **argv) {
  GHashTable *train = training_clips(o, split, NULL);
  char *what = tr_split_describe(split);
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

/* The report files' prefix: --report, else the model path without
 * .safetensors, plus -eval. */
static char *report_prefix(const TrOptions *o) {
  if (o->report)
    return g_strdup(o->report);
  int n = (int)g_strv_length(o->models);
  char *what =
      n > 1 ? g_strdup_printf("-ensemble%d-eval", n) : g_strdup("-eval");
  char *prefix =
      g_str_has_suffix(o->model, ".safetensors")
          ? g_strdup_printf("%.*s%s",
                            (int)(strlen(o->model) - strlen(".safetensors")),
                            o->model, what)
          : g_strconcat(o->model, what, NULL);
  g_free(what);
  return prefix;
}

/* Clips the model learnt from say nothing of how it generalises: an error
 * when the evaluated clips hold any (a warning with
 * --allow-training-clips). */
static gboolean check_held_out(const TrOptions *o, const char *model,
                               const TrDataset *ds, GHashTable *train_clips,
                               int val_fold, GError **error) {
  size_t seen = 0, n_eval = 0;
  const char *first = NULL;
  for (size_t c = 0; c < ds->n_clips; c++) {
    if (o->fold > 0 && ds->clips[c].fold != o->fold)
      continue;
    n_eval++;
    if (g_hash_table_contains(train_clips, ds->clips[c].name)) {
      seen++;
      first = first ? first : ds->clips[c].name;
    }
  }
  if (seen > 0 && !o->allow_training_clips) {
    char *folds = o->fold > 0 ? g_strdup_printf("fold %d", o->fold)
                              : g_strdup("all the folds");
    /* an ensemble's later model: the default fold is the first's */
    char *fix = strcmp(model, o->model) == 0
                    ? g_strdup_printf("evaluate its held-out fold (--fold "
                                      "%d, the default)",
                                      val_fold)
                    : g_strdup("evaluate a fold that none of the models was "
                               "trained on");
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "%s of %s holds %zu of %zu clips that the model %s was "
                "trained on (e.g. %s): %s or give --allow-training-clips",
                folds, ds->root, seen, n_eval, model, first, fix);
    g_free(fix);
    g_free(folds);
    return FALSE;
  }
  if (seen > 0)
    tr_report_warning("eval",
                      "%zu of the %zu clips evaluated were used to train "
                      "the model %s: this is not a held-out accuracy",
                      seen, n_eval, model);
  return TRUE;
}

/* The model's class of each dataset class (-1: none, allowed only when no
 * evaluated clip has the class). */
static int *label_map(const TrOptions *o, const TrDataset *ds,
                      const AcrnnModelInfo *info, GError **error) {
  int *map = g_new(int, ds->n_labels);
  for (int i = 0; i < ds->n_labels; i++) {
    map[i] = -1;
    for (int k = 0; k < info->n_labels; k++)
      if (strcmp(ds->labels[i], info->labels[k]) == 0)
        map[i] = k;
    if (map[i] >= 0 || tr_dataset_fold_size(ds, 0) == 0)
      continue;
    gboolean used = FALSE;
    for (size_t c = 0; c < ds->n_clips; c++)
      used |= ds->clips[c].label == i &&
              (o->fold == 0 || ds->clips[c].fold == o->fold);
    if (used) {
      g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                  "the dataset's class \"%s\" is not one of the %d labels "
                  "of the model %s",
                  ds->labels[i], info->n_labels, o->model);
      g_free(map);
      return NULL;
    }
  }
  return map;
}

/* What an evaluation works on, made and checked before any clip is
 * evaluated. */
typedef struct {
  TrOptions o;
  char *prefix;  /* of the report files */
  AcrnnNet *net; /* the first --model */
  AcrnnModelInfo info;
  int n_models; /* an ensemble: nets[0] is net, infos[0] info */
  AcrnnNet **nets;
  AcrnnModelInfo *infos;
  TrSplit split; /* the model's recorded split, if any */
  GHashTable *train_clips;
  TrDataset *ds;
  int *map; /* dataset class -> model class */
} Eval;

static void eval_clear(Eval *e) {
  for (int m = 1; m < e->n_models; m++) {
    acrnn_net_free(e->nets[m]);
    acrnn_model_info_clear(&e->infos[m]);
  }
  g_free(e->nets);
  g_free(e->infos);
  g_free(e->prefix);
  g_free(e->map);
  acrnn_net_free(e->net);
  acrnn_model_info_clear(&e->info);
  tr_dataset_free(e->ds);
  tr_options_clear(&e->o);
  tr_split_clear(&e->split);
  if (e->train_clips)
    g_hash_table_unref(e->train_clips);
}

/* The models after the first (an ensemble): loaded, checked against the
 * first, with its precision. */
static gboolean load_ensemble(Eval *e, AcrnnPrecision precision,
                              GError **error) {
  e->n_models = (int)g_strv_length(e->o.models);
  e->nets = g_new0(AcrnnNet *, e->n_models);
  e->infos = g_new0(AcrnnModelInfo, e->n_models);
  for (int m = 1; m < e->n_models; m++)
    acrnn_model_info_init(&e->infos[m]);
  e->nets[0] = e->net;
  e->infos[0] = e->info; /* a shallow copy, not cleared */
  for (int m = 1; m < e->n_models; m++) {
    acrnn_model_info_clear(&e->infos[m]);
    e->nets[m] = acrnn_model_load(e->o.models[m], &e->infos[m], error);
    if (!e->nets[m] || !tr_ensemble_check(&e->info, e->o.model, &e->infos[m],
                                          e->o.models[m], error))
      return FALSE;
    acrnn_net_set_precision(e->nets[m], precision);
  }
  if (e->n_models > 1 && !e->o.quiet)
    tr_report_note("eval: an ensemble of %d models, the mean of their clip "
                   "probabilities",
                   e->n_models);
  return TRUE;
}

/* The clips each model after the first was trained on are refused as the
 * first's are (the dataset as evaluated: the first model's folds). */
static gboolean check_ensemble_held_out(Eval *e, GError **error) {
  gboolean ok = TRUE;
  for (int m = 1; ok && m < e->n_models; m++) {
    const AcrnnModelInfo *info = &e->infos[m];
    if (!info->split || !e->o.data)
      continue;
    TrSplit split = {0};
    ok = tr_split_parse(e->o.models[m], info->split, &split, error);
    GHashTable *train =
        ok ? training_clips(&e->o, &split, e->o.models[m]) : NULL;
    if (train)
      ok = check_held_out(&e->o, e->o.models[m], e->ds, train, split.val_fold,
                          error);
    if (train)
      g_hash_table_unref(train);
    tr_split_clear(&split);
  }
  return ok;
}

/* Parses the options, loads the model and the dataset (with the model's
 * split) and checks that the clips can be evaluated. */
static gboolean eval_prepare(Eval *e, int argc, char **argv, GError **error) {
  /* the options given (tr_options_parse takes them out of argv) */
  int argc0 = argc;
  char **argv0 = g_memdup2(argv, sizeof(char *) * (size_t)(argc + 1));
  gboolean ok =
      tr_options_parse(&e->o, TR_CMD_EVAL, summary, &argc, &argv, error);
  if (ok && !(e->o.models && e->o.models[0])) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "no model: give --model FILE.safetensors");
    ok = FALSE;
  }
  if (ok) {
    g_free(e->o.model);
    e->o.model = g_strdup(e->o.models[0]);
  }
  if (ok) {
    e->prefix = report_prefix(&e->o);
    char *json_path = g_strconcat(e->prefix, ".json", NULL);
    ok = tr_output_path_check("--report", json_path, error);
    g_free(json_path);
  }
  AcrnnPrecision precision = ACRNN_PRECISION_FP32;
  if (ok && !acrnn_precision_parse(e->o.precision, &precision, error)) {
    g_prefix_error(error, "--precision: ");
    ok = FALSE;
  }
  if (ok) {
    acrnn_model_info_clear(&e->info);
    ok = (e->net = acrnn_model_load(e->o.model, &e->info, error)) != NULL;
  }
  if (ok)
    acrnn_net_set_precision(e->net, precision);
  if (ok)
    ok = load_ensemble(e, precision, error);
  if (ok && e->info.split && e->o.data) {
    ok = tr_split_parse(e->o.model, e->info.split, &e->split, error);
    if (ok)
      e->train_clips = use_split(&e->o, &e->split, argc0, argv0);
  }
  g_free(argv0);
  TrDatasetConfig dc = tr_options_dataset(&e->o);
  if (ok)
    ok = (e->ds = tr_dataset_load(&dc, error)) != NULL;
  if (ok)
    tr_dataset_print_warnings(e->ds);
  if (ok && e->o.fold > 0 && tr_dataset_fold_size(e->ds, e->o.fold) == 0) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "--fold %d: the dataset %s has no clip in fold %d (its folds "
                "are 1..%d)",
                e->o.fold, e->ds->root, e->o.fold, e->ds->n_folds);
    ok = FALSE;
  }
  if (ok && e->train_clips)
    ok = check_held_out(&e->o, e->o.model, e->ds, e->train_clips,
                        e->split.val_fold, error);
  if (ok)
    ok = check_ensemble_held_out(e, error);
  if (ok)
    ok = (e->map = label_map(&e->o, e->ds, &e->info, error)) != NULL;
  return ok;
}

/* Every clip of the evaluated folds through the model, into res. */
static gboolean evaluate(const Eval *e, TrEvalResult *res, GError **error) {
  const TrOptions *o = &e->o;
  acrnn_set_threads(o->threads);
  char *cache = o->no_cache ? NULL : tr_cache_dir(o->cache);
  float *probs = g_new(float, e->info.n_labels);
  size_t n_eval = tr_dataset_fold_size(e->ds, o->fold);
  TrProgress progress;
  tr_progress_init(&progress, o->quiet, NULL);
  gboolean ok = TRUE;
  for (size_t c = 0; ok && c < e->ds->n_clips; c++) {
    const TrClip *clip = &e->ds->clips[c];
    if (o->fold > 0 && clip->fold != o->fold)
      continue;
    size_t nf = 0;
    float *f = tr_features_for_file(clip->path, &e->info.features, cache, &nf,
                                    NULL, error);
    if (!f) {
      ok = FALSE;
      break;
    }
    TrEvalPrediction p = {.file = clip->name, .fold = clip->fold};
    p.predicted = tr_ensemble_predict(e->nets, e->infos, e->n_models, f, nf,
                                      o->batch_size, probs);
    g_free(f);
    p.label = e->map[clip->label];
    p.confidence = probs[p.predicted];
    tr_eval_result_add(res, &p);
    tr_progress_count(&progress, (size_t)res->clips == n_eval, "%d clips",
                      res->clips);
  }
  tr_progress_clear(&progress);
  g_free(probs);
  g_free(cache);
  if (ok)
    tr_eval_result_finish(res);
  return ok;
}

/* PREFIX.json, PREFIX-confusion.csv and PREFIX-confusion.png (a note, not
 * an error, when the PNG cannot be made). */
static gboolean write_reports(const TrEvalResult *res, const char *prefix,
                              GError **error) {
  char *json_path = g_strconcat(prefix, ".json", NULL);
  char *csv_path = g_strconcat(prefix, "-confusion.csv", NULL);
  char *png_path = g_strconcat(prefix, "-confusion.png", NULL);
  gboolean ok = tr_eval_write_json(res, json_path, error) &&
                tr_eval_write_csv(res, csv_path, error);
  if (ok) {
    GError *perr = NULL;
    if (!tr_plot_confusion(png_path, res->confusion, res->n_labels, res->labels,
                           &perr)) {
      tr_report_note("note: %s", perr->message);
      g_error_free(perr);
    }
    printf("report: %s, %s, %s\n", json_path, csv_path, png_path);
  }
  g_free(json_path);
  g_free(csv_path);
  g_free(png_path);
  return ok;
}

int tr_cmd_eval(int argc, char **argv) {
  Eval e = {0};
  tr_options_init(&e.o);
  acrnn_model_info_init(&e.info);
  TrEvalResult res = {0};
  GError *error = NULL;
  gboolean ok = eval_prepare(&e, argc, argv, &error);
  if (ok) {
    tr_eval_result_init(&res, e.o.model, e.ds->root, e.o.fold, e.info.n_labels,
                        e.info.labels);
    if (e.n_models > 1)
      res.ensemble = (const char *const *)e.o.models;
    ok = evaluate(&e, &res, &error);
  }
  if (ok) {
    tr_eval_print(&res);
    ok = write_reports(&res, e.prefix, &error);
  }
  if (!ok) {
    tr_report_error("eval", error);
    g_clear_error(&error);
  }
  tr_eval_result_clear(&res);
  eval_clear(&e);
  return ok ? 0 : 1;
}
