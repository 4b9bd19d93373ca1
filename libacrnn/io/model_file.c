/* model_file.c - loading and saving acrnn models (docs/model-file.md): the
 * network's tensors under their state_dict() names in a safetensors file with
 * an "acrnn" metadata entry; strict validation on load, atomic replacement
 * (temporary file, fsync, rename) on save in F32, F16 or BF16, extra tensors
 * and metadata for training checkpoints, read back from one open file. */
#include "model_meta.h"
#include "safetensors.h"
#include "temp_file.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Metadata key listing the extra (checkpoint) tensor names as a JSON array;
 * the loader ignores those tensors. */
#define EXTRA_TENSORS_KEY "acrnn_extra_tensors"

static char *net_shape_string(const AcrnnTensorInfo *t) {
  int64_t s[4];
  for (int i = 0; i < t->ndim && i < 4; i++)
    s[i] = t->shape[i];
  return acrnn_st_shape_string(t->ndim, s);
}

/* The one check of a tensor's values, on load and on save: every value
 * finite, and no running variance below 0. what_ starts the message
 * ("cannot save: " or ""), why ends the NaN/Inf one. */
static gboolean check_values(const char *path, const AcrnnTensorInfo *t,
                             const float *x, const char *what_, const char *why,
                             GError **error) {
  const int C = ACRNN_MODEL_ERROR_CONTENT;
  for (size_t i = 0; i < t->numel; i++)
    if (!isfinite(x[i]))
      return acrnn_io_fail(error, C, path,
                           "%stensor %s has %s value at index %zu, expected "
                           "finite weights%s",
                           what_, t->name, isnan(x[i]) ? "a NaN" : "an Inf", i,
                           why);
  if (g_str_has_suffix(t->name, ".running_var"))
    for (size_t k = 0; k < t->numel; k++)
      if (x[k] < 0.0f)
        return acrnn_io_fail(error, C, path,
                             "%stensor %s has the negative value %g at index "
                             "%zu, expected variances >= 0",
                             what_, t->name, x[k], k);
  return TRUE;
}

/* ---- loading ---- */

/* The extra tensor names a checkpoint lists, as a set (NULL if none). */
static GHashTable *extra_tensor_set(AcrnnStFile *f, GError **error) {
  const char *json = acrnn_st_meta(f, EXTRA_TENSORS_KEY);
  if (json == NULL)
    return NULL;
  GHashTable *set =
      g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  JsonParser *parser = json_parser_new();
  JsonNode *root = NULL;
  if (json_parser_load_from_data(parser, json, -1, NULL))
    root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY(root)) {
    acrnn_io_fail(error, ACRNN_MODEL_ERROR_CONTENT, acrnn_st_path(f),
                  "metadata entry %s is not a JSON array of tensor names",
                  EXTRA_TENSORS_KEY);
    g_object_unref(parser);
    g_hash_table_destroy(set);
    return NULL;
  }
  JsonArray *a = json_node_get_array(root);
  for (guint i = 0; i < json_array_get_length(a); i++) {
    const char *s = json_array_get_string_element(a, i);
    if (s)
      g_hash_table_add(set, g_strdup(s));
  }
  g_object_unref(parser);
  return set;
}

/* PyTorch's bn.N.num_batches_tracked, next to a batch norm of the net. */
static gboolean is_batches_tracked(AcrnnNet *net, const char *name) {
  const char *suffix = ".num_batches_tracked";
  size_t n = strlen(name), m = strlen(suffix);
  if (n <= m || strcmp(name + n - m, suffix) != 0)
    return FALSE;
  char *mean = g_strdup_printf("%.*s.running_mean", (int)(n - m), name);
  gboolean found = acrnn_net_find_tensor(net, mean) != NULL;
  g_free(mean);
  return found;
}

