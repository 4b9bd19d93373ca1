/* test-pipelines.c - runs every script of pipelines/ (play-file, video-track,
 * video-label, microphone, batch, events) and the two example applications
 * (pipelines/classify built from examples/classify.c, examples/classify.py)
 * as a user would, on short generated clips (WAV, FLAC, Matroska with Theora
 * video and Vorbis audio) and a random test model, and checks every line
 * they print against the same classification done in this process: each
 * segment's label, confidence, time and top-3, the final decision, and the
 * exit status.
 *
 * Environment: ACRNN_BUILD_ROOT (the build tree, given to the scripts as
 * ACRNN_BUILD_DIR), ACRNN_SOURCE_ROOT, ACRNN_CLASSIFY_EXAMPLE (the built
 * example), ACRNN_SANITIZE (b_sanitize: the uninstrumented gst-launch-1.0
 * cannot load a sanitized plugin, so the tests skip). */
#include "gst-test-util.h"

#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* seconds a script or an example may run before it counts as hung */
#define SCRIPT_TIMEOUT "40"

static char *tmpdir, *model;

/* ---- generated clips ---- */

typedef struct {
  const char *name;
  const char *description; /* gst-launch, %s = the output path */
} ClipRecipe;

/* 3 s each: at 44100 Hz, 257 frames, 4 segments (3 whole, then the last 128
 * frames) */
static const ClipRecipe recipes[] = {
    {"tone.wav",
     "audiotestsrc num-buffers=30 samplesperbuffer=4410 wave=sine freq=440 ! "
     "audio/x-raw,format=S16LE,rate=44100,channels=1 ! wavenc ! "
     "filesink location=\"%s\""},
    {"noise.flac",
     "audiotestsrc num-buffers=36 samplesperbuffer=4000 wave=pink-noise ! "
     "audio/x-raw,format=S16LE,rate=48000,channels=2 ! flacenc ! "
     "filesink location=\"%s\""},
    {"clip.mkv",
     "videotestsrc num-buffers=30 ! "
     "video/x-raw,width=320,height=240,framerate=10/1 ! theoraenc ! queue ! "
     "mux. audiotestsrc num-buffers=72 samplesperbuffer=2000 wave=ticks ! "
     "audio/x-raw,rate=48000,channels=2 ! audioconvert ! vorbisenc ! queue ! "
     "mux. matroskamux name=mux ! filesink location=\"%s\""},
    /* a video without an audio track (Theora: plugins-base) */
    {"noaudio.mkv",
     "videotestsrc num-buffers=30 ! "
     "video/x-raw,width=160,height=120,framerate=10/1 ! theoraenc ! "
     "matroskamux ! filesink location=\"%s\""},
};

/* The path of a generated clip, made on first use. */
static char *clip(const char *name) {
  char *path = g_build_filename(tmpdir, name, NULL);
  if (g_file_test(path, G_FILE_TEST_EXISTS))
    return path;
  for (size_t i = 0; i < G_N_ELEMENTS(recipes); i++) {
    if (strcmp(recipes[i].name, name) != 0)
      continue;
    char *desc = g_strdup_printf(recipes[i].description, path);
    TestRun *run = test_run_to_eos(desc, 30);
    g_free(desc);
    test_run_free(run);
    return path;
  }
  g_assert_not_reached();
}

/* ---- what the pipelines must print ---- */

typedef struct {
  gboolean final;
  guint64 segments; /* final: over how many segments */
  double time;      /* segment: stream time in seconds */
  char *label;
  double confidence;
  char **top_labels; /* the top-k, best first */
  double *top_scores;
  guint n_top;
} Result;

static void result_free(Result *r) {
  g_free(r->label);
  g_strfreev(r->top_labels);
  g_free(r->top_scores);
  g_free(r);
}

static GPtrArray *results_new(void) {
  return g_ptr_array_new_with_free_func((GDestroyNotify)result_free);
}

/* The results of the acrnn messages of a pipeline run in this process. */
static GPtrArray *expected_results(const char *source) {
  char *desc = g_strdup_printf(
      "%s ! soundclassifier model=\"%s\" ! fakesink sync=false", source, model);
  TestRun *run = test_run_to_eos(desc, 30);
  g_free(desc);
  g_assert_nonnull(test_final_result(run));
  GPtrArray *out = results_new();
  for (guint i = 0; i < run->results->len; i++) {
    const GstStructure *s = g_ptr_array_index(run->results, i);
    test_check_result_fields(s, TEST_N_LABELS);
    Result *r = g_new0(Result, 1);
    gst_structure_get_boolean(s, "final", &r->final);
    if (r->final) {
      gst_structure_get_uint64(s, "segments", &r->segments);
    } else {
      guint64 t = 0;
      gst_structure_get_uint64(s, "stream-time", &t);
      r->time = (double)t / GST_SECOND;
    }
    r->label = g_strdup(gst_structure_get_string(s, "label"));
    gst_structure_get_double(s, "confidence", &r->confidence);
    const GValue *labels = gst_structure_get_value(s, "labels");
    const GValue *scores = gst_structure_get_value(s, "scores");
    r->n_top = gst_value_array_get_size(labels);
    r->top_labels = g_new0(char *, r->n_top + 1);
    r->top_scores = g_new0(double, r->n_top);
    for (guint k = 0; k < r->n_top; k++) {
      r->top_labels[k] =
          g_value_dup_string(gst_value_array_get_value(labels, k));
      r->top_scores[k] =
          g_value_get_double(gst_value_array_get_value(scores, k));
    }
    g_ptr_array_add(out, r);
  }
  test_run_free(run);
  /* 3 s clips: 4 segments and the final */
  g_assert_cmpuint(out->len, ==, 5);
  return out;
}

