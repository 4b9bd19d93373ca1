/* options.c - the option table of acrnn-train: GOption parsing with the
 * defaults shown in --help, and the JSON copy kept in checkpoints. */
#include "options.h"
#include <acrnn/acrnn.h>
#include <json-glib/json-glib.h>
#include <stddef.h>
#include <string.h>

#define ALL (TR_CMD_TRAIN | TR_CMD_CV | TR_CMD_EVAL | TR_CMD_FEATURES)
#define TRN (TR_CMD_TRAIN | TR_CMD_CV)
#define DATA (TR_CMD_TRAIN | TR_CMD_CV | TR_CMD_EVAL | TR_CMD_FEATURES)
#define FEAT (TR_CMD_TRAIN | TR_CMD_CV | TR_CMD_FEATURES)

typedef struct {
  const char *name;
  int cmds;
  GOptionArg arg;
  size_t offset;
  const char *arg_desc;
  const char *desc;
  gboolean saved; /* stored in checkpoints */
} OptSpec;

#define F(field) offsetof(TrOptions, field)

static const OptSpec specs[] = {
    {"data", DATA, G_OPTION_ARG_FILENAME, F(data), "DIR",
     "Dataset: ESC-50 layout (meta/esc50.csv + audio/) or one folder per "
     "class (DIR/<label>/*.wav|flac|ogg|opus|mp3|m4a|...)",
     TRUE},
    {"esc10", DATA, G_OPTION_ARG_NONE, F(esc10), NULL,
     "ESC-50 layout: use only the ESC-10 clips (10 classes, ids in the "
     "order of their ESC-50 targets)",
     TRUE},
    {"folds-csv", DATA, G_OPTION_ARG_FILENAME, F(folds_csv), "CSV",
     "Folder layout: folds from a CSV of file,fold rows (file relative to "
     "DIR or a base name)",
     TRUE},
    {"split-by-source", DATA, G_OPTION_ARG_INT, F(split_by_source), "K",
     "ESC-50 layout: replace the folds with K folds made from the present "
     "clips, grouped by src_file, stratified by class, seeded by --seed "
     "(0: official folds)",
     TRUE},
    {"random-folds", DATA, G_OPTION_ARG_INT, F(random_folds), "K",
     "Folder layout without --folds-csv: K stratified random folds "
     "(seeded by --seed)",
     TRUE},
    {"folds", TR_CMD_TRAIN | TR_CMD_CV, G_OPTION_ARG_STRING, F(folds), "LIST",
     "train: training folds, e.g. 1,2,3 (default: every fold but "
     "--val-fold); cv: the folds to hold out in turn (default: all)",
     TRUE},
    {"val-fold", TR_CMD_TRAIN, G_OPTION_ARG_INT, F(val_fold), "N",
     "Held-out fold validated each epoch; the best model is kept (0: none)",
     TRUE},
    {"fold", TR_CMD_EVAL, G_OPTION_ARG_INT, F(fold), "N",
     "Evaluate the clips of fold N only (0: all clips; default: the "
     "held-out fold the model records, else 0)",
     FALSE},
    {"allow-training-clips", TR_CMD_EVAL, G_OPTION_ARG_NONE,
     F(allow_training_clips), NULL,
     "Evaluate even clips the model was trained on (a warning instead of an "
     "error; the accuracy is then not a held-out accuracy)",
     FALSE},
    {"sample-rate", FEAT, G_OPTION_ARG_INT, F(sample_rate), "HZ",
     "Feature sample rate; audio is resampled to it", TRUE},
    {"n-fft", FEAT, G_OPTION_ARG_INT, F(n_fft), "N", "STFT window (samples)",
     TRUE},
    {"hop", FEAT, G_OPTION_ARG_INT, F(hop), "N", "STFT hop (samples)", TRUE},
    {"bands", FEAT, G_OPTION_ARG_INT, F(bands), "B",
     "Filterbank bands (a multiple of 32 for the network)", TRUE},
    {"fmin", FEAT, G_OPTION_ARG_DOUBLE, F(fmin), "HZ",
     "Lowest band centre frequency", TRUE},
    {"fmax", FEAT, G_OPTION_ARG_DOUBLE, F(fmax), "HZ",
     "Highest band centre frequency (0: sample-rate/2)", TRUE},
    {"filterbank", FEAT, G_OPTION_ARG_STRING, F(filterbank), "KIND",
     "gammatone (the paper's log-gammatone features) or mel (log-mel: "
     "librosa's default triangular mel filters, fmin and fmax their outer "
     "edges)",
     TRUE},
    {"segment-frames", FEAT, G_OPTION_ARG_INT, F(segment_frames), "N",
     "Frames per network input segment (>= 18)", TRUE},
    {"segment-hop", FEAT, G_OPTION_ARG_INT, F(segment_hop), "N",
     "Hop between segments (frames)", TRUE},
    {"cache", ALL, G_OPTION_ARG_FILENAME, F(cache), "DIR",
     "Feature cache directory (default: $XDG_CACHE_HOME/acrnn/features)",
     FALSE},
    {"no-cache", ALL, G_OPTION_ARG_NONE, F(no_cache), NULL,
     "Do not read or write the feature cache", FALSE},
    {"attention", TRN, G_OPTION_ARG_STRING, F(attention), "KIND",
     "Attention: rnn, none, cnn:2, cnn:4, cnn:6 or cnn:8", TRUE},
    {"epochs", TRN, G_OPTION_ARG_INT, F(epochs), "N", "Training epochs", TRUE},
    {"batch-size", TRN | TR_CMD_EVAL, G_OPTION_ARG_INT, F(batch_size), "N",
     "Segments per batch, drawn without repetition each epoch", TRUE},
    {"lr", TRN, G_OPTION_ARG_DOUBLE, F(lr), "LR", "Initial learning rate",
     TRUE},
    {"momentum", TRN, G_OPTION_ARG_DOUBLE, F(momentum), "M", "SGD momentum",
     TRUE},
    {"no-nesterov", TRN, G_OPTION_ARG_NONE, F(no_nesterov), NULL,
     "Plain momentum instead of Nesterov", TRUE},
    {"weight-decay", TRN, G_OPTION_ARG_DOUBLE, F(weight_decay), "L2",
     "L2 regularisation on all parameters", TRUE},
    {"lr-step", TRN, G_OPTION_ARG_INT, F(lr_step), "N",
     "Multiply the learning rate by --lr-gamma every N epochs (0: never)",
     TRUE},
    {"lr-gamma", TRN, G_OPTION_ARG_DOUBLE, F(lr_gamma), "G",
     "Learning rate step factor", TRUE},
    {"init-std", TRN, G_OPTION_ARG_DOUBLE, F(init_std), "S",
     "Weights drawn from N(0, S); biases 0", TRUE},
    {"dropout", TRN, G_OPTION_ARG_DOUBLE, F(dropout), "P",
     "Dropout of the GRU layers", TRUE},
    {"mixup-alpha", TRN, G_OPTION_ARG_DOUBLE, F(mixup_alpha), "A",
     "Mixup lambda ~ Beta(A, A) per batch; the paper does not give A, 0.2 "
     "is our choice (0: no mixup)",
     TRUE},
    {"augment", TRN, G_OPTION_ARG_STRING, F(augment), "MODE",
     "Time stretch + pitch shift: none, offline (--augment-copies extra "
     "copies of each training clip, made once) or online (a new random "
     "stretch and shift of every clip each epoch)",
     TRUE},
    {"augment-copies", TRN, G_OPTION_ARG_INT, F(augment_copies), "N",
     "Augmented copies per training clip with --augment offline", TRUE},
    {"stretch-min", TRN, G_OPTION_ARG_DOUBLE, F(stretch_min), "F",
     "Smallest time stretch factor (output length = factor x input)", TRUE},
    {"stretch-max", TRN, G_OPTION_ARG_DOUBLE, F(stretch_max), "F",
     "Largest time stretch factor", TRUE},
    {"pitch-range", TRN, G_OPTION_ARG_DOUBLE, F(pitch_range), "ST",
     "Pitch shift drawn uniformly from [-ST, ST] semitones", TRUE},
    {"augment-cache", TRN, G_OPTION_ARG_FILENAME, F(augment_cache), "DIR",
     "Keep the augmented copies' features in DIR and read them back when a "
     "later run draws the same copy (the same clip, seed and stretch and "
     "shift ranges: the rows of an ablation table); the results are the "
     "same bits. A 5 s clip's copy takes about 0.45 MB: an ESC-10 5-fold "
     "CV of 60 epochs online about 9 GB (default: none)",
     FALSE},
    /* ours, beyond the paper */
    {"label-smoothing", TRN, G_OPTION_ARG_DOUBLE, F(label_smoothing), "E",
     "Ours, not the paper's: label smoothing, the targets (after mixup) "
     "become (1-E) t + E/K for K classes; 0 <= E < 1 (0: none)",
     TRUE},
    {"lr-schedule", TRN, G_OPTION_ARG_STRING, F(lr_schedule), "KIND",
     "Learning rate schedule, set once per epoch: step (the paper's: "
     "--lr-step and --lr-gamma) or cosine (ours: lr-min + (lr - lr-min) "
     "(1 + cos(pi e / epochs)) / 2 for 0-based epoch e; --lr-step and "
     "--lr-gamma are then unused)",
     TRUE},
    {"lr-min", TRN, G_OPTION_ARG_DOUBLE, F(lr_min), "LR",
     "The learning rate the cosine schedule falls to, 0 <= LR <= --lr", TRUE},
    {"time-masks", TRN, G_OPTION_ARG_INT, F(time_masks), "N",
     "Ours, SpecAugment-style: N time masks on every training segment each "
     "epoch (never on validation or eval), each a run of uniform width in "
     "[0, --time-mask-width] frames at a uniform position, set to 0 after "
     "the normalisation, i.e. the training clips' mean (0: none)",
     TRUE},
    {"time-mask-width", TRN, G_OPTION_ARG_INT, F(time_mask_width), "W",
     "Widest time mask, 0..--segment-frames frames", TRUE},
    {"freq-masks", TRN, G_OPTION_ARG_INT, F(freq_masks), "N",
     "Ours, SpecAugment-style: N frequency masks on every training segment "
     "each epoch, bands of uniform width in [0, --freq-mask-width] at a "
     "uniform position, set to 0 after the normalisation in both channels "
     "(0: none)",
     TRUE},
    {"freq-mask-width", TRN, G_OPTION_ARG_INT, F(freq_mask_width), "F",
     "Widest frequency mask, 0..--bands bands", TRUE},
    {"seed", DATA, G_OPTION_ARG_INT64, F(seed), "N",
     "Seed of every random choice (init, shuffles, dropout, mixup, "
     "augmentation, masks, random folds)",
     TRUE},
    {"threads", ALL, G_OPTION_ARG_INT, F(threads), "N",
     "Compute threads. train and cv: N replicas of the network, each "
     "computing its share of every batch on one thread with its own batch "
     "norm statistics, as --bn-groups N does (so --threads N gives the "
     "weights of --threads 1 --bn-groups N); eval: the threads of the BLAS "
     "and the convolution kernels. The same seed and threads give the same "
     "weights",
     TRUE},
    {"precision", TRN | TR_CMD_EVAL, G_OPTION_ARG_STRING, F(precision), "P",
     "Arithmetic: fp32, or bf16 (bf16 products with fp32 sums in the "
     "convolutions, GRU and dense layers; weights, optimizer state, batch "
     "norm statistics and the loss stay fp32). bf16 runs on AVX512_BF16 and "
     "is emulated, with the same results but slowly, on other CPUs",
     TRUE},
    /* fine-tuning (init_from.c) */
    {"init-from", TRN, G_OPTION_ARG_FILENAME, F(init_from), "MODEL",
     "Fine-tune: start from MODEL's weights, every tensor whose name and "
     "shape fit, and train with its feature parameters, segments and "
     "attention; the classifier is new (initialised as without the option) "
     "unless MODEL's labels are the dataset's, names and order",
     TRUE},
    {"freeze-conv", TRN, G_OPTION_ARG_NONE, F(freeze_conv), NULL,
     "Train only the GRU, attention and classifier: the conv blocks' "
     "weights and batch norm stay as they are (no update, weight decay or "
     "momentum) and their batch norm normalises with its running statistics "
     "in training too, as PyTorch's eval() on frozen modules",
     TRUE},
    {"init-norm", TRN, G_OPTION_ARG_STRING, F(init_norm), "FROM",
     "With --init-from, the input normalisation statistics: model (MODEL's, "
     "what its layers learnt on) or data (the training clips')",
     TRUE},
    {"bn-groups", TRN, G_OPTION_ARG_INT, F(bn_groups), "G",
     "Split each batch into G groups, each with its own batch norm "
     "statistics and dropout stream, and sum their size-weighted gradients. "
     "Under mpirun -np N each rank computes G of the N*G groups, so one "
     "process with --bn-groups N gives the weights of an N-rank run",
     TRUE},
    {"parallel", TR_CMD_CV, G_OPTION_ARG_STRING, F(parallel), "MODE",
     "Under mpirun: batch (each fold trained in turn, its batches split "
     "over the ranks) or folds (whole folds on different ranks: fold i of "
     "the list on rank i mod N)",
     FALSE},
    {"timings", TRN, G_OPTION_ARG_NONE, F(timings), NULL,
     "At the end, print the training throughput and the time per step in "
     "computation and in the gradient MPI_Allreduce",
     FALSE},
    {"check-sync", TRN, G_OPTION_ARG_NONE, F(check_sync), NULL,
     "Compare a checksum of the weights of all ranks after every step; "
     "abort on a difference",
     FALSE},
    {"debug-fault", TRN, G_OPTION_ARG_STRING, F(debug_fault), "KIND",
     "Tests: kill (SIGKILL), error (a failing step) or desync (perturbed "
     "weights) on rank --debug-fault-rank at step --debug-fault-step",
     FALSE},
    {"debug-fault-rank", TRN, G_OPTION_ARG_INT, F(debug_fault_rank), "R",
     "Rank of --debug-fault", FALSE},
    {"debug-fault-step", TRN, G_OPTION_ARG_INT, F(debug_fault_step), "S",
     "Step of this run (1-based) of --debug-fault", FALSE},
    {"out", TR_CMD_TRAIN, G_OPTION_ARG_FILENAME, F(out), "FILE",
     "Model written: the best by validation accuracy (the last without "
     "--val-fold); the last is FILE with .last.safetensors",
     TRUE},
    {"out-dir", TR_CMD_CV, G_OPTION_ARG_FILENAME, F(out_dir), "DIR",
     "cv: models, logs and the summary go here", TRUE},
    {"model", TR_CMD_EVAL, G_OPTION_ARG_FILENAME_ARRAY, F(models), "FILE",
     "Model to evaluate. Repeat it for an ensemble (ours): each clip's "
     "probabilities are the mean of the models' clip probabilities; the "
     "models must have the same labels and feature parameters",
     FALSE},
    {"report", TR_CMD_EVAL, G_OPTION_ARG_FILENAME, F(report), "PREFIX",
     "Writes PREFIX.json, PREFIX-confusion.csv and PREFIX-confusion.png "
     "(default: the (first) model path without .safetensors, plus -eval, "
     "or -ensembleN-eval for N models)",
     FALSE},
    {"log", TR_CMD_TRAIN, G_OPTION_ARG_FILENAME, F(log), "FILE",
     "JSON-lines log of every epoch (default: --out with .log.jsonl)", TRUE},
    {"plot", TR_CMD_TRAIN, G_OPTION_ARG_FILENAME, F(plot), "FILE",
     "PNG of the training curves (default: --out with .curves.png; needs "
     "cairo)",
     TRUE},
    {"checkpoint", TR_CMD_TRAIN, G_OPTION_ARG_FILENAME, F(checkpoint), "FILE",
     "Checkpoint file (default: --out with .ckpt.safetensors)", TRUE},
    {"checkpoint-every", TRN, G_OPTION_ARG_INT, F(checkpoint_every), "N",
     "Checkpoint every N epochs, and always at the end (0: only at the end)",
     TRUE},
    {"resume", TR_CMD_TRAIN, G_OPTION_ARG_FILENAME, F(resume), "FILE",
     "Continue a run from its checkpoint, bit for bit (its stored options "
     "apply; options given here override them)",
     FALSE},
    {"continue", TR_CMD_CV, G_OPTION_ARG_NONE, F(cont), NULL,
     "Continue the cross-validation in --out-dir that was stopped: folds "
     "that finished are reported from DIR/fold-N.result.json, the stopped "
     "fold resumes from its checkpoint bit for bit (the options must be the "
     "stopped run's; they are checked)",
     FALSE},
    {"stop-after-epochs", TRN, G_OPTION_ARG_INT, F(stop_after_epochs), "N",
     "Checkpoint and stop after N epochs of this run (cv: of a fold) (0: "
     "never)",
     FALSE},
    {"stop-after-steps", TRN, G_OPTION_ARG_INT, F(stop_after_steps), "N",
     "Checkpoint and stop after N steps of this run, as on Ctrl-C "
     "(0: never)",
     FALSE},
    {"quiet", ALL | TR_CMD_EXPORT, G_OPTION_ARG_NONE, F(quiet), NULL,
     "No progress output (export: print nothing on success)", FALSE},
    {"model", TR_CMD_EXPORT, G_OPTION_ARG_FILENAME, F(model), "IN.safetensors",
     "The model or checkpoint to read", FALSE},
    {"out", TR_CMD_EXPORT, G_OPTION_ARG_FILENAME, F(out), "OUT.safetensors",
     "The model file to write", FALSE},
    {"dtype", TR_CMD_EXPORT, G_OPTION_ARG_STRING, F(dtype), "DTYPE",
     "Dtype of the written tensors: f32, f16 or bf16", FALSE},
};

