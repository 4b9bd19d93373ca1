/* gemm.h - the matrix products of the layers, in the precision of the
 * network pass that runs them (internal to libacrnn). */
#ifndef ACRNN_GEMM_H
#define ACRNN_GEMM_H

#include "packed_weights.h"

#include <acrnn/network.h>
#include <cblas.h>

/* The precision of the layer calls this thread makes from now on:
 * acrnn_net_forward() and acrnn_net_backward() set their network's and put
 * back the previous one when they return. Default fp32. */
void acrnn_gemm_set_precision(AcrnnPrecision p);
AcrnnPrecision acrnn_gemm_precision(void);

/* The packed weights (packed_weights.h) of the network pass this thread
 * runs, or NULL: acrnn_net_forward() sets a sealed network's in bf16 and
 * puts back the previous set when it returns. */
void acrnn_gemm_set_packed(const AcrnnPackedWeights *set);
const AcrnnPackedWeights *acrnn_gemm_packed(void);

/* cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1, a, lda, b, ldb, beta, c,
 * ldc) in fp32, or the same product with bf16 products (gemm_bf16.h),
 * taking the packed copy of a or b where the thread's set has one;
 * beta is 0 or 1. */
void acrnn_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k,
                const float *a, int lda, const float *b, int ldb, float beta,
                float *c, int ldc);

/* For a run of products that all take one operand (a layer's weights over
 * the chunks of a batch, or over time steps): in bf16, unless the thread's
 * packed weights have it already, acrnn_gemm_hold_a() (op(A) [m][k] at a)
 * or acrnn_gemm_hold_b() (op(B) [k][n] at b) rounds and packs it once and
 * makes the thread's packed weights that copy until acrnn_gemm_hold_end().
 * The products give the same bits as without it. In fp32 nothing is done.
 * Only that operand is found packed while held. */
typedef struct {
  const AcrnnPackedWeights *prev;
  AcrnnPackedWeights *own;
} AcrnnGemmHold;

void acrnn_gemm_hold_a(AcrnnGemmHold *hold, CBLAS_TRANSPOSE ta, int m, int k,
                       const float *a, int lda);
void acrnn_gemm_hold_b(AcrnnGemmHold *hold, CBLAS_TRANSPOSE tb, int n, int k,
                       const float *b, int ldb);
void acrnn_gemm_hold_end(AcrnnGemmHold *hold);

#endif
