/* model_info.c - AcrnnModelInfo: defaults, copies, the network configuration
 * it implies, its "acrnn" metadata JSON (docs/model-file.md) and where the
 * bundled model lives. */
#define _GNU_SOURCE /* dladdr */
#include "fail.h"
#include "model_meta.h"
#include <dlfcn.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ACRNN_MODEL_VERSION 1

void acrnn_model_info_init(AcrnnModelInfo *info) {
  memset(info, 0, sizeof *info);
  info->version = ACRNN_MODEL_VERSION;
  info->labels = NULL;
  info->n_labels = 0;
  acrnn_feature_params_init(&info->features);
  info->segment_frames = 128;
  info->segment_hop = 64;
  info->attention.kind = ACRNN_ATTENTION_RNN;
  info->attention.cnn_layer = 0;
  info->mean[0] = info->mean[1] = 0.0f;
  info->std[0] = info->std[1] = 1.0f;
}

void acrnn_model_info_clear(AcrnnModelInfo *info) {
  if (info == NULL)
    return;
  g_strfreev(info->labels);
  info->labels = NULL;
  info->n_labels = 0;
  g_clear_pointer(&info->split, g_free);
}

void acrnn_model_info_copy(AcrnnModelInfo *dst, const AcrnnModelInfo *src) {
  *dst = *src;
  dst->labels = src->labels ? g_strdupv(src->labels) : NULL;
  dst->split = g_strdup(src->split);
}

void acrnn_model_info_net_config(const AcrnnModelInfo *info,
                                 AcrnnNetConfig *cfg) {
  acrnn_net_config_init(cfg);
  cfg->bands = info->features.bands;
  cfg->frames = info->segment_frames;
  cfg->n_classes = info->n_labels;
  cfg->attention = info->attention;
}

/* TRUE when this code runs from the build tree (the library or a test
 * program under ACRNN_BUILD_ROOT), not from an installation. */
static gboolean running_from_build_tree(void) {
  Dl_info where;
  if (!dladdr((void *)acrnn_model_default_path, &where) || !where.dli_fname)
    return FALSE;
  char *real = realpath(where.dli_fname, NULL);
  char *root = realpath(ACRNN_BUILD_ROOT, NULL);
  gboolean inside = real && root && g_str_has_prefix(real, root) &&
                    (real[strlen(root)] == '/' || real[strlen(root)] == 0);
  free(real);
  free(root);
  return inside;
}

char *acrnn_model_default_path(void) {
  const char *env = g_getenv("ACRNN_MODEL");
  if (env != NULL && env[0] != '\0')
    return g_strdup(env);
  if (running_from_build_tree()) /* the source tree's bundled model */
    return g_build_filename(ACRNN_SOURCE_ROOT, "models",
                            "esc50-acrnn.safetensors", NULL);
  return g_build_filename(ACRNN_DATADIR, "esc50-acrnn.safetensors", NULL);
}

/* A model content error "path: message"; FALSE. */
#define fail(error, path, ...)                                                 \
  acrnn_fail(error, ACRNN_MODEL_ERROR, ACRNN_MODEL_ERROR_CONTENT, path,        \
             __VA_ARGS__)