/* export's short options (-m, -o, -q), as it has always taken them */
static char short_name(int cmd, const char *name) {
  if (cmd != TR_CMD_EXPORT)
    return 0;
  return strcmp(name, "model") == 0   ? 'm'
         : strcmp(name, "out") == 0   ? 'o'
         : strcmp(name, "quiet") == 0 ? 'q'
                                      : 0;
}

#define N_SPECS G_N_ELEMENTS(specs)

static void *field(const TrOptions *o, const OptSpec *s) {
  return (char *)o + s->offset;
}

/* Test and debugging aids, not shown in --help. */
static gboolean is_hidden(const char *name) {
  return g_str_has_prefix(name, "debug-") || strcmp(name, "check-sync") == 0;
}

static gboolean is_string(GOptionArg a) {
  return a == G_OPTION_ARG_STRING || a == G_OPTION_ARG_FILENAME;
}

static gboolean is_array(GOptionArg a) {
  return a == G_OPTION_ARG_STRING_ARRAY || a == G_OPTION_ARG_FILENAME_ARRAY;
}

/* A float default as the decimal number it was written as (0.01f gives
 * 0.01, not 0.009999999776): the shortest %g text that reads back to f. */
static double decimal(float f) {
  char buf[32];
  for (int digits = 6; digits < 9; digits++) {
    g_snprintf(buf, sizeof buf, "%.*g", digits, (double)f);
    if ((float)g_ascii_strtod(buf, NULL) == f)
      return g_ascii_strtod(buf, NULL);
  }
  return f;
}

