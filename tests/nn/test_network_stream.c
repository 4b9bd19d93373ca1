/* test_network_stream.c - acrnn_net_forward_stream(): segments cut from one
 * stream, overlapping by half as acrnnclassify cuts them (and the last one
 * aligned to the end of the stream, and runs broken by skipped segments),
 * give bit for bit the logits of acrnn_net_forward() over the same inputs,
 * in fp32 and bf16, with the front pooled or not, on 1 and 2 threads. The
 * shared front (network_stream.c) is really taken where the direct kernels
 * run, and its maps equal a plain forward's; inputs whose frames do not
 * agree with their starts are computed on their own. */
#include "conv2d_direct.h"
#include "network_private.h"
#include "nn_test_util.h"

#include <acrnn/acrnn.h>
#include <string.h>

#define BANDS 32
#define FRAMES 128 /* wide enough for the direct convolution path */
#define HOP 64
#define K 5
#define MAX_SEGMENTS 24

/* The inputs [n][2][BANDS][FRAMES] at the given starts of the stream. */
static float *cut(const float *stream, int n_frames, const gint64 *starts,
                  int n) {
  float *x = g_new(float, (size_t)n * 2 * BANDS * FRAMES);
  for (int i = 0; i < n; i++)
    for (int row = 0; row < 2 * BANDS; row++)
      memcpy(x + ((size_t)i * 2 * BANDS + row) * FRAMES,
             stream + (size_t)row * n_frames + starts[i],
             sizeof(float) * FRAMES);
  return x;
}

/* Whether the front is shared at all on this CPU and vector level. */
static gboolean sharing_expected(void) {
  return acrnn_conv2d_direct_chosen(BANDS, FRAMES, 3, 5);
}

/* forward_stream over x at starts equals forward over x, bit for bit. */
static void check_same(AcrnnNet *net, const float *x, const gint64 *starts,
                       int n) {
  float want[MAX_SEGMENTS * K];
  memcpy(want, acrnn_net_forward(net, x, n, FALSE, NULL),
         sizeof(float) * n * K);
  const float *got = acrnn_net_forward_stream(net, x, starts, n);
  g_assert_nonnull(got);
  nt_assert_same_bits(got, want, (size_t)n * K);
}

/* Segments every HOP frames, and one more aligned to the end. */
static int half_overlap(gint64 *starts, int n_frames) {
  int n = 0;
  for (gint64 s = 0; s + FRAMES <= n_frames; s += HOP)
    starts[n++] = s;
  if (starts[n - 1] + FRAMES < n_frames)
    starts[n++] = n_frames - FRAMES;
  return n;
}

static void check_attention(const char *attention, AcrnnPrecision precision) {
  AcrnnNet *net = nt_new_net(BANDS, FRAMES, K, attention, 3);
  acrnn_net_set_precision(net, precision);
  /* 11 whole segments and the end: two runs (a span holds 9) */
  const int n_frames = 12 * HOP + 37;
  float *stream = nt_random((size_t)2 * BANDS * n_frames, 5);
  gint64 starts[MAX_SEGMENTS];
  const int n = half_overlap(starts, n_frames);
  g_assert_cmpint(n, ==, 12);
  float *x = cut(stream, n_frames, starts, n);
  acrnn_set_threads(1);
  check_same(net, x, starts, n);
  check_same(net, x, starts, 1); /* a single segment */
  acrnn_set_threads(2);
  /* a part of the batch, whose first input is not the stream's */
  check_same(net, x + (size_t)5 * 2 * BANDS * FRAMES, starts + 5, 6);
  acrnn_set_threads(1);
  g_free(x);
  g_free(stream);
  acrnn_net_free(net);
}

static void test_fp32(void) {
  /* the front pooled segment by segment (rnn), or whole maps for the
   * attention after block 1 (cnn:2) */
  const char *kinds[] = {"rnn", "cnn:2"};
  for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++)
    check_attention(kinds[i], ACRNN_PRECISION_FP32);
}

/* native where the CPU has AVX512_BF16, emulated elsewhere */
static void test_bf16(void) {
  check_attention("rnn", ACRNN_PRECISION_BF16);
}

