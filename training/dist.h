/* dist.h - the processes of a data-parallel run (MPI when acrnn-train is
 * built with it and started by mpirun or srun; otherwise one process). The
 * rest of the trainer sees only these calls, never an MPI symbol. */
#ifndef TR_DIST_H
#define TR_DIST_H

#include <glib.h>

/* Starts MPI when the environment says a launcher started this process
 * (OMPI_COMM_WORLD_SIZE, PMI_SIZE, PMIX_RANK...); a plain start stays a
 * single process without touching MPI. Errors of MPI calls end the job
 * with a message naming the rank. */
void tr_dist_init(int *argc, char ***argv);
/* Finalises MPI (also registered with atexit). */
void tr_dist_finalize(void);

/* This process's rank and the number of processes (0 and 1 without MPI). */
int tr_dist_rank(void);
int tr_dist_size(void);

/* Sums v over all ranks, in place (nothing in one process). */
void tr_dist_sum_floats(float *v, size_t n);
void tr_dist_sum_doubles(double *v, size_t n);
/* Waits for every rank. */
void tr_dist_barrier(void);
/* The same for a wait that may be long (ranks that finished their share
 * early): polls every 10 ms and sleeps in between, where MPI_Barrier would
 * keep a core busy. */
void tr_dist_idle_barrier(void);

/* Ends the whole job at once: prints "acrnn-train: rank R of N: message"
 * and aborts every rank (exit status code); in one process, exits. */
G_GNUC_NORETURN void tr_dist_abort(int code, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

/* The domain of errors that every rank gets at the same time (the checks
 * below): the job can end normally. Any other error after tr_dist_init() is
 * a rank's own and must end the job with tr_dist_abort(). */
#define TR_DIST_ERROR (tr_dist_error_quark())
GQuark tr_dist_error_quark(void);

/* Reports err: a TR_DIST_ERROR on rank 0 only, returning; any other error
 * of a multi-rank job ends the whole job (tr_dist_abort). what: the
 * command. */
void tr_dist_report_error(const char *what, const GError *err);

/* Compares n 64-bit fingerprints (what[i] names each) with rank 0's; FALSE
 * with an error naming the first rank and fingerprint that differ. Every
 * rank gets the same answer. */
gboolean tr_dist_check_same(const char *const *what, const guint64 *values,
                            int n, GError **error);

/* FNV-1a style 64-bit hash of bytes, chained from h (start with 0). */
guint64 tr_hash_bytes(guint64 h, const void *data, size_t n);

#endif
