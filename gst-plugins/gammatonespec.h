/* gammatonespec.h - the gammatonespec element: mono float audio in,
 * log-gammatone feature frames (docs/features.md) out. */
#ifndef GST_GAMMATONE_SPEC_H
#define GST_GAMMATONE_SPEC_H

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_GAMMATONE_SPEC (gst_gammatone_spec_get_type())
G_DECLARE_FINAL_TYPE(GstGammatoneSpec, gst_gammatone_spec, GST, GAMMATONE_SPEC,
                     GstElement)

GST_ELEMENT_REGISTER_DECLARE(gammatonespec);

G_END_DECLS

#endif
