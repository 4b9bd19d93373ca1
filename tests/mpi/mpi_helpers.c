/* mpi_helpers.c - acrnn-train runs under mpirun and model comparisons for
 * the data-parallel training tests (see mpi_helpers.h). */
#include "mpi_helpers.h"
#include "../training/synth_dataset.h"
#include <acrnn/acrnn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

void mpi_env_init(MpiEnv *e, int *argc_p, char ***argv_p, int per_class,
                  int n_folds) {
  g_test_init(argc_p, argv_p, NULL);
  int argc = *argc_p;
  char **argv = *argv_p;
  memset(e, 0, sizeof *e);
  e->train_exe = argc > 1 ? argv[1] : NULL;
  if (!e->train_exe) {
    g_printerr("usage: %s PATH-TO-acrnn-train mpi|nompi\n", argv[0]);
    exit(1);
  }
  if (argc < 3 || strcmp(argv[2], "mpi") != 0) {
    g_print("SKIP: acrnn-train is built without MPI (-Dmpi=disabled or no "
            "MPI library)\n");
    exit(77);
  }
  char *mpirun = g_find_program_in_path("mpirun");
  if (!mpirun) {
    g_print("SKIP: mpirun is not installed (apt install openmpi-bin)\n");
    exit(77);
  }
  g_free(mpirun);
  e->tmp = g_dir_make_tmp("acrnn-mpi-XXXXXX", NULL);
  g_assert_nonnull(e->tmp);
  e->data = g_build_filename(e->tmp, "data", NULL);
  synth_folder_dataset(e->data, per_class, n_folds);
  e->folds_csv = g_build_filename(e->data, "folds.csv", NULL);
}

int mpi_env_run(MpiEnv *e) {
  int rc = g_test_run();
  if (rc == 0 && e->tmp) {
    char *argv_rm[] = {"rm", "-rf", e->tmp, NULL};
    g_spawn_sync(NULL, argv_rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                 NULL, NULL, NULL);
  }
  g_free(e->tmp);
  g_free(e->data);
  g_free(e->folds_csv);
  memset(e, 0, sizeof *e);
  return rc;
}

char *mpi_path(const MpiEnv *e, const char *name) {
  return g_build_filename(e->tmp, name, NULL);
}

