/* network.c - the ACRNN network: builds the tensor table and the table of
 * activations, holds the parameter and running-statistics block (its own, or
 * a sealed one shared with other nets, weights.h) and its gradients, and
 * chains the layers of layers.h into a batched forward and backward pass
 * (docs/network.md).
 *
 * Conv maps are CNHW ([C][N][H][W]) from the input transpose to the last
 * pool; the last map is then reshaped into the GRU sequence [N][T][C*Hf]
 * with feature index c*Hf + h, as x.permute(0,3,1,2).reshape(B,T,-1) does.
 */
#include "gemm.h"
#include "layers.h"
#include "weights.h"
#include <acrnn/network.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#define N_BLOCKS 8
#define HIDDEN 256 /* GRU hidden size per direction */
#define ATT 256    /* rnn attention MLP size */
#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f
#define MAX_TENSORS 96

/* The architecture of docs/network.md. */
static const int block_cout[N_BLOCKS] = {32, 32, 64, 64, 128, 128, 256, 256};
static const int block_kh[N_BLOCKS] = {3, 3, 3, 3, 1, 1, 3, 3};
static const int block_kw[N_BLOCKS] = {5, 5, 1, 1, 5, 5, 3, 3};
static const int pool_h[N_BLOCKS] = {0, 4, 0, 4, 0, 1, 0, 2};
static const int pool_w[N_BLOCKS] = {0, 3, 0, 1, 0, 3, 0, 2};

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
  float *bn_mean[N_BLOCKS], *bn_rstd[N_BLOCKS];
  float *att_out, *attn; /* cnn attention */
  float *seq, *y0, *d0, *mask0, *y1, *h, *mask1;
  float *gru_cache[2][2];
  float *att_cache, *beta, *v, *logits, *probs, *dlogits;
  float *ws;
  float *gbuf[3];                          /* conv-map gradient scratch */
  float *dseq, *dy0, *dd0, *dy1, *dh, *dv; /* sequence gradients */
  float *fold_s, *fold_b; /* inference: batch norm + bias as scale, shift */
};

gboolean acrnn_attention_parse(const char *s, AcrnnAttention *out,
                               GError **error) {
  if (s && strcmp(s, "rnn") == 0) {
    *out = (AcrnnAttention){ACRNN_ATTENTION_RNN, 0};
    return TRUE;
  }
  if (s && strcmp(s, "none") == 0) {
    *out = (AcrnnAttention){ACRNN_ATTENTION_NONE, 0};
    return TRUE;
  }
  if (s && strncmp(s, "cnn:", 4) == 0 && strlen(s) == 5 &&
      strchr("2468", s[4]) && s[4] != '\0') {
    *out = (AcrnnAttention){ACRNN_ATTENTION_CNN, s[4] - '0'};
    return TRUE;
  }
  g_set_error(error, ACRNN_NET_ERROR, ACRNN_NET_ERROR_CONFIG,
              "unknown attention \"%s\": expected rnn, none, cnn:2, cnn:4, "
              "cnn:6 or cnn:8",
              s ? s : "(null)");
  return FALSE;
}

const char *acrnn_attention_to_string(const AcrnnAttention *a, char buf[8]) {
  switch (a->kind) {
  case ACRNN_ATTENTION_RNN:
    g_strlcpy(buf, "rnn", 8);
    break;
  case ACRNN_ATTENTION_CNN:
    g_snprintf(buf, 8, "cnn:%d", a->cnn_layer);
    break;
  default:
    g_strlcpy(buf, "none", 8);
  }
  return buf;
}

void acrnn_net_config_init(AcrnnNetConfig *cfg) {
  cfg->bands = 128;
  cfg->frames = 128;
  cfg->n_classes = 50;
  cfg->attention = (AcrnnAttention){ACRNN_ATTENTION_RNN, 0};
}

/* ---- tensor table ------------------------------------------------------ */

