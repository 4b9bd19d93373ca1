/* synth_dataset.c - a tiny synthetic dataset and process helpers for the
 * trainer tests (see synth_dataset.h). */
#include "synth_dataset.h"
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

const char *const synth_fast_options[] = {"--sample-rate",
                                          "8000",
                                          "--n-fft",
                                          "256",
                                          "--hop",
                                          "128",
                                          "--bands",
                                          "32",
                                          "--segment-frames",
                                          "32",
                                          "--segment-hop",
                                          "16",
                                          "--no-cache",
                                          "--quiet",
                                          NULL};

void synth_clip(int c, int k, float *x, size_t n) {
  GRand *r = g_rand_new_with_seed(1000u * (guint)c + (guint)k);
  memset(x, 0, n * sizeof(float));
  if (c == 0) {
    double f = 400.0 + 60.0 * k;
    for (size_t i = 0; i < n; i++)
      x[i] = (float)(0.5 * sin(2 * G_PI * f * i / SYNTH_RATE));
  } else if (c == 1) {
    for (int b = 0; b < 3; b++) {
      size_t start = (size_t)(g_rand_int_range(r, 0, (gint32)(n * 3 / 4)));
      for (size_t i = start; i < MIN(n, start + n / 8); i++)
        x[i] = (float)(0.4 * (g_rand_double(r) * 2 - 1));
    }
  } else {
    size_t period = (size_t)(SYNTH_RATE / (8 + k));
    for (size_t i = 0; i < n; i += period)
      for (size_t j = 0; j < 16 && i + j < n; j++)
        x[i + j] = (float)(0.9 * (j % 2 ? -1 : 1) * (1.0 - j / 16.0));
  }
  for (size_t i = 0; i < n; i++)
    x[i] += (float)(0.003 * (g_rand_double(r) * 2 - 1));
  g_rand_free(r);
}

static void put16(FILE *f, unsigned v) {
  fputc((int)(v & 255), f);
  fputc((int)((v >> 8) & 255), f);
}

static void put32(FILE *f, unsigned v) {
  put16(f, v & 0xffff);
  put16(f, v >> 16);
}

void synth_write_wav(const char *path, const float *x, size_t n, int rate) {
  FILE *f = fopen(path, "wb");
  g_assert_nonnull(f);
  fwrite("RIFF", 1, 4, f);
  put32(f, (unsigned)(36 + n * 2));
  fwrite("WAVEfmt ", 1, 8, f);
  put32(f, 16);
  put16(f, 1);
  put16(f, 1);
  put32(f, (unsigned)rate);
  put32(f, (unsigned)rate * 2);
  put16(f, 2);
  put16(f, 16);
  fwrite("data", 1, 4, f);
  put32(f, (unsigned)(n * 2));
  for (size_t i = 0; i < n; i++) {
    double v = CLAMP(x[i], -1.0, 1.0) * 32767.0;
    put16(f, (unsigned)(int)lrint(v) & 0xffff);
  }
  fclose(f);
}

gboolean synth_wav_to_flac(const char *wav, const char *flac) {
  char *loc_in = g_strdup_printf("location=%s", wav);
  char *loc_out = g_strdup_printf("location=%s", flac);
  char *argv[] = {
      "gst-launch-1.0", "-q", "filesrc", loc_in, "!",        "wavparse", "!",
      "audioconvert",   "!",  "flacenc", "!",    "filesink", loc_out,    NULL};
  int status = -1;
  gboolean ok = g_spawn_sync(NULL, argv, NULL,
                             G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
                                 G_SPAWN_STDERR_TO_DEV_NULL,
                             NULL, NULL, NULL, NULL, &status, NULL) &&
                g_spawn_check_wait_status(status, NULL);
  g_free(loc_in);
  g_free(loc_out);
  return ok && g_file_test(flac, G_FILE_TEST_EXISTS);
}

static const char *const class_names[] = {"tone", "noise", "click"};

