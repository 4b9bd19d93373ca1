/* classify.c - a small application using the acrnn GStreamer plugin: builds
 * uridecodebin ! soundclassifier ! fakesink for a file, prints every "acrnn"
 * message (one per segment, then the final decision) and exits at the end.
 * A file without an audio track is an error saying so.
 *
 *   classify FILE [MODEL]
 *
 * Build: it is built with the project (pipelines/examples/classify), or
 *   cc classify.c $(pkg-config --cflags --libs gstreamer-1.0) -o classify
 * Run from a build tree with GST_PLUGIN_PATH=<build>/gst-plugins.
 */
#include <gst/gst.h>
#include <stdio.h>

/* Prints one acrnn message: segment lines and the final line. */
static void print_result(const GstStructure *s) {
  gboolean final = FALSE;
  double confidence = 0;
  guint64 time = 0, count = 0;
  gst_structure_get_boolean(s, "final", &final);
  gst_structure_get_double(s, "confidence", &confidence);
  gst_structure_get_uint64(s, "stream-time", &time);
  const char *label = gst_structure_get_string(s, "label");
  if (final) {
    gst_structure_get_uint64(s, "segments", &count);
    printf("final    %" G_GUINT64_FORMAT " segments: %s (%.3f)", count, label,
           confidence);
  } else {
    printf("segment  %" GST_TIME_FORMAT ": %s (%.3f)", GST_TIME_ARGS(time),
           label, confidence);
  }
  /* the top-k labels and their probabilities */
  const GValue *labels = gst_structure_get_value(s, "labels");
  const GValue *scores = gst_structure_get_value(s, "scores");
  printf("  top:");
  for (guint i = 0; labels && scores && i < gst_value_array_get_size(labels);
       i++)
    printf(" %s %.3f", g_value_get_string(gst_value_array_get_value(labels, i)),
           g_value_get_double(gst_value_array_get_value(scores, i)));
  printf("\n");
}

/* What uridecodebin found in the file: the caps of its first audio stream
 * (decoded or not), to tell "no audio track" from "no decoder for it". */
static GstCaps *audio_stream_caps = NULL;

/* Called for every stream decodebin meets, before it decodes it. */
static gboolean on_autoplug_continue(GstElement *src, GstPad *pad,
                                     GstCaps *caps, gpointer data) {
  (void)src, (void)pad, (void)data;
  const GstStructure *s = caps != NULL && gst_caps_get_size(caps) > 0
                              ? gst_caps_get_structure(caps, 0)
                              : NULL;
  if (audio_stream_caps == NULL && s != NULL &&
      g_str_has_prefix(gst_structure_get_name(s), "audio/"))
    audio_stream_caps = gst_caps_ref(caps);
  return TRUE; /* go on decoding */
}

/* Links the first decoded audio pad to the classifier. */
static void on_pad_added(GstElement *src, GstPad *pad, gpointer classifier) {
  GstPad *sinkpad = gst_element_get_static_pad(classifier, "sink");
  if (!gst_pad_is_linked(sinkpad) &&
      gst_pad_link(pad, sinkpad) != GST_PAD_LINK_OK)
    fprintf(stderr, "could not link %s to the classifier\n", GST_PAD_NAME(pad));
  gst_object_unref(sinkpad);
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s FILE [MODEL]\n", argv[0]);
    return 2;
  }
  GError *error = NULL;
  char *uri = gst_filename_to_uri(argv[1], &error);
  if (uri == NULL) {
    fprintf(stderr, "%s: %s\n", argv[1], error->message);
    return 1;
  }

  GstElement *pipeline = gst_pipeline_new("classify");
  GstElement *src = gst_element_factory_make("uridecodebin", NULL);
  GstElement *classifier = gst_element_factory_make("soundclassifier", NULL);
  GstElement *sink = gst_element_factory_make("fakesink", NULL);
  if (src == NULL || classifier == NULL || sink == NULL) {
    fprintf(stderr, "missing element (is GST_PLUGIN_PATH set to the acrnn "
                    "plugin's folder?)\n");
    return 1;
  }
  GstCaps *audio = gst_caps_from_string("audio/x-raw");
  g_object_set(src, "uri", uri, "caps", audio, "expose-all-streams", FALSE,
               NULL);
  gst_caps_unref(audio);
  if (argc == 3)
    g_object_set(classifier, "model", argv[2], NULL);
  g_object_set(classifier, "batch", 8, NULL);
  g_object_set(sink, "sync", FALSE, NULL);
  gst_bin_add_many(GST_BIN(pipeline), src, classifier, sink, NULL);
  gst_element_link(classifier, sink);
  /* uridecodebin's pads appear once the file is typed: link the audio one */
  g_signal_connect(src, "pad-added", G_CALLBACK(on_pad_added), classifier);
  g_signal_connect(src, "autoplug-continue", G_CALLBACK(on_autoplug_continue),
                   NULL);

  int status = 1;
  GstBus *bus = gst_element_get_bus(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  for (gboolean done = FALSE; !done;) {
    GstMessage *msg = gst_bus_timed_pop_filtered(
        bus, GST_CLOCK_TIME_NONE,
        GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ELEMENT:
      if (gst_message_has_name(msg, "acrnn"))
        print_result(gst_message_get_structure(msg));
      break;
    case GST_MESSAGE_ERROR: {
      char *debug = NULL;
      gst_message_parse_error(msg, &error, &debug);
      if (g_error_matches(error, GST_CORE_ERROR,
                          GST_CORE_ERROR_MISSING_PLUGIN) &&
          audio_stream_caps == NULL) {
        /* uridecodebin found streams, none of them audio: say so rather
         * than blame the decoder of a video stream nobody asked for */
        fprintf(stderr, "error: %s has no audio track\n", argv[1]);
      } else if (g_error_matches(error, GST_CORE_ERROR,
                                 GST_CORE_ERROR_MISSING_PLUGIN)) {
        char *caps = gst_caps_to_string(audio_stream_caps);
        fprintf(stderr,
                "error: %s: no decoder for its audio track (%.60s): install "
                "the GStreamer plugin that decodes it\n",
                argv[1], caps);
        g_free(caps);
      } else {
        fprintf(stderr, "error: %s\n(%s)\n", error->message,
                debug ? debug : "");
      }
      g_clear_error(&error);
      g_free(debug);
      done = TRUE;
      break;
    }
    case GST_MESSAGE_EOS:
      status = 0;
      done = TRUE;
      break;
    default:
      break;
    }
    gst_message_unref(msg);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  g_free(uri);
  if (audio_stream_caps != NULL)
    gst_caps_unref(audio_stream_caps);
  return status;
}
