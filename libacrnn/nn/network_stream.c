/* network_stream.c - the front of an inference over segments cut from one
 * stream of frames (acrnn_net_forward_stream(), acrnn/network.h): the conv
 * blocks before the first pooling computed once over the frames that
 * consecutive segments share, not once per segment.
 *
 * The front is blocks 0 .. F-1, F - 1 the first block followed by a pool or
 * the cnn attention (blocks 0 and 1 in the paper's network: 59 % of a
 * segment's operations). A front block's output at a frame depends on the
 * input frames up to e = sum of the blocks' kw / 2 on either side (4 with
 * the paper's 5-wide kernels). So over a run of overlapping segments, one
 * pass over their frames (the span, zero-padded at its own ends) gives
 * every segment's front output, except its first and last e frames where
 * the segment's own zero padding stands for its neighbours' frames.
 *
 * Those come from the edge image: for each inner edge, the segment's first
 * (or last) m = 2e input frames, every such item followed by g = max
 * kw / 2 zero columns (and g more before the first). After every front
 * block but the last the gaps are cleared again, so an item sees, on its
 * outer side, the zero padding of its segment at every block; what it sees
 * on its inner side (the next item, or a gap) reaches e frames in, which
 * leaves its outer e frames exact.
 *
 * When the last front block is followed by a pool (and not by the cnn
 * attention), each segment's maps are put together from the span and the
 * edge image one channel at a time, in a buffer that stays in cache, and
 * pooled from there: the segments' full-size maps are never written out.
 *
 * Every output value is computed by the same kernel, over the same inputs
 * in the same order, as in a forward of the segments one by one: the
 * direct kernels treat each output column alike whatever the map's width.
 * So the logits are the same bits. The front is taken only where those
 * kernels run (acrnn_conv2d_direct_chosen() for every width involved) and
 * where it saves at least a tenth of the front's columns; otherwise the
 * caller computes the front per segment as usual. */
#include "conv2d_direct.h"
#include "layers.h"
#include "network_private.h"

#include <string.h>

/* Longest span, in frames: a wider map would not leave room for a band of
 * several rows in the direct kernel's buffer. */
#define SPAN_FRAMES 640

typedef struct {
  int first, count; /* segments first .. first + count - 1 */
  gint64 base;      /* the stream frame at the span's column 0 */
  int width;        /* span columns */
} Run;

typedef struct {
  int front;      /* F */
  int reach, gap; /* e, g */
  int item;       /* m = 2e */
  int n_runs, n_items;
  int span_width; /* widest span */
  int edge_width; /* g + n_items * (m + g), 0 without items */
} Plan;

/* Whether inputs a and b (b after a, shift frames later) hold the same
 * frames where they overlap. */
static gboolean same_frames(const float *a, const float *b, int shift, int rows,
                            int s) {
  for (int r = 0; r < rows; r++)
    if (memcmp(a + (size_t)r * s + shift, b + (size_t)r * s,
               sizeof(float) * (size_t)(s - shift)) != 0)
      return FALSE;
  return TRUE;
}

/* F: 1 + the first block followed by a pool or the cnn attention. */
static int front_blocks(const AcrnnNet *net) {
  for (int i = 0; i < N_BLOCKS; i++)
    if (net->blk[i].ph || i == net->attn_block)
      return i + 1;
  return N_BLOCKS;
}

static gboolean direct_at(const AcrnnNet *net, int front, int width) {
  for (int i = 0; i < front; i++) {
    const Block *b = &net->blk[i];
    if (!acrnn_conv2d_direct_chosen(b->h, width, b->kh, b->kw))
      return FALSE;
  }
  return TRUE;
}

/* Cuts the batch into runs of overlapping segments; FALSE when sharing
 * would not pay or the direct kernels would not run. */