static gboolean check_extras(AcrnnStFile *f, AcrnnNet *net,
                             const AcrnnModelInfo *info, GError **error) {
  const char *path = acrnn_st_path(f);
  GError *lerr = NULL;
  GHashTable *extras = extra_tensor_set(f, &lerr);
  if (lerr) {
    g_propagate_error(error, lerr);
    return FALSE;
  }
  gboolean ok = TRUE;
  char buf[8];
  for (size_t i = 0; ok && i < acrnn_st_n_tensors(f); i++) {
    const AcrnnStTensor *t = acrnn_st_tensor(f, i);
    if (acrnn_net_find_tensor(net, t->name) != NULL)
      continue;
    if (extras && g_hash_table_contains(extras, t->name))
      continue;
    if (is_batches_tracked(net, t->name)) {
      if (t->dtype != ACRNN_ST_I64 || t->numel != 1)
        ok = acrnn_io_fail(error, ACRNN_MODEL_ERROR_CONTENT, path,
                           "tensor %s has dtype %s and %" PRIu64
                           " elements, expected one I64 value",
                           t->name, acrnn_st_dtype_name(t->dtype), t->numel);
      continue;
    }
    ok = acrnn_io_fail(error, ACRNN_MODEL_ERROR_CONTENT, path,
                       "unexpected tensor %s, expected only the tensors of the "
                       "network (attention \"%s\")",
                       t->name,
                       acrnn_attention_to_string(&info->attention, buf));
  }
  if (extras)
    g_hash_table_destroy(extras);
  return ok;
}

/* Copies every tensor of the net's table from the file, checking dtype,
 * shape and values. */
static gboolean fill_net(AcrnnStFile *f, AcrnnNet *net,
                         const AcrnnModelInfo *info, GError **error) {
  const char *path = acrnn_st_path(f);
  const int C = ACRNN_MODEL_ERROR_CONTENT;
  char buf[8];
  for (size_t i = 0; i < acrnn_net_n_tensors(net); i++) {
    const AcrnnTensorInfo *ti = acrnn_net_tensor(net, i);
    const AcrnnStTensor *t = acrnn_st_find(f, ti->name);
    char *want = net_shape_string(ti);
    gboolean ok = TRUE;
    if (t == NULL) {
      ok = acrnn_io_fail(
          error, C, path,
          "tensor %s is missing, expected shape %s (attention \"%s\", "
          "%d labels)",
          ti->name, want, acrnn_attention_to_string(&info->attention, buf),
          info->n_labels);
    } else if (t->dtype != ACRNN_ST_F32 && t->dtype != ACRNN_ST_F16 &&
               t->dtype != ACRNN_ST_BF16) {
      ok = acrnn_io_fail(error, C, path,
                         "tensor %s has dtype %s, expected F32 (or F16, BF16)",
                         ti->name, acrnn_st_dtype_name(t->dtype));
    } else {
      gboolean same = t->ndim == ti->ndim;
      for (int d = 0; same && d < ti->ndim; d++)
        same = t->shape[d] == ti->shape[d];
      if (!same) {
        char *have = acrnn_st_shape_string(t->ndim, t->shape);
        ok =
            acrnn_io_fail(error, C, path, "tensor %s has shape %s, expected %s",
                          ti->name, have, want);
        g_free(have);
      }
    }
    g_free(want);
    if (!ok)
      return FALSE;
    float *data = acrnn_net_tensor_data(net, ti);
    if (!acrnn_st_read_float(f, t, data, error))
      return FALSE;
    if (!check_values(path, ti, data, "", " (a diverged training run?)", error))
      return FALSE;
  }
  return TRUE;
}

