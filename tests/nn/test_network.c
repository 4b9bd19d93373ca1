/* test_network.c - the whole network: tensor table, seeded init, gradient of
 * the loss against central finite differences for every tensor and every
 * attention variant, inference vs training forward, SGD overfitting a
 * small batch, acrnn_net_copy(), sealed weights shared by copies, the
 * activations of a net that grew and the clip decision. */
#include "nn_test_util.h"
#include <acrnn/acrnn.h>
#include <math.h>
#include <string.h>

#define N 2
#define K 3
#define BANDS 32
#define FRAMES 54 /* 3 GRU steps */

static AcrnnNet *small_net(const char *attention) {
  AcrnnNetConfig cfg;
  acrnn_net_config_init(&cfg);
  cfg.bands = BANDS;
  cfg.frames = FRAMES;
  cfg.n_classes = K;
  g_assert_true(acrnn_attention_parse(attention, &cfg.attention, NULL));
  GError *err = NULL;
  AcrnnNet *net = acrnn_net_new(&cfg, &err);
  g_assert_no_error(err);
  acrnn_net_init_random(net, 1234);
  acrnn_net_set_dropout(net, 0.0f);
  return net;
}

static float *random_input(int n, int bands, int frames, uint64_t seed) {
  AcrnnRng rng;
  acrnn_rng_seed(&rng, seed);
  size_t sz = (size_t)n * 2 * bands * frames;
  float *x = g_new(float, sz);
  for (size_t i = 0; i < sz; i++)
    x[i] = (float)acrnn_rng_normal(&rng);
  return x;
}

static float loss_at(AcrnnNet *net, const float *x, const float *y) {
  acrnn_net_forward(net, x, N, TRUE, NULL);
  return acrnn_net_loss(net, y);
}

/* Directional derivative of the loss along a random direction of each
 * tensor, against the analytic gradient. Through eight ReLU + max-pool
 * blocks in float32 the numeric side is noisy (kinks, rounding), so each
 * tensor must agree to 20 % where its derivative is a visible part of the
 * largest one, to 5 % of the largest one in absolute terms otherwise, and
 * the vectors of all derivatives must point the same way (cosine > 0.995).
 * The exact, noise-free check of every gradient is the PyTorch parity test
 * (tests/parity). */
static void check_gradients(gconstpointer data) {
  const char *attention = data;
  AcrnnNet *net = small_net(attention);
  /* Bigger weights than the init so the signal reaches the classifier. */
  float *p = acrnn_net_params(net);
  for (size_t i = 0; i < acrnn_net_n_tensors(net); i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(net, i);
    if (t->kind == ACRNN_TENSOR_PARAM && strstr(t->name, "weight") &&
        !g_str_has_prefix(t->name, "bn."))
      for (size_t k = 0; k < t->numel; k++)
        p[t->offset + k] *= 4.0f;
  }
  float *x = random_input(N, BANDS, FRAMES, 7);
  float y[N * K] = {1, 0, 0, 0.3f, 0.7f, 0};
  acrnn_net_zero_grad(net);
  loss_at(net, x, y);
  acrnn_net_backward(net);
  float *g = g_memdup2(acrnn_net_grads(net), acrnn_net_n_params(net) * 4);
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 99);
  size_t nt = acrnn_net_n_tensors(net);
  double *an = g_new0(double, nt), *nu = g_new0(double, nt);
  for (size_t i = 0; i < nt; i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(net, i);
    if (t->kind != ACRNN_TENSOR_PARAM)
      continue;
    float *r = g_new(float, t->numel);
    double norm = 0.0;
    for (size_t k = 0; k < t->numel; k++) {
      r[k] = (float)acrnn_rng_normal(&rng);
      norm += (double)r[k] * r[k];
    }
    norm = sqrt(norm);
    for (size_t k = 0; k < t->numel; k++) {
      r[k] /= (float)norm;
      an[i] += (double)r[k] * g[t->offset + k];
    }
    const float eps = 3e-4f; /* small: BN outputs crowd the ReLU kink */
    float *w = p + t->offset;
    for (size_t k = 0; k < t->numel; k++)
      w[k] += eps * r[k];
    double lp = loss_at(net, x, y);
    for (size_t k = 0; k < t->numel; k++)
      w[k] -= 2 * eps * r[k];
    double lm = loss_at(net, x, y);
    for (size_t k = 0; k < t->numel; k++)
      w[k] += eps * r[k];
    nu[i] = (lp - lm) / (2 * eps);
    g_free(r);
  }
  double largest = 0, dot = 0, na = 0, nn = 0;
  for (size_t i = 0; i < nt; i++) {
    largest = MAX(largest, fabs(an[i]));
    dot += an[i] * nu[i];
    na += an[i] * an[i];
    nn += nu[i] * nu[i];
  }
  g_assert_cmpfloat(largest, >, 1e-3);
  int failures = 0;
  for (size_t i = 0; i < nt; i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(net, i);
    if (t->kind != ACRNN_TENSOR_PARAM)
      continue;
    double diff = fabs(nu[i] - an[i]);
    gboolean ok = fabs(an[i]) > 0.2 * largest
                      ? diff <= 0.2 * MAX(fabs(an[i]), fabs(nu[i]))
                      : diff <= 0.05 * largest;
    if (!ok || g_test_verbose())
      g_printerr("%-28s analytic %+.6e numeric %+.6e %s\n", t->name, an[i],
                 nu[i], ok ? "" : "MISMATCH");
    failures += !ok;
  }
  double cosine = dot / sqrt(na * nn);
  if (g_test_verbose())
    g_printerr("cosine %.6f\n", cosine);
  g_assert_cmpint(failures, ==, 0);
  g_assert_cmpfloat(cosine, >, 0.995);
  g_free(an);
  g_free(nu);
  g_free(g);
  g_free(x);
  acrnn_net_free(net);
}

