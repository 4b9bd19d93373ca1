/* acrnn/model.h - model files (docs/model-file.md): safetensors with the
 * tensors of the network under their state_dict() names and an "acrnn"
 * metadata entry (labels, feature parameters, attention, normalisation).
 */
#ifndef ACRNN_MODEL_H
#define ACRNN_MODEL_H

#include <acrnn/error.h>
#include <acrnn/features.h>
#include <acrnn/network.h>
#include <glib.h>

G_BEGIN_DECLS

/* Errors: ACRNN_MODEL_ERROR, acrnn/error.h. */

/** What a model file says besides its tensors. */
typedef struct {
  int version;   /**< 1 */
  char **labels; /**< n_labels class names, NULL-terminated */
  int n_labels;
  AcrnnFeatureParams features;
  int segment_frames; /**< 128 */
  int segment_hop;    /**< 64 */
  AcrnnAttention attention;
  float mean[2], std[2]; /**< per channel: log, delta */
  /** The optional "split" key: how the training clips were chosen (a JSON
   * object as text, written by acrnn-train: layout, folds, seed, held-out
   * fold, hash of the training clip list), or NULL. Owned: freed by
   * acrnn_model_info_clear(). */
  char *split;
} AcrnnModelInfo;

/** Defaults of docs/features.md and docs/network.md, no labels, mean 0,
 * std 1. */
void acrnn_model_info_init(AcrnnModelInfo *info);
/** Frees labels and split (not info itself). */
void acrnn_model_info_clear(AcrnnModelInfo *info);
/** Deep copy of labels and split into dst (dst must be cleared or fresh). */
void acrnn_model_info_copy(AcrnnModelInfo *dst, const AcrnnModelInfo *src);

/** The network configuration a model info implies. */
void acrnn_model_info_net_config(const AcrnnModelInfo *info,
                                 AcrnnNetConfig *cfg);

/** Loads path, validating everything (docs/model-file.md). F32, F16, BF16
 * tensors are read; bn.N.num_batches_tracked (I64, from PyTorch's
 * state_dict) is accepted and ignored. On failure returns NULL and an error
 * naming the file and the problem; info is then left cleared. */
AcrnnNet *acrnn_model_load(const char *path, AcrnnModelInfo *info,
                           GError **error);

/** Like acrnn_model_load(), for many nets in one process: every net loaded
 * by this function from the same file, unchanged (the same device, inode,
 * size, modification and change time), shares one sealed, read-only copy of
 * its weights (acrnn_net_seal(), acrnn_net_shares_weights()); each has its
 * own activations. A file changed on disk since (edited, rewritten, touched)
 * is loaded anew; a copy of the weights is freed with the last net using
 * it. Safe to call from several threads at once. */
AcrnnNet *acrnn_model_load_shared(const char *path, AcrnnModelInfo *info,
                                  GError **error);

/** Writes net and info as F32 safetensors, through a temporary file in the
 * same directory renamed over path: a crash never leaves a half model. */
gboolean acrnn_model_save(const char *path, AcrnnNet *net,
                          const AcrnnModelInfo *info, GError **error);

/** The dtype of the tensors of a saved model. */
typedef enum {
  ACRNN_MODEL_DTYPE_F32 = 0, /**< 4 bytes a value, exact */
  ACRNN_MODEL_DTYPE_F16,  /**< IEEE half: 11 significant bits, |x| <= 65504 */
  ACRNN_MODEL_DTYPE_BF16, /**< bfloat16: 8 significant bits, F32's range */
} AcrnnModelDtype;

/** Like acrnn_model_save() (same checks, same atomic write), with every
 * tensor of the network, batch norm running statistics included, stored in
 * dtype: F16 and BF16 halve the file. Values are rounded to the nearest
 * representable one (ties to even); tiny ones may become subnormal or 0.
 * A finite value too large for F16 (one that would round to Inf, |x| >=
 * 65520) is refused with an ACRNN_MODEL_ERROR_CONTENT error naming the
 * tensor, the index and the value, and nothing is written. The loader reads
 * all three dtypes back as F32. */
gboolean acrnn_model_save_as(const char *path, AcrnnNet *net,
                             const AcrnnModelInfo *info, AcrnnModelDtype dtype,
                             GError **error);

/** An extra named F32 tensor of a checkpoint (e.g. optimizer state), stored
 * as a 1-D tensor of numel values. */
typedef struct {
  const char *name; /**< must not clash with the network's tensors */
  const float *data;
  size_t numel;
} AcrnnModelTensor;

/** An extra string metadata entry of a checkpoint. */
typedef struct {
  const char *key; /**< not "acrnn", "format" nor "acrnn_extra_tensors" */
  const char *value;
} AcrnnModelMeta;

/** What a checkpoint stores besides the model: n_tensors extra tensors and
 * n_meta extra metadata entries (either array may be NULL when its count
 * is 0). */
typedef struct {
  const AcrnnModelTensor *tensors;
  size_t n_tensors;
  const AcrnnModelMeta *meta;
  size_t n_meta;
} AcrnnModelExtras;

/** Like acrnn_model_save() (same checks, same atomic write) with extras
 * (NULL: none), for checkpoints. Names and keys are checked before anything
 * is written: a clash or a duplicate is an ACRNN_MODEL_ERROR_CONTENT
 * error. */
gboolean acrnn_model_save_full(const char *path, AcrnnNet *net,
                               const AcrnnModelInfo *info,
                               const AcrnnModelExtras *extras, GError **error);

/** A model file opened once: its header and metadata are parsed by
 * acrnn_model_file_open(), then the network, extra tensors and metadata
 * entries are read from it without parsing the file again. */
typedef struct AcrnnModelFile AcrnnModelFile;

/** Opens and validates the safetensors layout of path; NULL with an
 * ACRNN_MODEL_ERROR_IO or _FORMAT error naming the file otherwise. */
AcrnnModelFile *acrnn_model_file_open(const char *path, GError **error);
void acrnn_model_file_close(AcrnnModelFile *f);
const char *acrnn_model_file_path(const AcrnnModelFile *f);
/** acrnn_model_load() of the open file. */
AcrnnNet *acrnn_model_file_load(AcrnnModelFile *f, AcrnnModelInfo *info,
                                GError **error);
/** The metadata entry key, or NULL when the file has none (owned by f). */
const char *acrnn_model_file_meta(const AcrnnModelFile *f, const char *key);
/** Reads the extra F32 (or F16, BF16) tensor name into a new g_malloc'd
 * array of *numel floats; NULL with an error naming the file and the tensor
 * when it is missing or unreadable. */
float *acrnn_model_file_read_extra(AcrnnModelFile *f, const char *name,
                                   size_t *numel, GError **error);

/** The model bundled with the project: $ACRNN_MODEL if set; else, when the
 * library runs from its build tree, models/esc50-acrnn.safetensors of the
 * source tree; else the installed copy in $datadir/acrnn. g_free it. */
char *acrnn_model_default_path(void);

G_END_DECLS

#endif
