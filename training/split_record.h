/* split_record.h - the training split a model records (the "split" key of
 * its acrnn metadata) so that eval can hold out the same clips: the dataset
 * layout, how the folds were made (K, seed), the held-out fold, the
 * training folds and a hash of the training clip list. */
#ifndef TR_SPLIT_RECORD_H
#define TR_SPLIT_RECORD_H

#include "dataset.h"
#include "options.h"

typedef struct {
  char *layout;    /* "esc50" or "folders" */
  char *method;    /* "official", "by-source", "folds-csv" or "random" */
  int k;           /* folds made by by-source or random, else the count */
  gint64 seed;     /* of by-source and random */
  gboolean esc10;  /* ESC-50 layout: the ESC-10 subset */
  char *folds_csv; /* folds-csv: the CSV, absolute */
  int val_fold;    /* the held-out fold (0: none) */
  int *train_folds;
  int n_train_folds;
  int n_clips; /* training clips */
  char *hash;  /* SHA-256 of their sorted names, one a line */
} TrSplit;

/* The split of a run on ds (loaded with dc) as a JSON object (g_free). */
char *tr_split_record(const TrDatasetConfig *dc, const TrDataset *ds,
                      const int *train_folds, int n_train_folds, int val_fold);

/* Parses a recorded split; FALSE with an error naming model otherwise. */
gboolean tr_split_parse(const char *model, const char *json, TrSplit *s,
                        GError **error);
void tr_split_clear(TrSplit *s);

/* Sets the dataset options of o that make the split's folds (--esc10,
 * --split-by-source, --random-folds, --folds-csv, --seed). */
void tr_split_apply(const TrSplit *s, TrOptions *o);

/* "random 3 folds, seed 1, held-out fold 3" (g_free). */
char *tr_split_describe(const TrSplit *s);

/* The training clips of ds under the split, by name (a set: keys only),
 * or NULL when they are not the clips the model was trained on (another
 * dataset, or clips added or removed since). */
GHashTable *tr_split_training_clips(const TrSplit *s, const TrDataset *ds);

#endif