static GPtrArray *expected_for_file(const char *path) {
  char *source = g_strdup_printf(
      "filesrc location=\"%s\" ! decodebin ! audio/x-raw ! audioconvert", path);
  GPtrArray *out = expected_results(source);
  g_free(source);
  return out;
}

/* ---- running the scripts ---- */

typedef struct {
  int status; /* exit status; -1: killed */
  char *out, *err;
} Spawned;

static void spawned_free(Spawned *s) {
  g_free(s->out);
  g_free(s->err);
  g_free(s);
}

/* Runs argv (under `timeout`) with the test model, the build tree and the
 * extra NAME=VALUE pairs of env (NULL-terminated) in the environment. */
static Spawned *spawn(const char *const *argv, const char *const *env) {
  char **envp = g_get_environ();
  envp = g_environ_setenv(envp, "ACRNN_MODEL", model, TRUE);
  envp = g_environ_setenv(envp, "ACRNN_BUILD_DIR", g_getenv("ACRNN_BUILD_ROOT"),
                          TRUE);
  for (size_t i = 0; env != NULL && env[i] != NULL; i += 2)
    envp = g_environ_setenv(envp, env[i], env[i + 1], TRUE);
  GPtrArray *args = g_ptr_array_new();
  g_ptr_array_add(args, "timeout");
  g_ptr_array_add(args, "-k");
  g_ptr_array_add(args, "5");
  g_ptr_array_add(args, SCRIPT_TIMEOUT);
  for (size_t i = 0; argv[i] != NULL; i++)
    g_ptr_array_add(args, (char *)argv[i]);
  g_ptr_array_add(args, NULL);

  Spawned *s = g_new0(Spawned, 1);
  GError *error = NULL;
  int wait_status = 0;
  gboolean ok =
      g_spawn_sync(NULL, (char **)args->pdata, envp, G_SPAWN_SEARCH_PATH, NULL,
                   NULL, &s->out, &s->err, &wait_status, &error);
  g_assert_no_error(error);
  g_assert_true(ok);
  g_ptr_array_free(args, TRUE);
  g_strfreev(envp);
  s->status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
  g_test_message("%s: exit status %d\nstdout:\n%s\nstderr:\n%s", argv[0],
                 s->status, s->out, s->err);
  /* 124: timeout killed it */
  g_assert_cmpint(s->status, !=, 124);
  return s;
}

static char *script(const char *name) {
  return g_build_filename(g_getenv("ACRNN_SOURCE_ROOT"), "pipelines", name,
                          NULL);
}

/* ---- parsing what they print ---- */

typedef enum {
  STYLE_SCRIPT, /* acrnn-env.sh's acrnn_print_messages */
  STYLE_C,      /* examples/classify.c */
  STYLE_PYTHON, /* examples/classify.py */
} Style;

/* "dog 0.344, rain 0.335" (sep ", ") or "dog 0.344 rain 0.335" (sep " "). */
static void parse_top(Result *r, const char *text) {
  GRegex *re = g_regex_new("([^\\s,]+) ([0-9]+\\.[0-9]{3})", 0, 0, NULL);
  GMatchInfo *m = NULL;
  GPtrArray *labels = g_ptr_array_new();
  GArray *scores = g_array_new(FALSE, FALSE, sizeof(double));
  g_regex_match(re, text, 0, &m);
  while (g_match_info_matches(m)) {
    g_ptr_array_add(labels, g_match_info_fetch(m, 1));
    char *v = g_match_info_fetch(m, 2);
    double d = g_ascii_strtod(v, NULL);
    g_array_append_val(scores, d);
    g_free(v);
    g_match_info_next(m, NULL);
  }
  g_match_info_free(m);
  g_regex_unref(re);
  r->n_top = labels->len;
  g_ptr_array_add(labels, NULL);
  r->top_labels = (char **)g_ptr_array_free(labels, FALSE);
  r->top_scores = (double *)g_array_free(scores, FALSE);
}

/* Parses every line of out; a line that is neither a segment nor the final
 * result fails the test, except the lines in `allowed`. */
static GPtrArray *parse_output(const char *out, Style style,
                               const char *allowed) {
  static const char *const patterns[][2] = {
      [STYLE_SCRIPT] =
          {"^segment  ([0-9]+):([0-9]{2}):([0-9]{2}\\.[0-9]{3})  (\\S+) +"
           "([0-9]\\.[0-9]{3})  \\((.*)\\)$",
           "^final    ([0-9]+) segments +(\\S+) +([0-9]\\.[0-9]{3})  "
           "\\((.*)\\)$"},
      [STYLE_C] =
          {"^segment  ([0-9]+):([0-9]{2}):([0-9]{2}\\.[0-9]{9}): (\\S+) "
           "\\(([0-9]\\.[0-9]{3})\\)  top: (.*)$",
           "^final    ([0-9]+) segments: (\\S+) \\(([0-9]\\.[0-9]{3})\\)  "
           "top: (.*)$"},
      [STYLE_PYTHON] =
          {"^segment +()()([0-9]+\\.[0-9]{3}) s: (\\S+) "
           "\\(([0-9]\\.[0-9]{3})\\)  top: (.*)$",
           "^final    ([0-9]+) segments: (\\S+) \\(([0-9]\\.[0-9]{3})\\)  "
           "top: (.*)$"},
  };
  GRegex *seg_re = g_regex_new(patterns[style][0], 0, 0, NULL);
  GRegex *fin_re = g_regex_new(patterns[style][1], 0, 0, NULL);
  g_assert_nonnull(seg_re);
  g_assert_nonnull(fin_re);
  GPtrArray *results = results_new();
  char **lines = g_strsplit(out, "\n", -1);
  for (char **l = lines; *l != NULL; l++) {
    if (**l == '\0' || (allowed != NULL && strcmp(*l, allowed) == 0))
      continue;
    GMatchInfo *m = NULL;
    Result *r = g_new0(Result, 1);
    char *top;
    if (g_regex_match(seg_re, *l, 0, &m)) {
      char *h = g_match_info_fetch(m, 1), *min = g_match_info_fetch(m, 2),
           *sec = g_match_info_fetch(m, 3);
      r->time = g_ascii_strtod(sec, NULL) + 60.0 * atoi(min) + 3600.0 * atoi(h);
      g_free(h);
      g_free(min);
      g_free(sec);
      r->label = g_match_info_fetch(m, 4);
      char *c = g_match_info_fetch(m, 5);
      r->confidence = g_ascii_strtod(c, NULL);
      g_free(c);
      top = g_match_info_fetch(m, 6);
    } else {
      g_match_info_free(m);
      if (!g_regex_match(fin_re, *l, 0, &m)) {
        g_test_message("unexpected output line: \"%s\"", *l);
        g_test_fail();
        g_match_info_free(m);
        result_free(r);
        continue;
      }
      r->final = TRUE;
      char *n = g_match_info_fetch(m, 1);
      r->segments = g_ascii_strtoull(n, NULL, 10);
      g_free(n);
      r->label = g_match_info_fetch(m, 2);
      char *c = g_match_info_fetch(m, 3);
      r->confidence = g_ascii_strtod(c, NULL);
      g_free(c);
      top = g_match_info_fetch(m, 4);
    }
    parse_top(r, top);
    g_free(top);
    g_match_info_free(m);
    g_ptr_array_add(results, r);
  }
  g_strfreev(lines);
  g_regex_unref(seg_re);
  g_regex_unref(fin_re);
  return results;
}

