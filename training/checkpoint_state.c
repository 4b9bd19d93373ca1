/* checkpoint_state.c - reads the training state entries of a checkpoint
 * (written by the trainer's save_checkpoint()). */
#include "checkpoint_state.h"
#include <acrnn/acrnn.h>
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

gboolean tr_checkpoint_state_read(const char *path, TrCheckpointState *st,
                                  GError **error) {
  double epoch, step, best_epoch;
  char *rng = NULL;
  if (!meta_double(path, "acrnn-train.epoch", &epoch, error) ||
      !meta_double(path, "acrnn-train.step", &step, error) ||
      !meta_double(path, "acrnn-train.best_accuracy", &st->best_acc, error) ||
      !meta_double(path, "acrnn-train.best_epoch", &best_epoch, error) ||
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
  st->epoch = (int)epoch;
  st->step = (int)step;
  st->best_epoch = (int)best_epoch;
  return TRUE;
}