int mpi_spawn(char **argv, int limit_s, char **out, char **err, double *secs) {
  GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
  /* a hung job must fail the test, not the test's timeout */
  g_ptr_array_add(a, g_strdup("timeout"));
  g_ptr_array_add(a, g_strdup("-k"));
  g_ptr_array_add(a, g_strdup("5"));
  g_ptr_array_add(a, g_strdup_printf("%d", limit_s));
  for (int i = 0; argv[i]; i++)
    g_ptr_array_add(a, g_strdup(argv[i]));
  g_ptr_array_add(a, NULL);
  char *cmd = g_strjoinv(" ", (char **)a->pdata);
  g_test_message("run: %s", cmd);
  g_free(cmd);
  int status = -1;
  char *o = NULL, *e = NULL, **pout = out ? out : &o, **perr = err ? err : &e;
  GError *error = NULL;
  gint64 t0 = g_get_monotonic_time();
  /* In an AddressSanitizer build, Open MPI's own allocations kept past
   * MPI_Finalize would fail every rank: leaks are checked by the plain
   * (non-MPI) runs of the training tests instead. */
  char **envp = g_get_environ();
  const char *asan = g_environ_getenv(envp, "ASAN_OPTIONS");
  char *asan_opts =
      g_strconcat(asan ? asan : "", asan ? ":" : "", "detect_leaks=0", NULL);
  envp = g_environ_setenv(envp, "ASAN_OPTIONS", asan_opts, TRUE);
  g_free(asan_opts);
  gboolean ok = g_spawn_sync(NULL, (char **)a->pdata, envp, G_SPAWN_SEARCH_PATH,
                             NULL, NULL, pout, perr, &status, &error);
  g_strfreev(envp);
  if (secs)
    *secs = (g_get_monotonic_time() - t0) / 1e6;
  g_assert_no_error(error);
  g_assert_true(ok);
  g_ptr_array_unref(a);
  if (g_test_verbose())
    g_test_message("stdout:\n%s\nstderr:\n%s", *pout, *perr);
  g_free(o);
  g_free(e);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int mpi_train(const MpiEnv *e, int np, const char *cmd,
              const char *const *extra, int limit_s, char **out, char **err,
              double *secs) {
  GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
  if (np > 0) {
    g_ptr_array_add(a, g_strdup("mpirun"));
    g_ptr_array_add(a, g_strdup("--allow-run-as-root"));
    g_ptr_array_add(a, g_strdup("--oversubscribe"));
    g_ptr_array_add(a, g_strdup("-np"));
    g_ptr_array_add(a, g_strdup_printf("%d", np));
  }
  g_ptr_array_add(a, g_strdup(e->train_exe));
  g_ptr_array_add(a, g_strdup(cmd));
  for (int i = 0; synth_fast_options[i]; i++)
    g_ptr_array_add(a, g_strdup(synth_fast_options[i]));
  const char *base[] = {"--data", e->data, "--folds-csv", e->folds_csv, NULL};
  for (int i = 0; base[i]; i++)
    g_ptr_array_add(a, g_strdup(base[i]));
  for (int i = 0; extra && extra[i]; i++)
    g_ptr_array_add(a, g_strdup(extra[i]));
  g_ptr_array_add(a, NULL);
  char *o = NULL, *er = NULL, **pout = out ? out : &o, **perr = err ? err : &er;
  int rc = mpi_spawn((char **)a->pdata, limit_s, pout, perr, secs);
  if (rc != 0)
    g_test_message("exit %d\nstdout:\n%s\nstderr:\n%s", rc, *pout, *perr);
  g_ptr_array_unref(a);
  g_free(o);
  g_free(er);
  return rc;
}

char *mpi_train_ok(const MpiEnv *e, int np, const char *name,
                   const char *const *extra) {
  char *out = mpi_path(e, name);
  GPtrArray *a = g_ptr_array_new();
  for (int i = 0; extra[i]; i++)
    g_ptr_array_add(a, (char *)extra[i]);
  g_ptr_array_add(a, "--out");
  g_ptr_array_add(a, out);
  g_ptr_array_add(a, NULL);
  char *err = NULL;
  int rc = mpi_train(e, np, "train", (const char *const *)a->pdata, 120, NULL,
                     &err, NULL);
  if (rc != 0)
    g_printerr("acrnn-train (np %d) failed (%d):\n%s\n", np, rc, err);
  g_assert_cmpint(rc, ==, 0);
  g_free(err);
  g_ptr_array_unref(a);
  return out;
}

static double rel_diff(const float *a, const float *b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - b[i]);
    double s = MAX(MAX(fabs(a[i]), fabs(b[i])), 1e-3);
    m = MAX(m, d / s);
  }
  return m;
}

double mpi_model_rel_diff(const char *a, const char *b) {
  AcrnnModelInfo ia, ib;
  GError *error = NULL;
  AcrnnNet *na = acrnn_model_load(a, &ia, &error);
  g_assert_no_error(error);
  AcrnnNet *nb = acrnn_model_load(b, &ib, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(acrnn_net_n_params(na), ==, acrnn_net_n_params(nb));
  double d = MAX(rel_diff(acrnn_net_params(na), acrnn_net_params(nb),
                          acrnn_net_n_params(na)),
                 rel_diff(acrnn_net_buffers(na), acrnn_net_buffers(nb),
                          acrnn_net_n_buffers(na)));
  acrnn_net_free(na);
  acrnn_net_free(nb);
  acrnn_model_info_clear(&ia);
  acrnn_model_info_clear(&ib);
  return d;
}
