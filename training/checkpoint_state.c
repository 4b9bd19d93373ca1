/* checkpoint_state.c - the training state of a checkpoint as one JSON
 * object, described once by a table of its fields: written by
 * tr_checkpoint_state_to_json(), read back from the open file, or from
 * the one-entry-per-field layout of acrnn 0.3.0. */
#include "checkpoint_state.h"
#include <json-glib/json-glib.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#define CKPT_ERROR (g_quark_from_static_string("acrnn-train-error"))
/* acrnn 0.3.0: one entry per field, "acrnn-train.<name>" */
#define LEGACY_PREFIX TR_CHECKPOINT_STATE_KEY "."

typedef enum { COUNT, FIGURE } FieldKind;

typedef struct {
  const char *name;
  FieldKind kind;
  size_t offset;
} Field;

#define FIELD(n, k, m)                                                         \
  { n, k, offsetof(TrCheckpointState, m) }
static const Field fields[] = {
    FIELD("epoch", COUNT, epoch),
    FIELD("step", COUNT, step),
    FIELD("best_accuracy", FIGURE, best_acc),
    FIELD("best_epoch", COUNT, best_epoch),
    FIELD("epoch_loss", FIGURE, ep_loss),
    FIELD("epoch_correct", FIGURE, ep_correct),
    FIELD("epoch_seen", FIGURE, ep_seen),
    FIELD("epoch_elapsed", FIGURE, ep_elapsed),
    FIELD("elapsed", FIGURE, total_s),
};

void tr_checkpoint_state_init(TrCheckpointState *st) {
  memset(st, 0, sizeof *st);
  st->best_acc = -1;
}

void tr_checkpoint_state_clear(TrCheckpointState *st) {
  g_clear_pointer(&st->options, g_free);
}

static int *count_of(TrCheckpointState *st, const Field *f) {
  return (int *)((char *)st + f->offset);
}

static double *figure_of(TrCheckpointState *st, const Field *f) {
  return (double *)((char *)st + f->offset);
}

static void rng_to_hex(const AcrnnRng *r, char out[65]) {
  g_snprintf(out, 65,
             "%016" G_GINT64_MODIFIER "x%016" G_GINT64_MODIFIER
             "x%016" G_GINT64_MODIFIER "x%016" G_GINT64_MODIFIER "x",
             (guint64)r->s[0], (guint64)r->s[1], (guint64)r->s[2],
             (guint64)r->s[3]);
}

static gboolean rng_from_hex(const char *hex, AcrnnRng *r) {
  if (!hex || strlen(hex) != 64)
    return FALSE;
  for (int i = 0; i < 4; i++) {
    char part[17];
    memcpy(part, hex + 16 * i, 16);
    part[16] = 0;
    char *end;
    if (!g_ascii_isxdigit(part[0]))
      return FALSE;
    r->s[i] = g_ascii_strtoull(part, &end, 16);
    if (*end)
      return FALSE;
  }
  return TRUE;
}

/* Written by hand: JSON-GLib's generator turns 1e-300 into "1e-300.0",
 * which no parser reads. */
char *tr_checkpoint_state_to_json(const TrCheckpointState *st) {
  TrCheckpointState *s = (TrCheckpointState *)st;
  GString *j = g_string_new("{\"version\": 2");
  for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
    g_string_append_printf(j, ", \"%s\": ", fields[i].name);
    if (fields[i].kind == COUNT) {
      g_string_append_printf(j, "%d", *count_of(s, &fields[i]));
      continue;
    }
    /* "%.17g" reads back bit for bit; JSON has no NaN or Inf: those go as
     * text ("nan", "inf") */
    double v = *figure_of(s, &fields[i]);
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_dtostr(buf, sizeof buf, v);
    g_string_append_printf(j, isfinite(v) ? "%s" : "\"%s\"", buf);
  }
  char hex[65];
  rng_to_hex(&st->rng, hex);
  g_string_append_printf(j, ", \"rng\": \"%s\", \"options\": %s}", hex,
                         st->options ? st->options : "null");
  return g_string_free(j, FALSE);
}

/* Sets field f of st from text (a legacy entry) or a JSON value. */
static gboolean set_field(TrCheckpointState *st, const Field *f,
                          const char *text, JsonNode *v, const char *path,
                          const char *entry, GError **error) {
  double d = NAN;
  gboolean number = FALSE;
  if (v && JSON_NODE_HOLDS_VALUE(v) &&
      json_node_get_value_type(v) != G_TYPE_STRING &&
      json_node_get_value_type(v) != G_TYPE_BOOLEAN) {
    d = json_node_get_double(v);
    number = TRUE;
  } else if (v && JSON_NODE_HOLDS_VALUE(v) &&
             json_node_get_value_type(v) == G_TYPE_STRING) {
    text = json_node_get_string(v);
  }
  if (!number && text) {
    char *end;
    d = g_ascii_strtod(text, &end);
    number = end != text && *end == 0;
  }
  if (!number)
    return g_set_error(error, CKPT_ERROR, 1,
                       "%s: checkpoint entry %s%s%s = \"%s\" is not a number",
                       path, entry, v ? "." : "", v ? f->name : "",
                       text ? text : "(not a number)"),
           FALSE;
  if (f->kind == FIGURE) {
    *figure_of(st, f) = d;
    return TRUE;
  }
  /* a count: a whole number in 0..G_MAXINT, so that the conversion to int
   * is defined */
  if (!(d >= 0 && d <= G_MAXINT && d == floor(d)))
    return g_set_error(error, CKPT_ERROR, 1,
                       "%s: checkpoint entry %s%s%s = %g: expected a whole "
                       "number from 0 to %d",
                       path, entry, v ? "." : "", v ? f->name : "", d,
                       G_MAXINT),
           FALSE;
  *count_of(st, f) = (int)d;
  return TRUE;
}

