/* checkpoint.c - a run's checkpoint: the network, the optimizer's velocity
 * (an extra tensor) and the run's state (checkpoint_state.h, one metadata
 * entry), written by rank 0 and read back from one open file. */
#include "train_run.h"
#include <string.h>

#define CKPT_ERROR (g_quark_from_static_string("acrnn-train-error"))
#define VELOCITY_NAME "optimizer.velocity"

gboolean tr_run_save_checkpoint(TrRun *r, GError **error) {
  if (r->rank != 0)
    return TRUE;
  char *state = tr_checkpoint_state_to_json(&r->st);
  AcrnnModelTensor velocity = {VELOCITY_NAME, r->opt->velocity, r->opt->n};
  AcrnnModelMeta meta = {TR_CHECKPOINT_STATE_KEY, state};
  AcrnnModelExtras extras = {&velocity, 1, &meta, 1};
  gboolean ok = acrnn_model_save_full(r->paths->checkpoint, r->net, &r->info,
                                      &extras, error);
  g_free(state);
  return ok;
}

static gboolean same_labels(const AcrnnModelInfo *a, const AcrnnModelInfo *b) {
  gboolean same = a->n_labels == b->n_labels;
  for (int i = 0; same && i < a->n_labels; i++)
    same = strcmp(a->labels[i], b->labels[i]) == 0;
  return same;
}

/* The network and model info of the checkpoint, in place of r's. */
static gboolean take_net(TrRun *r, AcrnnModelFile *f, GError **error) {
  AcrnnModelInfo info;
  AcrnnNet *net = acrnn_model_file_load(f, &info, error);
  if (!net)
    return FALSE;
  if (!same_labels(&info, &r->info)) {
    g_set_error(error, CKPT_ERROR, 1,
                "%s: the checkpoint's labels differ from those of the "
                "dataset %s",
                acrnn_model_file_path(f), r->ds->root);
    acrnn_model_info_clear(&info);
    acrnn_net_free(net);
    return FALSE;
  }
  acrnn_model_info_clear(&r->info);
  r->info = info;
  acrnn_net_set_precision(net, acrnn_net_get_precision(r->net));
  acrnn_net_free(r->net);
  r->net = net;
  acrnn_net_set_dropout(net, (float)r->c->dropout);
  return TRUE;
}

static gboolean take_velocity(TrRun *r, AcrnnModelFile *f, GError **error) {
  size_t numel = 0;
  float *vel = acrnn_model_file_read_extra(f, VELOCITY_NAME, &numel, error);
  if (!vel)
    return FALSE;
  if (numel != acrnn_net_n_params(r->net)) {
    g_set_error(error, CKPT_ERROR, 1, "%s: %s has %zu values, expected %zu",
                acrnn_model_file_path(f), VELOCITY_NAME, numel,
                acrnn_net_n_params(r->net));
    g_free(vel);
    return FALSE;
  }
  memcpy(r->opt->velocity, vel, numel * sizeof(float));
  g_free(vel);
  return TRUE;
}

/* The run keeps its own options (the checkpoint's, then the command
 * line's: what the next checkpoint stores). */
static gboolean take_state(TrRun *r, AcrnnModelFile *f, GError **error) {
  TrCheckpointState st;
  tr_checkpoint_state_init(&st);
  gboolean ok = tr_checkpoint_state_read(f, &st, error);
  if (ok) {
    char *options = r->st.options;
    r->st.options = NULL;
    tr_checkpoint_state_clear(&r->st);
    r->st = st;
    g_free(r->st.options);
    r->st.options = options;
  } else {
    tr_checkpoint_state_clear(&st);
  }
  return ok;
}

gboolean tr_run_load_checkpoint(TrRun *r, const char *path, GError **error) {
  AcrnnModelFile *f = acrnn_model_file_open(path, error);
  if (!f)
    return FALSE;
  gboolean ok = take_net(r, f, error) && take_velocity(r, f, error) &&
                take_state(r, f, error);
  acrnn_model_file_close(f);
  return ok;
}
