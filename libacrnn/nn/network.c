/* network.c - the ACRNN network (docs/network.md): its configuration, the
 * tensor table (names, shapes, offsets in the parameter and statistics
 * block), that block (its own, or a sealed one shared with other nets,
 * weights.h) and the gradients. The passes are network_forward.c and
 * network_backward.c, the activations network_activations.c
 * (network_private.h). */
#include "network_private.h"

#include <string.h>

/* The architecture of docs/network.md. */
static const int block_cout[N_BLOCKS] = {32, 32, 64, 64, 128, 128, 256, 256};
static const int block_kh[N_BLOCKS] = {3, 3, 3, 3, 1, 1, 3, 3};
static const int block_kw[N_BLOCKS] = {5, 5, 1, 1, 5, 5, 3, 3};
static const int pool_h[N_BLOCKS] = {0, 4, 0, 4, 0, 1, 0, 2};
static const int pool_w[N_BLOCKS] = {0, 3, 0, 1, 0, 3, 0, 2};

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

/* net's weights to write: a sealed (shared, read-only) block is first
 * replaced by a private copy, so a write never reaches another net. */
AcrnnWeights *acrnn_net_own_weights(AcrnnNet *net) {
  if (net->w->sealed) {
    AcrnnWeights *mine = acrnn_weights_copy(net->w);
    acrnn_weights_unref(net->w);
    net->w = mine;
  }
  return net->w;
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
  g_free(net->stream_scratch);
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
  return acrnn_net_own_weights(net)->params;
}
float *acrnn_net_grads(AcrnnNet *net) {
  if (net->grads == NULL) /* a net that only infers has none */
    net->grads = g_new0(float, MAX(net->n_params, 1));
  return net->grads;
}
size_t acrnn_net_n_buffers(const AcrnnNet *net) {
  return net->n_buffers;
}
float *acrnn_net_buffers(AcrnnNet *net) {
  return acrnn_net_own_weights(net)->buffers;
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
  AcrnnWeights *w = acrnn_net_own_weights(net);
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

void acrnn_net_zero_grad(AcrnnNet *net) {
  memset(acrnn_net_grads(net), 0, net->n_params * sizeof(float));
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