static void test_table(void) {
  AcrnnNetConfig cfg;
  acrnn_net_config_init(&cfg);
  GError *err = NULL;
  AcrnnNet *net = acrnn_net_new(&cfg, &err);
  g_assert_no_error(err);
  /* 8 * (conv w, b, bn w, b, mean, var) + 16 GRU + 3 attention + 2 dense */
  g_assert_cmpuint(acrnn_net_n_tensors(net), ==, 48 + 16 + 3 + 2);
  const AcrnnTensorInfo *t = acrnn_net_find_tensor(net, "gru.weight_ih_l0");
  g_assert_nonnull(t);
  g_assert_cmpint(t->shape[0], ==, 768);
  g_assert_cmpint(t->shape[1], ==, 1024);
  t = acrnn_net_find_tensor(net, "conv.7.weight");
  g_assert_cmpint(t->shape[0], ==, 256);
  g_assert_cmpint(t->shape[1], ==, 256);
  g_assert_cmpint(t->shape[2], ==, 3);
  t = acrnn_net_find_tensor(net, "bn.3.running_var");
  g_assert_cmpint(t->kind, ==, ACRNN_TENSOR_BUFFER);
  g_assert_cmpint(t->init, ==, ACRNN_INIT_ONE);
  /* the initialisation is in the table: every weight N(0, 0.05) */
  static const struct {
    const char *name;
    AcrnnInitKind init;
  } inits[] = {{"conv.0.weight", ACRNN_INIT_NORMAL},
               {"conv.0.bias", ACRNN_INIT_ZERO},
               {"bn.0.weight", ACRNN_INIT_ONE},
               {"bn.0.bias", ACRNN_INIT_ZERO},
               {"bn.0.running_mean", ACRNN_INIT_ZERO},
               {"gru.weight_hh_l1_reverse", ACRNN_INIT_NORMAL},
               {"gru.bias_ih_l0", ACRNN_INIT_ZERO},
               {"attention.score.weight", ACRNN_INIT_NORMAL},
               {"classifier.bias", ACRNN_INIT_ZERO}};
  for (size_t i = 0; i < G_N_ELEMENTS(inits); i++) {
    t = acrnn_net_find_tensor(net, inits[i].name);
    g_assert_cmpint(t->init, ==, inits[i].init);
    g_assert_cmpfloat(t->init_std, ==,
                      inits[i].init == ACRNN_INIT_NORMAL ? 0.05 : 0.0);
  }
  g_assert_nonnull(acrnn_net_find_tensor(net, "attention.score.weight"));
  g_assert_null(acrnn_net_find_tensor(net, "cnn_attention.weight"));
  size_t total = 0;
  for (size_t i = 0; i < acrnn_net_n_tensors(net); i++)
    if (acrnn_net_tensor(net, i)->kind == ACRNN_TENSOR_PARAM)
      total += acrnn_net_tensor(net, i)->numel;
  g_assert_cmpuint(total, ==, acrnn_net_n_params(net));
  g_assert_cmpfloat(acrnn_net_forward_flops(net), >, 8e8);
  acrnn_net_free(net);

  g_assert_true(acrnn_attention_parse("cnn:4", &cfg.attention, NULL));
  net = acrnn_net_new(&cfg, NULL);
  t = acrnn_net_find_tensor(net, "cnn_attention.weight");
  g_assert_nonnull(t);
  g_assert_cmpint(t->shape[1], ==, 64);
  g_assert_null(acrnn_net_find_tensor(net, "attention.mlp.weight"));
  acrnn_net_free(net);
}

