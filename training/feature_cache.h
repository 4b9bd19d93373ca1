/* feature_cache.h - log-gammatone features of audio files, cached on disk
 * under a key made of the file's path, size, mtime and the feature
 * parameters. */
#ifndef TR_FEATURE_CACHE_H
#define TR_FEATURE_CACHE_H

#include <acrnn/features.h>
#include <glib.h>

/* The cache directory for o->cache (NULL: the user cache dir). */
char *tr_cache_dir(const char *opt);

/* Features of path: from the cache when the key matches, else decoded,
 * computed and (cache_dir non-NULL) stored. hit tells which. */
float *tr_features_for_file(const char *path, const AcrnnFeatureParams *p,
                            const char *cache_dir, size_t *n_frames,
                            gboolean *hit, GError **error);

#endif
