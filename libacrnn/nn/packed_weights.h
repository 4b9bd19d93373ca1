/* packed_weights.h - weight matrices rounded to bf16 and packed once for
 * the products of gemm_bf16.h, found again by their address (internal to
 * libacrnn).
 *
 * A sealed network (weights.h) never changes its weights, so in bf16 its
 * passes need not round and pack them at every product: the layers list
 * their forward's weight operands here once (the *_pack_weights()
 * functions of layers.h), and acrnn_gemm() takes the packed copy of an
 * operand whose address, side, transposition, shape and leading dimension
 * all match an entry (gemm.h), with the same bits as packing it again. */
#ifndef ACRNN_PACKED_WEIGHTS_H
#define ACRNN_PACKED_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

typedef struct AcrnnPackedWeights AcrnnPackedWeights;

AcrnnPackedWeights *acrnn_packed_weights_new(void);
void acrnn_packed_weights_free(AcrnnPackedWeights *set);

/* Adds op(A) [m][k] at a (acrnn_gemm_bf16_pack_a()) or op(B) [k][n] at b
 * (acrnn_gemm_bf16_pack_b()), rounded and packed now. */
void acrnn_packed_weights_add_a(AcrnnPackedWeights *set, const float *a,
                                int trans_a, int m, int k, int lda);
void acrnn_packed_weights_add_b(AcrnnPackedWeights *set, const float *b,
                                int trans_b, int n, int k, int ldb);

/* The packed copy of that operand, or NULL if set (which may be NULL)
 * holds none. */
const uint32_t *acrnn_packed_weights_find_a(const AcrnnPackedWeights *set,
                                            const float *a, int trans_a, int m,
                                            int k, int lda);
const uint32_t *acrnn_packed_weights_find_b(const AcrnnPackedWeights *set,
                                            const float *b, int trans_b, int n,
                                            int k, int ldb);

/* Bytes the packed copies take. */
size_t acrnn_packed_weights_bytes(const AcrnnPackedWeights *set);

#endif
