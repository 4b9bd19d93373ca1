/* conv2d_wgrad.h - the weight gradient of the 'same' convolution in fp32,
 * computed straight from the maps (internal to libacrnn). */
#ifndef ACRNN_CONV2D_WGRAD_H
#define ACRNN_CONV2D_WGRAD_H

#include "isa.h"

/* Whether this CPU (acrnn_isa()) has a fast build for this kernel shape:
 * 3 x 5, the first two blocks', with AVX-512. Elsewhere conv2d.c takes
 * im2col + sgemm. */
int acrnn_conv2d_wgrad_handles(int kh, int kw);

/* dw[cout][cin][kh][kw] += sum over samples s, rows i, columns j of
 * dy[co][s][i][j] * x[ci][s][i + ki - kh/2][j + kj - kw/2] (zero outside
 * the map), on CNHW maps, in fp32 with fused multiply-adds. Each sample's
 * sum is made on its own (16 lanes over a row's columns, then the lanes
 * added in order), then the samples are added in order: the result does
 * not depend on the thread count. Any odd kh and kw with kh * kw <= 63
 * (the fast build takes kw = 5, the plain C one the others); the build of
 * acrnn_isa(). */
void acrnn_conv2d_wgrad(float *dw, const float *dy, const float *x, int n,
                        int cin, int cout, int h, int w, int kh, int kw);

/* The same with the build of the given level, lowered to what the CPU
 * runs: the plain C build sums in the same order with fmaf() (the same
 * bits, slowly), and serves as the reference of tests. */
void acrnn_conv2d_wgrad_at(AcrnnIsa isa, float *dw, const float *dy,
                           const float *x, int n, int cin, int cout, int h,
                           int w, int kh, int kw);

#endif
