/* network_forward.c - the network's forward pass over a batch: the conv
 * blocks (batch norm folded into the conv in inference, with the sealed
 * weights' bf16 packing), the GRU layers, the attention, the classifier
 * and softmax; and the loss of the last training forward
 * (network_private.h). */
#include "gemm.h"
#include "layers.h"
#include "network_private.h"

#include <math.h>
#include <string.h>

/* x [N][2][B][S] -> x0 [2][N][B][S] */
static void input_to_cnhw(float *x0, const float *x, int n, size_t plane) {
  for (int i = 0; i < n; i++)
    for (int c = 0; c < 2; c++)
      memcpy(x0 + ((size_t)c * n + i) * plane, x + ((size_t)i * 2 + c) * plane,
             plane * sizeof(float));
}

/* map [C][N][Hf][T] -> seq [N][T][C*Hf] */
static void map_to_seq(float *seq, const float *map, int c_, int n, int hf,
                       int t) {
  for (int c = 0; c < c_; c++)
    for (int i = 0; i < n; i++)
      for (int h = 0; h < hf; h++)
        for (int s = 0; s < t; s++)
          seq[acrnn_net_seq_index(c, i, h, s, c_ * hf, hf, t)] =
              map[acrnn_net_map_index(c, i, h, s, n, hf, t)];
}

/* Inference: batch norm after the conv is the per-channel affine map
 *   s = g / sqrt(rv + eps), shift = (b - rm) * s + beta
 * applied to the conv without bias, so a block is one conv with an
 * epilogue max(s * y + shift, 0); the weights themselves are not copied. */
static void fold_batchnorm(AcrnnNet *net) {
  size_t nb = 0;
  for (int i = 0; i < N_BLOCKS; i++)
    nb += (size_t)net->blk[i].cout;
  if (!net->fold_s) {
    net->fold_s = g_new(float, nb);
    net->fold_b = g_new(float, nb);
  }
  float *fs = net->fold_s, *fb = net->fold_b;
  for (int i = 0; i < N_BLOCKS; i++) {
    Block *b = &net->blk[i];
    const float *bias = P(net, b->t_b);
    const float *g = P(net, b->t_g), *beta = P(net, b->t_beta);
    const float *rm = BUF(net, b->t_rm), *rv = BUF(net, b->t_rv);
    for (int c = 0; c < b->cout; c++) {
      fs[c] = g[c] / sqrtf(rv[c] + BN_EPS);
      fb[c] = (bias[c] - rm[c]) * fs[c] + beta[c];
    }
    fs += b->cout;
    fb += b->cout;
  }
}

/* The weight matrices of the forward's products, packed for bf16 (the
 * layers say which), from the sealed block w of the net data. */
static AcrnnPackedWeights *pack_weights(const AcrnnWeights *w,
                                        gconstpointer data) {
  const AcrnnNet *net = data;
  g_assert(net->w == w);
  AcrnnPackedWeights *set = acrnn_packed_weights_new();
  for (int i = 0; i < N_BLOCKS; i++) {
    const Block *b = &net->blk[i];
    acrnn_conv2d_pack_weights(set, P(net, b->t_w), b->cin, b->cout, b->h, b->w,
                              b->kh, b->kw);
  }
  for (int l = 0; l < 2; l++)
    for (int dir = 0; dir < 2; dir++) {
      const int *tt = net->t_gru[l][dir];
      acrnn_gru_pack_weights(set, P(net, tt[0]), P(net, tt[1]), net->gru_in[l],
                             HIDDEN);
    }
  if (net->cfg.attention.kind == ACRNN_ATTENTION_RNN)
    acrnn_attention_rnn_pack_weights(set, P(net, net->t_mlp_w), net->d, ATT);
  acrnn_dense_pack_weights(set, P(net, net->t_cls_w), net->d,
                           net->cfg.n_classes);
  return set;
}

