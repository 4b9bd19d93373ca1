/* tsan-glib-sync.c - the synchronisation of GLib and GStreamer, told to
 * ThreadSanitizer (preloaded by tests/sanitizer/tsan.sh in a
 * -Db_sanitize=thread build).
 *
 * Debian's GLib and GStreamer are not built with TSan: GMutex and GCond
 * are futexes and GStreamer's refcounts and bus queue are atomics in
 * uninstrumented code, so TSan sees acrnn's accesses on both sides of a
 * lock or of a hand-over but not the lock or the hand-over, and reports
 * every such pair as a race. Suppressing the libraries by name would not
 * do: TSan matches a suppression against every frame of a report,
 * allocation and thread-creation stacks included, and nearly every report
 * has a g_malloc() or g_thread_new() frame there, a real race of acrnn's
 * as well. So this library wraps the calls that synchronise (each calls
 * the real function, found with dlsym(RTLD_NEXT)) and states their
 * happens-before edges with __tsan_acquire()/__tsan_release(), the
 * annotations an instrumented GLib would make itself:
 *   - g_mutex, g_rec_mutex, g_rw_lock: lock = acquire, unlock = release;
 *     g_cond_wait*: release the mutex, wait, acquire it;
 *   - g_thread_pool_push() releases, the pool's function acquires (GstTask
 *     runs streaming threads in a GThreadPool);
 *   - gst_bus_post() releases the message, the pops acquire it;
 *   - gst_mini_object_unref(), g_object_unref(): release, then acquire
 *     before the real unref (the usual refcount annotation: the last
 *     unref, which frees, comes after every other owner's accesses).
 * GLib's calls inside libglib itself bind directly and are not wrapped;
 * GStreamer's (and acrnn's) go through the PLT and are. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <gst/gst.h>

void __tsan_acquire(void *addr);
void __tsan_release(void *addr);

#define EXPORT __attribute__((visibility("default")))
/* real: the wrapped function, looked up once (an atomic: any thread may
 * be the first) */
