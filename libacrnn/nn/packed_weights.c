/* packed_weights.c - the set of packed weight matrices of packed_weights.h:
 * a short array searched in order (a network has a few dozen). */
#include "packed_weights.h"

#include "gemm_bf16.h"

#include <glib.h>

typedef struct {
  const float *src;
  int side;               /* 0: A, 1: B */
  int trans, rows, k, ld; /* rows: m of A, n of B */
  uint32_t *packed;
  size_t words;
} Entry;

struct AcrnnPackedWeights {
  GArray *entries; /* of Entry */
};

AcrnnPackedWeights *acrnn_packed_weights_new(void) {
  AcrnnPackedWeights *set = g_new0(AcrnnPackedWeights, 1);
  set->entries = g_array_new(FALSE, FALSE, sizeof(Entry));
  return set;
}

void acrnn_packed_weights_free(AcrnnPackedWeights *set) {
  if (set == NULL)
    return;
  for (guint i = 0; i < set->entries->len; i++)
    g_free(g_array_index(set->entries, Entry, i).packed);
  g_array_free(set->entries, TRUE);
  g_free(set);
}

static void add(AcrnnPackedWeights *set, const Entry *e) {
  g_array_append_val(set->entries, *e);
}

void acrnn_packed_weights_add_a(AcrnnPackedWeights *set, const float *a,
                                int trans_a, int m, int k, int lda) {
  const size_t words = acrnn_gemm_bf16_packed_a_size(m, k);
  Entry e = {a, 0, trans_a, m, k, lda, g_new(uint32_t, MAX(words, 1)), words};
  acrnn_gemm_bf16_pack_a(e.packed, trans_a, m, k, a, lda);
  add(set, &e);
}

void acrnn_packed_weights_add_b(AcrnnPackedWeights *set, const float *b,
                                int trans_b, int n, int k, int ldb) {
  const size_t words = acrnn_gemm_bf16_packed_b_size(n, k);
  Entry e = {b, 1, trans_b, n, k, ldb, g_new(uint32_t, MAX(words, 1)), words};
  acrnn_gemm_bf16_pack_b(e.packed, trans_b, n, k, b, ldb);
  add(set, &e);
}

static const uint32_t *find(const AcrnnPackedWeights *set, const float *src,
                            int side, int trans, int rows, int k, int ld) {
  if (set == NULL)
    return NULL;
  for (guint i = 0; i < set->entries->len; i++) {
    const Entry *e = &g_array_index(set->entries, Entry, i);
    if (e->src == src && e->side == side && e->trans == trans &&
        e->rows == rows && e->k == k && e->ld == ld)
      return e->packed;
  }
  return NULL;
}

const uint32_t *acrnn_packed_weights_find_a(const AcrnnPackedWeights *set,
                                            const float *a, int trans_a, int m,
                                            int k, int lda) {
  return find(set, a, 0, trans_a, m, k, lda);
}

const uint32_t *acrnn_packed_weights_find_b(const AcrnnPackedWeights *set,
                                            const float *b, int trans_b, int n,
                                            int k, int ldb) {
  return find(set, b, 1, trans_b, n, k, ldb);
}

size_t acrnn_packed_weights_bytes(const AcrnnPackedWeights *set) {
  size_t bytes = 0;
  for (guint i = 0; set && i < set->entries->len; i++)
    bytes += g_array_index(set->entries, Entry, i).words * sizeof(uint32_t);
  return bytes;
}