static int add_tensor(AcrnnNet *net, AcrnnTensorKind kind, AcrnnInitKind init,
                      int ndim, const int *shape, const char *fmt, ...)
    G_GNUC_PRINTF(6, 7);

/* Adds a tensor to the table: its kind, how it is initialised, its shape
 * and its state_dict() name. */
static int add_tensor(AcrnnNet *net, AcrnnTensorKind kind, AcrnnInitKind init,
                      int ndim, const int *shape, const char *fmt, ...) {
  g_assert(net->n_tensors < MAX_TENSORS);
  int i = (int)net->n_tensors++;
  va_list ap;
  va_start(ap, fmt);
  net->names[i] = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  AcrnnTensorInfo *t = &net->tensors[i];
  t->name = net->names[i];
  t->kind = kind;
  t->init = init;
  t->init_std = init == ACRNN_INIT_NORMAL ? ACRNN_INIT_STD : 0.0;
  t->ndim = ndim;
  t->numel = 1;
  for (int k = 0; k < ndim; k++) {
    t->shape[k] = shape[k];
    t->numel *= (size_t)shape[k];
  }
  size_t *count = kind == ACRNN_TENSOR_PARAM ? &net->n_params : &net->n_buffers;
  t->offset = *count;
  *count += t->numel;
  return i;
}

#define SHAPE(...) ((const int[]){__VA_ARGS__})

/* A parameter and a running statistic, to read. */
static const float *P(const AcrnnNet *net, int t) {
  return net->w->params + net->tensors[t].offset;
}
static const float *BUF(const AcrnnNet *net, int t) {
  return net->w->buffers + net->tensors[t].offset;
}

/* net's weights to write: a sealed (shared, read-only) block is first
 * replaced by a private copy, so a write never reaches another net. */
static AcrnnWeights *own_weights(AcrnnNet *net) {
  if (net->w->sealed) {
    AcrnnWeights *mine = acrnn_weights_copy(net->w);
    acrnn_weights_unref(net->w);
    net->w = mine;
  }
  return net->w;
}
static float *BUF_W(AcrnnNet *net, int t) {
  g_assert(!net->w->sealed);
  return net->w->buffers + net->tensors[t].offset;
}

/* The gradients, made (zero) by the first use: a net that only infers has
 * none. */
static float *grads(AcrnnNet *net) {
  if (net->grads == NULL)
    net->grads = g_new0(float, MAX(net->n_params, 1));
  return net->grads;
}
static float *G(AcrnnNet *net, int t) {
  return grads(net) + net->tensors[t].offset;
}

