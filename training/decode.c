/* decode.c - decodes a whole audio file into memory with GStreamer:
 * uridecodebin ! audioconvert ! audioresample ! mono F32 ! appsink. */
#include "decode.h"
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <string.h>

#define DECODE_ERROR (g_quark_from_static_string("acrnn-train-decode-error"))

float *tr_decode_file(const char *path, int sample_rate, size_t *n,
                      GError **error) {
  if (!gst_is_initialized())
    gst_init(NULL, NULL);
  if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
    g_set_error(error, DECODE_ERROR, 1, "%s: cannot decode: %s", path,
                g_file_test(path, G_FILE_TEST_EXISTS) ? "not a regular file"
                                                      : "no such file");
    return NULL;
  }
  GError *err = NULL;
  char *uri = gst_filename_to_uri(path, &err);
  if (!uri) {
    g_set_error(error, DECODE_ERROR, 1, "%s: cannot decode: %s", path,
                err->message);
    g_error_free(err);
    return NULL;
  }
  char *desc = g_strdup_printf(
      "uridecodebin name=dec ! audioconvert ! audioresample ! "
      "capsfilter caps=audio/x-raw,format=F32LE,channels=1,rate=%d,"
      "layout=interleaved ! appsink name=sink sync=false",
      sample_rate);
  GstElement *pipe = gst_parse_launch(desc, &err);
  g_free(desc);
  if (!pipe) {
    g_set_error(error, DECODE_ERROR, 1,
                "%s: cannot build the GStreamer decoding pipeline: %s", path,
                err ? err->message : "unknown error");
    g_clear_error(&err);
    g_free(uri);
    return NULL;
  }
  GstElement *dec = gst_bin_get_by_name(GST_BIN(pipe), "dec");
  g_object_set(dec, "uri", uri, NULL);
  gst_object_unref(dec);
  g_free(uri);
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipe), "sink");
  GstBus *bus = gst_element_get_bus(pipe);

  GByteArray *data = g_byte_array_new();
  char *fail = NULL;
  if (gst_element_set_state(pipe, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE)
    fail = g_strdup("the pipeline did not start");
  while (!fail) {
    GstSample *s =
        gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 100 * GST_MSECOND);
    if (s) {
      GstBuffer *buf = gst_sample_get_buffer(s);
      GstMapInfo map;
      if (buf && gst_buffer_map(buf, &map, GST_MAP_READ)) {
        g_byte_array_append(data, map.data, (guint)map.size);
        gst_buffer_unmap(buf, &map);
      }
      gst_sample_unref(s);
      continue;
    }
    GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    if (msg) {
      GError *gerr = NULL;
      char *dbg = NULL;
      gst_message_parse_error(msg, &gerr, &dbg);
      fail = g_strdup_printf("%s%s%s", gerr->message, dbg ? " - " : "",
                             dbg ? dbg : "");
      g_error_free(gerr);
      g_free(dbg);
      gst_message_unref(msg);
      break;
    }
    if (gst_app_sink_is_eos(GST_APP_SINK(sink)))
      break;
  }
  gst_element_set_state(pipe, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(sink);
  gst_object_unref(pipe);
  if (!fail && data->len < sizeof(float))
    fail = g_strdup("no audio samples (an empty file or no audio track)");
  if (fail) {
    g_set_error(error, DECODE_ERROR, 2, "%s: cannot decode: %s", path, fail);
    g_free(fail);
    g_byte_array_unref(data);
    return NULL;
  }
  *n = data->len / sizeof(float);
  return (float *)g_byte_array_free(data, FALSE);
}
