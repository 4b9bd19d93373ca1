/* item_sums.c - see item_sums.h. Every item's block is kept until all are
 * made, then the blocks are added in item order: blocks of a weight
 * gradient are small (a few hundred KB), and no thread waits on another
 * to add its share. */
#include "item_sums.h"

#include "parallel.h"

#include <acrnn/acrnn.h>
#include <string.h>

#define MAX_TASKS 64

typedef struct {
  AcrnnItemFn fn;
  gpointer ctx;
  float *blocks; /* [items][per] */
  size_t per, scratch_bytes;
  int items;
  gint next;
} Shared;

typedef struct {
  Shared *sh;
} Task;

static void run_task(gpointer data) {
  Shared *sh = ((Task *)data)->sh;
  gpointer scratch =
      sh->scratch_bytes ? g_aligned_alloc(1, sh->scratch_bytes, 64) : NULL;
  for (int it; (it = g_atomic_int_add(&sh->next, 1)) < sh->items;) {
    float *block = sh->blocks + (size_t)it * sh->per;
    memset(block, 0, sizeof(float) * sh->per);
    sh->fn(sh->ctx, it, block, scratch);
  }
  g_aligned_free(scratch);
}

void acrnn_item_sums(float *out, size_t per, int items, size_t scratch_bytes,
                     AcrnnItemFn fn, gpointer ctx) {
  if (items <= 0 || per == 0)
    return;
  Shared sh = {.fn = fn,
               .ctx = ctx,
               .blocks = g_new(float, per *items),
               .per = per,
               .scratch_bytes = scratch_bytes,
               .items = items,
               .next = 0};
  const int nt = MIN(MAX(acrnn_get_threads(), 1), MIN(items, MAX_TASKS));
  Task tasks[MAX_TASKS];
  for (int t = 0; t < nt; t++)
    tasks[t].sh = &sh;
  acrnn_parallel_run(nt, run_task, tasks, sizeof(Task));
  for (int it = 0; it < items; it++) {
    const float *b = sh.blocks + per * it;
    for (size_t i = 0; i < per; i++)
      out[i] += b[i];
  }
  g_free(sh.blocks);
}
