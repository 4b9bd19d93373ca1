/* gemm.c - the layers' matrix products: OpenBLAS's sgemm in fp32, the bf16
 * kernel of gemm_bf16.c in bf16, with a sealed network's packed weights
 * where it has them. The precision and the packed weights are the calling
 * thread's, so that networks of both precisions may run side by side on
 * different threads (two pipelines in one process). */
#include "gemm.h"

#include "gemm_bf16.h"

static _Thread_local AcrnnPrecision thread_precision = ACRNN_PRECISION_FP32;
static _Thread_local const AcrnnPackedWeights *thread_packed;

void acrnn_gemm_set_precision(AcrnnPrecision p) {
  thread_precision = p;
}

AcrnnPrecision acrnn_gemm_precision(void) {
  return thread_precision;
}

void acrnn_gemm_set_packed(const AcrnnPackedWeights *set) {
  thread_packed = set;
}

const AcrnnPackedWeights *acrnn_gemm_packed(void) {
  return thread_packed;
}

void acrnn_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k,
                const float *a, int lda, const float *b, int ldb, float beta,
                float *c, int ldc) {
  if (thread_precision == ACRNN_PRECISION_BF16) {
    const int trans_a = ta == CblasTrans, trans_b = tb == CblasTrans;
    acrnn_gemm_bf16_prepacked(
        trans_a, trans_b, m, n, k, a, lda,
        acrnn_packed_weights_find_a(thread_packed, a, trans_a, m, k, lda), b,
        ldb, acrnn_packed_weights_find_b(thread_packed, b, trans_b, n, k, ldb),
        beta, c, ldc);
  } else
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c,
                ldc);
}

/* Packs the operand into a set of its own, made the thread's. */
static void hold(AcrnnGemmHold *h, int side_b, int trans, int rows, int k,
                 const float *src, int ld) {
  h->prev = thread_packed;
  h->own = NULL;
  if (thread_precision != ACRNN_PRECISION_BF16)
    return;
  if (side_b ? acrnn_packed_weights_find_b(thread_packed, src, trans, rows, k,
                                           ld) != NULL
             : acrnn_packed_weights_find_a(thread_packed, src, trans, rows, k,
                                           ld) != NULL)
    return;
  h->own = acrnn_packed_weights_new();
  if (side_b)
    acrnn_packed_weights_add_b(h->own, src, trans, rows, k, ld);
  else
    acrnn_packed_weights_add_a(h->own, src, trans, rows, k, ld);
  thread_packed = h->own;
}

void acrnn_gemm_hold_a(AcrnnGemmHold *h, CBLAS_TRANSPOSE ta, int m, int k,
                       const float *a, int lda) {
  hold(h, 0, ta == CblasTrans, m, k, a, lda);
}

void acrnn_gemm_hold_b(AcrnnGemmHold *h, CBLAS_TRANSPOSE tb, int n, int k,
                       const float *b, int ldb) {
  hold(h, 1, tb == CblasTrans, n, k, b, ldb);
}

void acrnn_gemm_hold_end(AcrnnGemmHold *h) {
  if (h->own == NULL)
    return;
  thread_packed = h->prev;
  acrnn_packed_weights_free(h->own);
  h->own = NULL;
}
