/* network_private.h - (internal) the ACRNN network's state, shared by the
 * files that implement acrnn/network.h:
 *
 *   network.c             configuration, tensor table, weights (own, or
 *                         sealed and shared, weights.h), gradients
 *   network_activations.c the activations of a batch, in one arena
 *   network_forward.c     the forward pass (and the loss)
 *   network_backward.c    the backward pass
 *
 * Conv maps are CNHW ([C][N][H][W]) from the input transpose to the last
 * pool; the last map is then reshaped into the GRU sequence [N][T][C*Hf]
 * with feature index c*Hf + h, as x.permute(0,3,1,2).reshape(B,T,-1) does
 * (docs/network.md).
 */
#ifndef ACRNN_NETWORK_PRIVATE_H
#define ACRNN_NETWORK_PRIVATE_H

#include "weights.h"

#include <acrnn/network.h>
#include <glib.h>

G_BEGIN_DECLS

#define N_BLOCKS 8
#define HIDDEN 256 /* GRU hidden size per direction */
#define ATT 256    /* rnn attention MLP size */
#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f
#define MAX_TENSORS 96

typedef struct {
  int cin, cout, kh, kw;
  int h, w;   /* map size inside the block */
  int ph, pw; /* pool after the block, 0 if none */
  int oh, ow; /* map size after the pool */
  /* tensor indices */
  int t_w, t_b, t_g, t_beta, t_rm, t_rv;
} Block;

struct AcrnnNet {
  AcrnnNetConfig cfg;
  Block blk[N_BLOCKS];
  int attn_block; /* conv block the cnn attention follows, -1 if none */
  int hf, t;      /* final map height, GRU steps */
  int gru_in[2];  /* GRU input size per layer */
  int d;          /* 2 * HIDDEN */
  float dropout;
  AcrnnPrecision precision;
  gboolean conv_frozen; /* acrnn_net_set_conv_frozen() */

  AcrnnTensorInfo tensors[MAX_TENSORS];
  char *names[MAX_TENSORS];
  size_t n_tensors;
  int t_catt_w, t_catt_b, t_gru[2][2][4], t_mlp_w, t_mlp_b, t_score_w, t_cls_w,
      t_cls_b;

  AcrnnWeights *w; /* parameters and buffers: own, or sealed and shared */
  float *grads;    /* n_params; made by the first use (acrnn_net_grads()) */
  size_t n_params, n_buffers;

  /* Activations for `cap` segments (the training-only ones too if
   * cap_training), all in `arena`, placed by the table `activations`. */
  int cap, batch;
  gboolean cap_training;
  gboolean have_train_forward, have_loss;
  void *arena;
  float *x0;
  float *conv_out[N_BLOCKS], *act[N_BLOCKS], *pool_out[N_BLOCKS];
  int32_t *argmax[N_BLOCKS];
  float *xmax[N_BLOCKS]; /* conv_out at the argmaxes (bn_relu_pool.c) */
  float *bn_mean[N_BLOCKS], *bn_rstd[N_BLOCKS];
  float *att_out, *attn; /* cnn attention */
  float *seq, *y0, *d0, *mask0, *y1, *h, *mask1;
  float *gru_cache[2][2];
  float *att_cache, *beta, *v, *logits, *probs, *dlogits;
  float *ws;
  float *gbuf[3];                          /* conv-map gradient scratch */
  float *dseq, *dy0, *dd0, *dy1, *dh, *dv; /* sequence gradients */
  float *fold_s, *fold_b; /* inference: batch norm + bias as scale, shift */
  float *stream_scratch;  /* network_stream.c: maps of the shared front */
  size_t stream_cap;      /* its floats */
};

/* A parameter and a running statistic, to read. */
static inline const float *P(const AcrnnNet *net, int t) {
  return net->w->params + net->tensors[t].offset;
}
static inline const float *BUF(const AcrnnNet *net, int t) {
  return net->w->buffers + net->tensors[t].offset;
}

/* net's weights to write: a sealed (shared, read-only) block is first
 * replaced by a private copy, so a write never reaches another net
 * (network.c). */
AcrnnWeights *acrnn_net_own_weights(AcrnnNet *net);
/* A running statistic to write (a training forward owns its weights). */
static inline float *BUF_W(AcrnnNet *net, int t) {
  g_assert(!net->w->sealed);
  return net->w->buffers + net->tensors[t].offset;
}
/* A parameter's gradient; acrnn_net_grads() makes them (zero) at the first
 * use: a net that only infers has none. */
static inline float *G(AcrnnNet *net, int t) {
  return acrnn_net_grads(net) + net->tensors[t].offset;
}

/* network_activations.c: room for the activations of n segments (and the
 * training-only ones if training), kept when there already is. */
void acrnn_net_ensure_capacity(AcrnnNet *net, int n, gboolean training);

/* network_stream.c: for inference over inputs x [n][2][bands][frames] cut
 * from one stream, input i at stream frame starts[i], computes the conv
 * blocks before the first pooling (the front) once over the frames
 * overlapping inputs share, bit for bit as a forward of each input would,
 * and returns F: into pool_out[F - 1], pooled (*pooled TRUE), when block
 * F - 1 has a pool and no cnn attention; else into act[F - 1]. Or computes
 * nothing and returns 0 (no overlap worth sharing, or the direct kernels
 * would not run). Needs the folded batch norm (fold_s, fold_b). */
int acrnn_net_stream_front(AcrnnNet *net, const float *x, const gint64 *starts,
                           int n, gboolean *pooled);

/* map [C][N][Hf][T] <-> seq [N][T][C*Hf] (feature c*Hf + h) */
static inline size_t acrnn_net_map_index(int c, int i, int h, int s, int n,
                                         int hf, int t) {
  return (((size_t)c * n + i) * hf + h) * t + s;
}
static inline size_t acrnn_net_seq_index(int c, int i, int h, int s, int chf,
                                         int hf, int t) {
  return ((size_t)i * t + s) * chf + (size_t)c * hf + h;
}

G_END_DECLS

#endif
