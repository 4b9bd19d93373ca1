/* checkpoint_state.c - reads the training state entries of a checkpoint
 * (written by the trainer's save_checkpoint()). */
#include "checkpoint_state.h"
#include <acrnn/acrnn.h>
#include <math.h>
#include <string.h>

#define CKPT_ERROR (g_quark_from_static_string("acrnn-train-error"))

static gboolean meta_double(const char *path, const char *key, double *v,
                            GError **error) {
  char *s = acrnn_model_read_meta(path, key, error);
  if (!s)
    return FALSE;
  char *end;
  *v = g_ascii_strtod(s, &end);
  gboolean ok = end != s && *end == 0;
  if (!ok)
    g_set_error(error, CKPT_ERROR, 1,
                "%s: checkpoint entry %s = \"%s\" is not a number", path, key,
                s);
  g_free(s);
  return ok;
}

/* A count (epoch, step): a whole number in 0..G_MAXINT, so that the
 * conversion to int is defined. */
static gboolean meta_count(const char *path, const char *key, int *v,
                           GError **error) {
  double d;
  if (!meta_double(path, key, &d, error))
    return FALSE;
  if (!(d >= 0 && d <= G_MAXINT && d == floor(d))) {
    g_set_error(error, CKPT_ERROR, 1,
                "%s: checkpoint entry %s = %g: expected a whole number from 0 "
                "to %d",
                path, key, d, G_MAXINT);
    return FALSE;
  }
  *v = (int)d;
  return TRUE;
}

gboolean tr_checkpoint_state_read(const char *path, TrCheckpointState *st,
                                  GError **error) {
  char *rng = NULL;
  if (!meta_count(path, "acrnn-train.epoch", &st->epoch, error) ||
      !meta_count(path, "acrnn-train.step", &st->step, error) ||
      !meta_double(path, "acrnn-train.best_accuracy", &st->best_acc, error) ||
      !meta_count(path, "acrnn-train.best_epoch", &st->best_epoch, error) ||
      !meta_double(path, "acrnn-train.epoch_loss", &st->ep_loss, error) ||
      !meta_double(path, "acrnn-train.epoch_correct", &st->ep_correct, error) ||
      !meta_double(path, "acrnn-train.epoch_seen", &st->ep_seen, error) ||
      !meta_double(path, "acrnn-train.epoch_elapsed", &st->ep_elapsed, error) ||
      !meta_double(path, "acrnn-train.elapsed", &st->total_s, error) ||
      !(rng = acrnn_model_read_meta(path, "acrnn-train.rng", error)))
    return FALSE;
  gboolean ok = strlen(rng) == 64;
  for (int i = 0; ok && i < 4; i++) {
    char part[17];
    memcpy(part, rng + 16 * i, 16);
    part[16] = 0;
    char *end;
    st->rng[i] = g_ascii_strtoull(part, &end, 16);
    ok = *end == 0;
  }
  g_free(rng);
  if (!ok) {
    g_set_error(error, CKPT_ERROR, 1,
                "%s: checkpoint entry acrnn-train.rng is not 64 hex digits",
                path);
    return FALSE;
  }
  return TRUE;
}
