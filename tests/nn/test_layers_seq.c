/* test_layers_seq - the sequence layers (GRU, rnn attention, cnn attention,
 * mean over time): forward against naive double-precision references,
 * backward against central finite differences, += accumulation. */
#include "layers.h"

#include <glib.h>
#include <math.h>
#include <string.h>

/* ---- helpers ----------------------------------------------------------- */

static GRand *rng;

static float *rand_array(size_t n, float scale) {
  float *a = g_new(float, n);
  for (size_t k = 0; k < n; k++)
    a[k] = (float)g_rand_double_range(rng, -scale, scale);
  return a;
}

static float *zeros(size_t n) {
  return g_new0(float, n);
}

static void assert_close(const char *what, size_t k, double got, double want,
                         double atol, double rtol) {
  double tol = atol + rtol * fmax(fabs(got), fabs(want));
  if (!(fabs(got - want) <= tol))
    g_error("%s[%zu]: got %.7g, expected %.7g (tolerance %.3g)", what, k, got,
            want, tol);
}

/* Checks grad (analytic) against central differences of loss() for every
 * element of p. */
typedef double (*LossFn)(void *ctx);

static void check_grad(const char *what, float *p, const float *grad, size_t n,
                       LossFn loss, void *ctx, float eps) {
  for (size_t k = 0; k < n; k++) {
    float saved = p[k];
    p[k] = saved + eps;
    double lp = loss(ctx);
    p[k] = saved - eps;
    double lm = loss(ctx);
    p[k] = saved;
    double fd = (lp - lm) / (2.0 * eps);
    assert_close(what, k, grad[k], fd, 1e-3, 1e-2);
  }
}

/* a second backward call must double every gradient */
static void check_doubled(const char *what, const float *twice,
                          const float *once, size_t n) {
  for (size_t k = 0; k < n; k++)
    assert_close(what, k, twice[k], 2.0 * once[k], 1e-6, 1e-5);
}

static double sigmoid(double x) {
  return 1.0 / (1.0 + exp(-x));
}

/* ---- GRU --------------------------------------------------------------- */

enum { GN = 3, GT = 5, GIN = 7, GH = 4, GLDY = 2 * GH + 3 };

typedef struct {
  float *x, *w_ih, *w_hh, *b_ih, *b_hh;
  float *y, *cache, *ws, *r;
  int col, reverse;
} GruCase;

static GruCase *gru_case_new(int col, int reverse) {
  GruCase *g = g_new0(GruCase, 1);
  g->x = rand_array((size_t)GN * GT * GIN, 1.0f);
  g->w_ih = rand_array(3 * GH * GIN, 0.5f);
  g->w_hh = rand_array(3 * GH * GH, 0.5f);
  g->b_ih = rand_array(3 * GH, 0.5f);
  g->b_hh = rand_array(3 * GH, 0.5f);
  g->y = zeros((size_t)GN * GT * GLDY);
  g->cache = zeros(acrnn_gru_cache_size(GN, GT, GH));
  g->ws = zeros(acrnn_gru_workspace(GN, GT, GH));
  g->r = rand_array((size_t)GN * GT * GLDY, 1.0f);
  g->col = col;
  g->reverse = reverse;
  return g;
}

static void gru_case_free(GruCase *g) {
  g_free(g->x), g_free(g->w_ih), g_free(g->w_hh), g_free(g->b_ih);
  g_free(g->b_hh), g_free(g->y), g_free(g->cache), g_free(g->ws);
  g_free(g->r), g_free(g);
}

static void gru_run(GruCase *g) {
  acrnn_gru_forward(g->y, GLDY, g->col, g->cache, g->x, GN, GT, GIN, GH,
                    g->w_ih, g->w_hh, g->b_ih, g->b_hh, g->reverse, g->ws);
}

/* L = sum over the written outputs of y * r */
static double gru_loss(void *ctx) {
  GruCase *g = ctx;
  gru_run(g);
  double l = 0.0;
  for (int row = 0; row < GN * GT; row++)
    for (int j = 0; j < GH; j++) {
      size_t k = (size_t)row * GLDY + g->col + j;
      l += (double)g->y[k] * g->r[k];
    }
  return l;
}