static AcrnnNet *load_net(AcrnnStFile *f, AcrnnModelInfo *info,
                          GError **error) {
  const char *path = acrnn_st_path(f);
  const int C = ACRNN_MODEL_ERROR_CONTENT;
  const char *json = acrnn_st_meta(f, "acrnn");
  if (json == NULL) {
    acrnn_io_fail(
        error, C, path,
        "no \"acrnn\" entry in the __metadata__ of the file, expected a "
        "JSON object with the labels, feature parameters, attention, mean "
        "and std (is it an acrnn model?)");
    return NULL;
  }
  if (!acrnn_model_info_from_json(path, json, info, error))
    return NULL;
  const AcrnnStTensor *cls = acrnn_st_find(f, "classifier.weight");
  if (cls != NULL && cls->ndim == 2 && cls->shape[0] != info->n_labels) {
    acrnn_io_fail(
        error, C, path,
        "the metadata has %d labels but classifier.weight has %" PRId64
        " rows, expected one label per classifier output",
        info->n_labels, cls->shape[0]);
    return NULL;
  }
  AcrnnNetConfig cfg;
  acrnn_model_info_net_config(info, &cfg);
  GError *nerr = NULL;
  AcrnnNet *net = acrnn_net_new(&cfg, &nerr);
  if (net == NULL) {
    acrnn_io_fail(error, C, path,
                  "the metadata describes an invalid network: %s",
                  nerr ? nerr->message : "unknown error");
    g_clear_error(&nerr);
    return NULL;
  }
  if (!fill_net(f, net, info, error) || !check_extras(f, net, info, error)) {
    acrnn_net_free(net);
    return NULL;
  }
  return net;
}

struct AcrnnModelFile {
  AcrnnStFile *st;
};

AcrnnModelFile *acrnn_model_file_open(const char *path, GError **error) {
  g_return_val_if_fail(path != NULL, NULL);
  AcrnnStFile *st = acrnn_st_open(path, error);
  if (st == NULL)
    return NULL;
  AcrnnModelFile *f = g_new0(AcrnnModelFile, 1);
  f->st = st;
  return f;
}

void acrnn_model_file_close(AcrnnModelFile *f) {
  if (f == NULL)
    return;
  acrnn_st_close(f->st);
  g_free(f);
}

const char *acrnn_model_file_path(const AcrnnModelFile *f) {
  g_return_val_if_fail(f != NULL, NULL);
  return acrnn_st_path(f->st);
}

const char *acrnn_model_file_meta(const AcrnnModelFile *f, const char *key) {
  g_return_val_if_fail(f != NULL && key != NULL, NULL);
  return acrnn_st_meta(f->st, key);
}

AcrnnNet *acrnn_model_file_load(AcrnnModelFile *f, AcrnnModelInfo *info,
                                GError **error) {
  g_return_val_if_fail(f != NULL, NULL);
  AcrnnModelInfo tmp;
  acrnn_model_info_init(&tmp);
  if (info)
    acrnn_model_info_init(info);
  AcrnnNet *net = load_net(f->st, &tmp, error);
  if (net && info)
    *info = tmp;
  else
    acrnn_model_info_clear(&tmp);
  return net;
}

AcrnnNet *acrnn_model_load(const char *path, AcrnnModelInfo *info,
                           GError **error) {
  g_return_val_if_fail(path != NULL, NULL);
  if (info)
    acrnn_model_info_init(info);
  AcrnnModelFile *f = acrnn_model_file_open(path, error);
  if (f == NULL)
    return NULL;
  AcrnnNet *net = acrnn_model_file_load(f, info, error);
  acrnn_model_file_close(f);
  return net;
}

float *acrnn_model_file_read_extra(AcrnnModelFile *f, const char *name,
                                   size_t *numel, GError **error) {
  g_return_val_if_fail(f != NULL && name != NULL, NULL);
  const char *path = acrnn_st_path(f->st);
  const AcrnnStTensor *t = acrnn_st_find(f->st, name);
  if (t == NULL) {
    acrnn_io_fail(error, ACRNN_MODEL_ERROR_CONTENT, path,
                  "no tensor %s, expected a checkpoint saved with it", name);
    return NULL;
  }
  if (t->numel > SIZE_MAX / sizeof(float)) {
    acrnn_io_fail(error, ACRNN_MODEL_ERROR_CONTENT, path,
                  "tensor %s is too large", name);
    return NULL;
  }
  float *out = g_try_new(float, MAX((size_t)t->numel, 1));
  if (out == NULL) {
    acrnn_io_fail(error, ACRNN_MODEL_ERROR_IO, path,
                  "out of memory reading tensor %s", name);
    return NULL;
  }
  if (!acrnn_st_read_float(f->st, t, out, error)) {
    g_free(out);
    return NULL;
  }
  if (numel)
    *numel = (size_t)t->numel;
  return out;
}

