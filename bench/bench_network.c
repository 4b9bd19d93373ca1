/* bench_network.c - throughput of the ACRNN network on this machine:
 * inference at batch 1, 16 and 64, and a training step (forward, backward,
 * SGD update) at batch 64, in segments per second and GFLOP/s.
 *
 *   bench_network [--threads N] [--attention rnn] [--seconds S] [--only NAME]
 *                 [--precision fp32|bf16]
 * Prints one line per figure: "name segments_per_s gflops cpu_segments_per_s",
 * the last per second of this process's CPU time (all its threads), which
 * other load on a shared machine disturbs less than wall time: use it to
 * compare two builds at 1 thread. --only runs just the figure NAME
 * (infer_b1, infer_b16, stream_b16, infer_b64 or train_b64), for
 * profiling. stream_b16 is infer_b16 over 16 segments cut from one stream
 * every 64 frames, as acrnnclassify cuts them, through
 * acrnn_net_forward_stream(), where overlapping segments share their first
 * conv blocks (its GFLOP/s count the operations of 16 whole segments, as
 * infer_b16's: the gain shows as a higher figure). --precision
 * bf16 runs the network with bf16 products and fp32 sums (the header line says
 * whether the CPU runs them natively or emulated). Inference runs a sealed
 * copy of the network, as acrnnclassify does with the model it loads
 * (acrnn_model_load_shared()); infer_b16 is that element's batch on a file.
 * With --threads N > 1, infer_b16 and infer_b64 split the batch across N
 * copies of the network, one part per thread
 * (acrnn_net_forward_replicas(), as acrnnclassify threads=N does),
 * infer_b1 splits each layer over N threads (one segment cannot be split),
 * and train_b64 runs N replicas of the network side by side, each on its
 * share of the batch on one thread, as acrnn-train --threads N does. */
#include <acrnn/acrnn.h>
#include <acrnn/replicas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  return g_get_monotonic_time() / 1e6;
}

/* A replica of the training step (acrnn-train --threads N): its network
 * computes the gradient of its share of the batch on its own thread. */
typedef struct {
  AcrnnNet *net;
  const float *x, *y;
  int n;
  AcrnnRng rng;
} Replica;

static gpointer replica_step(gpointer data) {
  Replica *r = data;
  acrnn_net_zero_grad(r->net);
  acrnn_net_forward(r->net, r->x, r->n, TRUE, &r->rng);
  acrnn_net_loss(r->net, r->y);
  acrnn_net_backward(r->net);
  return NULL;
}

/* One training step of batch b on nt replicas (nt > 1): parameters copied
 * to each, shares computed side by side with one compute thread each, the
 * size-weighted gradients summed into net's, one update. */