/* The defaults the library defines: features, segments and attention,
 * optimizer. */
static void library_defaults(TrOptions *o) {
  AcrnnFeatureParams fp;
  acrnn_feature_params_init(&fp);
  o->sample_rate = fp.sample_rate;
  o->n_fft = fp.n_fft;
  o->hop = fp.hop;
  o->bands = fp.bands;
  o->fmin = fp.fmin;
  o->fmax = 0.0; /* sample-rate/2, as fp's, for any --sample-rate */
  o->filterbank = g_strdup(acrnn_filterbank_to_string(fp.filterbank));
  AcrnnModelInfo info;
  acrnn_model_info_init(&info);
  o->segment_frames = info.segment_frames;
  o->segment_hop = info.segment_hop;
  char att[8];
  o->attention = g_strdup(acrnn_attention_to_string(&info.attention, att));
  acrnn_model_info_clear(&info);
  AcrnnSgdParams sgd;
  acrnn_sgd_params_init(&sgd);
  o->lr = decimal(sgd.lr);
  o->momentum = decimal(sgd.momentum);
  o->no_nesterov = !sgd.nesterov;
  o->weight_decay = decimal(sgd.weight_decay);
  o->lr_step = sgd.step_epochs;
  o->lr_gamma = decimal(sgd.step_gamma);
}

