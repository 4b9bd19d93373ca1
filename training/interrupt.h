/* interrupt.h - Ctrl-C (SIGINT) and SIGTERM during training: a flag that
 * the trainer checks after each step, to checkpoint and stop. */
#ifndef TR_INTERRUPT_H
#define TR_INTERRUPT_H

#include <glib.h>

/* Installs the SIGINT/SIGTERM handler (a flag checked after each step). */
void tr_interrupt_install(void);
gboolean tr_interrupt_requested(void);

#endif
