/* checkpoint_state.h - the training state a checkpoint stores besides the
 * network and the optimizer's velocity: where the run stands (epoch, step),
 * the running figures of the epoch under way, the best model so far, the
 * mixup generator and the run's options, as one JSON metadata entry
 * ("acrnn-train"). Checkpoints of acrnn 0.3.0, with one acrnn-train.* entry
 * per field, are read too. */
#ifndef TR_CHECKPOINT_STATE_H
#define TR_CHECKPOINT_STATE_H
#include <acrnn/acrnn.h>
#include <glib.h>

/* The metadata key of the state. */
#define TR_CHECKPOINT_STATE_KEY "acrnn-train"

typedef struct {
  int epoch, step; /* the next step to run, both 0-based */
  int best_epoch;  /* 1-based; 0: none yet */
  double best_acc; /* < 0: none yet */
  double ep_loss, ep_correct, ep_seen, ep_elapsed; /* the epoch under way */
  double total_s;                                  /* training time so far */
  AcrnnRng rng;                                    /* the mixup generator */
  char *options; /* the run's options, a JSON object (tr_options_to_json);
                    owned, may be NULL */
} TrCheckpointState;

/* A fresh run's state: all 0, no best accuracy (-1), no options. */
void tr_checkpoint_state_init(TrCheckpointState *st);
/* Frees options (not st itself). */
void tr_checkpoint_state_clear(TrCheckpointState *st);

/* The state as the JSON object the checkpoint stores (g_free): counts as
 * integers, figures as numbers that read back bit for bit, the generator
 * as 64 hex digits, the options as an object. */
char *tr_checkpoint_state_to_json(const TrCheckpointState *st);

/* Reads the state of the open checkpoint f into st (cleared first; clear
 * it afterwards in any case). Errors name the file, the entry and what was
 * expected. */
gboolean tr_checkpoint_state_read(AcrnnModelFile *f, TrCheckpointState *st,
                                  GError **error);

/* The options stored in the checkpoint path (g_free), or NULL with an
 * error naming the file. */
char *tr_checkpoint_read_options(const char *path, GError **error);

#endif
