/* nn_test_util.h - what the network tests share: bit-for-bit comparison,
 * small random networks and random inputs. */
#ifndef NN_TEST_UTIL_H
#define NN_TEST_UTIL_H

#include <acrnn/acrnn.h>

/* Aborts the test at the first element of x and y whose bits differ. */
void nt_assert_same_bits(const float *x, const float *y, size_t n);

/* Aborts the test at the first element of x and y further apart than
 * rel * max(1, |y|): the same computation, rounded differently (fp32 under
 * OpenBLAS, whose kernels round the last bit by the shape of a product). */
void nt_assert_close(const float *x, const float *y, size_t n, double rel);

/* A network of bands x frames inputs and n_classes classes with the given
 * attention ("rnn", "cnn:2", ...), random weights (seed) and running
 * statistics away from 0 and 1, so that batch norm matters, yet close to
 * the conv outputs' scale (N(0, 0.05) weights), so most units stay alive. */
AcrnnNet *nt_new_net(int bands, int frames, int n_classes,
                     const char *attention, guint64 seed);

/* The shape of a convolution's weight gradient test: n samples of h x w
 * CNHW maps, cin -> cout channels, a kh x kw 'same' kernel. */
typedef struct {
  int n, cin, cout, h, w, kh, kw;
} NtConvShape;

/* The weight gradient at (co, ci, tap k) in double: sum over samples, rows
 * and columns of dy[co] * x[ci] shifted by the tap (zero outside the map),
 * into *exact, and the sum of |products| into *mag; with round, also the
 * sum of round(dy) * round(x) into *rounded. */
void nt_conv_wgrad_sums(const NtConvShape *c, const float *dy, const float *x,
                        int co, int ci, int k, float (*round)(float),
                        double *rounded, double *exact, double *mag);

/* n floats drawn from N(0, 1) (seed). */
float *nt_random(size_t n, guint64 seed);

#endif
