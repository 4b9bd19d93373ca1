/* init_from.c - fine-tuning: a run set up from another model's features
 * and weights, with the conv blocks optionally frozen (init_from.h). */
#include "init_from.h"
#include <math.h>
#include <string.h>

G_DEFINE_QUARK(acrnn - train - init - from - error, tr_init_from_error)

struct TrFineTune {
  float *buffers; /* the frozen running statistics */
  size_t n_buffers;
};

/* Whether an option was set to something else than its default and the
 * model's value: then it contradicts the model. */
#define CONFLICT(given, dflt, model) ((given) != (dflt) && (given) != (model))

static gboolean check_options(const TrOptions *o, const char *path,
                              const AcrnnModelInfo *m, GError **error) {
  TrOptions d;
  tr_options_init(&d);
  const AcrnnFeatureParams *f = &m->features;
  char what[160] = "";
  if (CONFLICT(o->sample_rate, d.sample_rate, f->sample_rate))
    g_snprintf(what, sizeof what, "--sample-rate %d (the model's: %d)",
               o->sample_rate, f->sample_rate);
  else if (CONFLICT(o->n_fft, d.n_fft, f->n_fft))
    g_snprintf(what, sizeof what, "--n-fft %d (the model's: %d)", o->n_fft,
               f->n_fft);
  else if (CONFLICT(o->hop, d.hop, f->hop))
    g_snprintf(what, sizeof what, "--hop %d (the model's: %d)", o->hop, f->hop);
  else if (CONFLICT(o->bands, d.bands, f->bands))
    g_snprintf(what, sizeof what, "--bands %d (the model's: %d)", o->bands,
               f->bands);
  else if (CONFLICT(o->fmin, d.fmin, f->fmin))
    g_snprintf(what, sizeof what, "--fmin %g (the model's: %g)", o->fmin,
               f->fmin);
  else if (o->fmax > 0 && fabs(o->fmax - f->fmax) > 1e-6 * f->fmax)
    g_snprintf(what, sizeof what, "--fmax %g (the model's: %g)", o->fmax,
               f->fmax);
  else if (CONFLICT(o->segment_frames, d.segment_frames, m->segment_frames))
    g_snprintf(what, sizeof what, "--segment-frames %d (the model's: %d)",
               o->segment_frames, m->segment_frames);
  else if (CONFLICT(o->segment_hop, d.segment_hop, m->segment_hop))
    g_snprintf(what, sizeof what, "--segment-hop %d (the model's: %d)",
               o->segment_hop, m->segment_hop);
  const char *fb = acrnn_filterbank_to_string(f->filterbank);
  if (!*what && g_strcmp0(o->filterbank, d.filterbank) &&
      g_strcmp0(o->filterbank, fb))
    g_snprintf(what, sizeof what, "--filterbank %s (the model's: %s)",
               o->filterbank, fb);
  char att[8];
  acrnn_attention_to_string(&m->attention, att);
  if (!*what && g_strcmp0(o->attention, d.attention) &&
      g_strcmp0(o->attention, att))
    g_snprintf(what, sizeof what, "--attention %s (the model's: %s)",
               o->attention, att);
  tr_options_clear(&d);
  if (!*what)
    return TRUE;
  g_set_error(error, TR_INIT_FROM_ERROR, 1,
              "--init-from %s: %s: a fine-tuned model keeps the feature "
              "parameters, segments and attention of the model it starts "
              "from; leave the option out",
              path, what);
  return FALSE;
}

gboolean tr_init_from_config(const TrOptions *o, TrTrainConfig *c,
                             GError **error) {
  if (o->init_norm && g_strcmp0(o->init_norm, "model") &&
      g_strcmp0(o->init_norm, "data")) {
    g_set_error(error, TR_INIT_FROM_ERROR, 1,
                "--init-norm %s: expected model or data", o->init_norm);
    return FALSE;
  }
  if (!o->init_from)
    return TRUE;
  AcrnnModelInfo m;
  AcrnnNet *net = acrnn_model_load(o->init_from, &m, error);
  if (!net) {
    g_prefix_error(error, "--init-from: ");
    return FALSE;
  }
  acrnn_net_free(net);
  gboolean ok = check_options(o, o->init_from, &m, error);
  if (ok) {
    c->features = m.features;
    c->segment_frames = m.segment_frames;
    c->segment_hop = m.segment_hop;
    c->attention = m.attention;
  }
  acrnn_model_info_clear(&m);
  return ok;
}

