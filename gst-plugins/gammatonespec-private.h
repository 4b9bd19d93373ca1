/* gammatonespec-private.h - the state of the gammatonespec element, shared
 * by the files that implement it (internal to the plugin):
 *
 *   gammatonespec.c         the element: properties, events, states
 *   gammatonespec-frames.c  samples in, frames out, runs
 *   gammatonespec-caps.c    caps: the input format, what downstream accepts
 */
#ifndef GST_GAMMATONE_SPEC_PRIVATE_H
#define GST_GAMMATONE_SPEC_PRIVATE_H

#include "gammatonespec.h"

#include <acrnn/features.h>
#include <gst/gst.h>

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN(gst_gammatone_spec_debug);
#define GST_CAT_DEFAULT gst_gammatone_spec_debug

struct _GstGammatoneSpec {
  GstElement parent;
  GstPad *sinkpad, *srcpad;

  /* properties, under the object lock */
  int sample_rate, bands, n_fft, hop, delta_width;
  double fmin, fmax;
  AcrnnFilterbank filterbank;

  /* stream state, streaming thread */
  AcrnnFeatureExtractor *fx;
  AcrnnFeatureParams params; /* of fx */
  GstSegment segment;
  gboolean need_start;    /* the next buffer starts a run */
  gboolean discont;       /* mark the next output buffer DISCONT */
  GstClockTime run_start; /* PTS of sample 0 of the run */
  guint64 samples_in;     /* samples pushed in this run */
  GstClockTime run_end;   /* where the last run ended, NONE before any */
  GstClockTime latency;   /* object lock; NONE before caps */
};

/* gammatonespec-frames.c */
GstFlowReturn gst_gammatone_spec_chain(GstPad *pad, GstObject *parent,
                                       GstBuffer *buf);
/* Ends the current run: its tail frames are pushed. */
GstFlowReturn gst_gammatone_spec_drain(GstGammatoneSpec *self);
/* The next buffer starts a new run. */
void gst_gammatone_spec_reset_run(GstGammatoneSpec *self);

/* gammatonespec-caps.c */
/* A new input format: a new extractor and output caps. */
gboolean gst_gammatone_spec_set_caps(GstGammatoneSpec *self, GstCaps *caps);
/* The feature parameters the properties give at rate. */
void gst_gammatone_spec_params_for_rate(GstGammatoneSpec *self, int rate,
                                        AcrnnFeatureParams *p);
gboolean gst_gammatone_spec_sink_query(GstPad *pad, GstObject *parent,
                                       GstQuery *query);

G_END_DECLS

#endif
