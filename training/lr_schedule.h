/* lr_schedule.h - the learning rate of each epoch: the paper's step
 * schedule (acrnn_sgd_lr()) or a cosine one (--lr-schedule cosine, ours).
 * The rate is set once per epoch, before its first step. */
#ifndef TR_LR_SCHEDULE_H
#define TR_LR_SCHEDULE_H

#include <acrnn/acrnn.h>

typedef enum {
  TR_LR_STEP = 0, /* lr * gamma^(epoch / step_epochs) */
  TR_LR_COSINE,   /* lr_min + (lr - lr_min) (1 + cos(pi epoch / epochs)) / 2 */
} TrLrSchedule;

/* Parses "step" or "cosine"; FALSE with an error naming the value
 * otherwise. */
gboolean tr_lr_schedule_parse(const char *s, TrLrSchedule *out, GError **error);

/* The learning rate of 0-based epoch of epochs under kind, from sgd's lr
 * (and its step_epochs and step_gamma for the step schedule, which gives
 * acrnn_sgd_lr()'s value bit for bit). The cosine schedule starts at lr in
 * epoch 0 and reaches lr_min after the last epoch (its last epoch runs at
 * lr_min + (lr - lr_min) (1 + cos(pi (epochs-1) / epochs)) / 2). */
float tr_lr_at_epoch(const AcrnnSgdParams *sgd, TrLrSchedule kind,
                     double lr_min, int epoch, int epochs);

#endif
