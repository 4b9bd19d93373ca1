/* progress.h - progress output of training: a \r-updated line on a
 * terminal, plain lines (one per epoch) otherwise. */
#ifndef TR_PROGRESS_H
#define TR_PROGRESS_H

#include "epoch_record.h"
#include <glib.h>

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
/* A counting line ("features 3/10", "12 clips"): \r-updated on a terminal,
 * at most every 0.2 s and always when last is TRUE; nothing when quiet or
 * not on a terminal. tr_progress_end_line() or the next epoch line ends it.
 */
void tr_progress_count(TrProgress *p, gboolean last, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
/* Ends an open \r-updated line (a newline), keeping p in use. */
void tr_progress_end_line(TrProgress *p);
/* A message on its own line (ends an open progress line first). */
void tr_progress_message(TrProgress *p, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

#endif
