/* acrnn/rng.h - a small seeded random number generator (xoshiro256**).
 *
 * The same seed gives the same stream on every machine, and the whole state
 * is four integers, so checkpoints can store it and resume bit for bit.
 */
#ifndef ACRNN_RNG_H
#define ACRNN_RNG_H

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct {
  uint64_t s[4];
} AcrnnRng;

/** Seeds the generator (splitmix64 expansion of seed). */
void acrnn_rng_seed(AcrnnRng *rng, uint64_t seed);
/** Uniform 64-bit integer. */
uint64_t acrnn_rng_next(AcrnnRng *rng);
/** Uniform float in [0, 1). */
float acrnn_rng_uniform(AcrnnRng *rng);
/** Uniform integer in [0, n) (n > 0). */
uint32_t acrnn_rng_below(AcrnnRng *rng, uint32_t n);
/** Standard normal deviate (Box-Muller, double precision). */
double acrnn_rng_normal(AcrnnRng *rng);
/** Gamma(shape, 1) deviate (Marsaglia-Tsang), shape > 0. */
double acrnn_rng_gamma(AcrnnRng *rng, double shape);
/** Beta(a, b) deviate from two gamma deviates. */
double acrnn_rng_beta(AcrnnRng *rng, double a, double b);
/** Fisher-Yates shuffle of n indices. */
void acrnn_rng_shuffle(AcrnnRng *rng, uint32_t *idx, size_t n);

G_END_DECLS

#endif
