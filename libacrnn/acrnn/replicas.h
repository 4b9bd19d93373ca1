/* acrnn/replicas.h - inference over a batch split across copies of one
 * network, each part on its own thread: how acrnnclassify threads=N and
 * bench_network --threads N run a batch (training's --threads N splits the
 * same way). On N cores this scales better than splitting every layer over
 * N threads, which waits for the slowest thread after every layer. */
#ifndef ACRNN_REPLICAS_H
#define ACRNN_REPLICAS_H

#include <acrnn/network.h>

G_BEGIN_DECLS

/** Inference (as acrnn_net_forward() with training FALSE) over the batch x
 * [batch][2][bands][frames], split across nets[0 .. n_nets), copies of one
 * network (acrnn_net_copy()): part p, contiguous and of batch / parts or
 * one more segments (the larger parts first), runs on nets[p], part 0 on
 * the calling thread and the others on libacrnn's worker threads, all at
 * the precision of nets[0]. Writes the softmax probabilities [batch]
 * [n_classes] into probs (if not NULL) and the logits into logits (if not
 * NULL). Every segment of an inference is computed on its own, so the
 * results are those of one acrnn_net_forward() of nets[0] over the batch
 * (in fp32, up to the BLAS: OpenBLAS's Haswell kernels can round the last
 * bit of a product differently for a part of another row count, e.g. a
 * batch of 4 split 2 + 2).
 * With more than one part, each runs on its thread alone: libacrnn's
 * kernels take one thread there, and the BLAS one thread while any part of
 * any call runs. acrnn_set_threads()'s count is never changed, so calls
 * from several threads at once (pipelines in one process) are safe. */
void acrnn_net_forward_replicas(AcrnnNet *const *nets, int n_nets,
                                const float *x, int batch, float *logits,
                                float *probs);

/** As acrnn_net_forward_replicas(), for inputs cut from one stream at the
 * frames starts[0 .. batch): each part runs
 * acrnn_net_forward_stream() over its inputs. starts may be NULL (then
 * this is acrnn_net_forward_replicas()). */
void acrnn_net_forward_replicas_stream(AcrnnNet *const *nets, int n_nets,
                                       const float *x, const gint64 *starts,
                                       int batch, float *logits, float *probs);

G_END_DECLS

#endif
