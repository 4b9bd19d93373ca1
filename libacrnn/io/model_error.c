/* model_error.c - the error domains of acrnn/error.h. */
#include <acrnn/error.h>

GQuark acrnn_model_error_quark(void) {
  return g_quark_from_static_string("acrnn-model-error-quark");
}

GQuark acrnn_net_error_quark(void) {
  return g_quark_from_static_string("acrnn-net-error-quark");
}
