/* gemm_bf16.h - matrix product with bf16 products and fp32 sums (internal
 * to libacrnn). */
#ifndef ACRNN_GEMM_BF16_H
#define ACRNN_GEMM_BF16_H

/* C[m][n] = beta * C + op(A) op(B), row-major floats, where op(A) is
 * A[m][k] (lda) or, with trans_a, the transpose of A[k][m]; the same for B
 * [k][n]. A and B are rounded to bf16 (bf16.h) and multiplied in pairs
 * along k with fp32 sums, as VDPBF16PS does; beta is 0 or 1. Runs on
 * acrnn_get_threads() threads; every element of C is summed in the same
 * order whatever their count, so the result does not depend on it. */
void acrnn_gemm_bf16(int trans_a, int trans_b, int m, int n, int k,
                     const float *a, int lda, const float *b, int ldb,
                     float beta, float *c, int ldc);

#endif
