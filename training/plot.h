/* plot.h - PNG plots with cairo: training curves and confusion matrices.
 * Without cairo in the build both return FALSE with an error saying so. */
#ifndef TR_PLOT_H
#define TR_PLOT_H

#include "epoch_record.h"
#include <glib.h>

gboolean tr_plot_curves(const char *png, const TrEpochRecord *r, size_t n,
                        GError **error);
/* cm[true * n + predicted] */
gboolean tr_plot_confusion(const char *png, const int *cm, int n,
                           char *const *labels, GError **error);

/* Frees the drawing libraries' caches; call once at exit. */
void tr_plot_shutdown(void);

#endif
