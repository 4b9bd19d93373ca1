/* synth_dataset.h - a tiny synthetic dataset for the trainer tests: three
 * classes (tone, noise, click) of 1 s clips, written as WAV and FLAC in the
 * folder-per-class and the ESC-50 layouts, and helpers to run acrnn-train. */
#ifndef SYNTH_DATASET_H
#define SYNTH_DATASET_H

#include <glib.h>

#define SYNTH_RATE 8000

/* Fills x (n samples at SYNTH_RATE) with clip k of class c (0 tone,
 * 1 noise, 2 click). */
void synth_clip(int c, int k, float *x, size_t n);

/* Writes a 16-bit mono WAV. */
void synth_write_wav(const char *path, const float *x, size_t n, int rate);

/* Converts a WAV to FLAC with GStreamer's flacenc (gst-launch-1.0);
 * FALSE if that is not possible. */
gboolean synth_wav_to_flac(const char *wav, const char *flac);

/* root/<class>/clip<k>.wav|flac (odd k as FLAC when possible), per_class
 * clips each, and root/folds.csv assigning clip k to fold k % n_folds + 1. */
void synth_folder_dataset(const char *root, int per_class, int n_folds);

/* root/meta/esc50.csv + root/audio/<name>.flac: per_class clips per class in
 * folds k % n_folds + 1; class 0 and 2 are marked esc10; src_file groups
 * pairs of takes. */
void synth_esc50_dataset(const char *root, int per_class, int n_folds);

/* Runs argv (NULL-terminated, argv[0] = acrnn-train path); returns the
 * exit status and the outputs (g_free; may be NULL). */
int synth_run(char **argv, char **out, char **err);

/* The acrnn-train to test: $ACRNN_TRAIN, else argv[1]; NULL (after a usage
 * message naming test) when neither is given. */
const char *synth_train_exe(int argc, char **argv, const char *test);

/* Removes a test's scratch folder and everything in it. */
void synth_remove_tree(const char *dir);

/* The options that make the network tiny and fast. */
extern const char *const synth_fast_options[];

/* Reads a whole file; NULL if absent. */
GBytes *synth_read(const char *path);

#endif
