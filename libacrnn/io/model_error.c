/* model_error.c - the ACRNN_MODEL_ERROR domain of model file errors. */
#include <acrnn/model.h>

GQuark acrnn_model_error_quark(void) {
  return g_quark_from_static_string("acrnn-model-error-quark");
}
