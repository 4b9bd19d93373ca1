/* feature_cache.h - log-gammatone features cached on disk: audio files'
 * under a key made of the file's path, size, mtime and the feature
 * parameters; augmented copies' under their waveform's contents and draw. */
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

/* Key of a waveform: the SHA-1 of its n samples (g_free). */
char *tr_wave_key(const float *x, size_t n);

/* Key of an augmented copy of the waveform whose key is wave_key: the copy
 * made by engine (acrnn_time_pitch_engine()) with the draw factor and
 * semitones, its features with parameters p (g_free). */
char *tr_augment_key(const char *wave_key, double factor, double semitones,
                     const char *engine, const AcrnnFeatureParams *p);

/* Features of width floats a frame stored under key in dir, or NULL when
 * there are none (or the file is not a whole cache file of that width). */
float *tr_cache_load(const char *dir, const char *key, int width,
                     size_t *n_frames);

/* Stores n_frames frames of width floats under key in dir, atomically (a
 * reader sees the old file or the whole new one); a failure is a warning. */
void tr_cache_store(const char *dir, const char *key, const float *f,
                    size_t n_frames, int width);

#endif