/* The printed values are rounded to 3 decimals (and computed in batches, so
 * they may differ from the expected ones in the last bits). */
#define PRINTED_EPS 0.0011

static void check_result(const Result *got, const Result *want,
                         double time_eps) {
  g_assert_cmpint(got->final, ==, want->final);
  g_assert_cmpstr(got->label, ==, want->label);
  g_assert_cmpfloat_with_epsilon(got->confidence, want->confidence,
                                 PRINTED_EPS);
  if (want->final)
    g_assert_cmpuint(got->segments, ==, want->segments);
  else
    g_assert_cmpfloat_with_epsilon(got->time, want->time, time_eps);
  g_assert_cmpuint(got->n_top, ==, want->n_top);
  for (guint k = 0; k < want->n_top; k++) {
    g_assert_cmpstr(got->top_labels[k], ==, want->top_labels[k]);
    g_assert_cmpfloat_with_epsilon(got->top_scores[k], want->top_scores[k],
                                   PRINTED_EPS);
  }
}

/* Every segment line, then the final line, as expected. */
static void check_output(const char *out, Style style, const char *allowed,
                         const GPtrArray *want, double time_eps) {
  GPtrArray *got = parse_output(out, style, allowed);
  g_assert_cmpuint(got->len, ==, want->len);
  for (guint i = 0; i < want->len; i++)
    check_result(g_ptr_array_index(got, i), g_ptr_array_index(want, i),
                 time_eps);
  g_ptr_array_unref(got);
}

/* ---- the tests ---- */

/* The script NAME run on the clip CLIP prints the labels that classifying
 * the clip gives. */
static void check_script_on_clip(const char *name, const char *clip_name) {
  char *path = script(name), *file = clip(clip_name);
  GPtrArray *want = expected_for_file(file);
  const char *argv[] = {path, file, NULL};
  Spawned *s = spawn(argv, NULL);
  g_assert_cmpint(s->status, ==, 0);
  check_output(s->out, STYLE_SCRIPT, NULL, want, 0.0011);
  spawned_free(s);
  g_ptr_array_unref(want);
  g_free(file);
  g_free(path);
}

static void test_play_file(void) {
  check_script_on_clip("play-file.sh", "tone.wav");
  check_script_on_clip("play-file.sh", "noise.flac");
}

static void test_video_track(void) {
  check_script_on_clip("video-track.sh", "clip.mkv");
}