/* naive PyTorch GRU in double: out [N][T][H] */
static void gru_reference(double *out, const GruCase *g) {
  for (int i = 0; i < GN; i++) {
    double h[GH] = {0}, hn[GH];
    for (int s = 0; s < GT; s++) {
      int t = g->reverse ? GT - 1 - s : s;
      const float *x = g->x + ((size_t)i * GT + t) * GIN;
      for (int j = 0; j < GH; j++) {
        double gi[3], gh[3];
        for (int q = 0; q < 3; q++) {
          int row = q * GH + j;
          gi[q] = g->b_ih[row];
          gh[q] = g->b_hh[row];
          for (int k = 0; k < GIN; k++)
            gi[q] += (double)g->w_ih[row * GIN + k] * x[k];
          for (int k = 0; k < GH; k++)
            gh[q] += (double)g->w_hh[row * GH + k] * h[k];
        }
        double r = sigmoid(gi[0] + gh[0]);
        double z = sigmoid(gi[1] + gh[1]);
        double n = tanh(gi[2] + r * gh[2]);
        hn[j] = (1.0 - z) * n + z * h[j];
      }
      memcpy(h, hn, sizeof h);
      memcpy(out + ((size_t)i * GT + t) * GH, h, sizeof h);
    }
  }
}

static void test_gru_forward(void) {
  /* forward at column 1 and reverse at column H + 2 of one output, as the
   * network lays out a bidirectional layer (with extra offsets) */
  GruCase *f = gru_case_new(1, 0), *b = gru_case_new(GH + 2, 1);
  const float sentinel = 12345.0f;
  float *y = f->y;
  for (size_t k = 0; k < (size_t)GN * GT * GLDY; k++)
    y[k] = sentinel;
  g_free(b->y);
  b->y = y; /* both directions write into the same output */
  gru_run(f);
  gru_run(b);
  double ref[GN * GT * GH];
  for (int pass = 0; pass < 2; pass++) {
    GruCase *g = pass ? b : f;
    gru_reference(ref, g);
    for (int row = 0; row < GN * GT; row++)
      for (int j = 0; j < GH; j++)
        assert_close(pass ? "gru reverse y" : "gru forward y",
                     (size_t)row * GH + j, y[(size_t)row * GLDY + g->col + j],
                     ref[row * GH + j], 1e-5, 1e-5);
  }
  /* columns 0, H+1 and 2H+2 belong to nobody and stay untouched */
  for (int row = 0; row < GN * GT; row++) {
    g_assert_cmpfloat(y[(size_t)row * GLDY], ==, sentinel);
    g_assert_cmpfloat(y[(size_t)row * GLDY + GH + 1], ==, sentinel);
    g_assert_cmpfloat(y[(size_t)row * GLDY + 2 * GH + 2], ==, sentinel);
  }
  b->y = NULL;
  gru_case_free(f);
  gru_case_free(b);
}

