/* gst-test-util.h - helpers shared by the gst suite: a small random test
 * model and a pipeline runner that collects the "acrnn" bus messages. */
#ifndef GST_TEST_UTIL_H
#define GST_TEST_UTIL_H

#include <gst/gst.h>

/* The labels of the test models. */
#define TEST_N_LABELS 3
extern const char *const test_labels[TEST_N_LABELS + 1];

/* Writes a model with random weights (seed), the given band count, default
 * feature parameters otherwise, 3 labels, to dir/name. Returns the path. */
char *test_make_model(const char *dir, const char *name, int bands,
                      guint64 seed);
/* The same for features at sample_rate (fmax = sample_rate / 2). */
char *test_make_model_at_rate(const char *dir, const char *name, int bands,
                              int sample_rate, guint64 seed);
/* The same for log-mel features (filterbank mel) at 44100 Hz. */
char *test_make_mel_model(const char *dir, const char *name, int bands,
                          guint64 seed);

typedef struct {
  GPtrArray *results; /* GstStructure copies of the messages, in order */
  GPtrArray *sources; /* the name of each result's source element */
  GError *error;      /* the first ERROR message, or NULL */
  char *error_debug;
  gboolean eos;
  gboolean timed_out;
  gboolean was_playing;          /* the pipeline reached PLAYING */
  gboolean result_while_playing; /* a result came before EOS/ERROR in PLAYING */
} TestRun;

/* The pipeline of a gst-launch description, which must parse without an
 * error; when name is not NULL, its element of that name in *element
 * (unref). */
GstElement *test_parse(const char *description, const char *name,
                       GstElement **element);

/* Runs a gst-launch description until EOS, ERROR, timeout_s, or (when
 * stop_after > 0) that many acrnn messages. */
TestRun *test_run_pipeline(const char *description, guint timeout_s,
                           guint stop_after);
/* The same, collecting the element messages named name. */
TestRun *test_run_pipeline_messages(const char *description, guint timeout_s,
                                    guint stop_after, const char *name);
void test_run_free(TestRun *run);

/* test_run_pipeline (no stop_after) that must end in EOS, with no ERROR
 * message. */
TestRun *test_run_to_eos(const char *description, guint timeout_s);

/* gst_init, g_test_init and a fresh scratch folder for the test's models
 * (removed by test_run_tests); returns the folder. */
const char *test_init(int *argc, char ***argv);

/* g_test_run, then removes the scratch folder and deinitialises GStreamer;
 * returns g_test_run's status. */
int test_run_tests(void);

/* The caps of the test models' features: 32 bands at 44100 Hz, a frame
 * every 512 samples. */
#define TEST_FEATURE_RATE 44100
#define TEST_FEATURE_BANDS 32
#define TEST_FEATURE_CAPS                                                      \
  "audio/x-acrnn-features, format=F32LE, bands=32, "                           \
  "frame-rate=(fraction)44100/512, sample-rate=44100, n-fft=1024, hop=512, "   \
  "fmin=50.0, fmax=22050.0, delta-width=9"

/* The time of feature frame `frame` (512 samples a frame at 44100 Hz). */
GstClockTime test_frame_time(guint64 frame);

/* n frames of TEST_FEATURE_CAPS at pts: log band energies drawn from
 * [lo, hi), deltas from [-1, 1). */
GstBuffer *test_feature_frames(guint n, GstClockTime pts, double lo, double hi,
                               guint32 seed);

/* The element messages named name posted on bus so far (structure copies;
 * g_ptr_array_unref). */
GPtrArray *test_pop_messages(GstBus *bus, const char *name);

/* The error of the ERROR message that must be on bus (g_error_free). */
GError *test_pop_error(GstBus *bus);

/* The "labels" of element: the test models' (test_labels). */
void test_check_labels(GstElement *element);

/* Plays pipeline until EOS, within timeout_s: a message of a type in
 * fail_on (GST_MESSAGE_ERROR, GST_MESSAGE_WARNING) before it fails the
 * test, with its text. */
void test_play_to_eos(GstElement *pipeline, guint timeout_s,
                      GstMessageType fail_on);

/* Sets element's "model" to other while pipeline is PAUSED: the change is
 * refused (the property still names model) with a WARNING; returns the
 * warning (g_error_free) and, in source, who posted it (unref). */
GError *test_refuse_model_change(GstElement *pipeline, GstElement *element,
                                 const char *model, const char *other,
                                 GstObject **source);

/* A fresh temporary directory (g_free the path; removed by test_rmdir). */
char *test_tmpdir(void);
void test_rmdir(const char *dir);

/* The final (final=TRUE) result or NULL; asserts there is at most one and
 * that it is the last. */
const GstStructure *test_final_result(const TestRun *run);

/* Checks every field of a result message. */
void test_check_result_fields(const GstStructure *s, guint top_k);

#endif
