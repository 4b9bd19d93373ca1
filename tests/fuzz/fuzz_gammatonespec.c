/* fuzz_gammatonespec.c - libFuzzer target: gammatonespec in a GstHarness
 * set to a small configuration (8 kHz, 256-sample window, hop 128, 32
 * bands: a frame is 16 times less work than at the defaults, so that 10^6
 * inputs fit in hours; the fuzzer changes the properties too), fed random
 * raw-audio caps (rates, formats and channel counts, most of them valid),
 * buffer sizes, timestamps, flags and events in any order
 * (element_driver.c). */
#include "element_driver.h"

static GstCaps *make_caps(FuzzInput *in) {
  static const char *formats[] = {"F32LE", "F32LE", "F32LE", "S16LE", "F64LE"};
  static const int rates[] = {8000, 8000,   16000, 22050, 48000,
                              1000, 384000, 44100, 96000, 999};
  uint8_t pick = fuzz_u8(in);
  int rate = (pick & 0x80) ? (int)(fuzz_u32(in) % 400000)
                           : rates[pick % G_N_ELEMENTS(rates)];
  return gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING,
                             formats[fuzz_u8(in) % G_N_ELEMENTS(formats)],
                             "layout", G_TYPE_STRING, "interleaved", "rate",
                             G_TYPE_INT, rate, "channels", G_TYPE_INT,
                             (fuzz_u8(in) & 7) ? 1 : 2, NULL);
}

static void set_up(GstElement *element) {
  g_object_set(element, "sample-rate", 8000, "n-fft", 256, "hop", 128, "bands",
               32, NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  fuzz_element_init();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzInput in = {data, size};
  GstHarness *h = fuzz_element_harness("gammatonespec", set_up);
  fuzz_element_drive(h, &in, make_caps, 1 + fuzz_u8(&in) % 2048);
  return 0;
}
