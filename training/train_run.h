/* train_run.h - the state of one training run, shared by the files that
 * make up its loop (trainer.c): batches and steps (train_step.c), the end
 * of an epoch (epoch_end.c), the log (train_log.c), checkpoints
 * (checkpoint.c) and the tests' faults (debug_fault.c). Internal to the
 * trainer. */
#ifndef TR_TRAIN_RUN_H
#define TR_TRAIN_RUN_H

#include "checkpoint_state.h"
#include "init_from.h"
#include "progress.h"
#include "step.h"
#include "train_clips.h"
#include "train_config.h"
#include "trainer.h"
#include <acrnn/acrnn.h>

/* The epoch under way. */
typedef struct {
  TrSegRef *refs; /* its shuffled segments */
  size_t n_refs;
  int steps;
  float lr;
  gint64 start_us;
} TrEpoch;

/* Summed over the steps of this process (--timings). */
typedef struct {
  double step_s, compute_s, reduce_s;
  double segments;
} TrTimings;

typedef struct {
  const TrTrainConfig *c;
  const TrDataset *ds;
  const TrRunPaths *paths;
  AcrnnModelInfo info;
  AcrnnNet *net;
  AcrnnSgd *opt;
  TrReplicas *reps; /* --threads N > 1, or NULL */
  TrFineTune *ft;   /* --freeze-conv, or NULL */
  TrClips clips;
  int rank, world; /* of this run (0 and 1 unless data-parallel) */
  /* the global batch is split into n_shards = world * groups shards; this
   * rank computes groups consecutive ones from first_shard */
  int groups, n_shards, first_shard;
  float *grads; /* the all-reduced block (gradients, batch norm running
                   statistics, step figures), or NULL */
  float *x, *y; /* the batch: inputs and soft targets */
  /* where the run stands: epoch, step, best model, figures of the epoch
   * under way and the mixup generator (in a single-group run also
   * dropout's); what checkpoints store */
  TrCheckpointState st;
  GArray *history; /* TrEpochRecord */
  TrProgress progress;
  TrEpoch ep;
  int steps_run, epochs_run; /* by this process, resumes not included */
  gint64 start_us;
  double total_at_start; /* training time of the runs resumed */
  TrTimings times;
  gboolean stop;        /* stopped early: a checkpoint to resume from */
  gboolean interrupted; /* by a signal */
} TrRun;

/* train_step.c: the parts of one step. */
/* Fills r->x and r->y with the step's batch (mixup included) and returns
 * its size. */
int tr_run_build_batch(TrRun *r);
/* The forward and backward of this process's shards of a batch of b. */
void tr_run_compute(TrRun *r, int b, TrStepStats *st);
/* The all-reduce of a data-parallel run (gradients, running statistics,
 * step figures and the interrupt flag); returns whether any rank was
 * interrupted. */
gboolean tr_run_reduce(TrRun *r, TrStepStats *st, gboolean interrupted);
/* The optimizer's update of the trainable parameters, then the
 * --check-sync comparison. */
gboolean tr_run_update(TrRun *r, GError **error);

/* epoch_end.c: validation, the epoch's record and log line, the best
 * model, the checkpoint and the curves. */
gboolean tr_run_end_epoch(TrRun *r, GError **error);

/* train_log.c: the JSON-lines log of the epochs. */
/* On resume: the log's records of the epochs done (<= epochs_done). */
void tr_log_restore(GArray *history, const char *log, int epochs_done);
gboolean tr_log_write(const GArray *history, const char *log, GError **error);

/* checkpoint.c: the network, the optimizer's velocity and r->st. */
gboolean tr_run_save_checkpoint(TrRun *r, GError **error);
gboolean tr_run_load_checkpoint(TrRun *r, const char *path, GError **error);

/* debug_fault.c: the --debug-fault of the tests, when it is this rank's and
 * this step's: kill and error before the step, desync after the update.
 * FALSE (error set) for the error fault. */
typedef enum { TR_FAULT_BEFORE_STEP, TR_FAULT_AFTER_UPDATE } TrFaultPoint;
gboolean tr_run_fault(TrRun *r, TrFaultPoint point, GError **error);

#endif
