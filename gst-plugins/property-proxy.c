/* property-proxy.c - copies of a child element's property specs. */
#include "property-proxy.h"

GParamSpec *gst_acrnn_param_spec_copy(GParamSpec *src) {
  const char *name = g_param_spec_get_name(src);
  const char *nick = g_param_spec_get_nick(src);
  const char *blurb = g_param_spec_get_blurb(src);
  GParamFlags flags = src->flags & ~G_PARAM_STATIC_STRINGS;
  if (G_IS_PARAM_SPEC_STRING(src))
    return g_param_spec_string(name, nick, blurb,
                               G_PARAM_SPEC_STRING(src)->default_value, flags);
  if (G_IS_PARAM_SPEC_UINT(src)) {
    GParamSpecUInt *u = G_PARAM_SPEC_UINT(src);
    return g_param_spec_uint(name, nick, blurb, u->minimum, u->maximum,
                             u->default_value, flags);
  }
  if (G_IS_PARAM_SPEC_INT(src)) {
    GParamSpecInt *i = G_PARAM_SPEC_INT(src);
    return g_param_spec_int(name, nick, blurb, i->minimum, i->maximum,
                            i->default_value, flags);
  }
  if (G_IS_PARAM_SPEC_UINT64(src)) {
    GParamSpecUInt64 *u = G_PARAM_SPEC_UINT64(src);
    return g_param_spec_uint64(name, nick, blurb, u->minimum, u->maximum,
                               u->default_value, flags);
  }
  if (G_IS_PARAM_SPEC_DOUBLE(src)) {
    GParamSpecDouble *d = G_PARAM_SPEC_DOUBLE(src);
    return g_param_spec_double(name, nick, blurb, d->minimum, d->maximum,
                               d->default_value, flags);
  }
  if (G_IS_PARAM_SPEC_BOOLEAN(src))
    return g_param_spec_boolean(
        name, nick, blurb, G_PARAM_SPEC_BOOLEAN(src)->default_value, flags);
  if (G_IS_PARAM_SPEC_ENUM(src))
    return g_param_spec_enum(name, nick, blurb, src->value_type,
                             G_PARAM_SPEC_ENUM(src)->default_value, flags);
  if (G_IS_PARAM_SPEC_BOXED(src))
    return g_param_spec_boxed(name, nick, blurb, src->value_type, flags);
  return NULL;
}
