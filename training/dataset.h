/* dataset.h - labelled audio clips and their folds: the ESC-50 layout
 * (meta/esc50.csv + audio/) or one folder per class. Nothing is left out
 * silently: what is skipped is in warnings, what cannot be used an error. */
#ifndef TR_DATASET_H
#define TR_DATASET_H

#include <glib.h>

typedef struct {
  char *path;   /* absolute path of the audio file */
  char *name;   /* path relative to the dataset root */
  int label;    /* 0 .. n_labels-1 */
  int fold;     /* 1 .. n_folds */
  char *source; /* source recording (ESC-50 src_file) or NULL */
} TrClip;

typedef struct {
  char *root;
  gboolean esc50;
  char **labels; /* NULL-terminated */
  int n_labels;
  TrClip *clips;
  size_t n_clips;
  int n_folds; /* the highest fold number */
  /* what was left out and why ("FILE: ..., left out"), for the user */
  GPtrArray *warnings;
} TrDataset;

/* Which dataset to load and how to make its folds (the options of the same
 * names; tr_options_dataset() makes it from the command line). */
typedef struct {
  const char *data;      /* the dataset directory */
  gboolean esc10;        /* ESC-50 layout: the ESC-10 clips only */
  const char *folds_csv; /* folder layout: folds from this CSV */
  int split_by_source;   /* ESC-50: K folds by source recording (0: none) */
  int random_folds;      /* folder layout without a CSV: K random folds */
  gint64 seed;           /* of the random folds */
} TrDatasetConfig;

/* Loads the dataset of c->data (layout detected), with its folds made as c
 * says. */
TrDataset *tr_dataset_load(const TrDatasetConfig *c, GError **error);
void tr_dataset_free(TrDataset *ds);

/* Prints each warning of ds as "acrnn-train: warning: ..." on stderr. */
void tr_dataset_print_warnings(const TrDataset *ds);

/* TRUE for a file name with a sound or video extension that the folder
 * layout takes (.wav, .flac, .ogg, .opus, .mp3, .m4a, .mp4, .mkv, ...). */
gboolean tr_dataset_media_name(const char *name);

/* Number of clips in fold f (0: all). */
size_t tr_dataset_fold_size(const TrDataset *ds, int f);

/* Parses "1,2,3" into a sorted list of distinct folds (g_free). */
int *tr_parse_fold_list(const char *s, int *n, GError **error);

/* The training folds: the parsed list (each must hold clips), or every
 * fold with clips except val_fold. */
int *tr_training_folds(const TrDataset *ds, const char *list, int val_fold,
                       int *n, GError **error);

/* Random stratified assignment of folds 1..k (seeded); with group keys
 * (non-NULL), all clips sharing a key get the same fold. */
void tr_assign_folds(TrClip *clips, size_t n, int n_labels, int k, guint64 seed,
                     gboolean by_source);

#endif
