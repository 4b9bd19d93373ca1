/* gemm_bf16.h - matrix product with bf16 products and fp32 sums (internal
 * to libacrnn). */
#ifndef ACRNN_GEMM_BF16_H
#define ACRNN_GEMM_BF16_H

#include <stddef.h>
#include <stdint.h>

/* C[m][n] = beta * C + op(A) op(B), row-major floats, where op(A) is
 * A[m][k] (lda) or, with trans_a, the transpose of A[k][m]; the same for B
 * [k][n]. A and B are rounded to bf16 (bf16.h) and multiplied in pairs
 * along k with fp32 sums, as VDPBF16PS does; beta is 0 or 1. Runs on
 * acrnn_get_threads() threads; every element of C is summed in the same
 * order whatever their count, so the result does not depend on it. */
void acrnn_gemm_bf16(int trans_a, int trans_b, int m, int n, int k,
                     const float *a, int lda, const float *b, int ldb,
                     float beta, float *c, int ldc);

/* B packed once for several products with it (the recurrent weights of a
 * GRU, used at every step): acrnn_gemm_bf16_pack_b() rounds op(B) [k][n]
 * (trans_b and ldb as above) into packed, of
 * acrnn_gemm_bf16_packed_b_size(n, k) words; acrnn_gemm_bf16_packed() is
 * then acrnn_gemm_bf16() with that B, the same bits. */
size_t acrnn_gemm_bf16_packed_b_size(int n, int k);
void acrnn_gemm_bf16_pack_b(uint32_t *packed, int trans_b, int n, int k,
                            const float *b, int ldb);
void acrnn_gemm_bf16_packed(int trans_a, int m, int n, int k, const float *a,
                            int lda, const uint32_t *packed_b, float beta,
                            float *c, int ldc);

/* A packed once in the same way (the weights of a sealed network, A of a
 * convolution's product): acrnn_gemm_bf16_pack_a() rounds op(A) [m][k]
 * (trans_a and lda as above) into packed, of
 * acrnn_gemm_bf16_packed_a_size(m, k) words. */
size_t acrnn_gemm_bf16_packed_a_size(int m, int k);
void acrnn_gemm_bf16_pack_a(uint32_t *packed, int trans_a, int m, int k,
                            const float *a, int lda);

/* acrnn_gemm_bf16() with either operand, or both, given packed (packed_a,
 * packed_b; NULL: rounded and packed from a or b, which are not read
 * otherwise): the same bits whichever way each comes. */
void acrnn_gemm_bf16_prepacked(int trans_a, int trans_b, int m, int n, int k,
                               const float *a, int lda,
                               const uint32_t *packed_a, const float *b,
                               int ldb, const uint32_t *packed_b, float beta,
                               float *c, int ldc);

#endif
