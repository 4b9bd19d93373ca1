/* eval_report.c - the result of an evaluation and its console, JSON and CSV
 * writers (see eval_report.h). */
#include "eval_report.h"
#include "json_out.h"
#include <stdio.h>
#include <string.h>

void tr_eval_result_init(TrEvalResult *r, const char *model,
                         const char *dataset, int fold, int n_labels,
                         char *const *labels) {
  memset(r, 0, sizeof *r);
  r->model = model;
  r->dataset = dataset;
  r->fold = fold;
  r->n_labels = n_labels;
  r->labels = labels;
  r->confusion = g_new0(int, (size_t)n_labels *n_labels);
  r->predictions = g_array_new(FALSE, FALSE, sizeof(TrEvalPrediction));
  r->per_class = g_new0(TrClassScore, n_labels);
}

void tr_eval_result_clear(TrEvalResult *r) {
  g_clear_pointer(&r->confusion, g_free);
  g_clear_pointer(&r->per_class, g_free);
  if (r->predictions)
    g_array_unref(r->predictions);
  r->predictions = NULL;
}

void tr_eval_result_add(TrEvalResult *r, const TrEvalPrediction *p) {
  r->confusion[p->label * r->n_labels + p->predicted]++;
  r->clips++;
  r->correct += p->label == p->predicted;
  g_array_append_val(r->predictions, *p);
}

void tr_eval_result_finish(TrEvalResult *r) {
  int n = r->n_labels, with_support = 0;
  const int *cm = r->confusion;
  r->accuracy = r->clips ? (double)r->correct / r->clips : 0;
  r->macro_f1 = 0;
  for (int k = 0; k < n; k++) {
    int tp = cm[k * n + k], row = 0, col = 0;
    for (int j = 0; j < n; j++) {
      row += cm[k * n + j];
      col += cm[j * n + k];
    }
    TrClassScore *s = &r->per_class[k];
    s->precision = col ? (double)tp / col : 0;
    s->recall = row ? (double)tp / row : 0;
    s->f1 = s->precision + s->recall > 0
                ? 2 * s->precision * s->recall / (s->precision + s->recall)
                : 0;
    s->support = row;
    if (row) {
      r->macro_f1 += s->f1;
      with_support++;
    }
  }
  r->macro_f1 = with_support ? r->macro_f1 / with_support : 0;
}

void tr_eval_print(const TrEvalResult *r) {
  char foldtxt[32] = "";
  if (r->fold)
    g_snprintf(foldtxt, sizeof foldtxt, " fold %d", r->fold);
  if (r->ensemble) {
    char *all = g_strjoinv(" + ", (char **)r->ensemble);
    printf("ensemble %s on %s%s: %d clips, accuracy %.4f\n", all, r->dataset,
           foldtxt, r->clips, r->accuracy);
    g_free(all);
  } else {
    printf("model %s on %s%s: %d clips, accuracy %.4f\n", r->model, r->dataset,
           foldtxt, r->clips, r->accuracy);
  }
  printf("%-28s %9s %9s %9s %8s\n", "class", "precision", "recall", "F1",
         "support");
  for (int k = 0; k < r->n_labels; k++) {
    const TrClassScore *s = &r->per_class[k];
    if (s->support)
      printf("%-28s %9.4f %9.4f %9.4f %8d\n", r->labels[k], s->precision,
             s->recall, s->f1, s->support);
  }
}

static void add_predictions(JsonBuilder *b, const TrEvalResult *r) {
  json_builder_set_member_name(b, "predictions");
  json_builder_begin_array(b);
  for (guint i = 0; i < r->predictions->len; i++) {
    const TrEvalPrediction *p =
        &g_array_index(r->predictions, TrEvalPrediction, i);
    json_builder_begin_object(b);
    tr_json_string(b, "file", p->file);
    tr_json_int(b, "fold", p->fold);
    tr_json_string(b, "label", r->labels[p->label]);
    tr_json_string(b, "predicted", r->labels[p->predicted]);
    tr_json_double(b, "confidence", p->confidence);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

static void add_per_class(JsonBuilder *b, const TrEvalResult *r) {
  json_builder_set_member_name(b, "per_class");
  json_builder_begin_array(b);
  for (int k = 0; k < r->n_labels; k++) {
    const TrClassScore *s = &r->per_class[k];
    json_builder_begin_object(b);
    tr_json_string(b, "label", r->labels[k]);
    tr_json_double(b, "precision", s->precision);
    tr_json_double(b, "recall", s->recall);
    tr_json_double(b, "f1", s->f1);
    tr_json_int(b, "support", s->support);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

static void add_confusion(JsonBuilder *b, const TrEvalResult *r) {
  int n = r->n_labels;
  json_builder_set_member_name(b, "labels");
  json_builder_begin_array(b);
  for (int k = 0; k < n; k++)
    json_builder_add_string_value(b, r->labels[k]);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "confusion");
  json_builder_begin_array(b);
  for (int t = 0; t < n; t++) {
    json_builder_begin_array(b);
    for (int p = 0; p < n; p++)
      json_builder_add_int_value(b, r->confusion[t * n + p]);
    json_builder_end_array(b);
  }
  json_builder_end_array(b);
}

gboolean tr_eval_write_json(const TrEvalResult *r, const char *path,
                            GError **error) {
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  add_predictions(b, r);
  tr_json_string(b, "model", r->model);
  if (r->ensemble) {
    json_builder_set_member_name(b, "ensemble");
    json_builder_begin_array(b);
    for (int m = 0; r->ensemble[m]; m++)
      json_builder_add_string_value(b, r->ensemble[m]);
    json_builder_end_array(b);
  }
  tr_json_string(b, "dataset", r->dataset);
  tr_json_int(b, "fold", r->fold);
  tr_json_int(b, "clips", r->clips);
  tr_json_double(b, "accuracy", r->accuracy);
  add_per_class(b, r);
  tr_json_double(b, "macro_f1", r->macro_f1);
  add_confusion(b, r);
  json_builder_end_object(b);
  return tr_json_write(b, path, error);
}

gboolean tr_eval_write_csv(const TrEvalResult *r, const char *path,
                           GError **error) {
  int n = r->n_labels;
  GString *s = g_string_new("true\\predicted");
  for (int p = 0; p < n; p++)
    g_string_append_printf(s, ",%s", r->labels[p]);
  g_string_append_c(s, '\n');
  for (int t = 0; t < n; t++) {
    g_string_append(s, r->labels[t]);
    for (int p = 0; p < n; p++)
      g_string_append_printf(s, ",%d", r->confusion[t * n + p]);
    g_string_append_c(s, '\n');
  }
  gboolean ok = g_file_set_contents(path, s->str, (gssize)s->len, error);
  g_string_free(s, TRUE);
  return ok;
}