static void gru_backward_one(int reverse) {
  GruCase *g = gru_case_new(reverse ? GH + 2 : 1, reverse);
  size_t nx = (size_t)GN * GT * GIN;
  float *dx = zeros(nx), *dwi = zeros(3 * GH * GIN), *dwh = zeros(3 * GH * GH);
  float *dbi = zeros(3 * GH), *dbh = zeros(3 * GH);
  /* dy = r where this direction wrote, NaN elsewhere: it must not be read */
  float *dy = g_memdup2(g->r, (size_t)GN * GT * GLDY * sizeof(float));
  for (int row = 0; row < GN * GT; row++)
    for (int k = 0; k < GLDY; k++)
      if (k < g->col || k >= g->col + GH)
        dy[(size_t)row * GLDY + k] = NAN;

  gru_run(g);
  acrnn_gru_backward(dx, dwi, dwh, dbi, dbh, dy, GLDY, g->col, g->cache, g->x,
                     GN, GT, GIN, GH, g->w_ih, g->w_hh, reverse, g->ws);

  float eps = 1e-2f;
  check_grad("gru dx", g->x, dx, nx, gru_loss, g, eps);
  check_grad("gru dw_ih", g->w_ih, dwi, 3 * GH * GIN, gru_loss, g, eps);
  check_grad("gru dw_hh", g->w_hh, dwh, 3 * GH * GH, gru_loss, g, eps);
  check_grad("gru db_ih", g->b_ih, dbi, 3 * GH, gru_loss, g, eps);
  check_grad("gru db_hh", g->b_hh, dbh, 3 * GH, gru_loss, g, eps);

  /* backward accumulates: a second call doubles everything; the forward
   * pass is rerun first since the loss evaluations overwrote the cache */
  float *dx1 = g_memdup2(dx, nx * sizeof(float));
  float *dwi1 = g_memdup2(dwi, 3 * GH * GIN * sizeof(float));
  float *dwh1 = g_memdup2(dwh, 3 * GH * GH * sizeof(float));
  float *dbi1 = g_memdup2(dbi, 3 * GH * sizeof(float));
  float *dbh1 = g_memdup2(dbh, 3 * GH * sizeof(float));
  gru_run(g);
  acrnn_gru_backward(dx, dwi, dwh, dbi, dbh, dy, GLDY, g->col, g->cache, g->x,
                     GN, GT, GIN, GH, g->w_ih, g->w_hh, reverse, g->ws);
  check_doubled("gru dx (twice)", dx, dx1, nx);
  check_doubled("gru dw_ih (twice)", dwi, dwi1, 3 * GH * GIN);
  check_doubled("gru dw_hh (twice)", dwh, dwh1, 3 * GH * GH);
  check_doubled("gru db_ih (twice)", dbi, dbi1, 3 * GH);
  check_doubled("gru db_hh (twice)", dbh, dbh1, 3 * GH);

  /* dx = NULL is skipped and changes nothing else */
  memset(dwi, 0, 3 * GH * GIN * sizeof(float));
  acrnn_gru_backward(NULL, dwi, dwh, dbi, dbh, dy, GLDY, g->col, g->cache, g->x,
                     GN, GT, GIN, GH, g->w_ih, g->w_hh, reverse, g->ws);
  for (size_t k = 0; k < 3 * GH * GIN; k++)
    assert_close("gru dw_ih (dx NULL)", k, dwi[k], dwi1[k], 1e-6, 1e-5);

  g_free(dx1), g_free(dwi1), g_free(dwh1), g_free(dbi1), g_free(dbh1);
  g_free(dx), g_free(dwi), g_free(dwh), g_free(dbi), g_free(dbh), g_free(dy);
  gru_case_free(g);
}

static void test_gru_backward_forward_dir(void) {
  gru_backward_one(0);
}

static void test_gru_backward_reverse_dir(void) {
  gru_backward_one(1);
}

/* ---- attention rnn ----------------------------------------------------- */

enum { AN = 3, AT = 5, AD = 6, AA = 4 };

typedef struct {
  float *h, *w1, *b1, *w2, *v, *beta, *cache, *r;
} AttRnn;

static void att_rnn_run(AttRnn *a) {
  acrnn_attention_rnn_forward(a->v, a->beta, a->cache, a->h, a->w1, a->b1,
                              a->w2, AN, AT, AD, AA);
}

static double att_rnn_loss(void *ctx) {
  AttRnn *a = ctx;
  att_rnn_run(a);
  double l = 0.0;
  for (int k = 0; k < AN * AD; k++)
    l += (double)a->v[k] * a->r[k];
  return l;
}

