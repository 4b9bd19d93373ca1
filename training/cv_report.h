/* cv_report.h - the result of "acrnn-train cv" as structs (a held-out
 * fold's figures, the mean and spread over the folds) and its writers: the
 * console lines and table, DIR/fold-N.result.json and cv-summary.json. A
 * fold's figures are serialised here only, for both files. */
#ifndef TR_CV_REPORT_H
#define TR_CV_REPORT_H

#include "trainer.h"
#include <glib.h>
#include <json-glib/json-glib.h>

/* One held-out fold: its run's figures. */
typedef struct {
  int fold;
  size_t clips; /* held out */
  int rank;     /* that trained it (--parallel folds), else 0 */
  TrRunResult res;
} TrCvFold;

typedef struct {
  TrCvFold *folds; /* the finished folds, in the order of the list */
  int n;
  /* set by tr_cv_summary_finish(): over the folds, std with n-1 */
  double mean, std;           /* accuracy after the last epoch */
  double best_mean, best_std; /* at the best epoch (optimistic) */
  double time_s;              /* training, all folds */
} TrCvSummary;

void tr_cv_summary_finish(TrCvSummary *s);

/* Adds fold's members (fold, clips, accuracy, best_accuracy, best_epoch,
 * epochs, time_s) to the object b is building. */
void tr_cv_fold_to_json(JsonBuilder *b, const TrCvFold *fold);
/* Reads them back from an object; FALSE when one of accuracy,
 * best_accuracy, best_epoch is missing (the others default to 0). */
gboolean tr_cv_fold_from_json(JsonObject *o, TrCvFold *fold);

/* DIR/fold-N.result.json: the fold and the options JSON its run was
 * trained with (so that --continue can tell), written atomically. */
gboolean tr_cv_write_fold_result(const char *path, const TrCvFold *fold,
                                 const char *options_json, GError **error);

/* Console: "fold N: accuracy A (best epoch E: B)", with "; rank R" when
 * with_rank. */
void tr_cv_print_fold(const TrCvFold *fold, gboolean with_rank);
/* Console: the table of the folds and the mean line. */
void tr_cv_print_table(const TrCvSummary *s);
/* cv-summary.json: dataset, folds, means and spreads, time, options. */
gboolean tr_cv_write_summary(const char *path, const char *dataset,
                             const TrCvSummary *s, const char *options_json,
                             GError **error);

#endif
