/* model_meta.h - internal: the "acrnn" metadata entry of a model file
 * (docs/model-file.md), a JSON object holding the labels, feature parameters,
 * segment layout, attention and normalisation of a model. */
#ifndef ACRNN_IO_MODEL_META_H
#define ACRNN_IO_MODEL_META_H

#include <acrnn/model.h>

G_BEGIN_DECLS

/** The JSON text of info (g_free it). */
char *acrnn_model_info_to_json(const AcrnnModelInfo *info);

/** Parses and validates the JSON text of the "acrnn" entry of path into info
 * (initialised by the caller; on failure its labels are freed). Errors:
 * ACRNN_MODEL_ERROR_CONTENT, starting with path. */
gboolean acrnn_model_info_from_json(const char *path, const char *json,
                                    AcrnnModelInfo *info, GError **error);

/** Checks that every field of info is sane (version 1, at least one label,
 * valid feature parameters, segment layout, finite mean, std > 0). Errors:
 * ACRNN_MODEL_ERROR_CONTENT, starting with path. */
gboolean acrnn_model_info_validate(const char *path, const AcrnnModelInfo *info,
                                   GError **error);

G_END_DECLS

#endif