static void test_bad_config(void) {
  AcrnnNetConfig cfg;
  acrnn_net_config_init(&cfg);
  GError *err = NULL;
  cfg.bands = 100;
  g_assert_null(acrnn_net_new(&cfg, &err));
  g_assert_error(err, ACRNN_NET_ERROR, ACRNN_NET_ERROR_CONFIG);
  g_assert_nonnull(strstr(err->message, "multiple of 32"));
  g_clear_error(&err);
  cfg.bands = 128;
  cfg.n_classes = 0;
  g_assert_null(acrnn_net_new(&cfg, &err));
  g_clear_error(&err);
  cfg.n_classes = 3;
  cfg.frames = 10;
  g_assert_null(acrnn_net_new(&cfg, &err));
  g_clear_error(&err);
  AcrnnAttention a;
  g_assert_false(acrnn_attention_parse("cnn:3", &a, &err));
  g_assert_error(err, ACRNN_NET_ERROR, ACRNN_NET_ERROR_CONFIG);
  g_assert_nonnull(strstr(err->message, "cnn:3"));
  g_clear_error(&err);
  g_assert_false(acrnn_attention_parse(NULL, &a, &err));
  g_clear_error(&err);
}

static void test_seeded_init(void) {
  AcrnnNet *a = small_net("rnn"), *b = small_net("rnn");
  g_assert_cmpmem(acrnn_net_params(a), acrnn_net_n_params(a) * 4,
                  acrnn_net_params(b), acrnn_net_n_params(b) * 4);
  acrnn_net_init_random(b, 1235);
  g_assert_true(memcmp(acrnn_net_params(a), acrnn_net_params(b),
                       acrnn_net_n_params(a) * 4) != 0);
  /* weights ~ N(0, 0.05) */
  const AcrnnTensorInfo *t = acrnn_net_find_tensor(a, "gru.weight_hh_l1");
  const float *w = acrnn_net_tensor_data(a, t);
  double s = 0, s2 = 0;
  for (size_t k = 0; k < t->numel; k++) {
    s += w[k];
    s2 += (double)w[k] * w[k];
  }
  double mean = s / t->numel, sd = sqrt(s2 / t->numel - mean * mean);
  g_assert_cmpfloat(fabs(mean), <, 0.005);
  g_assert_cmpfloat(fabs(sd - 0.05), <, 0.003);
  acrnn_net_free(a);
  acrnn_net_free(b);
}

/* Inference (batch norm folded into the convolutions, running statistics)
 * treats each segment alone: a batch gives the same logits as each segment
 * on its own. Running statistics away from 0/1 make the folding matter;
 * small ones keep most units alive (nt_new_net()). */
static void test_inference_batch_independent(void) {
  AcrnnNet *net = nt_new_net(BANDS, FRAMES, K, "cnn:2", 1234);
  float *x = random_input(3, BANDS, FRAMES, 3);
  float all[3 * K];
  memcpy(all, acrnn_net_forward(net, x, 3, FALSE, NULL), sizeof(all));
  size_t seg = 2 * BANDS * FRAMES;
  for (int i = 0; i < 3; i++) {
    const float *one = acrnn_net_forward(net, x + i * seg, 1, FALSE, NULL);
    for (int k = 0; k < K; k++) {
      g_assert_true(isfinite(one[k]));
      g_assert_cmpfloat(fabsf(one[k] - all[i * K + k]), <,
                        1e-5f * (1 + fabsf(one[k])));
    }
  }
  g_free(x);
  acrnn_net_free(net);
}

