/* reporter.h - what acrnn-train tells its user on stderr: errors, warnings
 * and notes, in one format ("acrnn-train CMD: message"). The bottom of the
 * trainer: it calls nothing of it. In a multi-process (MPI) run only rank 0
 * prints, since every rank has the same message, unless a call says that
 * the message is this rank's own. */
#ifndef TR_REPORTER_H
#define TR_REPORTER_H

#include <glib.h>

/* This process is rank of size processes, started by an MPI launcher
 * (tr_dist_init says so): a rank's own messages then name it. Without a
 * call the process is rank 0 of 1 and prints everything. */
void tr_report_set_rank(int rank, int size);

/* "acrnn-train CMD: message" (the message of error; "failed" without one),
 * on rank 0 only. */
void tr_report_error(const char *cmd, const GError *error);

/* "acrnn-train CMD: warning: message" ("acrnn-train: warning: ..." for a
 * NULL cmd), on rank 0 only. */
void tr_report_warning(const char *cmd, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

/* A line as it is, on rank 0 only. */
void tr_report_note(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* A message of this rank alone, printed on every rank: "acrnn-train: rank R
 * of N: message" in an MPI run, "acrnn-train: message" otherwise; stdout
 * and stderr are flushed, as the process is usually about to end. */
void tr_report_rank_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

#endif
