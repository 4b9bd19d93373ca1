/* dump_features.c - test helper: reads raw float32 samples from a file,
 * computes their features with acrnn_features_compute() and writes the
 * frames as raw float32 [n_frames][2*bands].
 *   dump_features IN.f32 OUT.f32 [sample_rate n_fft hop bands fmin fmax
 *                                 [gammatone|mel]]
 * Prints the number of frames. */
#include <acrnn/features.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc != 3 && argc != 9 && argc != 10) {
    fprintf(stderr,
            "usage: %s IN.f32 OUT.f32 [sample_rate n_fft hop bands "
            "fmin fmax [gammatone|mel]]\n",
            argv[0]);
    return 2;
  }
  AcrnnFeatureParams p;
  acrnn_feature_params_init(&p);
  GError *error = NULL;
  if (argc == 10 && !acrnn_filterbank_parse(argv[9], &p.filterbank, &error)) {
    fprintf(stderr, "%s\n", error->message);
    g_error_free(error);
    return 2;
  }
  if (argc >= 9) {
    p.sample_rate = atoi(argv[3]);
    p.n_fft = atoi(argv[4]);
    p.hop = atoi(argv[5]);
    p.bands = atoi(argv[6]);
    p.fmin = g_ascii_strtod(argv[7], NULL);
    p.fmax = g_ascii_strtod(argv[8], NULL);
  }
  char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(argv[1], &data, &len, &error)) {
    fprintf(stderr, "%s\n", error->message);
    return 1;
  }
  size_t n_frames = 0;
  float *frames = acrnn_features_compute(
      &p, (const float *)data, len / sizeof(float), &n_frames, &error);
  g_free(data);
  if (frames == NULL) {
    fprintf(stderr, "%s: %s\n", argv[1], error->message);
    g_error_free(error);
    return 1;
  }
  gboolean ok = g_file_set_contents(
      argv[2], (const char *)frames,
      (gssize)(n_frames * 2 * (size_t)p.bands * sizeof(float)), &error);
  g_free(frames);
  if (!ok) {
    fprintf(stderr, "%s\n", error->message);
    return 1;
  }
  printf("%zu\n", n_frames);
  return 0;
}
