/* bench_roofline.c - the rows of the README's roofline table: GFLOP/s of
 * each layer of the network at batch 64, forward and backward, in fp32 and
 * in bf16, against the peaks bench_peak measures on the same machine.
 *
 *   bench_roofline [--threads N] [--seconds S] [--precision fp32|bf16|both]
 * Prints "layer pass precision gflop_per_segment gflops": the 8 conv
 * blocks (forward; backward = input gradient + weight gradient, block 0
 * without input gradient, then each alone: bwd.data and bwd.wts), the 4
 * GRU directions of each layer counted together (forward; backward through
 * time), and the classifier. Times are CPU time of this process (all its
 * threads), which other load on a shared machine disturbs less than wall
 * time. The whole step is bench_network's train_b64. */
#include "gemm.h"
#include "layers.h"

#include <acrnn/acrnn.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N 64
#define T 7
#define H 256

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

static float *filled(size_t n, float scale) {
  float *v = g_new(float, n ? n : 1);
  for (size_t i = 0; i < n; i++)
    v[i] = scale * (float)((int)(i % 13) - 6);
  return v;
}

typedef void (*PassFn)(void *ctx, int backward);

/* CPU seconds per call of f, run for about `seconds`. */
static double seconds_per_call(PassFn f, void *ctx, int backward,
                               double seconds) {
  f(ctx, backward); /* warm-up: first touches */
  long reps = 0;
  const double t0 = cpu_now();
  double t;
  do {
    f(ctx, backward);
    reps++;
    t = cpu_now() - t0;
  } while (t < seconds);
  return t / reps;
}

typedef struct {
  const Shape *s;
  float *x, *y, *w, *b, *dx, *dw, *db, *ws;
  int first;
} ConvCtx;

/* backward: 1 both gradients, BWD_DATA the input's only, BWD_WEIGHTS the
 * weights' only */
enum { BWD_DATA = 2, BWD_WEIGHTS = 3 };

static void conv_pass(void *data, int backward) {
  ConvCtx *c = data;
  const Shape *s = c->s;
  if (backward)
    acrnn_conv2d_backward(c->first || backward == BWD_WEIGHTS ? NULL : c->dx,
                          backward == BWD_DATA ? NULL : c->dw,
                          backward == BWD_DATA ? NULL : c->db, c->y, c->x, c->w,
                          N, s->cin, s->cout, s->h, s->w, s->kh, s->kw, c->ws);
  else
    acrnn_conv2d_forward(c->y, c->x, c->w, c->b, N, s->cin, s->cout, s->h, s->w,
                         s->kh, s->kw, c->ws);
}

typedef struct {
  int in;
  float *x, *y, *dx, *cache[2], *w_ih, *w_hh, *b_ih, *b_hh, *dw_ih, *dw_hh,
      *db_ih, *db_hh, *ws;
} GruCtx;

static void gru_pass(void *data, int backward) {
  GruCtx *g = data;
  for (int dir = 0; dir < 2; dir++) {
    if (backward)
      acrnn_gru_backward(g->dx, g->dw_ih, g->dw_hh, g->db_ih, g->db_hh, g->y,
                         2 * H, dir * H, g->cache[dir], g->x, N, T, g->in, H,
                         g->w_ih, g->w_hh, dir, g->ws);
    else
      acrnn_gru_forward(g->y, 2 * H, dir * H, g->cache[dir], g->x, N, T, g->in,
                        H, g->w_ih, g->w_hh, g->b_ih, g->b_hh, dir, g->ws);
  }
}

typedef struct {
  float *x, *y, *w, *b, *dx, *dw, *db;
  int in, out;
} DenseCtx;

static void dense_pass(void *data, int backward) {
  DenseCtx *d = data;
  if (backward)
    acrnn_dense_backward(d->dx, d->dw, d->db, d->y, d->x, d->w, N * T, d->in,
                         d->out);
  else
    acrnn_dense_forward(d->y, d->x, d->w, d->b, N * T, d->in, d->out);
}

static void report(const char *layer, const char *pass, AcrnnPrecision p,
                   double flop, double s) {
  printf("%-8s %-8s %s %8.4f %7.1f\n", layer, pass,
         acrnn_precision_to_string(p), flop / N / 1e9, flop / s / 1e9);
  fflush(stdout);
}

