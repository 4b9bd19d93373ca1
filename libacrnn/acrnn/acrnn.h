/* acrnn/acrnn.h - everything of libacrnn: features, network, optimizer,
 * augmentation and model files. */
#ifndef ACRNN_ACRNN_H
#define ACRNN_ACRNN_H

#include <acrnn/augment.h>
#include <acrnn/clip_score.h>
#include <acrnn/features.h>
#include <acrnn/level.h>
#include <acrnn/model.h>
#include <acrnn/network.h>
#include <acrnn/replicas.h>
#include <acrnn/rng.h>
#include <acrnn/sgd.h>
#include <acrnn/transfer.h>

G_BEGIN_DECLS

/** Sets the number of threads libacrnn's compute uses, the BLAS's and its
 * own convolution kernels' (1 = single-threaded). Not to be changed while
 * another thread runs a network. */
void acrnn_set_threads(int n);

/** The count last set by acrnn_set_threads(); 1 before any call. */
int acrnn_get_threads(void);

G_END_DECLS

#endif
