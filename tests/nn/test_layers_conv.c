/* test_layers_conv: the convolutional-side layers (conv2d, batchnorm, relu,
 * maxpool, dense, dropout, softmax + cross-entropy) against direct reference
 * implementations, finite differences of L = sum(y * r), and the
 * accumulate-into-gradients convention. */
#include "bf16.h"
#include "conv2d_wgrad.h"
#include "gemm.h"
#include "layers.h"
#include "nn_test_util.h"

#include <acrnn/acrnn.h>

#include <glib.h>
#include <math.h>
#include <string.h>

/* ---- helpers ----------------------------------------------------------- */

static void fill_uniform(float *v, size_t n, AcrnnRng *rng, float lo,
                         float hi) {
  for (size_t i = 0; i < n; i++)
    v[i] = lo + (hi - lo) * acrnn_rng_uniform(rng);
}

static float *rand_vec(size_t n, AcrnnRng *rng) {
  float *v = g_new(float, n ? n : 1);
  fill_uniform(v, n, rng, -1.0f, 1.0f);
  return v;
}

static double dot_d(const float *a, const float *b, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++)
    s += (double)a[i] * b[i];
  return s;
}

/* Asserts |a - b| <= atol + rtol * |b| element-wise, naming the first
 * failure. */
static void assert_close(const char *what, const float *a, const double *b,
                         size_t n, double rtol, double atol) {
  for (size_t i = 0; i < n; i++) {
    const double d = fabs((double)a[i] - b[i]);
    if (!(d <= atol + rtol * fabs(b[i])))
      g_error("%s[%zu]: got %.7g, expected %.7g", what, i, a[i], b[i]);
  }
}

static void assert_close_f(const char *what, const float *a, const float *b,
                           size_t n, double rtol, double atol) {
  double *bd = g_new(double, n ? n : 1);
  for (size_t i = 0; i < n; i++)
    bd[i] = b[i];
  assert_close(what, a, bd, n, rtol, atol);
  g_free(bd);
}

/* The loss of the layer under test as a function of its current inputs. */
typedef double (*LossFn)(void *ctx);

/* Central differences d loss / d param[i] for every `step`-th element,
 * compared with the analytic gradient. */
static void fd_check(const char *what, float *param, size_t n,
                     const float *analytic, LossFn loss, void *ctx, float eps,
                     size_t step) {
  for (size_t i = 0; i < n; i += step) {
    const float keep = param[i];
    param[i] = keep + eps;
    const double lp = loss(ctx);
    param[i] = keep - eps;
    const double lm = loss(ctx);
    param[i] = keep;
    const double fd = (lp - lm) / (2.0 * eps);
    const double d = fabs(analytic[i] - fd);
    if (!(d <= 1e-3 + 1e-2 * fabs(fd)))
      g_error("%s[%zu]: analytic %.7g, finite difference %.7g", what, i,
              analytic[i], fd);
  }
}

/* ---- conv2d ------------------------------------------------------------ */

typedef struct {
  int n, cin, cout, h, w, kh, kw;
} ConvShape;

static size_t conv_x_size(const ConvShape *s) {
  return (size_t)s->cin * s->n * s->h * s->w;
}

static size_t conv_y_size(const ConvShape *s) {
  return (size_t)s->cout * s->n * s->h * s->w;
}

static size_t conv_w_size(const ConvShape *s) {
  return (size_t)s->cout * s->cin * s->kh * s->kw;
}

/* Value of x[ci][n][i][j] with zero padding. */
static double conv_xat(const ConvShape *s, const float *x, int ci, int n, int i,
                       int j) {
  if (i < 0 || i >= s->h || j < 0 || j >= s->w)
    return 0.0;
  return x[(((size_t)ci * s->n + n) * s->h + i) * s->w + j];
}

/* Direct 7-loop convolution in double. */
static void conv_ref_forward(double *y, const ConvShape *s, const float *x,
                             const float *w, const float *b) {
  const int ph = s->kh / 2, pw = s->kw / 2;
  for (int co = 0; co < s->cout; co++)
    for (int n = 0; n < s->n; n++)
      for (int i = 0; i < s->h; i++)
        for (int j = 0; j < s->w; j++) {
          double acc = b ? b[co] : 0.0;
          for (int ci = 0; ci < s->cin; ci++)
            for (int ki = 0; ki < s->kh; ki++)
              for (int kj = 0; kj < s->kw; kj++)
                acc += w[((co * s->cin + ci) * s->kh + ki) * s->kw + kj] *
                       conv_xat(s, x, ci, n, i + ki - ph, j + kj - pw);
          y[(((size_t)co * s->n + n) * s->h + i) * s->w + j] = acc;
        }
}

/* Direct backward in double: dx, dw, db (overwritten). */
static void conv_ref_backward(double *dx, double *dw, double *db,
                              const ConvShape *s, const float *dy,
                              const float *x, const float *w) {
  const int ph = s->kh / 2, pw = s->kw / 2;
  memset(dx, 0, sizeof(double) * conv_x_size(s));
  memset(dw, 0, sizeof(double) * conv_w_size(s));
  memset(db, 0, sizeof(double) * s->cout);
  for (int co = 0; co < s->cout; co++)
    for (int n = 0; n < s->n; n++)
      for (int i = 0; i < s->h; i++)
        for (int j = 0; j < s->w; j++) {
          const double g = dy[(((size_t)co * s->n + n) * s->h + i) * s->w + j];
          db[co] += g;
          for (int ci = 0; ci < s->cin; ci++)
            for (int ki = 0; ki < s->kh; ki++)
              for (int kj = 0; kj < s->kw; kj++) {
                const int ii = i + ki - ph, jj = j + kj - pw;
                if (ii < 0 || ii >= s->h || jj < 0 || jj >= s->w)
                  continue;
                const size_t wi =
                    ((size_t)(co * s->cin + ci) * s->kh + ki) * s->kw + kj;
                const size_t xi =
                    (((size_t)ci * s->n + n) * s->h + ii) * s->w + jj;
                dw[wi] += g * x[xi];
                dx[xi] += g * w[wi];
              }
        }
}

typedef struct {
  const ConvShape *s;
  float *x, *w, *b, *r, *y, *ws;
} ConvCtx;

static double conv_loss(void *p) {
  ConvCtx *c = p;
  const ConvShape *s = c->s;
  acrnn_conv2d_forward(c->y, c->x, c->w, c->b, s->n, s->cin, s->cout, s->h,
                       s->w, s->kh, s->kw, c->ws);
  return dot_d(c->y, c->r, conv_y_size(s));
}

