/* model_cache.h - (internal) what the model cache holds, for tests. */
#ifndef ACRNN_MODEL_CACHE_H
#define ACRNN_MODEL_CACHE_H

#include <glib.h>

/* How many weight blocks acrnn_model_load_shared() has in memory now (one
 * per file version with a net still using it). */
guint acrnn_model_cache_n_entries(void);

#endif
