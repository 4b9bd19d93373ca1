/* soundanalyzer.h - the soundanalyzer bin: raw audio in, the same audio
 * out, "acrnn" messages about it on the bus (tee ! queue ! soundclassifier
 * ! fakesink on the side). */
#ifndef GST_SOUND_ANALYZER_H
#define GST_SOUND_ANALYZER_H

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_SOUND_ANALYZER (gst_sound_analyzer_get_type())
G_DECLARE_FINAL_TYPE(GstSoundAnalyzer, gst_sound_analyzer, GST, SOUND_ANALYZER,
                     GstBin)

GST_ELEMENT_REGISTER_DECLARE(soundanalyzer);

G_END_DECLS

#endif
