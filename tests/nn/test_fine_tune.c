/* test_fine_tune.c - the library side of fine-tuning: a network's tensors
 * from another's by name and shape (acrnn_net_copy_matching), frozen conv
 * blocks (acrnn_net_set_conv_frozen: inference batch norm in training
 * passes, no gradient in the blocks, a cnn attention's gradient through
 * them checked against finite differences), and an optimizer that leaves
 * frozen parameters alone (acrnn_sgd_freeze). */
#include <acrnn/acrnn.h>
#include <math.h>
#include <string.h>

#define N 2
#define K 3
#define BANDS 32
#define FRAMES 54 /* 3 GRU steps */

static AcrnnNet *small_net(const char *attention, int classes, uint64_t seed) {
  AcrnnNetConfig cfg;
  acrnn_net_config_init(&cfg);
  cfg.bands = BANDS;
  cfg.frames = FRAMES;
  cfg.n_classes = classes;
  g_assert_true(acrnn_attention_parse(attention, &cfg.attention, NULL));
  GError *err = NULL;
  AcrnnNet *net = acrnn_net_new(&cfg, &err);
  g_assert_no_error(err);
  acrnn_net_init_random(net, seed);
  acrnn_net_set_dropout(net, 0.0f);
  return net;
}

static float *random_input(uint64_t seed) {
  AcrnnRng rng;
  acrnn_rng_seed(&rng, seed);
  size_t sz = (size_t)N * 2 * BANDS * FRAMES;
  float *x = g_new(float, sz);
  for (size_t i = 0; i < sz; i++)
    x[i] = (float)acrnn_rng_normal(&rng);
  return x;
}

static gboolean is_conv(const AcrnnTensorInfo *t) {
  return g_str_has_prefix(t->name, "conv.") || g_str_has_prefix(t->name, "bn.");
}

/* Running statistics unlike the init's (mean 0, var 1), so that a batch
 * norm that used its batch statistics would show. */
static void set_running_stats(AcrnnNet *net) {
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 5);
  for (size_t i = 0; i < acrnn_net_n_tensors(net); i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(net, i);
    if (t->kind != ACRNN_TENSOR_BUFFER)
      continue;
    float *d = acrnn_net_tensor_data(net, t);
    gboolean var = strstr(t->name, "running_var") != NULL;
    for (size_t k = 0; k < t->numel; k++)
      d[k] = var ? 0.5f + (float)acrnn_rng_uniform(&rng)
                 : 0.3f * (float)acrnn_rng_normal(&rng);
  }
}

static void test_copy_matching(void) {
  AcrnnNet *a = small_net("rnn", K, 1), *b = small_net("rnn", K + 2, 2);
  AcrnnNet *c = small_net("cnn:4", K, 3);
  set_running_stats(a);
  AcrnnRng rng; /* no zero biases: every tensor of a differs from b's */
  acrnn_rng_seed(&rng, 8);
  for (size_t i = 0; i < acrnn_net_n_params(a); i++)
    acrnn_net_params(a)[i] = (float)acrnn_rng_normal(&rng);
  /* other classes: everything but the classifier */
  GPtrArray *left = g_ptr_array_new();
  guint n = acrnn_net_copy_matching(b, a, NULL, left);
  g_assert_cmpuint(n, ==, acrnn_net_n_tensors(a) - 2);
  g_assert_cmpuint(left->len, ==, 2);
  g_assert_cmpstr(g_ptr_array_index(left, 0), ==, "classifier.weight");
  g_assert_cmpstr(g_ptr_array_index(left, 1), ==, "classifier.bias");
  for (size_t i = 0; i < acrnn_net_n_tensors(b); i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(b, i);
    const AcrnnTensorInfo *s = acrnn_net_find_tensor(a, t->name);
    gboolean same =
        memcmp(acrnn_net_tensor_data(b, t), acrnn_net_tensor_data(a, s),
               MIN(t->numel, s->numel) * sizeof(float)) == 0;
    g_assert_true(same == !g_str_has_prefix(t->name, "classifier."));
  }
  /* the same shapes, the classifier skipped by name */
  AcrnnNet *d = small_net("rnn", K, 4);
  float *cls = g_memdup2(
      acrnn_net_tensor_data(d, acrnn_net_find_tensor(d, "classifier.weight")),
      (size_t)K * 512 * sizeof(float));
  const char *skip[] = {"classifier.", NULL};
  g_ptr_array_set_size(left, 0);
  n = acrnn_net_copy_matching(d, a, skip, left);
  g_assert_cmpuint(n, ==, acrnn_net_n_tensors(a) - 2);
  g_assert_cmpmem(
      acrnn_net_tensor_data(d, acrnn_net_find_tensor(d, "classifier.weight")),
      (size_t)K * 512 * sizeof(float), cls, (size_t)K * 512 * sizeof(float));
  /* another attention: the rnn attention's tensors are not in c, and c's
   * cnn attention keeps its values */
  g_ptr_array_set_size(left, 0);
  n = acrnn_net_copy_matching(c, a, NULL, left);
  g_assert_cmpuint(left->len, ==, 2);
  g_assert_cmpstr(g_ptr_array_index(left, 0), ==, "cnn_attention.weight");
  g_assert_cmpuint(n, ==, acrnn_net_n_tensors(c) - 2);
  g_free(cls);
  g_ptr_array_unref(left);
  acrnn_net_free(a);
  acrnn_net_free(b);
  acrnn_net_free(c);
  acrnn_net_free(d);
}

