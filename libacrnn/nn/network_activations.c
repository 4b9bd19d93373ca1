/* network_activations.c - the activations of a batch: a table of every
 * activation, gradient and scratch buffer of the passes, each with its size
 * for n segments, placed in one arena that grows with the batch
 * (network_private.h). */
#include "layers.h"
#include "network_private.h"

#include <stddef.h>
#include <string.h>

static size_t map_size(const Block *b, int n) {
  return (size_t)b->cout * n * b->h * b->w;
}

/* Sizes of activations, in elements, for n segments; k indexes the
 * activations that come one per block (or per GRU layer and direction). */
static size_t input_size(const AcrnnNet *net, int n, int k) {
  (void)k;
  return (size_t)2 * n * net->blk[0].h * net->blk[0].w;
}
static size_t block_map(const AcrnnNet *net, int n, int k) {
  return map_size(&net->blk[k], n);
}
static size_t block_pooled(const AcrnnNet *net, int n, int k) {
  const Block *b = &net->blk[k];
  return b->ph ? (size_t)b->cout * n * b->oh * b->ow : 0;
}
static size_t block_channels(const AcrnnNet *net, int n, int k) {
  (void)n;
  return (size_t)net->blk[k].cout;
}
static size_t largest_map(const AcrnnNet *net, int n, int k) {
  (void)k;
  size_t m = 0;
  for (int i = 0; i < N_BLOCKS; i++)
    m = MAX(m, map_size(&net->blk[i], n));
  return m;
}
static size_t cnn_attention_map(const AcrnnNet *net, int n, int k) {
  (void)k;
  return net->attn_block >= 0 ? map_size(&net->blk[net->attn_block], n) : 0;
}
static size_t cnn_attention_weights(const AcrnnNet *net, int n, int k) {
  (void)k;
  return net->attn_block >= 0 ? (size_t)n * net->blk[net->attn_block].w : 0;
}
static size_t gru_input(const AcrnnNet *net, int n, int k) {
  (void)k;
  return (size_t)n * net->t * net->gru_in[0];
}
static size_t gru_output(const AcrnnNet *net, int n, int k) {
  (void)k;
  return (size_t)n * net->t * net->d;
}
static size_t gru_cache(const AcrnnNet *net, int n, int k) {
  (void)k;
  return acrnn_gru_cache_size(n, net->t, HIDDEN);
}
static size_t rnn_attention_cache(const AcrnnNet *net, int n, int k) {
  (void)k;
  return net->cfg.attention.kind == ACRNN_ATTENTION_RNN
             ? acrnn_attention_rnn_cache_size(n, net->t, ATT)
             : 0;
}
static size_t per_step(const AcrnnNet *net, int n, int k) {
  (void)k;
  return (size_t)n * net->t;
}
static size_t pooled(const AcrnnNet *net, int n, int k) {
  (void)k;
  return (size_t)n * net->d;
}
static size_t per_class(const AcrnnNet *net, int n, int k) {
  (void)k;
  return (size_t)n * net->cfg.n_classes;
}
/* The layers' scratch: the most any of them asks for. */
static size_t workspace(const AcrnnNet *net, int n, int k) {
  (void)k;
  size_t ws = 1;
  for (int i = 0; i < N_BLOCKS; i++) {
    const Block *b = &net->blk[i];
    ws = MAX(ws, acrnn_conv2d_workspace(b->cin, b->cout, n, b->h, b->w, b->kh,
                                        b->kw));
  }
  if (net->attn_block >= 0) {
    const Block *b = &net->blk[net->attn_block];
    ws = MAX(ws, acrnn_attention_cnn_workspace(b->cout, n, b->h, b->w));
  }
  return MAX(ws, acrnn_gru_workspace(n, net->t, HIDDEN));
}

typedef enum {
  FOR_ALL,      /* inference and training */
  FOR_TRAINING, /* a training forward and the backward only */
} ActivationUse;

/* One entry of the activation table: the AcrnnNet field (a pointer, or an
 * array of count pointers) that place_activations() points into the arena,
 * and the size of each. */
typedef struct {
  const char *name;
  size_t field; /* offsetof(AcrnnNet, name) */
  int count;    /* pointers in the field */
  size_t (*size)(const AcrnnNet *net, int n, int k); /* elements, 0: none */
  size_t elem;                                       /* bytes an element */
  ActivationUse use;
} Activation;

