/* transfer.c - a network's tensors from another network of a possibly
 * different configuration, matched by name and shape (acrnn/transfer.h). */
#include <acrnn/transfer.h>
#include <string.h>

static gboolean skipped(const char *name, const char *const *prefixes) {
  for (; prefixes && *prefixes; prefixes++)
    if (g_str_has_prefix(name, *prefixes))
      return TRUE;
  return FALSE;
}

static gboolean same_shape(const AcrnnTensorInfo *a, const AcrnnTensorInfo *b) {
  if (a->kind != b->kind || a->ndim != b->ndim || a->numel != b->numel)
    return FALSE;
  for (int i = 0; i < a->ndim; i++)
    if (a->shape[i] != b->shape[i])
      return FALSE;
  return TRUE;
}

guint acrnn_net_copy_matching(AcrnnNet *dst, AcrnnNet *src,
                              const char *const *skip_prefixes,
                              GPtrArray *not_copied) {
  guint copied = 0;
  for (size_t i = 0; i < acrnn_net_n_tensors(dst); i++) {
    const AcrnnTensorInfo *d = acrnn_net_tensor(dst, i);
    const AcrnnTensorInfo *s = acrnn_net_find_tensor(src, d->name);
    if (s && same_shape(d, s) && !skipped(d->name, skip_prefixes)) {
      memcpy(acrnn_net_tensor_data(dst, d), acrnn_net_tensor_data(src, s),
             d->numel * sizeof(float));
      copied++;
    } else if (not_copied) {
      g_ptr_array_add(not_copied, (gpointer)d->name);
    }
  }
  return copied;
}