static void test_attention_rnn(void) {
  AttRnn a = {
      .h = rand_array(AN * AT * AD, 1.0f),
      .w1 = rand_array(AA * AD, 1.0f),
      .b1 = rand_array(AA, 0.5f),
      .w2 = rand_array(AA, 1.5f),
      .v = zeros(AN * AD),
      .beta = zeros(AN * AT),
      .cache = zeros(acrnn_attention_rnn_cache_size(AN, AT, AA)),
      .r = rand_array(AN * AD, 1.0f),
  };
  att_rnn_run(&a);

  /* naive reference */
  for (int i = 0; i < AN; i++) {
    double s[AT], maxs = -INFINITY, sum = 0.0, bsum = 0.0;
    for (int t = 0; t < AT; t++) {
      const float *h = a.h + (i * AT + t) * AD;
      s[t] = 0.0;
      for (int q = 0; q < AA; q++) {
        double u = a.b1[q];
        for (int k = 0; k < AD; k++)
          u += (double)a.w1[q * AD + k] * h[k];
        s[t] += tanh(u) * a.w2[q];
      }
      maxs = fmax(maxs, s[t]);
    }
    for (int t = 0; t < AT; t++)
      sum += exp(s[t] - maxs);
    for (int t = 0; t < AT; t++) {
      double beta = exp(s[t] - maxs) / sum;
      assert_close("att_rnn beta", i * AT + t, a.beta[i * AT + t], beta, 1e-6,
                   1e-5);
      bsum += a.beta[i * AT + t];
    }
    g_assert_cmpfloat(fabs(bsum - 1.0), <, 1e-6);
    for (int k = 0; k < AD; k++) {
      double v = 0.0;
      for (int t = 0; t < AT; t++)
        v += exp(s[t] - maxs) / sum * a.h[(i * AT + t) * AD + k];
      assert_close("att_rnn v", i * AD + k, a.v[i * AD + k], v, 1e-6, 1e-5);
    }
  }

  /* backward */
  float *dh = zeros(AN * AT * AD), *dw1 = zeros(AA * AD), *db1 = zeros(AA);
  float *dw2 = zeros(AA);
  acrnn_attention_rnn_backward(dh, dw1, db1, dw2, a.r, a.beta, a.cache, a.h,
                               a.w1, a.w2, AN, AT, AD, AA);
  float eps = 1e-2f;
  check_grad("att_rnn dh", a.h, dh, AN * AT * AD, att_rnn_loss, &a, eps);
  check_grad("att_rnn dw1", a.w1, dw1, AA * AD, att_rnn_loss, &a, eps);
  check_grad("att_rnn db1", a.b1, db1, AA, att_rnn_loss, &a, eps);
  check_grad("att_rnn dw2", a.w2, dw2, AA, att_rnn_loss, &a, eps);

  float *dh1 = g_memdup2(dh, AN * AT * AD * sizeof(float));
  float *dw11 = g_memdup2(dw1, AA * AD * sizeof(float));
  float *db11 = g_memdup2(db1, AA * sizeof(float));
  float *dw21 = g_memdup2(dw2, AA * sizeof(float));
  att_rnn_run(&a);
  acrnn_attention_rnn_backward(dh, dw1, db1, dw2, a.r, a.beta, a.cache, a.h,
                               a.w1, a.w2, AN, AT, AD, AA);
  check_doubled("att_rnn dh (twice)", dh, dh1, AN * AT * AD);
  check_doubled("att_rnn dw1 (twice)", dw1, dw11, AA * AD);
  check_doubled("att_rnn db1 (twice)", db1, db11, AA);
  check_doubled("att_rnn dw2 (twice)", dw2, dw21, AA);
  /* NULL dh is skipped */
  acrnn_attention_rnn_backward(NULL, dw1, db1, dw2, a.r, a.beta, a.cache, a.h,
                               a.w1, a.w2, AN, AT, AD, AA);
  for (int k = 0; k < AA; k++)
    assert_close("att_rnn dw2 (dh NULL)", k, dw2[k], 3.0 * dw21[k], 1e-6, 1e-5);

  g_free(dh1), g_free(dw11), g_free(db11), g_free(dw21);
  g_free(dh), g_free(dw1), g_free(db1), g_free(dw2);
  g_free(a.h), g_free(a.w1), g_free(a.b1), g_free(a.w2), g_free(a.v);
  g_free(a.beta), g_free(a.cache), g_free(a.r);
}

/* ---- attention cnn ----------------------------------------------------- */

typedef struct {
  int c, n, h, w;
  float *m, *wt, *b, *out, *attn, *ws, *r;
} AttCnn;