static gboolean make_plan(const AcrnnNet *net, const float *x,
                          const gint64 *starts, int n, Run *runs, Plan *p) {
  const Block *b0 = &net->blk[0];
  const int s = b0->w, rows = 2 * b0->h;
  const size_t in = (size_t)rows * s;
  *p = (Plan){.front = front_blocks(net)};
  for (int i = 0; i < p->front; i++) {
    p->reach += net->blk[i].kw / 2;
    p->gap = MAX(p->gap, net->blk[i].kw / 2);
  }
  p->item = 2 * p->reach;
  /* (where one segment does not run on the direct kernels, no comparing) */
  if (p->reach == 0 || s < 2 * p->item || !direct_at(net, p->front, s))
    return FALSE;
  for (int i = 0; i < n; i++) {
    Run *r = p->n_runs > 0 ? &runs[p->n_runs - 1] : NULL;
    const gint64 shift = i > 0 ? starts[i] - starts[i - 1] : 0;
    if (r != NULL && shift > 0 && shift < s &&
        starts[i] + s - r->base <= SPAN_FRAMES &&
        same_frames(x + (i - 1) * in, x + i * in, (int)shift, rows, s)) {
      r->count++;
      r->width = (int)(starts[i] + s - r->base);
      p->n_items += 2;
    } else {
      runs[p->n_runs++] = (Run){i, 1, starts[i], s};
    }
  }
  size_t columns = 0;
  for (int r = 0; r < p->n_runs; r++) {
    columns += (size_t)runs[r].width;
    p->span_width = MAX(p->span_width, runs[r].width);
  }
  if (p->n_items > 0) {
    p->edge_width = p->gap + p->n_items * (p->item + p->gap);
    columns += (size_t)p->edge_width;
  }
  return columns * 10 < (size_t)n * s * 9 &&
         direct_at(net, p->front, p->span_width) &&
         (p->edge_width == 0 || direct_at(net, p->front, p->edge_width));
}

/* The front's scratch: its input and two maps at the plan's widths, the
 * edge image's output, one segment's channel plane and the workspace. */
typedef struct {
  float *in, *map0, *map1, *edges, *plane, *ws;
} Scratch;

static Scratch ensure_scratch(AcrnnNet *net, const Plan *p) {
  const Block *last = &net->blk[p->front - 1];
  const int h = net->blk[0].h;
  const int width = MAX(p->span_width, p->edge_width);
  size_t maps = 0, work = 0;
  for (int i = 0; i < p->front; i++) {
    const Block *b = &net->blk[i];
    maps = MAX(maps, (size_t)b->cout * h * width);
    work = MAX(work, acrnn_conv2d_workspace(b->cin, b->cout, 1, b->h, width,
                                            b->kh, b->kw));
  }
  const size_t input = (size_t)net->blk[0].cin * h * width;
  const size_t edges = (size_t)last->cout * h * p->edge_width;
  const size_t plane = (size_t)h * last->w;
  const size_t need = input + 2 * maps + edges + plane + work;
  if (need > net->stream_cap) {
    g_free(net->stream_scratch);
    net->stream_scratch = g_new(float, need);
    net->stream_cap = need;
  }
  Scratch sc = {.in = net->stream_scratch};
  sc.map0 = sc.in + input;
  sc.map1 = sc.map0 + maps;
  sc.edges = sc.map1 + maps;
  sc.plane = sc.edges + edges;
  sc.ws = sc.plane + plane;
  return sc;
}

/* Runs the front blocks over in [cin][1][h][width]; the result is in the
 * returned map (map0 or map1). With gap > 0, columns [0, gap) and every
 * (item + gap)-th run of gap columns after an item are cleared after each
 * block but the last (the edge image). */
static const float *front_pass(const AcrnnNet *net, const Plan *p,
                               const float *in, int width, float *map0,
                               float *map1, float *ws, int gap, int items) {
  const float *fs = net->fold_s, *fb = net->fold_b;
  const float *src = in;
  float *dst = map0;
  for (int i = 0; i < p->front; i++) {
    const Block *b = &net->blk[i];
    acrnn_conv2d_scale_relu_forward(dst, src, P(net, b->t_w), fs, fb, 1, b->cin,
                                    b->cout, b->h, width, b->kh, b->kw, ws);
    fs += b->cout;
    fb += b->cout;
    if (gap > 0 && i + 1 < p->front)
      for (size_t row = 0; row < (size_t)b->cout * b->h; row++) {
        float *v = dst + row * width;
        memset(v, 0, sizeof(float) * (size_t)gap);
        for (int k = 0; k < items; k++)
          memset(v + gap + (size_t)k * (p->item + gap) + p->item, 0,
                 sizeof(float) * (size_t)gap);
      }
    src = dst;
    dst = dst == map0 ? map1 : map0;
  }
  return src;
}

/* The span of run r into in [cin][1][h][width] from the inputs x
 * [n][cin][h][s]: where segments overlap they hold the same frames. */
static void gather_span(float *in, const float *x, const gint64 *starts,
                        const Run *r, int cin, int h, int s) {
  for (int i = r->first; i < r->first + r->count; i++) {
    const size_t at = (size_t)(starts[i] - r->base);
    for (int c = 0; c < cin; c++)
      for (int row = 0; row < h; row++)
        memcpy(in + ((size_t)c * h + row) * r->width + at,
               x + (((size_t)i * cin + c) * h + row) * s, sizeof(float) * s);
  }
}

/* Item k's first column in the edge image. */
static size_t item_column(const Plan *p, int k) {
  return (size_t)p->gap + (size_t)k * (p->item + p->gap);
}

