/* mixup.c - mixup of a batch of features and soft targets (Zhang et al.,
 * 2018), as the paper uses it: one lambda ~ Beta(alpha, alpha) per batch and
 * a random permutation pairing each example with another. */
#include <acrnn/augment.h>
#include <string.h>

float acrnn_mixup(AcrnnRng *rng, float alpha, float *x, size_t dim, float *y,
                  int n_classes, int batch) {
  if (!(alpha > 0.0f) || batch < 1 || x == NULL)
    return 1.0f;
  /* Draw order (documented for reproducibility): lambda, then the
   * permutation. */
  float lam = (float)acrnn_rng_beta(rng, alpha, alpha);
  uint32_t *perm = g_new(uint32_t, batch);
  for (int i = 0; i < batch; i++)
    perm[i] = (uint32_t)i;
  acrnn_rng_shuffle(rng, perm, (size_t)batch);

  float *x0 = g_memdup2(x, sizeof(float) * dim * (size_t)batch);
  for (int i = 0; i < batch; i++) {
    float *xi = x + (size_t)i * dim;
    const float *xj = x0 + (size_t)perm[i] * dim;
    for (size_t k = 0; k < dim; k++)
      xi[k] = lam * xi[k] + (1.0f - lam) * xj[k];
  }
  g_free(x0);

  if (y != NULL && n_classes > 0) {
    size_t ny = (size_t)n_classes;
    float *y0 = g_memdup2(y, sizeof(float) * ny * (size_t)batch);
    for (int i = 0; i < batch; i++) {
      float *yi = y + (size_t)i * ny;
      const float *yj = y0 + (size_t)perm[i] * ny;
      for (size_t k = 0; k < ny; k++)
        yi[k] = lam * yi[k] + (1.0f - lam) * yj[k];
    }
    g_free(y0);
  }
  g_free(perm);
  return lam;
}