gboolean acrnn_model_info_validate(const char *path, const AcrnnModelInfo *info,
                                   GError **error) {
  if (info->version != ACRNN_MODEL_VERSION)
    return fail(error, path,
                "acrnn metadata version %d is not supported, expected %d",
                info->version, ACRNN_MODEL_VERSION);
  if (info->n_labels < 1 || info->labels == NULL ||
      g_strv_length(info->labels) != (guint)info->n_labels)
    return fail(error, path,
                "acrnn metadata has %d labels, expected at least one class "
                "name (and labels[] to hold n_labels strings)",
                info->n_labels);
  GError *ferr = NULL;
  if (!acrnn_feature_params_validate(&info->features, &ferr)) {
    fail(error, path, "acrnn metadata: %s", ferr->message);
    g_error_free(ferr);
    return FALSE;
  }
  if (info->segment_frames < 1 || info->segment_frames > 1000000)
    return fail(error, path,
                "acrnn metadata segment_frames = %d, expected a positive "
                "number of frames (default 128)",
                info->segment_frames);
  if (info->segment_hop < 1 || info->segment_hop > info->segment_frames)
    return fail(error, path,
                "acrnn metadata segment_hop = %d, expected 1 to "
                "segment_frames (%d)",
                info->segment_hop, info->segment_frames);
  char buf[8];
  GError *aerr = NULL;
  AcrnnAttention att;
  if (!acrnn_attention_parse(acrnn_attention_to_string(&info->attention, buf),
                             &att, &aerr)) {
    fail(error, path, "acrnn metadata attention: %s", aerr->message);
    g_error_free(aerr);
    return FALSE;
  }
  for (int c = 0; c < 2; c++) {
    if (!isfinite(info->mean[c]))
      return fail(error, path,
                  "acrnn metadata mean[%d] = %g, expected a finite number", c,
                  info->mean[c]);
    if (!isfinite(info->std[c]) || !(info->std[c] > 0.0f))
      return fail(error, path,
                  "acrnn metadata std[%d] = %g, expected a finite number "
                  "above 0",
                  c, info->std[c]);
  }
  return TRUE;
}

char *acrnn_model_info_to_json(const AcrnnModelInfo *info) {
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "version");
  json_builder_add_int_value(b, info->version);
  json_builder_set_member_name(b, "labels");
  json_builder_begin_array(b);
  for (int i = 0; info->labels && i < info->n_labels; i++)
    json_builder_add_string_value(b, info->labels[i]);
  json_builder_end_array(b);
  const AcrnnFeatureParams *p = &info->features;
  json_builder_set_member_name(b, "sample_rate");
  json_builder_add_int_value(b, p->sample_rate);
  json_builder_set_member_name(b, "n_fft");
  json_builder_add_int_value(b, p->n_fft);
  json_builder_set_member_name(b, "hop");
  json_builder_add_int_value(b, p->hop);
  json_builder_set_member_name(b, "bands");
  json_builder_add_int_value(b, p->bands);
  json_builder_set_member_name(b, "fmin");
  json_builder_add_double_value(b, p->fmin);
  json_builder_set_member_name(b, "fmax");
  json_builder_add_double_value(b, p->fmax);
  json_builder_set_member_name(b, "delta_width");
  json_builder_add_int_value(b, p->delta_width);
  json_builder_set_member_name(b, "filterbank");
  json_builder_add_string_value(b, acrnn_filterbank_to_string(p->filterbank));
  json_builder_set_member_name(b, "segment_frames");
  json_builder_add_int_value(b, info->segment_frames);
  json_builder_set_member_name(b, "segment_hop");
  json_builder_add_int_value(b, info->segment_hop);
  char buf[8];
  json_builder_set_member_name(b, "attention");
  json_builder_add_string_value(
      b, acrnn_attention_to_string(&info->attention, buf));
  json_builder_set_member_name(b, "mean");
  json_builder_begin_array(b);
  json_builder_add_double_value(b, info->mean[0]);
  json_builder_add_double_value(b, info->mean[1]);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "std");
  json_builder_begin_array(b);
  json_builder_add_double_value(b, info->std[0]);
  json_builder_add_double_value(b, info->std[1]);
  json_builder_end_array(b);
  JsonNode *split = info->split ? json_from_string(info->split, NULL) : NULL;
  if (split != NULL && JSON_NODE_HOLDS_OBJECT(split)) {
    json_builder_set_member_name(b, "split");
    json_builder_add_value(b, split); /* takes it */
  } else if (split != NULL) {
    json_node_unref(split);
  }
  json_builder_end_object(b);

  JsonNode *root = json_builder_get_root(b);
  JsonGenerator *gen = json_generator_new();
  json_generator_set_root(gen, root);
  char *text = json_generator_to_data(gen, NULL);
  g_object_unref(gen);
  json_node_unref(root);
  g_object_unref(b);
  return text;
}

