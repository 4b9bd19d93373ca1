/* test_replicas.c - acrnn_net_forward_replicas(): a batch split across
 * copies of a network gives, bit for bit, the logits and probabilities of
 * one forward over the whole batch, for any number of copies (more than
 * segments too), in fp32 and bf16 (the copies take the first net's
 * precision), and leaves libacrnn's thread count as it was, also when
 * several threads call it at once (pipelines in one process). */
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

/* A small network with random weights (seed). */
static AcrnnNet *new_net(guint64 seed) {
  AcrnnNetConfig cfg;
  acrnn_net_config_init(&cfg);
  cfg.bands = BANDS;
  cfg.frames = FRAMES;
  cfg.n_classes = K;
  AcrnnNet *net = acrnn_net_new(&cfg, NULL);
  g_assert_nonnull(net);
  acrnn_net_init_random(net, seed);
  return net;
}

/* A batch of count random segments (seed). */
static float *random_batch(int count, guint64 seed) {
  const size_t in = (size_t)2 * BANDS * FRAMES * count;
  float *x = g_new(float, in);
  AcrnnRng rng;
  acrnn_rng_seed(&rng, seed);
  for (size_t i = 0; i < in; i++)
    x[i] = (float)acrnn_rng_normal(&rng);
  return x;
}

static void check_precision(AcrnnPrecision precision) {
  AcrnnNet *net = new_net(7);
  /* running statistics away from 0 and 1, so that they matter */
  float *buf = acrnn_net_buffers(net);
  for (size_t i = 0; i < acrnn_net_n_buffers(net); i++)
    buf[i] = 0.5f + 0.25f * (float)(i % 5);
  enum { MAX_NETS = 9 };
  AcrnnNet *nets[MAX_NETS] = {net};
  for (int i = 1; i < MAX_NETS; i++)
    nets[i] = acrnn_net_copy(net); /* copied at fp32 */
  acrnn_net_set_precision(net, precision);

  float *x = random_batch(BATCH, 11);
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

/* Several callers at once, each with its own copies, as pipelines in one
 * process: every result right, and the thread count never lost. */
enum { CALLERS = 3, ROUNDS = 12, CBATCH = 7 };

typedef struct {
  AcrnnNet *nets[2];
  const float *x, *want;
} Caller;

static gpointer caller_run(gpointer data) {
  Caller *c = data;
  for (int r = 0; r < ROUNDS; r++) {
    float logits[CBATCH * K];
    acrnn_net_forward_replicas(c->nets, 2, c->x, CBATCH, logits, NULL);
    assert_same_bits(logits, c->want, CBATCH * K);
    g_assert_cmpint(acrnn_get_threads(), ==, 2);
  }
  return NULL;
}

static void test_concurrent(void) {
  AcrnnNet *net = new_net(3);
  float *x = random_batch(CBATCH, 5);
  float want[CBATCH * K];
  memcpy(want, acrnn_net_forward(net, x, CBATCH, FALSE, NULL), sizeof want);
  acrnn_set_threads(2);
  Caller callers[CALLERS];
  GThread *threads[CALLERS];
  for (int i = 0; i < CALLERS; i++) {
    callers[i] = (Caller){{acrnn_net_copy(net), acrnn_net_copy(net)}, x, want};
    threads[i] = g_thread_new("caller", caller_run, &callers[i]);
  }
  for (int i = 0; i < CALLERS; i++) {
    g_thread_join(threads[i]);
    acrnn_net_free(callers[i].nets[0]);
    acrnn_net_free(callers[i].nets[1]);
  }
  g_assert_cmpint(acrnn_get_threads(), ==, 2);
  acrnn_set_threads(1);
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
  g_test_add_func("/replicas/concurrent", test_concurrent);
  return g_test_run();
}
