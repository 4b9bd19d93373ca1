/* label_smoothing.h - label smoothing of a batch's soft targets
 * (--label-smoothing, ours, not the paper's). */
#ifndef TR_LABEL_SMOOTHING_H
#define TR_LABEL_SMOOTHING_H

/* Each of the n rows t of y [n][k] becomes (1 - eps) t + eps / k, in
 * float; a row that sums to 1 still does. eps = 0 leaves y as it is, bit
 * for bit. The cross-entropy of acrnn_net_loss() takes the soft targets as
 * they are (its gradient with respect to the logits is p - t). */
void tr_label_smooth(float *y, int n, int k, double eps);

#endif