void tr_options_init(TrOptions *o) {
  memset(o, 0, sizeof *o);
  library_defaults(o);
  o->random_folds = 5;
  o->epochs = 300;
  o->batch_size = 64;
  o->init_std = ACRNN_INIT_STD;
  /* dropout: no public default in the library (network.h documents 0.5) */
  o->dropout = 0.5;
  o->mixup_alpha = 0.2;
  o->augment = g_strdup("none");
  o->augment_copies = 4;
  o->stretch_min = 0.8;
  o->stretch_max = 1.3;
  o->pitch_range = 3.5;
  o->lr_schedule = g_strdup("step");
  o->seed = 1;
  o->threads = 1;
  o->precision = g_strdup("fp32");
  o->init_norm = g_strdup("model"); /* fine-tuning */
  o->bn_groups = 1;
  o->parallel = g_strdup("batch");
  o->checkpoint_every = 10;
  o->dtype = g_strdup("f32");
}

void tr_options_clear(TrOptions *o) {
  for (size_t i = 0; i < N_SPECS; i++)
    if (is_string(specs[i].arg)) {
      char **p = field(o, &specs[i]);
      g_clear_pointer(p, g_free);
    } else if (is_array(specs[i].arg)) {
      char ***p = field(o, &specs[i]);
      g_clear_pointer(p, g_strfreev);
    }
}