static void run(AcrnnPrecision p, double seconds) {
  acrnn_gemm_set_precision(p);
  for (int k = 0; k < 8; k++) {
    const Shape *s = &blocks[k];
    const size_t nx = (size_t)s->cin * N * s->h * s->w;
    const size_t ny = (size_t)s->cout * N * s->h * s->w;
    const size_t nw = (size_t)s->cout * s->cin * s->kh * s->kw;
    ConvCtx c = {s,
                 filled(nx, 0.1f),
                 filled(ny, 0.1f),
                 filled(nw, 0.01f),
                 filled(s->cout, 0.0f),
                 filled(nx, 0.0f),
                 filled(nw, 0.0f),
                 filled(s->cout, 0.0f),
                 filled(acrnn_conv2d_workspace(s->cin, s->cout, N, s->h, s->w,
                                               s->kh, s->kw),
                        0.0f),
                 k == 0};
    const double f = 2.0 * (double)nw * N * s->h * s->w;
    char name[16];
    g_snprintf(name, sizeof name, "conv%d", k);
    report(name, "forward", p, f, seconds_per_call(conv_pass, &c, 0, seconds));
    report(name, "backward", p, k == 0 ? f : 2 * f,
           seconds_per_call(conv_pass, &c, 1, seconds));
    if (k > 0)
      report(name, "bwd.data", p, f,
             seconds_per_call(conv_pass, &c, BWD_DATA, seconds));
    report(name, "bwd.wts", p, f,
           seconds_per_call(conv_pass, &c, BWD_WEIGHTS, seconds));
    g_free(c.x), g_free(c.y), g_free(c.w), g_free(c.b), g_free(c.dx);
    g_free(c.dw), g_free(c.db), g_free(c.ws);
  }
  const int ins[2] = {1024, 2 * H};
  for (int l = 0; l < 2; l++) {
    const int in = ins[l];
    GruCtx g = {in,
                filled((size_t)N * T * in, 0.1f),
                filled((size_t)N * T * 2 * H, 0.01f),
                filled((size_t)N * T * in, 0.0f),
                {filled(acrnn_gru_cache_size(N, T, H), 0.0f),
                 filled(acrnn_gru_cache_size(N, T, H), 0.0f)},
                filled((size_t)3 * H * in, 0.01f),
                filled((size_t)3 * H * H, 0.01f),
                filled(3 * H, 0.0f),
                filled(3 * H, 0.0f),
                filled((size_t)3 * H * in, 0.0f),
                filled((size_t)3 * H * H, 0.0f),
                filled(3 * H, 0.0f),
                filled(3 * H, 0.0f),
                filled(acrnn_gru_workspace(N, T, H), 0.0f)};
    const double f = 2.0 * 2.0 * N * T * 3.0 * H * (in + H);
    char name[16];
    g_snprintf(name, sizeof name, "gru%d", l);
    report(name, "forward", p, f, seconds_per_call(gru_pass, &g, 0, seconds));
    report(name, "backward", p, 2 * f,
           seconds_per_call(gru_pass, &g, 1, seconds));
    g_free(g.x), g_free(g.y), g_free(g.dx), g_free(g.cache[0]);
    g_free(g.cache[1]), g_free(g.w_ih), g_free(g.w_hh), g_free(g.b_ih);
    g_free(g.b_hh), g_free(g.dw_ih), g_free(g.dw_hh), g_free(g.db_ih);
    g_free(g.db_hh), g_free(g.ws);
  }
  /* the attention MLP (512 -> 256 on every step): the largest dense layer */
  DenseCtx d = {filled((size_t)N * T * 2 * H, 0.1f),
                filled((size_t)N * T * H, 0.1f),
                filled((size_t)H * 2 * H, 0.01f),
                filled(H, 0.0f),
                filled((size_t)N * T * 2 * H, 0.0f),
                filled((size_t)H * 2 * H, 0.0f),
                filled(H, 0.0f),
                2 * H,
                H};
  const double f = 2.0 * N * T * 2 * H * H;
  report("att.mlp", "forward", p, f,
         seconds_per_call(dense_pass, &d, 0, seconds));
  report("att.mlp", "backward", p, 2 * f,
         seconds_per_call(dense_pass, &d, 1, seconds));
  g_free(d.x), g_free(d.y), g_free(d.w), g_free(d.b), g_free(d.dx);
  g_free(d.dw), g_free(d.db);
  acrnn_gemm_set_precision(ACRNN_PRECISION_FP32);
}

int main(int argc, char **argv) {
  int threads = 1;
  double seconds = 0.5;
  const char *precision = "both";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--threads") == 0)
      threads = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--seconds") == 0)
      seconds = atof(argv[i + 1]);
    else if (strcmp(argv[i], "--precision") == 0)
      precision = argv[i + 1];
  }
  acrnn_set_threads(threads);
  printf("# threads %d, batch %d; layer pass precision GFLOP-per-segment "
         "GFLOP/s (per CPU second)\n",
         threads, N);
  if (strcmp(precision, "bf16") != 0)
    run(ACRNN_PRECISION_FP32, seconds);
  if (strcmp(precision, "fp32") != 0)
    run(ACRNN_PRECISION_BF16, seconds);
  return 0;
}
