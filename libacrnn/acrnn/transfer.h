/* acrnn/transfer.h - fine-tuning: starting a network from another's
 * weights (acrnn-train train --init-from). */
#ifndef ACRNN_TRANSFER_H
#define ACRNN_TRANSFER_H

#include <acrnn/network.h>
#include <glib.h>

G_BEGIN_DECLS

/** Copies into dst every tensor of src, parameters and batch norm running
 * statistics, whose name dst has too, with the same kind and shape, unless
 * the name starts with one of skip_prefixes (NULL-terminated; NULL for
 * none; e.g. "classifier." for a new classifier). The other tensors of dst
 * keep their values. Returns how many tensors were copied; the names of
 * dst's tensors not copied are appended to not_copied when it is given
 * (strings of dst's tensor table, valid while dst lives). */
guint acrnn_net_copy_matching(AcrnnNet *dst, AcrnnNet *src,
                              const char *const *skip_prefixes,
                              GPtrArray *not_copied);

G_END_DECLS

#endif