static AttCnn att_cnn_new(int c, int n, int h, int w) {
  size_t sz = (size_t)c * n * h * w;
  AttCnn a = {
      .c = c,
      .n = n,
      .h = h,
      .w = w,
      .m = rand_array(sz, 1.0f),
      .wt = rand_array((size_t)c * 9, 1.0f),
      .b = rand_array(1, 0.5f),
      .out = zeros(sz),
      .attn = zeros((size_t)n * w),
      .ws = zeros(acrnn_attention_cnn_workspace(c, n, h, w)),
      .r = rand_array(sz, 1.0f),
  };
  return a;
}

static void att_cnn_free(AttCnn *a) {
  g_free(a->m), g_free(a->wt), g_free(a->b), g_free(a->out);
  g_free(a->attn), g_free(a->ws), g_free(a->r);
}

static void att_cnn_run(AttCnn *a) {
  acrnn_attention_cnn_forward(a->out, a->attn, a->m, a->wt, a->b, a->c, a->n,
                              a->h, a->w, a->ws);
}

static double att_cnn_loss(void *ctx) {
  AttCnn *a = ctx;
  att_cnn_run(a);
  double l = 0.0;
  for (size_t k = 0; k < (size_t)a->c * a->n * a->h * a->w; k++)
    l += (double)a->out[k] * a->r[k];
  return l;
}

/* full 3x3 'same' conv, row mean, softmax, product, in double */
static void att_cnn_check_forward(AttCnn *a) {
  int C = a->c, N = a->n, H = a->h, W = a->w;
  att_cnn_run(a);
#define M(c, i, y, x)                                                          \
  ((double)a->m[(((size_t)(c)*N + (i)) * H + (y)) * W + (x)])
  for (int i = 0; i < N; i++) {
    double s[64], maxs = -INFINITY, sum = 0.0, asum = 0.0;
    g_assert_cmpint(W, <=, 64);
    for (int x = 0; x < W; x++) {
      double acc = 0.0;
      for (int y = 0; y < H; y++) {
        double conv = a->b[0];
        for (int c = 0; c < C; c++)
          for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++) {
              int yy = y + ky - 1, xx = x + kx - 1;
              if (yy >= 0 && yy < H && xx >= 0 && xx < W)
                conv += a->wt[c * 9 + ky * 3 + kx] * M(c, i, yy, xx);
            }
        acc += conv;
      }
      s[x] = acc / H;
      maxs = fmax(maxs, s[x]);
    }
    for (int x = 0; x < W; x++)
      sum += exp(s[x] - maxs);
    for (int x = 0; x < W; x++) {
      double att = exp(s[x] - maxs) / sum;
      assert_close("att_cnn attn", i * W + x, a->attn[i * W + x], att, 1e-6,
                   1e-5);
      asum += a->attn[i * W + x];
      for (int c = 0; c < C; c++)
        for (int y = 0; y < H; y++) {
          size_t k = (((size_t)c * N + i) * H + y) * W + x;
          assert_close("att_cnn out", k, a->out[k], M(c, i, y, x) * att, 1e-6,
                       1e-5);
        }
    }
    g_assert_cmpfloat(fabs(asum - 1.0), <, 1e-6);
  }
#undef M
}

static void test_attention_cnn_forward(void) {
  /* C, N, H, W including the edge cases of one row and one column */
  const int shapes[][4] = {
      {3, 2, 5, 6}, {2, 2, 1, 4}, {2, 1, 2, 3}, {1, 2, 4, 1}, {4, 3, 8, 7}};
  for (size_t s = 0; s < G_N_ELEMENTS(shapes); s++) {
    AttCnn a =
        att_cnn_new(shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3]);
    att_cnn_check_forward(&a);
    att_cnn_free(&a);
  }
}