static void test_overfit(void) {
  AcrnnNet *net = small_net("rnn");
  acrnn_net_set_dropout(net, 0.5f);
  float *x = random_input(N, BANDS, FRAMES, 11);
  float y[N * K] = {1, 0, 0, 0, 0, 1};
  AcrnnSgdParams sp;
  acrnn_sgd_params_init(&sp);
  AcrnnSgd *opt = acrnn_sgd_new(&sp, acrnn_net_n_params(net));
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 5);
  float first = 0, last = 0;
  for (int step = 0; step < 30; step++) {
    acrnn_net_zero_grad(net);
    acrnn_net_forward(net, x, N, TRUE, &rng);
    float l = acrnn_net_loss(net, y);
    acrnn_net_backward(net);
    acrnn_sgd_step(opt, acrnn_net_params(net), acrnn_net_grads(net), 0.05f);
    if (step == 0)
      first = l;
    last = l;
  }
  g_assert_cmpfloat(last, <, 0.5f * first);
  /* batch statistics: the running averages are still far from them */
  float probs[N * K];
  acrnn_net_set_dropout(net, 0.0f);
  acrnn_net_forward(net, x, N, TRUE, NULL);
  acrnn_net_probabilities(net, probs);
  g_assert_cmpfloat(probs[0], >, probs[1]);
  g_assert_cmpfloat(probs[5], >, probs[4]);
  acrnn_sgd_free(opt);
  g_free(x);
  acrnn_net_free(net);
}

static void test_sgd_matches_torch_formula(void) {
  AcrnnSgdParams sp;
  acrnn_sgd_params_init(&sp);
  AcrnnSgd *opt = acrnn_sgd_new(&sp, 1);
  float p = 1.0f, g = 0.5f;
  /* step 1: g' = 0.5 + 1e-4, v = g', p -= lr (g' + 0.9 v) */
  acrnn_sgd_step(opt, &p, &g, 0.01f);
  double gp = 0.5 + 1e-4, v = gp, pe = 1.0 - 0.01 * (gp + 0.9 * v);
  g_assert_cmpfloat(fabs(p - pe), <, 1e-7);
  acrnn_sgd_step(opt, &p, &g, 0.01f);
  gp = 0.5 + 1e-4 * pe;
  v = 0.9 * v + gp;
  pe -= 0.01 * (gp + 0.9 * v);
  g_assert_cmpfloat(fabs(p - pe), <, 1e-6);
  g_assert_cmpfloat(acrnn_sgd_lr(opt, 99), ==, 0.01f);
  g_assert_cmpfloat(fabs(acrnn_sgd_lr(opt, 100) - 0.001f), <, 1e-9);
  g_assert_cmpfloat(fabs(acrnn_sgd_lr(opt, 250) - 0.0001f), <, 1e-9);
  acrnn_sgd_free(opt);
}

static void test_rng(void) {
  AcrnnRng a, b;
  acrnn_rng_seed(&a, 42);
  acrnn_rng_seed(&b, 42);
  for (int i = 0; i < 100; i++)
    g_assert_cmpuint(acrnn_rng_next(&a), ==, acrnn_rng_next(&b));
  double s = 0;
  for (int i = 0; i < 20000; i++) {
    double beta = acrnn_rng_beta(&a, 0.2, 0.2);
    g_assert_cmpfloat(beta, >=, 0.0);
    g_assert_cmpfloat(beta, <=, 1.0);
    s += beta;
  }
  g_assert_cmpfloat(fabs(s / 20000 - 0.5), <, 0.02);
  uint32_t idx[10];
  for (int i = 0; i < 10; i++)
    idx[i] = i;
  acrnn_rng_shuffle(&a, idx, 10);
  int sum = 0;
  for (int i = 0; i < 10; i++)
    sum += idx[i];
  g_assert_cmpint(sum, ==, 45);
}

/* acrnn_net_copy(): the same inference as the original (after a training
 * forward moved its running statistics), the same dropout, and independent
 * of it afterwards. */
