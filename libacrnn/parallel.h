/* parallel.h - libacrnn's worker threads (internal): started once and kept,
 * so that a layer split over threads does not pay for creating them. */
#ifndef ACRNN_PARALLEL_H
#define ACRNN_PARALLEL_H

#include <glib.h>

G_BEGIN_DECLS

typedef void (*AcrnnTaskFn)(gpointer task);

/* Runs fn on each of the n tasks (task i at (char *)tasks + i * size): the
 * first on the calling thread, the others on libacrnn's worker threads (the
 * calling thread runs any that no thread can be had for). Returns when all
 * have returned. A task may call acrnn_parallel_run() itself: waiting
 * tasks never hold up the ones they wait for. */
void acrnn_parallel_run(int n, AcrnnTaskFn fn, gpointer tasks, gsize size);

/* From begin to end, libacrnn's work on the calling thread runs on that
 * thread alone (acrnn_get_threads() returns 1 there; other threads keep
 * acrnn_set_threads()'s count), and the BLAS runs on one thread while any
 * thread is in such a section (its thread count is the process's). For
 * copies of a network that each run on their own thread. Sections nest;
 * acrnn_set_threads() is safe to call meanwhile. */
void acrnn_single_thread_begin(void);
void acrnn_single_thread_end(void);

G_END_DECLS

#endif
