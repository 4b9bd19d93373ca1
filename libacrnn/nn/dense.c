/* dense.c - fully connected layer y = x w^T + b on sgemm. */
#include "layers.h"

#include "gemm.h"

void acrnn_dense_forward(float *y, const float *x, const float *w,
                         const float *b, int m, int in, int out) {
  if (m <= 0 || out <= 0)
    return;
  for (int r = 0; r < m; r++)
    for (int o = 0; o < out; o++)
      y[(size_t)r * out + o] = b ? b[o] : 0.0f;
  if (in <= 0)
    return;
  acrnn_gemm(CblasNoTrans, CblasTrans, m, out, in, x, in, w, in, 1.0f, y, out);
}

void acrnn_dense_backward(float *dx, float *dw, float *db, const float *dy,
                          const float *x, const float *w, int m, int in,
                          int out) {
  if (m <= 0 || out <= 0)
    return;
  if (db) {
    for (int o = 0; o < out; o++) {
      double s = 0.0;
      for (int r = 0; r < m; r++)
        s += dy[(size_t)r * out + o];
      db[o] += (float)s;
    }
  }
  if (in <= 0)
    return;
  if (dw)
    acrnn_gemm(CblasTrans, CblasNoTrans, out, in, m, dy, out, x, in, 1.0f, dw,
               in);
  if (dx)
    acrnn_gemm(CblasNoTrans, CblasNoTrans, m, in, out, dy, out, w, in, 1.0f, dx,
               in);
}

void acrnn_dense_pack_weights(AcrnnPackedWeights *set, const float *w, int in,
                              int out) {
  acrnn_packed_weights_add_b(set, w, 1, out, in, in);
}
