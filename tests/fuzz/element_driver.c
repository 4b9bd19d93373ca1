/* element_driver.c - a fuzzer's input as a stream of events, buffers,
 * queries and state changes for one element (see element_driver.h). */
#include "element_driver.h"
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define WITH_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WITH_LSAN 1
#endif
#endif
#ifdef WITH_LSAN
#include <sanitizer/lsan_interface.h>
#endif

/* Buffers up to 16 KiB: a stream of them still crosses many frames and
 * segments of the small configurations the targets use, and the element,
 * not memset and the sanitizers, takes the time. */
#define MAX_BUFFER_FLOATS (1 << 12)

/* A g_critical is a bug the fuzzer should report: abort() (SIGABRT, which
 * libFuzzer catches and saves the input of; GLib's own fatal criticals
 * raise SIGTRAP, which it does not). */
static GLogWriterOutput abort_on_critical(GLogLevelFlags level,
                                          const GLogField *fields,
                                          gsize n_fields, gpointer data) {
  GLogWriterOutput r =
      g_log_writer_standard_streams(level, fields, n_fields, data);
  if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR))
    abort();
  return r;
}

void fuzz_element_init(void) {
  g_log_set_writer_func(abort_on_critical, NULL, NULL);
  if (!g_getenv("GST_PLUGIN_PATH"))
    g_setenv("GST_PLUGIN_PATH", ACRNN_BUILD_ROOT "/gst-plugins", TRUE);
  /* only this project's plugin: the targets need no other, and the system
   * plugins' libraries start threads and keep memory LeakSanitizer
   * reports (pango's fontconfig thread) */
  if (!g_getenv("GST_PLUGIN_SYSTEM_PATH_1_0"))
    g_setenv("GST_PLUGIN_SYSTEM_PATH_1_0", "", TRUE);
  /* an instrumented plugin cannot be loaded by the plain scanner */
  g_setenv("GST_REGISTRY_FORK", "no", TRUE);
#ifdef WITH_LSAN
  /* what the libraries that GStreamer loads keep for the life of the
   * process (fontconfig's caches, ...) is not a leak of ours */
  __lsan_disable();
#endif
  gst_init(NULL, NULL);
  /* loads the plugin now (dlopen runs its libraries' constructors) */
  GstElementFactory *factory = gst_element_factory_find("gammatonespec");
  if (!factory) {
    g_printerr("no gammatonespec: is GST_PLUGIN_PATH right?\n");
    abort();
  }
  GstPluginFeature *loaded =
      gst_plugin_feature_load(GST_PLUGIN_FEATURE(factory));
  if (loaded)
    gst_object_unref(loaded);
  gst_object_unref(factory);
#ifdef WITH_LSAN
  __lsan_enable();
#endif
}

/* The element's own writable properties (but "model": loading takes time)
 * as set_up left them: every input starts from these values. */
typedef struct {
  const char *name;
  GValue value;
} Setting;
static GArray *settings;

static gboolean is_fuzzed(GParamSpec *ps, GstElement *element) {
  return (ps->flags & G_PARAM_WRITABLE) && (ps->flags & G_PARAM_READABLE) &&
         !(ps->flags & G_PARAM_CONSTRUCT_ONLY) &&
         ps->owner_type == G_OBJECT_TYPE(element) &&
         g_strcmp0(ps->name, "model") != 0;
}

static void save_properties(GstElement *element) {
  settings = g_array_new(FALSE, TRUE, sizeof(Setting));
  guint n = 0;
  GParamSpec **specs =
      g_object_class_list_properties(G_OBJECT_GET_CLASS(element), &n);
  for (guint i = 0; i < n; i++) {
    if (!is_fuzzed(specs[i], element))
      continue;
    Setting st = {specs[i]->name, G_VALUE_INIT};
    g_value_init(&st.value, specs[i]->value_type);
    g_object_get_property(G_OBJECT(element), st.name, &st.value);
    g_array_append_val(settings, st);
  }
  g_free(specs);
}

static void reset_properties(GstElement *element) {
  for (guint i = 0; i < settings->len; i++) {
    Setting *st = &g_array_index(settings, Setting, i);
    g_object_set_property(G_OBJECT(element), st->name, &st->value);
  }
}

static void drain(GstHarness *h) {
  GstBuffer *b;
  GstEvent *e;
  while ((b = gst_harness_try_pull(h)))
    gst_buffer_unref(b);
  while ((e = gst_harness_try_pull_event(h)))
    gst_event_unref(e);
  while ((e = gst_harness_try_pull_upstream_event(h)))
    gst_event_unref(e);
}