/* ---- reading ---- */

static gboolean get_number(JsonNode *n, double *out) {
  if (n == NULL || !JSON_NODE_HOLDS_VALUE(n))
    return FALSE;
  GType t = json_node_get_value_type(n);
  if (t == G_TYPE_INT64)
    *out = (double)json_node_get_int(n);
  else if (t == G_TYPE_DOUBLE)
    *out = json_node_get_double(n);
  else
    return FALSE;
  return isfinite(*out);
}

static gboolean get_int_field(const char *path, JsonObject *o, const char *key,
                              gboolean optional, int *out, GError **error) {
  JsonNode *n = json_object_get_member(o, key);
  if (n == NULL && optional)
    return TRUE;
  if (n == NULL)
    return fail(error, path,
                "acrnn metadata has no \"%s\" field, expected an integer", key);
  double v;
  if (!get_number(n, &v) || v != floor(v) || v < G_MININT || v > G_MAXINT)
    return fail(error, path,
                "acrnn metadata field \"%s\" is not an integer, expected an "
                "integer",
                key);
  *out = (int)v;
  return TRUE;
}

static gboolean get_double_field(const char *path, JsonObject *o,
                                 const char *key, double *out, GError **error) {
  JsonNode *n = json_object_get_member(o, key);
  if (n == NULL)
    return fail(error, path,
                "acrnn metadata has no \"%s\" field, expected a number", key);
  if (!get_number(n, out))
    return fail(error, path,
                "acrnn metadata field \"%s\" is not a finite number", key);
  return TRUE;
}

static gboolean get_pair(const char *path, JsonObject *o, const char *key,
                         float out[2], GError **error) {
  JsonNode *n = json_object_get_member(o, key);
  if (n == NULL)
    return fail(error, path,
                "acrnn metadata has no \"%s\" field, expected 2 numbers (log "
                "and delta channel)",
                key);
  JsonArray *a = JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
  double v[2];
  if (a == NULL || json_array_get_length(a) != 2 ||
      !get_number(json_array_get_element(a, 0), &v[0]) ||
      !get_number(json_array_get_element(a, 1), &v[1]))
    return fail(error, path,
                "acrnn metadata field \"%s\" is not an array of 2 finite "
                "numbers (log and delta channel)",
                key);
  out[0] = (float)v[0];
  out[1] = (float)v[1];
  return TRUE;
}

static gboolean get_labels(const char *path, JsonObject *o,
                           AcrnnModelInfo *info, GError **error) {
  JsonNode *n = json_object_get_member(o, "labels");
  if (n == NULL || !JSON_NODE_HOLDS_ARRAY(n))
    return fail(error, path,
                "acrnn metadata has no \"labels\" array, expected the class "
                "names (index = class id)");
  JsonArray *a = json_node_get_array(n);
  guint len = json_array_get_length(a);
  if (len < 1)
    return fail(error, path,
                "acrnn metadata has 0 labels, expected at least one class "
                "name");
  if (len > 1000000)
    return fail(error, path, "acrnn metadata has %u labels, too many", len);
  char **labels = g_new0(char *, len + 1);
  for (guint i = 0; i < len; i++) {
    JsonNode *e = json_array_get_element(a, i);
    if (!JSON_NODE_HOLDS_VALUE(e) ||
        json_node_get_value_type(e) != G_TYPE_STRING) {
      g_strfreev(labels);
      return fail(error, path,
                  "acrnn metadata label %u is not a string, expected class "
                  "names",
                  i);
    }
    labels[i] = g_strdup(json_node_get_string(e));
  }
  info->labels = labels;
  info->n_labels = (int)len;
  return TRUE;
}

