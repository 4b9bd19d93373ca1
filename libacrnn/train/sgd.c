/* sgd.c - SGD with (Nesterov) momentum, L2 weight decay and a step schedule,
 * computed as torch.optim.SGD does so that both train alike. */
#include <acrnn/sgd.h>
#include <math.h>
#include <string.h>

void acrnn_sgd_params_init(AcrnnSgdParams *p) {
  p->lr = 0.01f;
  p->momentum = 0.9f;
  p->weight_decay = 1e-4f;
  p->nesterov = TRUE;
  p->step_epochs = 100;
  p->step_gamma = 0.1f;
}

AcrnnSgd *acrnn_sgd_new(const AcrnnSgdParams *p, size_t n_params) {
  AcrnnSgd *opt = g_new0(AcrnnSgd, 1);
  opt->p = *p;
  opt->n = n_params;
  opt->velocity = g_new0(float, n_params);
  return opt;
}

void acrnn_sgd_free(AcrnnSgd *opt) {
  if (!opt)
    return;
  g_free(opt->velocity);
  g_free(opt->frozen);
  g_free(opt);
}

float acrnn_sgd_lr(const AcrnnSgd *opt, int epoch) {
  if (opt->p.step_epochs <= 0)
    return opt->p.lr;
  return opt->p.lr *
         powf(opt->p.step_gamma, (float)(epoch / opt->p.step_epochs));
}

void acrnn_sgd_freeze(AcrnnSgd *opt, size_t offset, size_t n) {
  g_return_if_fail(offset <= opt->n && n <= opt->n - offset);
  if (!opt->frozen)
    opt->frozen = g_new0(guint8, opt->n > 0 ? opt->n : 1);
  memset(opt->frozen + offset, 1, n);
}

void acrnn_sgd_step(AcrnnSgd *opt, float *params, const float *grads,
                    float lr) {
  const float mu = opt->p.momentum, wd = opt->p.weight_decay;
  const guint8 *frozen = opt->frozen;
  float *v = opt->velocity;
  for (size_t i = 0; i < opt->n; i++) {
    if (frozen && frozen[i])
      continue;
    float g = grads[i] + wd * params[i];
    if (mu != 0.0f) {
      v[i] = mu * v[i] + g;
      g = opt->p.nesterov ? g + mu * v[i] : v[i];
    }
    params[i] -= lr * g;
  }
}
