/* lr_schedule.c - step and cosine learning-rate schedules, per epoch. */
#include "lr_schedule.h"
#include <math.h>
#include <string.h>

gboolean tr_lr_schedule_parse(const char *s, TrLrSchedule *out,
                              GError **error) {
  if (g_strcmp0(s, "step") == 0 || g_strcmp0(s, "cosine") == 0) {
    *out = strcmp(s, "step") == 0 ? TR_LR_STEP : TR_LR_COSINE;
    return TRUE;
  }
  g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
              "--lr-schedule %s: expected step or cosine", s ? s : "(none)");
  return FALSE;
}

float tr_lr_at_epoch(const AcrnnSgdParams *sgd, TrLrSchedule kind,
                     double lr_min, int epoch, int epochs) {
  if (kind == TR_LR_STEP) {
    AcrnnSgd opt = {.p = *sgd};
    return acrnn_sgd_lr(&opt, epoch);
  }
  const double lr0 = sgd->lr, t = epochs > 0 ? (double)epoch / epochs : 0;
  return (float)(lr_min + (lr0 - lr_min) * (1.0 + cos(G_PI * t)) / 2.0);
}
