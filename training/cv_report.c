/* cv_report.c - cross-validation results and their console and JSON
 * writers (see cv_report.h). */
#include "cv_report.h"
#include "json_out.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

static void mean_std(const TrCvSummary *s, gboolean best, double *mean,
                     double *std) {
  double sum = 0, q = 0;
  for (int i = 0; i < s->n; i++)
    sum += best ? s->folds[i].res.best_val_acc : s->folds[i].res.last_val_acc;
  *mean = s->n ? sum / s->n : 0;
  for (int i = 0; i < s->n; i++) {
    double v =
        best ? s->folds[i].res.best_val_acc : s->folds[i].res.last_val_acc;
    q += (v - *mean) * (v - *mean);
  }
  *std = s->n > 1 ? sqrt(q / (s->n - 1)) : 0;
}

void tr_cv_summary_finish(TrCvSummary *s) {
  mean_std(s, FALSE, &s->mean, &s->std);
  mean_std(s, TRUE, &s->best_mean, &s->best_std);
  s->time_s = 0;
  for (int i = 0; i < s->n; i++)
    s->time_s += s->folds[i].res.total_s;
}

void tr_cv_fold_to_json(JsonBuilder *b, const TrCvFold *f) {
  tr_json_int(b, "fold", f->fold);
  tr_json_int(b, "clips", (gint64)f->clips);
  tr_json_double(b, "accuracy", f->res.last_val_acc);
  tr_json_double(b, "best_accuracy", f->res.best_val_acc);
  tr_json_int(b, "best_epoch", f->res.best_epoch);
  tr_json_int(b, "epochs", f->res.epochs_done);
  tr_json_double(b, "time_s", f->res.total_s);
}

gboolean tr_cv_fold_from_json(JsonObject *o, TrCvFold *f) {
  if (!json_object_has_member(o, "accuracy") ||
      !json_object_has_member(o, "best_accuracy") ||
      !json_object_has_member(o, "best_epoch"))
    return FALSE;
  memset(f, 0, sizeof *f);
  f->fold = (int)json_object_get_int_member_with_default(o, "fold", 0);
  f->clips = (size_t)json_object_get_int_member_with_default(o, "clips", 0);
  f->res.last_val_acc = json_object_get_double_member(o, "accuracy");
  f->res.best_val_acc = json_object_get_double_member(o, "best_accuracy");
  f->res.best_epoch = (int)json_object_get_int_member(o, "best_epoch");
  f->res.epochs_done =
      (int)json_object_get_int_member_with_default(o, "epochs", 0);
  f->res.total_s = json_object_get_double_member_with_default(o, "time_s", 0);
  return TRUE;
}

gboolean tr_cv_write_fold_result(const char *path, const TrCvFold *fold,
                                 const char *options_json, GError **error) {
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  tr_cv_fold_to_json(b, fold);
  json_builder_set_member_name(b, "options");
  json_builder_add_value(b, json_from_string(options_json, NULL));
  json_builder_end_object(b);
  return tr_json_write(b, path, error);
}

void tr_cv_print_fold(const TrCvFold *f, gboolean with_rank) {
  if (with_rank)
    printf("fold %d: accuracy %.4f (best epoch %d: %.4f; rank %d)\n", f->fold,
           f->res.last_val_acc, f->res.best_epoch, f->res.best_val_acc,
           f->rank);
  else
    printf("fold %d: accuracy %.4f (best epoch %d: %.4f)\n", f->fold,
           f->res.last_val_acc, f->res.best_epoch, f->res.best_val_acc);
  fflush(stdout);
}

void tr_cv_print_table(const TrCvSummary *s) {
  printf("\n%-8s %-8s %-10s %-10s\n", "fold", "clips", "accuracy",
         "best-epoch");
  for (int k = 0; k < s->n; k++)
    printf("%-8d %-8zu %-10.4f %-10.4f\n", s->folds[k].fold, s->folds[k].clips,
           s->folds[k].res.last_val_acc, s->folds[k].res.best_val_acc);
  printf("mean     %-8s %.4f +- %.4f (best-epoch %.4f +- %.4f; std over "
         "%d folds)\n",
         "", s->mean, s->std, s->best_mean, s->best_std, s->n);
}

gboolean tr_cv_write_summary(const char *path, const char *dataset,
                             const TrCvSummary *s, const char *options_json,
                             GError **error) {
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  tr_json_string(b, "dataset", dataset);
  json_builder_set_member_name(b, "folds");
  json_builder_begin_array(b);
  for (int k = 0; k < s->n; k++) {
    json_builder_begin_object(b);
    tr_cv_fold_to_json(b, &s->folds[k]);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  tr_json_double(b, "mean_accuracy", s->mean);
  tr_json_double(b, "std_accuracy", s->std);
  tr_json_double(b, "mean_best_accuracy", s->best_mean);
  tr_json_double(b, "std_best_accuracy", s->best_std);
  tr_json_double(b, "time_s", s->time_s); /* training, all folds */
  json_builder_set_member_name(b, "options");
  json_builder_add_value(b, json_from_string(options_json, NULL));
  json_builder_end_object(b);
  return tr_json_write(b, path, error);
}