#define ACT(name, count, size, type, use)                                      \
  { #name, offsetof(AcrnnNet, name), count, size, sizeof(type), use }

/* Every activation, gradient and scratch buffer of the passes. */
static const Activation activations[] = {
    ACT(x0, 1, input_size, float, FOR_ALL),
    ACT(conv_out, N_BLOCKS, block_map, float, FOR_TRAINING),
    ACT(act, N_BLOCKS, block_map, float, FOR_ALL),
    ACT(pool_out, N_BLOCKS, block_pooled, float, FOR_ALL),
    ACT(argmax, N_BLOCKS, block_pooled, int32_t, FOR_TRAINING),
    ACT(xmax, N_BLOCKS, block_pooled, float, FOR_TRAINING),
    ACT(bn_mean, N_BLOCKS, block_channels, float, FOR_TRAINING),
    ACT(bn_rstd, N_BLOCKS, block_channels, float, FOR_TRAINING),
    ACT(att_out, 1, cnn_attention_map, float, FOR_ALL),
    ACT(attn, 1, cnn_attention_weights, float, FOR_ALL),
    ACT(seq, 1, gru_input, float, FOR_ALL),
    ACT(y0, 1, gru_output, float, FOR_ALL),
    ACT(d0, 1, gru_output, float, FOR_TRAINING),
    ACT(mask0, 1, gru_output, float, FOR_TRAINING),
    ACT(y1, 1, gru_output, float, FOR_ALL),
    ACT(h, 1, gru_output, float, FOR_TRAINING),
    ACT(mask1, 1, gru_output, float, FOR_TRAINING),
    ACT(gru_cache, 4, gru_cache, float, FOR_ALL),
    ACT(att_cache, 1, rnn_attention_cache, float, FOR_ALL),
    ACT(beta, 1, per_step, float, FOR_ALL),
    ACT(v, 1, pooled, float, FOR_ALL),
    ACT(logits, 1, per_class, float, FOR_ALL),
    ACT(probs, 1, per_class, float, FOR_ALL),
    ACT(dlogits, 1, per_class, float, FOR_ALL),
    ACT(ws, 1, workspace, float, FOR_ALL),
    ACT(gbuf, 3, largest_map, float, FOR_TRAINING),
    ACT(dseq, 1, gru_input, float, FOR_TRAINING),
    ACT(dy0, 1, gru_output, float, FOR_TRAINING),
    ACT(dd0, 1, gru_output, float, FOR_TRAINING),
    ACT(dy1, 1, gru_output, float, FOR_TRAINING),
    ACT(dh, 1, gru_output, float, FOR_TRAINING),
    ACT(dv, 1, pooled, float, FOR_TRAINING),
};

#define ARENA_ALIGN 64 /* bytes: a cache line, an AVX-512 vector */

/* One arena for the activations of n segments (and the training-only ones
 * if training), the table's pointers set into it; unused ones NULL. */
static void place_activations(AcrnnNet *net, int n, gboolean training) {
  g_aligned_free(net->arena);
  net->arena = NULL;
  for (int pass = 0; pass < 2; pass++) {
    size_t at = 0;
    for (size_t a = 0; a < G_N_ELEMENTS(activations); a++) {
      const Activation *e = &activations[a];
      for (int k = 0; k < e->count; k++) {
        size_t bytes = e->use == FOR_TRAINING && !training
                           ? 0
                           : e->size(net, n, k) * e->elem;
        if (pass == 1) {
          void *p = bytes ? (char *)net->arena + at : NULL;
          memcpy((char *)net + e->field + k * sizeof(void *), &p, sizeof p);
        }
        at += (bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
      }
    }
    if (pass == 0)
      net->arena = g_aligned_alloc(1, MAX(at, 1), ARENA_ALIGN);
  }
  net->cap = n;
  net->cap_training = training;
}

void acrnn_net_ensure_capacity(AcrnnNet *net, int n, gboolean training) {
  if (n <= net->cap && (net->cap_training || !training))
    return;
  place_activations(net, MAX(n, net->cap), training || net->cap_training);
}