/* The frame of a Theora Matroska file shown at time t, as 8-bit grey. */
static GBytes *gray_frame_at(const char *file, GstClockTime t, int *width,
                             int *height) {
  char *desc = g_strdup_printf(
      "filesrc location=\"%s\" ! matroskademux ! theoradec ! videoconvert ! "
      "video/x-raw,format=GRAY8 ! appsink name=sink sync=false",
      file);
  GstElement *sink = NULL;
  GstElement *pipeline = test_parse(desc, "sink", &sink);
  g_free(desc);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GBytes *frame = NULL;
  GstSample *sample;
  while (frame == NULL && (sample = gst_app_sink_try_pull_sample(
                               GST_APP_SINK(sink), 20 * GST_SECOND)) != NULL) {
    GstBuffer *buf = gst_sample_get_buffer(sample);
    if (GST_BUFFER_PTS(buf) + GST_BUFFER_DURATION(buf) > t) {
      GstStructure *s = gst_caps_get_structure(gst_sample_get_caps(sample), 0);
      gst_structure_get_int(s, "width", width);
      gst_structure_get_int(s, "height", height);
      GstMapInfo map;
      gst_buffer_map(buf, &map, GST_MAP_READ);
      /* GRAY8 rows are padded to 4 bytes: 320 wide needs none */
      g_assert_cmpuint(map.size, >=, (gsize)*width * *height);
      frame = g_bytes_new(map.data, (gsize)*width * *height);
      gst_buffer_unmap(buf, &map);
    }
    gst_sample_unref(sample);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  g_assert_nonnull(frame);
  return frame;
}

/* Mean absolute difference of two grey frames over rows [y0, y1), columns
 * [x0, x1). */
static double mean_diff(GBytes *a, GBytes *b, int width, int x0, int x1, int y0,
                        int y1) {
  const guint8 *pa = g_bytes_get_data(a, NULL), *pb = g_bytes_get_data(b, NULL);
  double sum = 0;
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      sum += fabs((double)pa[y * width + x] - pb[y * width + x]);
  return sum / ((double)(x1 - x0) * (y1 - y0));
}

static void test_video_label(void) {
  char *path = script("video-label.sh"), *file = clip("clip.mkv");
  char *out = g_build_filename(tmpdir, "labelled.mkv", NULL);
  GPtrArray *want = expected_for_file(file);
  const char *argv[] = {path, file, out, NULL};
  Spawned *s = spawn(argv, NULL);
  g_assert_cmpint(s->status, ==, 0);
  char *written = g_strdup_printf("written: %s", out);
  check_output(s->out, STYLE_SCRIPT, written, want, 0.0011);
  g_assert_nonnull(strstr(s->out, written));
  g_free(written);
  spawned_free(s);

  /* the output keeps both streams, whole */
  char *desc =
      g_strdup_printf("filesrc location=\"%s\" ! matroskademux name=d "
                      "d.video_0 ! queue ! theoradec ! fakesink sync=false "
                      "d.audio_0 ! queue ! vorbisdec ! fakesink sync=false",
                      out);
  TestRun *run = test_run_to_eos(desc, 30);
  g_free(desc);
  test_run_free(run);

  /* At 1.9 s the label of the segment starting at 1.486 s is drawn at the
   * top left; the bottom of the picture is the input's, re-encoded. */
  int w = 0, h = 0, w2 = 0, h2 = 0;
  GstClockTime t = 19 * GST_SECOND / 10;
  GBytes *before = gray_frame_at(file, t, &w, &h);
  GBytes *after = gray_frame_at(out, t, &w2, &h2);
  g_assert_cmpint(w, ==, 320);
  g_assert_cmpint(h, ==, 240);
  g_assert_cmpint(w2, ==, w);
  g_assert_cmpint(h2, ==, h);
  double text = mean_diff(before, after, w, 0, 40, 0, 30);
  double rest = mean_diff(before, after, w, 0, w, h / 2, h);
  g_test_message("mean difference: label area %.1f, bottom half %.1f", text,
                 rest);
  g_assert_cmpfloat(text, >, 5.0);
  g_assert_cmpfloat(rest, <, 1.0);
  g_bytes_unref(before);
  g_bytes_unref(after);

  g_ptr_array_unref(want);
  g_free(out);
  g_free(file);
  g_free(path);
}

static void test_microphone(void) {
  /* a live test signal instead of the sound card: 3 s in real time */
  const char *signal =
      "audiotestsrc wave=sine freq=440 samplesperbuffer=4410 num-buffers=30";
  GPtrArray *want = expected_results(signal);
  char *mic = g_strdup_printf("%s is-live=true", signal);
  char *path = script("microphone.sh");
  const char *argv[] = {path, NULL};
  const char *env[] = {"ACRNN_MIC_SRC", mic, NULL};
  Spawned *s = spawn(argv, env);
  g_assert_cmpint(s->status, ==, 0);
  /* live timestamps start when the clock does: allow for a late start */
  check_output(s->out, STYLE_SCRIPT, NULL, want, 0.25);
  spawned_free(s);

  /* a source that is not there: an error, not a hang */
  const char *bad_env[] = {"ACRNN_MIC_SRC", "nosuchsrc", NULL};
  s = spawn(argv, bad_env);
  g_assert_cmpint(s->status, !=, 0);
  g_assert_cmpstr(s->out, ==, "");
  g_assert_nonnull(strstr(s->err, "nosuchsrc"));
  spawned_free(s);

  g_ptr_array_unref(want);
  g_free(mic);
  g_free(path);
}

/* batch.sh: a header, a row per file (error for a missing one); the exit
 * status says whether all worked. */
static void test_batch(void) {
  const char *names[] = {"tone.wav", "noise.flac", "clip.mkv"};
  char *files[G_N_ELEMENTS(names)];
  GPtrArray *want[G_N_ELEMENTS(names)];
  for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
    files[i] = clip(names[i]);
    want[i] = expected_for_file(files[i]);
  }
  char *missing = g_build_filename(tmpdir, "missing.wav", NULL);
  char *noaudio = clip("noaudio.mkv");
  char *garbage = g_build_filename(tmpdir, "garbage.wav", NULL);
  g_assert_true(
      g_file_set_contents(garbage, "\x01\x02\x03 not a sound \xff", -1, NULL));
  char *path = script("batch.sh");
  const char *argv[] = {path,    files[0], files[1], missing, files[2],
                        noaudio, garbage,  tmpdir,   NULL};
  Spawned *s = spawn(argv, NULL);
  g_assert_cmpint(s->status, ==, 1);
  char **lines = g_strsplit(s->out, "\n", -1);
  g_assert_cmpuint(g_strv_length(lines), ==, 9); /* 8 lines and "" */
  g_assert_cmpstr(lines[8], ==, "");
  g_assert_true(
      g_regex_match_simple("^file +label +confidence +top-3$", lines[0], 0, 0));
  const char *row_files[] = {files[0], files[1], missing, files[2],
                             noaudio,  garbage,  tmpdir};
  GPtrArray *row_want[] = {want[0], want[1], NULL, want[2], NULL, NULL, NULL};
  /* a failed row: "error", "-" and the reason */
  char *no_track = g_strdup_printf("%s has no audio track", noaudio);
  const char *reasons[] = {NULL,
                           NULL,
                           "no such file",
                           NULL,
                           no_track,
                           "not a sound or video file GStreamer can read",
                           "a folder, not a file"};
  for (int i = 0; i < 7; i++) {
    char **cols = g_regex_split_simple(" +", lines[i + 1], 0, 0);
    g_assert_cmpstr(cols[0], ==, row_files[i]);
    if (row_want[i] == NULL) {
      g_assert_cmpstr(cols[1], ==, "error");
      g_assert_cmpstr(cols[2], ==, "-");
      char *reason = g_strjoinv(" ", cols + 3);
      g_assert_cmpstr(reason, ==, reasons[i]);
      g_free(reason);
    } else {
      const Result *w = g_ptr_array_index(row_want[i], row_want[i]->len - 1);
      g_assert_true(w->final);
      /* the row, rebuilt as a script final line */
      Result got = {.final = TRUE, .segments = w->segments};
      got.label = cols[1];
      got.confidence = g_ascii_strtod(cols[2], NULL);
      char *top = g_strjoinv(" ", cols + 3);
      parse_top(&got, top);
      g_free(top);
      check_result(&got, w, 0);
      g_strfreev(got.top_labels);
      g_free(got.top_scores);
    }
    g_strfreev(cols);
  }
  g_strfreev(lines);
  spawned_free(s);

  /* all files good: status 0 */
  const char *good[] = {path, files[2], NULL};
  s = spawn(good, NULL);
  g_assert_cmpint(s->status, ==, 0);
  g_assert_nonnull(strstr(s->out, files[2]));
  spawned_free(s);

  /* no file: usage */
  const char *none[] = {path, NULL};
  s = spawn(none, NULL);
  g_assert_cmpint(s->status, ==, 2);
  spawned_free(s);

  for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
    g_free(files[i]);
    g_ptr_array_unref(want[i]);
  }
  g_free(no_track);
  g_free(garbage);
  g_free(noaudio);
  g_free(missing);
  g_free(path);
}