static void check_conv_shape(const ConvShape *s, gboolean finite_diff,
                             guint64 seed) {
  AcrnnRng rng;
  acrnn_rng_seed(&rng, seed);
  const size_t nx = conv_x_size(s), ny = conv_y_size(s), nw = conv_w_size(s);
  ConvCtx c = {.s = s};
  c.x = rand_vec(nx, &rng);
  c.w = rand_vec(nw, &rng);
  c.b = rand_vec(s->cout, &rng);
  c.r = rand_vec(ny, &rng);
  c.y = g_new(float, ny);
  const size_t nws =
      acrnn_conv2d_workspace(s->cin, s->cout, s->n, s->h, s->w, s->kh, s->kw);
  c.ws = g_new(float, nws ? nws : 1);

  /* Float sums of K = cin * kh * kw products of values up to 1 carry
   * rounding errors that grow with K: the absolute tolerance does too. */
  const double atol_y = fmax(1e-5, 1e-6 * s->cin * s->kh * s->kw);
  const double atol_dx = fmax(1e-4, 1e-6 * s->cout * s->kh * s->kw);

  /* Forward against the reference (double sums). */
  double *yref = g_new(double, ny);
  conv_ref_forward(yref, s, c.x, c.w, c.b);
  /* Garbage in y and the workspace must not matter. */
  for (size_t i = 0; i < ny; i++)
    c.y[i] = NAN;
  for (size_t i = 0; i < nws; i++)
    c.ws[i] = NAN;
  conv_loss(&c);
  assert_close("conv y", c.y, yref, ny, 1e-4, atol_y);

  /* Without bias. */
  conv_ref_forward(yref, s, c.x, c.w, NULL);
  acrnn_conv2d_forward(c.y, c.x, c.w, NULL, s->n, s->cin, s->cout, s->h, s->w,
                       s->kh, s->kw, c.ws);
  assert_close("conv y (no bias)", c.y, yref, ny, 1e-4, atol_y);

  /* Per-channel scale, shift and ReLU in the epilogue. */
  {
    float *sc = rand_vec(s->cout, &rng), *sh = rand_vec(s->cout, &rng);
    acrnn_conv2d_scale_relu_forward(c.y, c.x, c.w, sc, sh, s->n, s->cin,
                                    s->cout, s->h, s->w, s->kh, s->kw, c.ws);
    const size_t plane = ny / s->cout;
    for (size_t i = 0; i < ny; i++) {
      const double v = sc[i / plane] * yref[i] + sh[i / plane];
      yref[i] = v > 0.0 ? v : 0.0;
    }
    assert_close("conv scale relu", c.y, yref, ny, 1e-4, atol_y);
    g_free(sc), g_free(sh);
  }

  /* Backward of L = sum(y * r): dy = r. */
  float *dx = g_new0(float, nx), *dw = g_new0(float, nw);
  float *db = g_new0(float, s->cout);
  acrnn_conv2d_backward(dx, dw, db, c.r, c.x, c.w, s->n, s->cin, s->cout, s->h,
                        s->w, s->kh, s->kw, c.ws);
  double *dxr = g_new(double, nx), *dwr = g_new(double, nw);
  double *dbr = g_new(double, s->cout);
  conv_ref_backward(dxr, dwr, dbr, s, c.r, c.x, c.w);
  assert_close("conv dx", dx, dxr, nx, 1e-4, atol_dx);
  assert_close("conv dw", dw, dwr, nw, 1e-4, 1e-4);
  assert_close("conv db", db, dbr, s->cout, 1e-4, 1e-4);

  if (finite_diff) {
    fd_check("conv fd dx", c.x, nx, dx, conv_loss, &c, 1e-2f, 1);
    fd_check("conv fd dw", c.w, nw, dw, conv_loss, &c, 1e-2f, 1);
    fd_check("conv fd db", c.b, s->cout, db, conv_loss, &c, 1e-2f, 1);
  }

  /* Accumulation: a second call adds the same gradients again. */
  float *dx1 = g_memdup2(dx, sizeof(float) * nx);
  float *dw1 = g_memdup2(dw, sizeof(float) * nw);
  float *db1 = g_memdup2(db, sizeof(float) * s->cout);
  acrnn_conv2d_backward(dx, dw, db, c.r, c.x, c.w, s->n, s->cin, s->cout, s->h,
                        s->w, s->kh, s->kw, c.ws);
  for (size_t i = 0; i < nx; i++)
    dx1[i] *= 2.0f;
  for (size_t i = 0; i < nw; i++)
    dw1[i] *= 2.0f;
  for (int i = 0; i < s->cout; i++)
    db1[i] *= 2.0f;
  assert_close_f("conv dx twice", dx, dx1, nx, 1e-4, 1e-5);
  assert_close_f("conv dw twice", dw, dw1, nw, 1e-4, 1e-5);
  assert_close_f("conv db twice", db, db1, s->cout, 1e-4, 1e-5);

  /* NULL dx is skipped; the other gradients are still produced. */
  memset(dw, 0, sizeof(float) * nw);
  acrnn_conv2d_backward(NULL, dw, NULL, c.r, c.x, c.w, s->n, s->cin, s->cout,
                        s->h, s->w, s->kh, s->kw, c.ws);
  assert_close("conv dw (dx NULL)", dw, dwr, nw, 1e-4, 1e-4);

  g_free(dx1), g_free(dw1), g_free(db1);
  g_free(dxr), g_free(dwr), g_free(dbr);
  g_free(dx), g_free(dw), g_free(db);
  g_free(yref);
  g_free(c.x), g_free(c.w), g_free(c.b), g_free(c.r), g_free(c.y);
  g_free(c.ws);
}

static void check_conv_shapes(const ConvShape *shapes, size_t n,
                              gboolean finite_diff, guint64 seed) {
  for (size_t i = 0; i < n; i++)
    check_conv_shape(&shapes[i], finite_diff, seed + i);
}

/* Every shape through both paths, whatever the automatic choice would be:
 * im2col + sgemm, and the direct kernel in every vector build this CPU
 * runs (each has its own tile shape, so its own edge cases). */
static void check_conv_shapes_both_paths(const ConvShape *shapes, size_t n,
                                         gboolean finite_diff, guint64 seed) {
  static const char *const builds[] = {"generic", "avx2", "avx512"};
  const char *native = acrnn_conv2d_direct_isa();
  acrnn_conv2d_set_path(ACRNN_CONV_IM2COL);
  check_conv_shapes(shapes, n, finite_diff, seed);
  acrnn_conv2d_set_path(ACRNN_CONV_DIRECT);
  for (size_t b = 0; b < G_N_ELEMENTS(builds); b++) {
    if (!acrnn_conv2d_direct_use(builds[b])) {
      g_test_message("direct convolution, %s build: not run by this CPU",
                     builds[b]);
      continue;
    }
    check_conv_shapes(shapes, n, finite_diff, seed);
  }
  g_assert_true(acrnn_conv2d_direct_use(native));
  acrnn_conv2d_set_path(ACRNN_CONV_AUTO);
}

static void test_conv2d_small(void) {
  static const ConvShape shapes[] = {
      /* n cin cout h  w kh kw */
      {3, 2, 4, 7, 9, 3, 5}, /* the first block's kernel, odd sizes */
      {2, 3, 5, 6, 5, 3, 1},
      {3, 2, 3, 5, 8, 1, 5},
      {2, 3, 4, 5, 6, 3, 3},
      {1, 1, 1, 1, 1, 3, 3}, /* kernel larger than the map */
      {2, 2, 3, 2, 3, 5, 5},
      {1, 2, 3, 1, 7, 3, 5},
      {2, 3, 2, 4, 5, 1, 1},  /* pointwise */
      {2, 3, 9, 4, 37, 3, 5}, /* rows wider than a tile, channel tail */
  };
  check_conv_shapes_both_paths(shapes, G_N_ELEMENTS(shapes), TRUE, 100);
}

/* Big enough that the column buffer (capped to stay in cache) cannot hold
 * the whole batch: it is cut into groups of samples, or into blocks of rows
 * of one sample, with a shorter last chunk. Checked against the direct
 * implementation. */
static void test_conv2d_chunked(void) {
  static const ConvShape shapes[] = {
      {9, 3, 2, 40, 40, 3, 3},   /* several samples per chunk */
      {3, 4, 3, 70, 128, 3, 5},  /* blocks of rows */
      {1, 8, 3, 130, 160, 5, 5}, /* blocks of rows, one large sample */
  };
  for (size_t i = 0; i < G_N_ELEMENTS(shapes); i++) {
    const ConvShape *s = &shapes[i];
    const size_t full = (size_t)s->cin * s->kh * s->kw * s->n * s->h * s->w;
    const size_t nws =
        acrnn_conv2d_workspace(s->cin, s->cout, s->n, s->h, s->w, s->kh, s->kw);
    g_assert_cmpuint(nws, <, full);
  }
  check_conv_shapes_both_paths(shapes, G_N_ELEMENTS(shapes), FALSE, 7);
}

/* The direct kernel on the network's first two blocks (2 -> 32 and
 * 32 -> 32, kernel 3 x 5 on 128 x 128, two samples): many bands of rows,
 * whole tiles of columns; forward and backward against the reference. */
static void test_conv2d_direct_network_shapes(void) {
  static const ConvShape shapes[] = {
      {2, 2, 32, 128, 128, 3, 5},
      {2, 32, 32, 128, 128, 3, 5},
  };
  g_test_message("direct convolution build: %s", acrnn_conv2d_direct_isa());
  acrnn_conv2d_set_path(ACRNN_CONV_DIRECT);
  check_conv_shapes(shapes, G_N_ELEMENTS(shapes), FALSE, 31);
  acrnn_conv2d_set_path(ACRNN_CONV_AUTO);
}

