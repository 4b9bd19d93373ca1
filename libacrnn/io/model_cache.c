/* model_cache.c - acrnn_model_load_shared(): while a model file stays the
 * same, every net loaded from it shares one sealed copy of its weights.
 *
 * A file is the same while its device, inode, size, modification and change
 * times are: an edit, a rewrite (acrnn_model_save() renames a new file over
 * it) or a touch makes the next load read it anew. The cache holds no
 * reference to the weights it hands out: an entry is dropped, under the
 * cache lock, when the last net using its weights is freed (weights.h). */
#include "model_cache.h"
#include "weights.h"
#include <acrnn/model.h>
#include <sys/stat.h>

typedef struct {
  dev_t dev;
  ino_t ino;
  off_t size;
  gint64 mtime_ns, ctime_ns;
} FileStamp;

typedef struct {
  FileStamp stamp;
  AcrnnNetConfig cfg;
  AcrnnModelInfo info;
  AcrnnWeights *weights; /* no reference: the entry goes with the block */
} Entry;

static GMutex cache_lock;
static GList *cache; /* of Entry, under cache_lock */

static gboolean stamp_of(const char *path, FileStamp *s) {
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
    return FALSE;
  *s = (FileStamp){
      st.st_dev, st.st_ino, st.st_size,
      st.st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000) + st.st_mtim.tv_nsec,
      st.st_ctim.tv_sec * G_GINT64_CONSTANT(1000000000) + st.st_ctim.tv_nsec};
  return TRUE;
}

static gboolean same_stamp(const FileStamp *a, const FileStamp *b) {
  return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
         a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

static Entry *find_entry(const FileStamp *s) {
  for (GList *l = cache; l != NULL; l = l->next)
    if (same_stamp(&((Entry *)l->data)->stamp, s))
      return l->data;
  return NULL;
}

/* The weights' last user is gone: called with cache_lock held. */
static void entry_gone(gpointer data) {
  Entry *e = data;
  cache = g_list_remove(cache, e);
  acrnn_model_info_clear(&e->info);
  g_free(e);
}

/* A new net on e's weights, and a copy of its info: with cache_lock held,
 * so the weights cannot go meanwhile. */
static AcrnnNet *entry_net(Entry *e, AcrnnModelInfo *info) {
  if (info)
    acrnn_model_info_copy(info, &e->info);
  return acrnn_net_new_with_weights(&e->cfg, e->weights);
}

AcrnnNet *acrnn_model_load_shared(const char *path, AcrnnModelInfo *info,
                                  GError **error) {
  g_return_val_if_fail(path != NULL, NULL);
  FileStamp before, after;
  if (!stamp_of(path, &before)) { /* not there, not a file: its error */
    AcrnnNet *net = acrnn_model_load(path, info, error);
    if (net)
      acrnn_net_seal(net);
    return net;
  }
  g_mutex_lock(&cache_lock);
  Entry *e = find_entry(&before);
  AcrnnNet *net = e ? entry_net(e, info) : NULL;
  g_mutex_unlock(&cache_lock);
  if (net != NULL)
    return net;

  AcrnnModelInfo loaded;
  net = acrnn_model_load(path, &loaded, error);
  if (net == NULL) {
    if (info)
      acrnn_model_info_init(info);
    return NULL;
  }
  acrnn_net_seal(net);
  if (!stamp_of(path, &after) || !same_stamp(&before, &after)) {
    /* changed while it was read: this copy is nobody else's */
    if (info)
      *info = loaded;
    else
      acrnn_model_info_clear(&loaded);
    return net;
  }
  g_mutex_lock(&cache_lock);
  e = find_entry(&before);
  if (e != NULL) { /* loaded by another thread meanwhile: share that one */
    AcrnnNet *shared = entry_net(e, info);
    g_mutex_unlock(&cache_lock);
    acrnn_net_free(net);
    acrnn_model_info_clear(&loaded);
    return shared;
  }
  e = g_new0(Entry, 1);
  e->stamp = before;
  e->cfg = *acrnn_net_config(net);
  e->info = loaded;
  e->weights = acrnn_net_weights(net);
  acrnn_weights_watch(e->weights, &cache_lock, entry_gone, e);
  cache = g_list_prepend(cache, e);
  if (info)
    acrnn_model_info_copy(info, &e->info);
  g_mutex_unlock(&cache_lock);
  return net;
}

guint acrnn_model_cache_n_entries(void) {
  g_mutex_lock(&cache_lock);
  guint n = g_list_length(cache);
  g_mutex_unlock(&cache_lock);
  return n;
}
