/* init_from.h - fine-tuning (acrnn-train train --init-from MODEL,
 * --freeze-conv, --init-norm): what a training run takes from MODEL, and
 * which of its parameters stay as they are. The trainer calls these at
 * three points: tr_init_from_config() while it sets the run up, before the
 * network is made; tr_fine_tune_start() once the clips, their statistics
 * and any --resume checkpoint are loaded; tr_fine_tune_after_step() after
 * each optimizer update. */
#ifndef TR_INIT_FROM_H
#define TR_INIT_FROM_H

#include "options.h"
#include "progress.h"
#include "train_config.h"
#include <acrnn/acrnn.h>
#include <glib.h>

#define TR_INIT_FROM_ERROR (tr_init_from_error_quark())
GQuark tr_init_from_error_quark(void);

/* With --init-from: the feature parameters, segment length and hop and the
 * attention of MODEL replace those of the options in c (a fine-tuned model
 * computes its features as MODEL does). An option given with another value
 * than both its default and MODEL's is an error naming both, as is a MODEL
 * that does not load, or an --init-norm that is not model or data. Without
 * it: only the --init-norm check. */
gboolean tr_init_from_config(const TrOptions *o, TrTrainConfig *c,
                             GError **error);

typedef struct TrFineTune TrFineTune;

/* Before the first step. A fresh run (resumed FALSE) with --init-from takes
 * MODEL's tensors into net: every one whose name and shape fit, the
 * classifier only when MODEL's labels are info's (the dataset's), names
 * and order; and MODEL's normalisation statistics into info unless
 * --init-norm data (then info keeps those of the training clips). A
 * resumed run has all that from its checkpoint. --freeze-conv (fresh or
 * resumed) freezes the conv blocks in net (acrnn_net_set_conv_frozen) and
 * in opt (acrnn_sgd_freeze). Says what was taken on progress. *out: what
 * tr_fine_tune_after_step() needs, NULL without --freeze-conv. */
gboolean tr_fine_tune_start(const TrTrainConfig *c, AcrnnNet *net,
                            AcrnnModelInfo *info, AcrnnSgd *opt,
                            gboolean resumed, TrProgress *progress,
                            TrFineTune **out, GError **error);

/* After an optimizer update: puts back the running statistics of the
 * frozen batch norms, which averaging over N shards or ranks can move by a
 * rounding (the mean of N equal floats is not always that float). ft may
 * be NULL (nothing frozen). */
void tr_fine_tune_after_step(const TrFineTune *ft, AcrnnNet *net);
void tr_fine_tune_free(TrFineTune *ft);

#endif
