/* nn_test_util.c - see nn_test_util.h. */
#include "nn_test_util.h"

#include <math.h>
#include <string.h>

void nt_assert_same_bits(const float *x, const float *y, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (memcmp(&x[i], &y[i], sizeof(float)) != 0)
      g_error("element %zu differs: %.9g vs %.9g", i, x[i], y[i]);
}

void nt_assert_close(const float *x, const float *y, size_t n, double rel) {
  for (size_t i = 0; i < n; i++)
    if (!(fabs((double)x[i] - y[i]) <= rel * fmax(1.0, fabs((double)y[i]))))
      g_error("element %zu differs: %.9g vs %.9g", i, x[i], y[i]);
}

AcrnnNet *nt_new_net(int bands, int frames, int n_classes,
                     const char *attention, guint64 seed) {
  AcrnnNetConfig cfg;
  acrnn_net_config_init(&cfg);
  cfg.bands = bands;
  cfg.frames = frames;
  cfg.n_classes = n_classes;
  g_assert_true(acrnn_attention_parse(attention, &cfg.attention, NULL));
  GError *error = NULL;
  AcrnnNet *net = acrnn_net_new(&cfg, &error);
  g_assert_no_error(error);
  acrnn_net_init_random(net, seed);
  float *buf = acrnn_net_buffers(net);
  for (size_t i = 0; i < acrnn_net_n_buffers(net); i++)
    buf[i] = 0.02f + 0.04f * (float)(i % 4);
  return net;
}

float *nt_random(size_t n, guint64 seed) {
  float *x = g_new(float, n);
  AcrnnRng rng;
  acrnn_rng_seed(&rng, seed);
  for (size_t i = 0; i < n; i++)
    x[i] = (float)acrnn_rng_normal(&rng);
  return x;
}

void nt_conv_wgrad_sums(const NtConvShape *c, const float *dy, const float *x,
                        int co, int ci, int k, float (*round)(float),
                        double *rounded, double *exact, double *mag) {
  const size_t hw = (size_t)c->h * c->w, nhw = c->n * hw;
  const int ki = k / c->kw - c->kh / 2, kj = k % c->kw - c->kw / 2;
  double r = 0.0, e = 0.0, m = 0.0;
  for (int s = 0; s < c->n; s++)
    for (int i = 0; i < c->h; i++)
      for (int j = 0; j < c->w; j++) {
        const int ii = i + ki, jj = j + kj;
        if (ii < 0 || ii >= c->h || jj < 0 || jj >= c->w)
          continue;
        const float a = dy[co * nhw + s * hw + (size_t)i * c->w + j];
        const float b = x[ci * nhw + s * hw + (size_t)ii * c->w + jj];
        if (round)
          r += (double)round(a) * round(b);
        e += (double)a * b;
        m += fabs((double)a * b);
      }
  if (rounded)
    *rounded = r;
  *exact = e;
  *mag = m;
}