/* events.sh on a 3 s tone with event-on=0 event-off=0 (every class is
 * active while there is sound): one event per class, from the centre of the
 * first frame (0.012 s) to that of the last (frame 256, 2.984 s), as CSV,
 * SubRip and WebVTT; --output writes OUT, and only when the input could be
 * read; a video's sound track gives cues too; bad arguments: status 2. */
static void test_events(void) {
  char *tone = clip("tone.wav"), *video = clip("clip.mkv");
  char *path = script("events.sh");
  const char *const all[] = {"event-on=0", "event-off=0",
                             "event-min-duration=0"};
  const char *formats[] = {"csv", "srt", "vtt"};
  const char *want[] = {
      "start,end,label,confidence\n"
      "0.012,2.984,dog,@\n0.012,2.984,rain,@\n0.012,2.984,siren,@\n",
      "1\n00:00:00,012 --> 00:00:02,984\ndog @\n\n"
      "2\n00:00:00,012 --> 00:00:02,984\nrain @\n\n"
      "3\n00:00:00,012 --> 00:00:02,984\nsiren @\n",
      "WEBVTT\n\n00:00:00.012 --> 00:00:02.984\ndog @\n\n"
      "00:00:00.012 --> 00:00:02.984\nrain @\n\n"
      "00:00:00.012 --> 00:00:02.984\nsiren @\n"};
  for (int i = 0; i < 3; i++) {
    const char *argv[] = {path,   tone,   "--format", formats[i],
                          all[0], all[1], all[2],     NULL};
    Spawned *s = spawn(argv, NULL);
    g_assert_cmpint(s->status, ==, 0);
    /* the confidences (@) are a probability, 0.xx or 1.00 */
    GRegex *re = g_regex_new(i == 0 ? "(?<=,)[01]\\.[0-9]{3}(?=\n)"
                                    : "(?<= )[01]\\.[0-9]{2}(?=\n)",
                             0, 0, NULL);
    char *masked = g_regex_replace_literal(re, s->out, -1, 0, "@", 0, NULL);
    g_assert_cmpstr(masked, ==, want[i]);
    g_free(masked);
    g_regex_unref(re);
    spawned_free(s);
  }
  /* --output; a video's sound track */
  char *out = g_build_filename(tmpdir, "clip.srt", NULL);
  const char *to_file[] = {path,       video, "--format", "srt",
                           "--output", out,   NULL};
  Spawned *s = spawn(to_file, NULL);
  g_assert_cmpint(s->status, ==, 0);
  char *srt = NULL;
  g_assert_true(g_file_get_contents(out, &srt, NULL, NULL));
  g_assert_true(g_regex_match_simple(
      "^(\\d+\n\\d\\d:\\d\\d:\\d\\d,\\d{3} --> "
      "\\d\\d:\\d\\d:\\d\\d,\\d{3}\n\\w+ [01]\\.\\d\\d\n\n?)*$",
      srt, 0, 0));
  g_free(srt);
  spawned_free(s);
  g_unlink(out);
  /* a file that cannot be read: status 1, the reason, no OUT */
  char *missing = g_build_filename(tmpdir, "missing.wav", NULL);
  const char *bad[] = {path, missing, "--output", out, NULL};
  s = spawn(bad, NULL);
  g_assert_cmpint(s->status, ==, 1);
  g_assert_nonnull(strstr(s->err, "no such file"));
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
  spawned_free(s);
  const char *bad_format[] = {path, tone, "--format", "xml", NULL};
  s = spawn(bad_format, NULL);
  g_assert_cmpint(s->status, ==, 2);
  g_assert_nonnull(strstr(s->err, "use csv, srt or vtt"));
  spawned_free(s);
  g_free(missing);
  g_free(out);
  g_free(path);
  g_free(video);
  g_free(tone);
}

static gboolean have_pygobject(void);

/* A video without an audio track: every script and the C example say
 * "FILE has no audio track" and fail within the timeout (video-track.sh and
 * video-label.sh used to wait forever), and video-label.sh leaves no output
 * file. */
