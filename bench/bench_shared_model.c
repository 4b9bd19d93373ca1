/* bench_shared_model.c - resident memory of N classifying pipelines in one
 * process: N separate pipelines
 *   audiotestsrc ! audio/x-raw,rate=44100,channels=1 ! soundclassifier !
 * fakesink on the same model file, all playing at once. Prints the process's
 * VmRSS
 * (/proc/self/status) before the pipelines exist, when every pipeline is
 * READY (each element has loaded its model, no activations yet), when every
 * one has reached EOS (activations allocated, still held), and VmHWM (the
 * peak), in MiB.
 *
 *   bench_shared_model [--model FILE] [--seconds S] [--batch B] N
 *
 * Run one N per process (the README's table: 1, 4 and 16). The plugin is
 * the one GST_PLUGIN_PATH finds: point it at another build to compare. */
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A field of /proc/self/status in MiB ("VmRSS", "VmHWM"), -1 if absent. */
static double status_mib(const char *field) {
  char *text = NULL;
  if (!g_file_get_contents("/proc/self/status", &text, NULL, NULL))
    return -1.0;
  double mib = -1.0;
  size_t n = strlen(field);
  for (char *line = text; line && *line; line = strchr(line, '\n')) {
    if (*line == '\n')
      line++;
    if (strncmp(line, field, n) == 0 && line[n] == ':') {
      mib = g_ascii_strtod(line + n + 1, NULL) / 1024.0; /* kB */
      break;
    }
  }
  g_free(text);
  return mib;
}

/* Waits for EOS or an ERROR on p's bus; FALSE on an error. */
static gboolean wait_eos(GstElement *p) {
  GstBus *bus = gst_element_get_bus(p);
  GstMessage *m = gst_bus_timed_pop_filtered(
      bus, 600 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gboolean ok = m != NULL && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS;
  if (m != NULL && !ok) {
    GError *e = NULL;
    gst_message_parse_error(m, &e, NULL);
    g_printerr("bench_shared_model: %s\n", e->message);
    g_error_free(e);
  } else if (m == NULL) {
    g_printerr("bench_shared_model: no EOS within 600 s\n");
  }
  if (m)
    gst_message_unref(m);
  gst_object_unref(bus);
  return ok;
}

int main(int argc, char **argv) {
  char *model = NULL;
  double seconds = 5.0;
  int batch = 0;
  GOptionEntry entries[] = {
      {"model", 0, 0, G_OPTION_ARG_FILENAME, &model,
       "the model file (default: the bundled model)", "FILE"},
      {"seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds,
       "audio per pipeline (default 5)", "S"},
      {"batch", 0, 0, G_OPTION_ARG_INT, &batch,
       "soundclassifier batch (default: its own choice)", "B"},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  GOptionContext *ctx = g_option_context_new(
      "N - resident memory of N classifying pipelines in one process");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_option_context_add_group(ctx, gst_init_get_option_group());
  GError *error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 2 ||
      atoi(argv[1]) < 1) {
    g_printerr("%s\n", error ? error->message
                             : "usage: bench_shared_model [OPTION...] N");
    return 2;
  }
  g_option_context_free(ctx);
  const int n = atoi(argv[1]);
  const int buffers = (int)(seconds * 44100.0 / 1024.0 + 0.5);

  /* the plugin loaded and initialised before the first figure */
  GstElement *probe = gst_element_factory_make("soundclassifier", NULL);
  if (probe == NULL) {
    g_printerr("bench_shared_model: no soundclassifier element (set "
               "GST_PLUGIN_PATH to a build's gst-plugins)\n");
    return 1;
  }
  gst_object_unref(probe);
  const double rss_start = status_mib("VmRSS");

  GstElement **p = g_new0(GstElement *, n);
  char *model_prop =
      model ? g_strdup_printf("model=\"%s\"", model) : g_strdup("");
  char *batch_prop =
      batch > 0 ? g_strdup_printf("batch=%d", batch) : g_strdup("");
  for (int i = 0; i < n; i++) {
    char *desc = g_strdup_printf(
        "audiotestsrc num-buffers=%d samplesperbuffer=1024 wave=pink-noise ! "
        "audio/x-raw,rate=44100,channels=1 ! soundclassifier %s %s ! fakesink",
        buffers, model_prop, batch_prop);
    p[i] = gst_parse_launch(desc, &error);
    g_free(desc);
    if (p[i] == NULL || error != NULL) {
      g_printerr("bench_shared_model: %s\n", error->message);
      return 1;
    }
    if (gst_element_set_state(p[i], GST_STATE_READY) ==
        GST_STATE_CHANGE_FAILURE) {
      g_printerr("bench_shared_model: pipeline %d failed to load its model\n",
                 i);
      return 1;
    }
  }
  const double rss_ready = status_mib("VmRSS");
  for (int i = 0; i < n; i++)
    gst_element_set_state(p[i], GST_STATE_PLAYING);
  gboolean ok = TRUE;
  for (int i = 0; i < n; i++)
    ok = wait_eos(p[i]) && ok;
  const double rss_eos = status_mib("VmRSS"), hwm = status_mib("VmHWM");
  for (int i = 0; i < n; i++) {
    gst_element_set_state(p[i], GST_STATE_NULL);
    gst_object_unref(p[i]);
  }
  g_free(p);
  printf("pipelines %d  rss_start %.1f  rss_ready %.1f  rss_eos %.1f  "
         "hwm %.1f  (MiB)\n",
         n, rss_start, rss_ready, rss_eos, hwm);
  g_free(model_prop);
  g_free(batch_prop);
  g_free(model);
  return ok ? 0 : 1;
}
