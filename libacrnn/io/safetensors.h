/* safetensors.h - internal: a generic reader and writer of the safetensors
 * format (8-byte little-endian header length, JSON header, raw little-endian
 * tensor data), used by the model files (docs/model-file.md).
 *
 * The reader validates the whole header on open (JSON object, every entry's
 * dtype, shape and data_offsets, the tensors covering the data area exactly
 * in order without overlaps, __metadata__ a string to string map) and reads
 * tensor data on demand. Errors are in the ACRNN_MODEL_ERROR domain and start
 * with the file path.
 */
#ifndef ACRNN_IO_SAFETENSORS_H
#define ACRNN_IO_SAFETENSORS_H

#include "fail.h"
#include <acrnn/error.h>
#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

/** The dtypes of the safetensors format. */
typedef enum {
  ACRNN_ST_BOOL,
  ACRNN_ST_U8,
  ACRNN_ST_I8,
  ACRNN_ST_F8_E5M2,
  ACRNN_ST_F8_E4M3,
  ACRNN_ST_I16,
  ACRNN_ST_U16,
  ACRNN_ST_F16,
  ACRNN_ST_BF16,
  ACRNN_ST_I32,
  ACRNN_ST_U32,
  ACRNN_ST_F32,
  ACRNN_ST_F64,
  ACRNN_ST_I64,
  ACRNN_ST_U64,
  ACRNN_ST_N_DTYPES
} AcrnnStDtype;

/** Most dimensions a tensor may have. */
#define ACRNN_ST_MAX_DIMS 16

/** Largest header accepted (as the reference implementation: 100 MB). */
#define ACRNN_ST_MAX_HEADER 100000000u

/* Sets an ACRNN_MODEL_ERROR error "path: message" and returns FALSE. */
#define acrnn_io_fail(error, code, path, ...)                                  \
  acrnn_fail(error, ACRNN_MODEL_ERROR, code, path, __VA_ARGS__)

/* "[64, 32, 3, 1]", "[]" for a scalar (g_free it). */
char *acrnn_st_shape_string(int ndim, const int64_t *shape);

/** "F32", "BF16", ... */
const char *acrnn_st_dtype_name(AcrnnStDtype dtype);
/** Bytes per element. */
size_t acrnn_st_dtype_size(AcrnnStDtype dtype);

/** One tensor of an open file. */
typedef struct {
  char *name;
  AcrnnStDtype dtype;
  int ndim;
  int64_t shape[ACRNN_ST_MAX_DIMS];
  uint64_t numel;
  uint64_t begin, end; /**< byte offsets into the data area */
} AcrnnStTensor;

typedef struct AcrnnStFile AcrnnStFile;

/** Opens and validates path. Errors: ACRNN_MODEL_ERROR_IO (cannot open or
 * read, not a regular file), ACRNN_MODEL_ERROR_FORMAT (not valid
 * safetensors). */
AcrnnStFile *acrnn_st_open(const char *path, GError **error);
void acrnn_st_close(AcrnnStFile *f);

const char *acrnn_st_path(const AcrnnStFile *f);
/** Tensors, ordered by data offset. */
size_t acrnn_st_n_tensors(const AcrnnStFile *f);
const AcrnnStTensor *acrnn_st_tensor(const AcrnnStFile *f, size_t i);
/** The tensor called name, or NULL. */
const AcrnnStTensor *acrnn_st_find(const AcrnnStFile *f, const char *name);

/** Whether the header has a __metadata__ entry. */
gboolean acrnn_st_has_metadata(const AcrnnStFile *f);
/** The __metadata__ value of key, or NULL. Owned by f. */
const char *acrnn_st_meta(const AcrnnStFile *f, const char *key);
/** The __metadata__ keys, sorted; free the array (not the strings) with
 * g_free. */
const char **acrnn_st_meta_keys(const AcrnnStFile *f, guint *n);

/** Reads the raw bytes of t (little-endian as in the file) into buf of
 * t->end - t->begin bytes. */
gboolean acrnn_st_read_raw(AcrnnStFile *f, const AcrnnStTensor *t, void *buf,
                           GError **error);
/** Reads an F32, F16 or BF16 tensor as t->numel floats. Other dtypes: an
 * ACRNN_MODEL_ERROR_CONTENT error. */
gboolean acrnn_st_read_float(AcrnnStFile *f, const AcrnnStTensor *t, float *out,
                             GError **error);

/** Half and bfloat16 bit patterns to float (exact). */
float acrnn_st_f16_to_float(uint16_t h);
float acrnn_st_bf16_to_float(uint16_t b);

/** Float to half and bfloat16 bit patterns (half_float.c), rounding to
 * nearest, ties to even, as IEEE 754 conversions do: values the format
 * represents convert exactly, values below its smallest normal become
 * subnormals (or zero), finite values too large become Inf (for half:
 * |x| >= 65520, i.e. anything that does not round to 65504), NaN stays NaN
 * (quiet, sign and top payload bits kept). */
uint16_t acrnn_st_float_to_f16(float x);
uint16_t acrnn_st_float_to_bf16(float x);

/** A tensor to write: data in host byte order, numel = product of shape. */
typedef struct {
  const char *name;
  AcrnnStDtype dtype;
  int ndim;
  int64_t shape[ACRNN_ST_MAX_DIMS];
  const void *data;
} AcrnnStEntry;

/** Writes a safetensors file to fd: the header (__metadata__ first when
 * meta_kv, a NULL-terminated list of key, value pairs, is not NULL; then the
 * tensors in the given order, laid out one after the other) padded with
 * spaces to a multiple of 8 bytes, then the data in little-endian order.
 * path only names the file in errors. Refuses duplicate or empty names. */
gboolean acrnn_st_write_fd(int fd, const char *path,
                           const AcrnnStEntry *entries, size_t n_entries,
                           const char *const *meta_kv, GError **error);

G_END_DECLS

#endif
