/* dist.c - the processes of a data-parallel run over MPI (see dist.h); the
 * only file of acrnn-train with MPI calls, all behind ACRNN_HAVE_MPI. */
#include "dist.h"
#include "reporter.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef ACRNN_HAVE_MPI
#include <mpi.h>
#endif

static int dist_rank = 0, dist_size = 1;
#ifdef ACRNN_HAVE_MPI
static gboolean dist_on = FALSE;
#endif

guint64 tr_hash_bytes(guint64 h, const void *data, size_t n) {
  const unsigned char *p = data;
  if (h == 0)
    h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

#ifdef ACRNN_HAVE_MPI
/* Variables a launcher (mpirun, srun, hydra) sets in each process. */
static gboolean launched(void) {
  static const char *const vars[] = {
      "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK",
      "MV2_COMM_WORLD_SIZE",  NULL};
  for (int i = 0; vars[i]; i++)
    if (g_getenv(vars[i]))
      return TRUE;
  return FALSE;
}

static void on_mpi_error(MPI_Comm *comm, int *code, ...) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(*code, text, &len) != MPI_SUCCESS)
    g_snprintf(text, sizeof text, "error code %d", *code);
  tr_report_rank_error("MPI error: %s", text);
  MPI_Abort(*comm, 1);
}

static void finalize_at_exit(void) {
  tr_dist_finalize();
}
#endif

void tr_dist_init(int *argc, char ***argv) {
#ifdef ACRNN_HAVE_MPI
  if (!launched())
    return;
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) !=
      MPI_SUCCESS) {
    tr_report_rank_error("MPI_Init failed");
    exit(1);
  }
  dist_on = TRUE;
  MPI_Comm_rank(MPI_COMM_WORLD, &dist_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &dist_size);
  tr_report_set_rank(dist_rank, dist_size);
  MPI_Errhandler eh;
  MPI_Comm_create_errhandler(on_mpi_error, &eh);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, eh);
  atexit(finalize_at_exit);
#else
  (void)argc;
  (void)argv;
#endif
}

void tr_dist_finalize(void) {
#ifdef ACRNN_HAVE_MPI
  int fin = 0;
  if (dist_on && MPI_Finalized(&fin) == MPI_SUCCESS && !fin) {
    fflush(stdout);
    fflush(stderr);
    MPI_Finalize();
  }
#endif
}

int tr_dist_rank(void) {
  return dist_rank;
}

int tr_dist_size(void) {
  return dist_size;
}

/* Sums n floats (doubles: n doubles) over all ranks, in place; nothing in
 * one process. */
static void sum_in_place(void *v, size_t n, gboolean doubles) {
#ifdef ACRNN_HAVE_MPI
  MPI_Datatype type = doubles ? MPI_DOUBLE : MPI_FLOAT;
  size_t size = doubles ? sizeof(double) : sizeof(float);
  char *p = v;
  /* counts are int: large blocks go in chunks */
  while (dist_size > 1 && n > 0) {
    int c = (int)MIN(n, (size_t)1 << 30);
    MPI_Allreduce(MPI_IN_PLACE, p, c, type, MPI_SUM, MPI_COMM_WORLD);
    p += (size_t)c * size;
    n -= (size_t)c;
  }
#else
  (void)v;
  (void)n;
  (void)doubles;
#endif
}

void tr_dist_sum_floats(float *v, size_t n) {
  sum_in_place(v, n, FALSE);
}

void tr_dist_sum_doubles(double *v, size_t n) {
  sum_in_place(v, n, TRUE);
}

void tr_dist_barrier(void) {
#ifdef ACRNN_HAVE_MPI
  if (dist_size > 1)
    MPI_Barrier(MPI_COMM_WORLD);
#endif
}

void tr_dist_idle_barrier(void) {
#ifdef ACRNN_HAVE_MPI
  if (dist_size <= 1)
    return;
  MPI_Request req;
  MPI_Ibarrier(MPI_COMM_WORLD, &req);
  int done = 0;
  for (;;) {
    MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (done)
      break;
    g_usleep(10000);
  }
#endif
}

void tr_dist_abort(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  tr_report_rank_error("%s", msg);
  g_free(msg);
#ifdef ACRNN_HAVE_MPI
  if (dist_on)
    MPI_Abort(MPI_COMM_WORLD, code);
#endif
  exit(code);
}

GQuark tr_dist_error_quark(void) {
  return g_quark_from_static_string("acrnn-train-dist-error");
}

void tr_dist_report_error(const char *what, const GError *err) {
  const char *msg = err ? err->message : "failed";
  if (dist_size > 1 && !(err && err->domain == TR_DIST_ERROR))
    tr_dist_abort(1, "%s: %s", what, msg);
  tr_report_error(what, err);
  /* every rank has it: let rank 0 print before any rank exits non-zero
   * (mpirun then ends the others) */
  tr_dist_barrier();
}

gboolean tr_dist_check_same(const char *const *what, const guint64 *values,
                            int n, GError **error) {
#ifdef ACRNN_HAVE_MPI
  if (dist_size <= 1)
    return TRUE;
  guint64 *all = g_new(guint64, (size_t)n * (size_t)dist_size);
  MPI_Allgather(values, n, MPI_UINT64_T, all, n, MPI_UINT64_T, MPI_COMM_WORLD);
  gboolean ok = TRUE;
  for (int r = 1; ok && r < dist_size; r++)
    for (int i = 0; ok && i < n; i++)
      if (all[(size_t)r * n + i] != all[i]) {
        g_set_error(error, TR_DIST_ERROR, 1,
                    "rank %d does not match rank 0: different %s", r, what[i]);
        ok = FALSE;
      }
  g_free(all);
  return ok;
#else
  (void)what;
  (void)values;
  (void)n;
  (void)error;
  return TRUE;
#endif
}
