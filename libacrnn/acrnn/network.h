/* acrnn/network.h - the ACRNN network (docs/network.md).
 *
 * 8 conv blocks (conv, batch norm, ReLU, max-pool after blocks 1, 3, 5, 7),
 * a 2-layer bidirectional GRU, frame-level attention (rnn, cnn:N or none) and
 * a dense softmax classifier. All trainable parameters live in one contiguous
 * float block, their gradients in another of the same layout, and the batch
 * norm running statistics in a third ("buffers"). The tensor table names each
 * tensor exactly as the PyTorch module's state_dict() does.
 *
 * Sealed weights: acrnn_net_seal() makes a net's parameters and statistics
 * read-only; acrnn_net_copy() of a sealed net then shares them (one copy in
 * memory) and gives the copy only its own activations, and
 * acrnn_model_load_shared() hands out such nets for a model file. A net
 * never writes into sealed weights: the writing accessors below
 * (acrnn_net_params(), acrnn_net_buffers(), acrnn_net_tensor_data(),
 * acrnn_net_init_random()) and a training forward first give it a private
 * copy of them. Gradients exist from the first backward, zero_grad or
 * acrnn_net_grads() on: a net that only infers has none.
 */
#ifndef ACRNN_NETWORK_H
#define ACRNN_NETWORK_H

#include <acrnn/error.h>
#include <acrnn/rng.h>
#include <glib.h>
#include <stddef.h>

G_BEGIN_DECLS

typedef enum {
  ACRNN_ATTENTION_NONE = 0, /**< v = mean over t of h_t */
  ACRNN_ATTENTION_RNN,      /**< the paper's l10: attention on the GRU output */
  ACRNN_ATTENTION_CNN,      /**< the paper's l2..l8: on a conv block output */
} AcrnnAttentionKind;

typedef struct {
  AcrnnAttentionKind kind;
  int cnn_layer; /**< for CNN: 2, 4, 6 or 8 (after conv block layer-1) */
} AcrnnAttention;

/** Parses "rnn", "none", "cnn:2", "cnn:4", "cnn:6", "cnn:8". */
gboolean acrnn_attention_parse(const char *s, AcrnnAttention *out,
                               GError **error);
/** Writes the canonical string for a (buf of at least 8 bytes). */
const char *acrnn_attention_to_string(const AcrnnAttention *a, char buf[8]);

typedef struct {
  int bands;     /**< input rows (default 128; a multiple of 32) */
  int frames;    /**< input columns, the segment length (default 128, >= 18) */
  int n_classes; /**< classifier outputs, >= 1 */
  AcrnnAttention attention;
} AcrnnNetConfig;

void acrnn_net_config_init(AcrnnNetConfig *cfg); /* 128, 128, 50, rnn */

typedef enum {
  ACRNN_TENSOR_PARAM = 0, /**< trainable, in the params block */
  ACRNN_TENSOR_BUFFER,    /**< batch norm running statistics */
} AcrnnTensorKind;

/** How acrnn_net_init_random() initialises a tensor. */
typedef enum {
  ACRNN_INIT_ZERO = 0, /**< 0: biases, batch norm beta and running mean */
  ACRNN_INIT_ONE,      /**< 1: batch norm gamma and running variance */
  ACRNN_INIT_NORMAL,   /**< N(0, init_std): every weight */
} AcrnnInitKind;

/** The paper's weight initialisation: N(0, 0.05). */
#define ACRNN_INIT_STD 0.05

typedef struct {
  const char *name; /**< state_dict() name, e.g. "conv.0.weight" */
  AcrnnTensorKind kind;
  AcrnnInitKind init; /**< its initialisation */
  double init_std;    /**< for ACRNN_INIT_NORMAL; 0 otherwise */
  int ndim;
  int shape[4];
  size_t offset; /**< in floats, into the params or the buffers block */
  size_t numel;
} AcrnnTensorInfo;

typedef struct AcrnnNet AcrnnNet;