/* Threads split the direct convolution by samples (n >= threads) or by rows
 * (fewer samples): the output and the input gradient are the same bit for
 * bit as on one thread. */
static void test_conv2d_direct_threads(void) {
  const ConvShape s = {3, 4, 5, 37, 70, 3, 5};
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 77);
  const size_t nx = conv_x_size(&s), ny = conv_y_size(&s);
  float *x = rand_vec(nx, &rng), *w = rand_vec(conv_w_size(&s), &rng);
  float *b = rand_vec(s.cout, &rng), *dy = rand_vec(ny, &rng);
  const size_t nws =
      acrnn_conv2d_workspace(s.cin, s.cout, s.n, s.h, s.w, s.kh, s.kw);
  float *ws = g_new(float, nws);
  float *y1 = g_new(float, ny), *yt = g_new(float, ny);
  float *dx1 = g_new0(float, nx), *dxt = g_new0(float, nx);
  const int saved = acrnn_get_threads();
  acrnn_conv2d_set_path(ACRNN_CONV_DIRECT);
  acrnn_set_threads(1);
  acrnn_conv2d_forward(y1, x, w, b, s.n, s.cin, s.cout, s.h, s.w, s.kh, s.kw,
                       ws);
  acrnn_conv2d_backward(dx1, NULL, NULL, dy, x, w, s.n, s.cin, s.cout, s.h, s.w,
                        s.kh, s.kw, ws);
  static const int counts[] = {2, 3, 5, 64};
  for (size_t k = 0; k < G_N_ELEMENTS(counts); k++) {
    acrnn_set_threads(counts[k]);
    memset(dxt, 0, sizeof(float) * nx);
    acrnn_conv2d_forward(yt, x, w, b, s.n, s.cin, s.cout, s.h, s.w, s.kh, s.kw,
                         ws);
    acrnn_conv2d_backward(dxt, NULL, NULL, dy, x, w, s.n, s.cin, s.cout, s.h,
                          s.w, s.kh, s.kw, ws);
    g_assert_cmpmem(yt, sizeof(float) * ny, y1, sizeof(float) * ny);
    g_assert_cmpmem(dxt, sizeof(float) * nx, dx1, sizeof(float) * nx);
  }
  acrnn_set_threads(saved);
  acrnn_conv2d_set_path(ACRNN_CONV_AUTO);
  g_free(x), g_free(w), g_free(b), g_free(dy), g_free(ws);
  g_free(y1), g_free(yt), g_free(dx1), g_free(dxt);
}

/* acrnn_conv2d_backward_set() overwrites dx, whatever it held, with what
 * acrnn_conv2d_backward() adds to zeros, bit for bit, on every path: the
 * direct kernel, im2col + the product, a 1 x 1 kernel; in fp32 and bf16. */
static void test_conv2d_backward_set(void) {
  static const ConvShape shapes[] = {
      {2, 3, 5, 9, 40, 3, 5}, /* direct where chosen, else im2col */
      {2, 4, 6, 7, 9, 3, 1},  /* im2col (fp32), flat planes (bf16) */
      {2, 3, 4, 5, 6, 1, 1},  /* pointwise */
  };
  static const AcrnnConvPath paths[] = {ACRNN_CONV_DIRECT, ACRNN_CONV_IM2COL};
  static const AcrnnPrecision precisions[] = {ACRNN_PRECISION_FP32,
                                              ACRNN_PRECISION_BF16};
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 78);
  for (size_t k = 0; k < G_N_ELEMENTS(shapes); k++) {
    const ConvShape *s = &shapes[k];
    const size_t nx = conv_x_size(s), ny = conv_y_size(s);
    const size_t nw = conv_w_size(s);
    float *x = rand_vec(nx, &rng), *w = rand_vec(nw, &rng);
    float *dy = rand_vec(ny, &rng);
    float *dx_add = g_new(float, nx), *dx_set = rand_vec(nx, &rng);
    float *dw_add = g_new0(float, nw), *dw_set = g_new0(float, nw);
    for (size_t p = 0; p < G_N_ELEMENTS(paths); p++)
      for (size_t q = 0; q < G_N_ELEMENTS(precisions); q++) {
        acrnn_conv2d_set_path(paths[p]);
        acrnn_gemm_set_precision(precisions[q]);
        float *ws =
            g_new(float, acrnn_conv2d_workspace(s->cin, s->cout, s->n, s->h,
                                                s->w, s->kh, s->kw));
        memset(dx_add, 0, sizeof(float) * nx);
        memset(dw_add, 0, sizeof(float) * nw);
        memset(dw_set, 0, sizeof(float) * nw);
        fill_uniform(dx_set, nx, &rng, -9.0f, 9.0f); /* garbage to overwrite */
        acrnn_conv2d_backward(dx_add, dw_add, NULL, dy, x, w, s->n, s->cin,
                              s->cout, s->h, s->w, s->kh, s->kw, ws);
        acrnn_conv2d_backward_set(dx_set, dw_set, NULL, dy, x, w, s->n, s->cin,
                                  s->cout, s->h, s->w, s->kh, s->kw, ws);
        nt_assert_same_bits(dx_set, dx_add, nx);
        nt_assert_same_bits(dw_set, dw_add, nw);
        g_free(ws);
      }
    acrnn_conv2d_set_path(ACRNN_CONV_AUTO);
    acrnn_gemm_set_precision(ACRNN_PRECISION_FP32);
    g_free(x), g_free(w), g_free(dy);
    g_free(dx_add), g_free(dx_set), g_free(dw_add), g_free(dw_set);
  }
}

/* acrnn_conv2d_scale_relu_pool_forward() gives the same bits as the conv
 * into the full map then acrnn_maxpool_forward(), on every path: the
 * fused pool of each direct build (fp32) and of both bf16 builds, with
 * rows and columns past the last window, bands of rows shorter than the
 * map (the 32-channel shape), samples split into blocks of rows among 3
 * threads, and the unfused paths (im2col, bf16 flat planes). */
static void check_pool_fused(const ConvShape *s, int ph, int pw,
                             AcrnnRng *rng) {
  const size_t nx = conv_x_size(s), ny = conv_y_size(s);
  const size_t np = (size_t)s->cout * s->n * (s->h / ph) * (s->w / pw);
  float *x = rand_vec(nx, rng), *w = rand_vec(conv_w_size(s), rng);
  float *sc = rand_vec(s->cout, rng), *sh = rand_vec(s->cout, rng);
  float *map = g_new(float, ny), *want = g_new(float, np);
  float *got = g_new(float, np);
  float *ws = g_new(float, acrnn_conv2d_workspace(s->cin, s->cout, s->n, s->h,
                                                  s->w, s->kh, s->kw));
  const int saved = acrnn_get_threads();
  for (int threads = 1; threads <= 3; threads += 2) {
    acrnn_set_threads(threads);
    acrnn_conv2d_scale_relu_forward(map, x, w, sc, sh, s->n, s->cin, s->cout,
                                    s->h, s->w, s->kh, s->kw, ws);
    acrnn_maxpool_forward(want, NULL, map, s->cout * s->n, s->h, s->w, ph, pw);
    for (size_t i = 0; i < ny; i++)
      map[i] = NAN; /* the fallback's scratch: garbage must not matter */
    for (size_t i = 0; i < np; i++)
      got[i] = NAN;
    acrnn_conv2d_scale_relu_pool_forward(got, map, x, w, sc, sh, s->n, s->cin,
                                         s->cout, s->h, s->w, s->kh, s->kw, ph,
                                         pw, ws);
    nt_assert_same_bits(got, want, np);
  }
  acrnn_set_threads(saved);
  g_free(x), g_free(w), g_free(sc), g_free(sh);
  g_free(map), g_free(want), g_free(got), g_free(ws);
}

