/* decode.h - whole audio files to mono float samples with GStreamer. */
#ifndef TR_DECODE_H
#define TR_DECODE_H

#include <glib.h>

/* Decodes path (any format GStreamer reads) to mono F32 at sample_rate.
 * Returns g_malloc'd samples; NULL with an error naming the file and the
 * reason. */
float *tr_decode_file(const char *path, int sample_rate, size_t *n,
                      GError **error);

#endif