static void test_no_audio(void) {
  char *file = clip("noaudio.mkv");
  char *want = g_strdup_printf("%s has no audio track", file);
  char *out = g_build_filename(tmpdir, "noaudio-labelled.mkv", NULL);
  char *track = script("video-track.sh"), *label = script("video-label.sh");
  const char *track_argv[] = {track, file, NULL};
  const char *label_argv[] = {label, file, out, NULL};
  const char *const *runs[] = {track_argv, label_argv};
  for (size_t i = 0; i < G_N_ELEMENTS(runs); i++) {
    Spawned *s = spawn(runs[i], NULL);
    g_assert_cmpint(s->status, ==, 1);
    g_assert_nonnull(strstr(s->err, want));
    g_assert_cmpstr(s->out, ==, "");
    spawned_free(s);
  }
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));

  /* the C example: not "missing a plug-in" */
  char *plugins =
      g_build_filename(g_getenv("ACRNN_BUILD_ROOT"), "gst-plugins", NULL);
  const char *env[] = {"GST_PLUGIN_PATH", plugins, NULL};
  const char *c_argv[] = {g_getenv("ACRNN_CLASSIFY_EXAMPLE"), file, model,
                          NULL};
  Spawned *s = spawn(c_argv, env);
  g_assert_cmpint(s->status, ==, 1);
  g_assert_nonnull(strstr(s->err, want));
  g_assert_null(strstr(s->err, "missing a plug-in"));
  spawned_free(s);

  /* the Python example, where PyGObject is installed */
  if (have_pygobject()) {
    char *py = g_build_filename(g_getenv("ACRNN_SOURCE_ROOT"), "pipelines",
                                "examples", "classify.py", NULL);
    const char *py_argv[] = {"/usr/bin/python3", py, file, model, NULL};
    s = spawn(py_argv, env);
    g_assert_cmpint(s->status, ==, 1);
    g_assert_nonnull(strstr(s->err, want));
    g_assert_null(strstr(s->err, "missing a plug-in"));
    spawned_free(s);
    g_free(py);
  }

  g_free(plugins);
  g_free(track);
  g_free(label);
  g_free(out);
  g_free(want);
  g_free(file);
}

static void test_classify_c(void) {
  const char *exe = g_getenv("ACRNN_CLASSIFY_EXAMPLE");
  g_assert_nonnull(exe);
  char *file = clip("noise.flac");
  GPtrArray *want = expected_for_file(file);
  const char *argv[] = {exe, file, model, NULL};
  char *plugins =
      g_build_filename(g_getenv("ACRNN_BUILD_ROOT"), "gst-plugins", NULL);
  const char *env[] = {"GST_PLUGIN_PATH", plugins, NULL};
  Spawned *s = spawn(argv, env);
  g_assert_cmpint(s->status, ==, 0);
  check_output(s->out, STYLE_C, NULL, want, 1e-9);
  spawned_free(s);

  /* a missing model: an error naming it, status 1 */
  char *bad = g_build_filename(tmpdir, "no-model.safetensors", NULL);
  const char *bad_argv[] = {exe, file, bad, NULL};
  s = spawn(bad_argv, env);
  g_assert_cmpint(s->status, ==, 1);
  g_assert_nonnull(strstr(s->err, bad));
  spawned_free(s);

  g_free(bad);
  g_free(plugins);
  g_ptr_array_unref(want);
  g_free(file);
}

/* /usr/bin/python3 with PyGObject and GStreamer's introspection data. */
static gboolean have_pygobject(void) {
  const char *check[] = {"/usr/bin/python3", "-c",
                         "import gi; gi.require_version('Gst', '1.0')", NULL};
  int wait_status = 1;
  return g_spawn_sync(NULL, (char **)check, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, NULL, NULL, &wait_status, NULL) &&
         g_spawn_check_wait_status(wait_status, NULL);
}

static void test_classify_python(void) {
  if (!have_pygobject()) {
    g_test_skip("/usr/bin/python3 with PyGObject and the GStreamer "
                "introspection data (python3-gi, gir1.2-gstreamer-1.0) is "
                "needed");
    return;
  }
  char *file = clip("clip.mkv");
  char *py = g_build_filename(g_getenv("ACRNN_SOURCE_ROOT"), "pipelines",
                              "examples", "classify.py", NULL);
  GPtrArray *want = expected_for_file(file);
  const char *argv[] = {"/usr/bin/python3", py, file, model, NULL};
  char *plugins =
      g_build_filename(g_getenv("ACRNN_BUILD_ROOT"), "gst-plugins", NULL);
  const char *env[] = {"GST_PLUGIN_PATH", plugins, NULL};
  Spawned *s = spawn(argv, env);
  g_assert_cmpint(s->status, ==, 0);
  check_output(s->out, STYLE_PYTHON, NULL, want, 0.0011);
  spawned_free(s);
  g_free(plugins);
  g_ptr_array_unref(want);
  g_free(py);
  g_free(file);
}

/* A script given a model that does not exist fails, naming the file; a
 * missing input is a usage error. */
static void test_errors(void) {
  char *file = clip("tone.wav");
  char *bad = g_build_filename(tmpdir, "no-model.safetensors", NULL);
  const char *names[] = {"play-file.sh", "video-track.sh"};
  for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
    char *path = script(names[i]);
    const char *argv[] = {path, file, NULL};
    const char *env[] = {"ACRNN_MODEL", bad, NULL};
    Spawned *s = spawn(argv, env);
    g_assert_cmpint(s->status, !=, 0);
    g_assert_nonnull(strstr(s->err, "no-model.safetensors"));
    g_assert_null(strstr(s->out, "final"));
    spawned_free(s);

    char *missing = g_build_filename(tmpdir, "missing.wav", NULL);
    const char *argv2[] = {path, missing, NULL};
    s = spawn(argv2, NULL);
    g_assert_cmpint(s->status, ==, 2);
    g_assert_nonnull(strstr(s->err, "usage"));
    spawned_free(s);
    g_free(missing);
    g_free(path);
  }
  g_free(bad);
  g_free(file);
}

