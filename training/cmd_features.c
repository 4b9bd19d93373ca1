/* cmd_features.c - "acrnn-train features": fills the feature cache of a
 * dataset so that later train/cv/eval runs skip decoding. */
#include "commands.h"
#include "dataset.h"
#include "feature_cache.h"
#include "options.h"
#include "progress.h"
#include "reporter.h"
#include <acrnn/acrnn.h>
#include <stdio.h>

static const char summary[] =
    "Decodes every clip of a dataset and stores its log-gammatone features\n"
    "in the cache. An entry is keyed by the file's path, size and mtime and\n"
    "the feature parameters, so a changed file or changed parameters are\n"
    "computed again. With --no-cache it only checks that every clip\n"
    "decodes.";

int tr_cmd_features(int argc, char **argv) {
  TrOptions o;
  tr_options_init(&o);
  GError *error = NULL;
  TrDataset *ds = NULL;
  int rc = 1;
  gboolean ok =
      tr_options_parse(&o, TR_CMD_FEATURES, summary, &argc, &argv, &error);
  AcrnnFeatureParams fp;
  if (ok)
    ok = tr_options_feature_params(&o, &fp, &error);
  TrDatasetConfig dc = tr_options_dataset(&o);
  if (ok)
    ok = (ds = tr_dataset_load(&dc, &error)) != NULL;
  if (ok)
    tr_dataset_print_warnings(ds);
  if (ok) {
    /* --no-cache: only checks that every clip decodes */
    char *cache = o.no_cache ? NULL : tr_cache_dir(o.cache);
    size_t hits = 0, frames = 0;
    TrProgress progress;
    tr_progress_init(&progress, o.quiet, NULL);
    for (size_t i = 0; ok && i < ds->n_clips; i++) {
      size_t nf = 0;
      gboolean hit = FALSE;
      float *f = tr_features_for_file(ds->clips[i].path, &fp, cache, &nf, &hit,
                                      &error);
      ok = f != NULL;
      g_free(f);
      hits += hit;
      frames += nf;
      tr_progress_count(&progress, i + 1 == ds->n_clips, "%zu/%zu clips", i + 1,
                        ds->n_clips);
    }
    tr_progress_clear(&progress);
    if (ok) {
      printf("%zu clips, %zu frames: %zu from the cache, %zu computed; "
             "cache %s\n",
             ds->n_clips, frames, hits, ds->n_clips - hits,
             cache ? cache : "not used (--no-cache)");
      rc = 0;
    }
    g_free(cache);
  }
  if (!ok) {
    tr_report_error("features", error);
    g_clear_error(&error);
  }
  tr_dataset_free(ds);
  tr_options_clear(&o);
  return rc;
}
