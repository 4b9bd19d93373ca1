/* soundclassifier.h - the soundclassifier bin: any raw audio in, ACRNN
 * labels out (audioconvert ! audioresample ! capsfilter ! gammatonespec !
 * acrnnclassify, configured from the model). */
#ifndef GST_SOUND_CLASSIFIER_H
#define GST_SOUND_CLASSIFIER_H

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_SOUND_CLASSIFIER (gst_sound_classifier_get_type())
G_DECLARE_FINAL_TYPE(GstSoundClassifier, gst_sound_classifier, GST,
                     SOUND_CLASSIFIER, GstBin)

GST_ELEMENT_REGISTER_DECLARE(soundclassifier);

G_END_DECLS

#endif