void synth_folder_dataset(const char *root, int per_class, int n_folds) {
  size_t n = SYNTH_RATE;
  float *x = g_new(float, n);
  GString *csv = g_string_new("file,fold\n");
  for (int c = 0; c < 3; c++) {
    char *dir = g_build_filename(root, class_names[c], NULL);
    g_mkdir_with_parents(dir, 0755);
    for (int k = 0; k < per_class; k++) {
      synth_clip(c, k, x, n);
      char *name = g_strdup_printf("clip%d.wav", k);
      char *wav = g_build_filename(dir, name, NULL);
      synth_write_wav(wav, x, n, SYNTH_RATE);
      char *rel = g_strdup_printf("%s/%s", class_names[c], name);
      if (k % 2 == 1) {
        char *flac = g_strdup_printf("%s/clip%d.flac", dir, k);
        if (synth_wav_to_flac(wav, flac)) {
          g_unlink(wav);
          g_free(rel);
          rel = g_strdup_printf("%s/clip%d.flac", class_names[c], k);
        }
        g_free(flac);
      }
      g_string_append_printf(csv, "%s,%d\n", rel, k % n_folds + 1);
      g_free(rel);
      g_free(wav);
      g_free(name);
    }
    g_free(dir);
  }
  char *csv_path = g_build_filename(root, "folds.csv", NULL);
  g_assert_true(g_file_set_contents(csv_path, csv->str, -1, NULL));
  g_free(csv_path);
  g_string_free(csv, TRUE);
  g_free(x);
}

void synth_esc50_dataset(const char *root, int per_class, int n_folds) {
  size_t n = SYNTH_RATE;
  float *x = g_new(float, n);
  char *meta = g_build_filename(root, "meta", NULL);
  char *audio = g_build_filename(root, "audio", NULL);
  g_mkdir_with_parents(meta, 0755);
  g_mkdir_with_parents(audio, 0755);
  GString *csv =
      g_string_new("filename,fold,target,category,esc10,src_file,take\n");
  for (int c = 0; c < 3; c++)
    for (int k = 0; k < per_class; k++) {
      synth_clip(c, k, x, n);
      int fold = k % n_folds + 1, src = 100 * c + k / 2;
      char *base = g_strdup_printf("%d-%d-%c-%d", fold, src, 'A' + k % 2, c);
      char *wav = g_strdup_printf("%s/%s.wav", audio, base);
      char *flac = g_strdup_printf("%s/%s.flac", audio, base);
      synth_write_wav(wav, x, n, SYNTH_RATE);
      const char *ext = ".flac";
      if (synth_wav_to_flac(wav, flac))
        g_unlink(wav);
      else
        ext = ".wav";
      g_string_append_printf(csv, "%s%s,%d,%d,%s,%s,%d,%c\n", base, ext, fold,
                             c, class_names[c], c == 1 ? "False" : "True", src,
                             'A' + k % 2);
      g_free(base);
      g_free(wav);
      g_free(flac);
    }
  char *csv_path = g_build_filename(meta, "esc50.csv", NULL);
  g_assert_true(g_file_set_contents(csv_path, csv->str, -1, NULL));
  g_free(csv_path);
  g_string_free(csv, TRUE);
  g_free(meta);
  g_free(audio);
  g_free(x);
}

int synth_run(char **argv, char **out, char **err) {
  int status = -1;
  GError *error = NULL;
  char *o = NULL, *e = NULL;
  if (g_test_verbose()) {
    char *cmd = g_strjoinv(" ", argv);
    g_test_message("run: %s", cmd);
    g_free(cmd);
  }
  gboolean ok = g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &o,
                             &e, &status, &error);
  g_assert_no_error(error);
  g_assert_true(ok);
  if (g_test_verbose())
    g_test_message("stdout:\n%s\nstderr:\n%s", o, e);
  int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (out)
    *out = o;
  else
    g_free(o);
  if (err)
    *err = e;
  else
    g_free(e);
  return rc;
}

GBytes *synth_read(const char *path) {
  char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &data, &len, NULL))
    return NULL;
  return g_bytes_new_take(data, len);
}

const char *synth_train_exe(int argc, char **argv, const char *test) {
  const char *exe = g_getenv("ACRNN_TRAIN");
  if (!exe && argc > 1)
    exe = argv[1];
  if (!exe)
    g_printerr("usage: %s PATH-TO-acrnn-train\n", test);
  return exe;
}

void synth_remove_tree(const char *dir) {
  char *argv[] = {"rm", "-rf", (char *)dir, NULL};
  g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
               NULL, NULL);
}
