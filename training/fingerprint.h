/* fingerprint.h - what the ranks of a data-parallel job must share: the
 * build, the options and the dataset's file list, compared at the start. */
#ifndef TR_FINGERPRINT_H
#define TR_FINGERPRINT_H

#include "dataset.h"
#include "options.h"

/* Compares the fingerprints of this rank's build, options and dataset with
 * rank 0's; FALSE with an error naming the rank and what differs (every
 * rank gets the same answer). TRUE at once in one process. */
gboolean tr_check_same_run(const TrOptions *o, const TrDataset *ds,
                           GError **error);

#endif