static void test_conv2d_pool_fused(void) {
  static const struct {
    ConvShape s;
    int ph, pw;
  } cases[] = {
      {{2, 3, 5, 38, 71, 3, 5}, 4, 3},     /* rows and columns left over */
      {{1, 2, 9, 13, 40, 3, 5}, 2, 2},     /* one sample: blocks of rows */
      {{2, 32, 32, 128, 128, 3, 5}, 4, 3}, /* block 1: several bands */
      {{3, 4, 6, 8, 42, 3, 1}, 4, 1},      /* bf16: flat planes, unfused */
      {{2, 3, 4, 6, 40, 3, 5}, 7, 1},      /* a window taller than the map */
  };
  static const char *const builds[] = {"generic", "avx2", "avx512"};
  static const char *const bf16_builds[] = {"generic", "avx512bf16"};
  const char *native = acrnn_conv2d_direct_isa();
  const char *bf16_native = acrnn_bf16_isa();
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 79);
  for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
    const ConvShape *s = &cases[k].s;
    const int ph = cases[k].ph, pw = cases[k].pw;
    if (ph > s->h)
      continue;
    acrnn_conv2d_set_path(ACRNN_CONV_IM2COL);
    check_pool_fused(s, ph, pw, &rng);
    acrnn_conv2d_set_path(ACRNN_CONV_DIRECT);
    for (size_t b = 0; b < G_N_ELEMENTS(builds); b++)
      if (acrnn_conv2d_direct_use(builds[b]))
        check_pool_fused(s, ph, pw, &rng);
    g_assert_true(acrnn_conv2d_direct_use(native));
    acrnn_gemm_set_precision(ACRNN_PRECISION_BF16);
    for (size_t b = 0; b < G_N_ELEMENTS(bf16_builds); b++)
      if (acrnn_bf16_use(bf16_builds[b]))
        check_pool_fused(s, ph, pw, &rng);
      else
        g_test_message("bf16 %s build: not run by this CPU", bf16_builds[b]);
    g_assert_true(acrnn_bf16_use(bf16_native));
    acrnn_gemm_set_precision(ACRNN_PRECISION_FP32);
    acrnn_conv2d_set_path(ACRNN_CONV_AUTO);
  }
}

/* bn_relu_pool.c against batch norm + ReLU, then the pool, unfused: the
 * forward's pooled values, argmaxes, statistics and running updates the
 * same bits, xmax x at each argmax; the backward's dx (overwritten) and
 * dgamma, dbeta (accumulated) the same to rounding. Rows and columns past
 * the last window, channels of m > 1024 values (several blocks of sums),
 * and windows of ReLU zeros (ties) included. */
static void check_bn_relu_pool(int c, int n, int h, int w, int ph, int pw,
                               guint64 seed) {
  AcrnnRng rng;
  acrnn_rng_seed(&rng, seed);
  const size_t m = (size_t)n * h * w, nx = (size_t)c * m;
  const size_t np = (size_t)c * n * (h / ph) * (w / pw);
  float *x = rand_vec(nx, &rng);
  for (size_t i = 0; i < nx; i++) /* distinct means and scales */
    x[i] = x[i] * (1.0f + (float)(i / m)) + 0.5f * (float)(i / m);
  float *gamma = rand_vec(c, &rng), *beta = rand_vec(c, &rng);
  gamma[0] = 1.0f, beta[0] = -2.5f; /* channel 0: mostly ReLU zeros */
  float *dpool = rand_vec(np, &rng);
  /* unfused */
  float *y = g_new(float, nx), *want = g_new(float, np);
  int32_t *want_arg = g_new(int32_t, np);
  float *mean1 = g_new(float, c), *rstd1 = g_new(float, c);
  float *rm1 = g_new0(float, c), *rv1 = g_new0(float, c);
  acrnn_batchnorm_relu_forward_train(y, mean1, rstd1, x, gamma, beta, rm1, rv1,
                                     c, m, 0.1f, 1e-5f);
  acrnn_maxpool_forward(want, want_arg, y, c * n, h, w, ph, pw);
  /* fused */
  float *got = g_new(float, np), *xmax = g_new(float, np);
  int32_t *arg = g_new(int32_t, np);
  float *mean2 = g_new(float, c), *rstd2 = g_new(float, c);
  float *rm2 = g_new0(float, c), *rv2 = g_new0(float, c);
  acrnn_bn_relu_pool_forward_train(got, arg, xmax, mean2, rstd2, x, gamma, beta,
                                   rm2, rv2, c, n, h, w, ph, pw, 0.1f, 1e-5f);
  nt_assert_same_bits(got, want, np);
  g_assert_cmpmem(arg, sizeof(int32_t) * np, want_arg, sizeof(int32_t) * np);
  nt_assert_same_bits(mean2, mean1, c);
  nt_assert_same_bits(rstd2, rstd1, c);
  nt_assert_same_bits(rm2, rm1, c);
  nt_assert_same_bits(rv2, rv1, c);
  const size_t out = np / ((size_t)c * n), hw = (size_t)h * w;
  for (size_t o = 0; o < np; o++)
    g_assert_true(xmax[o] == x[o / out * hw + arg[o]]);
  size_t zeros = 0; /* windows of ReLU zeros: ties the first index wins */
  for (size_t o = 0; o < np; o++)
    zeros += got[o] == 0.0f;
  g_assert_cmpuint(zeros, >, 0);

  float *dact = g_new(float, nx), *dx1 = g_new(float, nx);
  float *dx2 = g_new(float, nx);
  float *dg1 = g_new(float, c), *db1 = g_new(float, c);
  float *dg2 = g_new(float, c), *db2 = g_new(float, c);
  for (int k = 0; k < c; k++)
    dg1[k] = db1[k] = dg2[k] = db2[k] = 1.0f; /* they accumulate */
  acrnn_maxpool_backward_set(dact, dpool, want_arg, c * n, h, w, ph, pw);
  acrnn_batchnorm_relu_backward_set(dx1, dg1, db1, dact, y, x, mean1, rstd1,
                                    gamma, c, m);
  for (size_t i = 0; i < nx; i++)
    dx2[i] = NAN; /* overwritten, never read */
  acrnn_bn_relu_pool_backward_set(dx2, dg2, db2, dpool, arg, got, xmax, x,
                                  mean2, rstd2, gamma, c, n, h, w, ph, pw);
  assert_close_f("bn relu pool dx", dx2, dx1, nx, 1e-4, 1e-6);
  assert_close_f("bn relu pool dgamma", dg2, dg1, c, 1e-5, 1e-6);
  assert_close_f("bn relu pool dbeta", db2, db1, c, 1e-5, 1e-6);
  g_free(x), g_free(gamma), g_free(beta), g_free(dpool), g_free(y);
  g_free(want), g_free(want_arg), g_free(mean1), g_free(rstd1), g_free(rm1);
  g_free(rv1), g_free(got), g_free(xmax), g_free(arg), g_free(mean2);
  g_free(rstd2), g_free(rm2), g_free(rv2), g_free(dact), g_free(dx1);
  g_free(dx2), g_free(dg1), g_free(db1), g_free(dg2), g_free(db2);
}

static void test_bn_relu_pool(void) {
  check_bn_relu_pool(3, 2, 9, 14, 4, 3, 81);  /* rows, columns left over */
  check_bn_relu_pool(2, 3, 16, 40, 2, 2, 82); /* m = 1920: two blocks */
  check_bn_relu_pool(4, 2, 32, 42, 4, 1, 83); /* block 3's pool */
  check_bn_relu_pool(2, 1, 8, 128, 1, 3, 84); /* block 5's pool, one row */
}

/* ---- the fp32 weight gradient straight from the maps ------------------- */

/* Against double sums (the fp32 summation bound over the n h w products,
 * on the sum of |products|); the AVX-512 build against the plain C build
 * bit for bit; 1 and 3 threads alike. */