/* ---- the recipes of README.md ---- */

/* Every "gst-launch-1.0 ..." command of README.md's code blocks, with its
 * continuation lines joined. */
static GPtrArray *readme_commands(void) {
  char *path =
      g_build_filename(g_getenv("ACRNN_SOURCE_ROOT"), "README.md", NULL);
  char *text = NULL;
  GError *error = NULL;
  g_file_get_contents(path, &text, NULL, &error);
  g_assert_no_error(error);
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  char **lines = g_strsplit(text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    if (!g_str_has_prefix(lines[i], "    gst-launch-1.0 "))
      continue;
    GString *cmd = g_string_new(NULL);
    for (;; i++) {
      g_assert_nonnull(lines[i]);
      char *l = g_strstrip(g_strdup(lines[i]));
      gboolean more = g_str_has_suffix(l, "\\");
      if (more)
        l[strlen(l) - 1] = '\0';
      g_string_append_printf(cmd, "%s ", l);
      g_free(l);
      if (!more)
        break;
    }
    g_ptr_array_add(out, g_strstrip(g_string_free(cmd, FALSE)));
  }
  g_strfreev(lines);
  g_free(text);
  g_free(path);
  return out;
}

/* text with every "from" replaced by "to" (g_free). */
static char *replace(char *text, const char *from, const char *to) {
  char **parts = g_strsplit(text, from, -1);
  char *out = g_strjoinv(to, parts);
  g_strfreev(parts);
  g_free(text);
  return out;
}

/* Buffers on the subtitle track of a Matroska file, -1 if it has none. */
static int subtitle_buffers(const char *file) {
  char *desc = g_strdup_printf("filesrc location=\"%s\" ! matroskademux name=d "
                               "d.subtitle_0 ! appsink name=sink sync=false",
                               file);
  GstElement *sink = NULL;
  GstElement *pipeline = test_parse(desc, "sink", &sink);
  g_free(desc);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  int n = 0;
  GstSample *sample;
  while ((sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink),
                                                10 * GST_SECOND)) != NULL) {
    gsize size = gst_buffer_get_size(gst_sample_get_buffer(sample));
    g_assert_cmpuint(size, >, 0);
    n++;
    gst_sample_unref(sample);
  }
  if (n == 0 && !gst_app_sink_is_eos(GST_APP_SINK(sink)))
    n = -1;
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  return n;
}

/* Every gst-launch-1.0 line of README.md runs as written, within the
 * timeout, on generated clips: dog.flac and clip.mkv become test clips, the
 * screen a fakesink, the microphone a live test signal, the bundled model a
 * test model of the same shape; the subtitle recipe writes a Matroska file
 * whose subtitle track holds the labels. */
static void test_readme(void) {
  GPtrArray *cmds = readme_commands();
  g_assert_cmpuint(cmds->len, >=, 6);
  char *flac = clip("noise.flac"), *mkv = clip("clip.mkv");
  char *uri = g_filename_to_uri(mkv, NULL, NULL);
  char *flac_uri = g_filename_to_uri(flac, NULL, NULL);
  char *model128 = test_make_model(tmpdir, "model-128.safetensors", 128, 3);
  char *captions = g_build_filename(tmpdir, "captions.mkv", NULL);
  char *captions_loc = g_strdup_printf("location=%s", captions);
  char *flac_loc = g_strdup_printf("location=%s", flac);
  char *model_prop = g_strdup_printf("model=%s", model128);
  gboolean subtitles = FALSE;
  for (guint i = 0; i < cmds->len; i++) {
    const char *orig = g_ptr_array_index(cmds, i);
    g_test_message("README: %s", orig);
    /* a recipe shown in part cannot be run */
    g_assert_null(strstr(orig, "..."));
    char *cmd = g_strdup(orig);
    cmd = replace(cmd, "location=dog.flac", flac_loc);
    cmd = replace(cmd, "file:///path/clip.mkv", uri);
    cmd = replace(cmd, "file:///path/dog.flac", flac_uri);
    cmd = replace(cmd, "autoaudiosink", "fakesink sync=true");
    cmd = replace(cmd, "model=models/esc50-acrnn.safetensors", model_prop);
    /* "Teach it your own sounds" (its own test runs it with the model it
     * trains: tests/training/test_readme_finetune.py) */
    cmd = replace(cmd, "location=recording.wav", flac_loc);
    cmd = replace(cmd, "model=my.safetensors", model_prop);
    cmd = replace(cmd, "autovideosink", "fakesink");
    cmd = replace(cmd, "autoaudiosrc",
                  "audiotestsrc is-live=true num-buffers=30 "
                  "samplesperbuffer=4410");
    cmd = replace(cmd, "location=captions.mkv", captions_loc);
    g_assert_null(strstr(cmd, "/path/"));
    char **argv = NULL;
    GError *error = NULL;
    g_shell_parse_argv(cmd, NULL, &argv, &error);
    g_assert_no_error(error);
    g_unlink(captions);
    Spawned *s = spawn((const char *const *)argv, NULL);
    g_assert_cmpint(s->status, ==, 0);
    g_assert_null(strstr(s->out, "ERROR"));
    /* with -m and every message posted: the decision over the stream */
    if (strstr(cmd, " -m ") != NULL && strstr(cmd, "threshold=") == NULL)
      g_assert_nonnull(strstr(s->out, "final=(boolean)true"));
    if (strstr(cmd, captions) != NULL) {
      subtitles = TRUE;
      /* 3 s: a label for each of the 3 whole segments and the tail's */
      g_assert_cmpint(subtitle_buffers(captions), ==, 4);
    }
    spawned_free(s);
    g_strfreev(argv);
    g_free(cmd);
  }
  g_assert_true(subtitles);
  g_free(model_prop);
  g_free(flac_loc);
  g_free(captions_loc);
  g_free(captions);
  g_free(model128);
  g_free(uri);
  g_free(flac_uri);
  g_free(mkv);
  g_free(flac);
  g_ptr_array_unref(cmds);
}

