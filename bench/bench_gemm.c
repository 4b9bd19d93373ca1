/* bench_gemm.c - the bf16 matrix product (libacrnn/nn/gemm_bf16.c) on the
 * shapes the network gives it at batch 64: the im2col products of blocks
 * 3, 5 and 7 (forward, input gradient, weight gradient) and the GRU's input
 * product. GFLOP/s per CPU second, the median of R calls (after one
 * untimed call that first touches the buffers). The table behind the tile
 * and block sizes chosen in gemm_bf16.c; run two builds alternately to
 * compare them, since the figures of one run on a shared machine differ by
 * 10-25 %.
 *
 *   bench_gemm [--threads N] [--rounds R] */
#include "gemm_bf16.h"

#include <acrnn/acrnn.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  const char *name;
  int trans_a, trans_b, m, n, k;
} Shape;

/* C = op(A) op(B): conv forward = W [cout][cin kk] x columns [cin kk][n h
 * w]; input gradient = W^T x dy; weight gradient = dy x columns^T. */
static const Shape shapes[] = {
    {"conv3.fwd", 0, 0, 64, 86016, 192},
    {"conv3.dgrad", 1, 0, 192, 86016, 64},
    {"conv3.wgrad", 0, 1, 64, 192, 86016},
    {"conv5.fwd", 0, 0, 128, 21504, 640},
    {"conv7.fwd", 0, 0, 256, 7168, 2304},
    {"conv7.dgrad", 1, 0, 2304, 7168, 256},
    {"conv7.wgrad", 0, 1, 256, 2304, 7168},
    {"gru.input", 0, 1, 448, 768, 512},
};

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static float *filled(size_t n, float scale) {
  float *v = g_new(float, n);
  for (size_t i = 0; i < n; i++)
    v[i] = scale * (float)((int)(i % 13) - 6);
  return v;
}

int main(int argc, char **argv) {
  int threads = 1, rounds = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--threads") == 0)
      threads = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--rounds") == 0)
      rounds = atoi(argv[i + 1]);
  }
  rounds = CLAMP(rounds, 1, 99);
  acrnn_set_threads(threads);
  printf("# threads %d; shape m n k GFLOP/s (median of %d, per CPU second) "
         "min max\n",
         threads, rounds);
  for (size_t q = 0; q < G_N_ELEMENTS(shapes); q++) {
    const Shape *s = &shapes[q];
    const size_t na = (size_t)s->m * s->k, nb = (size_t)s->k * s->n;
    float *a = filled(na, 0.1f), *b = filled(nb, 0.1f);
    float *c = filled((size_t)s->m * s->n, 0.0f);
    const int lda = s->trans_a ? s->m : s->k, ldb = s->trans_b ? s->k : s->n;
    const double flop = 2.0 * s->m * s->n * s->k;
    double r[99];
    acrnn_gemm_bf16(s->trans_a, s->trans_b, s->m, s->n, s->k, a, lda, b, ldb,
                    0.0f, c, s->n);
    for (int i = 0; i < rounds; i++) {
      const double t0 = cpu_now();
      acrnn_gemm_bf16(s->trans_a, s->trans_b, s->m, s->n, s->k, a, lda, b, ldb,
                      0.0f, c, s->n);
      r[i] = flop / (cpu_now() - t0) / 1e9;
    }
    qsort(r, rounds, sizeof r[0], cmp_double);
    printf("%-12s %5d %6d %6d %7.1f %7.1f %7.1f\n", s->name, s->m, s->n, s->k,
           r[rounds / 2], r[0], r[rounds - 1]);
    fflush(stdout);
    g_free(a), g_free(b), g_free(c);
  }
  return 0;
}
