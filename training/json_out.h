/* json_out.h - members of a JSON object being built, one call each, and
 * the object written to a file: the JSON reports of acrnn-train (cv, eval).
 */
#ifndef TR_JSON_OUT_H
#define TR_JSON_OUT_H

#include <json-glib/json-glib.h>

/* Adds member name with value v to the object b is building. */
void tr_json_int(JsonBuilder *b, const char *name, gint64 v);
void tr_json_double(JsonBuilder *b, const char *name, double v);
void tr_json_string(JsonBuilder *b, const char *name, const char *v);

/* Writes the root b built to path, indented, atomically (a temporary file
 * renamed over path); unrefs b. */
gboolean tr_json_write(JsonBuilder *b, const char *path, GError **error);

#endif
