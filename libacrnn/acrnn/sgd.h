/* acrnn/sgd.h - SGD with Nesterov momentum, L2 weight decay and a step
 * learning-rate schedule, as torch.optim.SGD(nesterov=True) computes it:
 *   g = grad + weight_decay * p;  v = momentum * v + g;
 *   p -= lr * (g + momentum * v)
 */
#ifndef ACRNN_SGD_H
#define ACRNN_SGD_H

#include <glib.h>
#include <stddef.h>

G_BEGIN_DECLS

typedef struct {
  float lr;           /**< base learning rate, default 0.01 */
  float momentum;     /**< default 0.9 */
  float weight_decay; /**< L2 on all parameters, default 1e-4 */
  gboolean nesterov;  /**< default TRUE */
  int step_epochs;    /**< divide lr by step_gamma every this many epochs
                           (0: never), default 100 */
  float step_gamma;   /**< default 0.1 */
} AcrnnSgdParams;

void acrnn_sgd_params_init(AcrnnSgdParams *p);

typedef struct {
  AcrnnSgdParams p;
  size_t n;
  float *velocity; /**< n floats, zero at start; part of a checkpoint */
  guint8 *frozen; /**< NULL, or n flags: 1 = never updated (acrnn_sgd_freeze) */
} AcrnnSgd;

AcrnnSgd *acrnn_sgd_new(const AcrnnSgdParams *p, size_t n_params);
void acrnn_sgd_free(AcrnnSgd *opt);
/** Learning rate of a (0-based) epoch under the step schedule. */
float acrnn_sgd_lr(const AcrnnSgd *opt, int epoch);
/** Freezes params [offset, offset + n): acrnn_sgd_step() leaves them and
 * their velocity as they are (no gradient step, no weight decay, no
 * momentum), as torch.optim.SGD does for parameters without a gradient. */
void acrnn_sgd_freeze(AcrnnSgd *opt, size_t offset, size_t n);
/** One update of params with grads at learning rate lr. */
void acrnn_sgd_step(AcrnnSgd *opt, float *params, const float *grads, float lr);

G_END_DECLS

#endif
