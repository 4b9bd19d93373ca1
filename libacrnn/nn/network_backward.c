/* network_backward.c - the network's backward pass after a training
 * forward and its loss: classifier, attention, GRU layers, then the conv
 * blocks (frozen or not), accumulating into the gradients
 * (network_private.h). */
#include "gemm.h"
#include "layers.h"
#include "network_private.h"

#include <string.h>

/* The gradient of map_to_seq()'s map, accumulated from seq's. */
static void seq_to_map_add(float *map, const float *seq, int c_, int n, int hf,
                           int t) {
  for (int c = 0; c < c_; c++)
    for (int i = 0; i < n; i++)
      for (int h = 0; h < hf; h++)
        for (int s = 0; s < t; s++)
          map[acrnn_net_map_index(c, i, h, s, n, hf, t)] +=
              seq[acrnn_net_seq_index(c, i, h, s, c_ * hf, hf, t)];
}

/* The conv blocks' backward, top down, in three map-sized gradient
 * buffers: dout (the gradient of the block's output), then the gradient of
 * its ReLU output (un-pooled, through the attention), which batch norm +
 * ReLU backward turns in place into the gradient of the conv output, then
 * the conv's input gradient, which is the next dout.
 *
 * Frozen blocks (acrnn_net_set_conv_frozen()) ran as inference does,
 * y = max(s * conv(x) + shift, 0) per channel, and nothing in them learns
 * but a cnn attention: the gradient goes down to the attention's block
 * through the blocks above it (d conv = dy * s where y > 0, then the conv's
 * input gradient only) and stops there; with rnn or no attention nothing is
 * computed. */
static void conv_backward(AcrnnNet *net, gboolean frozen) {
  if (frozen && net->attn_block < 0)
    return;
  const int n = net->batch;
  const Block *last = &net->blk[N_BLOCKS - 1];
  size_t scale_at = 0; /* frozen: the block's scales in fold_s */
  for (int i = 0; i < N_BLOCKS - 1; i++)
    scale_at += (size_t)net->blk[i].cout;
  float *dout = net->gbuf[0];
  memset(dout, 0, sizeof(float) * (size_t)last->cout * n * last->oh * last->ow);
  seq_to_map_add(dout, net->dseq, last->cout, n, net->hf, net->t);
  for (int i = N_BLOCKS - 1; i >= 0; i--) {
    const Block *b = &net->blk[i];
    const size_t m = (size_t)n * b->h * b->w, sz = (size_t)b->cout * m;
    float *spare[2];
    for (int k = 0, j = 0; k < 3; k++)
      if (net->gbuf[k] != dout)
        spare[j++] = net->gbuf[k];
    const float *xin = i == 0                       ? net->x0
                       : net->blk[i - 1].ph         ? net->pool_out[i - 1]
                       : (i - 1 == net->attn_block) ? net->att_out
                                                    : net->act[i - 1];
    float *dconv;
    if (!frozen && b->ph && i != net->attn_block) {
      /* batch norm, ReLU and pool fused (bn_relu_pool.c) */
      dconv = spare[0];
      acrnn_bn_relu_pool_backward_set(
          dconv, G(net, b->t_g), G(net, b->t_beta), dout, net->argmax[i],
          net->pool_out[i], net->xmax[i], net->conv_out[i], net->bn_mean[i],
          net->bn_rstd[i], P(net, b->t_g), b->cout, n, b->h, b->w, b->ph,
          b->pw);
      spare[0] = dout;
    } else {
      float *dact = dout;
      if (b->ph) { /* un-pool into a full-size map */
        dact = spare[0];
        acrnn_maxpool_backward_set(dact, dout, net->argmax[i], b->cout * n,
                                   b->h, b->w, b->ph, b->pw);
        spare[0] = dout;
      }
      if (i == net->attn_block) {
        float *dm = spare[0];
        memset(dm, 0, sz * sizeof(float));
        acrnn_attention_cnn_backward(dm, G(net, net->t_catt_w),
                                     G(net, net->t_catt_b), dact, net->attn,
                                     net->act[i], P(net, net->t_catt_w),
                                     b->cout, n, b->h, b->w, net->ws);
        if (frozen)
          return; /* nothing below learns */
        spare[0] = dact;
        dact = dm;
      }
      dconv = dact; /* in place */
      if (frozen) {
        const float *s = net->fold_s + scale_at, *y = net->act[i];
        for (int c = 0; c < b->cout; c++)
          for (size_t j = (size_t)c * m; j < (size_t)(c + 1) * m; j++)
            dconv[j] = y[j] > 0.0f ? dconv[j] * s[c] : 0.0f;
      } else {
        acrnn_batchnorm_relu_backward_set(
            dconv, G(net, b->t_g), G(net, b->t_beta), dact, net->act[i],
            net->conv_out[i], net->bn_mean[i], net->bn_rstd[i], P(net, b->t_g),
            b->cout, m);
      }
    }
    float *dx = i > 0 ? spare[0] : NULL; /* overwritten by the conv's */
    acrnn_conv2d_backward_set(dx, frozen ? NULL : G(net, b->t_w),
                              frozen ? NULL : G(net, b->t_b), dconv, xin,
                              P(net, b->t_w), n, b->cin, b->cout, b->h, b->w,
                              b->kh, b->kw, net->ws);
    dout = dx;
    if (i > 0)
      scale_at -= (size_t)net->blk[i - 1].cout;
  }
}

