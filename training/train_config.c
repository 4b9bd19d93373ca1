/* train_config.c - the training run's configuration from the options. */
#include "train_config.h"
#include "feature_cache.h"
#include "init_from.h"
#include "output_path.h"
#include <string.h>

#define CONFIG_ERROR (g_quark_from_static_string("acrnn-train-error"))

/* The first value out of range, as the message that says so, or NULL. */
static const char *check_recipe(const TrOptions *o) {
  if (o->segment_frames < 1 || o->segment_hop < 1)
    return "--segment-frames and --segment-hop must be at least 1";
  if (o->epochs < 1)
    return "--epochs must be at least 1";
  if (o->batch_size < 1)
    return "--batch-size must be at least 1";
  if (!(o->lr > 0) || !(o->momentum >= 0 && o->momentum < 1))
    return "--lr must be above 0 and --momentum in [0, 1)";
  if (!(o->weight_decay >= 0) || !(o->init_std > 0))
    return "--weight-decay must be >= 0 and --init-std above 0";
  if (!(o->dropout >= 0 && o->dropout < 1))
    return "--dropout must be in [0, 1)";
  if (!(o->mixup_alpha >= 0))
    return "--mixup-alpha must be >= 0 (0 disables mixup)";
  if (g_strcmp0(o->augment, "none") && g_strcmp0(o->augment, "offline") &&
      g_strcmp0(o->augment, "online"))
    return "--augment must be none, offline or online";
  if (!(o->stretch_min > 0 && o->stretch_max >= o->stretch_min) ||
      !(o->pitch_range >= 0))
    return "expected 0 < --stretch-min <= --stretch-max and --pitch-range "
           ">= 0";
  if (o->bn_groups < 1)
    return "--bn-groups must be at least 1";
  return NULL;
}

/* The options beyond the paper: FALSE with an error naming the option, the
 * value given and what was expected. */
static gboolean check_beyond_paper(const TrOptions *o, GError **error) {
  const char *bad = NULL;
  double v = 0;
  char *expected = NULL;
  if (!(o->label_smoothing >= 0 && o->label_smoothing < 1)) {
    bad = "label-smoothing", v = o->label_smoothing;
    expected = g_strdup("a value in [0, 1) (0: none)");
  } else if (!(o->lr_min >= 0 && o->lr_min <= o->lr)) {
    bad = "lr-min", v = o->lr_min;
    expected = g_strdup_printf("a value in [0, --lr %g]", o->lr);
  } else if (o->time_masks < 0 || o->freq_masks < 0) {
    bad = o->time_masks < 0 ? "time-masks" : "freq-masks";
    v = MIN(o->time_masks, o->freq_masks);
    expected = g_strdup("a count >= 0 (0: none)");
  } else if (o->time_mask_width < 0 || o->time_mask_width > o->segment_frames) {
    bad = "time-mask-width", v = o->time_mask_width;
    expected =
        g_strdup_printf("0 to --segment-frames %d frames", o->segment_frames);
  } else if (o->freq_mask_width < 0 || o->freq_mask_width > o->bands) {
    bad = "freq-mask-width", v = o->freq_mask_width;
    expected = g_strdup_printf("0 to --bands %d bands", o->bands);
  }
  if (bad)
    g_set_error(error, CONFIG_ERROR, 1, "--%s %g: expected %s", bad, v,
                expected);
  g_free(expected);
  return bad == NULL;
}

static TrFault parse_fault(const TrOptions *o) {
  static const char *const kinds[] = {"", "kill", "error", "desync"};
  TrFault f = {TR_FAULT_NONE, o->debug_fault_rank, o->debug_fault_step};
  for (int k = 1; o->debug_fault && k < (int)G_N_ELEMENTS(kinds); k++)
    if (strcmp(o->debug_fault, kinds[k]) == 0)
      f.kind = (TrFaultKind)k;
  return f;
}