static void test_conv2d_wgrad(void) {
  static const NtConvShape cases[] = {
      {3, 2, 32, 9, 70, 3, 5},   /* block 0's shape, narrower */
      {2, 5, 6, 4, 33, 3, 5},    /* a partial tile and vector */
      {2, 3, 4, 5, 20, 3, 3},    /* a shape only the plain build takes */
      {2, 32, 32, 6, 128, 3, 5}, /* block 1's width */
      {1, 1, 1, 1, 1, 3, 5},     /* one value */
  };
  const gboolean fast = acrnn_isa() >= ACRNN_ISA_AVX512;
  for (size_t t = 0; t < G_N_ELEMENTS(cases); t++) {
    const NtConvShape *c = &cases[t];
    const size_t hw = (size_t)c->h * c->w, nhw = c->n * hw;
    const int kk = c->kh * c->kw;
    const size_t nw = (size_t)c->cout * c->cin * kk;
    float *dy = nt_random(c->cout * nhw, 500 + t);
    float *x = nt_random(c->cin * nhw, 510 + t);
    float *dw0 = nt_random(nw, 520 + t);
    float *dw = g_new(float, nw), *other = g_new(float, nw);
    acrnn_set_threads(1);
    memcpy(dw, dw0, sizeof(float) * nw);
    acrnn_conv2d_wgrad(dw, dy, x, c->n, c->cin, c->cout, c->h, c->w, c->kh,
                       c->kw);
    for (int co = 0; co < c->cout; co++)
      for (int ci = 0; ci < c->cin; ci++)
        for (int k = 0; k < kk; k++) {
          const size_t o = ((size_t)co * c->cin + ci) * kk + k;
          double exact, mag;
          nt_conv_wgrad_sums(c, dy, x, co, ci, k, NULL, NULL, &exact, &mag);
          exact += dw0[o];
          mag += fabs(dw0[o]);
          const double m = (double)c->n * hw + 4;
          if (!(fabs(dw[o] - exact) <= m * 0x1p-23 * mag))
            g_error("case %zu dw[%zu]: got %.9g, expected %.9g", t, o, dw[o],
                    exact);
        }
    acrnn_set_threads(3);
    memcpy(other, dw0, sizeof(float) * nw);
    acrnn_conv2d_wgrad(other, dy, x, c->n, c->cin, c->cout, c->h, c->w, c->kh,
                       c->kw);
    acrnn_set_threads(1);
    nt_assert_same_bits(dw, other, nw);
    memcpy(other, dw0, sizeof(float) * nw);
    acrnn_conv2d_wgrad_at(ACRNN_ISA_GENERIC, other, dy, x, c->n, c->cin,
                          c->cout, c->h, c->w, c->kh, c->kw);
    nt_assert_same_bits(dw, other, nw);
    g_free(dy);
    g_free(x);
    g_free(dw0);
    g_free(dw);
    g_free(other);
  }
  if (!fast)
    g_test_message("no AVX-512 (or ACRNN_ISA lowers it): only the plain C "
                   "build was checked");
}

/* ---- batchnorm --------------------------------------------------------- */

static void test_batchnorm_running_stats(void) {
  /* Two channels of m = 4 values. */
  const float x[8] = {1, 2, 3, 4, -2, 0, 2, 4};
  const float gamma[2] = {1.5f, -0.5f}, beta[2] = {0.25f, 1.0f};
  float rm[2] = {0.0f, 0.5f}, rv[2] = {1.0f, 2.0f};
  float y[8], mean[2], rstd[2];
  const float eps = 1e-5f, mom = 0.1f;
  acrnn_batchnorm_forward_train(y, mean, rstd, x, gamma, beta, rm, rv, 2, 4,
                                mom, eps);
  /* ch0: mean 2.5, biased var 1.25, unbiased 5/3.
   * ch1: mean 1, biased var 5, unbiased 20/3. */
  g_assert_cmpfloat_with_epsilon(mean[0], 2.5, 1e-6);
  g_assert_cmpfloat_with_epsilon(mean[1], 1.0, 1e-6);
  g_assert_cmpfloat_with_epsilon(rstd[0], 1.0 / sqrt(1.25 + 1e-5), 1e-6);
  g_assert_cmpfloat_with_epsilon(rstd[1], 1.0 / sqrt(5.0 + 1e-5), 1e-6);
  g_assert_cmpfloat_with_epsilon(rm[0], 0.9 * 0.0 + 0.1 * 2.5, 1e-6);
  g_assert_cmpfloat_with_epsilon(rm[1], 0.9 * 0.5 + 0.1 * 1.0, 1e-6);
  g_assert_cmpfloat_with_epsilon(rv[0], 0.9 * 1.0 + 0.1 * 5.0 / 3.0, 1e-6);
  g_assert_cmpfloat_with_epsilon(rv[1], 0.9 * 2.0 + 0.1 * 20.0 / 3.0, 1e-6);
  const double mu[2] = {2.5, 1.0}, var[2] = {1.25, 5.0};
  for (int i = 0; i < 8; i++) {
    const int c = i / 4;
    const double e = gamma[c] * (x[i] - mu[c]) / sqrt(var[c] + 1e-5) + beta[c];
    g_assert_cmpfloat_with_epsilon(y[i], e, 1e-5);
  }

  /* Inference uses the running statistics. */
  acrnn_batchnorm_forward_infer(y, x, gamma, beta, rm, rv, 2, 4, eps);
  for (int i = 0; i < 8; i++) {
    const int c = i / 4;
    const double e =
        gamma[c] * (x[i] - rm[c]) / sqrt((double)rv[c] + 1e-5) + beta[c];
    g_assert_cmpfloat_with_epsilon(y[i], e, 1e-5);
  }
}

typedef struct {
  int c;
  size_t m;
  float *x, *gamma, *beta, *r, *y, *mean, *rstd, *rm, *rv;
} BnCtx;

static double bn_loss(void *p) {
  BnCtx *b = p;
  acrnn_batchnorm_forward_train(b->y, b->mean, b->rstd, b->x, b->gamma, b->beta,
                                b->rm, b->rv, b->c, b->m, 0.1f, 1e-5f);
  return dot_d(b->y, b->r, (size_t)b->c * b->m);
}

static void test_batchnorm_backward(void) {
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 11);
  BnCtx b = {.c = 3, .m = 2 * 5 * 3};
  const size_t n = (size_t)b.c * b.m;
  b.x = rand_vec(n, &rng);
  for (size_t i = 0; i < n; i++) /* distinct means and scales per channel */
    b.x[i] = b.x[i] * (1.0f + (float)(i / b.m)) + (float)(i / b.m);
  b.gamma = rand_vec(b.c, &rng);
  b.beta = rand_vec(b.c, &rng);
  b.r = rand_vec(n, &rng);
  b.y = g_new(float, n);
  b.mean = g_new(float, b.c);
  b.rstd = g_new(float, b.c);
  b.rm = g_new0(float, b.c);
  b.rv = g_new0(float, b.c);
  bn_loss(&b);

  float *dx = g_new0(float, n), *dg = g_new0(float, b.c);
  float *dbeta = g_new0(float, b.c);
  acrnn_batchnorm_backward(dx, dg, dbeta, b.r, b.x, b.mean, b.rstd, b.gamma,
                           b.c, b.m);
  fd_check("bn fd dx", b.x, n, dx, bn_loss, &b, 1e-2f, 1);
  fd_check("bn fd dgamma", b.gamma, b.c, dg, bn_loss, &b, 1e-2f, 1);
  fd_check("bn fd dbeta", b.beta, b.c, dbeta, bn_loss, &b, 1e-2f, 1);

  bn_loss(&b); /* restore the saved statistics */
  float *dx2 = g_memdup2(dx, sizeof(float) * n);
  float *dg2 = g_memdup2(dg, sizeof(float) * b.c);
  float *dbeta2 = g_memdup2(dbeta, sizeof(float) * b.c);
  acrnn_batchnorm_backward(dx, dg, dbeta, b.r, b.x, b.mean, b.rstd, b.gamma,
                           b.c, b.m);
  for (size_t i = 0; i < n; i++)
    dx2[i] *= 2.0f;
  for (int i = 0; i < b.c; i++)
    dg2[i] *= 2.0f, dbeta2[i] *= 2.0f;
  assert_close_f("bn dx twice", dx, dx2, n, 1e-4, 1e-5);
  assert_close_f("bn dgamma twice", dg, dg2, b.c, 1e-4, 1e-5);
  assert_close_f("bn dbeta twice", dbeta, dbeta2, b.c, 1e-4, 1e-5);

  /* NULL dx is skipped. */
  acrnn_batchnorm_backward(NULL, dg, dbeta, b.r, b.x, b.mean, b.rstd, b.gamma,
                           b.c, b.m);

  g_free(dx), g_free(dg), g_free(dbeta), g_free(dx2), g_free(dg2);
  g_free(dbeta2);
  g_free(b.x), g_free(b.gamma), g_free(b.beta), g_free(b.r), g_free(b.y);
  g_free(b.mean), g_free(b.rstd), g_free(b.rm), g_free(b.rv);
}

