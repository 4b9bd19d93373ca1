/* interrupt.c - Ctrl-C handling: the first SIGINT/SIGTERM sets a flag the
 * training loop checks after each step (then it checkpoints and exits); a
 * second one ends the program at once. */
#include "interrupt.h"
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t interrupted = 0;

static void on_signal(int sig) {
  interrupted = 1;
  signal(sig, SIG_DFL);
}

void tr_interrupt_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

gboolean tr_interrupt_requested(void) {
  return interrupted != 0;
}
