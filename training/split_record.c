/* split_record.c - records the training split in a model and reads it back
 * for eval (see split_record.h). */
#include "split_record.h"
#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>

#define SPLIT_ERROR (g_quark_from_static_string("acrnn-train-split-error"))

static gboolean in_folds(int f, const int *folds, int n) {
  for (int i = 0; i < n; i++)
    if (folds[i] == f)
      return TRUE;
  return FALSE;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* SHA-256 of the sorted names of the clips of ds in folds, and their count. */
static char *clips_hash(const TrDataset *ds, const int *folds, int n_folds,
                        int *count) {
  GPtrArray *names = g_ptr_array_new();
  for (size_t i = 0; i < ds->n_clips; i++)
    if (in_folds(ds->clips[i].fold, folds, n_folds))
      g_ptr_array_add(names, ds->clips[i].name);
  if (names->len > 1) /* pdata is NULL in an empty array */
    qsort(names->pdata, names->len, sizeof(char *), cmp_str);
  GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
  for (guint i = 0; i < names->len; i++) {
    const char *name = g_ptr_array_index(names, i);
    g_checksum_update(sum, (const guchar *)name, (gssize)strlen(name));
    g_checksum_update(sum, (const guchar *)"\n", 1);
  }
  char *hex = g_strdup(g_checksum_get_string(sum));
  g_checksum_free(sum);
  *count = (int)names->len;
  g_ptr_array_unref(names);
  return hex;
}

char *tr_split_record(const TrDatasetConfig *o, const TrDataset *ds,
                      const int *train_folds, int n_train_folds, int val_fold) {
  const char *method;
  int k = ds->n_folds;
  if (ds->esc50 && o->split_by_source > 0) {
    method = "by-source";
    k = o->split_by_source;
  } else if (ds->esc50) {
    method = "official";
  } else if (o->folds_csv) {
    method = "folds-csv";
  } else {
    method = "random";
    k = o->random_folds;
  }
  int n = 0;
  char *hash = clips_hash(ds, train_folds, n_train_folds, &n);
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "layout");
  json_builder_add_string_value(b, ds->esc50 ? "esc50" : "folders");
  json_builder_set_member_name(b, "method");
  json_builder_add_string_value(b, method);
  json_builder_set_member_name(b, "k");
  json_builder_add_int_value(b, k);
  json_builder_set_member_name(b, "seed");
  json_builder_add_int_value(b, o->seed);
  json_builder_set_member_name(b, "esc10");
  json_builder_add_boolean_value(b, o->esc10);
  if (o->folds_csv && !ds->esc50) {
    char *csv = g_canonicalize_filename(o->folds_csv, NULL);
    json_builder_set_member_name(b, "folds_csv");
    json_builder_add_string_value(b, csv);
    g_free(csv);
  }
  json_builder_set_member_name(b, "val_fold");
  json_builder_add_int_value(b, val_fold);
  json_builder_set_member_name(b, "train_folds");
  json_builder_begin_array(b);
  for (int i = 0; i < n_train_folds; i++)
    json_builder_add_int_value(b, train_folds[i]);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "train_clips");
  json_builder_add_int_value(b, n);
  json_builder_set_member_name(b, "train_clips_sha256");
  json_builder_add_string_value(b, hash);
  json_builder_end_object(b);
  JsonNode *root = json_builder_get_root(b);
  char *text = json_to_string(root, FALSE);
  json_node_unref(root);
  g_object_unref(b);
  g_free(hash);
  return text;
}

void tr_split_clear(TrSplit *s) {
  g_free(s->layout);
  g_free(s->method);
  g_free(s->folds_csv);
  g_free(s->train_folds);
  g_free(s->hash);
  memset(s, 0, sizeof *s);
}

static gboolean bad(GError **error, const char *model, const char *what) {
  g_set_error(error, SPLIT_ERROR, 1,
              "%s: the training split of its acrnn metadata is not valid "
              "(%s), expected the object acrnn-train writes",
              model, what);
  return FALSE;
}