static void att_cnn_backward_one(int c, int n, int h, int w) {
  AttCnn a = att_cnn_new(c, n, h, w);
  size_t sz = (size_t)c * n * h * w;
  float *dm = zeros(sz), *dw = zeros((size_t)c * 9), *db = zeros(1);
  att_cnn_run(&a);
  acrnn_attention_cnn_backward(dm, dw, db, a.r, a.attn, a.m, a.wt, c, n, h, w,
                               a.ws);
  float eps = 1e-2f;
  check_grad("att_cnn dm", a.m, dm, sz, att_cnn_loss, &a, eps);
  check_grad("att_cnn dw", a.wt, dw, (size_t)c * 9, att_cnn_loss, &a, eps);
  check_grad("att_cnn db", a.b, db, 1, att_cnn_loss, &a, eps);

  float *dm1 = g_memdup2(dm, sz * sizeof(float));
  float *dw1 = g_memdup2(dw, (size_t)c * 9 * sizeof(float));
  float db1 = db[0];
  att_cnn_run(&a);
  acrnn_attention_cnn_backward(dm, dw, db, a.r, a.attn, a.m, a.wt, c, n, h, w,
                               a.ws);
  check_doubled("att_cnn dm (twice)", dm, dm1, sz);
  check_doubled("att_cnn dw (twice)", dw, dw1, (size_t)c * 9);
  check_doubled("att_cnn db (twice)", db, &db1, 1);
  acrnn_attention_cnn_backward(NULL, dw, db, a.r, a.attn, a.m, a.wt, c, n, h, w,
                               a.ws);
  assert_close("att_cnn db (dm NULL)", 0, db[0], 3.0 * db1, 1e-6, 1e-5);

  g_free(dm1), g_free(dw1), g_free(dm), g_free(dw), g_free(db);
  att_cnn_free(&a);
}

static void test_attention_cnn_backward(void) {
  att_cnn_backward_one(3, 2, 5, 6);
  att_cnn_backward_one(2, 2, 1, 4); /* one row: only the middle kernel row */
  att_cnn_backward_one(2, 1, 2, 3);
}

/* ---- mean over time ---------------------------------------------------- */

enum { MN = 2, MT = 5, MD = 3 };

typedef struct {
  float *h, *v, *r;
} MeanCase;

static double mean_loss(void *ctx) {
  MeanCase *m = ctx;
  acrnn_mean_time_forward(m->v, m->h, MN, MT, MD);
  double l = 0.0;
  for (int k = 0; k < MN * MD; k++)
    l += (double)m->v[k] * m->r[k];
  return l;
}

static void test_mean_time(void) {
  MeanCase m = {rand_array(MN * MT * MD, 1.0f), zeros(MN * MD),
                rand_array(MN * MD, 1.0f)};
  acrnn_mean_time_forward(m.v, m.h, MN, MT, MD);
  for (int i = 0; i < MN; i++)
    for (int k = 0; k < MD; k++) {
      double s = 0.0;
      for (int t = 0; t < MT; t++)
        s += m.h[(i * MT + t) * MD + k];
      assert_close("mean v", i * MD + k, m.v[i * MD + k], s / MT, 1e-6, 1e-5);
    }
  float *dh = zeros(MN * MT * MD);
  acrnn_mean_time_backward(dh, m.r, MN, MT, MD);
  check_grad("mean dh", m.h, dh, MN * MT * MD, mean_loss, &m, 1e-2f);
  float *dh1 = g_memdup2(dh, MN * MT * MD * sizeof(float));
  acrnn_mean_time_backward(dh, m.r, MN, MT, MD);
  check_doubled("mean dh (twice)", dh, dh1, MN * MT * MD);
  g_free(dh), g_free(dh1), g_free(m.h), g_free(m.v), g_free(m.r);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  rng = g_rand_new_with_seed(20240601);
  g_test_add_func("/nn/seq/gru/forward", test_gru_forward);
  g_test_add_func("/nn/seq/gru/backward-forward-direction",
                  test_gru_backward_forward_dir);
  g_test_add_func("/nn/seq/gru/backward-reverse-direction",
                  test_gru_backward_reverse_dir);
  g_test_add_func("/nn/seq/attention-rnn", test_attention_rnn);
  g_test_add_func("/nn/seq/attention-cnn/forward", test_attention_cnn_forward);
  g_test_add_func("/nn/seq/attention-cnn/backward",
                  test_attention_cnn_backward);
  g_test_add_func("/nn/seq/mean-time", test_mean_time);
  int ret = g_test_run();
  g_rand_free(rng);
  return ret;
}
