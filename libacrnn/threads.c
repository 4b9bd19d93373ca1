/* threads.c - how many threads libacrnn's compute may use (the BLAS, and
 * its own kernels), and the worker threads that run its parallel parts
 * (parallel.h): one GThreadPool, shared, its threads kept between calls. */
#include "parallel.h"

#include <acrnn/acrnn.h>
#include <cblas.h>

/* acrnn_set_threads()'s count (atomic); the BLAS's count follows it
 * while no thread is in a single-thread section. */
static gint n_threads = 1;
static GMutex blas_lock; /* guards n_single and the BLAS's count */
static int n_single;     /* threads now in a single-thread section */
static _Thread_local int single_depth; /* this thread's nesting */

void acrnn_set_threads(int n) {
  g_mutex_lock(&blas_lock);
  g_atomic_int_set(&n_threads, n < 1 ? 1 : n);
  if (n_single == 0)
    openblas_set_num_threads(g_atomic_int_get(&n_threads));
  g_mutex_unlock(&blas_lock);
}

int acrnn_get_threads(void) {
  return single_depth > 0 ? 1 : g_atomic_int_get(&n_threads);
}

void acrnn_single_thread_begin(void) {
  if (single_depth++ > 0)
    return;
  g_mutex_lock(&blas_lock);
  if (n_single++ == 0)
    openblas_set_num_threads(1);
  g_mutex_unlock(&blas_lock);
}

void acrnn_single_thread_end(void) {
  g_return_if_fail(single_depth > 0);
  if (--single_depth > 0)
    return;
  g_mutex_lock(&blas_lock);
  if (--n_single == 0)
    openblas_set_num_threads(g_atomic_int_get(&n_threads));
  g_mutex_unlock(&blas_lock);
}

/* The tasks of one acrnn_parallel_run() still running on pool threads. */
typedef struct {
  GMutex lock;
  GCond done;
  int left;
} Join;

typedef struct {
  AcrnnTaskFn fn;
  gpointer task;
  Join *join;
} Job;

static void pool_run(gpointer data, gpointer user_data) {
  Job *job = data;
  (void)user_data;
  job->fn(job->task);
  g_mutex_lock(&job->join->lock);
  if (--job->join->left == 0)
    g_cond_signal(&job->join->done);
  g_mutex_unlock(&job->join->lock);
}

/* Unbounded (a task that waits on tasks of its own gets threads for them);
 * idle threads are kept, so a run after the first creates none. */
static gpointer make_pool(gpointer data) {
  (void)data;
  return g_thread_pool_new(pool_run, NULL, -1, FALSE, NULL);
}

static GThreadPool *pool(void) {
  static GOnce once = G_ONCE_INIT;
  return g_once(&once, make_pool, NULL);
}

void acrnn_parallel_run(int n, AcrnnTaskFn fn, gpointer tasks, gsize size) {
  if (n <= 0)
    return;
  Join join = {.left = n - 1};
  g_mutex_init(&join.lock);
  g_cond_init(&join.done);
  Job *jobs = g_newa(Job, n);
  GThreadPool *p = n > 1 ? pool() : NULL;
  for (int i = 1; i < n; i++) {
    jobs[i] = (Job){fn, (char *)tasks + (gsize)i * size, &join};
    if (!p || !g_thread_pool_push(p, &jobs[i], NULL))
      pool_run(&jobs[i], NULL); /* no thread: here */
  }
  fn(tasks);
  g_mutex_lock(&join.lock);
  while (join.left > 0)
    g_cond_wait(&join.done, &join.lock);
  g_mutex_unlock(&join.lock);
  g_mutex_clear(&join.lock);
  g_cond_clear(&join.done);
}