/* With the conv blocks frozen, a training forward is an inference forward
 * (dropout off): the same logits bit for bit, running statistics as they
 * were; without, the batch statistics give other logits. */
static void test_frozen_forward(void) {
  AcrnnNet *net = small_net("rnn", K, 1);
  set_running_stats(net);
  float *x = random_input(7);
  size_t nb = acrnn_net_n_buffers(net);
  float *buf = g_memdup2(acrnn_net_buffers(net), nb * sizeof(float));
  float *infer = g_memdup2(acrnn_net_forward(net, x, N, FALSE, NULL),
                           N * K * sizeof(float));
  acrnn_net_set_conv_frozen(net, TRUE);
  g_assert_true(acrnn_net_get_conv_frozen(net));
  const float *train = acrnn_net_forward(net, x, N, TRUE, NULL);
  g_assert_cmpmem(train, N * K * sizeof(float), infer, N * K * sizeof(float));
  g_assert_cmpmem(acrnn_net_buffers(net), nb * sizeof(float), buf,
                  nb * sizeof(float));
  acrnn_net_set_conv_frozen(net, FALSE);
  train = acrnn_net_forward(net, x, N, TRUE, NULL);
  g_assert_true(memcmp(train, infer, N * K * sizeof(float)) != 0);
  g_assert_true(memcmp(acrnn_net_buffers(net), buf, nb * sizeof(float)) != 0);
  g_free(infer);
  g_free(buf);
  g_free(x);
  acrnn_net_free(net);
}

static float loss_at(AcrnnNet *net, const float *x, const float *y) {
  acrnn_net_forward(net, x, N, TRUE, NULL);
  return acrnn_net_loss(net, y);
}

/* Frozen conv blocks: their gradients are exactly 0; every other tensor's
 * (the cnn attention's through the frozen blocks above it included)
 * agrees with central differences of the loss along a random direction,
 * as test_network.c checks the unfrozen network (20 % where visible, 5 %
 * of the largest otherwise; batch norm with fixed statistics leaves only
 * the ReLU kinks as noise). */
