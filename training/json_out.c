/* json_out.c - JSON object members and report files (see json_out.h). */
#include "json_out.h"

void tr_json_int(JsonBuilder *b, const char *name, gint64 v) {
  json_builder_set_member_name(b, name);
  json_builder_add_int_value(b, v);
}

void tr_json_double(JsonBuilder *b, const char *name, double v) {
  json_builder_set_member_name(b, name);
  json_builder_add_double_value(b, v);
}

void tr_json_string(JsonBuilder *b, const char *name, const char *v) {
  json_builder_set_member_name(b, name);
  json_builder_add_string_value(b, v);
}

gboolean tr_json_write(JsonBuilder *b, const char *path, GError **error) {
  JsonNode *root = json_builder_get_root(b);
  char *text = json_to_string(root, TRUE);
  gboolean ok = g_file_set_contents(path, text, -1, error);
  g_free(text);
  json_node_unref(root);
  g_object_unref(b);
  return ok;
}
