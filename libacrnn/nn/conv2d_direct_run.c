/* conv2d_direct_run.c - the items of a direct convolution (sample, block of
 * output rows) shared out among threads, and the max pool fused into its
 * rows (conv2d_direct_run.h). */
#include "conv2d_direct_run.h"
#include "layers.h"
#include "parallel.h"

#include <acrnn/acrnn.h>
#include <glib.h>

/* At most this many threads share one convolution. */
#define MAX_THREADS 64

typedef struct {
  const void *work;
  AcrnnDirectItemFn item;
  int items, row_blocks, block_rows, h;
  size_t band_bytes;
  gint next; /* the next item */
} Run;

typedef struct {
  Run *run;
  void *band; /* NULL: the thread allocates one */
} Worker;

static void run_worker(gpointer data) {
  Worker *me = data;
  Run *r = me->run;
  void *own = NULL, *band = me->band;
  if (!band)
    band = own = g_malloc(r->band_bytes);
  for (int it; (it = g_atomic_int_add(&r->next, 1)) < r->items;) {
    const int s = it / r->row_blocks;
    const int r0 = it % r->row_blocks * r->block_rows;
    const int r1 = r0 + r->block_rows < r->h ? r0 + r->block_rows : r->h;
    r->item(r->work, band, s, r0, r1);
  }
  g_free(own);
}

void acrnn_conv2d_direct_run(int n, int h, int row_step, const void *work,
                             AcrnnDirectItemFn item, void *band0,
                             size_t band_bytes) {
  int nt = acrnn_get_threads();
  if (nt > MAX_THREADS)
    nt = MAX_THREADS;
  int row_blocks = 1;
  int block_rows = h;
  if (n < nt) {
    row_blocks = 4 * nt < h ? 4 * nt : h;
    block_rows = (h + row_blocks - 1) / row_blocks;
    block_rows = (block_rows + row_step - 1) / row_step * row_step;
    row_blocks = (h + block_rows - 1) / block_rows; /* none empty */
  }
  Run run = {.work = work,
             .item = item,
             .items = n * row_blocks,
             .row_blocks = row_blocks,
             .block_rows = block_rows,
             .h = h,
             .band_bytes = band_bytes,
             .next = 0};
  if (nt > run.items)
    nt = run.items;
  Worker workers[MAX_THREADS];
  for (int t = 0; t < nt; t++)
    workers[t] = (Worker){&run, NULL};
  workers[0].band = band0;
  acrnn_parallel_run(nt, run_worker, workers, sizeof workers[0]);
}

void acrnn_conv2d_direct_pool_rows(const AcrnnDirectPool *p,
                                   const float *scratch, int cb, int nco, int n,
                                   int s, int h, int w, int i) {
  const int oh = h / p->ph, ow = w / p->pw;
  const size_t plane = (size_t)oh * ow;
  for (int o = 0; o < nco; o++)
    acrnn_maxpool_forward(p->y + ((size_t)(cb + o) * n + s) * plane +
                              (size_t)(i / p->ph) * ow,
                          NULL, scratch + (size_t)o * w, 1, 1, w, 1, p->pw);
}
