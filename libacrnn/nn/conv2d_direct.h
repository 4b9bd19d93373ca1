/* conv2d_direct.h - the direct (im2col-free) path of conv2d.c, internal to
 * libacrnn. Maps are CNHW as everywhere in nn/ (see layers.h). */
#ifndef ACRNN_CONV2D_DIRECT_H
#define ACRNN_CONV2D_DIRECT_H

#include "layers.h"

#include <stddef.h>

/* Whether conv2d.c takes the direct path for a non-pointwise kernel on
 * h x w maps: under ACRNN_CONV_AUTO, when the CPU has AVX2+FMA or AVX-512
 * and the maps are wide enough, or, in bf16 (acrnn_gemm_precision()) on a
 * CPU with bf16 products, when the kernel is one column wide. */
int acrnn_conv2d_direct_chosen(int h, int w, int kh, int kw);

/* Scratch floats for acrnn_conv2d_direct in both directions (forward with
 * cin inputs, and the flipped convolution with cout inputs). */
size_t acrnn_conv2d_direct_workspace(int cin, int cout, int h, int w, int kh,
                                     int kw);

/* y[cout][n][h][wd] (=, or += with accumulate) the 'same' convolution of
 * x[cin][n][h][wd], then per output channel v *= scale[co], v += shift[co],
 * v = max(v, 0) (each only if given/set).
 * Without flip, w is [cout][cin][kh][kw]. With flip, w is [cin][cout][kh][kw]
 * and is used turned by 180 degrees with its channels swapped: the input
 * gradient of the convolution by w. kh and kw are odd. */
void acrnn_conv2d_direct(float *y, const float *x, const float *w, int n,
                         int cin, int cout, int h, int wd, int kh, int kw,
                         const float *scale, const float *shift, int relu,
                         int accumulate, int flip, float *ws);

/* Inference's block with its pool: y[cout][n][h / ph][wd / pw] = the max
 * pool (ph x pw windows, floor mode) of max(scale[co] * conv(x, w) +
 * shift[co], 0), the same values as acrnn_conv2d_direct() then
 * acrnn_maxpool_forward(), without writing the map: each window's rows
 * are pooled from a scratch in cache. Returns 0, having done nothing,
 * where the band buffer has no room for the scratch. */
int acrnn_conv2d_direct_pool(float *y, const float *x, const float *w, int n,
                             int cin, int cout, int h, int wd, int kh, int kw,
                             const float *scale, const float *shift, int ph,
                             int pw, float *ws);

#endif
