/* fuzz_dataset.c - libFuzzer target: the dataset readers of acrnn-train.
 * The input's first byte picks the layout and the options (--esc10,
 * --split-by-source K, --random-folds K, --folds-csv); then, for the ESC-50
 * layout, the rest is meta/esc50.csv; for the folder layout, the part up to
 * a NUL byte lists paths (one a line; a name with an audio extension is an
 * empty file, anything else a folder) and the rest is the --folds-csv file.
 * The tree is made in a fresh folder, loaded with tr_dataset_load() and
 * checked: every clip has a label and a fold in range. */
#include "../../training/dataset.h"
#include "../../training/options.h"
#include "fuzz_input.h"
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES 64

static char *base_dir;

static void remove_tree(const char *path) {
  GDir *d = g_dir_open(path, 0, NULL);
  if (d) {
    const char *name;
    while ((name = g_dir_read_name(d))) {
      char *child = g_build_filename(path, name, NULL);
      remove_tree(child);
      g_free(child);
    }
    g_dir_close(d);
  }
  g_remove(path);
}

static gboolean audio_name(const char *name) {
  return g_str_has_suffix(name, ".wav") || g_str_has_suffix(name, ".flac") ||
         g_str_has_suffix(name, ".ogg") || g_str_has_suffix(name, ".mp3") ||
         g_str_has_suffix(name, ".WAV");
}

/* Makes the entries listed in text (one relative path a line) under root;
 * paths leaving root are skipped. */
static void make_tree(const char *root, const char *text) {
  char **lines = g_strsplit(text, "\n", MAX_ENTRIES + 1);
  for (int i = 0; lines[i] && i < MAX_ENTRIES; i++) {
    const char *rel = lines[i];
    if (!*rel || rel[0] == '/' || strstr(rel, ".."))
      continue;
    char *full = g_build_filename(root, rel, NULL);
    if (audio_name(rel)) {
      char *dir = g_path_get_dirname(full);
      g_mkdir_with_parents(dir, 0700);
      g_file_set_contents(full, "", 0, NULL);
      g_free(dir);
    } else {
      g_mkdir_with_parents(full, 0700);
    }
    g_free(full);
  }
  g_strfreev(lines);
}

static void check_dataset(const TrDataset *ds) {
  if (ds->n_clips == 0 || ds->n_labels < 1 || ds->n_folds < 1)
    abort();
  for (size_t i = 0; i < ds->n_clips; i++) {
    const TrClip *c = &ds->clips[i];
    if (c->label < 0 || c->label >= ds->n_labels || c->fold < 1 ||
        c->fold > ds->n_folds || !c->path || !c->name)
      abort();
  }
  size_t total = 0;
  for (int f = 1; f <= ds->n_folds; f++)
    total += tr_dataset_fold_size(ds, f);
  if (total != ds->n_clips || tr_dataset_fold_size(ds, 0) != ds->n_clips)
    abort();
  for (int v = 0; v <= ds->n_folds + 1; v++) {
    int n = 0;
    GError *error = NULL;
    int *folds = tr_training_folds(ds, NULL, v, &n, &error);
    if (!folds && !error)
      abort();
    g_clear_error(&error);
    g_free(folds);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!base_dir) {
    base_dir = g_dir_make_tmp("acrnn-fuzz-dataset-XXXXXX", NULL);
    if (!base_dir)
      abort();
  }
  FuzzInput in = {data, size};
  uint8_t mode = fuzz_u8(&in);
  char *text = g_strndup((const char *)in.p, in.n);
  char *root = g_build_filename(base_dir, "data", NULL);
  g_mkdir(root, 0700);
  TrOptions o;
  tr_options_init(&o);
  o.data = g_strdup(root);
  o.esc10 = (mode & 1) != 0;
  o.split_by_source = (mode >> 1) & 3;
  o.random_folds = (mode >> 3) & 7;
  o.seed = mode >> 6;
  if (mode & 0x80) { /* ESC-50 layout */
    char *meta = g_build_filename(root, "meta", NULL);
    char *csv = g_build_filename(meta, "esc50.csv", NULL);
    g_mkdir(meta, 0700);
    g_file_set_contents(csv, text, (gssize)strlen(text), NULL);
    g_free(csv);
    g_free(meta);
  } else {
    make_tree(root, text);
    size_t len = strlen(text);
    if (len < in.n) { /* a NUL: the rest is the folds CSV */
      o.folds_csv = g_build_filename(base_dir, "folds.csv", NULL);
      g_file_set_contents(o.folds_csv, (const char *)in.p + len + 1,
                          (gssize)(in.n - len - 1), NULL);
    }
  }
  GError *error = NULL;
  TrDatasetConfig dc = tr_options_dataset(&o);
  TrDataset *ds = tr_dataset_load(&dc, &error);
  if (ds) {
    check_dataset(ds);
    tr_dataset_free(ds);
  } else if (!error) {
    abort();
  }
  g_clear_error(&error);
  if (o.folds_csv)
    g_remove(o.folds_csv);
  tr_options_clear(&o);
  remove_tree(root);
  g_free(root);
  g_free(text);
  return 0;
}