/* ---- saving ---- */

static gboolean check_net_matches(const char *path, AcrnnNet *net,
                                  const AcrnnModelInfo *info, GError **error) {
  const AcrnnNetConfig *cfg = acrnn_net_config(net);
  char a[8], b[8];
  const int C = ACRNN_MODEL_ERROR_CONTENT;
  if (cfg->n_classes != info->n_labels)
    return acrnn_io_fail(
        error, C, path,
        "cannot save: the network has %d classes but the model info "
        "has %d labels, expected one label per class",
        cfg->n_classes, info->n_labels);
  if (cfg->bands != info->features.bands)
    return acrnn_io_fail(
        error, C, path,
        "cannot save: the network has %d input bands but the feature "
        "parameters have %d",
        cfg->bands, info->features.bands);
  if (cfg->frames != info->segment_frames)
    return acrnn_io_fail(
        error, C, path,
        "cannot save: the network takes %d frames but the model info "
        "has segment_frames %d",
        cfg->frames, info->segment_frames);
  if (cfg->attention.kind != info->attention.kind ||
      (cfg->attention.kind == ACRNN_ATTENTION_CNN &&
       cfg->attention.cnn_layer != info->attention.cnn_layer))
    return acrnn_io_fail(
        error, C, path,
        "cannot save: the network has attention \"%s\" but the model "
        "info says \"%s\"",
        acrnn_attention_to_string(&cfg->attention, a),
        acrnn_attention_to_string(&info->attention, b));
  for (size_t i = 0; i < acrnn_net_n_tensors(net); i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(net, i);
    const float *x = acrnn_net_tensor_values(net, t);
    if (!check_values(path, t, x, "cannot save: ", "", error))
      return FALSE;
  }
  return TRUE;
}

static gboolean check_extras_arg(const char *path, AcrnnNet *net,
                                 const AcrnnModelExtras *x, GError **error) {
  const int C = ACRNN_MODEL_ERROR_CONTENT;
  if (x == NULL)
    return TRUE;
  if ((x->n_tensors > 0 && x->tensors == NULL) ||
      (x->n_meta > 0 && x->meta == NULL))
    return acrnn_io_fail(error, C, path,
                         "cannot save: %zu extra tensors and %zu metadata "
                         "entries announced but no array given",
                         x->n_tensors, x->n_meta);
  for (size_t i = 0; i < x->n_tensors; i++) {
    const char *name = x->tensors[i].name;
    if (name == NULL || (x->tensors[i].data == NULL && x->tensors[i].numel))
      return acrnn_io_fail(error, C, path,
                           "cannot save: extra tensor %zu has no name or no "
                           "data",
                           i);
    if (acrnn_net_find_tensor(net, name) != NULL ||
        is_batches_tracked(net, name) || strcmp(name, "__metadata__") == 0)
      return acrnn_io_fail(
          error, C, path,
          "cannot save: extra tensor name %s clashes with a network "
          "tensor, expected a distinct name",
          name);
    for (size_t j = 0; j < i; j++)
      if (strcmp(name, x->tensors[j].name) == 0)
        return acrnn_io_fail(error, C, path,
                             "cannot save: extra tensor name %s is used twice",
                             name);
  }
  for (size_t i = 0; i < x->n_meta; i++) {
    const char *key = x->meta[i].key;
    if (key == NULL || x->meta[i].value == NULL)
      return acrnn_io_fail(error, C, path,
                           "cannot save: extra metadata entry %zu (%s) has no "
                           "key or no value",
                           i, key ? key : "no key");
    if (strcmp(key, "acrnn") == 0 || strcmp(key, EXTRA_TENSORS_KEY) == 0 ||
        strcmp(key, "format") == 0)
      return acrnn_io_fail(error, C, path,
                           "cannot save: extra metadata key %s is reserved",
                           key);
    for (size_t j = 0; j < i; j++)
      if (strcmp(key, x->meta[j].key) == 0)
        return acrnn_io_fail(error, C, path,
                             "cannot save: extra metadata key %s is used twice",
                             key);
  }
  return TRUE;
}