#define REAL(name)                                                             \
  static __typeof__(name) *real_ptr;                                           \
  __typeof__(name) *real = __atomic_load_n(&real_ptr, __ATOMIC_ACQUIRE);       \
  if (!real) {                                                                 \
    real = (__typeof__(name) *)dlsym(RTLD_NEXT, #name);                        \
    __atomic_store_n(&real_ptr, real, __ATOMIC_RELEASE);                       \
  }

EXPORT void g_mutex_lock(GMutex *m) {
  REAL(g_mutex_lock);
  real(m);
  __tsan_acquire(m);
}
EXPORT gboolean g_mutex_trylock(GMutex *m) {
  REAL(g_mutex_trylock);
  gboolean r = real(m);
  if (r)
    __tsan_acquire(m);
  return r;
}
EXPORT void g_mutex_unlock(GMutex *m) {
  REAL(g_mutex_unlock);
  __tsan_release(m);
  real(m);
}
EXPORT void g_rec_mutex_lock(GRecMutex *m) {
  REAL(g_rec_mutex_lock);
  real(m);
  __tsan_acquire(m);
}
EXPORT gboolean g_rec_mutex_trylock(GRecMutex *m) {
  REAL(g_rec_mutex_trylock);
  gboolean r = real(m);
  if (r)
    __tsan_acquire(m);
  return r;
}
EXPORT void g_rec_mutex_unlock(GRecMutex *m) {
  REAL(g_rec_mutex_unlock);
  __tsan_release(m);
  real(m);
}
EXPORT void g_rw_lock_writer_lock(GRWLock *l) {
  REAL(g_rw_lock_writer_lock);
  real(l);
  __tsan_acquire(l);
}
EXPORT void g_rw_lock_writer_unlock(GRWLock *l) {
  REAL(g_rw_lock_writer_unlock);
  __tsan_release(l);
  real(l);
}
EXPORT void g_rw_lock_reader_lock(GRWLock *l) {
  REAL(g_rw_lock_reader_lock);
  real(l);
  __tsan_acquire(l);
}
EXPORT void g_rw_lock_reader_unlock(GRWLock *l) {
  REAL(g_rw_lock_reader_unlock);
  __tsan_release(l);
  real(l);
}
EXPORT void g_cond_wait(GCond *c, GMutex *m) {
  REAL(g_cond_wait);
  __tsan_release(m);
  real(c, m);
  __tsan_acquire(m);
}
EXPORT gboolean g_cond_wait_until(GCond *c, GMutex *m, gint64 end) {
  REAL(g_cond_wait_until);
  __tsan_release(m);
  gboolean r = real(c, m, end);
  __tsan_acquire(m);
  return r;
}

/* A pool's function, called through this trampoline, acquires what
 * g_thread_pool_push() released. */
typedef struct {
  GFunc func;
  gpointer user_data;
} PoolFunc;

static void pool_trampoline(gpointer data, gpointer user_data) {
  PoolFunc *f = user_data;
  __tsan_acquire(data);
  f->func(data, f->user_data);
}

EXPORT GThreadPool *g_thread_pool_new(GFunc func, gpointer user_data,
                                      gint max_threads, gboolean exclusive,
                                      GError **error) {
  REAL(g_thread_pool_new);
  PoolFunc *f = g_new(PoolFunc, 1); /* lives as long as the process */
  *f = (PoolFunc){func, user_data};
  return real(pool_trampoline, f, max_threads, exclusive, error);
}
EXPORT GThreadPool *g_thread_pool_new_full(GFunc func, gpointer user_data,
                                           GDestroyNotify item_free_func,
                                           gint max_threads, gboolean exclusive,
                                           GError **error) {
  REAL(g_thread_pool_new_full);
  PoolFunc *f = g_new(PoolFunc, 1);
  *f = (PoolFunc){func, user_data};
  return real(pool_trampoline, f, item_free_func, max_threads, exclusive,
              error);
}
EXPORT gboolean g_thread_pool_push(GThreadPool *pool, gpointer data,
                                   GError **error) {
  REAL(g_thread_pool_push);
  __tsan_release(data);
  return real(pool, data, error);
}

EXPORT gboolean gst_bus_post(GstBus *bus, GstMessage *message) {
  REAL(gst_bus_post);
  __tsan_release(message);
  return real(bus, message);
}
EXPORT GstMessage *gst_bus_pop(GstBus *bus) {
  REAL(gst_bus_pop);
  GstMessage *m = real(bus);
  if (m)
    __tsan_acquire(m);
  return m;
}
EXPORT GstMessage *gst_bus_timed_pop(GstBus *bus, GstClockTime timeout) {
  REAL(gst_bus_timed_pop);
  GstMessage *m = real(bus, timeout);
  if (m)
    __tsan_acquire(m);
  return m;
}
EXPORT GstMessage *gst_bus_pop_filtered(GstBus *bus, GstMessageType types) {
  REAL(gst_bus_pop_filtered);
  GstMessage *m = real(bus, types);
  if (m)
    __tsan_acquire(m);
  return m;
}
EXPORT GstMessage *gst_bus_timed_pop_filtered(GstBus *bus, GstClockTime timeout,
                                              GstMessageType types) {
  REAL(gst_bus_timed_pop_filtered);
  GstMessage *m = real(bus, timeout, types);
  if (m)
    __tsan_acquire(m);
  return m;
}
EXPORT GstMessage *gst_bus_poll(GstBus *bus, GstMessageType events,
                                GstClockTime timeout) {
  REAL(gst_bus_poll);
  GstMessage *m = real(bus, events, timeout);
  if (m)
    __tsan_acquire(m);
  return m;
}

EXPORT void gst_mini_object_unref(GstMiniObject *o) {
  REAL(gst_mini_object_unref);
  __tsan_release(o);
  __tsan_acquire(o);
  real(o);
}
EXPORT void g_object_unref(gpointer o) {
  REAL(g_object_unref);
  __tsan_release(o);
  __tsan_acquire(o);
  real(o);
}
