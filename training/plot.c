/* plot.c - the training curves (loss; train and validation accuracy) and
 * the confusion matrix as PNG images drawn with cairo. */
#include "plot.h"
#include <math.h>

#define PLOT_ERROR (g_quark_from_static_string("acrnn-train-plot-error"))

#ifdef TR_HAVE_CAIRO
#include <cairo.h>
#ifdef TR_HAVE_FONTCONFIG
#include <fontconfig/fontconfig.h>
#endif

/* Frees cairo's and fontconfig's caches (so leak checkers stay quiet). */
void tr_plot_shutdown(void) {
  cairo_debug_reset_static_data();
#ifdef TR_HAVE_FONTCONFIG
  FcFini();
#endif
}

static gboolean finish(cairo_surface_t *s, cairo_t *cr, const char *png,
                       GError **error) {
  cairo_destroy(cr);
  cairo_status_t st = cairo_surface_write_to_png(s, png);
  cairo_surface_destroy(s);
  if (st != CAIRO_STATUS_SUCCESS) {
    g_set_error(error, PLOT_ERROR, 1, "%s: cannot write the PNG: %s", png,
                cairo_status_to_string(st));
    return FALSE;
  }
  return TRUE;
}

static void text(cairo_t *cr, double x, double y, const char *s, double align) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s, &e);
  cairo_move_to(cr, x - align * e.width, y);
  cairo_show_text(cr, s);
}

/* One panel: series of values against epochs in box (x0,y0,w,h). */
static void panel(cairo_t *cr, double x0, double y0, double w, double h,
                  const char *title, const TrEpochRecord *r, size_t n,
                  int which) {
  double lo = 0, hi = 1;
  if (which == 0) {
    hi = 0;
    for (size_t i = 0; i < n; i++)
      if (isfinite(r[i].train_loss))
        hi = MAX(hi, r[i].train_loss);
    hi = hi > 0 ? hi * 1.05 : 1;
  }
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, x0, y0, w, h);
  cairo_stroke(cr);
  cairo_set_font_size(cr, 12);
  text(cr, x0 + w / 2, y0 - 8, title, 0.5);
  char buf[32];
  for (int t = 0; t <= 4; t++) {
    double v = lo + (hi - lo) * t / 4.0, y = y0 + h - h * t / 4.0;
    g_snprintf(buf, sizeof buf, "%.2f", v);
    text(cr, x0 - 4, y + 4, buf, 1.0);
  }
  int last = n ? r[n - 1].epoch : 1;
  g_snprintf(buf, sizeof buf, "epoch %d", last);
  text(cr, x0 + w, y0 + h + 14, buf, 1.0);
  text(cr, x0, y0 + h + 14, "1", 0.0);
  int series = which == 0 ? 1 : 2;
  for (int s = 0; s < series; s++) {
    if (which == 0 || s == 0)
      cairo_set_source_rgb(cr, 0.1, 0.3, 0.8);
    else
      cairo_set_source_rgb(cr, 0.85, 0.3, 0.1);
    gboolean started = FALSE;
    for (size_t i = 0; i < n; i++) {
      double v = which == 0 ? r[i].train_loss
                            : (s == 0 ? r[i].train_acc : r[i].val_acc);
      if (!isfinite(v) || v < 0) {
        started = FALSE;
        continue;
      }
      double x = x0 + (last > 1 ? w * (r[i].epoch - 1) / (last - 1) : w / 2);
      double y = y0 + h - h * (MIN(v, hi) - lo) / (hi - lo);
      if (started)
        cairo_line_to(cr, x, y);
      else
        cairo_move_to(cr, x, y);
      started = TRUE;
      if (n == 1)
        cairo_rectangle(cr, x - 2, y - 2, 4, 4);
    }
    cairo_stroke(cr);
  }
  if (which == 1) {
    cairo_set_source_rgb(cr, 0.1, 0.3, 0.8);
    text(cr, x0 + 8, y0 + 16, "train", 0.0);
    cairo_set_source_rgb(cr, 0.85, 0.3, 0.1);
    text(cr, x0 + 8, y0 + 32, "validation", 0.0);
  }
}

gboolean tr_plot_curves(const char *png, const TrEpochRecord *r, size_t n,
                        GError **error) {
  const int W = 900, H = 400;
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
  cairo_t *cr = cairo_create(s);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  panel(cr, 60, 40, 360, 320, "training loss", r, n, 0);
  panel(cr, 510, 40, 360, 320, "accuracy", r, n, 1);
  return finish(s, cr, png, error);
}

gboolean tr_plot_confusion(const char *png, const int *cm, int n,
                           char *const *labels, GError **error) {
  int cell = n <= 10 ? 40 : (n <= 30 ? 20 : 14);
  int margin = 160;
  int W = margin + cell * n + 20, H = margin + cell * n + 20;
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
  cairo_t *cr = cairo_create(s);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  double font = MIN(12.0, cell * 0.6);
  cairo_set_font_size(cr, font);
  for (int t = 0; t < n; t++) {
    int row = 0;
    for (int p = 0; p < n; p++)
      row += cm[t * n + p];
    for (int p = 0; p < n; p++) {
      double f = row ? (double)cm[t * n + p] / row : 0;
      cairo_set_source_rgb(cr, 1 - 0.9 * f, 1 - 0.6 * f, 1 - 0.2 * f);
      cairo_rectangle(cr, margin + p * cell, margin + t * cell, cell, cell);
      cairo_fill(cr);
      if (cell >= 20 && cm[t * n + p]) {
        char buf[16];
        g_snprintf(buf, sizeof buf, "%d", cm[t * n + p]);
        cairo_set_source_rgb(cr, f > 0.5 ? 1 : 0, f > 0.5 ? 1 : 0,
                             f > 0.5 ? 1 : 0);
        text(cr, margin + p * cell + cell / 2.0,
             margin + t * cell + cell / 2.0 + font / 3, buf, 0.5);
      }
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    text(cr, margin - 4, margin + t * cell + cell / 2.0 + font / 3, labels[t],
         1.0);
    cairo_save(cr);
    cairo_move_to(cr, margin + t * cell + cell / 2.0 + font / 3, margin - 4);
    cairo_rotate(cr, -G_PI / 2);
    cairo_show_text(cr, labels[t]);
    cairo_restore(cr);
  }
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_rectangle(cr, margin, margin, cell * n, cell * n);
  cairo_stroke(cr);
  cairo_set_font_size(cr, 12);
  text(cr, 8, 16, "rows: true class, columns: predicted", 0.0);
  return finish(s, cr, png, error);
}

#else

void tr_plot_shutdown(void) {}

gboolean tr_plot_curves(const char *png, const TrEpochRecord *r, size_t n,
                        GError **error) {
  g_set_error(error, PLOT_ERROR, 2,
              "%s: not written: acrnn-train was built without cairo", png);
  return FALSE;
}

gboolean tr_plot_confusion(const char *png, const int *cm, int n,
                           char *const *labels, GError **error) {
  g_set_error(error, PLOT_ERROR, 2,
              "%s: not written: acrnn-train was built without cairo", png);
  return FALSE;
}

#endif
