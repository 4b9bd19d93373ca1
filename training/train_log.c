/* train_log.c - the JSON-lines log of a training run's epochs: one object
 * per epoch, rewritten whole after each epoch, read back on resume. */
#include "epoch_record.h"
#include "train_run.h"
#include <json-glib/json-glib.h>

static void record_to_json(const TrEpochRecord *e, GString *s) {
  g_string_append_printf(s,
                         "{\"epoch\": %d, \"train_loss\": %.9g, "
                         "\"train_acc\": %.9g, ",
                         e->epoch, e->train_loss, e->train_acc);
  if (e->val_acc >= 0)
    g_string_append_printf(s, "\"val_acc\": %.9g, ", e->val_acc);
  else
    g_string_append(s, "\"val_acc\": null, ");
  g_string_append_printf(s,
                         "\"lr\": %.9g, \"time_s\": %.3f, "
                         "\"total_s\": %.3f}\n",
                         e->lr, e->time_s, e->total_s);
}

static TrEpochRecord record_from_json(JsonObject *o) {
  TrEpochRecord e = {0};
  e.epoch = (int)json_object_get_int_member_with_default(o, "epoch", 0);
  e.train_loss = json_object_get_double_member_with_default(o, "train_loss", 0);
  e.train_acc = json_object_get_double_member_with_default(o, "train_acc", 0);
  JsonNode *v = json_object_get_member(o, "val_acc");
  e.val_acc = v && !JSON_NODE_HOLDS_NULL(v) ? json_node_get_double(v) : -1;
  e.lr = json_object_get_double_member_with_default(o, "lr", 0);
  e.time_s = json_object_get_double_member_with_default(o, "time_s", 0);
  e.total_s = json_object_get_double_member_with_default(o, "total_s", 0);
  return e;
}

void tr_log_restore(GArray *history, const char *log, int epochs_done) {
  char *text = NULL;
  if (!g_file_get_contents(log, &text, NULL, NULL))
    return;
  char **lines = g_strsplit(text, "\n", -1);
  g_free(text);
  for (int i = 0; lines[i]; i++) {
    JsonNode *n = *lines[i] ? json_from_string(lines[i], NULL) : NULL;
    if (n && JSON_NODE_HOLDS_OBJECT(n)) {
      TrEpochRecord e = record_from_json(json_node_get_object(n));
      if (e.epoch >= 1 && e.epoch <= epochs_done)
        g_array_append_val(history, e);
    }
    if (n)
      json_node_unref(n);
  }
  g_strfreev(lines);
}

gboolean tr_log_write(const GArray *history, const char *log, GError **error) {
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < history->len; i++)
    record_to_json(&g_array_index(history, TrEpochRecord, i), s);
  gboolean ok = g_file_set_contents(log, s->str, (gssize)s->len, error);
  g_string_free(s, TRUE);
  return ok;
}
