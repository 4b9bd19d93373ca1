/* dataset.c - loads a dataset of labelled clips: the ESC-50 layout
 * (meta/esc50.csv + audio/, optionally the ESC-10 subset) or one folder per
 * class, with folds from the CSV, a folds CSV or a seeded stratified split. */
#include "dataset.h"
#include "reporter.h"
#include <acrnn/rng.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define DS_ERROR (g_quark_from_static_string("acrnn-train-dataset-error"))

void tr_dataset_free(TrDataset *ds) {
  if (!ds)
    return;
  for (size_t i = 0; i < ds->n_clips; i++) {
    g_free(ds->clips[i].path);
    g_free(ds->clips[i].name);
    g_free(ds->clips[i].source);
  }
  g_free(ds->clips);
  if (ds->warnings)
    g_ptr_array_unref(ds->warnings);
  g_strfreev(ds->labels);
  g_free(ds->root);
  g_free(ds);
}

void tr_dataset_print_warnings(const TrDataset *ds) {
  for (guint i = 0; ds->warnings && i < ds->warnings->len; i++)
    tr_report_warning(NULL, "%s",
                      (const char *)g_ptr_array_index(ds->warnings, i));
}

static void warn(GPtrArray *warnings, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void warn(GPtrArray *warnings, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_ptr_array_add(warnings, g_strdup_vprintf(fmt, ap));
  va_end(ap);
}

size_t tr_dataset_fold_size(const TrDataset *ds, int f) {
  size_t n = 0;
  for (size_t i = 0; i < ds->n_clips; i++)
    n += f == 0 || ds->clips[i].fold == f;
  return n;
}

static int cmp_int(const void *a, const void *b) {
  return *(const int *)a - *(const int *)b;
}

int *tr_parse_fold_list(const char *s, int *n, GError **error) {
  char **parts = g_strsplit(s, ",", -1);
  int count = (int)g_strv_length(parts);
  int *folds = g_new0(int, count + 1);
  int k = 0;
  for (int i = 0; i < count; i++) {
    char *t = g_strstrip(parts[i]);
    if (!*t)
      continue;
    char *end;
    long v = strtol(t, &end, 10);
    if (*end || v < 1 || v > 1000) {
      g_set_error(error, DS_ERROR, 1,
                  "fold list \"%s\": \"%s\" is not a fold number (expected "
                  "positive integers separated by commas, e.g. 1,2,3)",
                  s, t);
      g_strfreev(parts);
      g_free(folds);
      return NULL;
    }
    folds[k++] = (int)v;
  }
  g_strfreev(parts);
  qsort(folds, (size_t)k, sizeof(int), cmp_int);
  int m = 0;
  for (int i = 0; i < k; i++)
    if (m == 0 || folds[m - 1] != folds[i])
      folds[m++] = folds[i];
  if (m == 0) {
    g_set_error(error, DS_ERROR, 1, "fold list \"%s\" is empty", s);
    g_free(folds);
    return NULL;
  }
  *n = m;
  return folds;
}

/* Stratified, balanced split: per class, the groups (clips sharing a source,
 * or single clips) in a seeded random order, then largest first (a stable
 * sort, so equal sizes keep the random order); each group goes to the fold
 * with the fewest clips of that class so far, ties to the fold with the
 * fewest clips of all classes so far, then to the lowest fold number. The
 * second rule keeps the folds the same size overall: without it, every
 * class would fill the low folds first. */
void tr_assign_folds(TrClip *clips, size_t n, int n_labels, int k, guint64 seed,
                     gboolean by_source) {
  AcrnnRng rng;
  acrnn_rng_seed(&rng, seed ^ 0x5eedf01d5ULL);
  int *count = g_new(int, k);
  int *total = g_new0(int, k);
  size_t *members = g_new(size_t, n > 0 ? n : 1);
  for (int c = 0; c < n_labels; c++) {
    /* groups of class c, in file order, with their sizes */
    GPtrArray *keys = g_ptr_array_new();
    GArray *first = g_array_new(FALSE, FALSE, sizeof(size_t));
    GArray *size = g_array_new(FALSE, FALSE, sizeof(int));
    for (size_t i = 0; i < n; i++) {
      if (clips[i].label != c)
        continue;
      int seen = -1;
      if (by_source && clips[i].source)
        for (guint g = 0; g < keys->len && seen < 0; g++)
          if (g_ptr_array_index(keys, g) &&
              strcmp(g_ptr_array_index(keys, g), clips[i].source) == 0)
            seen = (int)g;
      if (seen >= 0) {
        g_array_index(size, int, seen)++;
      } else {
        const int one = 1;
        g_ptr_array_add(keys, by_source ? clips[i].source : NULL);
        g_array_append_val(first, i);
        g_array_append_val(size, one);
      }
    }
    guint ng = keys->len;
    uint32_t *order = g_new(uint32_t, ng > 0 ? ng : 1);
    for (guint g = 0; g < ng; g++)
      order[g] = g;
    acrnn_rng_shuffle(&rng, order, ng);
    for (guint a = 1; a < ng; a++) { /* stable insertion sort, largest first */
      const uint32_t g = order[a];
      guint b = a;
      for (; b > 0 && g_array_index(size, int, order[b - 1]) <
                          g_array_index(size, int, g);
           b--)
        order[b] = order[b - 1];
      order[b] = g;
    }
    memset(count, 0, sizeof(int) * (size_t)k);
    for (guint oi = 0; oi < ng; oi++) {
      guint g = order[oi];
      const char *key = g_ptr_array_index(keys, g);
      size_t m = 0;
      if (key) {
        for (size_t i = 0; i < n; i++)
          if (clips[i].label == c && clips[i].source &&
              strcmp(clips[i].source, key) == 0)
            members[m++] = i;
      } else {
        members[m++] = g_array_index(first, size_t, g);
      }
      int best = 0;
      for (int f = 1; f < k; f++)
        if (count[f] < count[best] ||
            (count[f] == count[best] && total[f] < total[best]))
          best = f;
      for (size_t j = 0; j < m; j++)
        clips[members[j]].fold = best + 1;
      count[best] += (int)m;
      total[best] += (int)m;
    }
    g_free(order);
    g_ptr_array_unref(keys);
    g_array_unref(first);
    g_array_unref(size);
  }
  g_free(count);
  g_free(total);
  g_free(members);
}

static int column(char **header, const char *name) {
  for (int i = 0; header[i]; i++)
    if (strcmp(g_strstrip(header[i]), name) == 0)
      return i;
  return -1;
}

typedef struct {
  int target;
  char *category;
} TargetName;

/* A row naming a file that is not there: refused now, not at its turn to
 * be decoded (a partial copy keeps only the rows of its clips). */
static gboolean all_files_present(GArray *clips, const char *csv_path,
                                  const char *root, GError **error) {
  size_t n_missing = 0;
  const char *first_missing = NULL;
  for (guint i = 0; i < clips->len; i++) {
    const TrClip *c = &g_array_index(clips, TrClip, i);
    if (!g_file_test(c->path, G_FILE_TEST_IS_REGULAR)) {
      if (!first_missing)
        first_missing = c->path;
      n_missing++;
    }
  }
  if (n_missing == 0)
    return TRUE;
  g_set_error(error, DS_ERROR, 1,
              "%s names %zu file%s that %s not in %s/audio (the first: "
              "%s): expected a file for every row (remove the rows of "
              "absent clips)",
              csv_path, n_missing, n_missing == 1 ? "" : "s",
              n_missing == 1 ? "is" : "are", root, first_missing);
  return FALSE;
}

/* Class ids: all the targets up to max_target (names of absent ones
 * "class<N>"), or for ESC-10 the present targets in ascending order mapped
 * to 0..9. Takes the names. */
static void set_esc50_labels(TrDataset *ds, char **names, int max_target,
                             gboolean esc10) {
  int map[1000];
  GPtrArray *labels = g_ptr_array_new();
  for (int t = 0; t <= max_target; t++) {
    map[t] = -1;
    if (esc10 && !names[t])
      continue;
    map[t] = (int)labels->len;
    g_ptr_array_add(labels,
                    names[t] ? names[t] : g_strdup_printf("class%d", t));
  }
  g_ptr_array_add(labels, NULL);
  ds->labels = (char **)g_ptr_array_free(labels, FALSE);
  ds->n_labels = (int)g_strv_length(ds->labels);
  for (size_t i = 0; i < ds->n_clips; i++)
    ds->clips[i].label = map[ds->clips[i].label];
}

static TrDataset *load_esc50(const char *root, const char *csv_path,
                             gboolean esc10, GError **error) {
  char *text = NULL;
  if (!g_file_get_contents(csv_path, &text, NULL, error))
    return NULL;
  char **lines = g_strsplit(text, "\n", -1);
  g_free(text);
  char **header = lines[0] ? g_strsplit(lines[0], ",", -1) : NULL;
  int c_file = -1, c_fold = -1, c_target = -1, c_cat = -1, c_esc10 = -1,
      c_src = -1;
  if (header) {
    c_file = column(header, "filename");
    c_fold = column(header, "fold");
    c_target = column(header, "target");
    c_cat = column(header, "category");
    c_esc10 = column(header, "esc10");
    c_src = column(header, "src_file");
  }
  g_strfreev(header);
  if (c_file < 0 || c_fold < 0 || c_target < 0 || c_cat < 0 ||
      (esc10 && c_esc10 < 0)) {
    g_set_error(error, DS_ERROR, 1,
                "%s: expected a header with the columns filename, fold, "
                "target, category%s",
                csv_path, esc10 ? ", esc10" : "");
    g_strfreev(lines);
    return NULL;
  }
  GArray *clips = g_array_new(FALSE, TRUE, sizeof(TrClip));
  char *names[1000] = {0};
  int max_target = -1;
  gboolean ok = TRUE;
  for (int li = 1; lines[li] && ok; li++) {
    char *line = g_strstrip(lines[li]);
    if (!*line)
      continue;
    char **f = g_strsplit(line, ",", -1);
    int nf = (int)g_strv_length(f);
    int need = MAX(MAX(c_file, c_fold), MAX(c_target, c_cat));
    need = MAX(need, MAX(c_esc10, c_src));
    char *end1, *end2;
    long fold = nf > need ? strtol(f[c_fold], &end1, 10) : -1;
    long target = nf > need ? strtol(f[c_target], &end2, 10) : -1;
    if (nf <= need || *end1 || *end2 || fold < 1 || fold > 1000 || target < 0 ||
        target > 999) {
      g_set_error(error, DS_ERROR, 1,
                  "%s line %d: expected %d comma-separated fields with a "
                  "fold >= 1 and a target 0..999: \"%s\"",
                  csv_path, li + 1, need + 1, line);
      ok = FALSE;
    } else if (!esc10 || g_ascii_strcasecmp(f[c_esc10], "true") == 0) {
      TrClip c = {0};
      c.name = g_build_filename("audio", f[c_file], NULL);
      c.path = g_build_filename(root, "audio", f[c_file], NULL);
      c.fold = (int)fold;
      c.label = (int)target;
      c.source = c_src >= 0 ? g_strdup(f[c_src]) : NULL;
      g_array_append_val(clips, c);
      if (!names[target])
        names[target] = g_strdup(f[c_cat]);
      max_target = MAX(max_target, (int)target);
    }
    g_strfreev(f);
  }
  g_strfreev(lines);
  if (ok)
    ok = all_files_present(clips, csv_path, root, error);
  TrDataset *ds = g_new0(TrDataset, 1);
  ds->root = g_strdup(root);
  ds->esc50 = TRUE;
  ds->n_clips = clips->len;
  ds->clips = (TrClip *)g_array_free(clips, FALSE);
  if (!ok) {
    for (int t = 0; t < 1000; t++)
      g_free(names[t]);
    tr_dataset_free(ds);
    return NULL;
  }
  set_esc50_labels(ds, names, max_target, esc10);
  return ds;
}

/* Extensions of the sound and video formats GStreamer decodes (with the
 * Debian plugin packages; a format whose decoder is missing is an error
 * naming the file when it is decoded). */
static const char *const media_exts[] = {
    ".wav", ".wave", ".flac", ".ogg", ".oga",  ".opus", ".mp3",  ".m4a",
    ".aac", ".mp4",  ".mka",  ".mkv", ".webm", ".aif",  ".aiff", ".aifc",
    ".au",  ".snd",  ".caf",  ".w64", ".wma",  ".spx",  ".amr",  ".ac3",
    ".mp2", ".mov",  ".avi",  ".3gp", NULL};

gboolean tr_dataset_media_name(const char *name) {
  char *lower = g_ascii_strdown(name, -1);
  gboolean ok = FALSE;
  for (size_t i = 0; media_exts[i]; i++)
    ok |= g_str_has_suffix(lower, media_exts[i]);
  g_free(lower);
  return ok;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The folders (want_dirs) or the sound files of dir, sorted. Hidden entries
 * are skipped; with warnings (a class folder), what else is there is left
 * out with a warning. */
static GPtrArray *sorted_entries(const char *dir, gboolean want_dirs,
                                 GPtrArray *warnings, GError **error) {
  GDir *d = g_dir_open(dir, 0, error);
  if (!d)
    return NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  while ((name = g_dir_read_name(d))) {
    if (name[0] == '.')
      continue;
    char *full = g_build_filename(dir, name, NULL);
    gboolean is_dir = g_file_test(full, G_FILE_TEST_IS_DIR);
    if (want_dirs ? is_dir : (!is_dir && tr_dataset_media_name(name)))
      g_ptr_array_add(out, g_strdup(name));
    else if (!want_dirs && warnings && is_dir)
      warn(warnings,
           "%s: a folder inside a class folder, left out (one "
           "folder per class, not nested)",
           full);
    else if (!want_dirs && warnings)
      warn(warnings,
           "%s: not a sound or video file extension (.wav, .flac, "
           ".ogg, .opus, .mp3, .m4a, .mp4, .mkv, ...), left out",
           full);
    g_free(full);
  }
  g_dir_close(d);
  if (out->len > 1) /* pdata is NULL in an empty array */
    qsort(out->pdata, out->len, sizeof(char *), cmp_str);
  return out;
}

static TrDataset *load_folders(const char *root, GError **error) {
  GPtrArray *classes = sorted_entries(root, TRUE, NULL, error);
  if (!classes)
    return NULL;
  GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
  GArray *clips = g_array_new(FALSE, TRUE, sizeof(TrClip));
  GPtrArray *labels = g_ptr_array_new();
  for (guint c = 0; c < classes->len; c++) {
    const char *cname = g_ptr_array_index(classes, c);
    char *cdir = g_build_filename(root, cname, NULL);
    GError *derr = NULL;
    GPtrArray *files = sorted_entries(cdir, FALSE, warnings, &derr);
    if (!files) {
      warn(warnings,
           "%s: cannot read the class folder (%s), the class is "
           "left out",
           cdir, derr->message);
      g_error_free(derr);
    } else if (files->len == 0) {
      warn(warnings, "%s: no sound files, the class \"%s\" is left out", cdir,
           cname);
    }
    if (files && files->len > 0) {
      int label = (int)labels->len;
      g_ptr_array_add(labels, g_strdup(cname));
      for (guint i = 0; i < files->len; i++) {
        TrClip clip = {0};
        clip.name = g_build_filename(cname, g_ptr_array_index(files, i), NULL);
        clip.path = g_build_filename(root, clip.name, NULL);
        clip.label = label;
        g_array_append_val(clips, clip);
      }
    }
    if (files)
      g_ptr_array_unref(files);
    g_free(cdir);
  }
  g_ptr_array_unref(classes);
  g_ptr_array_add(labels, NULL);
  TrDataset *ds = g_new0(TrDataset, 1);
  ds->root = g_strdup(root);
  ds->warnings = warnings;
  ds->labels = (char **)g_ptr_array_free(labels, FALSE);
  ds->n_labels = (int)g_strv_length(ds->labels);
  ds->n_clips = clips->len;
  ds->clips = (TrClip *)g_array_free(clips, FALSE);
  if (ds->n_clips == 0) {
    g_set_error(error, DS_ERROR, 1,
                "%s: no audio files found: expected meta/esc50.csv with "
                "audio/, or one folder per class holding sound files (.wav, "
                ".flac, .ogg, .opus, .mp3, .m4a, ...)",
                root);
    tr_dataset_free(ds);
    return NULL;
  }
  return ds;
}

static gboolean read_folds_csv(TrDataset *ds, const char *csv, GError **error) {
  char *text = NULL;
  if (!g_file_get_contents(csv, &text, NULL, error))
    return FALSE;
  GHashTable *by_name = g_hash_table_new(g_str_hash, g_str_equal);
  GHashTable *by_base =
      g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (size_t i = 0; i < ds->n_clips; i++) {
    g_hash_table_insert(by_name, ds->clips[i].name, &ds->clips[i]);
    g_hash_table_insert(by_base, g_path_get_basename(ds->clips[i].name),
                        &ds->clips[i]);
  }
  char **lines = g_strsplit(text, "\n", -1);
  g_free(text);
  gboolean ok = TRUE;
  for (int li = 0; lines[li] && ok; li++) {
    char *line = g_strstrip(lines[li]);
    if (!*line)
      continue;
    char **f = g_strsplit(line, ",", -1);
    char *end = NULL;
    long fold = g_strv_length(f) == 2 ? strtol(g_strstrip(f[1]), &end, 10) : -1;
    if (fold < 1 || fold > 1000 || (end && *end)) {
      if (li > 0) { /* the first line may be a header */
        g_set_error(error, DS_ERROR, 1,
                    "%s line %d: expected \"file,fold\" with a fold >= 1: "
                    "\"%s\"",
                    csv, li + 1, line);
        ok = FALSE;
      }
    } else {
      const char *key = g_strstrip(f[0]);
      TrClip *c = g_hash_table_lookup(by_name, key);
      if (!c)
        c = g_hash_table_lookup(by_base, key);
      if (c)
        c->fold = (int)fold;
      else
        warn(ds->warnings,
             "%s line %d: no file \"%s\" in the dataset %s, the row is "
             "ignored",
             csv, li + 1, key, ds->root);
    }
    g_strfreev(f);
  }
  g_strfreev(lines);
  g_hash_table_unref(by_name);
  g_hash_table_unref(by_base);
  for (size_t i = 0; ok && i < ds->n_clips; i++)
    if (ds->clips[i].fold == 0) {
      g_set_error(error, DS_ERROR, 1, "%s: no fold for the file %s", csv,
                  ds->clips[i].name);
      ok = FALSE;
    }
  return ok;
}

TrDataset *tr_dataset_load(const TrDatasetConfig *o, GError **error) {
  if (!o->data) {
    g_set_error(error, DS_ERROR, 1, "no dataset: give --data DIR");
    return NULL;
  }
  if (!g_file_test(o->data, G_FILE_TEST_IS_DIR)) {
    g_set_error(error, DS_ERROR, 1, "--data %s: not a directory", o->data);
    return NULL;
  }
  char *root = g_canonicalize_filename(o->data, NULL);
  char *csv = g_build_filename(root, "meta", "esc50.csv", NULL);
  TrDataset *ds;
  if (g_file_test(csv, G_FILE_TEST_EXISTS)) {
    ds = load_esc50(root, csv, o->esc10, error);
    if (ds && o->split_by_source > 0)
      tr_assign_folds(ds->clips, ds->n_clips, ds->n_labels, o->split_by_source,
                      (guint64)o->seed, TRUE);
  } else if (o->esc10 || o->split_by_source > 0) {
    g_set_error(error, DS_ERROR, 1,
                "%s: --esc10 and --split-by-source need the ESC-50 layout "
                "(%s not found)",
                root, csv);
    ds = NULL;
  } else {
    ds = load_folders(root, error);
    if (ds && o->folds_csv) {
      if (!read_folds_csv(ds, o->folds_csv, error))
        g_clear_pointer(&ds, tr_dataset_free);
    } else if (ds) {
      if (o->random_folds < 1) {
        g_set_error(error, DS_ERROR, 1,
                    "--random-folds %d: expected at least 1", o->random_folds);
        g_clear_pointer(&ds, tr_dataset_free);
      } else {
        tr_assign_folds(ds->clips, ds->n_clips, ds->n_labels, o->random_folds,
                        (guint64)o->seed, FALSE);
      }
    }
  }
  g_free(csv);
  g_free(root);
  if (ds) {
    ds->n_folds = 0;
    for (size_t i = 0; i < ds->n_clips; i++)
      ds->n_folds = MAX(ds->n_folds, ds->clips[i].fold);
    if (ds->n_clips == 0) {
      g_set_error(error, DS_ERROR, 1, "%s: the dataset has no clips", ds->root);
      g_clear_pointer(&ds, tr_dataset_free);
    }
  }
  return ds;
}

int *tr_training_folds(const TrDataset *ds, const char *list, int val_fold,
                       int *n, GError **error) {
  if (val_fold < 0 ||
      (val_fold > 0 && tr_dataset_fold_size(ds, val_fold) == 0)) {
    g_set_error(error, DS_ERROR, 1,
                "--val-fold %d: the dataset %s has no clip in fold %d (its "
                "folds are 1..%d)",
                val_fold, ds->root, val_fold, ds->n_folds);
    return NULL;
  }
  int *folds;
  if (list) {
    folds = tr_parse_fold_list(list, n, error);
    for (int i = 0; folds && i < *n; i++) {
      if (folds[i] == val_fold) {
        g_set_error(error, DS_ERROR, 1,
                    "fold %d is both a training fold (--folds) and the "
                    "validation fold (--val-fold)",
                    val_fold);
        g_clear_pointer(&folds, g_free);
      } else if (tr_dataset_fold_size(ds, folds[i]) == 0) {
        g_set_error(error, DS_ERROR, 1,
                    "--folds %s: the dataset %s has no clip in fold %d (its "
                    "folds are 1..%d)",
                    list, ds->root, folds[i], ds->n_folds);
        g_clear_pointer(&folds, g_free);
      }
    }
    return folds;
  }
  folds = g_new0(int, ds->n_folds + 1);
  *n = 0;
  for (int f = 1; f <= ds->n_folds; f++)
    if (f != val_fold && tr_dataset_fold_size(ds, f) > 0)
      folds[(*n)++] = f;
  if (*n == 0) {
    g_set_error(error, DS_ERROR, 1,
                "%s: no training fold is left besides the validation fold "
                "%d (the present clips are all in fold %d: use "
                "--split-by-source K or --random-folds K to make folds)",
                ds->root, val_fold, val_fold);
    g_clear_pointer(&folds, g_free);
  }
  return folds;
}
