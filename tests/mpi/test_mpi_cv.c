/* test_mpi_cv.c - cross-validation under mpirun -np 2: with --parallel
 * folds each fold is trained whole by one rank and gives the fold models
 * and accuracies of a plain cv; rank 0 alone prints the table. With the
 * default --parallel batch the folds are trained in turn by both ranks and
 * equal a plain cv with --bn-groups 2. */
#include "mpi_helpers.h"
#include <json-glib/json-glib.h>
#include <string.h>

static MpiEnv env;

static char *cv(int np, const char *dir_name, const char *const *extra) {
  char *dir = mpi_path(&env, dir_name);
  GPtrArray *a = g_ptr_array_new();
  const char *base[] = {
      "--epochs",  "2", "--batch-size",  "5", "--seed", "5", "--out-dir", dir,
      "--dropout", "0", "--mixup-alpha", "0", NULL};
  for (int i = 0; base[i]; i++)
    g_ptr_array_add(a, (char *)base[i]);
  for (int i = 0; extra && extra[i]; i++)
    g_ptr_array_add(a, (char *)extra[i]);
  g_ptr_array_add(a, NULL);
  char *out = NULL, *err = NULL;
  int rc = mpi_train(&env, np, "cv", (const char *const *)a->pdata, 120, &out,
                     &err, NULL);
  if (rc != 0)
    g_printerr("cv (np %d) failed (%d):\n%s\n%s\n", np, rc, out, err);
  g_assert_cmpint(rc, ==, 0);
  g_test_message("cv np %d:\n%s", np, out);
  /* one table, from rank 0 */
  const char *mean = strstr(out, "\nmean ");
  g_assert_nonnull(mean);
  g_assert_null(strstr(mean + 1, "\nmean "));
  g_assert_nonnull(strstr(out, "fold 1: accuracy"));
  g_assert_nonnull(strstr(out, "fold 3: accuracy"));
  g_free(out);
  g_free(err);
  g_ptr_array_unref(a);
  return dir;
}

/* The per-fold accuracies of DIR/cv-summary.json, in fold order. */
static char *accuracies(const char *dir) {
  char *path = g_build_filename(dir, "cv-summary.json", NULL);
  JsonParser *p = json_parser_new();
  GError *error = NULL;
  g_assert_true(json_parser_load_from_file(p, path, &error));
  g_assert_no_error(error);
  JsonObject *o = json_node_get_object(json_parser_get_root(p));
  JsonArray *folds = json_object_get_array_member(o, "folds");
  g_assert_cmpuint(json_array_get_length(folds), ==, 3);
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < 3; i++) {
    JsonObject *f = json_array_get_object_element(folds, i);
    g_assert_cmpint(json_object_get_int_member(f, "fold"), ==, i + 1);
    g_string_append_printf(s, "%.9g %.9g ",
                           json_object_get_double_member(f, "accuracy"),
                           json_object_get_double_member(f, "best_accuracy"));
  }
  g_object_unref(p);
  g_free(path);
  return g_string_free(s, FALSE);
}

static void same_models(const char *a, const char *b) {
  for (int f = 1; f <= 3; f++) {
    char *name = g_strdup_printf("fold-%d.last.safetensors", f);
    char *pa = g_build_filename(a, name, NULL);
    char *pb = g_build_filename(b, name, NULL);
    double d = mpi_model_rel_diff(pa, pb);
    g_test_message("fold %d: relative difference %.3g", f, d);
    g_assert_cmpfloat(d, <, 1e-5);
    g_free(name);
    g_free(pa);
    g_free(pb);
  }
}

/* The cross-validations in a and b give the same accuracies and models;
 * frees a and b. */
static void same_cvs(char *a, char *b) {
  char *aa = accuracies(a), *ab = accuracies(b);
  g_assert_cmpstr(aa, ==, ab);
  same_models(a, b);
  g_free(aa);
  g_free(ab);
  g_free(a);
  g_free(b);
}

static void test_parallel_folds(void) {
  char *plain = cv(0, "plain", NULL);
  const char *folds[] = {"--parallel", "folds", NULL};
  same_cvs(plain, cv(2, "folds", folds));
}

static void test_parallel_batch(void) {
  const char *groups[] = {"--bn-groups", "2", NULL};
  char *grouped = cv(0, "grouped", groups);
  same_cvs(grouped, cv(2, "batch", NULL));
}

int main(int argc, char **argv) {
  mpi_env_init(&env, &argc, &argv, 3, 3);
  g_test_add_func("/mpi/cv/parallel-folds", test_parallel_folds);
  g_test_add_func("/mpi/cv/parallel-batch", test_parallel_batch);
  return mpi_env_run(&env);
}
