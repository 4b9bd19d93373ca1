/* step.c - forward/backward of batch shards into gradient blocks, and the
 * separate parameter update (see step.h). */
#include "step.h"
#include <string.h>

void tr_step_shard(AcrnnNet *net, const float *x, const float *y, int n,
                   AcrnnRng *rng, TrStepStats *stats) {
  int c = acrnn_net_config(net)->n_classes;
  acrnn_net_zero_grad(net);
  const float *logits = acrnn_net_forward(net, x, n, TRUE, rng);
  float loss = acrnn_net_loss(net, y);
  acrnn_net_backward(net);
  double correct = 0;
  for (int i = 0; i < n; i++) {
    const float *l = logits + (size_t)i * c, *t = y + (size_t)i * c;
    int bl = 0, bt = 0;
    for (int k = 1; k < c; k++) {
      if (l[k] > l[bl])
        bl = k;
      if (t[k] > t[bt])
        bt = k;
    }
    correct += bl == bt;
  }
  stats->loss_sum = (double)loss * n;
  stats->correct = correct;
  stats->n = n;
}

int tr_shard_start(int n, int k, int i) {
  int q = n / k, r = n % k;
  return i * q + MIN(i, r);
}

void tr_step_groups(AcrnnNet *net, const float *x, const float *y, int n, int k,
                    int first, int count, guint64 dropout_seed, float *grads,
                    TrStepStats *stats) {
  const AcrnnNetConfig *cfg = acrnn_net_config(net);
  size_t dim = 2 * (size_t)cfg->bands * (size_t)cfg->frames;
  size_t np = acrnn_net_n_params(net), nb = acrnn_net_n_buffers(net);
  float *g = acrnn_net_grads(net), *buf = acrnn_net_buffers(net);
  float *start = count > 1 ? g_memdup2(buf, nb * sizeof(float)) : NULL;
  float *sum = count > 1 ? g_new0(float, nb) : NULL;
  gboolean any = FALSE;
  memset(stats, 0, sizeof *stats);
  for (int s = first; s < first + count; s++) {
    int lo = tr_shard_start(n, k, s), m = tr_shard_start(n, k, s + 1) - lo;
    if (m > 0) {
      if (start && s > first)
        memcpy(buf, start, nb * sizeof(float));
      AcrnnRng rng;
      acrnn_rng_seed(&rng,
                     dropout_seed ^ ((guint64)(s + 1) * 0xbf58476d1ce4e5b9ULL));
      TrStepStats st;
      tr_step_shard(net, x + (size_t)lo * dim, y + (size_t)lo * cfg->n_classes,
                    m, &rng, &st);
      float w = (float)m / (float)n;
      if (!any)
        for (size_t i = 0; i < np; i++)
          grads[i] = g[i] * w;
      else
        for (size_t i = 0; i < np; i++)
          grads[i] += g[i] * w;
      any = TRUE;
      stats->loss_sum += st.loss_sum;
      stats->correct += st.correct;
      stats->n += st.n;
    }
    if (sum) {
      const float *b = m > 0 ? buf : start;
      for (size_t i = 0; i < nb; i++)
        sum[i] += b[i];
    }
  }
  if (!any)
    memset(grads, 0, np * sizeof(float));
  if (sum)
    for (size_t i = 0; i < nb; i++)
      buf[i] = sum[i] / (float)count;
  g_free(start);
  g_free(sum);
}

struct TrReplicas {
  int n, count;
  AcrnnNet **nets;
  float **grads, **bufs; /* per shard of a step: weighted gradients, and
                            running statistics after it */
  TrStepStats *stats;
  gboolean *done;
};

TrReplicas *tr_replicas_new(AcrnnNet *net, int n, int count, float dropout,
                            GError **error) {
  TrReplicas *r = g_new0(TrReplicas, 1);
  r->n = n;
  r->count = count;
  r->nets = g_new0(AcrnnNet *, n);
  for (int i = 0; i < n; i++) {
    r->nets[i] = acrnn_net_new(acrnn_net_config(net), error);
    if (!r->nets[i]) {
      tr_replicas_free(r);
      return NULL;
    }
    acrnn_net_set_dropout(r->nets[i], dropout);
  }
  const size_t np = acrnn_net_n_params(net), nb = acrnn_net_n_buffers(net);
  r->grads = g_new0(float *, count);
  r->bufs = g_new0(float *, count);
  for (int i = 0; i < count; i++) {
    r->grads[i] = g_new(float, np);
    r->bufs[i] = g_new(float, nb);
  }
  r->stats = g_new0(TrStepStats, count);
  r->done = g_new0(gboolean, count);
  return r;
}

void tr_replicas_free(TrReplicas *r) {
  if (!r)
    return;
  for (int i = 0; i < r->n; i++)
    if (r->nets[i])
      acrnn_net_free(r->nets[i]);
  for (int i = 0; i < r->count; i++) {
    g_free(r->grads[i]);
    g_free(r->bufs[i]);
  }
  g_free(r->nets);
  g_free(r->grads);
  g_free(r->bufs);
  g_free(r->stats);
  g_free(r->done);
  g_free(r);
}

