/* conv2d_direct_tile.h - the register tile of the direct convolution
 * (conv2d_direct.c), included once per instruction set with these defined
 * (it undefines them at its end):
 *   TILE_FN      the function's name
 *   TILE_TARGET  an __attribute__((target(...))), or nothing
 *   TILE_VL      floats per vector
 *   TILE_OCB     output channels per tile
 *   TILE_NJ      vectors of output columns per tile
 * (TILE_OCB and TILE_VL * TILE_NJ are the ocb and cols of its entry in
 * conv2d_direct.c's table of builds)
 *   TILE_V, TILE_VU  names for its vector type, aligned and unaligned
 * The tile keeps TILE_OCB x TILE_NJ vector accumulators in registers: for
 * every input channel and kernel tap it loads TILE_NJ vectors of one padded
 * input row and adds, to each output channel, its broadcast weight times
 * them.
 *
 * y     output at (first channel of the block, sample, first row, column 0);
 *       channels ldc apart, rows w apart
 * xp    the padded input band: channels plane apart, rows wp apart; padded
 *       row r, column c hold input row i0 + r - kh/2, column c - kw/2
 * wk    the block's packed weights, wk[((ci * kh + ki) * kw + kj) * OCB + o]
 * nco   output channels of the block that exist (the rest are padding)
 * rows  output rows of the band
 * The epilogue is v = (acc ? y : 0) + sum, v = v * scale[o] (if scale),
 * v += shift[o] (if shift), v = max(v, 0) (if relu), v = max(y, v) (if
 * max_into). */

#define TILE_COLS (TILE_VL * TILE_NJ)

typedef float TILE_V __attribute__((vector_size(TILE_VL * 4)));
typedef float TILE_VU __attribute__((vector_size(TILE_VL * 4), aligned(4)));

TILE_TARGET static void TILE_FN(float *y, size_t ldc, const float *xp,
                                size_t plane, int wp, const float *wk, int cin,
                                int kh, int kw, int nco, int rows, int w,
                                const DirectEpilogue *ep) {
  for (int i = 0; i < rows; i++) {
    for (int j0 = 0; j0 < w; j0 += TILE_COLS) {
      TILE_V acc[TILE_OCB][TILE_NJ];
#pragma GCC unroll 16
      for (int o = 0; o < TILE_OCB; o++)
#pragma GCC unroll 4
        for (int v = 0; v < TILE_NJ; v++)
          acc[o][v] = (TILE_V){0};

      for (int ci = 0; ci < cin; ci++) {
        for (int ki = 0; ki < kh; ki++) {
          const float *row =
              xp + (size_t)ci * plane + (size_t)(i + ki) * wp + j0;
          const float *wt = wk + (size_t)(ci * kh + ki) * kw * TILE_OCB;
          for (int kj = 0; kj < kw; kj++, wt += TILE_OCB) {
            TILE_V xv[TILE_NJ];
#pragma GCC unroll 4
            for (int v = 0; v < TILE_NJ; v++)
              xv[v] = *(const TILE_VU *)(row + kj + v * TILE_VL);
#pragma GCC unroll 16
            for (int o = 0; o < TILE_OCB; o++) {
              const float wo = wt[o];
#pragma GCC unroll 4
              for (int v = 0; v < TILE_NJ; v++)
                acc[o][v] += xv[v] * wo;
            }
          }
        }
      }

      /* Epilogue: whole vectors stored straight, the last partial one
       * through a buffer. */
      const int left = w - j0;
      for (int o = 0; o < nco; o++) {
        float *yo = y + (size_t)o * ldc + (size_t)i * w + j0;
#pragma GCC unroll 4
        for (int v = 0; v < TILE_NJ; v++) {
          const int n = left - v * TILE_VL;
          if (n <= 0)
            break;
          float lane[TILE_VL];
          TILE_V r = acc[o][v];
          if (ep->accumulate) {
            if (n >= TILE_VL)
              r += *(const TILE_VU *)(yo + v * TILE_VL);
            else {
              memset(lane, 0, sizeof lane);
              memcpy(lane, yo + v * TILE_VL, sizeof(float) * (size_t)n);
              r += *(const TILE_VU *)lane;
            }
          }
          if (ep->scale)
            r *= ep->scale[o];
          if (ep->shift)
            r += ep->shift[o];
          if (ep->relu) { /* keep the lanes where r > 0 (not NaN) */
            const __typeof__(r > r) keep = r > (TILE_V){0};
            r = (TILE_V)((__typeof__(keep))r & keep);
          }
          if (ep->max_into) { /* r and y: no NaN (after the ReLU) */
            TILE_V old;
            if (n >= TILE_VL)
              old = *(const TILE_VU *)(yo + v * TILE_VL);
            else {
              memset(lane, 0, sizeof lane);
              memcpy(lane, yo + v * TILE_VL, sizeof(float) * (size_t)n);
              old = *(const TILE_VU *)lane;
            }
            const __typeof__(r > r) take = old > r;
            r = (TILE_V)(((__typeof__(take))old & take) |
                         ((__typeof__(take))r & ~take));
          }
          if (n >= TILE_VL)
            *(TILE_VU *)(yo + v * TILE_VL) = r;
          else {
            *(TILE_VU *)lane = r;
            memcpy(yo + v * TILE_VL, lane, sizeof(float) * (size_t)n);
          }
        }
      }
    }
  }
}

#undef TILE_COLS
/* the parameters, so that the next build defines its own */
#undef TILE_FN
#undef TILE_TARGET
#undef TILE_VL
#undef TILE_OCB
#undef TILE_NJ
#undef TILE_V
#undef TILE_VU
