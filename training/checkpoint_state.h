/* checkpoint_state.h - the training state a checkpoint stores besides the
 * network and the optimizer's velocity: where the run stands (epoch, step),
 * the running figures of the epoch under way, the best model so far and the
 * mixup generator, as acrnn-train.* metadata strings. */
#ifndef TR_CHECKPOINT_STATE_H
#define TR_CHECKPOINT_STATE_H
#include <glib.h>

typedef struct {
  int epoch, step, best_epoch;
  double best_acc;
  double ep_loss, ep_correct, ep_seen, ep_elapsed; /* the epoch under way */
  double total_s;                                  /* training time so far */
  guint64 rng[4];                                  /* the mixup generator */
} TrCheckpointState;

/* Reads the acrnn-train.* entries of the checkpoint path into st. Errors
 * name the file, the entry and what was expected. */
gboolean tr_checkpoint_state_read(const char *path, TrCheckpointState *st,
                                  GError **error);

#endif