static void build_table(AcrnnNet *net) {
  for (int i = 0; i < N_BLOCKS; i++) {
    Block *b = &net->blk[i];
    b->t_w =
        add_tensor(net, ACRNN_TENSOR_PARAM, ACRNN_INIT_NORMAL, 4,
                   SHAPE(b->cout, b->cin, b->kh, b->kw), "conv.%d.weight", i);
    b->t_b = add_tensor(net, ACRNN_TENSOR_PARAM, ACRNN_INIT_ZERO, 1,
                        SHAPE(b->cout), "conv.%d.bias", i);
  }
  for (int i = 0; i < N_BLOCKS; i++) {
    Block *b = &net->blk[i];
    b->t_g = add_tensor(net, ACRNN_TENSOR_PARAM, ACRNN_INIT_ONE, 1,
                        SHAPE(b->cout), "bn.%d.weight", i);
    b->t_beta = add_tensor(net, ACRNN_TENSOR_PARAM, ACRNN_INIT_ZERO, 1,
                           SHAPE(b->cout), "bn.%d.bias", i);
    b->t_rm = add_tensor(net, ACRNN_TENSOR_BUFFER, ACRNN_INIT_ZERO, 1,
                         SHAPE(b->cout), "bn.%d.running_mean", i);
    b->t_rv = add_tensor(net, ACRNN_TENSOR_BUFFER, ACRNN_INIT_ONE, 1,
                         SHAPE(b->cout), "bn.%d.running_var", i);
  }
  net->t_catt_w = net->t_catt_b = -1;
  if (net->attn_block >= 0) {
    int c = net->blk[net->attn_block].cout;
    net->t_catt_w = add_tensor(net, ACRNN_TENSOR_PARAM, ACRNN_INIT_NORMAL, 4,
                               SHAPE(1, c, 3, 3), "cnn_attention.weight");
    net->t_catt_b = add_tensor(net, ACRNN_TENSOR_PARAM, ACRNN_INIT_ZERO, 1,
                               SHAPE(1), "cnn_attention.bias");
  }
  static const char *const what[4] = {"weight_ih", "weight_hh", "bias_ih",
                                      "bias_hh"};
  for (int l = 0; l < 2; l++)
    for (int dir = 0; dir < 2; dir++) {
      const char *suffix = dir ? "_reverse" : "";
      int *t = net->t_gru[l][dir];
      t[0] = add_tensor(net, ACRNN_TENSOR_PARAM, ACRNN_INIT_NORMAL, 2,
                        SHAPE(3 * HIDDEN, net->gru_in[l]), "gru.%s_l%d%s",
                        what[0], l, suffix);
      t[1] = add_tensor(net, ACRNN_TENSOR_PARAM, ACRNN_INIT_NORMAL, 2,
                        SHAPE(3 * HIDDEN, HIDDEN), "gru.%s_l%d%s", what[1], l,
                        suffix);
      t[2] = add_tensor(net, ACRNN_TENSOR_PARAM, ACRNN_INIT_ZERO, 1,
                        SHAPE(3 * HIDDEN), "gru.%s_l%d%s", what[2], l, suffix);
      t[3] = add_tensor(net, ACRNN_TENSOR_PARAM, ACRNN_INIT_ZERO, 1,
                        SHAPE(3 * HIDDEN), "gru.%s_l%d%s", what[3], l, suffix);
    }
  net->t_mlp_w = net->t_mlp_b = net->t_score_w = -1;
  if (net->cfg.attention.kind == ACRNN_ATTENTION_RNN) {
    net->t_mlp_w = add_tensor(net, ACRNN_TENSOR_PARAM, ACRNN_INIT_NORMAL, 2,
                              SHAPE(ATT, net->d), "attention.mlp.weight");
    net->t_mlp_b = add_tensor(net, ACRNN_TENSOR_PARAM, ACRNN_INIT_ZERO, 1,
                              SHAPE(ATT), "attention.mlp.bias");
    net->t_score_w = add_tensor(net, ACRNN_TENSOR_PARAM, ACRNN_INIT_NORMAL, 2,
                                SHAPE(1, ATT), "attention.score.weight");
  }
  net->t_cls_w =
      add_tensor(net, ACRNN_TENSOR_PARAM, ACRNN_INIT_NORMAL, 2,
                 SHAPE(net->cfg.n_classes, net->d), "classifier.weight");
  net->t_cls_b = add_tensor(net, ACRNN_TENSOR_PARAM, ACRNN_INIT_ZERO, 1,
                            SHAPE(net->cfg.n_classes), "classifier.bias");
}

