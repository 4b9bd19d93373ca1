/* conv2d_wgrad_bf16.h - the weight gradient of the 'same' convolution with
 * bf16 products and fp32 sums, computed straight from the maps (internal
 * to libacrnn). */
#ifndef ACRNN_CONV2D_WGRAD_BF16_H
#define ACRNN_CONV2D_WGRAD_BF16_H

/* Whether the kernel has a fast build for this kernel shape (3 x 5, the
 * first two blocks', and 3 x 1, blocks 2 and 3); other shapes take im2col
 * + the bf16 product. */
int acrnn_conv2d_wgrad_bf16_handles(int kh, int kw);

/* dw[cout][cin][kh][kw] += sum over samples s, rows i, columns j of
 * dy[co][s][i][j] * x[ci][s][i + ki - kh/2][j + kj - kw/2] (zero outside
 * the map), on CNHW maps, with dy and x rounded to bf16 and multiplied in
 * pairs of neighbouring values of a row (of a plane where kw = 1) with fp32
 * sums (bf16.h). Each group of samples' sum is made on its own (groups of
 * 1 where kw > 1, of 4 where kw = 1), then they are added in group order:
 * the result does not depend on the thread count. */
void acrnn_conv2d_wgrad_bf16(float *dw, const float *dy, const float *x, int n,
                             int cin, int cout, int h, int w, int kh, int kw);

#endif