/* What one replica thread computes in a step. */
typedef struct {
  TrReplicas *reps;
  int j; /* the replica */
  AcrnnNet *net;
  const float *x, *y;
  int n, k, first, count;
  guint64 dropout_seed;
} ReplicaJob;

static gpointer run_replica(gpointer data) {
  const ReplicaJob *jb = data;
  TrReplicas *r = jb->reps;
  AcrnnNet *rep = r->nets[jb->j];
  const AcrnnNetConfig *cfg = acrnn_net_config(rep);
  const size_t dim = 2 * (size_t)cfg->bands * (size_t)cfg->frames;
  const size_t np = acrnn_net_n_params(rep), nb = acrnn_net_n_buffers(rep);
  memcpy(acrnn_net_params(rep), acrnn_net_params(jb->net), np * sizeof(float));
  acrnn_net_set_precision(rep, acrnn_net_get_precision(jb->net));
  acrnn_net_set_conv_frozen(rep, acrnn_net_get_conv_frozen(jb->net));
  for (int i = jb->j; i < jb->count; i += r->n) {
    const int s = jb->first + i;
    const int lo = tr_shard_start(jb->n, jb->k, s);
    const int m = tr_shard_start(jb->n, jb->k, s + 1) - lo;
    r->done[i] = m > 0;
    if (m <= 0)
      continue;
    memcpy(acrnn_net_buffers(rep), acrnn_net_buffers(jb->net),
           nb * sizeof(float));
    AcrnnRng rng; /* as tr_step_groups() seeds it */
    acrnn_rng_seed(&rng, jb->dropout_seed ^
                             ((guint64)(s + 1) * 0xbf58476d1ce4e5b9ULL));
    tr_step_shard(rep, jb->x + (size_t)lo * dim,
                  jb->y + (size_t)lo * cfg->n_classes, m, &rng, &r->stats[i]);
    const float w = (float)m / (float)jb->n, *g = acrnn_net_grads(rep);
    for (size_t p = 0; p < np; p++)
      r->grads[i][p] = g[p] * w;
    memcpy(r->bufs[i], acrnn_net_buffers(rep), nb * sizeof(float));
  }
  return NULL;
}

void tr_step_groups_replicas(TrReplicas *r, AcrnnNet *net, const float *x,
                             const float *y, int n, int k, int first, int count,
                             guint64 dropout_seed, float *grads,
                             TrStepStats *stats) {
  g_return_if_fail(count <= r->count);
  const size_t np = acrnn_net_n_params(net), nb = acrnn_net_n_buffers(net);
  const int threads = acrnn_get_threads();
  acrnn_set_threads(1); /* each replica on its one thread */
  const int nr = MIN(r->n, count);
  ReplicaJob *jobs = g_new(ReplicaJob, nr);
  GThread **th = g_new0(GThread *, nr);
  for (int j = 0; j < nr; j++)
    jobs[j] = (ReplicaJob){r, j, net, x, y, n, k, first, count, dropout_seed};
  for (int j = 1; j < nr; j++)
    th[j] = g_thread_try_new("acrnn-replica", run_replica, &jobs[j], NULL);
  run_replica(&jobs[0]);
  for (int j = 1; j < nr; j++) {
    if (th[j])
      g_thread_join(th[j]);
    else
      run_replica(&jobs[j]); /* no thread to be had: here */
  }
  acrnn_set_threads(threads);
  /* the sums of tr_step_groups(), in its order */
  float *buf = acrnn_net_buffers(net);
  float *sum = count > 1 ? g_new0(float, nb) : NULL;
  gboolean any = FALSE;
  memset(stats, 0, sizeof *stats);
  for (int i = 0; i < count; i++) {
    if (r->done[i]) {
      if (!any)
        memcpy(grads, r->grads[i], np * sizeof(float));
      else
        for (size_t p = 0; p < np; p++)
          grads[p] += r->grads[i][p];
      any = TRUE;
      stats->loss_sum += r->stats[i].loss_sum;
      stats->correct += r->stats[i].correct;
      stats->n += r->stats[i].n;
    }
    if (sum) {
      const float *b = r->done[i] ? r->bufs[i] : buf;
      for (size_t p = 0; p < nb; p++)
        sum[p] += b[p];
    }
  }
  if (!any)
    memset(grads, 0, np * sizeof(float));
  if (sum) {
    for (size_t p = 0; p < nb; p++)
      buf[p] = sum[p] / (float)count;
  } else if (r->done[0]) {
    memcpy(buf, r->bufs[0], nb * sizeof(float));
  }
  g_free(sum);
  g_free(jobs);
  g_free(th);
}

void tr_step_update(AcrnnSgd *opt, AcrnnNet *net, const float *grads,
                    float lr) {
  acrnn_sgd_step(opt, acrnn_net_params(net),
                 grads ? grads : acrnn_net_grads(net), lr);
}