static gboolean check_config(const AcrnnNetConfig *cfg, GError **error) {
  if (cfg->bands < 32 || cfg->bands % 32 != 0 || cfg->bands > 1024) {
    g_set_error(error, ACRNN_NET_ERROR, ACRNN_NET_ERROR_CONFIG,
                "network bands %d: expected a multiple of 32 from 32 to 1024 "
                "(the pools divide the band axis by 32)",
                cfg->bands);
    return FALSE;
  }
  if (cfg->frames < 18 || cfg->frames > 4096) {
    g_set_error(error, ACRNN_NET_ERROR, ACRNN_NET_ERROR_CONFIG,
                "network segment length %d frames: expected 18 to 4096 (the "
                "pools divide the frame axis by 18)",
                cfg->frames);
    return FALSE;
  }
  if (cfg->n_classes < 1 || cfg->n_classes > 100000) {
    g_set_error(error, ACRNN_NET_ERROR, ACRNN_NET_ERROR_CONFIG,
                "network with %d classes: expected at least 1", cfg->n_classes);
    return FALSE;
  }
  const AcrnnAttention *a = &cfg->attention;
  if (a->kind == ACRNN_ATTENTION_CNN &&
      !(a->cnn_layer == 2 || a->cnn_layer == 4 || a->cnn_layer == 6 ||
        a->cnn_layer == 8)) {
    g_set_error(error, ACRNN_NET_ERROR, ACRNN_NET_ERROR_CONFIG,
                "cnn attention at layer %d: expected 2, 4, 6 or 8",
                a->cnn_layer);
    return FALSE;
  }
  return TRUE;
}

/* A net of the accepted configuration cfg using weights (a new reference),
 * or a new private block of them when weights is NULL: batch norm
 * gamma and running variance 1, everything else 0. */
static AcrnnNet *net_new(const AcrnnNetConfig *cfg, AcrnnWeights *weights) {
  const AcrnnAttention *a = &cfg->attention;
  AcrnnNet *net = g_new0(AcrnnNet, 1);
  net->cfg = *cfg;
  net->dropout = 0.5f;
  net->attn_block = a->kind == ACRNN_ATTENTION_CNN ? a->cnn_layer - 1 : -1;
  int h = cfg->bands, w = cfg->frames, cin = 2;
  for (int i = 0; i < N_BLOCKS; i++) {
    Block *b = &net->blk[i];
    b->cin = cin;
    b->cout = block_cout[i];
    b->kh = block_kh[i];
    b->kw = block_kw[i];
    b->h = h;
    b->w = w;
    b->ph = pool_h[i];
    b->pw = pool_w[i];
    if (b->ph) {
      h /= b->ph;
      w /= b->pw;
    }
    b->oh = h;
    b->ow = w;
    cin = b->cout;
  }
  net->hf = h;
  net->t = w;
  net->d = 2 * HIDDEN;
  net->gru_in[0] = cin * h;
  net->gru_in[1] = net->d;
  build_table(net);
  if (weights != NULL) {
    g_assert(weights->n_params == net->n_params &&
             weights->n_buffers == net->n_buffers);
    net->w = acrnn_weights_ref(weights);
    return net;
  }
  net->w = acrnn_weights_new(net->n_params, net->n_buffers);
  for (int i = 0; i < N_BLOCKS; i++) {
    Block *b = &net->blk[i];
    float *g = net->w->params + net->tensors[b->t_g].offset;
    float *rv = net->w->buffers + net->tensors[b->t_rv].offset;
    for (int c = 0; c < b->cout; c++)
      g[c] = rv[c] = 1.0f;
  }
  return net;
}

AcrnnNet *acrnn_net_new(const AcrnnNetConfig *cfg, GError **error) {
  return check_config(cfg, error) ? net_new(cfg, NULL) : NULL;
}

AcrnnNet *acrnn_net_new_with_weights(const AcrnnNetConfig *cfg,
                                     AcrnnWeights *w) {
  g_return_val_if_fail(w != NULL && w->sealed, NULL);
  g_return_val_if_fail(check_config(cfg, NULL), NULL);
  return net_new(cfg, w);
}

AcrnnWeights *acrnn_net_weights(const AcrnnNet *net) {
  return net->w;
}

AcrnnNet *acrnn_net_copy(const AcrnnNet *net) {
  AcrnnNet *copy;
  if (net->w->sealed) {
    copy = net_new(&net->cfg, net->w);
  } else {
    copy = net_new(&net->cfg, NULL);
    memcpy(copy->w->params, net->w->params,
           (net->n_params + net->n_buffers) * sizeof(float));
  }
  copy->dropout = net->dropout;
  return copy;
}