/* The shared front is taken, and gives the maps of a plain forward: the
 * output of block 1 after its ReLU (with cnn:2 attention, which reads it
 * whole), or after its pool (rnn attention: pooled segment by segment). */
static void check_front_maps(const char *attention, gboolean want_pooled) {
  AcrnnNet *net = nt_new_net(BANDS, FRAMES, K, attention, 9);
  const int n_frames = 9 * HOP;
  float *stream = nt_random((size_t)2 * BANDS * n_frames, 13);
  gint64 starts[MAX_SEGMENTS];
  const int n = half_overlap(starts, n_frames);
  float *x = cut(stream, n_frames, starts, n);
  acrnn_net_forward(net, x, n, FALSE, NULL);
  const Block *b = &net->blk[1];
  const size_t map = (size_t)b->cout * n * BANDS * FRAMES;
  /* a plain forward writes only the pooled map when it pools */
  float *out = want_pooled ? net->pool_out[1] : net->act[1];
  const size_t size = want_pooled ? (size_t)b->cout * n * b->oh * b->ow : map;
  size_t alive = 0; /* a map of zeros would hide wrong edges */
  for (size_t i = 0; i < size; i++)
    alive += out[i] > 0.0f;
  g_assert_cmpuint(alive, >, size / 5);
  float *want = g_memdup2(out, sizeof(float) * size);
  memset(out, 0xff, sizeof(float) * size);
  gboolean pooled = !want_pooled;
  const int front = acrnn_net_stream_front(net, x, starts, n, &pooled);
  g_assert_cmpint(front, ==, sharing_expected() ? 2 : 0);
  if (front > 0) {
    g_assert_cmpint(pooled, ==, want_pooled);
    nt_assert_same_bits(out, want, size);
  }
  /* segments that do not overlap share nothing */
  gint64 apart[MAX_SEGMENTS];
  for (int i = 0; i < n; i++)
    apart[i] = (gint64)i * FRAMES;
  g_assert_cmpint(acrnn_net_stream_front(net, x, apart, n, &pooled), ==, 0);
  g_assert_false(pooled);
  g_free(want);
  g_free(x);
  g_free(stream);
  acrnn_net_free(net);
}

static void test_front_maps(void) {
  check_front_maps("rnn", TRUE);
  check_front_maps("cnn:2", FALSE);
}

/* Runs broken where a segment was skipped (a silent one), starts in
 * decreasing order, and starts that claim an overlap the frames do not
 * have. */
static void test_broken_runs(void) {
  AcrnnNet *net = nt_new_net(BANDS, FRAMES, K, "rnn", 21);
  const int n_frames = 20 * HOP;
  float *stream = nt_random((size_t)2 * BANDS * n_frames, 17);
  gint64 starts[] = {0, 64, 128, 192, 384, 448, 512, 576, 640, 704, 1024, 1088};
  const int n = G_N_ELEMENTS(starts);
  float *x = cut(stream, n_frames, starts, n);
  check_same(net, x, starts, n);
  /* input 6 altered in its first frame, which input 5 also holds */
  x[(size_t)6 * 2 * BANDS * FRAMES] += 1.0f;
  check_same(net, x, starts, n);
  /* starts that do not increase: only consecutive overlaps are shared */
  gint64 back[G_N_ELEMENTS(starts)];
  for (int i = 0; i < n; i++)
    back[i] = starts[n - 1 - i];
  float *reversed = cut(stream, n_frames, back, n);
  check_same(net, reversed, back, n);
  g_free(reversed);
  /* starts that are not where the inputs came from */
  gint64 wrong[G_N_ELEMENTS(starts)];
  for (int i = 0; i < n; i++)
    wrong[i] = (gint64)i * 32;
  check_same(net, x, wrong, n);
  g_free(x);
  g_free(stream);
  acrnn_net_free(net);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/stream/fp32", test_fp32);
  g_test_add_func("/stream/bf16", test_bf16);
  g_test_add_func("/stream/front-maps", test_front_maps);
  g_test_add_func("/stream/broken-runs", test_broken_runs);
  return g_test_run();
}
