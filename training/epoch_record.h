/* epoch_record.h - the figures of one training epoch, as the trainer logs
 * them and the progress lines and curve plots show them. */
#ifndef TR_EPOCH_RECORD_H
#define TR_EPOCH_RECORD_H

typedef struct {
  int epoch; /* 1-based */
  double train_loss, train_acc;
  double val_acc; /* < 0: no validation */
  double lr;
  double time_s;  /* this epoch */
  double total_s; /* since the start of the run, resumes included */
} TrEpochRecord;

#endif
