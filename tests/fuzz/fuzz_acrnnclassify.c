/* fuzz_acrnnclassify.c - libFuzzer target: acrnnclassify in a GstHarness
 * with a small model made at start (the bundled model's architecture at 32
 * bands and 32-frame segments of 8 kHz features, 3 classes: 16 times less
 * work a segment than the bundled model, so that 10^6 inputs fit in hours),
 * fed random feature caps (the model's settings or others: band counts,
 * rates, filterbanks, missing fields), buffers of whole and partial frames
 * of any float values, timestamps, flags and events in any order
 * (element_driver.c). $ACRNN_FUZZ_MODEL names another model to use (its
 * feature settings must then be these). */
#include "element_driver.h"
#include <acrnn/acrnn.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <unistd.h>

#define BANDS 32
#define RATE 8000
#define N_FFT 256
#define HOP 128

static char *model_path;

static GstCaps *make_caps(FuzzInput *in) {
  uint8_t pick = fuzz_u8(in);
  int bands = (pick & 1) ? fuzz_range(in, 1, 1024) : BANDS;
  int rate = (pick & 2) ? fuzz_range(in, 1000, 384000) : RATE;
  int n_fft = (pick & 4) ? fuzz_range(in, 16, 65536) : N_FFT;
  int hop = (pick & 8) ? fuzz_range(in, 1, 65536) : HOP;
  int delta = (pick & 16) ? fuzz_range(in, 3, 1025) : 9;
  double fmin = (pick & 32) ? fuzz_range(in, 0, 192000) : 50.0;
  GstCaps *caps = gst_caps_new_simple(
      "audio/x-acrnn-features", "format", G_TYPE_STRING, "F32LE", "bands",
      G_TYPE_INT, bands, "frame-rate", GST_TYPE_FRACTION, rate, hop,
      "sample-rate", G_TYPE_INT, rate, "n-fft", G_TYPE_INT, n_fft, "hop",
      G_TYPE_INT, hop, "fmin", G_TYPE_DOUBLE, fmin, "fmax", G_TYPE_DOUBLE,
      rate / 2.0, "delta-width", G_TYPE_INT, delta, NULL);
  if (pick & 64)
    gst_caps_set_simple(caps, "filterbank", G_TYPE_STRING,
                        (fuzz_u8(in) & 1) ? "mel" : "gammatone", NULL);
  if ((pick & 0x80) && (fuzz_u8(in) & 1))
    gst_structure_remove_field(gst_caps_get_structure(caps, 0), "hop");
  return caps;
}

static void remove_model(void) {
  g_unlink(model_path);
}

/* The small model, random weights, written to a temporary file. */
static char *make_model(void) {
  AcrnnModelInfo info;
  acrnn_model_info_init(&info);
  info.features.sample_rate = RATE;
  info.features.n_fft = N_FFT;
  info.features.hop = HOP;
  info.features.bands = BANDS;
  info.features.fmax = RATE / 2.0;
  info.segment_frames = 32;
  info.segment_hop = 16;
  info.n_labels = 3;
  info.labels = g_strsplit("dog,rain,siren", ",", -1);
  AcrnnNetConfig cfg;
  acrnn_model_info_net_config(&info, &cfg);
  GError *error = NULL;
  AcrnnNet *net = acrnn_net_new(&cfg, &error);
  char *path = NULL;
  int fd = g_file_open_tmp("acrnn-fuzz-XXXXXX.safetensors", &path, &error);
  if (fd >= 0)
    close(fd);
  if (!net || fd < 0) {
    g_printerr("cannot make the fuzz model: %s\n", error->message);
    abort();
  }
  acrnn_net_init_random(net, 7);
  if (!acrnn_model_save(path, net, &info, &error)) {
    g_printerr("%s\n", error->message);
    abort();
  }
  acrnn_net_free(net);
  acrnn_model_info_clear(&info);
  return path;
}

static void set_up(GstElement *element) {
  g_object_set(element, "model", model_path, NULL);
  /* OpenBLAS (not instrumented) rather than the bf16 kernels (ASan's
   * checks on every load): the arithmetic is not what is fuzzed; the
   * fuzzer still sets "precision" to any value */
  gst_util_set_object_arg(G_OBJECT(element), "precision", "fp32");
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  fuzz_element_init();
  if (g_getenv("ACRNN_FUZZ_MODEL")) {
    model_path = g_strdup(g_getenv("ACRNN_FUZZ_MODEL"));
  } else {
    model_path = make_model();
    atexit(remove_model);
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzInput in = {data, size};
  GstHarness *h = fuzz_element_harness("acrnnclassify", set_up);
  fuzz_element_drive(h, &in, make_caps, 2 * BANDS);
  return 0;
}
