/* eval_report.h - the result of "acrnn-train eval" as a struct (clip
 * predictions, confusion matrix, per-class figures), and its writers: the
 * console table, the JSON report and the confusion CSV. */
#ifndef TR_EVAL_REPORT_H
#define TR_EVAL_REPORT_H

#include <glib.h>

/* One clip's decision. */
typedef struct {
  const char *file; /* borrowed: the clip's name in the dataset */
  int fold;
  int label;     /* true class, an index into the labels */
  int predicted; /* the class of the highest mean probability */
  double confidence;
} TrEvalPrediction;

/* One class's figures (support: clips of the class). */
typedef struct {
  double precision, recall, f1;
  int support;
} TrClassScore;

typedef struct {
  const char *model, *dataset; /* borrowed */
  const char *const *ensemble; /* borrowed: every model of an ensemble
                                  (NULL-ended), or NULL for one model */
  int fold;                    /* 0: all clips */
  int n_labels;
  char *const *labels; /* borrowed: the model's */
  int *confusion;      /* [true][predicted], n_labels x n_labels */
  GArray *predictions; /* of TrEvalPrediction */
  int clips, correct;
  /* set by tr_eval_result_finish() */
  double accuracy;
  TrClassScore *per_class; /* n_labels */
  double macro_f1;         /* over the classes with support */
} TrEvalResult;

void tr_eval_result_init(TrEvalResult *r, const char *model,
                         const char *dataset, int fold, int n_labels,
                         char *const *labels);
void tr_eval_result_clear(TrEvalResult *r);
/* Counts one clip's decision. */
void tr_eval_result_add(TrEvalResult *r, const TrEvalPrediction *p);
/* The accuracy and the per-class figures of the clips added. */
void tr_eval_result_finish(TrEvalResult *r);

/* Console: the accuracy line and a row per class with support. */
void tr_eval_print(const TrEvalResult *r);
/* The JSON report: predictions, accuracy, per-class figures, macro F1,
 * labels and confusion matrix; written atomically. */
gboolean tr_eval_write_json(const TrEvalResult *r, const char *path,
                            GError **error);
/* The confusion matrix as CSV (a header row of predicted labels, a row per
 * true label). */
gboolean tr_eval_write_csv(const TrEvalResult *r, const char *path,
                           GError **error);

#endif