static void set_sgd(AcrnnSgdParams *sp, const TrOptions *o) {
  acrnn_sgd_params_init(sp);
  sp->lr = (float)o->lr;
  sp->momentum = (float)o->momentum;
  sp->nesterov = !o->no_nesterov;
  sp->weight_decay = (float)o->weight_decay;
  sp->step_epochs = o->lr_step;
  sp->step_gamma = (float)o->lr_gamma;
}

gboolean tr_train_config_init(TrTrainConfig *c, const TrOptions *o,
                              GError **error) {
  memset(c, 0, sizeof *c);
  if (!tr_options_feature_params(o, &c->features, error) ||
      !acrnn_attention_parse(o->attention, &c->attention, error))
    return FALSE;
  if (!acrnn_precision_parse(o->precision, &c->precision, error)) {
    g_prefix_error(error, "--precision: ");
    return FALSE;
  }
  const char *bad = check_recipe(o);
  if (bad) {
    g_set_error_literal(error, CONFIG_ERROR, 1, bad);
    return FALSE;
  }
  if (!check_beyond_paper(o, error) ||
      !tr_lr_schedule_parse(o->lr_schedule, &c->lr_schedule, error))
    return FALSE;
  c->segment_frames = o->segment_frames;
  c->segment_hop = o->segment_hop;
  c->init_std = o->init_std;
  c->dropout = o->dropout;
  set_sgd(&c->sgd, o);
  c->epochs = o->epochs;
  c->batch_size = o->batch_size;
  c->mixup_alpha = o->mixup_alpha;
  c->seed = o->seed;
  c->label_smoothing = o->label_smoothing;
  c->lr_min = o->lr_min;
  c->mask = (TrSpecMask){o->time_masks, o->time_mask_width, o->freq_masks,
                         o->freq_mask_width};
  c->dataset = tr_options_dataset(o);
  c->dataset.data = g_strdup(o->data);
  c->dataset.folds_csv = g_strdup(o->folds_csv);
  c->augment = g_strcmp0(o->augment, "online") == 0    ? TR_AUGMENT_ONLINE
               : g_strcmp0(o->augment, "offline") == 0 ? TR_AUGMENT_OFFLINE
                                                       : TR_AUGMENT_NONE;
  c->augment_copies = o->augment_copies;
  c->augment_range = tr_options_augment(o);
  c->cache = o->no_cache ? NULL : tr_cache_dir(o->cache);
  if (o->augment_cache &&
      !tr_output_dir_make("--augment-cache", o->augment_cache, error))
    return FALSE;
  c->augment_cache = g_strdup(o->augment_cache);
  c->threads = o->threads;
  c->bn_groups = o->bn_groups;
  c->local_run = o->local_run;
  c->check_sync = o->check_sync;
  c->timings = o->timings;
  c->fault = parse_fault(o);
  c->checkpoint_every = o->checkpoint_every;
  c->stop_after_epochs = o->stop_after_epochs;
  c->stop_after_steps = o->stop_after_steps;
  c->quiet = o->quiet;
  c->name_fold = o->out_dir != NULL;
  c->init_from = g_strdup(o->init_from);
  c->freeze_conv = o->freeze_conv;
  c->init_norm_data = g_strcmp0(o->init_norm, "data") == 0;
  c->options = tr_options_to_json(o);
  /* a fine-tuned model computes its features as the model it starts from */
  return tr_init_from_config(o, c, error);
}

void tr_train_config_clear(TrTrainConfig *c) {
  g_free((char *)c->dataset.data);
  g_free((char *)c->dataset.folds_csv);
  c->dataset.data = c->dataset.folds_csv = NULL;
  g_clear_pointer(&c->cache, g_free);
  g_clear_pointer(&c->augment_cache, g_free);
  g_clear_pointer(&c->options, g_free);
  g_clear_pointer(&c->init_from, g_free);
}