static gboolean same_labels(const AcrnnModelInfo *a, const AcrnnModelInfo *b) {
  if (a->n_labels != b->n_labels)
    return FALSE;
  for (int i = 0; i < a->n_labels; i++)
    if (strcmp(a->labels[i], b->labels[i]) != 0)
      return FALSE;
  return TRUE;
}

static gboolean take_weights(const TrTrainConfig *c, AcrnnNet *net,
                             AcrnnModelInfo *info, TrProgress *progress,
                             GError **error) {
  AcrnnModelInfo m;
  AcrnnNet *src = acrnn_model_load(c->init_from, &m, error);
  if (!src) {
    g_prefix_error(error, "--init-from: ");
    return FALSE;
  }
  gboolean labels = same_labels(&m, info);
  const char *skip[] = {"classifier.", NULL};
  GPtrArray *left = g_ptr_array_new();
  guint n = acrnn_net_copy_matching(net, src, labels ? NULL : skip, left);
  gboolean model_norm = !c->init_norm_data;
  if (model_norm) {
    memcpy(info->mean, m.mean, sizeof info->mean);
    memcpy(info->std, m.std, sizeof info->std);
  }
  GString *names = g_string_new(NULL);
  for (guint i = 0; i < left->len; i++)
    g_string_append_printf(names, "%s%s", i ? ", " : "",
                           (const char *)g_ptr_array_index(left, i));
  tr_progress_message(
      progress,
      "init from %s: %u tensors taken%s%s%s; normalisation statistics of %s",
      c->init_from, n, left->len ? ", new: " : "", names->str,
      labels      ? ""
      : left->len ? " (its labels are not the dataset's)"
                  : "",
      model_norm ? "the model" : "the training clips");
  g_string_free(names, TRUE);
  g_ptr_array_unref(left);
  acrnn_model_info_clear(&m);
  acrnn_net_free(src);
  return TRUE;
}

/* The conv blocks' trainable tensors: conv.N.* and bn.N.* (cnn_attention
 * is the attention, not a block). */
static void freeze_conv(AcrnnNet *net, AcrnnSgd *opt) {
  acrnn_net_set_conv_frozen(net, TRUE);
  for (size_t i = 0; i < acrnn_net_n_tensors(net); i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(net, i);
    if (t->kind == ACRNN_TENSOR_PARAM && (g_str_has_prefix(t->name, "conv.") ||
                                          g_str_has_prefix(t->name, "bn.")))
      acrnn_sgd_freeze(opt, t->offset, t->numel);
  }
}

gboolean tr_fine_tune_start(const TrTrainConfig *c, AcrnnNet *net,
                            AcrnnModelInfo *info, AcrnnSgd *opt,
                            gboolean resumed, TrProgress *progress,
                            TrFineTune **out, GError **error) {
  *out = NULL;
  if (c->init_from && !resumed && !take_weights(c, net, info, progress, error))
    return FALSE;
  if (!c->freeze_conv)
    return TRUE;
  freeze_conv(net, opt);
  TrFineTune *ft = g_new0(TrFineTune, 1);
  ft->n_buffers = acrnn_net_n_buffers(net);
  ft->buffers =
      g_memdup2(acrnn_net_buffers(net), MAX(ft->n_buffers, 1) * sizeof(float));
  *out = ft;
  return TRUE;
}

void tr_fine_tune_after_step(const TrFineTune *ft, AcrnnNet *net) {
  if (ft)
    memcpy(acrnn_net_buffers(net), ft->buffers, ft->n_buffers * sizeof(float));
}

void tr_fine_tune_free(TrFineTune *ft) {
  if (!ft)
    return;
  g_free(ft->buffers);
  g_free(ft);
}
