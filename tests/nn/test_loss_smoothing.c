/* test_loss_smoothing.c - the soft-target cross-entropy with label-smoothed
 * targets ((1 - e) t + e / K, as acrnn-train --label-smoothing builds
 * them, after mixup): its gradient with respect to the logits is p - t
 * over the rows, as central finite differences of the loss give, and it
 * vanishes where the softmax equals the smoothed targets. */
#include "layers.h"
#include <acrnn/rng.h>
#include <math.h>
#include <string.h>

enum { M = 3, K = 5 };

static double loss_at(const float *logits, const float *t) {
  float p[M * K];
  acrnn_softmax_forward(p, logits, M, K);
  return acrnn_xent_forward_backward(NULL, p, t, M, K);
}

/* Row r: one-hot class r (r < 2) or a mixup of classes 1 and 3 (lambda
 * 0.3), then smoothed by eps. */
static void smoothed_targets(float *t, double eps) {
  memset(t, 0, sizeof(float) * M * K);
  t[0 * K + 0] = 1.0f;
  t[1 * K + 4] = 1.0f;
  t[2 * K + 1] = 0.3f;
  t[2 * K + 3] = 0.7f;
  for (int i = 0; i < M * K; i++)
    t[i] = (float)(1.0 - eps) * t[i] + (float)(eps / K);
}

static void test_gradient_matches_differences(void) {
  const double eps = 0.1;
  float t[M * K], z[M * K], p[M * K], g[M * K];
  smoothed_targets(t, eps);
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 7);
  for (int i = 0; i < M * K; i++)
    z[i] = (float)(2.0 * acrnn_rng_normal(&rng));
  acrnn_softmax_forward(p, z, M, K);
  memset(g, 0, sizeof g);
  acrnn_xent_forward_backward(g, p, t, M, K);
  const float h = 1e-2f;
  for (int i = 0; i < M * K; i++) {
    float zp[M * K], zm[M * K];
    memcpy(zp, z, sizeof z);
    memcpy(zm, z, sizeof z);
    zp[i] += h;
    zm[i] -= h;
    double fd = (loss_at(zp, t) - loss_at(zm, t)) / (2.0 * h);
    g_assert_cmpfloat(fabs(fd - g[i]), <, 2e-4 + 1e-2 * fabs(fd));
    /* and it is p - t (mean over the rows) */
    g_assert_cmpfloat(fabs(g[i] - (p[i] - t[i]) / M), <, 1e-7);
  }
  /* smoothing made every target positive: every logit gets a pull */
  for (int i = 0; i < M * K; i++)
    g_assert_cmpfloat(t[i], >=, (float)(eps / K) * 0.999f);
}

/* Logits log t give p = t: the gradient is 0 and the loss the entropy of
 * the smoothed targets, the smallest it can be (not 0, as with one-hot
 * targets). */
static void test_minimum_at_targets(void) {
  float t[M * K], z[M * K], p[M * K], g[M * K];
  smoothed_targets(t, 0.2);
  double entropy = 0;
  for (int i = 0; i < M * K; i++) {
    z[i] = logf(t[i]);
    entropy -= t[i] * log(t[i]) / M;
  }
  acrnn_softmax_forward(p, z, M, K);
  memset(g, 0, sizeof g);
  float loss = acrnn_xent_forward_backward(g, p, t, M, K);
  g_assert_cmpfloat(fabs(loss - entropy), <, 1e-5);
  g_assert_cmpfloat(entropy, >, 0.3);
  for (int i = 0; i < M * K; i++)
    g_assert_cmpfloat(fabs(g[i]), <, 1e-7);
  /* any other logits cost more */
  z[3] += 0.5f;
  g_assert_cmpfloat(loss_at(z, t), >, loss + 1e-4);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/loss/smoothing/gradient",
                  test_gradient_matches_differences);
  g_test_add_func("/loss/smoothing/minimum", test_minimum_at_targets);
  return g_test_run();
}