static char *default_text(const TrOptions *d, const OptSpec *s) {
  void *p = field(d, s);
  switch (s->arg) {
  case G_OPTION_ARG_INT:
    return g_strdup_printf("%d", *(int *)p);
  case G_OPTION_ARG_INT64:
    return g_strdup_printf("%" G_GINT64_FORMAT, *(gint64 *)p);
  case G_OPTION_ARG_DOUBLE:
    return g_strdup_printf("%g", *(double *)p);
  case G_OPTION_ARG_STRING:
  case G_OPTION_ARG_FILENAME:
    return *(char **)p ? g_strdup(*(char **)p) : NULL;
  default:
    return NULL;
  }
}

gboolean tr_options_parse(TrOptions *o, int cmd, const char *summary, int *argc,
                          char ***argv, GError **error) {
  TrOptions defaults;
  tr_options_init(&defaults);
  GPtrArray *texts = g_ptr_array_new_with_free_func(g_free);
  GOptionEntry *entries = g_new0(GOptionEntry, N_SPECS + 1);
  char *before[N_SPECS];
  int n = 0;
  for (size_t i = 0; i < N_SPECS; i++) {
    const OptSpec *s = &specs[i];
    before[i] = NULL;
    if (!(s->cmds & cmd))
      continue;
    if (is_string(s->arg) || is_array(s->arg))
      before[i] = *(char **)field(o, s);
    char *def = default_text(&defaults, s);
    char *desc = def && !strstr(s->desc, "(default")
                     ? g_strdup_printf("%s (default: %s)", s->desc, def)
                     : g_strdup(s->desc);
    g_free(def);
    g_ptr_array_add(texts, desc);
    entries[n].long_name = s->name;
    entries[n].short_name = short_name(cmd, s->name);
    entries[n].arg = s->arg;
    entries[n].arg_data = field(o, s);
    entries[n].description = desc;
    entries[n].arg_description = s->arg_desc;
    entries[n].flags = is_hidden(s->name) ? G_OPTION_FLAG_HIDDEN : 0;
    n++;
  }
  tr_options_clear(&defaults);
  GOptionContext *ctx = g_option_context_new(NULL);
  g_option_context_set_summary(ctx, summary);
  g_option_context_add_main_entries(ctx, entries, NULL);
  gboolean ok = g_option_context_parse(ctx, argc, argv, error);
  g_option_context_free(ctx);
  /* 0 used to run as 1 without a word */
  if (ok && (cmd & ALL) && o->threads < 1) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "--threads %d: expected at least 1 compute thread", o->threads);
    ok = FALSE;
  }
  if (ok && *argc > 1) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "unexpected argument \"%s\"", (*argv)[1]);
    ok = FALSE;
  }
  g_free(entries);
  g_ptr_array_unref(texts);
  /* GOption does not free a string it replaces. */
  for (size_t i = 0; i < N_SPECS; i++)
    if (before[i] && *(char **)field(o, &specs[i]) != before[i]) {
      if (is_array(specs[i].arg))
        g_strfreev((char **)before[i]);
      else
        g_free(before[i]);
    }
  return ok;
}

