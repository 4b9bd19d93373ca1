/* fingerprint.c - hashes of the build, the options and the dataset of a
 * rank, compared across the ranks of a job before it trains. */
#include "fingerprint.h"
#include "dist.h"
#include <glib/gstdio.h>
#include <string.h>

#ifndef TR_VERSION
#define TR_VERSION "unknown"
#endif

static guint64 hash_str(guint64 h, const char *s) {
  return tr_hash_bytes(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

static guint64 hash_int(guint64 h, gint64 v) {
  return tr_hash_bytes(h, &v, sizeof v);
}

/* The build: version and the layout of what the ranks exchange. */
static guint64 build_hash(void) {
  guint64 h = hash_str(0, "acrnn-train " TR_VERSION);
  h = hash_int(h, (gint64)sizeof(float));
  h = hash_int(h, (gint64)sizeof(void *));
  return hash_int(h, G_BYTE_ORDER);
}

/* The options that shape the run and its collective calls; the dataset
 * location may differ between nodes (its content is compared on its own)
 * and only rank 0 writes the outputs of train. */
static guint64 options_hash(const TrOptions *o) {
  TrOptions c = *o;
  c.data = c.folds_csv = NULL;
  c.out = c.log = c.plot = c.checkpoint = NULL;
  char *json = tr_options_to_json(&c);
  guint64 h = hash_str(0, json);
  g_free(json);
  h = hash_int(h, o->stop_after_steps);
  h = hash_int(h, o->stop_after_epochs);
  h = hash_int(h, o->check_sync);
  h = hash_int(h, o->timings);
  h = hash_int(h, o->resume != NULL);
  h = hash_str(h, o->parallel);
  return h;
}

/* Labels, and each clip's name, label, fold and file size. */
static guint64 dataset_hash(const TrDataset *ds) {
  guint64 h = hash_int(0, ds->n_labels);
  for (int i = 0; i < ds->n_labels; i++)
    h = hash_str(h, ds->labels[i]);
  h = hash_int(h, (gint64)ds->n_clips);
  for (size_t i = 0; i < ds->n_clips; i++) {
    const TrClip *c = &ds->clips[i];
    GStatBuf st;
    gint64 size = g_stat(c->path, &st) == 0 ? (gint64)st.st_size : -1;
    h = hash_str(h, c->name);
    h = hash_int(h, c->label);
    h = hash_int(h, c->fold);
    h = hash_int(h, size);
  }
  return h;
}

gboolean tr_check_same_run(const TrOptions *o, const TrDataset *ds,
                           GError **error) {
  if (tr_dist_size() <= 1)
    return TRUE;
  const char *what[] = {"acrnn-train build (version " TR_VERSION ")", "options",
                        "dataset (labels, file names, folds and file sizes)"};
  guint64 v[] = {build_hash(), options_hash(o), dataset_hash(ds)};
  if (tr_dist_check_same(what, v, 3, error))
    return TRUE;
  g_prefix_error(error, "refusing to train: ");
  return FALSE;
}