gboolean tr_split_parse(const char *model, const char *json, TrSplit *s,
                        GError **error) {
  memset(s, 0, sizeof *s);
  JsonNode *root = json_from_string(json, NULL);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
    if (root)
      json_node_unref(root);
    return bad(error, model, "not a JSON object");
  }
  JsonObject *o = json_node_get_object(root);
  const char *strings[] = {"layout", "method", "train_clips_sha256"};
  const char *ints[] = {"k", "seed", "val_fold", "train_clips"};
  gboolean ok = json_object_has_member(o, "train_folds") &&
                JSON_NODE_HOLDS_ARRAY(json_object_get_member(o, "train_folds"));
  for (size_t i = 0; ok && i < G_N_ELEMENTS(strings); i++)
    ok = json_object_has_member(o, strings[i]) &&
         json_node_get_value_type(json_object_get_member(o, strings[i])) ==
             G_TYPE_STRING;
  for (size_t i = 0; ok && i < G_N_ELEMENTS(ints); i++)
    ok = json_object_has_member(o, ints[i]) &&
         json_node_get_value_type(json_object_get_member(o, ints[i])) ==
             G_TYPE_INT64;
  if (!ok) {
    json_node_unref(root);
    return bad(error, model, "a field is missing or of the wrong type");
  }
  s->layout = g_strdup(json_object_get_string_member(o, "layout"));
  s->method = g_strdup(json_object_get_string_member(o, "method"));
  s->hash = g_strdup(json_object_get_string_member(o, "train_clips_sha256"));
  s->k = (int)json_object_get_int_member(o, "k");
  s->seed = json_object_get_int_member(o, "seed");
  s->val_fold = (int)json_object_get_int_member(o, "val_fold");
  s->n_clips = (int)json_object_get_int_member(o, "train_clips");
  s->esc10 = json_object_has_member(o, "esc10") &&
             json_object_get_boolean_member(o, "esc10");
  if (json_object_has_member(o, "folds_csv"))
    s->folds_csv = g_strdup(json_object_get_string_member(o, "folds_csv"));
  JsonArray *a = json_object_get_array_member(o, "train_folds");
  s->n_train_folds = (int)json_array_get_length(a);
  s->train_folds = g_new0(int, s->n_train_folds + 1);
  for (int i = 0; i < s->n_train_folds; i++)
    s->train_folds[i] = (int)json_array_get_int_element(a, (guint)i);
  json_node_unref(root);
  return TRUE;
}

void tr_split_apply(const TrSplit *s, TrOptions *o) {
  o->esc10 = s->esc10;
  o->seed = s->seed;
  o->split_by_source = strcmp(s->method, "by-source") == 0 ? s->k : 0;
  if (strcmp(s->method, "random") == 0)
    o->random_folds = s->k;
  g_free(o->folds_csv);
  o->folds_csv = g_strdup(s->folds_csv);
}

char *tr_split_describe(const TrSplit *s) {
  GString *d = g_string_new(NULL);
  if (strcmp(s->method, "by-source") == 0)
    g_string_append_printf(d, "--split-by-source %d --seed %" G_GINT64_FORMAT,
                           s->k, s->seed);
  else if (strcmp(s->method, "random") == 0)
    g_string_append_printf(d, "--random-folds %d --seed %" G_GINT64_FORMAT,
                           s->k, s->seed);
  else if (strcmp(s->method, "folds-csv") == 0)
    g_string_append_printf(d, "--folds-csv %s", s->folds_csv);
  else
    g_string_append(d, "the official folds");
  if (s->esc10)
    g_string_append(d, " --esc10");
  if (s->val_fold > 0)
    g_string_append_printf(d, ", held-out fold %d", s->val_fold);
  else
    g_string_append(d, ", no held-out fold");
  g_string_append_printf(d, ", %d training clips", s->n_clips);
  return g_string_free(d, FALSE);
}

GHashTable *tr_split_training_clips(const TrSplit *s, const TrDataset *ds) {
  int n = 0;
  char *hash = clips_hash(ds, s->train_folds, s->n_train_folds, &n);
  gboolean same = n == s->n_clips && strcmp(hash, s->hash) == 0;
  g_free(hash);
  if (!same)
    return NULL;
  GHashTable *set =
      g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (size_t i = 0; i < ds->n_clips; i++)
    if (in_folds(ds->clips[i].fold, s->train_folds, s->n_train_folds))
      g_hash_table_add(set, g_strdup(ds->clips[i].name));
  return set;
}
