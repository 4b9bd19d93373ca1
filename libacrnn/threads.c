/* threads.c - how many threads libacrnn's compute may use: the BLAS, and
 * the direct convolution kernels (conv2d_direct.c). */
#include <acrnn/acrnn.h>
#include <cblas.h>

static int n_threads = 1;

void acrnn_set_threads(int n) {
  n_threads = n < 1 ? 1 : n;
  openblas_set_num_threads(n_threads);
}

int acrnn_get_threads(void) {
  return n_threads;
}
