/* train_test_util.c - what the acrnn-train tests share (see the header). */
#include "train_test_util.h"
#include <string.h>

static const char *train_exe;
static char *tmp;
static GPtrArray *owned; /* dataset paths, freed by tt_run_tests */

gboolean tt_init(int *argc, char ***argv, const char *name) {
  g_test_init(argc, argv, NULL);
  train_exe = synth_train_exe(*argc, *argv, name);
  if (!train_exe)
    return FALSE;
  char *template = g_strdup_printf("acrnn-%s-XXXXXX", name);
  tmp = g_dir_make_tmp(template, NULL);
  g_assert_nonnull(tmp);
  g_free(template);
  owned = g_ptr_array_new_with_free_func(g_free);
  return TRUE;
}

const char *tt_exe(void) {
  return train_exe;
}

const char *tt_tmp(void) {
  return tmp;
}

char *tt_path(const char *name) {
  return g_build_filename(tmp, name, NULL);
}

const char *tt_folder_dataset(const char *name, int per_class, int n_folds,
                              const char **folds_csv) {
  char *data = tt_path(name);
  synth_folder_dataset(data, per_class, n_folds);
  g_ptr_array_add(owned, data);
  if (folds_csv) {
    char *csv = g_build_filename(data, "folds.csv", NULL);
    g_ptr_array_add(owned, csv);
    *folds_csv = csv;
  }
  return data;
}

const char *tt_esc50_dataset(const char *name, int per_class, int n_folds) {
  char *data = tt_path(name);
  synth_esc50_dataset(data, per_class, n_folds);
  g_ptr_array_add(owned, data);
  return data;
}

int tt_run_tests(void) {
  int rc = g_test_run();
  if (rc == 0)
    synth_remove_tree(tmp);
  g_ptr_array_unref(owned);
  g_free(tmp);
  return rc;
}

/* Whether the fast option opt goes on the command line of cmd. */
static gboolean takes(const char *cmd, TtFast fast, const char *opt) {
  if (fast == TT_NO_FAST)
    return FALSE;
  if (fast == TT_FAST_CACHED && strcmp(opt, "--no-cache") == 0)
    return FALSE;
  return strcmp(cmd, "eval") != 0 || strcmp(opt, "--quiet") == 0 ||
         strcmp(opt, "--no-cache") == 0;
}

char **tt_argv(const char *cmd, TtFast fast, const char *const *a,
               const char *const *b) {
  GPtrArray *v = g_ptr_array_new();
  g_ptr_array_add(v, g_strdup(train_exe));
  g_ptr_array_add(v, g_strdup(cmd));
  for (int i = 0; synth_fast_options[i]; i++)
    if (takes(cmd, fast, synth_fast_options[i]))
      g_ptr_array_add(v, g_strdup(synth_fast_options[i]));
  for (int i = 0; a && a[i]; i++)
    g_ptr_array_add(v, g_strdup(a[i]));
  for (int i = 0; b && b[i]; i++)
    g_ptr_array_add(v, g_strdup(b[i]));
  g_ptr_array_add(v, NULL);
  return (char **)g_ptr_array_free(v, FALSE);
}

int tt_run(const char *cmd, TtFast fast, const char *const *a,
           const char *const *b, char **out, char **err) {
  char **argv = tt_argv(cmd, fast, a, b);
  int rc = synth_run(argv, out, err);
  g_strfreev(argv);
  return rc;
}

void tt_run_ok(const char *cmd, TtFast fast, const char *const *a,
               const char *const *b, char **out, char **err) {
  char *o = NULL, *e = NULL;
  char **pout = out ? out : &o, **perr = err ? err : &e;
  int rc = tt_run(cmd, fast, a, b, pout, perr);
  if (rc != 0)
    g_printerr("acrnn-train %s failed (%d): %s\n%s\n", cmd, rc, *pout, *perr);
  g_assert_cmpint(rc, ==, 0);
  g_free(o);
  g_free(e);
}

void tt_file_replace(const char *path, const char *from, const char *to) {
  char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  char **parts = g_strsplit(text, from, -1);
  char *replaced = g_strjoinv(to, parts);
  g_assert_true(g_file_set_contents(path, replaced, -1, NULL));
  g_free(replaced);
  g_strfreev(parts);
  g_free(text);
}

JsonObject *tt_json_file(const char *path) {
  JsonParser *p = json_parser_new();
  JsonObject *o = NULL;
  if (json_parser_load_from_file(p, path, NULL) &&
      JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
    o = json_object_ref(json_node_get_object(json_parser_get_root(p)));
  g_object_unref(p);
  return o;
}

char **tt_log_lines(const char *path) {
  char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  char **lines = g_strsplit(g_strstrip(text), "\n", -1);
  g_free(text);
  return lines;
}

JsonObject *tt_model_acrnn(const char *path) {
  GBytes *b = tt_file_bytes(path);
  gsize size;
  const guint8 *d = g_bytes_get_data(b, &size);
  g_assert_cmpuint(size, >=, 8);
  guint64 len = 0;
  for (int i = 7; i >= 0; i--)
    len = (len << 8) | d[i];
  g_assert_cmpuint(8 + len, <=, size);
  char *header = g_strndup((const char *)d + 8, len);
  JsonNode *h = json_from_string(header, NULL);
  g_free(header);
  g_assert_nonnull(h);
  JsonObject *meta =
      json_object_get_object_member(json_node_get_object(h), "__metadata__");
  g_assert_nonnull(meta);
  JsonNode *a =
      json_from_string(json_object_get_string_member(meta, "acrnn"), NULL);
  g_assert_nonnull(a);
  JsonObject *acrnn = json_object_ref(json_node_get_object(a));
  json_node_unref(a);
  json_node_unref(h);
  g_bytes_unref(b);
  return acrnn;
}

GBytes *tt_file_bytes(const char *path) {
  GBytes *b = synth_read(path);
  if (!b)
    g_error("cannot read %s", path);
  return b;
}

AcrnnNet *tt_load(const char *path, AcrnnModelInfo *info) {
  GError *error = NULL;
  AcrnnNet *net = acrnn_model_load(path, info, &error);
  g_assert_no_error(error);
  return net;
}

gboolean tt_same_weights(const char *a, const char *b) {
  AcrnnModelInfo ia, ib;
  AcrnnNet *na = tt_load(a, &ia), *nb = tt_load(b, &ib);
  g_assert_cmpuint(acrnn_net_n_params(na), ==, acrnn_net_n_params(nb));
  gboolean same = memcmp(acrnn_net_params(na), acrnn_net_params(nb),
                         acrnn_net_n_params(na) * sizeof(float)) == 0 &&
                  memcmp(acrnn_net_buffers(na), acrnn_net_buffers(nb),
                         acrnn_net_n_buffers(na) * sizeof(float)) == 0 &&
                  memcmp(ia.mean, ib.mean, sizeof ia.mean) == 0 &&
                  memcmp(ia.std, ib.std, sizeof ia.std) == 0;
  acrnn_net_free(na);
  acrnn_net_free(nb);
  acrnn_model_info_clear(&ia);
  acrnn_model_info_clear(&ib);
  return same;
}

void tt_expect_refused(TtRunFn run, const char *option, const char *value,
                       const char *message) {
  char *out = tt_path("refused.safetensors"), *err = NULL;
  const char *extra[] = {option, value, NULL};
  int status = run(out, extra, &err);
  if (status != 1 || !strstr(err, message))
    g_error("%s %s: expected exit 1 and \"%s\", got exit %d and: %s", option,
            value, message, status, err);
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
  g_free(err);
  g_free(out);
}
