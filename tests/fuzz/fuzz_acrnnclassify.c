/* fuzz_acrnnclassify.c - libFuzzer target: acrnnclassify in a GstHarness
 * with the bundled model, fed random feature caps (the model's settings or
 * others: band counts, rates, filterbanks, missing fields), buffers of
 * whole and partial frames of any float values, timestamps, flags and
 * events in any order (element_driver.c). */
#include "element_driver.h"
#include <acrnn/model.h>

static GstCaps *make_caps(FuzzInput *in) {
  uint8_t pick = fuzz_u8(in);
  int bands = (pick & 1) ? fuzz_range(in, 1, 1024) : 128;
  int rate = (pick & 2) ? fuzz_range(in, 1000, 384000) : 44100;
  int n_fft = (pick & 4) ? fuzz_range(in, 16, 65536) : 1024;
  int hop = (pick & 8) ? fuzz_range(in, 1, 65536) : 512;
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

static void set_up(GstElement *element) {
  /* the bundled model (or $ACRNN_MODEL) */
  char *model = acrnn_model_default_path();
  g_object_set(element, "model", model, NULL);
  g_free(model);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  fuzz_element_init();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzInput in = {data, size};
  GstHarness *h = fuzz_element_harness("acrnnclassify", set_up);
  fuzz_element_drive(h, &in, make_caps, 256);
  return 0;
}
