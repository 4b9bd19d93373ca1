/* gru_gates.h - the element-wise part of one GRU step (internal).
 *
 * For one sample and one step, with the pre-activations gi = W_ih x + b_ih
 * and gh = W_hh h + b_hh (gate order r, z, n, PyTorch's nn.GRU):
 *   r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z),
 *   n = tanh(gi_n + r gh_n), h' = (1 - z) n + z h.
 *
 * sigmoid and tanh come from one exponential of our own (a Cephes-style
 * polynomial, within 2 ulp of expf) rather than libm's, so that the plain
 * C build and the AVX2 build compute the same operations in the same order
 * and give the same bits: every product that meets a sum is an fmaf(). */
#ifndef ACRNN_GRU_GATES_H
#define ACRNN_GRU_GATES_H

#include "isa.h"

/* One step of one sample over H units: reads gi [3H], gh [3H] and h [H];
 * writes the cache row [5H] (r, z, n, gh_n, h), then h' into h and into y.
 * Runs the build of acrnn_isa(). */
void acrnn_gru_gates(float *h, float *cache, float *y, const float *gi,
                     const float *gh, int hidden);

/* The same with the build of the given level, lowered to what the CPU runs
 * (tests compare the builds). */
void acrnn_gru_gates_at(AcrnnIsa isa, float *h, float *cache, float *y,
                        const float *gi, const float *gh, int hidden);

/* The exponential, sigmoid and tanh of the plain C build, for tests. */
float acrnn_gates_expf(float x);
float acrnn_gates_sigmoid(float x);
float acrnn_gates_tanh(float x);

#endif