char *tr_options_to_json(const TrOptions *o) {
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  for (size_t i = 0; i < N_SPECS; i++) {
    const OptSpec *s = &specs[i];
    if (!s->saved)
      continue;
    void *p = field(o, s);
    json_builder_set_member_name(b, s->name);
    switch (s->arg) {
    case G_OPTION_ARG_INT:
      json_builder_add_int_value(b, *(int *)p);
      break;
    case G_OPTION_ARG_INT64:
      json_builder_add_int_value(b, *(gint64 *)p);
      break;
    case G_OPTION_ARG_DOUBLE:
      json_builder_add_double_value(b, *(double *)p);
      break;
    case G_OPTION_ARG_NONE:
      json_builder_add_boolean_value(b, *(gboolean *)p);
      break;
    default:
      if (*(char **)p)
        json_builder_add_string_value(b, *(char **)p);
      else
        json_builder_add_null_value(b);
    }
  }
  json_builder_end_object(b);
  JsonNode *root = json_builder_get_root(b);
  char *s = json_to_string(root, FALSE);
  json_node_unref(root);
  g_object_unref(b);
  return s;
}

gboolean tr_options_from_json(TrOptions *o, const char *json, GError **error) {
  JsonNode *root = json_from_string(json, error);
  if (!root)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT(root)) {
    json_node_unref(root);
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "checkpoint options: expected a JSON object");
    return FALSE;
  }
  JsonObject *obj = json_node_get_object(root);
  for (size_t i = 0; i < N_SPECS; i++) {
    const OptSpec *s = &specs[i];
    if (!s->saved || !json_object_has_member(obj, s->name))
      continue;
    JsonNode *v = json_object_get_member(obj, s->name);
    void *p = field(o, s);
    switch (s->arg) {
    case G_OPTION_ARG_INT:
      *(int *)p = (int)json_node_get_int(v);
      break;
    case G_OPTION_ARG_INT64:
      *(gint64 *)p = json_node_get_int(v);
      break;
    case G_OPTION_ARG_DOUBLE:
      *(double *)p = json_node_get_double(v);
      break;
    case G_OPTION_ARG_NONE:
      *(gboolean *)p = json_node_get_boolean(v);
      break;
    default:
      g_free(*(char **)p);
      *(char **)p =
          JSON_NODE_HOLDS_NULL(v) ? NULL : g_strdup(json_node_get_string(v));
    }
  }
  json_node_unref(root);
  return TRUE;
}

TrDatasetConfig tr_options_dataset(const TrOptions *o) {
  TrDatasetConfig c = {
      .data = o->data,
      .esc10 = o->esc10,
      .folds_csv = o->folds_csv,
      .split_by_source = o->split_by_source,
      .random_folds = o->random_folds,
      .seed = o->seed,
  };
  return c;
}

TrAugmentRange tr_options_augment(const TrOptions *o) {
  TrAugmentRange r = {.stretch_min = o->stretch_min,
                      .stretch_max = o->stretch_max,
                      .pitch_range = o->pitch_range};
  return r;
}

gboolean tr_options_feature_params(const TrOptions *o, AcrnnFeatureParams *fp,
                                   GError **error) {
  acrnn_feature_params_init(fp);
  fp->sample_rate = o->sample_rate;
  fp->n_fft = o->n_fft;
  fp->hop = o->hop;
  fp->bands = o->bands;
  fp->fmin = o->fmin;
  fp->fmax = o->fmax > 0 ? o->fmax : o->sample_rate / 2.0;
  if (!acrnn_filterbank_parse(o->filterbank, &fp->filterbank, error)) {
    g_prefix_error(error, "--filterbank: ");
    return FALSE;
  }
  return acrnn_feature_params_validate(fp, error);
}