/* The edge image's input from the inputs x [n][cin][h][s]: item k is the
 * first m frames of the k-th segment with a left inner edge, or the last m
 * of one with a right inner edge; segment by segment, left before right. */
static void gather_edges(float *in, const float *x, const Plan *p,
                         const Run *runs, int cin, int h, int s) {
  memset(in, 0, sizeof(float) * (size_t)cin * h * p->edge_width);
  int k = 0;
  for (int r = 0; r < p->n_runs; r++)
    for (int i = runs[r].first; i < runs[r].first + runs[r].count; i++)
      for (int side = 0; side < 2; side++) {
        const gboolean left = side == 0;
        if (left ? i == runs[r].first : i + 1 == runs[r].first + runs[r].count)
          continue;
        const int from = left ? 0 : s - p->item;
        for (int c = 0; c < cin; c++)
          for (int row = 0; row < h; row++)
            memcpy(in + ((size_t)c * h + row) * p->edge_width +
                       item_column(p, k),
                   x + (((size_t)i * cin + c) * h + row) * s + from,
                   sizeof(float) * p->item);
        k++;
      }
}

/* Where segment i (of run r) finds its front output: its columns of the
 * span, and the items of its inner edges in the edge image (-1: none). */
typedef struct {
  size_t at; /* its first column in the span */
  int left_item, right_item;
} Sources;

/* Segment i's channel c of the front's output into dst [h][s]: the span's
 * columns, its inner edges' first and last e from the edge image. */
static void assemble_plane(float *dst, const Plan *p, const Sources *src,
                           const float *span, int span_width,
                           const float *edges, int c, int h, int s) {
  const float *sp = span + (size_t)c * h * span_width + src->at;
  const float *ep = edges + (size_t)c * h * p->edge_width;
  const int e = p->reach;
  for (int row = 0; row < h; row++) {
    float *d = dst + (size_t)row * s;
    memcpy(d, sp + (size_t)row * span_width, sizeof(float) * s);
    const float *er = ep + (size_t)row * p->edge_width;
    if (src->left_item >= 0)
      memcpy(d, er + item_column(p, src->left_item), sizeof(float) * e);
    if (src->right_item >= 0)
      memcpy(d + s - e, er + item_column(p, src->right_item) + p->item - e,
             sizeof(float) * e);
  }
}

int acrnn_net_stream_front(AcrnnNet *net, const float *x, const gint64 *starts,
                           int n, gboolean *pooled) {
  *pooled = FALSE;
  Run *runs = g_new(Run, n);
  Plan p;
  if (!make_plan(net, x, starts, n, runs, &p)) {
    g_free(runs);
    return 0;
  }
  const Block *b0 = &net->blk[0], *last = &net->blk[p.front - 1];
  const int cin = b0->cin, h = b0->h, s = b0->w;
  const Scratch sc = ensure_scratch(net, &p);
  /* pooled here, from each segment's planes put together in cache; or the
   * whole maps written for the cnn attention */
  *pooled = last->ph > 0 && net->attn_block != p.front - 1;
  const size_t pooled_plane = (size_t)last->oh * last->ow;

  if (p.n_items > 0) {
    gather_edges(sc.in, x, &p, runs, cin, h, s);
    const float *out = front_pass(net, &p, sc.in, p.edge_width, sc.map0,
                                  sc.map1, sc.ws, p.gap, p.n_items);
    memcpy(sc.edges, out,
           sizeof(float) * (size_t)last->cout * h * p.edge_width);
  }
  int k = 0; /* the next edge item */
  for (int r = 0; r < p.n_runs; r++) {
    const Run *run = &runs[r];
    gather_span(sc.in, x, starts, run, cin, h, s);
    const float *span =
        front_pass(net, &p, sc.in, run->width, sc.map0, sc.map1, sc.ws, 0, 0);
    for (int i = run->first; i < run->first + run->count; i++) {
      Sources src = {(size_t)(starts[i] - run->base), -1, -1};
      if (i > run->first)
        src.left_item = k++;
      if (i + 1 < run->first + run->count)
        src.right_item = k++;
      for (int c = 0; c < last->cout; c++) {
        const size_t plane = (size_t)c * n + i;
        if (*pooled) {
          assemble_plane(sc.plane, &p, &src, span, run->width, sc.edges, c, h,
                         s);
          acrnn_maxpool_forward(net->pool_out[p.front - 1] +
                                    plane * pooled_plane,
                                NULL, sc.plane, 1, h, s, last->ph, last->pw);
        } else {
          assemble_plane(net->act[p.front - 1] + plane * h * s, &p, &src, span,
                         run->width, sc.edges, c, h, s);
        }
      }
    }
  }
  g_free(runs);
  return p.front;
}
