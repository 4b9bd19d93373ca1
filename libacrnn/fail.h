/* fail.h - internal: libacrnn's one printf-to-GError helper. */
#ifndef ACRNN_FAIL_H
#define ACRNN_FAIL_H

#include <glib.h>

G_BEGIN_DECLS

/* Sets *error (when error is not NULL) to domain and code with the message
 * fmt formatted, after "prefix: " when prefix (a file path) is not NULL;
 * returns FALSE, for `return acrnn_fail(...)`. */
gboolean acrnn_fail(GError **error, GQuark domain, int code, const char *prefix,
                    const char *fmt, ...) G_GNUC_PRINTF(5, 6);

G_END_DECLS

#endif
