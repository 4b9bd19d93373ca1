/* classify-workers.c - acrnnclassify's network on one or more threads:
 * copies of the network (acrnn_net_copy()) run by a GThreadPool. */
#include "acrnnclassify-private.h"

/* The parts of a batch still running on the worker threads. */
typedef struct {
  GMutex lock;
  GCond done;
  guint left;
} ForwardWait;

/* Part of a batch for one copy of the network. */
typedef struct {
  AcrnnNet *net;
  const float *x;
  float *probs;
  int count;
  ForwardWait *wait; /* counted down when a worker ran the part */
} ForwardJob;

static void forward_job(ForwardJob *job) {
  acrnn_net_forward(job->net, job->x, job->count, FALSE, NULL);
  acrnn_net_probabilities(job->net, job->probs);
}

static void worker_run(gpointer data, gpointer user_data) {
  ForwardJob *job = data;
  (void)user_data;
  forward_job(job);
  g_mutex_lock(&job->wait->lock);
  if (--job->wait->left == 0)
    g_cond_signal(&job->wait->done);
  g_mutex_unlock(&job->wait->lock);
}

/* At least n copies of the network (same weights and statistics), and a
 * pool of n threads to run them; FALSE when there is no pool. */
static gboolean ensure_copies(GstAcrnnClassify *self, guint n) {
  if (self->workers == NULL) {
    GError *error = NULL;
    self->workers = g_thread_pool_new(worker_run, NULL, (gint)n, FALSE, &error);
    if (self->workers == NULL) {
      GST_WARNING_OBJECT(self, "no worker threads: %s", error->message);
      g_error_free(error);
      return FALSE;
    }
  } else if (g_thread_pool_get_max_threads(self->workers) < (gint)n) {
    g_thread_pool_set_max_threads(self->workers, (gint)n, NULL);
  }
  if (self->n_copies >= n)
    return TRUE;
  GST_OBJECT_LOCK(self);
  self->copies = g_renew(AcrnnNet *, self->copies, n);
  while (self->n_copies < n)
    self->copies[self->n_copies++] = acrnn_net_copy(self->net);
  GST_OBJECT_UNLOCK(self);
  return TRUE;
}

/* Probabilities of the pending segments into self->probs: split over up to
 * `threads` copies of the network, each part but the first on a worker
 * thread of the pool (this one runs the first). */
void gst_acrnn_classify_forward(GstAcrnnClassify *self) {
  GST_OBJECT_LOCK(self);
  guint threads = self->threads;
  GST_OBJECT_UNLOCK(self);
  const AcrnnPrecision precision = gst_acrnn_classify_precision(self);
  guint parts = MIN(threads, self->n_inputs);
  if (parts > 1 && !ensure_copies(self, parts - 1))
    parts = 1;
  size_t in_floats =
      2 * (size_t)self->fp.bands * (size_t)self->info.segment_frames;
  ForwardJob *jobs = g_newa(ForwardJob, parts);
  ForwardWait wait;
  g_mutex_init(&wait.lock);
  g_cond_init(&wait.done);
  wait.left = parts - 1;
  guint first = 0;
  for (guint p = 0; p < parts; p++) {
    guint count = self->n_inputs / parts + (p < self->n_inputs % parts);
    jobs[p].net = p == 0 ? self->net : self->copies[p - 1];
    jobs[p].x = self->batch_in + first * in_floats;
    jobs[p].probs = self->probs + (size_t)first * self->info.n_labels;
    jobs[p].count = (int)count;
    jobs[p].wait = &wait;
    acrnn_net_set_precision(jobs[p].net, precision);
    first += count;
  }
  for (guint p = 1; p < parts; p++)
    if (!g_thread_pool_push(self->workers, &jobs[p], NULL))
      worker_run(&jobs[p], NULL); /* no thread: here */
  forward_job(&jobs[0]);
  g_mutex_lock(&wait.lock);
  while (wait.left > 0)
    g_cond_wait(&wait.done, &wait.lock);
  g_mutex_unlock(&wait.lock);
  g_mutex_clear(&wait.lock);
  g_cond_clear(&wait.done);
}

/* Runs the network on the pending segments that are not silent and reports
 * them all, in order; a silent one is reported as silence and left out of
 * the stream's decision. */