static void test_copy(void) {
  AcrnnNet *net = small_net("rnn");
  float *x = random_input(N, BANDS, FRAMES, 5);
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 3);
  acrnn_net_set_dropout(net, 0.25f);
  acrnn_net_forward(net, x, N, TRUE, &rng); /* running statistics move */
  AcrnnNet *copy = acrnn_net_copy(net);
  g_assert_cmpmem(acrnn_net_params(copy), acrnn_net_n_params(copy) * 4,
                  acrnn_net_params(net), acrnn_net_n_params(net) * 4);
  g_assert_cmpmem(acrnn_net_buffers(copy), acrnn_net_n_buffers(copy) * 4,
                  acrnn_net_buffers(net), acrnn_net_n_buffers(net) * 4);
  float a[N * K], b[N * K];
  acrnn_net_forward(net, x, N, FALSE, NULL);
  acrnn_net_probabilities(net, a);
  acrnn_net_forward(copy, x, N, FALSE, NULL);
  acrnn_net_probabilities(copy, b);
  g_assert_cmpmem(a, sizeof a, b, sizeof b);
  /* the same dropout: one training forward each from the same rng state */
  AcrnnRng r1, r2;
  acrnn_rng_seed(&r1, 11);
  acrnn_rng_seed(&r2, 11);
  const float *la = acrnn_net_forward(net, x, N, TRUE, &r1);
  float keep[N * K];
  memcpy(keep, la, sizeof keep);
  const float *lb = acrnn_net_forward(copy, x, N, TRUE, &r2);
  g_assert_cmpmem(keep, sizeof keep, lb, sizeof keep);
  /* independent: changing the copy leaves the original as it was */
  float before = acrnn_net_params(net)[0];
  acrnn_net_params(copy)[0] += 1.0f;
  g_assert_cmpfloat(acrnn_net_params(net)[0], ==, before);
  acrnn_net_free(copy);
  acrnn_net_free(net);
  g_free(x);
}

/* A sealed net's copies share its weights (one block in memory) and infer
 * exactly as it does; a write to one of them (a writing accessor, a
 * training forward) gives that one a private copy first, and the others
 * keep the sealed values. An unsealed net's copy has weights of its own. */
static void test_sealed_copy(void) {
  AcrnnNet *net = small_net("cnn:4");
  float *x = random_input(N, BANDS, FRAMES, 6);
  float want[N * K], got[N * K];
  acrnn_net_forward(net, x, N, FALSE, NULL);
  acrnn_net_probabilities(net, want);
  AcrnnNet *plain = acrnn_net_copy(net);
  g_assert_false(acrnn_net_shares_weights(plain, net));
  g_assert_false(acrnn_net_is_sealed(plain));

  acrnn_net_seal(net);
  g_assert_true(acrnn_net_is_sealed(net));
  AcrnnNet *a = acrnn_net_copy(net), *b = acrnn_net_copy(a);
  g_assert_true(acrnn_net_shares_weights(a, net));
  g_assert_true(acrnn_net_shares_weights(b, net));
  g_assert_true(acrnn_net_is_sealed(b));
  acrnn_net_forward(b, x, N, FALSE, NULL);
  acrnn_net_probabilities(b, got);
  g_assert_cmpmem(got, sizeof got, want, sizeof want);
  const AcrnnTensorInfo *t0 = acrnn_net_tensor(net, 0);
  g_assert_true(acrnn_net_tensor_values(a, t0) ==
                acrnn_net_tensor_values(net, t0));
  const float w0 = acrnn_net_tensor_values(net, t0)[0];
  const size_t nb = acrnn_net_n_buffers(net);
  float *stats =
      g_memdup2(acrnn_net_tensor_values(
                    net, acrnn_net_find_tensor(net, "bn.0.running_mean")),
                nb * sizeof(float));

  acrnn_net_params(a)[0] += 1.0f; /* a writer: a gets its own weights */
  g_assert_false(acrnn_net_shares_weights(a, net));
  g_assert_false(acrnn_net_is_sealed(a));
  g_assert_cmpfloat(acrnn_net_tensor_values(a, t0)[0], ==, w0 + 1.0f);
  g_assert_cmpfloat(acrnn_net_tensor_values(net, t0)[0], ==, w0);
  g_assert_cmpfloat(acrnn_net_tensor_values(b, t0)[0], ==, w0);

  AcrnnRng rng;
  acrnn_rng_seed(&rng, 9);
  acrnn_net_set_dropout(b, 0.25f);
  acrnn_net_forward(b, x, N, TRUE, &rng); /* moves b's running statistics */
  g_assert_false(acrnn_net_shares_weights(b, net));
  g_assert_cmpmem(acrnn_net_tensor_values(
                      net, acrnn_net_find_tensor(net, "bn.0.running_mean")),
                  nb * sizeof(float), stats, nb * sizeof(float));
  g_assert_true(memcmp(acrnn_net_tensor_values(
                           b, acrnn_net_find_tensor(b, "bn.0.running_mean")),
                       stats, nb * sizeof(float)) != 0);
  acrnn_net_forward(net, x, N, FALSE, NULL);
  acrnn_net_probabilities(net, got);
  g_assert_cmpmem(got, sizeof got, want, sizeof want);
  g_free(stats);
  acrnn_net_free(a);
  acrnn_net_free(b);
  acrnn_net_free(plain);
  acrnn_net_free(net);
  g_free(x);
}