void acrnn_net_seal(AcrnnNet *net) {
  net->w->sealed = TRUE;
}

gboolean acrnn_net_is_sealed(const AcrnnNet *net) {
  return net->w->sealed;
}

gboolean acrnn_net_shares_weights(const AcrnnNet *a, const AcrnnNet *b) {
  return a->w == b->w;
}

void acrnn_net_free(AcrnnNet *net) {
  if (!net)
    return;
  g_aligned_free(net->arena);
  g_free(net->fold_s);
  g_free(net->fold_b);
  for (size_t i = 0; i < net->n_tensors; i++)
    g_free(net->names[i]);
  acrnn_weights_unref(net->w);
  g_free(net->grads);
  g_free(net);
}

const AcrnnNetConfig *acrnn_net_config(const AcrnnNet *net) {
  return &net->cfg;
}

void acrnn_net_set_dropout(AcrnnNet *net, float p) {
  net->dropout = p < 0.0f ? 0.0f : p > 0.95f ? 0.95f : p;
}

void acrnn_net_init_random(AcrnnNet *net, uint64_t seed) {
  AcrnnRng rng;
  acrnn_rng_seed(&rng, seed);
  for (size_t i = 0; i < net->n_tensors; i++) {
    const AcrnnTensorInfo *t = &net->tensors[i];
    float *p = acrnn_net_tensor_data(net, t);
    for (size_t k = 0; k < t->numel; k++)
      p[k] = t->init == ACRNN_INIT_NORMAL
                 ? (float)(t->init_std * acrnn_rng_normal(&rng))
             : t->init == ACRNN_INIT_ONE ? 1.0f
                                         : 0.0f;
  }
}

size_t acrnn_net_n_params(const AcrnnNet *net) {
  return net->n_params;
}
float *acrnn_net_params(AcrnnNet *net) {
  return own_weights(net)->params;
}
float *acrnn_net_grads(AcrnnNet *net) {
  return grads(net);
}
size_t acrnn_net_n_buffers(const AcrnnNet *net) {
  return net->n_buffers;
}
float *acrnn_net_buffers(AcrnnNet *net) {
  return own_weights(net)->buffers;
}
size_t acrnn_net_n_tensors(const AcrnnNet *net) {
  return net->n_tensors;
}

const AcrnnTensorInfo *acrnn_net_tensor(const AcrnnNet *net, size_t i) {
  return i < net->n_tensors ? &net->tensors[i] : NULL;
}

const AcrnnTensorInfo *acrnn_net_find_tensor(const AcrnnNet *net,
                                             const char *name) {
  for (size_t i = 0; i < net->n_tensors; i++)
    if (strcmp(net->tensors[i].name, name) == 0)
      return &net->tensors[i];
  return NULL;
}

float *acrnn_net_tensor_data(AcrnnNet *net, const AcrnnTensorInfo *t) {
  AcrnnWeights *w = own_weights(net);
  return (t->kind == ACRNN_TENSOR_PARAM ? w->params : w->buffers) + t->offset;
}

const float *acrnn_net_tensor_values(const AcrnnNet *net,
                                     const AcrnnTensorInfo *t) {
  return (t->kind == ACRNN_TENSOR_PARAM ? net->w->params : net->w->buffers) +
         t->offset;
}

double acrnn_net_forward_flops(const AcrnnNet *net) {
  double f = 0.0;
  for (int i = 0; i < N_BLOCKS; i++) {
    const Block *b = &net->blk[i];
    f += 2.0 * b->cout * b->cin * b->kh * b->kw * (double)b->h * b->w;
  }
  if (net->attn_block >= 0) {
    const Block *b = &net->blk[net->attn_block];
    f += 2.0 * b->cout * 9.0 * b->h * b->w;
  }
  for (int l = 0; l < 2; l++) /* two directions, input and hidden products */
    f += 2.0 * 2.0 * net->t * 3.0 * HIDDEN * (net->gru_in[l] + HIDDEN);
  if (net->cfg.attention.kind == ACRNN_ATTENTION_RNN)
    f += 2.0 * net->t * ATT * (net->d + 1);
  f += 2.0 * net->d * net->cfg.n_classes;
  return f;
}

