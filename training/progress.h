/* progress.h - progress output of training: a \r-updated line on a
 * terminal, plain lines (one per epoch) otherwise. */
#ifndef TR_PROGRESS_H
#define TR_PROGRESS_H

#include "trainer.h"

typedef struct {
  gboolean tty;
  gboolean quiet;
  gint64 last_us;
  gboolean line_open;
  char *prefix;
} TrProgress;

void tr_progress_init(TrProgress *p, gboolean quiet, const char *prefix);
void tr_progress_clear(TrProgress *p);
void tr_progress_step(TrProgress *p, int epoch, int epochs, int step, int steps,
                      double loss, double acc, double seg_per_s, double eta_s);
void tr_progress_epoch(TrProgress *p, const TrEpochRecord *r, int epochs);
/* A message on its own line (ends an open progress line first). */
void tr_progress_message(TrProgress *p, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

#endif
