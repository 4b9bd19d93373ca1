/* mpi_helpers.h - running acrnn-train alone or under mpirun on the tiny
 * synthetic dataset of the trainer tests, and comparing models, for the
 * tests of data-parallel training. */
#ifndef MPI_HELPERS_H
#define MPI_HELPERS_H

#include <glib.h>

typedef struct {
  const char *train_exe;
  char *tmp;  /* a fresh directory, removed on success */
  char *data; /* folder dataset: 3 classes, folds from folds.csv */
  char *folds_csv;
} MpiEnv;

/* g_test_init, then reads argv (acrnn-train path, "mpi" or "nompi"),
 * skips (exit 77) when the build has no MPI or mpirun is missing, and makes
 * the dataset (per_class clips per class in n_folds folds). */
void mpi_env_init(MpiEnv *e, int *argc, char ***argv, int per_class,
                  int n_folds);

/* g_test_run; then frees e, removing its directory if every test passed.
 * Returns g_test_run's status. */
int mpi_env_run(MpiEnv *e);

/* Runs acrnn-train CMD with the fast options, --data/--folds-csv and
 * extra (NULL-terminated); under mpirun with np ranks when np > 0 (np 0: a
 * plain start). Ended after limit_s seconds (exit status 124). Returns the exit
 * status
 * (-1 on a signal), the outputs (g_free; may be NULL) and the time taken. */
int mpi_train(const MpiEnv *e, int np, const char *cmd,
              const char *const *extra, int limit_s, char **out, char **err,
              double *secs);

/* mpi_train "train" --out NAME (in the temporary directory) that must
 * succeed within 120 s; returns the model's path (g_free). */
char *mpi_train_ok(const MpiEnv *e, int np, const char *name,
                   const char *const *extra);

/* Runs a full argv (NULL-terminated) the same way. */
int mpi_spawn(char **argv, int limit_s, char **out, char **err, double *secs);

/* The largest relative difference |a-b| / max(|a|, |b|, 1e-3) over the
 * parameters and the running statistics of two models. */
double mpi_model_rel_diff(const char *a, const char *b);

/* A path in the temporary directory (g_free). */
char *mpi_path(const MpiEnv *e, const char *name);

#endif
