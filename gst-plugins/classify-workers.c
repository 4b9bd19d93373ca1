/* classify-workers.c - acrnnclassify's network on one or more threads.
 *
 * With threads = N > 1 each batch is shared out among the streaming thread
 * and N - 1 helper threads, each running its own copy of the network
 * (acrnn_net_copy(): the copies share the model's sealed weights). When the
 * batch holds at least 2N segments, the helpers do not wait for it to be
 * complete: as soon as a chunk of batch / 4N inputs (4 where the batch
 * allows) has arrived, an idle
 * helper takes it and runs it while the streaming thread goes on computing
 * the features of the next segments upstream. When the batch is complete,
 * the streaming thread takes its share of the inputs not yet taken, as one
 * forward: the rest, plus what the busy helpers still have to run
 * (estimated from the time an input took it last), divided by N; the
 * helpers take the rest, and the streaming thread takes any chunk still
 * left after its share, then waits for the helpers before the batch is
 * reported. Without this the helpers sat idle while the features were
 * computed, and two threads ran at most (F + N) / (F + N / 2) times one.
 * Smaller batches are split in N parts when complete, as before
 * (acrnn_net_forward_replicas_stream()). Every forward is told where its
 * inputs start in the run, so consecutive segments, which overlap by half,
 * compute their first conv blocks once (acrnn_net_forward_stream()).
 * An input's probabilities do not depend on
 * the batch it runs in, so the results are the same bits in every case. */
#include "acrnnclassify-private.h"

#include <acrnn/replicas.h>
#include <string.h>

/* At least n copies of the network (same weights and statistics). */
static void ensure_copies(GstAcrnnClassify *self, guint n) {
  if (self->n_copies >= n)
    return;
  GST_OBJECT_LOCK(self);
  self->copies = g_renew(AcrnnNet *, self->copies, n);
  while (self->n_copies < n)
    self->copies[self->n_copies++] = acrnn_net_copy(self->net);
  GST_OBJECT_UNLOCK(self);
}

static guint threads_wanted(GstAcrnnClassify *self) {
  GST_OBJECT_LOCK(self);
  guint threads = MIN(self->threads, GST_ACRNN_CLASSIFY_MAX_THREADS);
  GST_OBJECT_UNLOCK(self);
  return threads;
}

/* Inputs [first, first + count) through net into self->probs; the work
 * their overlapping frames share is done once (acrnn_net_forward_stream). */
static void run_inputs(GstAcrnnClassify *self, AcrnnNet *net, guint first,
                       guint count) {
  const size_t in = 2 * (size_t)self->fp.bands * self->info.segment_frames;
  acrnn_net_forward_stream(net, self->batch_in + first * in,
                           self->batch_starts + first, (int)count);
  acrnn_net_probabilities(net,
                          self->probs + (size_t)first * self->info.n_labels);
}

/* Takes the next chunk of published inputs (work_lock held): before the
 * batch is complete a whole chunk; after, an even part of the rest for
 * each helper (at least a chunk). FALSE when there is none. */
static gboolean take_chunk(GstAcrnnClassify *self, guint *first, guint *count) {
  const guint left = self->n_published - self->n_taken;
  if (left == 0 || (left < self->work_chunk && !self->work_closing))
    return FALSE;
  guint want = self->work_chunk;
  if (self->work_closing)
    want = MAX(want, (left + self->n_helpers - 1) / self->n_helpers);
  *first = self->n_taken;
  *count = MIN(left, want);
  self->n_taken += *count;
  return TRUE;
}

/* A helper thread: runs chunks on its copy until none is left. */
static void helper_run(gpointer data, gpointer user_data) {
  GstAcrnnClassify *self = user_data;
  const guint h = GPOINTER_TO_UINT(data) - 1;
  AcrnnNet *net = self->helper_net[h];
  guint first, count;
  g_mutex_lock(&self->work_lock);
  while (take_chunk(self, &first, &count)) {
    self->helper_count[h] = count;
    self->helper_since[h] = g_get_monotonic_time();
    g_mutex_unlock(&self->work_lock);
    run_inputs(self, net, first, count);
    g_mutex_lock(&self->work_lock);
  }
  self->helper_count[h] = 0;
  self->helper_busy[h] = FALSE;
  self->helpers_running--;
  g_cond_broadcast(&self->work_done);
  g_mutex_unlock(&self->work_lock);
}

/* Starts the idle helpers that have a chunk to take (work_lock held). */
static void start_helpers(GstAcrnnClassify *self) {
  for (guint h = 0; h < self->n_helpers; h++) {
    if (self->helper_busy[h])
      continue;
    const guint left = self->n_published - self->n_taken;
    if (left == 0 || (left < self->work_chunk && !self->work_closing))
      return;
    self->helper_busy[h] = TRUE;
    self->helpers_running++;
    if (self->n_published < self->batch_size && !self->work_closing)
      GST_DEBUG_OBJECT(self,
                       "helper %u starts at input %u of %u, before the "
                       "batch is complete",
                       h, self->n_taken, self->batch_size);
    GError *error = NULL;
    if (!g_thread_pool_push(self->helper_pool, GUINT_TO_POINTER(h + 1),
                            &error)) {
      /* no thread: the streaming thread takes the chunks itself */
      GST_WARNING_OBJECT(self, "no helper thread: %s", error->message);
      g_error_free(error);
      self->helper_busy[h] = FALSE;
      self->helpers_running--;
      return;
    }
  }
}

