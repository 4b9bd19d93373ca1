/* progress.c - training progress: \r line on a TTY, plain lines otherwise. */
#include "progress.h"
#include <stdio.h>
#include <unistd.h>

void tr_progress_init(TrProgress *p, gboolean quiet, const char *prefix) {
  p->tty = isatty(fileno(stderr));
  p->quiet = quiet;
  p->last_us = 0;
  p->line_open = FALSE;
  p->prefix = g_strdup(prefix ? prefix : "");
}

void tr_progress_end_line(TrProgress *p) {
  if (p->line_open)
    fputc('\n', stderr);
  p->line_open = FALSE;
}

void tr_progress_clear(TrProgress *p) {
  tr_progress_end_line(p);
  g_clear_pointer(&p->prefix, g_free);
}

/* Whether a \r line is shown now: on a terminal, not quiet, at most every
 * 0.2 s unless last. */
static gboolean line_due(TrProgress *p, gboolean last) {
  if (p->quiet || !p->tty)
    return FALSE;
  gint64 now = g_get_monotonic_time();
  if (!last && now - p->last_us < 200000)
    return FALSE;
  p->last_us = now;
  return TRUE;
}

static void format_time(double s, char *buf, size_t len) {
  if (!(s >= 0) || s > 1e8) {
    g_snprintf(buf, len, "--:--");
    return;
  }
  long t = (long)(s + 0.5);
  if (t >= 3600)
    g_snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else
    g_snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

void tr_progress_step(TrProgress *p, int epoch, int epochs, int step, int steps,
                      double loss, double acc, double seg_per_s, double eta_s) {
  if (!line_due(p, step >= steps))
    return;
  char eta[32];
  format_time(eta_s, eta, sizeof eta);
  fprintf(stderr,
          "\r%sepoch %d/%d step %d/%d loss %.4f acc %.3f %.1f seg/s ETA %s"
          "\033[K",
          p->prefix, epoch, epochs, step, steps, loss, acc, seg_per_s, eta);
  fflush(stderr);
  p->line_open = TRUE;
}

/* The line start, the prefix, the message and end on stderr. */
static void vline(const TrProgress *p, const char *start, const char *end,
                  const char *fmt, va_list ap) {
  char *msg = g_strdup_vprintf(fmt, ap);
  fprintf(stderr, "%s%s%s%s", start, p->prefix, msg, end);
  fflush(stderr);
  g_free(msg);
}

void tr_progress_count(TrProgress *p, gboolean last, const char *fmt, ...) {
  if (!line_due(p, last))
    return;
  va_list ap;
  va_start(ap, fmt);
  vline(p, "\r", "\033[K", fmt, ap);
  va_end(ap);
  p->line_open = TRUE;
}

void tr_progress_epoch(TrProgress *p, const TrEpochRecord *r, int epochs) {
  if (p->quiet)
    return;
  if (p->line_open)
    fputc('\r', stderr);
  char val[32] = "-";
  if (r->val_acc >= 0)
    g_snprintf(val, sizeof val, "%.4f", r->val_acc);
  fprintf(p->tty ? stderr : stdout,
          "%sepoch %d/%d train_loss %.4f train_acc %.4f val_acc %s lr %g "
          "time %.1fs%s\n",
          p->prefix, r->epoch, epochs, r->train_loss, r->train_acc, val, r->lr,
          r->time_s, p->tty ? "\033[K" : "");
  fflush(p->tty ? stderr : stdout);
  p->line_open = FALSE;
}

void tr_progress_message(TrProgress *p, const char *fmt, ...) {
  tr_progress_end_line(p);
  va_list ap;
  va_start(ap, fmt);
  vline(p, "", "\n", fmt, ap);
  va_end(ap);
}
