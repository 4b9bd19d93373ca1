/* soak.c - long runs and churn of soundclassifier in one process:
 *   soak memory HOURS       HOURS of audio (pink noise, non-live, at full
 *                           speed) through soundclassifier; resident memory
 *                           sampled every minute of audio (a progress line
 *                           every 30 minutes of audio); fails when it grows
 *                           by more than 1 MB after the first minute
 *   soak churn CYCLES       CYCLES times NULL -> PLAYING -> EOS -> NULL of
 *                           one pipeline, the model property changed every
 *                           10th cycle; fails when resident memory at the
 *                           end exceeds that after cycle 20 by over 1 MB
 * (Under AddressSanitizer the memory figures are printed, not judged.)
 *   soak concurrent N       N pipelines (different tones), each on its own
 *                           thread at once, then one at a time: the acrnn
 *                           messages must be the same
 * Each prints its figures on one line starting with "soak". The model is
 * $ACRNN_MODEL or the bundled one; churn alternates it with a model of 64
 * bands made for the test. */
#include "../gst/gst-test-util.h"
#include <acrnn/model.h>
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Under AddressSanitizer resident memory holds its quarantine: the figures
 * are printed, LeakSanitizer judges. */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_JUDGED 0
#else
#define RSS_JUDGED 1
#endif

#define RATE 44100
#define BUFFER_SAMPLES 4410 /* 0.1 s */

static double rss_mb(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f || fscanf(f, "%ld %ld", &pages, &resident) != 2)
    g_error("cannot read /proc/self/statm");
  fclose(f);
  return (double)resident * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

static GstElement *make_pipeline(const char *model, int wave, double freq,
                                 guint64 buffers, GstElement **src) {
  char *desc = g_strdup_printf(
      "audiotestsrc name=src wave=%d freq=%g num-buffers=%" G_GUINT64_FORMAT
      " samplesperbuffer=%d ! audio/x-raw,format=F32LE,rate=%d,channels=1 ! "
      "soundclassifier name=c model=\"%s\" ! fakesink",
      wave, freq, buffers, BUFFER_SAMPLES, RATE, model);
  GError *error = NULL;
  GstElement *p = gst_parse_launch(desc, &error);
  if (!p)
    g_error("%s: %s", desc, error->message);
  g_free(desc);
  if (src)
    *src = gst_bin_get_by_name(GST_BIN(p), "src");
  return p;
}

/* Plays p to EOS; appends the acrnn messages (as strings) to results when
 * given; fails on ERROR. */
static void play(GstElement *p, GPtrArray *results) {
  GstBus *bus = gst_element_get_bus(p);
  if (gst_element_set_state(p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    g_error("the pipeline does not start");
  for (;;) {
    GstMessage *m = gst_bus_timed_pop(bus, GST_CLOCK_TIME_NONE);
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
      GError *e = NULL;
      char *debug = NULL;
      gst_message_parse_error(m, &e, &debug);
      g_error("pipeline error from %s: %s (%s)", GST_MESSAGE_SRC_NAME(m),
              e->message, debug);
    }
    gboolean eos = GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS;
    const GstStructure *s = gst_message_get_structure(m);
    if (results && GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT && s &&
        gst_structure_has_name(s, "acrnn"))
      g_ptr_array_add(results, gst_structure_to_string(s));
    gst_message_unref(m);
    if (eos)
      break;
  }
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(bus);
}

typedef struct {
  guint64 buffers_per_minute, buffers;
  GArray *rss; /* one double per minute of audio */
} MemoryProbe;

static GstPadProbeReturn on_buffer(GstPad *pad, GstPadProbeInfo *info,
                                   gpointer data) {
  MemoryProbe *m = data;
  if (++m->buffers % m->buffers_per_minute == 0) {
    double r = rss_mb();
    g_array_append_val(m->rss, r);
    /* a progress line every half hour of audio: a run stopped early still
     * tells how far it went */
    if (m->rss->len % 30 == 0) {
      printf("soak memory: %.1f h of audio, resident memory %.1f MB (%.1f MB "
             "after the first minute)\n",
             m->rss->len / 60.0, r, g_array_index(m->rss, double, 0));
      fflush(stdout);
    }
  }
  return GST_PAD_PROBE_OK;
}

static int soak_memory(const char *model, double hours) {
  MemoryProbe m = {60 * RATE / BUFFER_SAMPLES, 0,
                   g_array_new(FALSE, FALSE, sizeof(double))};
  guint64 buffers = (guint64)(hours * 3600.0 * RATE / BUFFER_SAMPLES);
  GstElement *src;
  GstElement *p = make_pipeline(model, 6 /* pink noise */, 440, buffers, &src);
  GstPad *pad = gst_element_get_static_pad(src, "src");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, &m, NULL);
  gint64 t0 = g_get_monotonic_time();
  play(p, NULL);
  double wall = (double)(g_get_monotonic_time() - t0) / 1e6;
  gst_object_unref(pad);
  gst_object_unref(src);
  gst_object_unref(p);
  if (m.rss->len < 2)
    g_error("run at least two minutes of audio");
  double first = g_array_index(m.rss, double, 0), max = first;
  for (guint i = 0; i < m.rss->len; i++)
    max = MAX(max, g_array_index(m.rss, double, i));
  double last = g_array_index(m.rss, double, m.rss->len - 1);
  printf("soak memory: %.2f h of audio in %.0f s (%.0fx real time), %u "
         "samples; resident memory after the first minute %.1f MB, at the "
         "end %.1f MB, highest %.1f MB: growth %.2f MB\n",
         hours, wall, hours * 3600.0 / wall, m.rss->len, first, last, max,
         max - first);
  g_array_unref(m.rss);
  return RSS_JUDGED && max - first > 1.0;
}

