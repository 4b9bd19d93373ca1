/* weights.c - the reference-counted weight blocks of weights.h. */
#include "weights.h"

#include <string.h>

AcrnnWeights *acrnn_weights_new(size_t n_params, size_t n_buffers) {
  AcrnnWeights *w = g_new0(AcrnnWeights, 1);
  g_atomic_ref_count_init(&w->ref);
  w->n_params = n_params;
  w->n_buffers = n_buffers;
  w->params = g_new0(float, MAX(n_params + n_buffers, 1));
  w->buffers = w->params + n_params;
  return w;
}

AcrnnWeights *acrnn_weights_copy(const AcrnnWeights *w) {
  AcrnnWeights *copy = acrnn_weights_new(w->n_params, w->n_buffers);
  memcpy(copy->params, w->params, (w->n_params + w->n_buffers) * sizeof(float));
  return copy;
}

AcrnnWeights *acrnn_weights_ref(AcrnnWeights *w) {
  g_atomic_ref_count_inc(&w->ref);
  return w;
}

static void weights_free(AcrnnWeights *w) {
  acrnn_packed_weights_free(w->packed);
  g_free(w->params);
  g_free(w);
}

void acrnn_weights_unref(AcrnnWeights *w) {
  if (w == NULL)
    return;
  if (w->lock == NULL) {
    if (g_atomic_ref_count_dec(&w->ref))
      weights_free(w);
    return;
  }
  /* Watched: the count reaches zero only under the watcher's lock, so the
   * watcher never hands out a block that is being freed. */
  GMutex *lock = w->lock;
  g_mutex_lock(lock);
  gboolean last = g_atomic_ref_count_dec(&w->ref);
  if (last)
    w->gone(w->gone_data);
  g_mutex_unlock(lock);
  if (last)
    weights_free(w);
}

void acrnn_weights_watch(AcrnnWeights *w, GMutex *lock, GDestroyNotify gone,
                         gpointer data) {
  g_return_if_fail(w->sealed && w->lock == NULL);
  g_return_if_fail(g_atomic_ref_count_compare(&w->ref, 1));
  w->lock = lock;
  w->gone = gone;
  w->gone_data = data;
}

const AcrnnPackedWeights *acrnn_weights_packed(
    AcrnnWeights *w,
    AcrnnPackedWeights *(*make)(const AcrnnWeights *w, gconstpointer data),
    gconstpointer data) {
  g_return_val_if_fail(w->sealed, NULL);
  if (g_once_init_enter(&w->packed))
    g_once_init_leave(&w->packed, make(w, data));
  return w->packed;
}