/* Batch norm + ReLU fused: the same as the two layers in sequence, forward
 * and backward (dx overwritten, in place allowed), and finite differences
 * of L = sum(relu(bn(x)) * r). */
static double bn_relu_loss(void *p) {
  BnCtx *b = p;
  acrnn_batchnorm_relu_forward_train(b->y, b->mean, b->rstd, b->x, b->gamma,
                                     b->beta, b->rm, b->rv, b->c, b->m, 0.1f,
                                     1e-5f);
  return dot_d(b->y, b->r, (size_t)b->c * b->m);
}

static void test_batchnorm_relu(void) {
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 12);
  /* m = 2100 > the 1024-value blocks the sums run over */
  BnCtx b = {.c = 3, .m = 2100};
  const size_t n = (size_t)b.c * b.m;
  b.x = rand_vec(n, &rng);
  for (size_t i = 0; i < n; i++) /* distinct means and scales per channel */
    b.x[i] = b.x[i] * (1.0f + (float)(i / b.m)) + 3.0f * (float)(i / b.m);
  b.gamma = rand_vec(b.c, &rng);
  b.beta = rand_vec(b.c, &rng);
  b.r = rand_vec(n, &rng);
  b.y = g_new(float, n);
  b.mean = g_new(float, b.c);
  b.rstd = g_new(float, b.c);
  b.rm = g_new0(float, b.c);
  b.rv = g_new0(float, b.c);

  /* Forward: batch norm then ReLU. */
  float *y2 = g_new(float, n), *mean2 = g_new(float, b.c);
  float *rstd2 = g_new(float, b.c), *rm2 = g_new0(float, b.c);
  float *rv2 = g_new0(float, b.c);
  acrnn_batchnorm_forward_train(y2, mean2, rstd2, b.x, b.gamma, b.beta, rm2,
                                rv2, b.c, b.m, 0.1f, 1e-5f);
  acrnn_relu_forward(y2, y2, n);
  bn_relu_loss(&b);
  assert_close_f("bn relu y", b.y, y2, n, 1e-5, 1e-6);
  assert_close_f("bn relu mean", b.mean, mean2, b.c, 1e-6, 1e-6);
  assert_close_f("bn relu rstd", b.rstd, rstd2, b.c, 1e-6, 1e-6);
  assert_close_f("bn relu running mean", b.rm, rm2, b.c, 1e-6, 1e-6);
  assert_close_f("bn relu running var", b.rv, rv2, b.c, 1e-6, 1e-6);
  /* Statistics against a direct double computation. */
  for (int ch = 0; ch < b.c; ch++) {
    double mu = 0.0, var = 0.0;
    for (size_t i = 0; i < b.m; i++)
      mu += b.x[ch * b.m + i];
    mu /= (double)b.m;
    for (size_t i = 0; i < b.m; i++)
      var += (b.x[ch * b.m + i] - mu) * (b.x[ch * b.m + i] - mu);
    var /= (double)b.m;
    g_assert_cmpfloat_with_epsilon(b.mean[ch], mu, 1e-5);
    g_assert_cmpfloat_with_epsilon(b.rstd[ch] * sqrt(var + 1e-5), 1.0, 1e-5);
  }

  /* Backward against relu backward then batch norm backward; in place. */
  float *dbn = g_new0(float, n), *dx2 = g_new0(float, n);
  float *dg2 = g_new0(float, b.c), *dbeta2 = g_new0(float, b.c);
  acrnn_relu_backward(dbn, b.r, b.y, n);
  acrnn_batchnorm_backward(dx2, dg2, dbeta2, dbn, b.x, b.mean, b.rstd, b.gamma,
                           b.c, b.m);
  float *dx = g_new(float, n), *dg = g_new0(float, b.c);
  float *dbeta = g_new0(float, b.c);
  for (size_t i = 0; i < n; i++)
    dx[i] = NAN; /* overwritten, never read */
  acrnn_batchnorm_relu_backward_set(dx, dg, dbeta, b.r, b.y, b.x, b.mean,
                                    b.rstd, b.gamma, b.c, b.m);
  assert_close_f("bn relu dx", dx, dx2, n, 1e-4, 1e-6);
  assert_close_f("bn relu dgamma", dg, dg2, b.c, 1e-4, 1e-5);
  assert_close_f("bn relu dbeta", dbeta, dbeta2, b.c, 1e-4, 1e-5);
  float *inplace = g_memdup2(b.r, sizeof(float) * n);
  acrnn_batchnorm_relu_backward_set(inplace, dg, dbeta, inplace, b.y, b.x,
                                    b.mean, b.rstd, b.gamma, b.c, b.m);
  assert_close_f("bn relu dx in place", inplace, dx, n, 0, 0);
  for (int ch = 0; ch < b.c; ch++) /* parameter gradients accumulated */
    g_assert_cmpfloat_with_epsilon(dg[ch], 2.0f * dg2[ch],
                                   1e-4 * (1.0 + fabs(dg2[ch])));

  /* Finite differences on every 97th element of x. (gamma and beta move
   * all values at once, so some cross the ReLU's kink; their gradients are
   * checked against the unfused layers above, which have their own finite
   * difference test.) */
  memset(dg, 0, sizeof(float) * b.c);
  memset(dbeta, 0, sizeof(float) * b.c);
  acrnn_batchnorm_relu_backward_set(dx, dg, dbeta, b.r, b.y, b.x, b.mean,
                                    b.rstd, b.gamma, b.c, b.m);
  fd_check("bn relu fd dx", b.x, n, dx, bn_relu_loss, &b, 1e-2f, 97);

  g_free(inplace), g_free(dbn), g_free(dx2), g_free(dg2), g_free(dbeta2);
  g_free(dx), g_free(dg), g_free(dbeta);
  g_free(y2), g_free(mean2), g_free(rstd2), g_free(rm2), g_free(rv2);
  g_free(b.x), g_free(b.gamma), g_free(b.beta), g_free(b.r), g_free(b.y);
  g_free(b.mean), g_free(b.rstd), g_free(b.rm), g_free(b.rv);
}

/* ---- relu -------------------------------------------------------------- */

static void test_relu(void) {
  const float x[6] = {-1.0f, 0.0f, 2.0f, -0.5f, 3.0f, 1e-3f};
  const float dy[6] = {1, 2, 3, 4, 5, 6};
  float y[6], dx[6] = {10, 10, 10, 10, 10, 10};
  acrnn_relu_forward(y, x, 6);
  const float ey[6] = {0, 0, 2, 0, 3, 1e-3f};
  assert_close_f("relu y", y, ey, 6, 0, 0);
  acrnn_relu_backward(dx, dy, y, 6);
  const float edx[6] = {10, 10, 13, 10, 15, 16};
  assert_close_f("relu dx", dx, edx, 6, 0, 0);
  /* In place. */
  float z[6];
  memcpy(z, x, sizeof z);
  acrnn_relu_forward(z, z, 6);
  assert_close_f("relu in place", z, ey, 6, 0, 0);
}

/* ---- maxpool ----------------------------------------------------------- */

