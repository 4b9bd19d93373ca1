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
