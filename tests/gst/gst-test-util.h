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
  GPtrArray *results; /* GstStructure copies of the acrnn messages, in order */
  GPtrArray *sources; /* the name of each result's source element */
  GError *error;      /* the first ERROR message, or NULL */
  char *error_debug;
  gboolean eos;
  gboolean timed_out;
  gboolean was_playing;          /* the pipeline reached PLAYING */
  gboolean result_while_playing; /* a result came before EOS/ERROR in PLAYING */
} TestRun;

/* Runs a gst-launch description until EOS, ERROR, timeout_s, or (when
 * stop_after > 0) that many acrnn messages. */
TestRun *test_run_pipeline(const char *description, guint timeout_s,
                           guint stop_after);
void test_run_free(TestRun *run);

/* A fresh temporary directory (g_free the path; removed by test_rmdir). */
char *test_tmpdir(void);
void test_rmdir(const char *dir);

/* The final (final=TRUE) result or NULL; asserts there is at most one and
 * that it is the last. */
const GstStructure *test_final_result(const TestRun *run);

/* Checks every field of a result message. */
void test_check_result_fields(const GstStructure *s, guint top_k);

#endif
