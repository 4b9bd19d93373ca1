/* acrnnclassify.h - the acrnnclassify element: log-gammatone features in,
 * one ACRNN classification per segment out (bus messages and text). */
#ifndef GST_ACRNN_CLASSIFY_H
#define GST_ACRNN_CLASSIFY_H

#include <acrnn/features.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_ACRNN_CLASSIFY (gst_acrnn_classify_get_type())
G_DECLARE_FINAL_TYPE(GstAcrnnClassify, gst_acrnn_classify, GST, ACRNN_CLASSIFY,
                     GstElement)

GST_ELEMENT_REGISTER_DECLARE(acrnnclassify);

/* For soundclassifier: the feature parameters of the loaded model (READY and
 * above); FALSE when no model is loaded. */
gboolean gst_acrnn_classify_get_feature_params(GstAcrnnClassify *self,
                                               AcrnnFeatureParams *params);

/* For soundclassifier and READY to PAUSED: in READY, loads the model again
 * when the model property changed since it was loaded; FALSE (with an ERROR
 * message posted) when that fails. */
gboolean gst_acrnn_classify_update_model(GstAcrnnClassify *self);

G_END_DECLS

#endif