GstHarness *fuzz_element_harness(const char *factory,
                                 void (*set_up)(GstElement *element)) {
  static GstHarness *h;
  if (!h) {
    GstElement *element = gst_element_factory_make(factory, NULL);
    if (!element) {
      g_printerr("no element %s: is GST_PLUGIN_PATH right?\n", factory);
      abort();
    }
    if (set_up)
      set_up(element);
    save_properties(element);
    h = gst_harness_new_with_element(element, "sink", "src");
    gst_object_unref(element);
  }
  gst_element_set_state(h->element, GST_STATE_READY);
  reset_properties(h->element);
  if (gst_element_set_state(h->element, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE)
    abort();
  gst_harness_push_event(h, gst_event_new_flush_start());
  gst_harness_push_event(h, gst_event_new_flush_stop(TRUE));
  drain(h);
  return h;
}

static GstClockTime pick_time(FuzzInput *in, GstClockTime next) {
  switch (fuzz_u8(in) % 6) {
  case 0:
    return GST_CLOCK_TIME_NONE;
  case 1:
    return fuzz_u64(in) & G_MAXINT64;
  case 2:
    return (GstClockTime)fuzz_u32(in) * GST_MSECOND / 16;
  default:
    return next;
  }
}

static void push_segment(GstHarness *h, FuzzInput *in) {
  static const GstFormat formats[] = {GST_FORMAT_TIME, GST_FORMAT_TIME,
                                      GST_FORMAT_BYTES, GST_FORMAT_DEFAULT,
                                      GST_FORMAT_BUFFERS};
  static const double rates[] = {1.0, 1.0, 2.0, 0.5, -1.0, -2.0, 1e-3, 1e6};
  GstSegment seg;
  gst_segment_init(&seg, formats[fuzz_u8(in) % G_N_ELEMENTS(formats)]);
  seg.rate = rates[fuzz_u8(in) % G_N_ELEMENTS(rates)];
  seg.applied_rate = (fuzz_u8(in) & 3) ? 1.0 : 2.0;
  if (fuzz_u8(in) & 1) {
    seg.start = (guint64)fuzz_u32(in) * GST_MSECOND / 16;
    seg.stop = (fuzz_u8(in) & 1) ? GST_CLOCK_TIME_NONE
                                 : seg.start + fuzz_u32(in) * GST_MSECOND / 16;
    seg.time = (fuzz_u8(in) & 1) ? seg.start : fuzz_u32(in);
    seg.base = fuzz_u32(in);
    seg.position = seg.start;
  }
  gst_harness_push_event(h, gst_event_new_segment(&seg));
}

static void push_buffer(GstHarness *h, FuzzInput *in, guint frame_floats,
                        GstClockTime *next) {
  gsize n;
  switch (fuzz_u8(in) % 4) {
  case 0: /* any number of bytes */
    n = (gsize)fuzz_range(in, 0, 4 * MAX_BUFFER_FLOATS);
    break;
  default: /* whole frames */
    n = (gsize)fuzz_range(in, 0, MAX_BUFFER_FLOATS / frame_floats) *
        frame_floats * sizeof(float);
  }
  GstBuffer *buf = gst_buffer_new_allocate(NULL, n, NULL);
  GstMapInfo map;
  gst_buffer_map(buf, &map, GST_MAP_WRITE);
  float *x = (float *)map.data;
  gsize nf = n / sizeof(float);
  uint8_t kind = fuzz_u8(in) % 4;
  for (gsize i = 0; i < nf; i++) {
    if (kind == 0 && i < 256)
      x[i] = fuzz_float_bits(in); /* NaN, Inf, denormals, huge */
    else if (kind == 1)
      x[i] = 0.0f;
    else if (kind == 2)
      x[i] = -23.0f + (float)(i % 37); /* feature-like values */
    else
      x[i] = 0.25f * (float)((i * 7919) % 200) / 100.0f - 0.25f;
  }
  for (gsize i = nf * sizeof(float); i < n; i++)
    map.data[i] = 0xa5;
  gst_buffer_unmap(buf, &map);
  GST_BUFFER_PTS(buf) = pick_time(in, *next);
  GST_BUFFER_DTS(buf) =
      (fuzz_u8(in) & 7) ? GST_CLOCK_TIME_NONE : GST_BUFFER_PTS(buf);
  GST_BUFFER_DURATION(buf) =
      (fuzz_u8(in) & 1) ? GST_CLOCK_TIME_NONE : fuzz_u32(in) * GST_USECOND;
  uint8_t flags = fuzz_u8(in);
  if (flags & 1)
    GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
  if (flags & 2)
    GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_GAP);
  if (flags & 4)
    GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_RESYNC);
  if (GST_CLOCK_TIME_IS_VALID(GST_BUFFER_PTS(buf)))
    *next = GST_BUFFER_PTS(buf) + GST_MSECOND * 10;
  gst_harness_push(h, buf);
}

