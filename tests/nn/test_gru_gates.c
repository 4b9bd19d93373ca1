/* test_gru_gates.c - the GRU step's gates (gru_gates.h): the exponential,
 * sigmoid and tanh of our own against libm in double, the step against a
 * double reference, and the AVX2 build against the plain C build, bit for
 * bit, tails and NaNs included. */
#include "gru_gates.h"
#include "nn_test_util.h"

#include <acrnn/acrnn.h>
#include <math.h>
#include <string.h>

/* Relative error of a float result against a double one, in units of the
 * float's last place at the true value. */
static double ulps(float got, double want) {
  int e;
  frexp(want, &e);
  return fabs((double)got - want) / ldexp(1.0, e - 24);
}

static void test_exp(void) {
  double worst = 0;
  for (double x = -87.0; x <= 88.0; x += 0.0137) {
    const float xf = (float)x;
    worst = fmax(worst, ulps(acrnn_gates_expf(xf), exp((double)xf)));
  }
  g_test_message("exp: worst %.2f ulp over [-87, 88]", worst);
  g_assert_cmpfloat(worst, <=, 2.0);
  g_assert_cmpfloat(acrnn_gates_expf(0.0f), ==, 1.0f);
  /* clamped: finite and normal, never 0 or infinity */
  g_assert_true(isnormal(acrnn_gates_expf(-1000.0f)));
  g_assert_true(isfinite(acrnn_gates_expf(1000.0f)));
  g_assert_true(isnan(acrnn_gates_expf(NAN)));
}

static void test_sigmoid_tanh(void) {
  double worst_s = 0, worst_t = 0;
  for (double x = -40.0; x <= 40.0; x += 0.0031) {
    const float xf = (float)x;
    const double s = 1.0 / (1.0 + exp(-(double)xf));
    worst_s = fmax(worst_s, ulps(acrnn_gates_sigmoid(xf), s));
    worst_t = fmax(worst_t, fabs(acrnn_gates_tanh(xf) - tanh((double)xf)));
  }
  g_test_message("sigmoid: worst %.2f ulp; tanh: worst absolute %.3g", worst_s,
                 worst_t);
  g_assert_cmpfloat(worst_s, <=, 4.0);
  g_assert_cmpfloat(worst_t, <=, 2.5e-7);
  g_assert_cmpfloat(acrnn_gates_sigmoid(100.0f), ==, 1.0f);
  g_assert_cmpfloat(acrnn_gates_sigmoid(-100.0f), >=, 0.0f);
  g_assert_cmpfloat(acrnn_gates_sigmoid(-100.0f), <, 1e-30f);
  g_assert_cmpfloat(acrnn_gates_tanh(30.0f), ==, 1.0f);
  g_assert_cmpfloat(acrnn_gates_tanh(-30.0f), ==, -1.0f);
}

typedef struct {
  float *gi, *gh, *h, *cache, *y;
} Step;

static float *scaled(float *v, size_t n, float scale) {
  for (size_t i = 0; i < n; i++)
    v[i] *= scale;
  return v;
}

static Step step_new(int H, guint64 seed, float scale) {
  const size_t g = (size_t)3 * H;
  Step s = {scaled(nt_random(g, seed), g, scale),
            scaled(nt_random(g, seed + 1), g, scale),
            nt_random((size_t)H, seed + 2), g_new0(float, (size_t)5 * H),
            g_new0(float, (size_t)H)};
  return s;
}

static void step_free(Step *s) {
  g_free(s->gi);
  g_free(s->gh);
  g_free(s->h);
  g_free(s->cache);
  g_free(s->y);
}

/* One step against PyTorch's formulas in double. */
static void test_step_reference(void) {
  const int H = 61;
  Step s = step_new(H, 11, 3.0f);
  float *h0 = g_memdup2(s.h, sizeof(float) * H);
  acrnn_gru_gates(s.h, s.cache, s.y, s.gi, s.gh, H);
  for (int j = 0; j < H; j++) {
    double r = 1.0 / (1.0 + exp(-((double)s.gi[j] + s.gh[j])));
    double z = 1.0 / (1.0 + exp(-((double)s.gi[H + j] + s.gh[H + j])));
    double n = tanh((double)s.gi[2 * H + j] + r * s.gh[2 * H + j]);
    double h = (1.0 - z) * n + z * h0[j];
    g_assert_cmpfloat(fabs(s.cache[j] - r), <=, 1e-6);
    g_assert_cmpfloat(fabs(s.cache[H + j] - z), <=, 1e-6);
    g_assert_cmpfloat(fabs(s.cache[2 * H + j] - n), <=, 1e-6);
    g_assert_cmpfloat(s.cache[3 * H + j], ==, s.gh[2 * H + j]);
    g_assert_cmpfloat(s.cache[4 * H + j], ==, h0[j]);
    g_assert_cmpfloat(fabs(s.h[j] - h), <=, 2e-6);
    g_assert_cmpfloat(s.y[j], ==, s.h[j]);
  }
  g_free(h0);
  step_free(&s);
}

/* The build of this level (AVX2 from AVX2 up) against the plain C build,
 * bit for bit: widths with and without a tail, pre-activations far into
 * the clamps, and NaNs in the same places. */
static void test_builds_agree(void) {
  if (acrnn_isa() < ACRNN_ISA_AVX2) {
    g_test_message("no AVX2 build at this level (%s): nothing to compare",
                   acrnn_isa_name(acrnn_isa()));
    return;
  }
  const int widths[] = {1, 7, 8, 37, 256};
  for (size_t w = 0; w < G_N_ELEMENTS(widths); w++) {
    const int H = widths[w];
    Step ref = step_new(H, 100 + w, 40.0f), got = step_new(H, 100 + w, 40.0f);
    if (H > 5) {
      ref.gi[3] = got.gi[3] = NAN;
      ref.gh[2 * H + 5] = got.gh[2 * H + 5] = NAN;
    }
    acrnn_gru_gates_at(ACRNN_ISA_GENERIC, ref.h, ref.cache, ref.y, ref.gi,
                       ref.gh, H);
    acrnn_gru_gates(got.h, got.cache, got.y, got.gi, got.gh, H);
    nt_assert_same_bits(got.cache, ref.cache, (size_t)5 * H);
    nt_assert_same_bits(got.h, ref.h, (size_t)H);
    nt_assert_same_bits(got.y, ref.y, (size_t)H);
    step_free(&ref);
    step_free(&got);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/gru_gates/exp", test_exp);
  g_test_add_func("/gru_gates/sigmoid_tanh", test_sigmoid_tanh);
  g_test_add_func("/gru_gates/step_reference", test_step_reference);
  g_test_add_func("/gru_gates/builds_agree", test_builds_agree);
  return g_test_run();
}