/* "filterbank" is optional (models without it are gammatone models). */
static gboolean get_filterbank(const char *path, JsonObject *o,
                               AcrnnFeatureParams *p, GError **error) {
  JsonNode *n = json_object_get_member(o, "filterbank");
  p->filterbank = ACRNN_FILTERBANK_GAMMATONE;
  if (n == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
    return fail(error, path,
                "acrnn metadata field \"filterbank\" is not a string, "
                "expected \"gammatone\" or \"mel\"");
  GError *ferr = NULL;
  if (!acrnn_filterbank_parse(json_node_get_string(n), &p->filterbank, &ferr)) {
    fail(error, path, "acrnn metadata: %s", ferr->message);
    g_error_free(ferr);
    return FALSE;
  }
  return TRUE;
}

/* "split" is optional (models written before it, or not by acrnn-train);
 * kept as the text of its JSON object. */
static gboolean get_split(const char *path, JsonObject *o, AcrnnModelInfo *info,
                          GError **error) {
  JsonNode *n = json_object_get_member(o, "split");
  if (n == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT(n))
    return fail(error, path,
                "acrnn metadata field \"split\" is not a JSON object, "
                "expected the training split acrnn-train records");
  info->split = json_to_string(n, FALSE);
  return TRUE;
}

static gboolean parse_object(const char *path, JsonObject *o,
                             AcrnnModelInfo *info, GError **error) {
  AcrnnFeatureParams *p = &info->features;
  if (!get_int_field(path, o, "version", FALSE, &info->version, error))
    return FALSE;
  if (info->version != ACRNN_MODEL_VERSION)
    return fail(error, path,
                "acrnn metadata version %d is not supported, expected %d",
                info->version, ACRNN_MODEL_VERSION);
  if (!get_labels(path, o, info, error) ||
      !get_int_field(path, o, "sample_rate", FALSE, &p->sample_rate, error) ||
      !get_int_field(path, o, "n_fft", FALSE, &p->n_fft, error) ||
      !get_int_field(path, o, "hop", FALSE, &p->hop, error) ||
      !get_int_field(path, o, "bands", FALSE, &p->bands, error) ||
      !get_double_field(path, o, "fmin", &p->fmin, error) ||
      !get_double_field(path, o, "fmax", &p->fmax, error) ||
      !get_int_field(path, o, "delta_width", TRUE, &p->delta_width, error) ||
      !get_int_field(path, o, "segment_frames", FALSE, &info->segment_frames,
                     error) ||
      !get_int_field(path, o, "segment_hop", FALSE, &info->segment_hop,
                     error) ||
      !get_pair(path, o, "mean", info->mean, error) ||
      !get_pair(path, o, "std", info->std, error))
    return FALSE;
  JsonNode *an = json_object_get_member(o, "attention");
  if (an == NULL || !JSON_NODE_HOLDS_VALUE(an) ||
      json_node_get_value_type(an) != G_TYPE_STRING)
    return fail(error, path,
                "acrnn metadata has no \"attention\" string, expected \"rnn\", "
                "\"none\" or \"cnn:N\" (N = 2, 4, 6, 8)");
  GError *aerr = NULL;
  if (!acrnn_attention_parse(json_node_get_string(an), &info->attention,
                             &aerr)) {
    fail(error, path, "acrnn metadata attention \"%s\": %s",
         json_node_get_string(an), aerr->message);
    g_error_free(aerr);
    return FALSE;
  }
  return get_filterbank(path, o, p, error) && get_split(path, o, info, error) &&
         acrnn_model_info_validate(path, info, error);
}

gboolean acrnn_model_info_from_json(const char *path, const char *json,
                                    AcrnnModelInfo *info, GError **error) {
  JsonParser *parser = json_parser_new();
  GError *jerr = NULL;
  gboolean ok;
  if (!json_parser_load_from_data(parser, json, -1, &jerr)) {
    ok = fail(error, path,
              "the \"acrnn\" metadata entry is not valid JSON (%s), expected "
              "a JSON object",
              jerr->message);
    g_error_free(jerr);
  } else {
    JsonNode *root = json_parser_get_root(parser);
    if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
      ok = fail(error, path,
                "the \"acrnn\" metadata entry is not a JSON object");
    else
      ok = parse_object(path, json_node_get_object(root), info, error);
  }
  g_object_unref(parser);
  if (!ok)
    acrnn_model_info_clear(info);
  return ok;
}