static void check_frozen_gradients(gconstpointer data) {
  AcrnnNet *net = small_net(data, K, 1234);
  float *p = acrnn_net_params(net);
  for (size_t i = 0; i < acrnn_net_n_tensors(net); i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(net, i);
    if (t->kind == ACRNN_TENSOR_PARAM && strstr(t->name, "weight") &&
        !g_str_has_prefix(t->name, "bn."))
      for (size_t k = 0; k < t->numel; k++)
        p[t->offset + k] *= 4.0f;
  }
  float *x = random_input(7);
  float y[N * K] = {1, 0, 0, 0.3f, 0.7f, 0};
  /* running statistics of this input, as after pretraining (random ones
   * can leave the last blocks without a live unit) */
  for (int i = 0; i < 40; i++)
    acrnn_net_forward(net, x, N, TRUE, NULL);
  acrnn_net_set_conv_frozen(net, TRUE);
  acrnn_net_zero_grad(net);
  loss_at(net, x, y);
  acrnn_net_backward(net);
  const float *g = acrnn_net_grads(net);
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 99);
  size_t nt = acrnn_net_n_tensors(net);
  double *an = g_new0(double, nt), *nu = g_new0(double, nt);
  double largest = 0;
  for (size_t i = 0; i < nt; i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(net, i);
    if (t->kind != ACRNN_TENSOR_PARAM)
      continue;
    if (is_conv(t)) {
      for (size_t k = 0; k < t->numel; k++)
        g_assert_cmpfloat(g[t->offset + k], ==, 0.0f);
      continue;
    }
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
    const float eps = 3e-4f;
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
    largest = MAX(largest, fabs(an[i]));
    g_free(r);
  }
  g_assert_cmpfloat(largest, >, 1e-3);
  int failures = 0, checked = 0;
  for (size_t i = 0; i < nt; i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(net, i);
    if (t->kind != ACRNN_TENSOR_PARAM || is_conv(t))
      continue;
    double diff = fabs(nu[i] - an[i]);
    gboolean ok = fabs(an[i]) > 0.2 * largest
                      ? diff <= 0.2 * MAX(fabs(an[i]), fabs(nu[i]))
                      : diff <= 0.05 * largest;
    /* the cnn attention's gradient must be there, not 0 */
    if (g_str_has_prefix(t->name, "cnn_attention.weight"))
      ok = ok && fabs(an[i]) > 0;
    if (!ok || g_test_verbose())
      g_printerr("%-28s analytic %+.6e numeric %+.6e %s\n", t->name, an[i],
                 nu[i], ok ? "" : "MISMATCH");
    failures += !ok;
    checked++;
  }
  g_assert_cmpint(checked, >, 8);
  g_assert_cmpint(failures, ==, 0);
  g_free(an);
  g_free(nu);
  g_free(x);
  acrnn_net_free(net);
}

/* acrnn_sgd_freeze(): frozen parameters and their velocity stay bit for
 * bit, with weight decay and Nesterov momentum; the others move. */
static void test_sgd_freeze(void) {
  AcrnnSgdParams sp;
  acrnn_sgd_params_init(&sp);
  AcrnnSgd *opt = acrnn_sgd_new(&sp, 10);
  acrnn_sgd_freeze(opt, 2, 3);
  acrnn_sgd_freeze(opt, 9, 1);
  float p[10], p0[10], g[10];
  for (int i = 0; i < 10; i++) {
    p[i] = p0[i] = 0.1f * (float)(i + 1);
    g[i] = 0.5f - 0.1f * (float)i;
  }
  for (int s = 0; s < 3; s++)
    acrnn_sgd_step(opt, p, g, 0.01f);
  for (int i = 0; i < 10; i++) {
    gboolean frozen = (i >= 2 && i < 5) || i == 9;
    if (frozen) {
      g_assert_cmpfloat(p[i], ==, p0[i]);
      g_assert_cmpfloat(opt->velocity[i], ==, 0.0f);
    } else {
      g_assert_cmpfloat(p[i], !=, p0[i]);
      g_assert_cmpfloat(opt->velocity[i], !=, 0.0f);
    }
  }
  acrnn_sgd_free(opt);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/fine-tune/copy-matching", test_copy_matching);
  g_test_add_func("/fine-tune/frozen-forward", test_frozen_forward);
  g_test_add_func("/fine-tune/sgd-freeze", test_sgd_freeze);
  static const char *const variants[] = {"rnn", "none", "cnn:2", "cnn:4",
                                         "cnn:8"};
  for (size_t i = 0; i < G_N_ELEMENTS(variants); i++) {
    char *path = g_strdup_printf("/fine-tune/frozen-gradient/%s", variants[i]);
    g_test_add_data_func(path, variants[i], check_frozen_gradients);
    g_free(path);
  }
  return g_test_run();
}
