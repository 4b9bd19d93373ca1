/* threads.c - how many threads the BLAS may use. */
#include <acrnn/acrnn.h>
#include <cblas.h>

void acrnn_set_threads(int n) {
  openblas_set_num_threads(n < 1 ? 1 : n);
}