static const float *net_forward(AcrnnNet *net, const float *x, int batch,
                                gboolean training, AcrnnRng *rng,
                                const gint64 *starts) {
  acrnn_net_ensure_capacity(net, batch, training);
  if (training) /* updates the running statistics */
    acrnn_net_own_weights(net);
  const int n = batch;
  net->batch = n;
  net->have_train_forward = training;
  net->have_loss = FALSE;
  const Block *b0 = &net->blk[0];

  /* frozen conv blocks train as they infer (acrnn_net_set_conv_frozen) */
  const gboolean batch_stats = training && !net->conv_frozen;
  if (!batch_stats)
    fold_batchnorm(net);
  /* blocks [0, front) already computed, shared across overlapping inputs,
   * and block front - 1's pool too if pooled */
  gboolean pooled = FALSE;
  const int front = starts && !training
                        ? acrnn_net_stream_front(net, x, starts, n, &pooled)
                        : 0;
  if (front == 0)
    input_to_cnhw(net->x0, x, n, (size_t)b0->h * b0->w);
  const float *fs = net->fold_s, *fb = net->fold_b;
  const float *in = net->x0;
  for (int i = 0; i < N_BLOCKS; i++) {
    Block *b = &net->blk[i];
    size_t m = (size_t)n * b->h * b->w;
    if (i < front) {
      fs += b->cout;
      fb += b->cout;
    } else if (batch_stats) {
      acrnn_conv2d_forward(net->conv_out[i], in, P(net, b->t_w), P(net, b->t_b),
                           n, b->cin, b->cout, b->h, b->w, b->kh, b->kw,
                           net->ws);
      if (b->ph && i != net->attn_block) { /* the ReLU's map never written */
        acrnn_bn_relu_pool_forward_train(
            net->pool_out[i], net->argmax[i], net->xmax[i], net->bn_mean[i],
            net->bn_rstd[i], net->conv_out[i], P(net, b->t_g),
            P(net, b->t_beta), BUF_W(net, b->t_rm), BUF_W(net, b->t_rv),
            b->cout, n, b->h, b->w, b->ph, b->pw, BN_MOMENTUM, BN_EPS);
        in = net->pool_out[i];
        continue;
      }
      acrnn_batchnorm_relu_forward_train(
          net->act[i], net->bn_mean[i], net->bn_rstd[i], net->conv_out[i],
          P(net, b->t_g), P(net, b->t_beta), BUF_W(net, b->t_rm),
          BUF_W(net, b->t_rv), b->cout, m, BN_MOMENTUM, BN_EPS);
    } else if (!training && b->ph && i != net->attn_block) {
      /* inference: the pool fused into the conv, the map never written
       * (training with frozen blocks keeps it: the pool's argmax) */
      acrnn_conv2d_scale_relu_pool_forward(
          net->pool_out[i], net->act[i], in, P(net, b->t_w), fs, fb, n, b->cin,
          b->cout, b->h, b->w, b->kh, b->kw, b->ph, b->pw, net->ws);
      fs += b->cout;
      fb += b->cout;
      in = net->pool_out[i];
      continue;
    } else {
      acrnn_conv2d_scale_relu_forward(net->act[i], in, P(net, b->t_w), fs, fb,
                                      n, b->cin, b->cout, b->h, b->w, b->kh,
                                      b->kw, net->ws);
      fs += b->cout;
      fb += b->cout;
    }
    const float *out = net->act[i];
    if (i == net->attn_block) {
      acrnn_attention_cnn_forward(net->att_out, net->attn, out,
                                  P(net, net->t_catt_w), P(net, net->t_catt_b),
                                  b->cout, n, b->h, b->w, net->ws);
      out = net->att_out;
    }
    if (b->ph) {
      if (!(pooled && i == front - 1))
        acrnn_maxpool_forward(net->pool_out[i],
                              training ? net->argmax[i] : NULL, out,
                              b->cout * n, b->h, b->w, b->ph, b->pw);
      out = net->pool_out[i];
    }
    in = out;
  }

  const int t = net->t, d = net->d;
  const size_t hs = (size_t)n * t * d;
  map_to_seq(net->seq, in, net->blk[N_BLOCKS - 1].cout, n, net->hf, t);
  const float *gin = net->seq;
  float *gout[2] = {net->y0, net->y1};
  float *drop_out[2] = {net->d0, net->h};
  float *mask[2] = {net->mask0, net->mask1};
  for (int l = 0; l < 2; l++) {
    for (int dir = 0; dir < 2; dir++) {
      const int *tt = net->t_gru[l][dir];
      acrnn_gru_forward(gout[l], d, dir * HIDDEN, net->gru_cache[l][dir], gin,
                        n, t, net->gru_in[l], HIDDEN, P(net, tt[0]),
                        P(net, tt[1]), P(net, tt[2]), P(net, tt[3]), dir,
                        net->ws);
    }
    if (training && net->dropout > 0.0f) {
      acrnn_dropout_forward(drop_out[l], mask[l], gout[l], hs, net->dropout,
                            rng);
      gin = drop_out[l];
    } else {
      gin = gout[l];
    }
  }
  const float *hseq = gin;

  if (net->cfg.attention.kind == ACRNN_ATTENTION_RNN)
    acrnn_attention_rnn_forward(net->v, net->beta, net->att_cache, hseq,
                                P(net, net->t_mlp_w), P(net, net->t_mlp_b),
                                P(net, net->t_score_w), n, t, d, ATT);
  else
    acrnn_mean_time_forward(net->v, hseq, n, t, d);
  acrnn_dense_forward(net->logits, net->v, P(net, net->t_cls_w),
                      P(net, net->t_cls_b), n, d, net->cfg.n_classes);
  acrnn_softmax_forward(net->probs, net->logits, n, net->cfg.n_classes);
  return net->logits;
}