/* ---- the documentation's references ---- */

/* Checks that every docs page (docs/ + name + .md) text cites exists;
 * counts them. */
static guint check_doc_refs(const char *file, const char *text) {
  GRegex *re = g_regex_new("docs/[A-Za-z0-9_-]+\\.md", 0, 0, NULL);
  GMatchInfo *m = NULL;
  guint n = 0;
  g_regex_match(re, text, 0, &m);
  while (g_match_info_matches(m)) {
    char *ref = g_match_info_fetch(m, 0);
    char *path = g_build_filename(g_getenv("ACRNN_SOURCE_ROOT"), ref, NULL);
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
      g_test_message("%s cites %s, which does not exist", file, ref);
      g_test_fail();
    }
    n++;
    g_free(path);
    g_free(ref);
    g_match_info_next(m, NULL);
  }
  g_match_info_free(m);
  g_regex_unref(re);
  return n;
}

/* Every source and documentation file under dir (recursively). */
static guint check_tree(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  if (d == NULL)
    return 0;
  guint n = 0;
  const char *name;
  static const char *const exts[] = {".c",  ".h",  ".py",
                                     ".sh", ".md", "meson.build"};
  while ((name = g_dir_read_name(d)) != NULL) {
    char *path = g_build_filename(dir, name, NULL);
    if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
      if (name[0] != '.' && !g_str_has_prefix(name, "build"))
        n += check_tree(path);
    } else {
      for (size_t i = 0; i < G_N_ELEMENTS(exts); i++)
        if (g_str_has_suffix(name, exts[i])) {
          char *text = NULL;
          if (g_file_get_contents(path, &text, NULL, NULL)) {
            n += check_doc_refs(path, text);
            /* the contracts are in docs/, not in files outside the tree */
            /* (split so that this file does not match itself) */
            if (strstr(text, "SPEC"
                             " section") ||
                strstr(text, "SPEC"
                             ".md")) {
              g_test_message("%s cites the SPEC instead of docs/", path);
              g_test_fail();
            }
          }
          g_free(text);
          break;
        }
    }
    g_free(path);
  }
  g_dir_close(d);
  return n;
}

/* The README, the model card, docs/ and the sources cite docs/ pages
 * that exist, and no longer the contracts file outside the repository. */
static void test_doc_links(void) {
  const char *root = g_getenv("ACRNN_SOURCE_ROOT");
  const char *dirs[] = {"docs",     "libacrnn",  "gst-plugins",
                        "training", "pipelines", "tests",
                        "bench",    "models",    "samples"};
  guint n = 0;
  for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++) {
    char *dir = g_build_filename(root, dirs[i], NULL);
    n += check_tree(dir);
    g_free(dir);
  }
  char *readme = g_build_filename(root, "README.md", NULL);
  char *text = NULL;
  g_assert_true(g_file_get_contents(readme, &text, NULL, NULL));
  n += check_doc_refs(readme, text);
  g_assert_null(strstr(text, "SPEC"));
  g_assert_null(strstr(text, "SOURCES.md"));
  g_free(text);
  g_free(readme);
  const char *pages[] = {"features", "network", "model-file", "gstreamer",
                         "dataset"};
  for (size_t i = 0; i < G_N_ELEMENTS(pages); i++) {
    char *page = g_strdup_printf("%s/docs/%s.md", root, pages[i]);
    g_assert_true(g_file_test(page, G_FILE_TEST_IS_REGULAR));
    g_free(page);
  }
  g_assert_cmpuint(n, >=, 20);
}

static void skip_sanitized(void) {
  g_test_skip("a sanitized build: gst-launch-1.0 and python3 cannot load the "
              "instrumented plugin");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  const char *sanitize = g_getenv("ACRNN_SANITIZE");
  gboolean sanitized =
      sanitize != NULL && sanitize[0] != '\0' && strcmp(sanitize, "none") != 0;
  if (sanitized) {
    g_test_add_func("/pipelines/all", skip_sanitized);
    g_test_run();
    return 77; /* meson: skipped */
  }
  tmpdir = test_tmpdir();
  /* a registry of our own, shared with the scripts we run */
  char *registry = g_build_filename(tmpdir, "registry.bin", NULL);
  g_setenv("GST_REGISTRY", registry, TRUE);
  g_free(registry);
  gst_init(&argc, &argv);
  /* seed 7: the clips do not all get the same label */
  model = test_make_model(tmpdir, "model.safetensors", 32, 7);

  const struct {
    const char *path;
    GTestFunc func;
  } tests[] = {
      {"/pipelines/play-file", test_play_file},
      {"/pipelines/video-track", test_video_track},
      {"/pipelines/video-label", test_video_label},
      {"/pipelines/microphone", test_microphone},
      {"/pipelines/batch", test_batch},
      {"/pipelines/events", test_events},
      {"/pipelines/classify-c", test_classify_c},
      {"/pipelines/classify-py", test_classify_python},
      {"/pipelines/errors", test_errors},
      {"/pipelines/no-audio", test_no_audio},
      {"/pipelines/readme", test_readme},
      {"/pipelines/doc-links", test_doc_links},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(tests); i++)
    g_test_add_func(tests[i].path, tests[i].func);
  int ret = g_test_run();
  test_rmdir(tmpdir);
  g_free(model);
  g_free(tmpdir);
  gst_deinit();
  return ret;
}