/* Writes through path.tmp-XXXXXX in the same directory (locked while it is
 * written, temp_file.h), fsync, rename; first removes what killed saves of
 * path left. */
static gboolean write_atomically(const char *path, const AcrnnStEntry *e,
                                 size_t n, const char *const *meta,
                                 GError **error) {
  acrnn_temp_file_remove_stale(path);
  char *tmp = NULL;
  int fd = acrnn_temp_file_create(path, &tmp);
  if (fd < 0) {
    int err = errno;
    acrnn_io_fail(error, ACRNN_MODEL_ERROR_IO, path,
                  "cannot create a temporary file next to it: %s",
                  g_strerror(err));
    return FALSE;
  }
  /* the lock lasts while a descriptor of the file is open: this one stays
   * open until the rename, so that no other save takes the file for a
   * leftover after the close */
  int hold = dup(fd);
  gboolean ok = acrnn_st_write_fd(fd, path, e, n, meta, error);
  if (ok && fsync(fd) != 0) {
    int err = errno;
    ok = acrnn_io_fail(error, ACRNN_MODEL_ERROR_IO, path,
                       "cannot write to disk: %s", g_strerror(err));
  }
  if (close(fd) != 0 && ok) {
    int err = errno;
    ok = acrnn_io_fail(error, ACRNN_MODEL_ERROR_IO, path, "cannot write: %s",
                       g_strerror(err));
  }
  if (ok && rename(tmp, path) != 0) {
    int err = errno;
    ok = acrnn_io_fail(error, ACRNN_MODEL_ERROR_IO, path,
                       "cannot replace the file with the new model: %s",
                       g_strerror(err));
  }
  if (!ok) {
    unlink(tmp);
  } else {
    /* Make the rename durable (best effort). */
    char *dir = g_path_get_dirname(path);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      (void)fsync(dfd);
      close(dfd);
    }
    g_free(dir);
  }
  if (hold >= 0)
    close(hold);
  g_free(tmp);
  return ok;
}

/* The net's tensors converted to 16-bit dtype (F16 or BF16), one
 * g_malloc'd array each, into halves[]; fails on a value F16 cannot hold. */
static gboolean convert_tensors(const char *path, AcrnnNet *net,
                                AcrnnStDtype dtype, uint16_t **halves,
                                GError **error) {
  for (size_t i = 0; i < acrnn_net_n_tensors(net); i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(net, i);
    const float *x = acrnn_net_tensor_values(net, t);
    uint16_t *h = g_new(uint16_t, MAX(t->numel, 1));
    halves[i] = h;
    for (size_t k = 0; k < t->numel; k++) {
      if (dtype == ACRNN_ST_BF16) {
        h[k] = acrnn_st_float_to_bf16(x[k]);
        continue;
      }
      h[k] = acrnn_st_float_to_f16(x[k]);
      if ((h[k] & 0x7fffu) == 0x7c00u) /* a finite value became Inf */
        return acrnn_io_fail(
            error, ACRNN_MODEL_ERROR_CONTENT, path,
            "cannot save as F16: tensor %s has the value %g at index %zu, "
            "beyond the F16 range (|x| <= 65504); save as F32 or BF16",
            t->name, x[k], k);
    }
  }
  return TRUE;
}