static void set_property(GstElement *element, FuzzInput *in) {
  guint n = 0;
  GParamSpec **specs =
      g_object_class_list_properties(G_OBJECT_GET_CLASS(element), &n);
  GParamSpec *ps = n ? specs[fuzz_u8(in) % n] : NULL;
  if (!ps || !(ps->flags & G_PARAM_WRITABLE) ||
      (ps->flags & G_PARAM_CONSTRUCT_ONLY) ||
      ps->owner_type != G_OBJECT_TYPE(element) ||
      g_strcmp0(ps->name, "model") == 0) {
    g_free(specs);
    return;
  }
  GValue v = G_VALUE_INIT;
  g_value_init(&v, ps->value_type);
  uint32_t r = fuzz_u32(in);
  if (G_IS_PARAM_SPEC_INT(ps))
    g_value_set_int(&v, (int)r % 40);
  else if (G_IS_PARAM_SPEC_UINT(ps))
    g_value_set_uint(&v, r % 40);
  else if (G_IS_PARAM_SPEC_DOUBLE(ps))
    g_value_set_double(&v, (double)(int32_t)r / 1000.0);
  else if (G_IS_PARAM_SPEC_BOOLEAN(ps))
    g_value_set_boolean(&v, r & 1);
  else if (G_IS_PARAM_SPEC_ENUM(ps))
    g_value_set_enum(&v, (int)(r % 3));
  g_param_value_validate(ps, &v); /* clamp into the property's range */
  g_object_set_property(G_OBJECT(element), ps->name, &v);
  g_value_unset(&v);
  g_free(specs);
}

static void query(GstHarness *h, FuzzInput *in, FuzzCapsFunc make_caps) {
  GstQuery *q;
  switch (fuzz_u8(in) % 4) {
  case 0:
    q = gst_query_new_latency();
    break;
  case 1:
    q = gst_query_new_caps(NULL);
    break;
  case 2: {
    GstCaps *caps = make_caps(in);
    q = gst_query_new_accept_caps(caps);
    gst_caps_unref(caps);
    break;
  }
  default:
    q = gst_query_new_position(GST_FORMAT_TIME);
  }
  if (fuzz_u8(in) & 1)
    gst_pad_peer_query(h->srcpad, q); /* at the element's sink pad */
  else
    gst_pad_peer_query(h->sinkpad, q); /* at its source pad */
  gst_query_unref(q);
}

void fuzz_element_drive(GstHarness *h, FuzzInput *in, FuzzCapsFunc make_caps,
                        guint frame_floats) {
  GstClockTime next = 0;
  int steps = 0;
  while (in->n > 0 && steps++ < 200) {
    switch (fuzz_u8(in) % 16) {
    case 0: {
      char id[8];
      g_snprintf(id, sizeof id, "s%u", fuzz_u8(in) % 3);
      GstEvent *e = gst_event_new_stream_start(id);
      gst_event_set_group_id(e, 1 + fuzz_u8(in) % 3); /* 0 is invalid */
      gst_harness_push_event(h, e);
      break;
    }
    case 1: { /* the event takes a reference of its own */
      GstCaps *caps = make_caps(in);
      gst_harness_push_event(h, gst_event_new_caps(caps));
      gst_caps_unref(caps);
      break;
    }
    case 2:
      push_segment(h, in);
      break;
    case 3:
    case 4:
    case 5:
    case 6:
      push_buffer(h, in, frame_floats, &next);
      break;
    case 7: {
      GstClockTime ts = fuzz_u32(in) * GST_MSECOND / 16;
      GstClockTime dur =
          (fuzz_u8(in) & 1) ? GST_CLOCK_TIME_NONE : fuzz_u32(in) * GST_USECOND;
      gst_harness_push_event(h, gst_event_new_gap(ts, dur));
      break;
    }
    case 8:
      gst_harness_push_event(h, gst_event_new_flush_start());
      if (fuzz_u8(in) & 3)
        gst_harness_push_event(h, gst_event_new_flush_stop(fuzz_u8(in) & 1));
      break;
    case 9:
      gst_harness_push_event(h, gst_event_new_flush_stop(fuzz_u8(in) & 1));
      break;
    case 10:
      gst_harness_push_event(h, gst_event_new_eos());
      break;
    case 11:
      query(h, in, make_caps);
      break;
    case 12:
      set_property(h->element, in);
      break;
    case 13:
      gst_element_set_state(h->element, (fuzz_u8(in) & 1) ? GST_STATE_READY
                                                          : GST_STATE_PAUSED);
      gst_element_set_state(h->element, GST_STATE_PLAYING);
      break;
    case 14:
      gst_harness_push_upstream_event(
          h, (fuzz_u8(in) & 1)
                 ? gst_event_new_reconfigure()
                 : gst_event_new_seek(1.0, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH,
                                      GST_SEEK_TYPE_SET, 0, GST_SEEK_TYPE_NONE,
                                      0));
      break;
    default:
      gst_harness_push_event(
          h, gst_event_new_tag(gst_tag_list_new(GST_TAG_TITLE, "fuzz", NULL)));
    }
    drain(h);
  }
}
