/* test_replicas.c - acrnn_net_forward_replicas(): a batch split across
 * copies of a network gives, bit for bit, the logits and probabilities of
 * one forward over the whole batch, for any number of copies (more than
 * segments too), in fp32 and bf16 (the copies take the first net's
 * precision), and puts libacrnn's thread count back. */
#include <acrnn/acrnn.h>
#include <acrnn/replicas.h>
#include <string.h>

#define BANDS 32
#define FRAMES 64 /* wide enough for the direct convolution path */
#define K 5
#define BATCH 7

static void assert_same_bits(const float *x, const float *y, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (memcmp(&x[i], &y[i], sizeof(float)) != 0)
      g_error("element %zu differs: %.9g vs %.9g", i, x[i], y[i]);
}

static void check_precision(AcrnnPrecision precision) {
  AcrnnNetConfig cfg;
  acrnn_net_config_init(&cfg);
  cfg.bands = BANDS;
  cfg.frames = FRAMES;
  cfg.n_classes = K;
  AcrnnNet *net = acrnn_net_new(&cfg, NULL);
  g_assert_nonnull(net);
  acrnn_net_init_random(net, 7);
  /* running statistics away from 0 and 1, so that they matter */
  float *buf = acrnn_net_buffers(net);
  for (size_t i = 0; i < acrnn_net_n_buffers(net); i++)
    buf[i] = 0.5f + 0.25f * (float)(i % 5);
  enum { MAX_NETS = 9 };
  AcrnnNet *nets[MAX_NETS] = {net};
  for (int i = 1; i < MAX_NETS; i++)
    nets[i] = acrnn_net_copy(net); /* copied at fp32 */
  acrnn_net_set_precision(net, precision);

  const size_t in = (size_t)2 * BANDS * FRAMES * BATCH;
  float *x = g_new(float, in);
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 11);
  for (size_t i = 0; i < in; i++)
    x[i] = (float)acrnn_rng_normal(&rng);
  float want_logits[BATCH * K], want_probs[BATCH * K];
  memcpy(want_logits, acrnn_net_forward(net, x, BATCH, FALSE, NULL),
         sizeof want_logits);
  acrnn_net_probabilities(net, want_probs);

  acrnn_set_threads(2);
  const int counts[] = {1, 2, 3, 7, MAX_NETS};
  for (size_t c = 0; c < G_N_ELEMENTS(counts); c++) {
    float logits[BATCH * K], probs[BATCH * K];
    memset(logits, 0xff, sizeof logits);
    memset(probs, 0xff, sizeof probs);
    acrnn_net_forward_replicas(nets, counts[c], x, BATCH, logits, probs);
    assert_same_bits(logits, want_logits, BATCH * K);
    assert_same_bits(probs, want_probs, BATCH * K);
    g_assert_cmpint(acrnn_get_threads(), ==, 2);
    /* either output may be left out */
    memset(probs, 0xff, sizeof probs);
    acrnn_net_forward_replicas(nets, counts[c], x, BATCH, NULL, probs);
    assert_same_bits(probs, want_probs, BATCH * K);
  }
  acrnn_set_threads(1);
  for (int i = 1; i < MAX_NETS; i++)
    acrnn_net_free(nets[i]);
  acrnn_net_free(net);
  g_free(x);
}

static void test_fp32(void) {
  check_precision(ACRNN_PRECISION_FP32);
}

static void test_bf16(void) {
  check_precision(ACRNN_PRECISION_BF16);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/replicas/fp32", test_fp32);
  g_test_add_func("/replicas/bf16", test_bf16);
  return g_test_run();
}
