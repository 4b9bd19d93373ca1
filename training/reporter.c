/* reporter.c - acrnn-train's messages to its user on stderr (see
 * reporter.h). */
#include "reporter.h"
#include <stdarg.h>
#include <stdio.h>

static int report_rank = 0, report_size = 1;
static gboolean report_ranked = FALSE; /* started by an MPI launcher */

void tr_report_set_rank(int rank, int size) {
  report_rank = rank;
  report_size = size;
  report_ranked = TRUE;
}

void tr_report_error(const char *cmd, const GError *error) {
  if (report_rank != 0)
    return;
  fprintf(stderr, "acrnn-train %s: %s\n", cmd,
          error ? error->message : "failed");
  fflush(stderr);
}

void tr_report_warning(const char *cmd, const char *fmt, ...) {
  if (report_rank != 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  fprintf(stderr, "acrnn-train%s%s: warning: %s\n", cmd ? " " : "",
          cmd ? cmd : "", msg);
  g_free(msg);
}

void tr_report_note(const char *fmt, ...) {
  if (report_rank != 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  fprintf(stderr, "%s\n", msg);
  g_free(msg);
}

void tr_report_rank_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  if (report_ranked)
    fprintf(stderr, "acrnn-train: rank %d of %d: %s\n", report_rank,
            report_size, msg);
  else
    fprintf(stderr, "acrnn-train: %s\n", msg);
  fflush(stderr);
  fflush(stdout);
  g_free(msg);
}
