/* conv2d_direct_bf16.h - the direct convolution of conv2d_direct.h with
 * bf16 products and fp32 sums (internal to libacrnn). */
#ifndef ACRNN_CONV2D_DIRECT_BF16_H
#define ACRNN_CONV2D_DIRECT_BF16_H

#include <stddef.h>

/* Scratch floats for acrnn_conv2d_direct_bf16 in both directions. */
size_t acrnn_conv2d_direct_bf16_workspace(int cin, int cout, int h, int w,
                                          int kh, int kw);

/* As acrnn_conv2d_direct() (same arguments, same epilogue), but x and w
 * rounded to bf16 and multiplied in pairs of input channels with fp32
 * sums (bf16.h); the result does not depend on the thread count. */
void acrnn_conv2d_direct_bf16(float *y, const float *x, const float *w, int n,
                              int cin, int cout, int h, int wd, int kh, int kw,
                              const float *scale, const float *shift, int relu,
                              int accumulate, int flip, float *ws);

/* acrnn_conv2d_direct_pool() (conv2d_direct.h) with the products of this
 * file; 0, having done nothing, also for the flat planes of one-column
 * kernels. */
int acrnn_conv2d_direct_bf16_pool(float *y, const float *x, const float *w,
                                  int n, int cin, int cout, int h, int wd,
                                  int kh, int kw, const float *scale,
                                  const float *shift, int ph, int pw,
                                  float *ws);

#endif