static void replicated_step(AcrnnNet *net, Replica *reps, int nt,
                            const float *x, const float *y, int b, size_t dim,
                            int classes, AcrnnSgd *opt) {
  const size_t np = acrnn_net_n_params(net);
  GThread *th[64] = {NULL};
  acrnn_set_threads(1);
  for (int j = 0, lo = 0; j < nt; j++) {
    const int n = b / nt + (j < b % nt);
    memcpy(acrnn_net_params(reps[j].net), acrnn_net_params(net),
           np * sizeof(float));
    reps[j].x = x + (size_t)lo * dim;
    reps[j].y = y + (size_t)lo * classes;
    reps[j].n = n;
    lo += n;
    if (j > 0)
      th[j] = g_thread_new("replica", replica_step, &reps[j]);
  }
  replica_step(&reps[0]);
  for (int j = 1; j < nt; j++)
    g_thread_join(th[j]);
  acrnn_set_threads(nt);
  float *g = acrnn_net_grads(net);
  for (int j = 0; j < nt; j++) {
    const float w = (float)reps[j].n / (float)b;
    const float *gj = acrnn_net_grads(reps[j].net);
    for (size_t i = 0; i < np; i++)
      g[i] = j == 0 ? gj[i] * w : g[i] + gj[i] * w;
  }
  acrnn_sgd_step(opt, acrnn_net_params(net), g, 0.01f);
}

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  int threads = 1;
  double seconds = 3.0;
  const char *attention = "rnn", *only = NULL, *precision = "fp32";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--threads") == 0)
      threads = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--attention") == 0)
      attention = argv[i + 1];
    else if (strcmp(argv[i], "--seconds") == 0)
      seconds = atof(argv[i + 1]);
    else if (strcmp(argv[i], "--only") == 0)
      only = argv[i + 1];
    else if (strcmp(argv[i], "--precision") == 0)
      precision = argv[i + 1];
  }
  acrnn_set_threads(threads);
  AcrnnNetConfig cfg;
  acrnn_net_config_init(&cfg);
  GError *err = NULL;
  if (!acrnn_attention_parse(attention, &cfg.attention, &err)) {
    fprintf(stderr, "bench_network: %s\n", err->message);
    return 2;
  }
  AcrnnPrecision prec;
  if (!acrnn_precision_parse(precision, &prec, &err)) {
    fprintf(stderr, "bench_network: %s\n", err->message);
    return 2;
  }
  AcrnnNet *net = acrnn_net_new(&cfg, &err);
  acrnn_net_init_random(net, 1);
  acrnn_net_set_precision(net, prec);
  const int max_batch = 64;
  size_t seg = (size_t)2 * cfg.bands * cfg.frames;
  float *x = g_new(float, seg *max_batch);
  float *y = g_new0(float, (size_t)max_batch *cfg.n_classes);
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 3);
  for (size_t i = 0; i < seg * max_batch; i++)
    x[i] = (float)acrnn_rng_normal(&rng);
  for (int i = 0; i < max_batch; i++)
    y[i * cfg.n_classes + i % cfg.n_classes] = 1.0f;
  /* stream_b16's inputs: 16 segments of x's first rows taken as a stream */
  enum { STREAM_BATCH = 16 };
  const int hop = cfg.frames / 2;
  const int stream_frames = cfg.frames + (STREAM_BATCH - 1) * hop;
  float *xs = g_new(float, seg *STREAM_BATCH);
  gint64 starts[STREAM_BATCH];
  for (int i = 0; i < STREAM_BATCH; i++) {
    starts[i] = (gint64)i * hop;
    for (int row = 0; row < 2 * cfg.bands; row++)
      memcpy(xs + ((size_t)i * 2 * cfg.bands + row) * cfg.frames,
             x + (size_t)row * stream_frames + starts[i],
             sizeof(float) * cfg.frames);
  }
  AcrnnSgdParams sp;
  acrnn_sgd_params_init(&sp);
  AcrnnSgd *opt = acrnn_sgd_new(&sp, acrnn_net_n_params(net));
  double flops = acrnn_net_forward_flops(net);
  /* training on N threads runs N replicas, as acrnn-train does */
  const int nrep = threads > 64 ? 64 : threads;
  Replica *reps = g_new0(Replica, nrep);
  for (int j = 0; nrep > 1 && j < nrep; j++) {
    reps[j].net = acrnn_net_new(&cfg, &err);
    acrnn_net_init_random(reps[j].net, 1);
    acrnn_net_set_precision(reps[j].net, prec);
    acrnn_rng_seed(&reps[j].rng, 10 + (uint64_t)j);
  }
  /* inference: a sealed copy of net (read-only weights, shared by its
   * copies), on N threads with N - 1 copies of it */
  AcrnnNet **copies = g_new(AcrnnNet *, MAX(nrep, 1));
  copies[0] = acrnn_net_copy(net);
  acrnn_net_seal(copies[0]);
  acrnn_net_set_precision(copies[0], prec);
  for (int j = 1; j < nrep; j++)
    copies[j] = acrnn_net_copy(copies[0]);

  printf("# threads %d, attention %s, precision %s%s, %.3f GFLOP per segment "
         "forward\n",
         threads, attention, precision,
         prec == ACRNN_PRECISION_BF16 && !acrnn_bf16_native() ? " (emulated)"
                                                              : "",
         flops / 1e9);
  static const struct {
    const char *name;
    int batch;
    gboolean train, stream;
  } runs[] = {{"infer_b1", 1, FALSE, FALSE},
              {"infer_b16", 16, FALSE, FALSE},
              {"stream_b16", STREAM_BATCH, FALSE, TRUE},
              {"infer_b64", 64, FALSE, FALSE},
              {"train_b64", 64, TRUE, FALSE}};
  for (size_t r = 0; r < G_N_ELEMENTS(runs); r++) {
    if (only && strcmp(only, runs[r].name) != 0)
      continue;
    const int b = runs[r].batch;
    /* One untimed warm-up step allocates and first touches the activations
     * and gradient buffers, as bench_torch.py's warm-up step does. */
    long segs = -b;
    double t0 = 0.0, t = 0.0, c0 = 0.0;
    do {
      if (runs[r].train && nrep > 1) {
        replicated_step(net, reps, nrep, x, y, b, seg, cfg.n_classes, opt);
      } else if (runs[r].train) {
        acrnn_net_zero_grad(net);
        acrnn_net_forward(net, x, b, TRUE, &rng);
        acrnn_net_loss(net, y);
        acrnn_net_backward(net);
        acrnn_sgd_step(opt, acrnn_net_params(net), acrnn_net_grads(net), 0.01f);
      } else if (runs[r].stream) {
        acrnn_net_forward_replicas_stream(copies, nrep, xs, starts, b, NULL,
                                          NULL);
      } else if (nrep > 1 && b > 1) {
        acrnn_net_forward_replicas(copies, nrep, x, b, NULL, NULL);
      } else {
        acrnn_net_forward(copies[0], x, b, FALSE, NULL);
      }
      t = now();
      if (segs < 0) {
        t0 = t;
        c0 = cpu_now();
      }
      segs += b;
    } while (t - t0 < seconds);
    double sps = segs / (t - t0);
    /* a training step costs about 3 forwards (backward = 2 forwards) */
    double gf = sps * flops * (runs[r].train ? 3.0 : 1.0) / 1e9;
    printf("%s %.2f %.1f %.2f\n", runs[r].name, sps, gf,
           segs / (cpu_now() - c0));
    fflush(stdout);
  }
  for (int j = 0; nrep > 1 && j < nrep; j++)
    acrnn_net_free(reps[j].net);
  for (int j = 0; j < MAX(nrep, 1); j++)
    acrnn_net_free(copies[j]);
  g_free(copies);
  g_free(reps);
  acrnn_sgd_free(opt);
  acrnn_net_free(net);
  g_free(x);
  g_free(xs);
  g_free(y);
  return 0;
}