/* acrnn_net_forward(), the inputs at stream frames starts (or NULL) */
static const float *forward(AcrnnNet *net, const float *x, int batch,
                            gboolean training, AcrnnRng *rng,
                            const gint64 *starts) {
  const AcrnnPrecision before = acrnn_gemm_precision();
  const AcrnnPackedWeights *packed_before = acrnn_gemm_packed();
  acrnn_gemm_set_precision(net->precision);
  /* a sealed block's weights do not change: in bf16 they are rounded and
   * packed once for all its nets (weights.h) */
  const gboolean packed =
      net->precision == ACRNN_PRECISION_BF16 && !training && net->w->sealed;
  acrnn_gemm_set_packed(packed ? acrnn_weights_packed(net->w, pack_weights, net)
                               : NULL);
  const float *logits = net_forward(net, x, batch, training, rng, starts);
  acrnn_gemm_set_precision(before);
  acrnn_gemm_set_packed(packed_before);
  return logits;
}

const float *acrnn_net_forward(AcrnnNet *net, const float *x, int batch,
                               gboolean training, AcrnnRng *rng) {
  g_return_val_if_fail(batch >= 1, NULL);
  g_return_val_if_fail(!training || rng || net->dropout == 0.0f, NULL);
  return forward(net, x, batch, training, rng, NULL);
}

const float *acrnn_net_forward_stream(AcrnnNet *net, const float *x,
                                      const gint64 *starts, int batch) {
  g_return_val_if_fail(batch >= 1, NULL);
  g_return_val_if_fail(starts != NULL, NULL);
  return forward(net, x, batch, FALSE, NULL, starts);
}

void acrnn_net_probabilities(const AcrnnNet *net, float *probs) {
  memcpy(probs, net->probs,
         sizeof(float) * (size_t)net->batch * net->cfg.n_classes);
}

float acrnn_net_loss(AcrnnNet *net, const float *targets) {
  size_t k = (size_t)net->batch * net->cfg.n_classes;
  memset(net->dlogits, 0, k * sizeof(float));
  net->have_loss = TRUE;
  return acrnn_xent_forward_backward(net->dlogits, net->probs, targets,
                                     net->batch, net->cfg.n_classes);
}