static int soak_churn(const char *model, const char *other, int cycles) {
  GstElement *p = make_pipeline(model, 6, 440, 20, NULL);
  GstElement *c = gst_bin_get_by_name(GST_BIN(p), "c");
  double at20 = 0, highest = 0;
  gint64 t0 = g_get_monotonic_time();
  for (int i = 0; i < cycles; i++) {
    if (i % 10 == 9)
      g_object_set(c, "model", (i / 10) % 2 ? model : other, NULL);
    GPtrArray *results = g_ptr_array_new_with_free_func(g_free);
    play(p, results);
    if (results->len == 0)
      g_error("cycle %d: no acrnn message", i);
    g_ptr_array_unref(results);
    if (i == 19)
      at20 = rss_mb();
    if (i >= 19)
      highest = MAX(highest, rss_mb());
  }
  double wall = (double)(g_get_monotonic_time() - t0) / 1e6;
  double end = rss_mb();
  printf("soak churn: %d cycles NULL -> PLAYING -> NULL (model changed every "
         "10th) in %.0f s; resident memory after cycle 20 %.1f MB, at the "
         "end %.1f MB (growth %.2f MB), highest %.1f MB\n",
         cycles, wall, at20, end, end - at20, highest);
  gst_object_unref(c);
  gst_object_unref(p);
  /* what stays: the end against cycle 20 (the heap's peaks come and go) */
  return RSS_JUDGED && cycles > 20 && end - at20 > 1.0;
}

typedef struct {
  const char *model;
  int index;
  GPtrArray *results;
} Job;

static gpointer run_job(gpointer data) {
  Job *j = data;
  /* the deterministic waves of audiotestsrc (sine, square, saw, triangle,
   * sine table; its noises are seeded at random), at different pitches */
  static const int waves[] = {0, 1, 2, 3, 7};
  GstElement *p = make_pipeline(j->model, waves[j->index % 5],
                                110.0 * (1 + j->index), 150, NULL);
  play(p, j->results);
  gst_object_unref(p);
  return NULL;
}

static int soak_concurrent(const char *model, int n) {
  Job *together = g_new0(Job, n), *alone = g_new0(Job, n);
  GThread **threads = g_new0(GThread *, n);
  gint64 t0 = g_get_monotonic_time();
  for (int i = 0; i < n; i++) {
    together[i] = (Job){model, i, g_ptr_array_new_with_free_func(g_free)};
    threads[i] = g_thread_new("pipeline", run_job, &together[i]);
  }
  for (int i = 0; i < n; i++)
    g_thread_join(threads[i]);
  double t_together = (double)(g_get_monotonic_time() - t0) / 1e6;
  t0 = g_get_monotonic_time();
  for (int i = 0; i < n; i++) {
    alone[i] = (Job){model, i, g_ptr_array_new_with_free_func(g_free)};
    run_job(&alone[i]);
  }
  double t_alone = (double)(g_get_monotonic_time() - t0) / 1e6;
  int differ = 0, messages = 0;
  for (int i = 0; i < n; i++) {
    GPtrArray *a = together[i].results, *b = alone[i].results;
    gboolean same = a->len == b->len && a->len > 0;
    for (guint k = 0; same && k < a->len; k++)
      same = strcmp(g_ptr_array_index(a, k), g_ptr_array_index(b, k)) == 0;
    if (!same) {
      for (guint k = 0; k < MIN(a->len, b->len); k++)
        if (strcmp(g_ptr_array_index(a, k), g_ptr_array_index(b, k))) {
          g_printerr(
              "first difference, message %u:\n  at once: %s\n  alone:   %s\n",
              k, (char *)g_ptr_array_index(a, k),
              (char *)g_ptr_array_index(b, k));
          break;
        }
      differ++;
      g_printerr("pipeline %d: %u messages at once, %u alone, not the same\n",
                 i, a->len, b->len);
    }
    messages += (int)b->len;
    g_ptr_array_unref(a);
    g_ptr_array_unref(b);
  }
  printf("soak concurrent: %d pipelines, %d acrnn messages; on %d threads "
         "at once in %.1f s, one at a time in %.1f s; %d pipelines gave "
         "different messages\n",
         n, messages, n, t_together, t_alone, differ);
  g_free(threads);
  g_free(together);
  g_free(alone);
  return differ != 0;
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  if (argc != 3) {
    fprintf(stderr, "usage: %s memory HOURS | churn CYCLES | concurrent N\n",
            argv[0]);
    return 2;
  }
  char *model = acrnn_model_default_path();
  int rc;
  if (strcmp(argv[1], "memory") == 0) {
    rc = soak_memory(model, g_ascii_strtod(argv[2], NULL));
  } else if (strcmp(argv[1], "churn") == 0) {
    char *dir = test_tmpdir();
    char *other = test_make_model(dir, "other.safetensors", 64, 3);
    rc = soak_churn(model, other, atoi(argv[2]));
    g_free(other);
    test_rmdir(dir);
    g_free(dir);
  } else if (strcmp(argv[1], "concurrent") == 0) {
    rc = soak_concurrent(model, atoi(argv[2]));
  } else {
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    rc = 2;
  }
  g_free(model);
  return rc;
}
