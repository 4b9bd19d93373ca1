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

/* head, the message and a newline on stderr. */
static void vreport(const char *head, const char *fmt, va_list ap) {
  char *msg = g_strdup_vprintf(fmt, ap);
  fprintf(stderr, "%s%s\n", head, msg);
  fflush(stderr);
  g_free(msg);
}

void tr_report_warning(const char *cmd, const char *fmt, ...) {
  if (report_rank != 0)
    return;
  char *head = g_strdup_printf("acrnn-train%s%s: warning: ", cmd ? " " : "",
                               cmd ? cmd : "");
  va_list ap;
  va_start(ap, fmt);
  vreport(head, fmt, ap);
  va_end(ap);
  g_free(head);
}

void tr_report_note(const char *fmt, ...) {
  if (report_rank != 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vreport("", fmt, ap);
  va_end(ap);
}

void tr_report_rank_error(const char *fmt, ...) {
  char *head = report_ranked ? g_strdup_printf("acrnn-train: rank %d of %d: ",
                                               report_rank, report_size)
                             : g_strdup("acrnn-train: ");
  va_list ap;
  va_start(ap, fmt);
  vreport(head, fmt, ap);
  va_end(ap);
  fflush(stdout);
  g_free(head);
}