/** A network with zero parameters (see acrnn_net_init_random()), batch norm
 * gamma 1, beta 0, running mean 0, running var 1. */
AcrnnNet *acrnn_net_new(const AcrnnNetConfig *cfg, GError **error);
void acrnn_net_free(AcrnnNet *net);
/** A new network with the configuration, parameters, batch norm running
 * statistics and dropout of net, and nothing else (no gradients, no
 * activations): what a second thread needs to run the same inference. When
 * net is sealed the copy shares its weights (sealed as well); otherwise it
 * gets a private copy of them. Either way the two are independent: a write
 * to one never shows in the other. */
AcrnnNet *acrnn_net_copy(const AcrnnNet *net);

/** Seals net's parameters and running statistics: read-only from now on,
 * shared by acrnn_net_copy() (see the top of this header). Pointers to them
 * obtained before must not be written through afterwards. */
void acrnn_net_seal(AcrnnNet *net);
/** Whether net's weights are sealed (and so perhaps shared). */
gboolean acrnn_net_is_sealed(const AcrnnNet *net);
/** Whether a and b use one and the same block of parameters and running
 * statistics in memory (a sealed net and its copies). */
gboolean acrnn_net_shares_weights(const AcrnnNet *a, const AcrnnNet *b);
const AcrnnNetConfig *acrnn_net_config(const AcrnnNet *net);

/** The paper's initialisation, as the tensor table says (init, init_std):
 * every weight N(0, 0.05) from seed, drawn in table order; biases 0, batch
 * norm gamma 1, beta 0, running mean 0, running variance 1. The same seed
 * gives the same weights. */
void acrnn_net_init_random(AcrnnNet *net, uint64_t seed);

size_t acrnn_net_n_params(const AcrnnNet *net);
float *acrnn_net_params(AcrnnNet *net);
float *acrnn_net_grads(AcrnnNet *net);
size_t acrnn_net_n_buffers(const AcrnnNet *net);
float *acrnn_net_buffers(AcrnnNet *net);

size_t acrnn_net_n_tensors(const AcrnnNet *net);
const AcrnnTensorInfo *acrnn_net_tensor(const AcrnnNet *net, size_t i);
/** The table entry called name, or NULL. */
const AcrnnTensorInfo *acrnn_net_find_tensor(const AcrnnNet *net,
                                             const char *name);
/** Pointer to the data of a tensor (into params or buffers), to write. */
float *acrnn_net_tensor_data(AcrnnNet *net, const AcrnnTensorInfo *t);
/** The data of a tensor, to read (sealed weights stay shared). */
const float *acrnn_net_tensor_values(const AcrnnNet *net,
                                     const AcrnnTensorInfo *t);

/** Dropout probability used in training forwards (between the GRU layers
 * and after the GRU); default 0.5. 0 disables dropout (parity tests). */
void acrnn_net_set_dropout(AcrnnNet *net, float p);

/** The arithmetic of a network's passes (docs/gstreamer.md, Precision). */
typedef enum {
  ACRNN_PRECISION_FP32 = 0, /**< fp32 products and sums (the default) */
  /** bf16 products with fp32 sums, in every convolution, GRU and dense
   * matrix product, as PyTorch's bf16 autocast does; weights, batch norm
   * statistics, activations between layers and the loss stay fp32. */
  ACRNN_PRECISION_BF16,
} AcrnnPrecision;

/** Parses "fp32" or "bf16"; anything else is a G_OPTION_ERROR naming the
 * choices. */
gboolean acrnn_precision_parse(const char *s, AcrnnPrecision *out,
                               GError **error);
const char *acrnn_precision_to_string(AcrnnPrecision p);
/** Whether this CPU has bf16 dot-product instructions (AVX512_BF16) that
 * libacrnn's bf16 kernels use, and ACRNN_ISA (if set) allows AVX-512.
 * Elsewhere bf16 is emulated in plain C: the same results, several times
 * slower than fp32. */