/* The activations live in one arena, placed again when a forward needs
 * more segments or the training-only buffers: a net that ran a bigger
 * training batch infers one segment exactly as a fresh net does. */
static void test_activations_grow(void) {
  AcrnnNet *fresh = small_net("rnn"), *grown = acrnn_net_copy(fresh);
  float *x = random_input(3, BANDS, FRAMES, 8);
  float want[K], got[K];
  acrnn_net_forward(fresh, x, 1, FALSE, NULL);
  acrnn_net_probabilities(fresh, want);
  acrnn_net_forward(grown, x, 1, FALSE, NULL);
  acrnn_net_forward(grown, x, 3, TRUE, NULL);
  float y[3 * K] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  acrnn_net_loss(grown, y);
  acrnn_net_backward(grown);
  /* back to the fresh net's running statistics, then infer one segment */
  memcpy(acrnn_net_buffers(grown), acrnn_net_buffers(fresh),
         acrnn_net_n_buffers(fresh) * sizeof(float));
  acrnn_net_forward(grown, x, 1, FALSE, NULL);
  acrnn_net_probabilities(grown, got);
  g_assert_cmpmem(got, sizeof got, want, sizeof want);
  acrnn_net_free(fresh);
  acrnn_net_free(grown);
  g_free(x);
}

/* The clip decision: the mean over segments in double precision, its
 * argmax (the lowest class among equals), reset, and top-k order. */
static void test_clip_score(void) {
  AcrnnClipScore *score = acrnn_clip_score_new(3);
  float mean[3];
  g_assert_cmpint(acrnn_clip_score_mean(score, mean), ==, 0);
  g_assert_cmpfloat(mean[0], ==, 0.0f);
  const float probs[] = {0.2f, 0.5f, 0.3f, 0.6f, 0.1f, 0.3f, 0.1f, 0.3f, 0.6f};
  acrnn_clip_score_add(score, probs, 2);
  acrnn_clip_score_add(score, probs + 6, 1);
  g_assert_cmpuint(acrnn_clip_score_count(score), ==, 3);
  g_assert_cmpint(acrnn_clip_score_mean(score, mean), ==, 2);
  g_assert_cmpfloat_with_epsilon(mean[0], 0.9 / 3, 1e-7);
  g_assert_cmpfloat_with_epsilon(mean[1], 0.9 / 3, 1e-7);
  g_assert_cmpfloat_with_epsilon(mean[2], 1.2 / 3, 1e-7);
  acrnn_clip_score_reset(score);
  g_assert_cmpuint(acrnn_clip_score_count(score), ==, 0);
  acrnn_clip_score_add(score, probs, 1);
  g_assert_cmpint(acrnn_clip_score_mean(score, mean), ==, 1);
  acrnn_clip_score_free(score);

  const float ties[] = {0.25f, 0.25f, 0.1f, 0.4f};
  g_assert_cmpint(acrnn_argmax(ties, 4), ==, 3);
  g_assert_cmpint(acrnn_argmax(ties, 3), ==, 0);
  int order[4];
  acrnn_top_k(ties, 4, 3, order);
  g_assert_cmpint(order[0], ==, 3);
  g_assert_cmpfloat(ties[order[1]], ==, 0.25f);
  g_assert_cmpfloat(ties[order[2]], ==, 0.25f);
  g_assert_cmpint(order[1] + order[2], ==, 1);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/network/table", test_table);
  g_test_add_func("/network/bad-config", test_bad_config);
  g_test_add_func("/network/seeded-init", test_seeded_init);
  g_test_add_func("/network/rng", test_rng);
  g_test_add_func("/network/copy", test_copy);
  g_test_add_func("/network/sealed-copy", test_sealed_copy);
  g_test_add_func("/network/activations-grow", test_activations_grow);
  g_test_add_func("/network/clip-score", test_clip_score);
  g_test_add_func("/network/sgd", test_sgd_matches_torch_formula);
  static const char *const variants[] = {"rnn",   "none",  "cnn:2",
                                         "cnn:4", "cnn:6", "cnn:8"};
  for (size_t i = 0; i < G_N_ELEMENTS(variants); i++) {
    char *path = g_strdup_printf("/network/gradient/%s", variants[i]);
    g_test_add_data_func(path, variants[i], check_gradients);
    g_free(path);
  }
  g_test_add_func("/network/inference-batch-independent",
                  test_inference_batch_independent);
  g_test_add_func("/network/overfit", test_overfit);
  return g_test_run();
}