/* ---- activations ------------------------------------------------------- */

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

static void ensure_capacity(AcrnnNet *net, int n, gboolean training) {
  if (n <= net->cap && (net->cap_training || !training))
    return;
  place_activations(net, MAX(n, net->cap), training || net->cap_training);
}

/* x [N][2][B][S] -> x0 [2][N][B][S] */
static void input_to_cnhw(float *x0, const float *x, int n, size_t plane) {
  for (int i = 0; i < n; i++)
    for (int c = 0; c < 2; c++)
      memcpy(x0 + ((size_t)c * n + i) * plane, x + ((size_t)i * 2 + c) * plane,
             plane * sizeof(float));
}

/* map [C][N][Hf][T] -> seq [N][T][C*Hf] (feature c*Hf + h), and the
 * gradient's way back (accumulating into the map). */
static inline size_t map_index(int c, int i, int h, int s, int n, int hf,
                               int t) {
  return (((size_t)c * n + i) * hf + h) * t + s;
}
static inline size_t seq_index(int c, int i, int h, int s, int chf, int hf,
                               int t) {
  return ((size_t)i * t + s) * chf + (size_t)c * hf + h;
}

static void map_to_seq(float *seq, const float *map, int c_, int n, int hf,
                       int t) {
  for (int c = 0; c < c_; c++)
    for (int i = 0; i < n; i++)
      for (int h = 0; h < hf; h++)
        for (int s = 0; s < t; s++)
          seq[seq_index(c, i, h, s, c_ * hf, hf, t)] =
              map[map_index(c, i, h, s, n, hf, t)];
}

