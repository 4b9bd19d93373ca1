/* bench_conv.c - the network's eight convolutions, each through both paths
 * of conv2d.c (im2col + sgemm, and the direct kernel), forward and input
 * gradient, at batch 1 and 64: GFLOP/s of each and the ratio direct /
 * im2col, and which path the automatic choice takes. This is the table the
 * choice in conv2d_direct.c rests on.
 *
 *   bench_conv [--threads N] [--seconds S]
 * Times are CPU time of this process (all its threads), which other load on
 * a shared machine disturbs less than wall time. */
#include "conv2d_direct.h"
#include "layers.h"

#include <acrnn/acrnn.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  int cin, cout, h, w, kh, kw;
} Shape;

/* docs/network.md: blocks 0..7 on a [2, 128, 128] input. */
static const Shape blocks[8] = {
    {2, 32, 128, 128, 3, 5}, {32, 32, 128, 128, 3, 5}, {32, 64, 32, 42, 3, 1},
    {64, 64, 32, 42, 3, 1},  {64, 128, 8, 42, 1, 5},   {128, 128, 8, 42, 1, 5},
    {128, 256, 8, 14, 3, 3}, {256, 256, 8, 14, 3, 3},
};

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* GFLOP/s of the forward (backward: input gradient) of s at batch n on the
 * current path, run for about `seconds` of CPU time. */
static double gflops(const Shape *s, int n, int backward, double seconds) {
  const size_t nx = (size_t)s->cin * n * s->h * s->w;
  const size_t ny = (size_t)s->cout * n * s->h * s->w;
  const size_t nw = (size_t)s->cout * s->cin * s->kh * s->kw;
  float *x = g_new(float, nx), *y = g_new(float, ny), *w = g_new(float, nw);
  float *b = g_new0(float, s->cout);
  for (size_t i = 0; i < nx; i++)
    x[i] = (float)(i % 7) - 3.0f;
  for (size_t i = 0; i < ny; i++)
    y[i] = (float)(i % 5) - 2.0f;
  for (size_t i = 0; i < nw; i++)
    w[i] = 0.01f * (float)(i % 11);
  const size_t nws =
      acrnn_conv2d_workspace(s->cin, s->cout, n, s->h, s->w, s->kh, s->kw);
  float *ws = g_new(float, nws ? nws : 1);
  const double flop = 2.0 * (double)nw * n * s->h * s->w;
  long reps = 0;
  const double t0 = cpu_now();
  double t;
  do {
    if (backward)
      acrnn_conv2d_backward(x, NULL, NULL, y, x, w, n, s->cin, s->cout, s->h,
                            s->w, s->kh, s->kw, ws);
    else
      acrnn_conv2d_forward(y, x, w, b, n, s->cin, s->cout, s->h, s->w, s->kh,
                           s->kw, ws);
    reps++;
    t = cpu_now() - t0;
  } while (t < seconds);
  g_free(x), g_free(y), g_free(w), g_free(b), g_free(ws);
  return flop * reps / t / 1e9;
}

int main(int argc, char **argv) {
  int threads = 1;
  double seconds = 0.3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--threads") == 0)
      threads = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--seconds") == 0)
      seconds = atof(argv[i + 1]);
  }
  acrnn_set_threads(threads);
  printf("# threads %d, direct kernel build %s; GFLOP/s per CPU second\n",
         threads, acrnn_conv2d_direct_isa());
  printf("# block shape                 pass     batch  im2col  direct  "
         "ratio  auto\n");
  for (int k = 0; k < 8; k++) {
    const Shape *s = &blocks[k];
    for (int backward = 0; backward < 2; backward++) {
      if (k == 0 && backward)
        continue; /* the input needs no gradient */
      for (int n = 1; n <= 64; n *= 64) {
        acrnn_conv2d_set_path(ACRNN_CONV_IM2COL);
        const double a = gflops(s, n, backward, seconds);
        acrnn_conv2d_set_path(ACRNN_CONV_DIRECT);
        const double d = gflops(s, n, backward, seconds);
        acrnn_conv2d_set_path(ACRNN_CONV_AUTO);
        printf("conv%d %3d->%-3d %3dx%-3d %dx%d  %-8s %5d  %6.1f  %6.1f  "
               "%4.2fx  %s\n",
               k, s->cin, s->cout, s->h, s->w, s->kh, s->kw,
               backward ? "input-grad" : "forward", n, a, d, d / a,
               acrnn_conv2d_direct_chosen(s->h, s->w, s->kh, s->kw) ? "direct"
                                                                    : "im2col");
      }
    }
  }
  return 0;
}
