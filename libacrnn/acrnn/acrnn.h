/* acrnn/acrnn.h - everything of libacrnn: features, network, optimizer,
 * augmentation and model files. */
#ifndef ACRNN_ACRNN_H
#define ACRNN_ACRNN_H

#include <acrnn/augment.h>
#include <acrnn/features.h>
#include <acrnn/model.h>
#include <acrnn/network.h>
#include <acrnn/rng.h>
#include <acrnn/sgd.h>

G_BEGIN_DECLS

/** Sets the number of threads the BLAS uses (1 = single-threaded). */
void acrnn_set_threads(int n);

G_END_DECLS

#endif