static void seq_to_map_add(float *map, const float *seq, int c_, int n, int hf,
                           int t) {
  for (int c = 0; c < c_; c++)
    for (int i = 0; i < n; i++)
      for (int h = 0; h < hf; h++)
        for (int s = 0; s < t; s++)
          map[map_index(c, i, h, s, n, hf, t)] +=
              seq[seq_index(c, i, h, s, c_ * hf, hf, t)];
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
    acrnn_conv2d_pack_weights(set, P(net, b->t_w), b->cin, b->cout, b->kh,
                              b->kw);
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
                                gboolean training, AcrnnRng *rng) {
  ensure_capacity(net, batch, training);
  if (training) /* updates the running statistics */
    own_weights(net);
  const int n = batch;
  net->batch = n;
  net->have_train_forward = training;
  net->have_loss = FALSE;
  const Block *b0 = &net->blk[0];
  input_to_cnhw(net->x0, x, n, (size_t)b0->h * b0->w);

  /* frozen conv blocks train as they infer (acrnn_net_set_conv_frozen) */
  const gboolean batch_stats = training && !net->conv_frozen;
  if (!batch_stats)
    fold_batchnorm(net);
  const float *fs = net->fold_s, *fb = net->fold_b;
  const float *in = net->x0;
  for (int i = 0; i < N_BLOCKS; i++) {
    Block *b = &net->blk[i];
    size_t m = (size_t)n * b->h * b->w;
    if (batch_stats) {
      acrnn_conv2d_forward(net->conv_out[i], in, P(net, b->t_w), P(net, b->t_b),
                           n, b->cin, b->cout, b->h, b->w, b->kh, b->kw,
                           net->ws);
      acrnn_batchnorm_relu_forward_train(
          net->act[i], net->bn_mean[i], net->bn_rstd[i], net->conv_out[i],
          P(net, b->t_g), P(net, b->t_beta), BUF_W(net, b->t_rm),
          BUF_W(net, b->t_rv), b->cout, m, BN_MOMENTUM, BN_EPS);
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
      acrnn_maxpool_forward(net->pool_out[i], training ? net->argmax[i] : NULL,
                            out, b->cout * n, b->h, b->w, b->ph, b->pw);
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

const float *acrnn_net_forward(AcrnnNet *net, const float *x, int batch,
                               gboolean training, AcrnnRng *rng) {
  g_return_val_if_fail(batch >= 1, NULL);
  g_return_val_if_fail(!training || rng || net->dropout == 0.0f, NULL);
  const AcrnnPrecision before = acrnn_gemm_precision();
  const AcrnnPackedWeights *packed_before = acrnn_gemm_packed();
  acrnn_gemm_set_precision(net->precision);
  /* a sealed block's weights do not change: in bf16 they are rounded and
   * packed once for all its nets (weights.h) */
  const gboolean packed =
      net->precision == ACRNN_PRECISION_BF16 && !training && net->w->sealed;
  acrnn_gemm_set_packed(packed ? acrnn_weights_packed(net->w, pack_weights, net)
                               : NULL);
  const float *logits = net_forward(net, x, batch, training, rng);
  acrnn_gemm_set_precision(before);
  acrnn_gemm_set_packed(packed_before);
  return logits;
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

void acrnn_net_zero_grad(AcrnnNet *net) {
  memset(grads(net), 0, net->n_params * sizeof(float));
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
    float *dact = dout;
    if (b->ph) { /* un-pool into a full-size map */
      dact = spare[0];
      acrnn_maxpool_backward_set(dact, dout, net->argmax[i], b->cout * n, b->h,
                                 b->w, b->ph, b->pw);
      spare[0] = dout;
    }
    if (i == net->attn_block) {
      float *dm = spare[0];
      memset(dm, 0, sz * sizeof(float));
      acrnn_attention_cnn_backward(
          dm, G(net, net->t_catt_w), G(net, net->t_catt_b), dact, net->attn,
          net->act[i], P(net, net->t_catt_w), b->cout, n, b->h, b->w, net->ws);
      if (frozen)
        return; /* nothing below learns */
      spare[0] = dact;
      dact = dm;
    }
    float *dconv = dact; /* in place */
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
    float *dx = NULL;
    if (i > 0) {
      dx = spare[0];
      const Block *p = &net->blk[i - 1];
      memset(dx, 0, sizeof(float) * (size_t)p->cout * n * p->oh * p->ow);
      scale_at -= (size_t)p->cout;
    }
    const float *xin = i == 0                       ? net->x0
                       : net->blk[i - 1].ph         ? net->pool_out[i - 1]
                       : (i - 1 == net->attn_block) ? net->att_out
                                                    : net->act[i - 1];
    acrnn_conv2d_backward(dx, frozen ? NULL : G(net, b->t_w),
                          frozen ? NULL : G(net, b->t_b), dconv, xin,
                          P(net, b->t_w), n, b->cin, b->cout, b->h, b->w, b->kh,
                          b->kw, net->ws);
    dout = dx;
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

void acrnn_net_set_precision(AcrnnNet *net, AcrnnPrecision p) {
  net->precision = p;
}

AcrnnPrecision acrnn_net_get_precision(const AcrnnNet *net) {
  return net->precision;
}

void acrnn_net_set_conv_frozen(AcrnnNet *net, gboolean frozen) {
  net->conv_frozen = frozen;
}

gboolean acrnn_net_get_conv_frozen(const AcrnnNet *net) {
  return net->conv_frozen;
}

const float *acrnn_net_attention_weights(const AcrnnNet *net, int *length) {
  if (net->cfg.attention.kind == ACRNN_ATTENTION_RNN) {
    *length = net->t;
    return net->beta;
  }
  if (net->attn_block >= 0) {
    *length = net->blk[net->attn_block].w;
    return net->attn;
  }
  *length = 0;
  return NULL;
}