static gboolean save_impl(const char *path, AcrnnNet *net,
                          const AcrnnModelInfo *info, AcrnnModelDtype dtype,
                          const AcrnnModelExtras *extras, GError **error) {
  g_return_val_if_fail(path != NULL && net != NULL && info != NULL, FALSE);
  if (dtype != ACRNN_MODEL_DTYPE_F32 && dtype != ACRNN_MODEL_DTYPE_F16 &&
      dtype != ACRNN_MODEL_DTYPE_BF16)
    return acrnn_io_fail(error, ACRNN_MODEL_ERROR_CONTENT, path,
                         "cannot save: unknown model dtype %d, expected F32, "
                         "F16 or BF16",
                         (int)dtype);
  if (!acrnn_model_info_validate(path, info, error) ||
      !check_net_matches(path, net, info, error) ||
      !check_extras_arg(path, net, extras, error))
    return FALSE;
  AcrnnStDtype st = dtype == ACRNN_MODEL_DTYPE_F16    ? ACRNN_ST_F16
                    : dtype == ACRNN_MODEL_DTYPE_BF16 ? ACRNN_ST_BF16
                                                      : ACRNN_ST_F32;

  size_t n_net = acrnn_net_n_tensors(net);
  size_t n_extra = extras ? extras->n_tensors : 0;
  uint16_t **halves = NULL;
  if (st != ACRNN_ST_F32) {
    halves = g_new0(uint16_t *, n_net);
    if (!convert_tensors(path, net, st, halves, error)) {
      for (size_t i = 0; i < n_net; i++)
        g_free(halves[i]);
      g_free(halves);
      return FALSE;
    }
  }
  AcrnnStEntry *e = g_new0(AcrnnStEntry, n_net + n_extra);
  for (size_t i = 0; i < n_net; i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(net, i);
    e[i].name = t->name;
    e[i].dtype = st;
    e[i].ndim = t->ndim;
    for (int d = 0; d < t->ndim; d++)
      e[i].shape[d] = t->shape[d];
    e[i].data = halves ? (const void *)halves[i]
                       : (const void *)acrnn_net_tensor_values(net, t);
  }
  JsonArray *names = json_array_new();
  for (size_t i = 0; i < n_extra; i++) {
    AcrnnStEntry *x = &e[n_net + i];
    const AcrnnModelTensor *t = &extras->tensors[i];
    x->name = t->name;
    x->dtype = ACRNN_ST_F32;
    x->ndim = 1;
    x->shape[0] = (int64_t)t->numel;
    x->data = t->data;
    json_array_add_string_element(names, t->name);
  }

  GPtrArray *meta = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(meta, g_strdup("format"));
  g_ptr_array_add(meta, g_strdup("pt"));
  g_ptr_array_add(meta, g_strdup("acrnn"));
  g_ptr_array_add(meta, acrnn_model_info_to_json(info));
  if (n_extra > 0) {
    JsonNode *node = json_node_new(JSON_NODE_ARRAY);
    json_node_set_array(node, names);
    g_ptr_array_add(meta, g_strdup(EXTRA_TENSORS_KEY));
    g_ptr_array_add(meta, json_to_string(node, FALSE));
    json_node_unref(node);
  }
  json_array_unref(names);
  for (size_t i = 0; extras && i < extras->n_meta; i++) {
    g_ptr_array_add(meta, g_strdup(extras->meta[i].key));
    g_ptr_array_add(meta, g_strdup(extras->meta[i].value));
  }
  g_ptr_array_add(meta, NULL);

  gboolean ok = write_atomically(path, e, n_net + n_extra,
                                 (const char *const *)meta->pdata, error);
  g_ptr_array_unref(meta);
  g_free(e);
  for (size_t i = 0; halves && i < n_net; i++)
    g_free(halves[i]);
  g_free(halves);
  return ok;
}

gboolean acrnn_model_save_full(const char *path, AcrnnNet *net,
                               const AcrnnModelInfo *info,
                               const AcrnnModelExtras *extras, GError **error) {
  return save_impl(path, net, info, ACRNN_MODEL_DTYPE_F32, extras, error);
}

gboolean acrnn_model_save(const char *path, AcrnnNet *net,
                          const AcrnnModelInfo *info, GError **error) {
  return save_impl(path, net, info, ACRNN_MODEL_DTYPE_F32, NULL, error);
}

gboolean acrnn_model_save_as(const char *path, AcrnnNet *net,
                             const AcrnnModelInfo *info, AcrnnModelDtype dtype,
                             GError **error) {
  return save_impl(path, net, info, dtype, NULL, error);
}
