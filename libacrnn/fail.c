/* fail.c - the printf-to-GError helper of fail.h. */
#include "fail.h"

gboolean acrnn_fail(GError **error, GQuark domain, int code, const char *prefix,
                    const char *fmt, ...) {
  if (error == NULL)
    return FALSE;
  va_list ap;
  va_start(ap, fmt);
  char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  if (prefix != NULL)
    g_set_error(error, domain, code, "%s: %s", prefix, msg);
  else
    g_set_error_literal(error, domain, code, msg);
  g_free(msg);
  return FALSE;
}