gboolean acrnn_bf16_native(void);
/** Whether the CPU reports AMX-BF16. Its tiles are not used (the AVX512_BF16
 * kernels run on those CPUs); for reports. */
gboolean acrnn_amx_bf16_present(void);

/** The precision of the network's following passes; default fp32. May be
 * changed between passes (a training run changes it before its first). */
void acrnn_net_set_precision(AcrnnNet *net, AcrnnPrecision p);
AcrnnPrecision acrnn_net_get_precision(const AcrnnNet *net);

/** Freezes the conv blocks for fine-tuning (acrnn-train --freeze-conv), as
 * PyTorch users do with requires_grad_(False) and eval() on those modules:
 * training forwards then run the conv blocks as inference does, batch norm
 * normalising with its running statistics and leaving them unchanged, and
 * acrnn_net_backward() computes no gradient of their tensors (conv.N.*,
 * bn.N.*: they stay as acrnn_net_zero_grad() left them). A cnn attention
 * (cnn_attention.*) is not frozen: its gradient comes through the frozen
 * blocks above it. Only training passes change; default FALSE. Keeping the
 * frozen parameters unchanged is the optimizer's part (acrnn_sgd_freeze()). */
void acrnn_net_set_conv_frozen(AcrnnNet *net, gboolean frozen);
gboolean acrnn_net_get_conv_frozen(const AcrnnNet *net);

/** Floating point operations of one forward pass of one segment. */
double acrnn_net_forward_flops(const AcrnnNet *net);

/** Forward pass over a batch of inputs x [batch][2][bands][frames].
 * training: batch norm uses batch statistics and updates its running
 * averages (momentum 0.1), dropout is active and draws from rng; otherwise
 * inference (running statistics, no dropout, rng may be NULL).
 * Returns the logits [batch][n_classes], owned by net, valid until the next
 * forward. Activations are kept for acrnn_net_backward(). */
const float *acrnn_net_forward(AcrnnNet *net, const float *x, int batch,
                               gboolean training, AcrnnRng *rng);

/** Inference (as acrnn_net_forward() with training FALSE) over inputs cut
 * from one stream of feature frames, as acrnnclassify and acrnn-train eval
 * cut segments: input i [2][bands][frames] of x is the stream's frames
 * [starts[i], starts[i] + frames). Where consecutive inputs overlap (input
 * i starts less than frames after input i - 1, and they do hold the same
 * frames there: this is checked),
 * the conv blocks before the first pooling are computed once over their
 * frames and again only at each input's first and last few frames, where
 * its zero padding changes them: with the paper's 50 % segment overlap,
 * about a third less work at batch 16. The logits are those of
 * acrnn_net_forward() over x, bit for bit; the sharing is taken only
 * where that holds (libacrnn's direct convolution kernels, AVX2 or
 * AVX-512) and where it saves work, otherwise this is that forward. */
const float *acrnn_net_forward_stream(AcrnnNet *net, const float *x,
                                      const gint64 *starts, int batch);

/** Softmax probabilities of the last forward, [batch][n_classes], written
 * into probs. */
void acrnn_net_probabilities(const AcrnnNet *net, float *probs);

/** Mean soft-target cross-entropy of the last forward against targets
 * [batch][n_classes] (rows sum to 1; one-hot or mixup). Also stores
 * d loss / d logits for acrnn_net_backward(). */
float acrnn_net_loss(AcrnnNet *net, const float *targets);

/** Sets all gradients to zero. */
void acrnn_net_zero_grad(AcrnnNet *net);

/** Backward pass of the last training forward and loss: accumulates (+=) the
 * gradients of the mean loss into the gradient block. */
void acrnn_net_backward(AcrnnNet *net);

/** Frame attention weights of the last forward, [batch][T] for rnn attention
 * (T = GRU steps) or [batch][W] for cnn attention; NULL for none. */
const float *acrnn_net_attention_weights(const AcrnnNet *net, int *length);

G_END_DECLS

#endif