static void net_backward(AcrnnNet *net) {
  const int n = net->batch, t = net->t, d = net->d;
  const size_t hs = (size_t)n * t * d;
  const gboolean dropout = net->dropout > 0.0f;

  /* classifier and pooling over time */
  memset(net->dv, 0, sizeof(float) * (size_t)n * d);
  acrnn_dense_backward(net->dv, G(net, net->t_cls_w), G(net, net->t_cls_b),
                       net->dlogits, net->v, P(net, net->t_cls_w), n, d,
                       net->cfg.n_classes);
  const float *hseq = dropout ? net->h : net->y1;
  memset(net->dh, 0, hs * sizeof(float));
  if (net->cfg.attention.kind == ACRNN_ATTENTION_RNN)
    acrnn_attention_rnn_backward(
        net->dh, G(net, net->t_mlp_w), G(net, net->t_mlp_b),
        G(net, net->t_score_w), net->dv, net->beta, net->att_cache, hseq,
        P(net, net->t_mlp_w), P(net, net->t_score_w), n, t, d, ATT);
  else
    acrnn_mean_time_backward(net->dh, net->dv, n, t, d);

  /* GRU layers, top down */
  const float *gin[2] = {net->seq, dropout ? net->d0 : net->y0};
  float *dgout[2] = {net->dy0, net->dy1};
  float *dgin[2] = {net->dseq, net->dd0};
  const float *mask[2] = {net->mask0, net->mask1};
  const float *dtop = net->dh; /* gradient of the dropout output of layer 1 */
  for (int l = 1; l >= 0; l--) {
    if (dropout) {
      memset(dgout[l], 0, hs * sizeof(float));
      acrnn_dropout_backward(dgout[l], dtop, mask[l], hs);
    } else {
      memcpy(dgout[l], dtop, hs * sizeof(float));
    }
    size_t nin = (size_t)n * t * net->gru_in[l];
    memset(dgin[l], 0, nin * sizeof(float));
    for (int dir = 0; dir < 2; dir++) {
      const int *tt = net->t_gru[l][dir];
      acrnn_gru_backward(dgin[l], G(net, tt[0]), G(net, tt[1]), G(net, tt[2]),
                         G(net, tt[3]), dgout[l], d, dir * HIDDEN,
                         net->gru_cache[l][dir], gin[l], n, t, net->gru_in[l],
                         HIDDEN, P(net, tt[0]), P(net, tt[1]), dir, net->ws);
    }
    dtop = dgin[l];
  }
  conv_backward(net, net->conv_frozen);
}

void acrnn_net_backward(AcrnnNet *net) {
  g_return_if_fail(net->have_train_forward && net->have_loss);
  const AcrnnPrecision before = acrnn_gemm_precision();
  const AcrnnPackedWeights *packed_before = acrnn_gemm_packed();
  acrnn_gemm_set_precision(net->precision);
  acrnn_gemm_set_packed(NULL); /* a net that trains has no packed weights */
  net_backward(net);
  acrnn_gemm_set_precision(before);
  acrnn_gemm_set_packed(packed_before);
}
