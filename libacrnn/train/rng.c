/* rng.c - xoshiro256** with splitmix64 seeding, and the distributions the
 * trainer draws from (uniform, normal, gamma, beta, shuffles). */
#include <acrnn/rng.h>
#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

void acrnn_rng_seed(AcrnnRng *rng, uint64_t seed) {
  for (int i = 0; i < 4; i++)
    rng->s[i] = splitmix64(&seed);
}

uint64_t acrnn_rng_next(AcrnnRng *rng) {
  uint64_t *s = rng->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

float acrnn_rng_uniform(AcrnnRng *rng) {
  return (float)(acrnn_rng_next(rng) >> 40) * (1.0f / 16777216.0f);
}

static double uniform_double(AcrnnRng *rng) {
  return (double)(acrnn_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
}

uint32_t acrnn_rng_below(AcrnnRng *rng, uint32_t n) {
  /* Lemire's multiply-shift with rejection: no modulo bias. */
  uint64_t m = (uint64_t)(uint32_t)(acrnn_rng_next(rng) >> 32) * n;
  uint32_t low = (uint32_t)m;
  if (low < n) {
    uint32_t threshold = -n % n;
    while (low < threshold) {
      m = (uint64_t)(uint32_t)(acrnn_rng_next(rng) >> 32) * n;
      low = (uint32_t)m;
    }
  }
  return (uint32_t)(m >> 32);
}

double acrnn_rng_normal(AcrnnRng *rng) {
  double u1 = 1.0 - uniform_double(rng); /* (0, 1] */
  double u2 = uniform_double(rng);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

double acrnn_rng_gamma(AcrnnRng *rng, double shape) {
  if (shape < 1.0) {
    /* Boost: Gamma(a) = Gamma(a + 1) * U^(1/a). */
    double u = 1.0 - uniform_double(rng);
    return acrnn_rng_gamma(rng, shape + 1.0) * pow(u, 1.0 / shape);
  }
  double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = acrnn_rng_normal(rng);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    double u = 1.0 - uniform_double(rng);
    if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
      return d * v;
  }
}

double acrnn_rng_beta(AcrnnRng *rng, double a, double b) {
  double x = acrnn_rng_gamma(rng, a), y = acrnn_rng_gamma(rng, b);
  return x + y > 0.0 ? x / (x + y) : 0.5;
}

void acrnn_rng_shuffle(AcrnnRng *rng, uint32_t *idx, size_t n) {
  for (size_t i = n; i > 1; i--) {
    uint32_t j = acrnn_rng_below(rng, (uint32_t)i);
    uint32_t t = idx[i - 1];
    idx[i - 1] = idx[j];
    idx[j] = t;
  }
}