/* Prepares the helpers for a batch of batch_size inputs (streaming thread,
 * no helper running): chunk size, copies and their precision. */
static void setup_helpers(GstAcrnnClassify *self) {
  const guint threads = threads_wanted(self);
  self->work_chunk = 0;
  self->n_helpers = 0;
  if (threads < 2 || self->batch_size < 2 * threads)
    return;
  if (self->helper_pool == NULL) {
    self->helper_pool = g_thread_pool_new(
        helper_run, self, GST_ACRNN_CLASSIFY_MAX_THREADS, FALSE, NULL);
  }
  ensure_copies(self, threads - 1);
  const AcrnnPrecision precision = gst_acrnn_classify_precision(self);
  acrnn_net_set_precision(self->net, precision);
  for (guint h = 0; h + 1 < threads; h++) {
    self->helper_net[h] = self->copies[h];
    acrnn_net_set_precision(self->copies[h], precision);
  }
  self->n_helpers = threads - 1;
  /* a quarter of a thread's share, but 4 inputs where the batch allows: a
   * chunk's overlapping segments share their first conv blocks, and fewer
   * than 4 share nothing (acrnn_net_forward_stream()) */
  self->work_chunk = MAX(1, MAX(self->batch_size / (4 * threads),
                                MIN(4, self->batch_size / (2 * threads))));
}

void gst_acrnn_classify_input_ready(GstAcrnnClassify *self) {
  g_mutex_lock(&self->work_lock);
  if (self->n_published == 0 && self->helpers_running == 0)
    setup_helpers(self); /* the first input of a batch */
  self->n_published = self->n_inputs;
  if (self->work_chunk > 0)
    start_helpers(self);
  g_mutex_unlock(&self->work_lock);
}

void gst_acrnn_classify_workers_drain(GstAcrnnClassify *self) {
  g_mutex_lock(&self->work_lock);
  self->n_taken = self->n_published; /* no more chunks to take */
  while (self->helpers_running > 0)
    g_cond_wait(&self->work_done, &self->work_lock);
  self->work_closing = FALSE;
  self->n_published = 0;
  self->n_taken = 0;
  g_mutex_unlock(&self->work_lock);
}

/* The streaming thread's share of the inputs left when the batch is
 * complete (work_lock held): the inputs not taken plus those the busy
 * helpers have still to run, divided among all the threads. */
static guint own_share(GstAcrnnClassify *self) {
  const guint left = self->n_published - self->n_taken;
  const gint64 now = g_get_monotonic_time();
  double busy = 0.0;
  for (guint h = 0; h < self->n_helpers; h++) {
    double rest = self->helper_count[h];
    if (self->us_per_input > 0.0)
      rest -= (double)(now - self->helper_since[h]) / self->us_per_input;
    busy += CLAMP(rest, 0.0, (double)self->helper_count[h]);
  }
  const double share = (left + busy) / (self->n_helpers + 1) + 0.5;
  return MIN(left, (guint)share);
}

/* Runs the rest of a batch that helpers share (see the top). */
static void forward_shared(GstAcrnnClassify *self) {
  g_mutex_lock(&self->work_lock);
  self->n_published = self->n_inputs;
  self->work_closing = TRUE;
  const guint first = self->n_taken, share = own_share(self);
  self->n_taken += share;
  start_helpers(self);
  g_mutex_unlock(&self->work_lock);
  if (share > 0) {
    const gint64 t0 = g_get_monotonic_time();
    run_inputs(self, self->net, first, share);
    const double us = (double)(g_get_monotonic_time() - t0) / share;
    g_mutex_lock(&self->work_lock);
    self->us_per_input = us;
    g_mutex_unlock(&self->work_lock);
  }
  GST_LOG_OBJECT(self,
                 "batch of %u: %u inputs on the streaming thread at the "
                 "end",
                 self->n_inputs, share);
  guint at, count; /* chunks the helpers have not reached */
  g_mutex_lock(&self->work_lock);
  while (take_chunk(self, &at, &count)) {
    g_mutex_unlock(&self->work_lock);
    run_inputs(self, self->net, at, count);
    g_mutex_lock(&self->work_lock);
  }
  g_mutex_unlock(&self->work_lock);
  gst_acrnn_classify_workers_drain(self);
}

/* Probabilities of the pending segments into self->probs. */
void gst_acrnn_classify_forward(GstAcrnnClassify *self) {
  g_mutex_lock(&self->work_lock);
  const gboolean shared = self->work_chunk > 0;
  g_mutex_unlock(&self->work_lock);
  if (shared) {
    forward_shared(self);
    return;
  }
  gst_acrnn_classify_workers_drain(self);
  const guint threads = threads_wanted(self);
  const guint parts = MAX(1, MIN(threads, self->n_inputs));
  if (parts > 1)
    ensure_copies(self, parts - 1);
  AcrnnNet **nets = g_newa(AcrnnNet *, parts);
  nets[0] = self->net;
  for (guint p = 1; p < parts; p++)
    nets[p] = self->copies[p - 1];
  acrnn_net_set_precision(self->net, gst_acrnn_classify_precision(self));
  acrnn_net_forward_replicas_stream(nets, (int)parts, self->batch_in,
                                    self->batch_starts, (int)self->n_inputs,
                                    NULL, self->probs);
}

void gst_acrnn_classify_workers_free(GstAcrnnClassify *self) {
  gst_acrnn_classify_workers_drain(self);
  if (self->helper_pool != NULL)
    g_thread_pool_free(self->helper_pool, FALSE, TRUE);
  self->helper_pool = NULL;
}