static void test_maxpool(void) {
  /* 3 planes of 7 x 8 with pool (4, 3): floor gives 1 x 2. */
  const int cn = 3, h = 7, w = 8, ph = 4, pw = 3, oh = 1, ow = 2;
  const size_t plane = (size_t)h * w, n = cn * plane;
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 5);
  uint32_t *perm = g_new(uint32_t, n);
  for (size_t i = 0; i < n; i++)
    perm[i] = (uint32_t)i;
  acrnn_rng_shuffle(&rng, perm, n);
  float *x = g_new(float, n);
  for (size_t i = 0; i < n; i++) /* distinct, 0.1 apart */
    x[i] = 0.1f * (float)perm[i] - 5.0f;
  float y[3 * 1 * 2];
  int32_t am[3 * 1 * 2];
  acrnn_maxpool_forward(y, am, x, cn, h, w, ph, pw);
  for (int p = 0; p < cn; p++)
    for (int oi = 0; oi < oh; oi++)
      for (int oj = 0; oj < ow; oj++) {
        float best = -INFINITY;
        int bi = -1;
        for (int i = oi * ph; i < oi * ph + ph; i++)
          for (int j = oj * pw; j < oj * pw + pw; j++)
            if (x[p * plane + i * w + j] > best)
              best = x[p * plane + i * w + j], bi = i * w + j;
        const int o = (p * oh + oi) * ow + oj;
        g_assert_cmpfloat(y[o], ==, best);
        g_assert_cmpint(am[o], ==, bi);
      }

  /* Backward: dy lands on the argmax only, and accumulates. */
  const float dy[6] = {1, 2, 3, 4, 5, 6};
  float *dx = g_new(float, n);
  for (size_t i = 0; i < n; i++)
    dx[i] = 0.5f;
  acrnn_maxpool_backward(dx, dy, am, cn, h, w, ph, pw);
  acrnn_maxpool_backward(dx, dy, am, cn, h, w, ph, pw);
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    sum += dx[i];
  g_assert_cmpfloat_with_epsilon(sum, 0.5 * n + 2.0 * 21.0, 1e-4);
  for (int o = 0; o < 6; o++) {
    const int p = o / (oh * ow);
    g_assert_cmpfloat(dx[p * plane + am[o]], ==, 0.5f + 2.0f * dy[o]);
  }

  /* Rows and columns past the last whole window are never picked. */
  for (int o = 0; o < 6; o++) {
    g_assert_cmpint(am[o] / w, <, oh * ph);
    g_assert_cmpint(am[o] % w, <, ow * pw);
  }
  g_free(dx), g_free(x), g_free(perm);
}

/* PyTorch's scan: if (v > best || isnan(v)) take v, row-major. */
static void maxpool_ref(float *y, int32_t *am, const float *x, int cn, int h,
                        int w, int ph, int pw) {
  const int oh = h / ph, ow = w / pw;
  for (int p = 0; p < cn; p++)
    for (int oi = 0; oi < oh; oi++)
      for (int oj = 0; oj < ow; oj++) {
        float best = -INFINITY;
        int bi = oi * ph * w + oj * pw;
        for (int i = oi * ph; i < oi * ph + ph; i++)
          for (int j = oj * pw; j < oj * pw + pw; j++) {
            const float v = x[(size_t)p * h * w + i * w + j];
            if (v > best || isnan(v))
              best = v, bi = i * w + j;
          }
        y[(p * oh + oi) * ow + oj] = best;
        am[(p * oh + oi) * ow + oj] = bi;
      }
}

/* The network's pools and a generic one, on data with many ties (small
 * integers and zeros, as after ReLU) and a few NaNs; the overwriting
 * backward against the accumulating one. */
static void test_maxpool_shapes(void) {
  static const int pools[][2] = {{4, 3}, {4, 1}, {1, 3},  {2, 2},
                                 {3, 5}, {2, 7}, {1, 300}};
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 9);
  for (size_t k = 0; k < G_N_ELEMENTS(pools); k++) {
    const int cn = 3, h = 13, ph = pools[k][0], pw = pools[k][1];
    const int w = pw > 100 ? 2 * pw + 5 : 17; /* > 256: the plain scan */
    const int oh = h / ph, ow = w / pw;
    const size_t n = (size_t)cn * h * w, no = (size_t)cn * oh * ow;
    float *x = g_new(float, n);
    for (size_t i = 0; i < n; i++) {
      const float u = acrnn_rng_uniform(&rng);
      x[i] = u < 0.4f ? 0.0f : (float)(int)(4.0f * u);
    }
    x[5] = NAN, x[6] = NAN, x[w + 5] = NAN, x[n - 1] = NAN;
    float *y = g_new(float, no), *ye = g_new(float, no);
    int32_t *am = g_new(int32_t, no), *ame = g_new(int32_t, no);
    acrnn_maxpool_forward(y, am, x, cn, h, w, ph, pw);
    maxpool_ref(ye, ame, x, cn, h, w, ph, pw);
    for (size_t o = 0; o < no; o++) {
      g_assert_cmpint(am[o], ==, ame[o]);
      g_assert_true(y[o] == ye[o] || (isnan(y[o]) && isnan(ye[o])));
    }
    /* Inference: values only, the same values. */
    for (size_t o = 0; o < no; o++)
      y[o] = -1.0f;
    acrnn_maxpool_forward(y, NULL, x, cn, h, w, ph, pw);
    for (size_t o = 0; o < no; o++)
      g_assert_true(y[o] == ye[o] || (isnan(y[o]) && isnan(ye[o])));
    float *dy = rand_vec(no, &rng), *dx = g_new0(float, n);
    float *dxs = g_new(float, n);
    for (size_t i = 0; i < n; i++)
      dxs[i] = NAN; /* every element is written */
    acrnn_maxpool_backward(dx, dy, am, cn, h, w, ph, pw);
    acrnn_maxpool_backward_set(dxs, dy, am, cn, h, w, ph, pw);
    assert_close_f("maxpool backward set", dxs, dx, n, 0, 0);
    g_free(x), g_free(y), g_free(ye), g_free(am), g_free(ame);
    g_free(dy), g_free(dx), g_free(dxs);
  }
}

/* ---- dense ------------------------------------------------------------- */

typedef struct {
  int m, in, out;
  float *x, *w, *b, *r, *y;
} DenseCtx;

static double dense_loss(void *p) {
  DenseCtx *d = p;
  acrnn_dense_forward(d->y, d->x, d->w, d->b, d->m, d->in, d->out);
  return dot_d(d->y, d->r, (size_t)d->m * d->out);
}

static void test_dense(void) {
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 3);
  DenseCtx d = {.m = 5, .in = 7, .out = 4};
  const size_t nx = (size_t)d.m * d.in, nw = (size_t)d.out * d.in;
  const size_t ny = (size_t)d.m * d.out;
  d.x = rand_vec(nx, &rng);
  d.w = rand_vec(nw, &rng);
  d.b = rand_vec(d.out, &rng);
  d.r = rand_vec(ny, &rng);
  d.y = g_new(float, ny);

  double *yref = g_new(double, ny);
  for (int bias = 0; bias < 2; bias++) {
    for (int i = 0; i < d.m; i++)
      for (int o = 0; o < d.out; o++) {
        double acc = bias ? d.b[o] : 0.0;
        for (int k = 0; k < d.in; k++)
          acc += (double)d.x[i * d.in + k] * d.w[o * d.in + k];
        yref[i * d.out + o] = acc;
      }
    acrnn_dense_forward(d.y, d.x, d.w, bias ? d.b : NULL, d.m, d.in, d.out);
    assert_close("dense y", d.y, yref, ny, 1e-5, 1e-6);
  }

  float *dx = g_new0(float, nx), *dw = g_new0(float, nw);
  float *db = g_new0(float, d.out);
  acrnn_dense_backward(dx, dw, db, d.r, d.x, d.w, d.m, d.in, d.out);
  fd_check("dense fd dx", d.x, nx, dx, dense_loss, &d, 1e-2f, 1);
  fd_check("dense fd dw", d.w, nw, dw, dense_loss, &d, 1e-2f, 1);
  fd_check("dense fd db", d.b, d.out, db, dense_loss, &d, 1e-2f, 1);

  float *dx2 = g_memdup2(dx, sizeof(float) * nx);
  float *dw2 = g_memdup2(dw, sizeof(float) * nw);
  float *db2 = g_memdup2(db, sizeof(float) * d.out);
  acrnn_dense_backward(dx, dw, db, d.r, d.x, d.w, d.m, d.in, d.out);
  for (size_t i = 0; i < nx; i++)
    dx2[i] *= 2.0f;
  for (size_t i = 0; i < nw; i++)
    dw2[i] *= 2.0f;
  for (int i = 0; i < d.out; i++)
    db2[i] *= 2.0f;
  assert_close_f("dense dx twice", dx, dx2, nx, 1e-4, 1e-5);
  assert_close_f("dense dw twice", dw, dw2, nw, 1e-4, 1e-5);
  assert_close_f("dense db twice", db, db2, d.out, 1e-4, 1e-5);
  acrnn_dense_backward(NULL, dw, NULL, d.r, d.x, d.w, d.m, d.in, d.out);

  g_free(dx), g_free(dw), g_free(db), g_free(dx2), g_free(dw2), g_free(db2);
  g_free(yref);
  g_free(d.x), g_free(d.w), g_free(d.b), g_free(d.r), g_free(d.y);
}