static gboolean bad_rng(const char *path, const char *entry, GError **error) {
  g_set_error(error, CKPT_ERROR, 1,
              "%s: checkpoint entry %s is not 64 hex digits", path, entry);
  return FALSE;
}

/* The layout of acrnn 0.3.0: acrnn-train.epoch, .step, ..., .rng and
 * .options, each its own metadata entry. */
static gboolean read_legacy(AcrnnModelFile *f, TrCheckpointState *st,
                            GError **error) {
  const char *path = acrnn_model_file_path(f);
  for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
    char *key = g_strconcat(LEGACY_PREFIX, fields[i].name, NULL);
    const char *v = acrnn_model_file_meta(f, key);
    gboolean ok =
        v ? set_field(st, &fields[i], v, NULL, path, key, error)
          : (g_set_error(error, ACRNN_MODEL_ERROR, ACRNN_MODEL_ERROR_CONTENT,
                         "%s: no metadata entry \"%s\" in the file", path, key),
             FALSE);
    g_free(key);
    if (!ok)
      return FALSE;
  }
  const char *rng_key = LEGACY_PREFIX "rng";
  const char *opt_key = LEGACY_PREFIX "options";
  const char *rng = acrnn_model_file_meta(f, rng_key);
  const char *options = acrnn_model_file_meta(f, opt_key);
  if (!rng || !options) {
    g_set_error(error, ACRNN_MODEL_ERROR, ACRNN_MODEL_ERROR_CONTENT,
                "%s: no metadata entry \"%s\" in the file", path,
                rng ? opt_key : rng_key);
    return FALSE;
  }
  if (!rng_from_hex(rng, &st->rng))
    return bad_rng(path, rng_key, error);
  st->options = g_strdup(options);
  return TRUE;
}

static gboolean read_object(const char *path, JsonObject *o,
                            TrCheckpointState *st, GError **error) {
  const char *key = TR_CHECKPOINT_STATE_KEY;
  for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
    JsonNode *v = json_object_get_member(o, fields[i].name);
    if (!v) {
      g_set_error(error, CKPT_ERROR, 1,
                  "%s: checkpoint entry %s has no \"%s\", expected %s", path,
                  key, fields[i].name,
                  fields[i].kind == COUNT ? "a whole number" : "a number");
      return FALSE;
    }
    if (!set_field(st, &fields[i], NULL, v, path, key, error))
      return FALSE;
  }
  JsonNode *rng = json_object_get_member(o, "rng");
  if (!rng || !JSON_NODE_HOLDS_VALUE(rng) ||
      json_node_get_value_type(rng) != G_TYPE_STRING ||
      !rng_from_hex(json_node_get_string(rng), &st->rng))
    return bad_rng(path, TR_CHECKPOINT_STATE_KEY ".rng", error);
  JsonNode *opts = json_object_get_member(o, "options");
  if (!opts || !JSON_NODE_HOLDS_OBJECT(opts)) {
    g_set_error(error, CKPT_ERROR, 1,
                "%s: checkpoint entry %s.options is not a JSON object, "
                "expected the run's options",
                path, key);
    return FALSE;
  }
  st->options = json_to_string(opts, FALSE);
  return TRUE;
}

gboolean tr_checkpoint_state_read(AcrnnModelFile *f, TrCheckpointState *st,
                                  GError **error) {
  tr_checkpoint_state_clear(st);
  tr_checkpoint_state_init(st);
  const char *path = acrnn_model_file_path(f);
  const char *json = acrnn_model_file_meta(f, TR_CHECKPOINT_STATE_KEY);
  if (!json)
    return read_legacy(f, st, error);
  JsonParser *p = json_parser_new();
  gboolean ok = json_parser_load_from_data(p, json, -1, NULL) &&
                json_parser_get_root(p) &&
                JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p));
  if (!ok)
    g_set_error(error, CKPT_ERROR, 1,
                "%s: checkpoint entry %s is not a JSON object, expected the "
                "training state",
                path, TR_CHECKPOINT_STATE_KEY);
  else
    ok = read_object(path, json_node_get_object(json_parser_get_root(p)), st,
                     error);
  g_object_unref(p);
  return ok;
}

char *tr_checkpoint_read_options(const char *path, GError **error) {
  AcrnnModelFile *f = acrnn_model_file_open(path, error);
  if (!f)
    return NULL;
  TrCheckpointState st;
  tr_checkpoint_state_init(&st);
  char *out = NULL;
  if (tr_checkpoint_state_read(f, &st, error)) {
    out = st.options;
    st.options = NULL;
  }
  tr_checkpoint_state_clear(&st);
  acrnn_model_file_close(f);
  return out;
}
