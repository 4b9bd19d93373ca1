/* test_replicas.c - acrnn_net_forward_replicas(): a batch split across
 * copies of a network gives the logits and probabilities of one forward
 * over the whole batch, for any number of copies (more than segments too),
 * bit for bit in bf16 and up to OpenBLAS's rounding in fp32 (the copies
 * take the first net's precision), and leaves libacrnn's thread count as it
 * was, also when several threads call it at once (pipelines in one process). */
#include "nn_test_util.h"
#include <acrnn/acrnn.h>
#include <acrnn/replicas.h>
#include <string.h>

#define BANDS 32
#define FRAMES 64 /* wide enough for the direct convolution path */
#define K 5
#define BATCH 7

/* Bit for bit in bf16 (libacrnn's own kernels); in fp32 up to OpenBLAS's
 * rounding, which depends on a product's shape and on how its threads
 * split it (replicas.h): the parts' products have fewer columns than the
 * whole batch's. OpenBLAS's AVX-512 kernels (SkylakeX, Cooperlake) differ
 * by at most 1.5e-7 here; its AVX2 ones (Haswell, Zen: chosen by
 * OPENBLAS_CORETYPE=Haswell, as some machines' environments set it, and by
 * tests/isa-run.sh avx2) by up to 2.1e-5 of the logits. A wrong split of
 * the batch differs by far more. */
static void assert_same(const float *x, const float *y, size_t n,
                        AcrnnPrecision precision) {
  if (precision == ACRNN_PRECISION_BF16)
    nt_assert_same_bits(x, y, n);
  else
    nt_assert_close(x, y, n, 1e-4);
}

static void check_precision(AcrnnPrecision precision) {
  AcrnnNet *net = nt_new_net(BANDS, FRAMES, K, "rnn", 7);
  enum { MAX_NETS = 9 };
  AcrnnNet *nets[MAX_NETS] = {net};
  for (int i = 1; i < MAX_NETS; i++)
    nets[i] = acrnn_net_copy(net); /* copied at fp32 */
  acrnn_net_set_precision(net, precision);

  float *x = nt_random((size_t)2 * BANDS * FRAMES * BATCH, 11);
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
    assert_same(logits, want_logits, BATCH * K, precision);
    assert_same(probs, want_probs, BATCH * K, precision);
    g_assert_cmpint(acrnn_get_threads(), ==, 2);
    /* either output may be left out */
    memset(probs, 0xff, sizeof probs);
    acrnn_net_forward_replicas(nets, counts[c], x, BATCH, NULL, probs);
    assert_same(probs, want_probs, BATCH * K, precision);
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
    assert_same(logits, c->want, CBATCH * K, ACRNN_PRECISION_FP32);
    g_assert_cmpint(acrnn_get_threads(), ==, 2);
  }
  return NULL;
}

static void test_concurrent(void) {
  AcrnnNet *net = nt_new_net(BANDS, FRAMES, K, "rnn", 3);
  float *x = nt_random((size_t)2 * BANDS * FRAMES * CBATCH, 5);
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