/* ---- dropout ----------------------------------------------------------- */

static void test_dropout(void) {
  const size_t n = 100000;
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 9);
  float *x = rand_vec(n, &rng);
  float *y = g_new(float, n), *mask = g_new(float, n);
  const float p = 0.3f, scale = 1.0f / (1.0f - p);
  acrnn_dropout_forward(y, mask, x, n, p, &rng);
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) {
    g_assert_true(mask[i] == 0.0f || mask[i] == scale);
    g_assert_cmpfloat(y[i], ==, x[i] * mask[i]);
    kept += mask[i] != 0.0f;
  }
  /* 1 - p kept; the binomial standard deviation is about 0.0015. */
  g_assert_cmpfloat_with_epsilon((double)kept / n, 1.0 - p, 0.01);

  /* Backward accumulates dy * mask. */
  float *dx = g_new(float, n);
  for (size_t i = 0; i < n; i++)
    dx[i] = 1.0f;
  acrnn_dropout_backward(dx, x, mask, n);
  for (size_t i = 0; i < n; i++)
    g_assert_cmpfloat(dx[i], ==, 1.0f + x[i] * mask[i]);

  /* The same seed gives the same mask. */
  float *mask2 = g_new(float, n);
  AcrnnRng r1, r2;
  acrnn_rng_seed(&r1, 42);
  acrnn_rng_seed(&r2, 42);
  acrnn_dropout_forward(y, mask, x, n, 0.5f, &r1);
  acrnn_dropout_forward(y, mask2, x, n, 0.5f, &r2);
  g_assert_cmpmem(mask, sizeof(float) * n, mask2, sizeof(float) * n);

  /* p = 0 is the identity. */
  acrnn_dropout_forward(y, mask, x, n, 0.0f, &rng);
  for (size_t i = 0; i < n; i++) {
    g_assert_cmpfloat(mask[i], ==, 1.0f);
    g_assert_cmpfloat(y[i], ==, x[i]);
  }
  g_free(x), g_free(y), g_free(mask), g_free(mask2), g_free(dx);
}

/* ---- softmax + cross-entropy ------------------------------------------ */

static void test_softmax(void) {
  const float logits[6] = {1.0f, 2.0f, 3.0f, 1000.0f, 1001.0f, -1000.0f};
  float p[6];
  acrnn_softmax_forward(p, logits, 2, 3);
  for (int r = 0; r < 2; r++) {
    double mx = -INFINITY, s = 0.0, e[3];
    for (int j = 0; j < 3; j++)
      mx = fmax(mx, logits[r * 3 + j]);
    for (int j = 0; j < 3; j++)
      s += e[j] = exp(logits[r * 3 + j] - mx);
    for (int j = 0; j < 3; j++)
      e[j] /= s;
    assert_close("softmax", p + r * 3, e, 3, 1e-6, 1e-7);
  }
}

typedef struct {
  int m, k;
  float *logits, *t, *p;
} XentCtx;

static double xent_loss(void *v) {
  XentCtx *c = v;
  acrnn_softmax_forward(c->p, c->logits, c->m, c->k);
  return acrnn_xent_forward_backward(NULL, c->p, c->t, c->m, c->k);
}

static void test_xent(void) {
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 21);
  XentCtx c = {.m = 4, .k = 5};
  const size_t n = (size_t)c.m * c.k;
  c.logits = rand_vec(n, &rng);
  c.t = g_new0(float, n);
  c.p = g_new(float, n);
  /* Rows 0, 1 one-hot; rows 2, 3 soft (mixup-like). */
  c.t[0 * 5 + 2] = 1.0f;
  c.t[1 * 5 + 4] = 1.0f;
  c.t[2 * 5 + 0] = 0.3f, c.t[2 * 5 + 3] = 0.7f;
  for (int j = 0; j < 5; j++)
    c.t[3 * 5 + j] = 0.2f;

  acrnn_softmax_forward(c.p, c.logits, c.m, c.k);
  double expect = 0.0;
  for (size_t i = 0; i < n; i++)
    if (c.t[i] != 0.0f)
      expect -= c.t[i] * log(c.p[i]);
  expect /= c.m;
  float *dl = g_new0(float, n);
  const float loss = acrnn_xent_forward_backward(dl, c.p, c.t, c.m, c.k);
  g_assert_cmpfloat_with_epsilon(loss, expect, 1e-5);
  for (size_t i = 0; i < n; i++)
    g_assert_cmpfloat_with_epsilon(dl[i], (c.p[i] - c.t[i]) / c.m, 1e-7);
  /* The gradient of softmax + cross-entropy with respect to the logits. */
  fd_check("xent fd dlogits", c.logits, n, dl, xent_loss, &c, 1e-2f, 1);

  /* Accumulates. */
  acrnn_softmax_forward(c.p, c.logits, c.m, c.k);
  acrnn_xent_forward_backward(dl, c.p, c.t, c.m, c.k);
  for (size_t i = 0; i < n; i++)
    g_assert_cmpfloat_with_epsilon(dl[i], 2.0 * (c.p[i] - c.t[i]) / c.m, 1e-6);

  /* A zero probability on the target gives a large but finite loss. */
  const float p0[2] = {0.0f, 1.0f}, t0[2] = {1.0f, 0.0f};
  const float big = acrnn_xent_forward_backward(NULL, p0, t0, 1, 2);
  g_assert_true(isfinite(big));
  g_assert_cmpfloat(big, >, 50.0f);
  /* A perfect prediction costs nothing. */
  const float p1[2] = {0.0f, 1.0f}, t1[2] = {0.0f, 1.0f};
  g_assert_cmpfloat(acrnn_xent_forward_backward(NULL, p1, t1, 1, 2), ==, 0.0f);

  g_free(dl), g_free(c.logits), g_free(c.t), g_free(c.p);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/nn/conv2d/small", test_conv2d_small);
  g_test_add_func("/nn/conv2d/chunked", test_conv2d_chunked);
  g_test_add_func("/nn/conv2d/direct-network-shapes",
                  test_conv2d_direct_network_shapes);
  g_test_add_func("/nn/conv2d/direct-threads", test_conv2d_direct_threads);
  g_test_add_func("/nn/conv2d/backward-set", test_conv2d_backward_set);
  g_test_add_func("/nn/conv2d/weight-gradient-fp32", test_conv2d_wgrad);
  g_test_add_func("/nn/conv2d/pool-fused", test_conv2d_pool_fused);
  g_test_add_func("/nn/batchnorm/running-stats", test_batchnorm_running_stats);
  g_test_add_func("/nn/batchnorm/backward", test_batchnorm_backward);
  g_test_add_func("/nn/batchnorm/relu-fused", test_batchnorm_relu);
  g_test_add_func("/nn/batchnorm/relu-pool-fused", test_bn_relu_pool);
  g_test_add_func("/nn/relu", test_relu);
  g_test_add_func("/nn/maxpool", test_maxpool);
  g_test_add_func("/nn/maxpool/shapes-ties-nan", test_maxpool_shapes);
  g_test_add_func("/nn/dense", test_dense);
  g_test_add_func("/nn/dropout", test_dropout);
  g_test_add_func("/nn/softmax", test_softmax);
  g_test_add_func("/nn/xent", test_xent);
  return g_test_run();
}
